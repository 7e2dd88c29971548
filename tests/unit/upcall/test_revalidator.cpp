// The revalidator: MAC moves and port changes fix installed flows, idle flows expire,
// flows left by an earlier vswd are adopted or deleted, and flows installed while a dump
// runs are treated right.
#include <catch2/catch_test_macros.hpp>
#include <thread>

#include "harness.h"

using namespace vsw;
using namespace vsw::upcall;
using namespace vsw::upcall::test;
using namespace std::chrono_literals;

namespace {

bool has_flow_with(SharedDatapath& dp, const dpif::Match& m, const dpif::Actions& actions) {
  const auto f = dp.flow(m);
  return f && f->actions == actions;
}

}  // namespace

TEST_CASE("a MAC move modifies the flows toward it within a second", "[upcall][revalidator]") {
  Rig rig;
  const Mac a = host(0xa), b = host(0xb);
  rig.learn(a, 1);
  rig.learn(b, 2);
  rig.start();
  rig.miss(2, b, a);
  const dpif::Match ba = rig.megaflow(2, b, a);
  // (installs counts a ukey once it is marked installed: from then on it can be revalidated)
  REQUIRE(eventually([&] { return rig.udpif->counters().installs == 1; }));
  REQUIRE(rig.dp->flow(ba).has_value());
  const dpif::FlowEntry before = *rig.dp->flow(ba);
  CHECK(before.actions == outputs({1}));

  // A now sends from port 3.
  const auto t0 = std::chrono::steady_clock::now();
  rig.miss(3, a, b);
  const bool fixed = eventually([&] { return has_flow_with(*rig.dp, ba, outputs({3})); }, 1000ms);
  INFO(describe(rig.dp->flows()) << "\nafter "
                                 << std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - t0)
                                        .count()
                                 << " ms");
  CHECK(fixed);
  CHECK(rig.ofp.macs().lookup(0, a) == std::optional<std::uint32_t>(3));
  const auto after = rig.dp->flow(ba);
  REQUIRE(after);
  CHECK(after->id == before.id);  // modified in place, not deleted and re-added
  const Counters c = rig.udpif->counters();
  CHECK(c.modified >= 1);
  CHECK(c.revalidated >= 1);
}

TEST_CASE("a MAC moving back to a port whose flow stayed cached is re-learned by the dump",
          "[upcall][revalidator]") {
  Rig rig;
  const Mac a = host(0xa), b = host(0xb);
  rig.learn(b, 2);
  rig.start();
  rig.miss(1, a, b);
  const dpif::Match ab1 = rig.megaflow(1, a, b);
  REQUIRE(eventually([&] { return rig.dp->flow(ab1).has_value(); }));
  rig.miss(3, a, b);  // A moves to port 3: learned from the miss
  REQUIRE(
      eventually([&] { return rig.ofp.macs().lookup(0, a) == std::optional<std::uint32_t>(3); }));
  // A is back on port 1, and its packets hit the flow still cached there: no miss, so
  // only the dump's replay of NORMAL's learning can notice.
  const bool back = eventually(
      [&] {
        (void)rig.dp->hit(ab1);
        return rig.ofp.macs().lookup(0, a) == std::optional<std::uint32_t>(1);
      },
      3000ms);
  CHECK(back);
}

TEST_CASE("idle flows are deleted by the dump; busy ones stay", "[upcall][revalidator]") {
  Rig rig;
  rig.udpif->set_limits(200'000, 1000);  // ba is hit every 5 ms: slack for a loaded host
  const Mac a = host(0xa), b = host(0xb);
  rig.learn(a, 1);
  rig.learn(b, 2);
  rig.start();
  rig.miss(1, a, b);
  rig.miss(2, b, a);
  const dpif::Match ab = rig.megaflow(1, a, b), ba = rig.megaflow(2, b, a);
  REQUIRE(eventually([&] { return rig.dp->flows().size() == 2; }));

  // ba sees traffic all along (the dump reports used_ms = time since the last hit).
  const bool ab_gone = eventually(
      [&] {
        (void)rig.dp->hit(ba);
        return !rig.dp->flow(ab);
      },
      6000ms);
  INFO(describe(rig.dp->flows()));
  CHECK(ab_gone);
  CHECK(rig.dp->flow(ba).has_value());
  Counters c = rig.udpif->counters();
  CHECK(c.deleted_idle == 1);
  CHECK(c.dumps >= 1);
  CHECK(c.flows == 1);

  // Traffic stops: ba goes too.
  CHECK(eventually([&] { return !rig.dp->flow(ba); }, 6000ms));
  c = rig.udpif->counters();
  CHECK(c.deleted_idle == 2);
  CHECK(c.flows == 0);
}

TEST_CASE("flows left by an earlier vswd are adopted when right, deleted when wrong",
          "[upcall][revalidator]") {
  const Mac a = host(0xa), b = host(0xb), d = host(0xd);
  // The earlier vswd had port 4 too, where D lived.
  ofproto::Ofproto earlier;
  REQUIRE(earlier.set_ports(ports({1, 2, 3, 4})).ok());
  (void)earlier.macs().learn(0, a, 1);
  (void)earlier.macs().learn(0, b, 2);
  (void)earlier.macs().learn(0, d, 4);
  const auto ab = earlier.translate(key_of(1, a, b), false);
  const auto ba = earlier.translate(key_of(2, b, a), false);
  const auto ad = earlier.translate(key_of(1, a, d), false);
  const auto da = earlier.translate(key_of(4, d, a), false);
  REQUIRE(ab.actions == outputs({2}));
  REQUIRE(ba.actions == outputs({1}));
  REQUIRE(ad.actions == outputs({4}));
  REQUIRE(da.actions == outputs({1}));

  Rig rig;  // ports 1..3 now, an empty MAC table
  rig.dp->with([&](dpif::FakeDpif& f) {
    for (const auto* x : {&ab, &ba, &ad, &da})
      REQUIRE(f.flow_put(kDp, x->megaflow, x->actions, dpif::FlowPut::kCreate, false).ok());
  });
  rig.start();

  const bool sorted = eventually(
      [&] {
        const Counters c = rig.udpif->counters();
        return c.adopted + c.deleted_wrong >= 4;
      },
      2000ms);
  const auto flows = rig.dp->flows();
  INFO(describe(flows));
  CHECK(sorted);
  CHECK(flows.size() == 2);
  CHECK(has_flow_with(*rig.dp, ab.megaflow, outputs({2})));
  CHECK(has_flow_with(*rig.dp, ba.megaflow, outputs({1})));
  CHECK_FALSE(rig.dp->flow(ad.megaflow).has_value());  // translates to a flood now
  CHECK_FALSE(rig.dp->flow(da.megaflow).has_value());  // from a port that is gone
  Counters c = rig.udpif->counters();
  CHECK(c.adopted == 2);
  CHECK(c.deleted_wrong == 2);
  CHECK(c.flows == 2);
  // The MAC table was rebuilt from the flows.
  CHECK(rig.ofp.macs().lookup(0, a) == std::optional<std::uint32_t>(1));
  CHECK(rig.ofp.macs().lookup(0, b) == std::optional<std::uint32_t>(2));

  // Adopted flows are tracked like installed ones: B moving fixes the flow toward it.
  rig.miss(3, b, a);
  CHECK(eventually([&] { return has_flow_with(*rig.dp, ab.megaflow, outputs({3})); }, 1000ms));
}

TEST_CASE("revalidate_all after a port is removed fixes the flows that used it",
          "[upcall][revalidator]") {
  Rig rig;
  const Mac a = host(0xa), b = host(0xb), c3 = host(0xc);
  rig.learn(a, 1);
  rig.learn(b, 2);
  rig.learn(c3, 3);
  rig.start();
  rig.miss(1, a, kBroadcast);  // flood: 2, 3
  rig.miss(1, a, c3);          // to port 3
  rig.miss(2, b, a);           // to port 1, untouched by the change
  rig.miss(3, c3, b);          // from port 3
  const dpif::Match flood = rig.megaflow(1, a, kBroadcast), to_c = rig.megaflow(1, a, c3),
                    ba = rig.megaflow(2, b, a), from_c = rig.megaflow(3, c3, b);
  REQUIRE(eventually([&] { return rig.udpif->counters().installs == 4; }));
  REQUIRE(rig.dp->flows().size() == 4);
  REQUIRE(has_flow_with(*rig.dp, to_c, outputs({3})));

  // What Bridge::reconcile() does when port 3 is detached.
  rig.udpif->set_ports({VSW_PORT_LOCAL, 1, 2});
  std::vector<ofproto::MacTag> flushed;
  REQUIRE(rig.ofp.set_ports(ports({1, 2}), &flushed).ok());
  CHECK(flushed == std::vector<ofproto::MacTag>{{0, c3}});
  rig.udpif->revalidate_all();

  const bool clean = eventually(
      [&] {
        for (const auto& f : rig.dp->flows())
          if (outputs_to(f.actions, 3)) return false;
        return true;
      },
      1000ms);
  INFO(describe(rig.dp->flows()));
  CHECK(clean);
  CHECK(has_flow_with(*rig.dp, flood, outputs({2})));
  CHECK(has_flow_with(*rig.dp, ba, outputs({1})));
  CHECK_FALSE(rig.dp->flow(from_c).has_value());  // no packet can come from port 3 now
  // C is unknown now: its flow floods to the one other port, or is gone.
  const auto f = rig.dp->flow(to_c);
  if (f) CHECK(f->actions == outputs({2}));
  const Counters c = rig.udpif->counters();
  CHECK(c.revalidated >= 4);
  CHECK(c.modified + c.deleted_wrong >= 3);
}

// BUG (udpif.cpp, dump_pass): `age = start - uk->created_ms` is unsigned; a ukey created
// by a handler after the dump began (created_ms > start) gets a huge age, so a flow
// installed while a dump runs, and not hit yet, is deleted as idle as soon as the dump
// reaches it.
TEST_CASE("a flow installed while a dump runs is not deleted as idle", "[upcall][revalidator]") {
  Rig rig;
  const Mac a = host(0xa), b = host(0xb);
  rig.learn(a, 1);
  rig.learn(b, 2);
  rig.start();
  rig.dp->before_dump.arm();
  REQUIRE(rig.dp->before_dump.wait_reached(5000ms));
  const auto dumps = rig.udpif->counters().dumps;
  std::this_thread::sleep_for(3ms);  // the dump's clock reading is now in the past
  rig.miss(1, a, b);
  REQUIRE(eventually([&] { return rig.udpif->counters().installs == 1; }));
  rig.dp->before_dump.release();
  REQUIRE(eventually([&] { return rig.udpif->counters().dumps > dumps; }));

  const Counters c = rig.udpif->counters();
  CHECK(rig.dp->flow(rig.megaflow(1, a, b)).has_value());
  CHECK(c.deleted_idle == 0);
  CHECK(c.flows == 1);
}

// BUG (udpif.cpp, dump_pass): the same unsigned `start - uk->created_ms` in the check for
// ukeys whose kernel flow vanished: a ukey installed after the dump passed its place is
// forgotten although its flow is in the datapath (the next dump then "adopts" it).
TEST_CASE("a flow installed after the dump passed it keeps its ukey", "[upcall][revalidator]") {
  Rig rig;
  const Mac a = host(0xa), b = host(0xb);
  rig.learn(a, 1);
  rig.learn(b, 2);
  rig.start();
  rig.dp->after_dump.arm();
  REQUIRE(rig.dp->after_dump.wait_reached(5000ms));
  const auto dumps = rig.udpif->counters().dumps;
  std::this_thread::sleep_for(3ms);
  rig.miss(1, a, b);
  REQUIRE(eventually([&] { return rig.udpif->counters().installs == 1; }));
  rig.dp->after_dump.release();
  REQUIRE(eventually([&] { return rig.udpif->counters().dumps > dumps; }));

  const Counters c = rig.udpif->counters();
  CHECK(rig.dp->flow(rig.megaflow(1, a, b)).has_value());
  CHECK(c.flows == 1);
}

// BUG (udpif.cpp, dump_pass, adoption): when a handler claimed a stray flow's megaflow
// between the dump and the adoption (its FLOW_NEW got EEXIST, which counts as installed),
// the adoption's insert fails and the flow is deleted although a ukey now tracks it, and
// agrees with it. Low impact: the next miss reinstalls it.
TEST_CASE("a stray flow a handler claimed meanwhile is kept, not deleted",
          "[upcall][revalidator]") {
  const Mac a = host(0xa), b = host(0xb);
  Rig rig;
  rig.learn(a, 1);
  rig.learn(b, 2);
  const auto ab = rig.ofp.translate(key_of(1, a, b), false);
  rig.dp->with([&](dpif::FakeDpif& f) {
    REQUIRE(f.flow_put(kDp, ab.megaflow, ab.actions, dpif::FlowPut::kCreate, false).ok());
  });
  rig.start();
  rig.dp->after_dump.arm();
  REQUIRE(rig.dp->after_dump.wait_reached(5000ms));  // the dump found the stray flow
  const auto dumps = rig.udpif->counters().dumps;
  rig.miss(1, a, b);  // its FLOW_NEW meets the stray flow: EEXIST
  REQUIRE(eventually([&] { return rig.udpif->counters().installs == 1; }));
  rig.dp->after_dump.release();
  REQUIRE(eventually([&] { return rig.udpif->counters().dumps > dumps; }));

  const Counters c = rig.udpif->counters();
  INFO(describe(rig.dp->flows()));
  CHECK(rig.dp->flow(ab.megaflow).has_value());
  CHECK(c.deleted_wrong == 0);
  CHECK(c.flows == 1);
}

TEST_CASE("three revalidators share revalidation and the dump, with the same answers",
          "[upcall][revalidator]") {
  Options o = Rig::defaults();
  o.n_revalidators = 3;
  Rig rig(o);
  const Mac sink = host(0xee);
  rig.learn(sink, 2);
  rig.start();
  CHECK(rig.udpif->counters().revalidators == 3);
  constexpr int kFlows = 1500;  // several chunks and batches of 256
  const auto src = [](int i) {
    return Mac{0x02, 0x20, 0, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
  };
  for (int i = 0; i < kFlows; ++i) rig.miss(1, src(i), sink);
  REQUIRE(eventually([&] { return rig.udpif->counters().installs == kFlows; }, 15000ms));

  // The sink moves: every flow toward it is dirty and fixed. Whether the helpers get to a
  // chunk before the leader has done them all depends on the scheduler (a loaded host may
  // not run them in time), so the sink moves back and forth until they have, each move
  // checked in full.
  const auto all_to = [&](std::uint32_t port) {
    std::size_t n = 0;
    for (const dpif::FlowEntry& f : rig.dp->flows())
      if (f.match.key.in_port == 1 && f.actions == outputs({port})) ++n;
    return n == kFlows;
  };
  std::uint32_t port = 2;
  for (int move = 0; move < 20 && rig.udpif->counters().helper_tasks == 0; ++move) {
    port = port == 2 ? 3 : 2;
    rig.miss(port, sink, src(0));
    REQUIRE(eventually([&] { return all_to(port); }, 5000ms));
  }
  const Counters c = rig.udpif->counters();
  CHECK(c.modified >= kFlows);
  CHECK(c.helper_tasks > 0);

  // Idle: the dump's batches go to the helpers, which delete what is idle.
  rig.udpif->set_limits(200'000, 200);
  CHECK(eventually([&] { return rig.udpif->counters().deleted_idle >= kFlows; }, 8000ms));
  CHECK(eventually([&] { return rig.dp->flows().size() <= 1; }, 3000ms));
}
