// vsw-dpctl top: the rate computation and sorting on hand-made snapshots, option parsing,
// and the verb itself against the fake datapath with a stepped clock (counters injected
// between the two dumps): the --once table, the interactive redraws, and failures.
#include <catch2/catch_test_macros.hpp>
#include <chrono>

#include "cli/dpctl_top.h"
#include "dpif/flow_text.h"
#include "test_dpctl_harness.h"

using namespace vsw;
using cli::top::SortKey;
using Clock = cli::Environment::Clock;
using std::chrono::milliseconds;

namespace {

dpif::FlowEntry flow(const std::string& match, std::uint64_t packets, std::uint64_t bytes,
                     std::uint32_t out_port = 2) {
  dpif::FlowEntry e;
  auto m = dpif::parse_match(match);
  REQUIRE(m.ok());
  e.match = *m;
  e.actions = {dpif::OutputAction{out_port}};
  e.packets = packets;
  e.bytes = bytes;
  return e;
}

std::vector<std::string> row_flows(const cli::top::Table& t) {
  std::vector<std::string> out;
  for (const auto& r : t.rows) out.push_back(dpif::format_match(r.flow.match));
  return out;
}

const cli::top::FlowRate& row(const cli::top::Table& t, const std::string& match) {
  for (const auto& r : t.rows)
    if (dpif::format_match(r.flow.match) == match) return r;
  FAIL("no row for " << match);
  return t.rows.front();
}

// A clock that moves only when the command waits, and a wait that runs `between` (the
// test's traffic) before returning.
struct SteppedClock {
  Clock::time_point t{std::chrono::seconds(1000)};
  int waits = 0;
  std::vector<Clock::duration> asked;
  std::function<bool(int)> between;  // called with the wait's number (1, 2, ..)

  cli::Environment env() {
    return {[this] { return t; },
            [this](Clock::duration d) {
              asked.push_back(d);
              t += d;
              return between ? between(++waits) : (++waits, true);
            }};
  }
};

}  // namespace

TEST_CASE("top: rates are differences over the measured time, keyed by match", "[dpctl][top]") {
  cli::top::Snapshot prev, cur;
  prev.when = Clock::time_point(std::chrono::seconds(10));
  cur.when = prev.when + milliseconds(2000);
  prev.stats.n_hit = 10;
  cur.stats.n_hit = 30;
  prev.stats.n_missed = 50;  // went backwards: the datapath was re-created; from zero
  cur.stats.n_missed = 4;
  prev.stats.n_lost = 7;
  cur.stats.n_lost = 8;
  // prev in another order than cur: flows are found by match, not position
  prev.flows = {flow("in_port(4)", 9, 900), flow("in_port(3)", 1000, 64000),
                flow("in_port(1)", 100, 10000), flow("in_port(5)", 5, 500),
                flow("in_port(9)", 42, 4200)};
  cur.flows = {flow("in_port(1)", 300, 30000),  // +200 packets, +20000 bytes: 100/s
               flow("in_port(2)", 50, 100000),  // new: rated from zero, 25/s
               flow("in_port(3)", 10, 640),     // cleared since: from zero, 5/s
               flow("in_port(4)", 9, 900),      // idle
               flow("in_port(5)", 5, 500, 7)};  // idle, actions changed: same flow
  // in_port(9) was deleted: no row, not counted

  auto t = cli::top::compute(prev, cur, SortKey::kPackets, 20);
  CHECK(t.seconds == 2.0);
  CHECK(t.flows == 5);
  CHECK(t.hit_per_s == 10.0);
  CHECK(t.missed_per_s == 2.0);
  CHECK(t.lost_per_s == 0.5);
  CHECK(row_flows(t) == std::vector<std::string>{"in_port(1)", "in_port(2)", "in_port(3)",
                                                 "in_port(4)", "in_port(5)"});
  CHECK(row(t, "in_port(1)").packets_per_s == 100.0);
  CHECK(row(t, "in_port(1)").bytes_per_s == 10000.0);
  CHECK(row(t, "in_port(2)").packets_per_s == 25.0);
  CHECK(row(t, "in_port(2)").bytes_per_s == 50000.0);
  CHECK(row(t, "in_port(3)").packets_per_s == 5.0);
  CHECK(row(t, "in_port(3)").bytes_per_s == 320.0);
  CHECK(row(t, "in_port(4)").packets_per_s == 0.0);
  CHECK(row(t, "in_port(5)").flow.actions == dpif::Actions{dpif::OutputAction{7}});
  CHECK(t.packets_per_s == 130.0);
  CHECK(t.bytes_per_s == 60320.0);

  SECTION("by bytes") {
    t = cli::top::compute(prev, cur, SortKey::kBytes, 20);
    CHECK(row_flows(t) == std::vector<std::string>{"in_port(2)", "in_port(1)", "in_port(3)",
                                                   "in_port(4)", "in_port(5)"});
  }
  SECTION("limit keeps the busiest rows; totals still cover every flow") {
    t = cli::top::compute(prev, cur, SortKey::kPackets, 2);
    CHECK(row_flows(t) == std::vector<std::string>{"in_port(1)", "in_port(2)"});
    CHECK(t.flows == 5);
    CHECK(t.packets_per_s == 130.0);
  }
  SECTION("no time between the dumps: zero rates, not NaN or infinity") {
    cur.when = prev.when;
    t = cli::top::compute(prev, cur, SortKey::kPackets, 20);
    CHECK(t.hit_per_s == 0.0);
    for (const auto& r : t.rows) CHECK(r.packets_per_s == 0.0);
  }
  SECTION("an empty datapath") {
    t = cli::top::compute({}, {}, SortKey::kBytes, 20);
    CHECK(t.rows.empty());
    CHECK(t.flows == 0);
  }
}

TEST_CASE("top: ties go to the other rate, then the larger total, then dump order",
          "[dpctl][top]") {
  cli::top::Snapshot prev, cur;
  cur.when = prev.when + std::chrono::seconds(1);
  // all at 10 packets/s
  prev.flows = {flow("in_port(1)", 0, 0), flow("in_port(2)", 0, 0), flow("in_port(3)", 90, 0),
                flow("in_port(4)", 0, 0)};
  cur.flows = {flow("in_port(1)", 10, 600), flow("in_port(2)", 10, 600),
               flow("in_port(3)", 100, 600), flow("in_port(4)", 10, 1500)};
  auto t = cli::top::compute(prev, cur, SortKey::kPackets, 20);
  // in_port(4): more bytes/s; in_port(3): larger packet total; 1 before 2: dump order
  CHECK(row_flows(t) ==
        std::vector<std::string>{"in_port(4)", "in_port(3)", "in_port(1)", "in_port(2)"});
  t = cli::top::compute(prev, cur, SortKey::kPackets, 3);  // partial sort, same order
  CHECK(row_flows(t) == std::vector<std::string>{"in_port(4)", "in_port(3)", "in_port(1)"});
}

TEST_CASE("top: options", "[dpctl][top]") {
  auto o = cli::top::parse_options({"dp0"}, {});
  REQUIRE(o.ok());
  CHECK(o->dp == "dp0");
  CHECK_FALSE(o->once);
  CHECK(o->interval == milliseconds(1000));
  CHECK(o->sort == SortKey::kPackets);
  CHECK(o->limit == 20u);
  o = cli::top::parse_options(
      {"dp1"}, {{"--once", ""}, {"--interval", "0.25"}, {"--sort", "bytes"}, {"--limit", "3"}});
  REQUIRE(o.ok());
  CHECK(o->once);
  CHECK(o->interval == milliseconds(250));
  CHECK(o->sort == SortKey::kBytes);
  CHECK(o->limit == 3u);
  CHECK(cli::top::parse_options({"d"}, {{"--interval", "3600"}})->interval ==
        std::chrono::hours(1));
  for (const char* bad : {"", "0", "0.05", "-1", "nan", "inf", "1s", "3601"}) {
    auto r = cli::top::parse_options({"d"}, {{"--interval", bad}});
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(std::string("'") + bad + "'") != std::string::npos);
  }
  CHECK_FALSE(cli::top::parse_options({"d"}, {{"--limit", "1000001"}}).ok());
  CHECK_FALSE(cli::top::parse_options({"d"}, {{"--limit", "2x"}}).ok());
  CHECK_FALSE(cli::top::parse_options({"d"}, {{"--sort", "Packets"}}).ok());
  CHECK_FALSE(cli::top::parse_options({}, {}).ok());
}

TEST_CASE("top --once: two dumps one interval apart, one table, exit 0", "[dpctl][top]") {
  testing::Harness h;
  REQUIRE(h({"add-dp", "dp0"}).rc == 0);
  const std::string web = "in_port(1),eth_type(0x0800),ipv4(proto=6),tcp(dst=80)";
  const std::string dns = "in_port(1),eth_type(0x0800),ipv4(proto=17),udp(dst=53)";
  const std::string arp = "in_port(2),eth_type(0x0806)";
  REQUIRE(h({"add-flow", "dp0", web, "2"}).rc == 0);
  REQUIRE(h({"add-flow", "dp0", dns, "set(ipv4(dst=10.0.0.53)),2"}).rc == 0);
  REQUIRE(h({"add-flow", "dp0", arp, "1"}).rc == 0);
  auto match = [](const std::string& text) { return *dpif::parse_match(text); };
  REQUIRE(h.fake_->hit("dp0", match(web), 1000, 1500000));  // before the first dump
  h.dpif_->set_lookups("dp0", 1000, 3, 0);

  SteppedClock clock;
  const std::string late = "in_port(2),eth_type(0x0800)";
  clock.between = [&](int) {  // traffic during the interval
    CHECK(h.fake_->hit("dp0", match(web), 20, 30000));
    CHECK(h.fake_->hit("dp0", match(dns), 50, 4000));
    CHECK(h({"add-flow", "dp0", late, "1"}).rc == 0);  // a new flow, rated from zero
    CHECK(h.fake_->hit("dp0", match(late), 4, 392));
    h.dpif_->set_lookups("dp0", 1074, 4, 1);
    return true;
  };
  auto r = h({"top", "dp0", "--once", "--interval", "2"}, clock.env());
  CHECK(r.rc == 0);
  CHECK(r.err.empty());
  CHECK(clock.waits == 1);
  CHECK(clock.asked == std::vector<Clock::duration>{std::chrono::seconds(2)});
  const std::string want =
      "dp0: 4 flows, sorted by packets/s, rates over 2.00 s\n"
      "lookups/s: hit:37.0 missed:0.5 lost:0.5  all flows: packets/s:37.0 bytes/s:17196.0\n"
      "\n"
      "  packets/s       bytes/s      packets          bytes  flow\n"
      "       25.0        2000.0           50           4000  " +
      dns +
      ", actions:set(ipv4(dst=10.0.0.53)),2\n"
      "       10.0       15000.0         1020        1530000  " +
      web +
      ", actions:2\n"
      "        2.0         196.0            4            392  " +
      late +
      ", actions:1\n"
      "        0.0           0.0            0              0  " +
      arp + ", actions:1\n";
  CHECK(r.out == want);

  SECTION("--sort bytes --limit 2") {
    SteppedClock c2;
    c2.between = [&](int) { return h.fake_->hit("dp0", match(dns), 10, 20000); };
    r = h({"top", "--sort=bytes", "dp0", "--limit", "2", "--once"}, c2.env());
    CHECK(r.rc == 0);
    CHECK(c2.asked == std::vector<Clock::duration>{std::chrono::seconds(1)});  // default
    CHECK(r.out.find("dp0: 4 flows, the 2 busiest shown, sorted by bytes/s, rates over 1.00 s\n") ==
          0);
    CHECK(testing::lines(r.out) == 6);
    CHECK(r.out.find("       10.0       20000.0           60          24000  " + dns) !=
          std::string::npos);
    CHECK(r.out.find(web) != std::string::npos);  // second: the larger byte total
    CHECK(r.out.find(arp) == std::string::npos);
  }
}

TEST_CASE("top without --once redraws every interval until told to stop", "[dpctl][top]") {
  testing::Harness h;
  REQUIRE(h({"add-dp", "dp0"}).rc == 0);
  auto m = *dpif::parse_match("in_port(1)");
  REQUIRE(h({"add-flow", "dp0", "in_port(1)", "2"}).rc == 0);
  SteppedClock clock;
  clock.between = [&](int n) {
    if (n == 4) return false;  // q typed during the fourth wait
    return h.fake_->hit("dp0", m, static_cast<std::uint64_t>(n) * 10, 1000);
  };
  auto r = h({"top", "dp0", "--interval=0.5"}, clock.env());
  CHECK(r.rc == 0);
  CHECK(r.err.empty());
  CHECK(clock.waits == 4);
  const std::string clear = "\x1b[H\x1b[2J";
  std::vector<std::string> frames;
  for (std::size_t at = r.out.find(clear); at != std::string::npos;) {
    const std::size_t next = r.out.find(clear, at + 1);
    frames.push_back(r.out.substr(at + clear.size(), next - at - clear.size()));
    at = next;
  }
  REQUIRE(frames.size() == 4);  // the first dump's note, then three tables
  CHECK(r.out.rfind(clear, 0) == 0);
  CHECK(frames[0] == "dp0: 1 flow; first rates in 0.5 s (q or Ctrl-C quits)\n");
  // each table rates only its own interval: 10, 20, 30 packets per 0.5 s
  const char* want[] = {"       20.0        2000.0           10           1000  in_port(1)",
                        "       40.0        2000.0           30           2000  in_port(1)",
                        "       60.0        2000.0           60           3000  in_port(1)"};
  for (int i = 0; i < 3; ++i) {
    INFO(frames[i + 1]);
    CHECK(frames[i + 1].rfind("dp0: 1 flow, sorted by packets/s, rates over 0.50 s\n", 0) == 0);
    CHECK(frames[i + 1].find(want[i]) != std::string::npos);
    CHECK(frames[i + 1].size() >= 20);
    CHECK(frames[i + 1].substr(frames[i + 1].size() - 20) == "(q or Ctrl-C quits)\n");
  }
}

TEST_CASE("top fails with one line when the datapath is missing or goes away", "[dpctl][top]") {
  testing::Harness h;
  auto r = h({"top", "nodp", "--once"}, SteppedClock{}.env());
  CHECK(r.rc == 1);
  CHECK(r.out.empty());
  CHECK(r.err == "vsw-dpctl: top: no datapath named 'nodp' (No such device)\n");

  REQUIRE(h({"add-dp", "dp0"}).rc == 0);
  SteppedClock clock;
  clock.between = [&](int) { return h({"del-dp", "dp0"}).rc == 0; };
  r = h({"top", "dp0", "--once"}, clock.env());
  CHECK(r.rc == 1);
  CHECK(r.out.empty());
  CHECK(testing::lines(r.err) == 1);
}
