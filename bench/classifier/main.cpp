// bench/classifier: the classifier against its references on ClassBench sets.
//
//   classifier-bench [--sets NAME[,NAME...]]  the nine sets (acl1/fw1/ipc1 x 1k/10k/100k),
//                                            or only the named ones (e.g. acl1_10k,fw1_100k),
//                                            side-by-side table
//   classifier-bench --rules F --trace F [--json]   one set (either file may be .gz)
//   classifier-bench --scale N               N synthetic rules: insert rate, lookups, memory
// Options: --data DIR, the directory holding the sets' neurocuts/ and generated/ folders
// (default: $VSW_CLASSBENCH_DATA if set, else the repository's tests/data/classbench, which
// has the 1k and 10k sets only; a full copy, e.g. ../shared/data/classbench, has the 100k
// ones too; a file X is also found as X.gz). Without --sets, sets missing from DIR are
// skipped with a note; a missing set named by --sets is an error. --max-headers N (trace
// headers per timed pass, default 200000), --passes N (default 3; medians are reported),
// --each-budget SECONDS (CPU budget of one per-rule round, default 5; 0 skips those rounds),
// --no-callgrind, --no-ovs.
//
// Columns, per set and implementation: "ours" (Config defaults), "plain" (staged lookup and
// prefix tracking off: tuple space search with priority order only), "ovs" (Open vSwitch
// 3.1 lib/classifier from Debian's openvswitch-source, staged with flow segments, tries on
// ipv4_dst and ipv4_src as ovs-vswitchd sets them; only when built with -DVSW_BENCH_OVS=ON)
// and "linear" (first-match scan over the filters, on a sample of the trace).
//
// Updates are timed two ways, each the median over --passes rounds on a fresh classifier:
// - "inserts/s (1 pub)", "removes/s (1 pub)": one call per rule, then ONE publication for
//   the whole set (an OpenFlow bundle). Ours: insert() per rule, then publish(); OVS:
//   classifier_defer(), classifier_insert() per rule, classifier_publish(), one RCU quiesce.
// - "inserts/s (pub each)", "removes/s (pub each)": every rule made visible on its own (a
//   controller sending lone flow_mods). Ours: insert(); publish(); per rule (removes:
//   remove(); publish();). OVS: classifier_insert()/classifier_remove() not deferred, so
//   each publishes itself, plus one ovsrcu_quiesce() per rule (ovs_harness.c says why).
//   A round stops once it has used more than --each-budget seconds of CPU; the rate is
//   then over the rules done so far and the cell ends in "*" (JSON: *_each_partial true;
//   each_rules says how many rules the shortest round reached), since a publication that
//   costs O(all rules) makes the full set quadratic. The first rules go into the smallest
//   classifier, so a partial rate overstates the full one. The removal round removes, one
//   by one, the rules its insertion round inserted (so it is partial whenever that one
//   was), under the same budget.
//
// Lookups/s is the median over passes; Ir/lookup comes from callgrind (instructions counted
// only around the lookups with wildcard tracking, over the first 10,000 headers). mismatches
// counts lookups whose rule differs from the linear first-match (on the sample) or, where
// built, from Open vSwitch's answer (on every timed lookup).
#include <malloc.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include "classifier/classbench.h"
#include "classifier/classifier.h"

#ifdef VSW_HAVE_OVS
#include "ovs_harness.h"
#endif

using namespace vsw::classifier;
// Rates are per second of this thread's CPU time, not wall-clock time: the benchmark
// machine is shared, and CPU time does not count the time other processes run.
struct Clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<Clock, duration>;
  static time_point now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return time_point(duration(std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec));
  }
};

namespace {

// The ClassBench directory when --data is not given.
std::string default_data_dir() {
  const char* env = std::getenv("VSW_CLASSBENCH_DATA");
  return env != nullptr && *env != '\0' ? env : VSW_CLASSBENCH_DIR;
}

// dir/name if it exists, else dir/name.gz if that exists, else "".
std::string find_data_file(const std::string& dir, const std::string& name) {
  for (const std::string& path : {dir + "/" + name, dir + "/" + name + ".gz"})
    if (access(path.c_str(), R_OK) == 0) return path;
  return "";
}

struct Options {
  std::string rules, trace, data = default_data_dir();
  bool json = false, callgrind = true, ovs = true;
  std::size_t max_headers = 200000, passes = 3;
  double each_budget = 5;         // CPU seconds per per-rule round; 0: no such rounds
  std::vector<std::string> sets;  // table mode: only these sets (empty: all)
  std::string child_impl;         // internal: --callgrind-child IMPL
  std::string self;
};

struct Row {
  std::string impl;
  std::size_t subtables = 0;
  double inserts = 0, removes = 0, lookups = 0, lookups_nowc = 0;  // per second
  // Per-rule publication (per second; partial: a round ran out of --each-budget).
  double inserts_each = 0, removes_each = 0;
  bool inserts_each_partial = false, removes_each_partial = false, have_each = false;
  std::size_t each_rules = 0;       // rules the shortest per-rule insertion round reached
  std::size_t each_failed = 0;      // per-rule inserts or removes that failed (a bug)
  std::size_t each_mismatches = 0;  // lookups after a full per-rule insertion round that
                                    // differ from the reference answers (a bug)
  double bits = 0;                  // avg L3/L4 bits
  double ir = 0;                    // instructions per lookup
  std::size_t mem = 0;              // heap bytes after insert
  std::size_t mismatches = 0, checked = 0;
  bool have_wc = true, have_updates = true;
};

struct Data {
  std::vector<ClassbenchFilter> filters;
  std::vector<RuleSpec> rules;
  std::vector<ClassbenchHeader> trace;  // timed headers
  std::vector<FlowKey> keys;
  std::vector<std::int64_t> ref;  // first-match answers on sample positions, else -2
  std::vector<std::int64_t> ovs;  // Open vSwitch's answers, if run
};

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

std::size_t heap_in_use() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

std::size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::size_t total = 0, resident = 0;
  f >> total >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

unsigned l34_bits(const FlowKey& wc) {
  return static_cast<unsigned>(std::popcount(wc.w[12]) + std::popcount(wc.get(Field::kIpProto)) +
                               std::popcount(wc.get(Field::kTpSrc)) +
                               std::popcount(wc.get(Field::kTpDst)));
}

// Timed passes over the keys; fn(i) does one lookup. Returns the median rate.
template <class Fn>
double time_lookups(std::size_t n, std::size_t passes, Fn fn) {
  std::vector<double> rates;
  for (std::size_t p = 0; p < passes; ++p) {
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; ++i) fn(i);
    rates.push_back(static_cast<double>(n) / seconds(Clock::now() - t0));
  }
  return median(rates);
}

// One per-rule round: insert(i) adds rule i and publishes it, for i = 0, 1, ...; then
// between(inserted), untimed; then remove(i) takes rule i out again and publishes, for
// every rule inserted. Each phase
// stops once it has used more than `budget` seconds of CPU (checked every kCheckEvery
// rules: reading the thread CPU clock is a system call of about 0.5 us, close to OVS's whole
// time per rule; read every 64th rule, it adds about 1%).
struct EachRound {
  double inserts = 0, removes = 0;  // per second
  std::size_t inserted = 0, removed = 0;
};

template <class Fn>
double each_phase(std::size_t count, double budget, std::size_t* done, Fn fn) {
  constexpr std::size_t kCheckEvery = 64;
  *done = 0;
  if (count == 0) return 0;
  const auto t0 = Clock::now();
  auto t = t0;
  std::size_t i = 0;
  while (i < count) {
    fn(i++);
    if (i % kCheckEvery == 0 || i == count) {
      t = Clock::now();
      if (seconds(t - t0) > budget) break;
    }
  }
  *done = i;
  return static_cast<double>(i) / seconds(t - t0);
}

template <class Insert, class Between, class Remove>
EachRound each_round(std::size_t n, double budget, Insert insert, Between between, Remove remove) {
  EachRound e;
  e.inserts = each_phase(n, budget, &e.inserted, insert);
  between(e.inserted);
  e.removes = each_phase(e.inserted, budget, &e.removed, remove);
  return e;
}

// Medians of the per-rule rounds into r; a figure is partial if any round was.
void set_each(Row& r, const std::vector<EachRound>& rounds, std::size_t n) {
  std::vector<double> ins, rem;
  r.have_each = true;
  r.each_rules = n;
  for (const EachRound& e : rounds) {
    ins.push_back(e.inserts);
    rem.push_back(e.removes);
    r.inserts_each_partial |= e.inserted < n;
    r.removes_each_partial |= e.removed < n;
    r.each_rules = std::min(r.each_rules, e.inserted);
  }
  r.inserts_each = median(ins);
  r.removes_each = median(rem);
}

Row run_ours(const std::string& name, const Config& cfg, const Data& d, const Options& o) {
  Row r;
  r.impl = name;
  // Inserts and removes: median over `passes` rounds of a fresh classifier; the last
  // round's classifier serves the lookups.
  std::vector<double> ins, rem;
  std::unique_ptr<Classifier> cls;
  for (std::size_t pass = 0; pass < o.passes; ++pass) {
    cls.reset();
    const std::size_t mem0 = heap_in_use();
    cls = std::make_unique<Classifier>(cfg);
    auto t0 = Clock::now();
    for (const RuleSpec& s : d.rules) (void)cls->insert(s.match, s.priority, s.cookie);
    cls->publish();
    ins.push_back(static_cast<double>(d.rules.size()) / seconds(Clock::now() - t0));
    r.mem = heap_in_use() - mem0;
    if (pass + 1 == o.passes) break;
    t0 = Clock::now();
    for (const RuleSpec& s : d.rules) (void)cls->remove(s.match, s.priority);
    cls->publish();
    rem.push_back(static_cast<double>(d.rules.size()) / seconds(Clock::now() - t0));
  }
  r.subtables = cls->stats().subtables;
  std::size_t bits = 0;
  for (std::size_t i = 0; i < d.keys.size(); ++i) {
    FlowKey wc;
    const auto h = cls->lookup(d.keys[i], &wc);
    bits += l34_bits(wc);
    const std::int64_t got = h ? static_cast<std::int64_t>(h->cookie) : -1;
    if (d.ref[i] != -2) {
      ++r.checked;
      r.mismatches += got != d.ref[i];
    } else if (!d.ovs.empty()) {
      ++r.checked;
      r.mismatches += got != d.ovs[i];
    }
  }
  r.bits = static_cast<double>(bits) / static_cast<double>(d.keys.size());
  volatile std::uint64_t sink = 0;
  r.lookups = time_lookups(d.keys.size(), o.passes, [&](std::size_t i) {
    FlowKey wc;
    const auto h = cls->lookup(d.keys[i], &wc);
    sink = sink + (h ? h->cookie : 0);
  });
  r.lookups_nowc = time_lookups(d.keys.size(), o.passes, [&](std::size_t i) {
    const auto h = cls->lookup(d.keys[i]);
    sink = sink + (h ? h->cookie : 0);
  });
  const auto t0 = Clock::now();
  for (const RuleSpec& s : d.rules) (void)cls->remove(s.match, s.priority);
  cls->publish();
  rem.push_back(static_cast<double>(d.rules.size()) / seconds(Clock::now() - t0));
  r.inserts = median(ins);
  r.removes = median(rem);
  cls.reset();
  if (o.each_budget > 0) {
    std::vector<EachRound> rounds;
    std::size_t failed = 0;
    for (std::size_t pass = 0; pass < o.passes; ++pass) {
      Classifier c(cfg);
      rounds.push_back(each_round(
          d.rules.size(), o.each_budget,
          [&](std::size_t i) {
            failed += static_cast<bool>(
                c.insert(d.rules[i].match, d.rules[i].priority, d.rules[i].cookie));
            c.publish();
          },
          [&](std::size_t inserted) {
            // Built one publication at a time, the classifier must answer as the batch did.
            if (pass != 0 || inserted != d.rules.size()) return;
            for (std::size_t i = 0; i < d.keys.size(); ++i) {
              const auto h = c.lookup(d.keys[i]);
              const std::int64_t got = h ? static_cast<std::int64_t>(h->cookie) : -1;
              if (d.ref[i] != -2)
                r.each_mismatches += got != d.ref[i];
              else if (!d.ovs.empty())
                r.each_mismatches += got != d.ovs[i];
            }
          },
          [&](std::size_t i) {
            failed += !c.remove(d.rules[i].match, d.rules[i].priority).has_value();
            c.publish();
          }));
      // A full round must leave the classifier empty.
      if (rounds.back().removed == d.rules.size()) failed += c.stats().rules;
    }
    set_each(r, rounds, d.rules.size());
    r.each_failed = failed;
  }
  return r;
}

#ifdef VSW_HAVE_OVS
// Adds rule i: deferred (published later by vsw_ovs_publish) or published on its own.
void ovs_insert(vsw_ovs* ovs, const Data& d, std::size_t i, bool each) {
  const Match& m = d.rules[i].match;
  auto* const insert = each ? vsw_ovs_insert_each : vsw_ovs_insert;
  insert(ovs, static_cast<std::uint32_t>(i), d.rules[i].priority,
         static_cast<std::uint32_t>(m.value.get(Field::kIpv4Src)),
         static_cast<std::uint32_t>(m.mask.get(Field::kIpv4Src)),
         static_cast<std::uint32_t>(m.value.get(Field::kIpv4Dst)),
         static_cast<std::uint32_t>(m.mask.get(Field::kIpv4Dst)),
         static_cast<std::uint8_t>(m.value.get(Field::kIpProto)),
         static_cast<std::uint8_t>(m.mask.get(Field::kIpProto)),
         static_cast<std::uint16_t>(m.value.get(Field::kTpSrc)),
         static_cast<std::uint16_t>(m.mask.get(Field::kTpSrc)),
         static_cast<std::uint16_t>(m.value.get(Field::kTpDst)),
         static_cast<std::uint16_t>(m.mask.get(Field::kTpDst)));
}

vsw_ovs* ovs_build(const Data& d) {
  vsw_ovs* ovs = vsw_ovs_create(1, static_cast<std::uint32_t>(d.rules.size()));
  for (std::size_t i = 0; i < d.rules.size(); ++i) ovs_insert(ovs, d, i, false);
  vsw_ovs_publish(ovs);
  return ovs;
}

std::int64_t ovs_lookup(vsw_ovs* ovs, const Data& d, std::size_t i, bool track, unsigned* bits) {
  const ClassbenchHeader& h = d.trace[i];
  const std::int64_t id = vsw_ovs_lookup(ovs, h.src, h.dst, h.proto, h.sport, h.dport, track, bits);
  return id < 0 ? -1 : static_cast<std::int64_t>(d.rules[static_cast<std::size_t>(id)].cookie);
}

Row run_ovs(Data& d, const Options& o) {
  Row r;
  r.impl = "ovs";
  std::vector<double> ins, rem;
  vsw_ovs* ovs = nullptr;
  for (std::size_t pass = 0; pass < o.passes; ++pass) {
    const std::size_t mem0 = heap_in_use();
    auto t0 = Clock::now();
    ovs = ovs_build(d);
    ins.push_back(static_cast<double>(d.rules.size()) / seconds(Clock::now() - t0));
    r.mem = heap_in_use() - mem0;
    if (pass + 1 == o.passes) break;
    t0 = Clock::now();
    for (std::size_t i = 0; i < d.rules.size(); ++i)
      vsw_ovs_remove(ovs, static_cast<std::uint32_t>(i));
    vsw_ovs_publish(ovs);
    rem.push_back(static_cast<double>(d.rules.size()) / seconds(Clock::now() - t0));
    vsw_ovs_destroy(ovs);
  }
  r.subtables = static_cast<std::size_t>(vsw_ovs_subtables(ovs));
  std::size_t bits = 0;
  d.ovs.assign(d.keys.size(), -1);
  for (std::size_t i = 0; i < d.keys.size(); ++i) {
    unsigned b = 0;
    d.ovs[i] = ovs_lookup(ovs, d, i, true, &b);
    bits += b;
    if (d.ref[i] != -2) {
      ++r.checked;
      r.mismatches += d.ovs[i] != d.ref[i];
    }
  }
  r.bits = static_cast<double>(bits) / static_cast<double>(d.keys.size());
  volatile std::int64_t sink = 0;
  r.lookups = time_lookups(d.keys.size(), o.passes, [&](std::size_t i) {
    sink = sink + ovs_lookup(ovs, d, i, true, nullptr);
  });
  r.lookups_nowc = time_lookups(d.keys.size(), o.passes, [&](std::size_t i) {
    sink = sink + ovs_lookup(ovs, d, i, false, nullptr);
  });
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < d.rules.size(); ++i)
    vsw_ovs_remove(ovs, static_cast<std::uint32_t>(i));
  vsw_ovs_publish(ovs);
  rem.push_back(static_cast<double>(d.rules.size()) / seconds(Clock::now() - t0));
  vsw_ovs_destroy(ovs);
  r.inserts = median(ins);
  r.removes = median(rem);
  if (o.each_budget > 0) {
    std::vector<EachRound> rounds;
    for (std::size_t pass = 0; pass < o.passes; ++pass) {
      vsw_ovs* e = vsw_ovs_create(1, static_cast<std::uint32_t>(d.rules.size()));
      rounds.push_back(each_round(
          d.rules.size(), o.each_budget, [&](std::size_t i) { ovs_insert(e, d, i, true); },
          [](std::size_t) {},
          [&](std::size_t i) { vsw_ovs_remove_each(e, static_cast<std::uint32_t>(i)); }));
      vsw_ovs_destroy(e);  // removes what a partial round left
    }
    set_each(r, rounds, d.rules.size());
  }
  return r;
}
#endif

Row run_linear(const Data& d) {
  Row r;
  r.impl = "linear";
  r.have_wc = false;
  r.have_updates = false;
  r.subtables = 0;
  std::size_t n = 0;
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < d.keys.size(); ++i) {
    if (d.ref[i] == -2) continue;
    ++n;
  }
  // The sample answers were computed once in load(); time a fresh pass over them.
  volatile std::int64_t sink = 0;
  for (std::size_t i = 0; i < d.keys.size(); ++i) {
    if (d.ref[i] != -2) sink = sink + first_match(d.filters, d.trace[i]);
  }
  r.lookups_nowc = static_cast<double>(n) / seconds(Clock::now() - t0);
  r.checked = n;
  return r;
}

std::optional<Data> load(const std::string& rules, const std::string& trace, const Options& o) {
  Data d;
  auto f = load_classbench_filters(rules);
  if (!f.ok()) {
    std::fprintf(stderr, "%s\n", f.error().to_string().c_str());
    return std::nullopt;
  }
  auto t = load_classbench_trace(trace, o.max_headers);
  if (!t.ok()) {
    std::fprintf(stderr, "%s\n", t.error().to_string().c_str());
    return std::nullopt;
  }
  d.filters = std::move(f.value());
  d.trace = std::move(t.value());
  d.rules = classbench_rules(d.filters);
  for (const auto& h : d.trace) d.keys.push_back(classbench_key(h));
  // The linear reference on a sample of at most ~20,000 headers.
  const std::size_t step = std::max<std::size_t>(1, d.trace.size() / 20000);
  d.ref.assign(d.trace.size(), -2);
  for (std::size_t i = 0; i < d.trace.size(); i += step)
    d.ref[i] = first_match(d.filters, d.trace[i]);
  return d;
}

// Runs this program under callgrind in child mode; returns instructions per lookup.
double callgrind_ir(const Options& o, const std::string& impl, const std::string& rules,
                    const std::string& trace) {
  constexpr std::size_t kHeaders = 10000;
  char out[] = "/tmp/vsw-callgrind-XXXXXX";
  const int fd = mkstemp(out);
  if (fd < 0) return 0;
  close(fd);
  const std::string cmd =
      "valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=" + std::string(out) +
      " '" + o.self + "' --callgrind-child " + impl + " --rules '" + rules + "' --trace '" + trace +
      "' --max-headers " + std::to_string(kHeaders) + " >/dev/null 2>&1";
  double ir = 0;
  if (std::system(cmd.c_str()) == 0) {
    std::ifstream in(out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("totals:", 0) == 0 || line.rfind("summary:", 0) == 0)
        ir = std::strtod(line.c_str() + line.find(':') + 1, nullptr) / kHeaders;
    }
  }
  unlink(out);
  return ir;
}

// Child mode: build impl, then count instructions of the lookups only.
int callgrind_child(const Options& o) {
  auto dd = load(o.rules, o.trace, o);
  if (!dd) return 1;
  Data& d = *dd;
  volatile std::uint64_t sink = 0;
  if (o.child_impl == "ours" || o.child_impl == "plain") {
    Config cfg;
    if (o.child_impl == "plain") cfg = Config{.staged = false, .prefix_fields = 0};
    Classifier cls(cfg);
    for (const RuleSpec& s : d.rules) (void)cls.insert(s.match, s.priority, s.cookie);
    cls.publish();
    CALLGRIND_START_INSTRUMENTATION;
    for (const FlowKey& k : d.keys) {
      FlowKey wc;
      const auto h = cls.lookup(k, &wc);
      sink = sink + (h ? h->cookie : 0);
    }
    CALLGRIND_STOP_INSTRUMENTATION;
    return 0;
  }
#ifdef VSW_HAVE_OVS
  if (o.child_impl == "ovs") {
    vsw_ovs* ovs = ovs_build(d);
    CALLGRIND_START_INSTRUMENTATION;
    for (std::size_t i = 0; i < d.keys.size(); ++i)
      sink = sink + static_cast<std::uint64_t>(ovs_lookup(ovs, d, i, true, nullptr));
    CALLGRIND_STOP_INSTRUMENTATION;
    vsw_ovs_destroy(ovs);
    return 0;
  }
#endif
  return 1;
}

std::vector<Row> run_set(const std::string& rules, const std::string& trace, const Options& o,
                         std::size_t* n_filters, std::size_t* n_entries) {
  auto dd = load(rules, trace, o);
  if (!dd) return {};
  Data& d = *dd;
  *n_filters = d.filters.size();
  *n_entries = d.rules.size();
  std::vector<Row> rows;
#ifdef VSW_HAVE_OVS
  if (o.ovs) rows.push_back(run_ovs(d, o));  // first: its answers cross-check the others
#endif
  rows.push_back(run_ours("ours", Config{}, d, o));
  rows.push_back(run_ours("plain", Config{.staged = false, .prefix_fields = 0}, d, o));
  rows.push_back(run_linear(d));
  if (o.callgrind) {
    for (Row& r : rows) {
      if (r.impl != "linear") r.ir = callgrind_ir(o, r.impl, rules, trace);
    }
  }
  for (const Row& r : rows) {
    if (r.each_failed != 0) {
      std::fprintf(stderr, "classifier-bench: %s: %zu per-rule inserts/removes failed\n",
                   r.impl.c_str(), r.each_failed);
    }
    if (r.each_mismatches != 0) {
      std::fprintf(stderr,
                   "classifier-bench: %s: %zu lookups differ from the reference after the "
                   "per-rule insertions\n",
                   r.impl.c_str(), r.each_mismatches);
    }
  }
  return rows;
}

std::string si(double v) {
  char b[32];
  if (v >= 1e6)
    std::snprintf(b, sizeof b, "%.2fM", v / 1e6);
  else if (v >= 1e3)
    std::snprintf(b, sizeof b, "%.1fk", v / 1e3);
  else
    std::snprintf(b, sizeof b, "%.0f", v);
  return b;
}

// A per-rule rate, "*" marking one over only the rules done within --each-budget.
std::string each_cell(const Row& r, double v, bool partial) {
  if (!r.have_each) return "-";
  return si(v) + (partial ? "*" : "");
}

void print_header() {
  std::printf(
      "| set | rules -> entries | impl | subtables | inserts/s (1 pub) | removes/s (1 pub) | "
      "inserts/s (pub each) | removes/s (pub each) | lookups/s (wc) | lookups/s (no wc) | "
      "Ir/lookup | L3/L4 bits | heap B/rule | mismatches/checked | x OVS (wc) | x OVS (Ir) |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

void print_rows(const std::string& set, std::size_t nf, std::size_t ne,
                const std::vector<Row>& rows) {
  double ovs_rate = 0, ovs_ir = 0;
  for (const Row& r : rows) {
    if (r.impl == "ovs") {
      ovs_rate = r.lookups;
      ovs_ir = r.ir;
    }
  }
  for (const Row& r : rows) {
    const bool lin = r.impl == "linear";
    char ratio[32] = "";
    if (ovs_rate > 0 && !lin) std::snprintf(ratio, sizeof ratio, "%.1fx", r.lookups / ovs_rate);
    char ir_ratio[32] = "";
    if (ovs_ir > 0 && r.ir > 0) std::snprintf(ir_ratio, sizeof ir_ratio, "%.1fx", ovs_ir / r.ir);
    char bits[16] = "-", ir[16] = "-", mem[16] = "-";
    if (r.have_wc) std::snprintf(bits, sizeof bits, "%.1f", r.bits);
    if (r.ir > 0) std::snprintf(ir, sizeof ir, "%.0f", r.ir);
    if (!lin)
      std::snprintf(mem, sizeof mem, "%.0f", static_cast<double>(r.mem) / static_cast<double>(ne));
    std::printf(
        "| %s | %zu -> %zu | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %zu/%zu | %s | "
        "%s |\n",
        set.c_str(), nf, ne, r.impl.c_str(), lin ? "-" : std::to_string(r.subtables).c_str(),
        r.have_updates ? si(r.inserts).c_str() : "-", r.have_updates ? si(r.removes).c_str() : "-",
        each_cell(r, r.inserts_each, r.inserts_each_partial).c_str(),
        each_cell(r, r.removes_each, r.removes_each_partial).c_str(),
        lin ? "-" : si(r.lookups).c_str(), si(r.lookups_nowc).c_str(), ir, bits, mem, r.mismatches,
        r.checked, ratio, ir_ratio);
    std::fflush(stdout);
  }
}

// Footnote for the "*" cells, printed once below a table that has any.
void print_partial_note(const Options& o) {
  std::printf(
      "\n* per-rule round stopped after %.3g s of CPU (--each-budget): rate over the rules "
      "done so far, not the whole set.\n",
      o.each_budget);
}

bool any_partial(const std::vector<Row>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const Row& r) {
    return r.have_each && (r.inserts_each_partial || r.removes_each_partial);
  });
}

// The per-rule JSON keys of one row (null rates when --each-budget 0 skipped them).
std::string each_json(const Row& r) {
  char b[256];
  if (!r.have_each) {
    return "\"inserts_each_per_s\": null, \"removes_each_per_s\": null, "
           "\"inserts_each_partial\": false, \"removes_each_partial\": false, "
           "\"each_rules\": 0";
  }
  std::snprintf(b, sizeof b,
                "\"inserts_each_per_s\": %.0f, \"removes_each_per_s\": %.0f, "
                "\"inserts_each_partial\": %s, \"removes_each_partial\": %s, "
                "\"each_rules\": %zu",
                r.inserts_each, r.removes_each, r.inserts_each_partial ? "true" : "false",
                r.removes_each_partial ? "true" : "false", r.each_rules);
  return b;
}

// --scale N: N synthetic 5-tuple rules over 64 masks (the 1M-rule scale check).
int run_scale(std::size_t n) {
  std::mt19937_64 rng(1);
  struct Tmpl {
    unsigned sl, dl;
    bool proto, sport, dport;
  };
  std::vector<Tmpl> tmpl;
  for (int i = 0; i < 64; ++i) {
    tmpl.push_back({static_cast<unsigned>(8 + 8 * (rng() % 4)),
                    static_cast<unsigned>(8 + 8 * (rng() % 4)), rng() % 2 == 0, rng() % 4 == 0,
                    rng() % 2 == 0});
  }
  std::vector<Match> rules;
  rules.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Tmpl& t = tmpl[rng() % tmpl.size()];
    Match m;
    m.set_exact(Field::kEthType, 0x0800);
    m.set_prefix(Field::kIpv4Src, rng(), t.sl);
    m.set_prefix(Field::kIpv4Dst, rng(), t.dl);
    if (t.proto) m.set_exact(Field::kIpProto, rng() % 2 ? 6 : 17);
    if (t.sport) m.set_exact(Field::kTpSrc, rng() % 65536);
    if (t.dport) m.set_exact(Field::kTpDst, rng() % 1024);
    rules.push_back(m);
  }
  std::vector<FlowKey> keys;
  for (int i = 0; i < 200000; ++i) {
    const Match& m = rules[rng() % rules.size()];
    FlowKey k;
    for (std::size_t w = 0; w < kWords; ++w) k.w[w] = (rng() & ~m.mask.w[w]) | m.value.w[w];
    k.set(Field::kEthType, 0x0800);
    k.w[13] = k.w[14] = k.w[15] = k.w[16] = 0;
    keys.push_back(k);
  }
  const std::size_t mem0 = heap_in_use();
  Classifier cls;
  auto t0 = Clock::now();
  std::size_t dup = 0;
  std::vector<std::int32_t> prio(n);
  for (auto& p : prio) p = static_cast<std::int32_t>(rng() % 1000000);
  for (std::size_t i = 0; i < n; ++i) dup += static_cast<bool>(cls.insert(rules[i], prio[i], i));
  cls.publish();
  const double ins = static_cast<double>(n) / seconds(Clock::now() - t0);
  const std::size_t mem = heap_in_use() - mem0;
  std::size_t bits = 0;
  volatile std::uint64_t sink = 0;
  t0 = Clock::now();
  for (const FlowKey& k : keys) {
    FlowKey wc;
    const auto h = cls.lookup(k, &wc);
    bits += wc.popcount();
    sink = sink + (h ? h->cookie : 0);
  }
  const double lk = static_cast<double>(keys.size()) / seconds(Clock::now() - t0);
  const std::size_t subtables = cls.stats().subtables;
  const std::size_t rss = rss_bytes();
  t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) (void)cls.remove(rules[i], prio[i]);
  cls.publish();
  const double rm = static_cast<double>(n) / seconds(Clock::now() - t0);
  std::printf(
      "scale: %zu rules (%zu duplicates rejected), %zu subtables, inserts %s/s, removes %s/s, "
      "lookups %s/s (wc), %.1f bits/lookup, heap %.0f B/rule, rss %zu MiB\n",
      n, dup, subtables, si(ins).c_str(), si(rm).c_str(), si(lk).c_str(),
      static_cast<double>(bits) / static_cast<double>(keys.size()),
      static_cast<double>(mem) / static_cast<double>(n), rss >> 20);
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage: classifier-bench [--sets NAME[,NAME...] | --rules FILE --trace FILE "
               "[--json]]\n"
               "       [--data DIR] [--max-headers N] [--passes N] [--each-budget SECONDS]\n"
               "       [--no-callgrind] [--no-ovs]\n"
               "       classifier-bench --scale N\n"
               "--data DIR (or VSW_CLASSBENCH_DATA): the ClassBench directory; default %s\n",
               VSW_CLASSBENCH_DIR);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.self = argv[0];
  if (o.self.find('/') == std::string::npos) o.self = "/proc/self/exe";
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) o.self.assign(exe, static_cast<std::size_t>(n));
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--rules")
      o.rules = next();
    else if (a == "--trace")
      o.trace = next();
    else if (a == "--json")
      o.json = true;
    else if (a == "--data")
      o.data = next();
    else if (a == "--max-headers")
      o.max_headers = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--passes")
      o.passes = std::max<std::size_t>(1, std::strtoull(next().c_str(), nullptr, 10));
    else if (a == "--each-budget") {
      const std::string v = next();
      char* end = nullptr;
      o.each_budget = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(o.each_budget >= 0)) {
        std::fprintf(stderr, "classifier-bench: bad --each-budget '%s'\n", v.c_str());
        return usage();
      }
    } else if (a == "--sets") {
      const std::string v = next();
      for (std::size_t b = 0; b <= v.size();) {
        const std::size_t e = std::min(v.find(',', b), v.size());
        if (e > b) o.sets.push_back(v.substr(b, e - b));
        b = e + 1;
      }
      if (o.sets.empty()) return usage();
    } else if (a == "--no-callgrind")
      o.callgrind = false;
    else if (a == "--no-ovs")
      o.ovs = false;
    else if (a == "--callgrind-child")
      o.child_impl = next();
    else if (a == "--scale")
      return run_scale(std::strtoull(next().c_str(), nullptr, 10));
    else
      return usage();
  }
  if (!o.child_impl.empty()) return callgrind_child(o);
  if (o.rules.empty() != o.trace.empty() || (!o.rules.empty() && !o.sets.empty())) return usage();

  if (!o.rules.empty()) {
    std::size_t nf = 0, ne = 0;
    const auto rows = run_set(o.rules, o.trace, o, &nf, &ne);
    if (rows.empty()) return 1;
    if (!o.json) {
      print_header();
      print_rows(o.rules.substr(o.rules.rfind('/') + 1), nf, ne, rows);
      if (any_partial(rows)) print_partial_note(o);
      return 0;
    }
    const Row* ours = nullptr;
    const Row* ovs = nullptr;
    for (const Row& r : rows) {
      if (r.impl == "ours") ours = &r;
      if (r.impl == "ovs") ovs = &r;
    }
    std::printf(
        "{\"rules\": %zu, \"entries\": %zu, \"subtables\": %zu, \"inserts_per_s\": %.0f, "
        "\"lookups_per_s\": %.0f, \"lookups_nowc_per_s\": %.0f, \"removes_per_s\": %.0f, "
        "\"unwildcarded_bits\": %.2f, \"mismatches\": %zu, \"checked\": %zu, "
        "\"memory_bytes\": %zu, \"rss_bytes\": %zu, \"ir_per_lookup\": %.0f, %s",
        nf, ne, ours->subtables, ours->inserts, ours->lookups, ours->lookups_nowc, ours->removes,
        ours->bits, ours->mismatches, ours->checked, ours->mem, rss_bytes(), ours->ir,
        each_json(*ours).c_str());
    if (ovs != nullptr) {
      std::printf(
          ", \"ovs\": {\"subtables\": %zu, \"inserts_per_s\": %.0f, \"lookups_per_s\": %.0f, "
          "\"removes_per_s\": %.0f, \"unwildcarded_bits\": %.2f, \"mismatches\": %zu, "
          "\"memory_bytes\": %zu, \"ir_per_lookup\": %.0f, %s}",
          ovs->subtables, ovs->inserts, ovs->lookups, ovs->removes, ovs->bits, ovs->mismatches,
          ovs->mem, ovs->ir, each_json(*ovs).c_str());
    }
    std::printf("}\n");
    return ours->mismatches == 0 && ours->each_failed == 0 && ours->each_mismatches == 0 ? 0 : 1;
  }

  struct Set {
    const char* name;
    const char* rules;
    const char* trace;
  };
  const Set sets[] = {
      {"acl1_1k", "neurocuts/acl1_1k", "neurocuts/acl1_1k_trace"},
      {"fw1_1k", "neurocuts/fw1_1k", "neurocuts/fw1_1k_trace"},
      {"ipc1_1k", "neurocuts/ipc1_1k", "neurocuts/ipc1_1k_trace"},
      {"acl1_10k", "neurocuts/acl1_10k", "neurocuts/acl1_10k_trace"},
      {"fw1_10k", "neurocuts/fw1_10k", "neurocuts/fw1_10k_trace"},
      {"ipc1_10k", "neurocuts/ipc1_10k", "neurocuts/ipc1_10k_trace"},
      {"acl1_100k", "generated/acl1_100k", "generated/acl1_100k_trace"},
      {"fw1_100k", "generated/fw1_100k", "generated/fw1_100k_trace"},
      {"ipc1_100k", "generated/ipc1_100k", "generated/ipc1_100k_trace"},
  };
  auto wanted = [&](const Set& s) {
    return o.sets.empty() || std::find(o.sets.begin(), o.sets.end(), s.name) != o.sets.end();
  };
  for (const std::string& name : o.sets) {
    if (std::none_of(std::begin(sets), std::end(sets),
                     [&](const Set& s) { return name == s.name; })) {
      std::fprintf(stderr, "classifier-bench: no set named '%s'; the sets are:", name.c_str());
      for (const Set& s : sets) std::fprintf(stderr, " %s", s.name);
      std::fprintf(stderr, "\n");
      return 2;
    }
  }
  // The sets found in o.data; a set named by --sets must be there.
  struct Found {
    const Set* set;
    std::string rules, trace;
  };
  std::vector<Found> found;
  std::string skipped;
  for (const Set& s : sets) {
    if (!wanted(s)) continue;
    Found f{&s, find_data_file(o.data, s.rules), find_data_file(o.data, s.trace)};
    if (!f.rules.empty() && !f.trace.empty()) {
      found.push_back(std::move(f));
      continue;
    }
    if (!o.sets.empty()) {
      std::fprintf(stderr,
                   "classifier-bench: set %s: %s(.gz) or %s(.gz) not in %s (name the directory "
                   "that has it with --data DIR or VSW_CLASSBENCH_DATA)\n",
                   s.name, s.rules, s.trace, o.data.c_str());
      return 2;
    }
    skipped += skipped.empty() ? s.name : std::string(", ") + s.name;
  }
  std::printf("(ClassBench data: %s)\n", o.data.c_str());
  if (!skipped.empty()) {
    std::printf(
        "(not in that directory, skipped: %s; --data DIR or VSW_CLASSBENCH_DATA names "
        "one that has them)\n",
        skipped.c_str());
  }
#ifndef VSW_HAVE_OVS
  std::printf("(Open vSwitch column not built: configure with -DVSW_BENCH_OVS=ON)\n");
#endif
  print_header();
  int rc = 0;
  bool partial = false;
  for (const Found& f : found) {
    const Set& s = *f.set;
    std::size_t nf = 0, ne = 0;
    const auto rows = run_set(f.rules, f.trace, o, &nf, &ne);
    if (rows.empty()) return 1;
    print_rows(s.name, nf, ne, rows);
    partial |= any_partial(rows);
    for (const Row& r : rows)
      rc |= r.mismatches != 0 || r.each_failed != 0 || r.each_mismatches != 0;
  }
  if (partial) print_partial_note(o);
  return rc;
}
