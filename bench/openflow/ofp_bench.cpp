// ofp_bench [N] [RUNS]: OpenFlow codec throughput against `ovs-ofctl ofp-parse`.
//
// Builds N (default 100,000) NSX-like FLOW_MODs (10 OXM fields, 4 actions + goto_table) and
// the FLOW_STATS reply listing the same flows (split into 64 KiB messages), writes both as
// binary files of wire messages, then times, RUNS times each (default 5), and prints medians:
//   ours:      decode + text form of every message (written to /dev/null), decode alone,
//              encode alone;
//   reference: `ovs-ofctl ofp-parse FILE > /dev/null` on the same file, which decodes each
//              message and prints it as text; the fair comparison is with "decode + text".
// Times are CPU seconds (user + system, the child's for ovs-ofctl), not wall clock: the
// build machine is shared and wall time would measure the other load.
// Rates are flows per second (a FLOW_STATS entry counts as one flow).
//
// ofp_bench --round-trip [N] [simple]: FLOW_MOD + BARRIER round trips against the real connection
// manager and agent instead (round_trip.cpp).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "openflow/print.h"
#include "samples.h"

using namespace vsw::openflow;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// CPU seconds (user + system) of this process and of waited-for children. The machine is
// shared, so wall-clock time would mostly measure other people's load; CPU time does not.
double cpu_now() {
  rusage self{}, kids{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  auto sec = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return sec(self.ru_utime) + sec(self.ru_stime) + sec(kids.ru_utime) + sec(kids.ru_stime);
}

template <class F>
double time_runs(int runs, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    double start = cpu_now();
    f();
    t.push_back(cpu_now() - start);
  }
  return median(t);
}

// Frames and decodes every message; returns the number of flows seen. With `text`, prints
// each message's text form into a buffer flushed to `out`.
size_t decode_all(const Bytes& file, FILE* out, bool text) {
  size_t flows = 0, off = 0;
  std::string buf;
  while (off + kHeaderLen <= file.size()) {
    auto h = peek_header(ByteSpan(file).subspan(off));
    auto r = decode(ByteSpan(file).subspan(off, h->length));
    off += h->length;
    if (!r.ok()) {
      std::fprintf(stderr, "ofp_bench: decode failed\n");
      std::exit(1);
    }
    if (auto* mp = std::get_if<MultipartReply>(&r->body))
      flows += std::get<FlowStatsReply>(mp->body).entries.size();
    else
      ++flows;
    if (text) {
      append_text(buf, r.value());
      buf += '\n';
      if (buf.size() > (1 << 16)) {
        std::fwrite(buf.data(), 1, buf.size(), out);
        buf.clear();
      }
    }
  }
  std::fwrite(buf.data(), 1, buf.size(), out);
  return flows;
}

void write_file(const std::string& path, const Bytes& b) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(b.data(), 1, b.size(), f) != b.size()) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::fclose(f);
}

void run_ofctl(const std::string& path) {
  std::string cmd = "ovs-ofctl ofp-parse " + path + " > /dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "ofp_bench: '%s' failed\n", cmd.c_str());
    std::exit(1);
  }
}

// How many messages ovs-ofctl printed (a check that it really parsed the whole file).
long ofctl_count(const std::string& path, const char* prefix) {
  std::string cmd = "ovs-ofctl ofp-parse " + path + " | grep -c '^" + prefix + "'";
  FILE* p = popen(cmd.c_str(), "r");
  long n = -1;
  if (p && std::fscanf(p, "%ld", &n) != 1) n = -1;
  if (p) pclose(p);
  return n;
}

}  // namespace

int round_trip_main(uint32_t n, bool simple);

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--round-trip") {
    const long rn = argc > 2 ? std::atol(argv[2]) : 100000;
    if (rn <= 0 || rn > 0xffffffffL || argc > 4 || (argc > 3 && std::string(argv[3]) != "simple")) {
      std::fprintf(stderr, "usage: ofp_bench --round-trip [N > 0] [simple]\n");
      return 2;
    }
    return round_trip_main(uint32_t(rn), argc > 3);
  }
  uint32_t n = argc > 1 ? uint32_t(std::atoi(argv[1])) : 100000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  std::string dir = "/tmp/vsw-ofp-bench-" + std::to_string(getpid());
  std::system(("mkdir -p " + dir).c_str());

  std::vector<Message> mods;
  mods.reserve(n);
  FlowStatsReply stats;
  stats.entries.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    mods.push_back(Message{kVersion13, i + 1, testing::nsx_flow_mod(i)});
    stats.entries.push_back(testing::nsx_flow_stats(i));
  }
  Bytes mod_file, stats_file;
  for (const auto& m : mods) encode_into(mod_file, m);
  for (const auto& b : encode_multipart_reply(1, stats))
    stats_file.insert(stats_file.end(), b.begin(), b.end());
  std::string mod_path = dir + "/flow_mods.bin", stats_path = dir + "/flow_stats.bin";
  write_file(mod_path, mod_file);
  write_file(stats_path, stats_file);

  FILE* null = std::fopen("/dev/null", "w");
  struct Row {
    const char* what;
    double ours, ref;  // seconds
  };
  std::vector<Row> rows;
  // Ours and the reference alternate run by run, so load from other processes on the
  // machine hits both alike.
  auto bench = [&](const char* name, const Bytes& file, const std::string& path) {
    std::vector<double> ours, ref;
    for (int i = 0; i < runs; ++i) {
      ours.push_back(time_runs(1, [&] { decode_all(file, null, true); }));
      ref.push_back(time_runs(1, [&] { run_ofctl(path); }));
    }
    rows.push_back({name, median(ours), median(ref)});
    return time_runs(runs, [&] { decode_all(file, null, false); });
  };
  double dec_mod = bench("FLOW_MOD: decode + text", mod_file, mod_path);
  double dec_stats = bench("FLOW_STATS reply: decode + text", stats_file, stats_path);
  long ofctl_mods = ofctl_count(mod_path, "OFPT_FLOW_MOD");
  long ofctl_stats = ofctl_count(stats_path, " cookie=");
  double enc_mod = time_runs(runs, [&] {
    Bytes out;
    out.reserve(mod_file.size());
    for (const auto& m : mods) encode_into(out, m);
  });
  double enc_stats = time_runs(runs, [&] { (void)encode_multipart_reply(1, stats); });

  std::printf(
      "%u NSX-like flows (10 OXM fields, 4 actions + goto_table); FLOW_MOD file %zu bytes,"
      " FLOW_STATS file %zu bytes; median CPU time of %d runs\n\n",
      n, mod_file.size(), stats_file.size(), runs);
  std::printf("| workload | vsw (flows/s) | ovs-ofctl ofp-parse (flows/s) | ratio |\n");
  std::printf("|---|---:|---:|---:|\n");
  for (const auto& r : rows)
    std::printf("| %s | %.0f | %.0f | %.1fx |\n", r.what, n / r.ours, n / r.ref, r.ref / r.ours);
  std::printf("| FLOW_MOD: decode only | %.0f | | |\n", n / dec_mod);
  std::printf("| FLOW_MOD: encode only | %.0f | | |\n", n / enc_mod);
  std::printf("| FLOW_STATS reply: decode only | %.0f | | |\n", n / dec_stats);
  std::printf("| FLOW_STATS reply: encode (split) | %.0f | | |\n", n / enc_stats);
  std::printf("\novs-ofctl printed %ld FLOW_MODs and %ld flow stats entries (of %u each)\n",
              ofctl_mods, ofctl_stats, n);
  std::system(("rm -rf " + dir).c_str());
  return ofctl_mods == long(n) && ofctl_stats == long(n) ? 0 : 1;
}
