// Readers against a writer whose publish() is incremental (built with ThreadSanitizer by
// tests/suites/20-classifier-tsan, CTest label tsan). The writer changes subtables' hash
// tables in place (entries with a visibility window [from, until)), grows and rebuilds
// them, extends or rebuilds the sorted proof sets and the prefix tries, and rebuilds the
// subtable order only sometimes; readers look up all the while, and the writer waits for
// some lookups while its changes are made in place but not yet published. Properties:
// 1. Versions are whole: a lookup that reads version() == V before and after gets the
//    answer of a linear scan of the rules of version V (the writer logs every change, the
//    check replays the log once the readers have stopped).
// 2. Batches are atomic even when one grows a subtable past several capacity doublings
//    and empties most of another (each batch moves a "generation" of rules). Since
//    publish() does not wait for readers, a reader preempted inside a lookup may lag
//    several versions behind the writer: rebuilds must keep every entry its version sees
//    (this test failed, 5 runs of 5, when they kept only the published version's).
// 3. The megaflow contract holds within a version: k and any k' that agrees with k on
//    the wildcards lookup(k) returned get the same answer.
// 4. The same for the sorted proof sets that publish() replaces before the snapshot:
//    readers of the old version may use the new sets and must get proofs valid for it.
// Each was checked by breaking the classifier on purpose (e.g. a retirement visible before
// publish(), a rebuild dropping entries the published version sees, a proof set without
// them): the matching test fails. Reproduce a failure with --rng-seed N (or VSW_SEED=N);
// the rules, keys and changes follow the seed, the thread interleaving does not.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "classifier/classifier.h"
#include "classifier/linear.h"
#include "test_util.h"

using namespace vsw::classifier;
using vsw::classifier::test::RuleGen;

namespace {

constexpr unsigned kReaders = 2;

// Reader threads that are stopped and joined however the test body exits (a failed
// REQUIRE throws while they run).
class Readers {
 public:
  // yield_every: see go_on() (0: never).
  explicit Readers(unsigned yield_every) : yield_every_(yield_every) {}
  Readers(const Readers&) = delete;
  Readers& operator=(const Readers&) = delete;
  ~Readers() { stop(); }

  template <class F>
  void spawn(F f) {
    threads_.emplace_back([this, f = std::move(f)] {
      started_.fetch_add(1);
      f();
    });
  }
  // Waits until every reader runs, so that the writer does not finish first.
  void wait_started() const {
    while (started_.load() < threads_.size()) std::this_thread::yield();
  }
  // Whether a reader should go on. Every yield_every-th call yields first: when the
  // readers leave the writer no core (fewer cores than threads), the writer, which paces
  // itself on the readers' progress, gets its time slices sooner.
  [[nodiscard]] bool go_on() const {
    thread_local unsigned calls = 0;
    if (yield_every_ != 0 && ++calls % yield_every_ == 0) std::this_thread::yield();
    return !stop_.load(std::memory_order_relaxed);
  }
  void stop() {
    stop_.store(true);
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  const unsigned yield_every_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> started_{0};
  std::vector<std::thread> threads_;
};

// Tells readers whether a lookup overlapped the writer's work (changes or publish()): a
// sequence number, odd while the writer works. The tests count such lookups to show that
// they checked some.
class Activity {
 public:
  void begin() { seq_.fetch_add(1); }
  void end() { seq_.fetch_add(1); }
  [[nodiscard]] std::uint64_t read() const { return seq_.load(); }
  static bool overlapped(std::uint64_t before, std::uint64_t after) {
    return before != after || before % 2 != 0;
  }

 private:
  std::atomic<std::uint64_t> seq_{0};
};

// Waits until the readers have made n more steps of progress (spins, then yields).
void wait_for(const std::atomic<std::uint64_t>& progress, std::uint64_t n) {
  const std::uint64_t until = progress.load(std::memory_order_relaxed) + n;
  for (int spin = 0; progress.load(std::memory_order_relaxed) < until; ++spin)
    if (spin > 100) std::this_thread::yield();
}

// The first few failures the readers saw, for the report.
class Failures {
 public:
  void add(const std::string& what) {
    n_.fetch_add(1);
    const std::lock_guard lock(mu_);  // only on failure
    if (first_.size() < 5) first_.push_back(what);
  }
  [[nodiscard]] std::uint64_t count() const { return n_.load(); }
  [[nodiscard]] std::string first() const {
    const std::lock_guard lock(mu_);
    std::string s;
    for (const std::string& f : first_) s += f + "\n";
    return s;
  }

 private:
  std::atomic<std::uint64_t> n_{0};
  mutable std::mutex mu_;
  std::vector<std::string> first_;
};

// Prints a case's summary (what it exercised, so that a run shows it was not vacuous) and
// checks that no reader saw a failure, showing the first few.
void report(const std::string& summary, const Failures& bad) {
  std::printf("%s\n", summary.c_str());
  INFO(bad.first());
  CHECK(bad.count() == 0);
}

std::string str(const std::optional<Hit>& h) {
  if (!h) return "miss";
  return "prio " + std::to_string(h->priority) + " cookie " + std::to_string(h->cookie);
}

// Matches over a few masks with a small pool of values each: IPv4 prefixes on both fields
// and an IPv6 one (tries), ports and a non-prefix mask (sorted proof sets), staged ones.
std::vector<Match> small_universe(RuleGen& gen, std::size_t per_mask) {
  std::vector<Match> masks(6);
  masks[0].set_exact(Field::kEthType, 0);
  masks[0].set_prefix(Field::kIpv4Dst, 0, 16);
  masks[1].set_exact(Field::kEthType, 0);
  masks[1].set_exact(Field::kIpProto, 0);
  masks[1].set_prefix(Field::kIpv4Dst, 0, 24);
  masks[2].set_exact(Field::kInPort, 0);
  masks[2].set_prefix(Field::kIpv4Src, 0, 12);
  masks[2].set_prefix(Field::kIpv4Dst, 0, 8);
  masks[3].set_exact(Field::kEthType, 0);
  masks[3].set_exact(Field::kIpProto, 0);
  masks[3].set_exact(Field::kTpDst, 0);
  masks[3].set_prefix(Field::kTpSrc, 0, 8);
  masks[4].set_exact(Field::kEthType, 0);
  masks[4].set_exact(Field::kIpv6SrcHi, 0);
  masks[5].set_exact(Field::kInPort, 0);
  masks[5].set_masked(Field::kIpv4Src, 0, 0x00ff00ff);
  std::vector<Match> out;
  for (const Match& m : masks) {
    const std::size_t begin = out.size();
    for (int t = 0; t < 400 && out.size() - begin < per_mask; ++t) {
      const Match v = gen.fill(m);
      if (std::find(out.begin() + static_cast<std::ptrdiff_t>(begin), out.end(), v) == out.end())
        out.push_back(v);
    }
  }
  return out;
}

// Keys near the matches (hits, and near misses that need proofs) and random ones.
std::vector<FlowKey> probe_keys(RuleGen& gen, const std::vector<Match>& universe, std::size_t n) {
  std::vector<FlowKey> keys;
  for (std::size_t i = 0; i < n; ++i)
    keys.push_back(i % 4 == 0 ? gen.random_key()
                              : gen.key_near(universe[gen.rng()() % universe.size()]));
  return keys;
}

// ---- 1. Versions are whole. ----

struct Rule {
  std::uint32_t match;  // index into the universe
  std::int32_t priority;
  std::uint64_t cookie;
};

// What one version changed (a replace is a removal and an addition).
struct Change {
  std::optional<Rule> removed, added;
};

struct Seen {            // one lookup as a reader saw it
  std::uint64_t v1, v2;  // version() before and after
  std::uint32_t key;     // index into the probe keys
  std::optional<Hit> hit;
};

}  // namespace

TEST_CASE("readers see every version whole when the writer publishes after every change") {
  const std::uint64_t seed = vsw::classifier::test::seed();
  std::printf("publish concurrency (versions): seed %llu\n", static_cast<unsigned long long>(seed));
  INFO("seed " << seed);
  RuleGen gen(seed * 13 + 1);
  auto& rng = gen.rng();
  const std::vector<Match> universe = small_universe(gen, 24);
  const std::vector<FlowKey> keys = probe_keys(gen, universe, 1024);
  constexpr std::size_t kChanges = 6000;
  constexpr std::size_t kMaxLive = 160;
  // Lookups a reader records per version (the first ones; it goes on looking up); the
  // writer waits for a quarter of that many before its next change.
  constexpr unsigned kPerVersion = 24;

  Classifier cls;
  std::vector<std::vector<Seen>> seen(kReaders);
  std::atomic<std::uint64_t> progress{0};  // lookups by all readers
  std::atomic<std::uint64_t> overlapped{0};
  Activity writing;
  Readers readers(8);
  for (unsigned r = 0; r < kReaders; ++r) {
    readers.spawn([&, r] {
      std::mt19937_64 rr(seed + r + 1);
      std::vector<Seen>& out = seen[r];
      out.reserve(kChanges * kPerVersion / 2);
      std::uint64_t last = 0;
      unsigned n_at = 0;
      for (std::uint64_t n = 0; readers.go_on(); ++n) {
        const auto idx = static_cast<std::uint32_t>(rr() % keys.size());
        FlowKey wc;
        const std::uint64_t a1 = writing.read();
        const std::uint64_t v1 = cls.version();
        const auto h = cls.lookup(keys[idx], n % 2 ? &wc : nullptr);
        const std::uint64_t v2 = cls.version();
        const bool during = Activity::overlapped(a1, writing.read());
        if (during) overlapped.fetch_add(1, std::memory_order_relaxed);
        if (v1 != last) {
          last = v1;
          n_at = 0;
        }
        if (n_at++ < kPerVersion) out.push_back({v1, v2, idx, h});
        progress.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  readers.wait_started();

  // The writer: one change per version, logged. Priorities are unique among the live
  // rules, so the linear scan has no ties to break.
  std::vector<Rule> live;
  std::vector<Change> log(2);  // log[v]: what version v changed (no version 0; 1 is empty)
  std::uint64_t cookie = 0;
  std::size_t n_stacked = 0;  // removals of a best rule with others under it
  const auto fresh = [&](std::int32_t above) {
    for (;;) {
      const std::int32_t p = above + 1 + static_cast<std::int32_t>(rng() % 4096);
      if (std::none_of(live.begin(), live.end(), [&](const Rule& r) { return r.priority == p; }))
        return p;
    }
  };
  // The rules sharing live[i]'s match, best first.
  const auto same_match = [&](std::size_t i) {
    std::vector<std::size_t> v;
    for (std::size_t j = 0; j < live.size(); ++j)
      if (live[j].match == live[i].match) v.push_back(j);
    std::sort(v.begin(), v.end(),
              [&](std::size_t a, std::size_t b) { return live[a].priority > live[b].priority; });
    return v;
  };
  const auto add = [&](Rule r, Change& c) {
    REQUIRE_FALSE(cls.insert(universe[r.match], r.priority, r.cookie));
    live.push_back(r);
    c.added = r;
  };
  const auto drop = [&](std::size_t i, Change& c) {
    const Rule r = live[i];
    REQUIRE(cls.remove(universe[r.match], r.priority) == r.cookie);
    live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
    c.removed = r;
  };
  for (std::size_t step = 0; step < kChanges; ++step) {
    writing.begin();
    Change c;
    const unsigned op = live.size() < 16 ? 0 : live.size() > kMaxLive ? 1 : rng() % 5;
    const std::size_t i = live.empty() ? 0 : rng() % live.size();
    switch (op) {
      case 0: {  // a new rule
        const auto m = static_cast<std::uint32_t>(rng() % universe.size());
        add({m, fresh(static_cast<std::int32_t>(rng() % 100000)), ++cookie}, c);
        break;
      }
      case 1:  // remove any rule
        drop(i, c);
        break;
      case 2: {  // replace: same match and priority, new cookie
        Rule r = live[i];
        c.removed = r;
        r.cookie = ++cookie;
        REQUIRE(cls.replace(universe[r.match], r.priority, r.cookie) == live[i].cookie);
        live[i] = r;
        c.added = r;
        break;
      }
      case 3:  // a rule above the best of an existing value
        add({live[i].match, fresh(live[same_match(i)[0]].priority), ++cookie}, c);
        break;
      default: {  // remove the best rule of a value that has others under it (or stack one)
        const std::vector<std::size_t> s = same_match(i);
        if (s.size() >= 2) {
          drop(s[0], c);
          ++n_stacked;
        } else {
          add({live[i].match, fresh(live[i].priority - 4097), ++cookie}, c);
        }
        break;
      }
    }
    log.push_back(c);
    // The readers look up with the change made in place but not published, and again at
    // the new version before the writer moves on.
    wait_for(progress, 4);
    REQUIRE(cls.publish() == log.size() - 1);
    writing.end();
    wait_for(progress, kPerVersion / 4);
  }
  readers.stop();

  // Replay the log; every lookup must match the linear scan at a version it may have seen:
  // exactly V when it read V before and after, else one of [v1, v2].
  std::vector<const Seen*> all;
  for (const auto& s : seen)
    for (const Seen& x : s) all.push_back(&x);
  std::sort(all.begin(), all.end(), [](const Seen* a, const Seen* b) { return a->v1 < b->v1; });
  LinearClassifier lin;
  std::vector<const Seen*> pending;  // spanning lookups not matched yet
  std::size_t next = 0, exact = 0, spanning = 0;
  std::uint64_t bad = 0;
  std::string first_bad;
  const auto fail = [&](const Seen& s, std::uint64_t v) {
    if (bad++ == 0) {
      std::ostringstream o;
      o << "lookup read versions " << s.v1 << ".." << s.v2 << ", key " << to_string(keys[s.key])
        << ": got " << str(s.hit) << ", linear scan at version " << v << ": "
        << str(lin.lookup(keys[s.key]));
      first_bad = o.str();
    }
  };
  for (std::uint64_t v = 1; v < log.size(); ++v) {
    if (log[v].removed)
      REQUIRE(lin.remove(universe[log[v].removed->match], log[v].removed->priority));
    if (const auto& a = log[v].added) lin.insert(universe[a->match], a->priority, a->cookie);
    const auto agrees = [&](const Seen& s) { return s.hit == lin.lookup(keys[s.key]); };
    std::erase_if(pending, [&](const Seen* s) {
      if (agrees(*s)) return true;
      if (s->v2 == v) fail(*s, v);
      return s->v2 == v;
    });
    for (; next < all.size() && all[next]->v1 == v; ++next) {
      const Seen& s = *all[next];
      if (s.v2 == v) {
        ++exact;
        if (!agrees(s)) fail(s, v);
      } else {
        ++spanning;
        if (!agrees(s)) pending.push_back(&s);
      }
    }
  }
  std::size_t final_wrong = 0;  // the final version, single-threaded: every key
  for (const FlowKey& k : keys) final_wrong += cls.lookup(k) != lin.lookup(k) ? 1 : 0;
  std::printf(
      "  %zu changes, %zu lookups checked at one version, %zu spanning a publish, %llu during "
      "a change\n",
      kChanges, exact, spanning, static_cast<unsigned long long>(overlapped.load()));
  INFO(first_bad);
  CHECK(bad == 0);
  CHECK(final_wrong == 0);
  CHECK(pending.empty());
  CHECK(next == all.size());
  CHECK(exact > kChanges);
  CHECK(overlapped.load() >= kChanges);  // the writer waited for some
  CHECK(n_stacked > kChanges / 50);
}

// ---- 2. Batches are atomic under rebuilds. ----

namespace {

constexpr std::uint64_t kGenRules = 64;
constexpr std::uint32_t kBig = 600;  // rules a batch adds to one subtable of the big family
constexpr std::uint64_t kBigFlag = 1ULL << 31;

// The generation family (in_port 0-3): test_util.h.
Match gen_rule(std::uint64_t gen, std::uint64_t i) {
  return test::generation_rule(gen, i);
}
// The big family (in_port 10): three masks taking turns; value j is 10.0.x.y = j.
Match big_rule(std::uint64_t mask, std::uint32_t j) {
  Match m;
  m.set_exact(Field::kInPort, 10);
  m.set_exact(Field::kIpv4Src, 0x0a000000U | j);
  if (mask == 1) m.set_exact(Field::kIpProto, 6);
  if (mask == 2) m.set_exact(Field::kTpSrc, 7);
  return m;
}
FlowKey big_key(std::uint32_t j) {
  FlowKey k;
  k.set(Field::kInPort, 10);
  k.set(Field::kEthType, 0x0800);
  k.set(Field::kIpv4Src, 0x0a000000U | j);
  k.set(Field::kIpProto, 6);
  k.set(Field::kTpSrc, 7);
  return k;
}

}  // namespace

TEST_CASE("batches of mixed changes are atomic under rebuilds") {
  // Batch g, published as version g + kBase: generation g - 1 of the generation family
  // leaves and generation g comes; in the big family, mask g % 3 grows from its anchor
  // rule to kBig + 1 rules (many capacity doublings in place, under readers of the
  // previous version), mask (g - 1) % 3 loses 7/8 of its rules and (g - 2) % 3 the rest,
  // back to its anchor (rebuilt for the dead entries). Generation g has priority 1000 + g
  // in the big family, above the survivors, so every big key hits generation g at version
  // g + kBase: a reader that reads v1 and v2 around a lookup must get a cookie of a
  // generation published in [v1, v2], and may miss only if such a generation has no
  // matching rule (big keys: before the first generation).
  // The anchors (a value no key has) have the highest priority, so that no lookup stops
  // early: every big key is looked up in all three tables, the growing and shrinking ones
  // included.
  const std::uint64_t seed = vsw::classifier::test::seed();
  INFO("seed " << seed);
  constexpr std::uint64_t kBase = 3;  // version 2 has only the anchors
  constexpr std::uint64_t kGens = 150;
  constexpr std::uint64_t kAnchor = ~0ULL;
  constexpr std::int32_t kAnchorPriority = 1 << 30;
  Classifier cls;
  for (std::uint64_t r = 0; r < 3; ++r)
    REQUIRE_FALSE(cls.insert(big_rule(r, 0xfff0), kAnchorPriority, kAnchor));
  REQUIRE(cls.publish() == kBase - 1);

  Failures bad;
  std::atomic<std::uint64_t> lookups{0}, big_hits{0};
  std::atomic<std::uint64_t> during{0};  // lookups that overlapped the writer's work
  Activity writing;
  Readers readers(0);
  for (unsigned r = 0; r < kReaders; ++r) {
    readers.spawn([&, r] {
      std::mt19937_64 rr(seed + r + 1);
      for (std::uint64_t n = 0; readers.go_on(); ++n) {
        const bool big = n % 2 == 0;
        FlowKey k;
        std::uint64_t want;  // the cookie's low half: which rule of its generation
        if (big) {
          const auto j = static_cast<std::uint32_t>(rr() % kBig);
          k = big_key(j);
          want = kBigFlag | j;
        } else {
          const std::uint64_t i = rr() % kGenRules;
          k.set(Field::kInPort, i % 4);
          k.set(Field::kIpv4Dst, (i << 24) | (rr() & 0xffffff));
          k.set(Field::kTpDst, 1000 + i);
          want = i;
        }
        FlowKey wc;
        const std::uint64_t a1 = writing.read();
        const std::uint64_t v1 = cls.version();
        const auto h = cls.lookup(k, n % 4 < 2 ? &wc : nullptr);
        const std::uint64_t v2 = cls.version();
        if (Activity::overlapped(a1, writing.read())) during.fetch_add(1);
        lookups.fetch_add(1, std::memory_order_relaxed);
        const std::uint64_t gen = h ? h->cookie >> 32 : 0;
        bool ok = true;
        if (!h) {
          // Only before the first generation, or (generation family) if rule i of a
          // generation the lookup may have seen does not match the key.
          ok = v1 < kBase;
          for (std::uint64_t v = std::max(v1, kBase); !big && !ok && v <= v2; ++v)
            ok = v - kBase >= kGens || !gen_rule(v - kBase, want).matches(k);
        } else {
          ok = (h->cookie & 0xffffffffU) == want && gen + kBase >= v1 && gen + kBase <= v2;
        }
        if (big && h) big_hits.fetch_add(1, std::memory_order_relaxed);
        if (!ok)
          bad.add("versions " + std::to_string(v1) + ".." + std::to_string(v2) + " key " +
                  to_string(k) + ": " + str(h) + " (generation " + std::to_string(gen) + ")");
      }
    });
  }
  readers.wait_started();
  const auto cookie = [](std::uint64_t g, std::uint64_t low) { return g << 32 | low; };
  const auto prio = [](std::uint64_t g) { return 1000 + static_cast<std::int32_t>(g); };
  for (std::uint64_t g = 0; g < kGens; ++g) {
    writing.begin();
    for (std::uint64_t i = 0; i < kGenRules; ++i) {
      if (g > 0) REQUIRE(cls.remove(gen_rule(g - 1, i), 100) == cookie(g - 1, i));
      REQUIRE_FALSE(cls.insert(gen_rule(g, i), 100, cookie(g, i)));
    }
    for (std::uint32_t j = 0; j < kBig; ++j) {
      REQUIRE_FALSE(cls.insert(big_rule(g % 3, j), prio(g), cookie(g, kBigFlag | j)));
      if (g >= 1 && j % 8 != 0)
        REQUIRE(cls.remove(big_rule((g - 1) % 3, j), prio(g - 1)) == cookie(g - 1, kBigFlag | j));
      if (g >= 2 && j % 8 == 0)
        REQUIRE(cls.remove(big_rule((g - 2) % 3, j), prio(g - 2)) == cookie(g - 2, kBigFlag | j));
      if (j == kBig / 2) wait_for(lookups, 16);  // readers inside half-changed tables
    }
    REQUIRE(cls.publish() == g + kBase);
    writing.end();
  }
  readers.stop();
  report("publish concurrency (batches): seed " + std::to_string(seed) + ": " +
             std::to_string(lookups.load()) + " lookups (" + std::to_string(during.load()) +
             " during a batch), " + std::to_string(big_hits.load()) + " big hits",
         bad);
  CHECK(big_hits.load() > 0);
  CHECK(during.load() >= kGens);  // the writer waited for some
  CHECK(cls.stats().rules == kGenRules + 3 + kBig + kBig / 8);
  CHECK(cls.stats().subtables >= 3);
}

// ---- 3. The megaflow contract within a version. ----

TEST_CASE("the megaflow contract holds within a version while the writer publishes") {
  const std::uint64_t seed = vsw::classifier::test::seed();
  INFO("seed " << seed);
  RuleGen gen(seed * 17 + 5);
  auto& rng = gen.rng();
  std::vector<Match> universe = small_universe(gen, 16);
  for (int i = 0; i < 12; ++i) {
    const Match mask = gen.random_mask();
    for (int j = 0; j < 16; ++j) universe.push_back(gen.fill(mask));
  }
  FlowKey used;  // every bit some rule may look at
  for (const Match& m : universe) used |= m.mask;
  const std::vector<FlowKey> keys = probe_keys(gen, universe, 2048);
  constexpr std::size_t kPublishes = 3000;

  Classifier cls;
  Failures bad;
  std::atomic<std::uint64_t> checked{0}, skipped{0};
  std::atomic<std::uint64_t> progress{0};  // pairs checked, for pacing the writer
  std::atomic<std::uint64_t> overlapped{0};
  Activity writing;
  Readers readers(8);
  for (unsigned r = 0; r < kReaders; ++r) {
    readers.spawn([&, r] {
      std::mt19937_64 rr(seed + r + 1);
      for (std::uint64_t n = 0; readers.go_on(); ++n) {
        const FlowKey& k = keys[rr() % keys.size()];
        FlowKey wc;
        const std::uint64_t a1 = writing.read();
        const std::uint64_t v1 = cls.version();
        const auto h = cls.lookup(k, &wc);
        // k' agrees with k on wc: flip other bits some rule looks at (one per word,
        // dense, or sparse).
        FlowKey k2 = k;
        for (std::size_t i = 0; i < kWords; ++i) {
          const std::uint64_t flip = n % 3 == 0   ? 1ULL << (rr() % 64)
                                     : n % 3 == 1 ? rr()
                                                  : rr() & rr() & rr();
          k2.w[i] ^= flip & ~wc.w[i] & used.w[i];
        }
        const auto h2 = cls.lookup(k2);
        const std::uint64_t v2 = cls.version();
        bool wc_ok = true;
        for (std::size_t i = 0; i < kWords; ++i) wc_ok &= (wc.w[i] & ~used.w[i]) == 0;
        if (v1 != v2) {
          skipped.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        checked.fetch_add(1, std::memory_order_relaxed);
        if (Activity::overlapped(a1, writing.read()))
          overlapped.fetch_add(1, std::memory_order_relaxed);
        progress.fetch_add(1, std::memory_order_relaxed);
        if (h != h2 || !wc_ok)
          bad.add("version " + std::to_string(v1) + " key " + to_string(k) + ": " + str(h) +
                  "; wc " + to_string(wc) + "; key " + to_string(k2) + ": " + str(h2));
      }
    });
  }
  readers.wait_started();

  // Batches of 1-32 inserts, removals and replaces, each published; priorities are unique
  // among the live rules.
  struct Live {
    std::size_t match;
    std::int32_t priority;
  };
  std::vector<Live> live;
  std::uint64_t cookie = 0;
  const auto fresh = [&] {
    for (;;) {
      const auto p = static_cast<std::int32_t>(rng() % 1000000);
      if (std::none_of(live.begin(), live.end(), [&](const Live& l) { return l.priority == p; }))
        return p;
    }
  };
  for (std::size_t b = 0; b < kPublishes; ++b) {
    writing.begin();
    for (std::uint64_t n = 1 + rng() % 32; n > 0; --n) {
      const unsigned op = live.size() < 64 ? 0 : live.size() > 400 ? 1 : rng() % 3;
      const std::size_t i = live.empty() ? 0 : rng() % live.size();
      if (op == 0) {
        const Live l{rng() % universe.size(), fresh()};
        REQUIRE_FALSE(cls.insert(universe[l.match], l.priority, ++cookie));
        live.push_back(l);
      } else if (op == 1) {
        REQUIRE(cls.remove(universe[live[i].match], live[i].priority).has_value());
        live[i] = live.back();
        live.pop_back();
      } else {
        REQUIRE(cls.replace(universe[live[i].match], live[i].priority, ++cookie).has_value());
      }
    }
    // Pairs with the batch made in place but not published, and at the new version.
    wait_for(progress, 4);
    cls.publish();
    writing.end();
    wait_for(progress, 16);
  }
  readers.stop();
  report("publish concurrency (megaflow): seed " + std::to_string(seed) + ": " +
             std::to_string(checked.load()) + " pairs checked (" +
             std::to_string(overlapped.load()) + " while the writer worked), " +
             std::to_string(skipped.load()) + " spanning",
         bad);
  CHECK(checked.load() > kPublishes);
  CHECK(overlapped.load() >= kPublishes);  // the writer waited for some
}

// ---- 4. Proof sets rebuilt at publish still cover the version they replace. ----

TEST_CASE("proof sets rebuilt at publish still prove the misses of the version they replace") {
  // One subtable (eth_type, tp_dst) holds the ports 256 i + 17 of the slots i of one
  // class (i % 3); each batch removes them and adds the next class's, so publish()
  // rebuilds the subtable's sorted port set (its main array) every time, from the values of
  // the class it publishes and of the class it retires (the old version still shows it).
  // Readers look up port 256 i + 16, one bit away from slot i's rule: if the set holds
  // that rule's port the proof of the miss needs all 16 port bits, otherwise the top 8
  // do (the third class). compact() stores the new set before publish() stores the new
  // snapshot, so readers of the old version use it for a while: if it lacked the retired
  // class, such a reader would get 8 bits, and port 256 i + 17, which agrees with them,
  // hits. The batch's other changes come after the port subtable's, so that publish() has
  // work to do between the two stores: a window of 4096 source ports that moves by 300
  // (its sorted set too is rebuilt at every publish) and IPv4 prefixes (their trie too).
  const std::uint64_t seed = vsw::classifier::test::seed();
  INFO("seed " << seed);
  constexpr std::uint32_t kSlots = 255;     // 85 per class: more than a delta holds
  constexpr std::uint32_t kPrefixes = 200;  // per parity
  constexpr std::uint64_t kBatches = 120;
  const auto port_rule = [](std::uint32_t i) {
    Match m;
    m.set_exact(Field::kEthType, 0x0800);
    m.set_exact(Field::kTpDst, 256 * i + 17);
    return m;
  };
  std::mt19937_64 rng(seed);
  std::vector<Match> prefixes;  // [0, kPrefixes): even batches; the rest: odd ones
  for (std::uint32_t i = 0; i < 2 * kPrefixes; ++i) {
    Match m;
    m.set_exact(Field::kInPort, 5);
    m.set_prefix(Field::kIpv4Dst, rng(), 16 + 4 * (i % 3));
    if (std::find(prefixes.begin(), prefixes.end(), m) == prefixes.end()) prefixes.push_back(m);
  }
  const std::size_t half = prefixes.size() / 2;
  constexpr std::uint64_t kWindow = 4096, kStep = 300;
  const auto window_rule = [](std::uint64_t n) {
    Match m;
    m.set_exact(Field::kEthType, 0x0800);
    m.set_exact(Field::kTpSrc, 1 + n % 60000);
    return m;
  };

  Classifier cls;
  for (std::uint64_t n = 0; n < kWindow; ++n) REQUIRE_FALSE(cls.insert(window_rule(n), 5, 0));
  cls.publish();
  Failures bad;
  std::atomic<std::uint64_t> checked{0}, steered{0};
  Readers readers(0);
  for (unsigned r = 0; r < kReaders; ++r) {
    readers.spawn([&, r] {
      std::mt19937_64 rr(seed + r + 1);
      while (readers.go_on()) {
        const auto i = static_cast<std::uint32_t>(rr() % kSlots);
        const std::uint64_t near = 256 * i + 16, rule = 256 * i + 17;
        FlowKey k;
        k.set(Field::kEthType, 0x0800);
        k.set(Field::kTpDst, near);
        FlowKey wc;
        const std::uint64_t v1 = cls.version();
        const auto h = cls.lookup(k, &wc);
        // k' agrees with k on wc and is otherwise slot i's rule port.
        const std::uint64_t m = wc.get(Field::kTpDst);
        FlowKey k2 = k;
        k2.set(Field::kTpDst, (near & m) | (rule & ~m));
        const auto h2 = cls.lookup(k2);
        const std::uint64_t v2 = cls.version();
        if (v1 != v2) continue;
        checked.fetch_add(1, std::memory_order_relaxed);
        if (k2 != k) steered.fetch_add(1, std::memory_order_relaxed);
        if (h || h2)
          bad.add("version " + std::to_string(v1) + " port " + std::to_string(near) + ": " +
                  str(h) + "; wc " + to_string(wc) + "; port " +
                  std::to_string(k2.get(Field::kTpDst)) + ": " + str(h2));
      }
    });
  }
  readers.wait_started();
  for (std::uint64_t b = 0; b < kBatches; ++b) {
    const std::uint32_t p = b % 2;
    // The port subtable first, so that it is compacted first at publish().
    for (std::uint32_t i = 0; i < kSlots; ++i) {
      if (i % 3 == b % 3)
        REQUIRE_FALSE(cls.insert(port_rule(i), 10, b));
      else if (b > 0 && i % 3 == (b - 1) % 3)
        REQUIRE(cls.remove(port_rule(i), 10) == b - 1);
    }
    for (std::uint64_t n = kStep * b; n < kStep * (b + 1); ++n) {
      REQUIRE_FALSE(cls.insert(window_rule(n + kWindow), 5, 0));
      REQUIRE(cls.remove(window_rule(n), 5).has_value());
    }
    for (std::size_t i = 0; i < half; ++i) {
      REQUIRE_FALSE(cls.insert(prefixes[p * half + i], 20, b));
      if (b > 0) REQUIRE(cls.remove(prefixes[(1 - p) * half + i], 20) == b - 1);
    }
    cls.publish();
  }
  readers.stop();
  report("publish concurrency (proof sets): seed " + std::to_string(seed) + ": " +
             std::to_string(checked.load()) + " pairs checked, " + std::to_string(steered.load()) +
             " steered",
         bad);
  CHECK(steered.load() > 0);               // some proofs took 8 bits (the third class)
  CHECK(checked.load() > steered.load());  // and some all 16
}
