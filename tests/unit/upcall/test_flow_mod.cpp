// OpenFlow rule changes reach cached traffic: FLOW_MODs sent to a bridge's agent (as a
// controller would, published in one batch at the barrier) make the revalidator fix the
// megaflows already installed, within a second; a controller connecting to a standalone
// bridge removes its NORMAL rule, so cached NORMAL megaflows stop forwarding.
#include <catch2/catch_test_macros.hpp>
#include <cstring>
#include <thread>

#include "harness.h"
#include "ofswitch/agent.h"

using namespace vsw;
using namespace vsw::upcall;
using namespace vsw::upcall::test;
using namespace std::chrono_literals;

namespace {

openflow::Message flow_mod(const Mac& dst, std::uint32_t out_port) {
  openflow::FlowMod f;
  f.priority = 100;
  f.match.fields = {openflow::OxmField::exact_bytes(openflow::OxmId::kEthDst, dst)};
  f.instructions = {openflow::Instruction::apply({openflow::Action::output(out_port)})};
  return openflow::Message{openflow::kVersion13, 1, f};
}

// A bridge with its agent; hosts a (port 1) and b (port 2) already learned.
struct AgentRig {
  Rig rig;
  const Mac a = host(0xa), b = host(0xb);
  int flush_requests = 0;
  ofswitch::Agent agent{rig.ofp, kDp, hooks()};
  ofswitch::Session session;
  AgentRig() {
    rig.learn(a, 1);
    rig.learn(b, 2);
  }
  ofswitch::Agent::Hooks hooks() {
    ofswitch::Agent::Hooks h;
    h.want_flush = [this] { ++flush_requests; };
    h.rules_changed = [this] { rig.udpif->revalidate_all(); };
    return h;
  }
  std::vector<openflow::Message> send(const openflow::Message& m) {
    std::vector<openflow::Message> out;
    agent.handle(session, m,
                 [&](openflow::Bytes b) { out.push_back(openflow::decode(b).value()); });
    return out;
  }
};

}  // namespace

TEST_CASE("a FLOW_MOD changes the cached megaflows it affects within a second",
          "[upcall][revalidator][openflow]") {
  AgentRig r;
  const Mac a = r.a, b = r.b;
  r.rig.start();
  r.rig.miss(2, b, a);
  const dpif::Match ba = r.rig.megaflow(2, b, a);
  REQUIRE(eventually([&] { return r.rig.udpif->counters().installs == 1; }));
  REQUIRE(r.rig.dp->flow(ba)->actions == outputs({1}));

  // eth_dst=a -> output:3, published at the barrier.
  CHECK(r.send(flow_mod(a, 3)).empty());
  CHECK(r.flush_requests == 1);
  const auto t0 = std::chrono::steady_clock::now();
  const auto replies =
      r.send(openflow::Message{openflow::kVersion13, 2, openflow::BarrierRequest{}});
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].type() == openflow::MsgType::kBarrierReply);
  // The rule's megaflow is wider than NORMAL's (no eth_src), so the cached flow is deleted,
  // not modified; either way nothing is sent to port 1 any more.
  const bool fixed = eventually(
      [&] {
        const auto f = r.rig.dp->flow(ba);
        return !f || f->actions == outputs({3});
      },
      1000ms);
  INFO(describe(r.rig.dp->flows()) << "\nafter "
                                   << std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - t0)
                                          .count()
                                   << " ms");
  CHECK(fixed);
  // The next packet installs the rule's megaflow.
  r.rig.miss(2, b, a);
  const dpif::Match to_a = r.rig.megaflow(2, b, a);
  CHECK(std::memcmp(to_a.mask.eth_src, Mac{}.data(), 6) == 0);
  CHECK(eventually([&] {
    const auto f = r.rig.dp->flow(to_a);
    return f && f->actions == outputs({3});
  }));

  // A controller connects: the standalone NORMAL rule goes, only eth_dst=a still forwards.
  r.rig.miss(1, a, b);
  const dpif::Match ab = r.rig.megaflow(1, a, b);
  REQUIRE(eventually([&] { return r.rig.dp->flow(ab).has_value(); }));
  CHECK(r.rig.dp->flow(ab)->actions == outputs({2}));
  r.rig.ofp.set_controller_connected(true);
  r.rig.udpif->revalidate_all();
  CHECK(eventually(
      [&] {
        const auto f = r.rig.dp->flow(ab);
        return !f || f->actions.empty();
      },
      1000ms));
  // The controller's rule stays: its megaflow, if still cached, still outputs to 3.
  const auto kept = r.rig.dp->flow(to_a);
  if (kept) CHECK(kept->actions == outputs({3}));
  CHECK(r.rig.megaflow(2, b, a) == to_a);
}

TEST_CASE(
    "traffic served from the kernel's cache keeps an idle rule alive and is counted to the end",
    "[upcall][revalidator][openflow][timeouts]") {
  AgentRig r;
  const Mac a = r.a, b = r.b;
  r.rig.start();
  auto rule = [&](std::uint8_t command, std::uint16_t idle) {
    openflow::Message m = flow_mod(a, 1);
    auto& f = std::get<openflow::FlowMod>(m.body);
    f.command = command;
    f.idle_timeout = idle;
    f.flags = ofproto::kFlagSendFlowRem;
    f.cookie = 0xa1;
    return m;
  };
  const auto barrier = [&] {
    (void)r.send(openflow::Message{openflow::kVersion13, 9, openflow::BarrierRequest{}});
  };
  CHECK(r.send(rule(0, 3)).empty());  // ADD: eth_dst=a, idle_timeout=3, send_flow_rem
  barrier();
  ofproto::Tables& tables = r.rig.ofp.tables();
  REQUIRE(tables.size() == 2);  // with the standalone NORMAL rule
  const ofproto::RuleId id = tables.rules(0)[0];
  REQUIRE(id->cookie == 0xa1);

  r.rig.miss(2, b, a);
  const dpif::Match to_a = r.rig.megaflow(2, b, a);
  REQUIRE(eventually([&] { return r.rig.dp->flow(to_a).has_value(); }));
  // 4.5 s of packets from the cache, expiry checked every 50 ms (the ConnMgr's timer does
  // it every second): the revalidators' credits keep the idle rule alive. (Idle 3 s, not
  // less: a loaded host may delay a dump well past its second.)
  std::uint64_t hits = 1;  // the missed packet counts too
  const auto until = std::chrono::steady_clock::now() + 4500ms;
  while (std::chrono::steady_clock::now() < until) {
    REQUIRE(r.rig.dp->hit(to_a));
    ++hits;
    std::this_thread::sleep_for(50ms);
    REQUIRE(tables.expire(ofproto::steady_ms()) == 0);
  }
  CHECK(ofproto::steady_ms() - id->counters->used_ms.load() < 2500);  // the dump's last-use time
  CHECK(id->counters->packets.load() >= hits - 25);                   // up to the last dump

  // A few more packets, then the rule is deleted at once: the revalidator deletes the
  // megaflow and credits what the kernel counted since the last dump.
  for (int i = 0; i < 5; ++i, ++hits) REQUIRE(r.rig.dp->hit(to_a));
  CHECK(r.send(rule(3, 0)).empty());  // DELETE
  barrier();
  REQUIRE(eventually([&] { return !r.rig.dp->flow(to_a); }, 1000ms));
  CHECK(id->counters->packets.load() == hits);
  CHECK(id->counters->bytes.load() == hits * 60);
  const auto removed = tables.take_removed();
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].reason == ofproto::RemovedReason::kDelete);

  // Added again with idle_timeout=1 and used once, then left alone: once the dump credited
  // the packet, the rule expires a second after it (the kernel's last-use time).
  CHECK(r.send(rule(0, 1)).empty());
  barrier();
  const ofproto::RuleId again = tables.rules(0)[0];
  r.rig.miss(2, b, a);
  REQUIRE(eventually([&] { return r.rig.dp->flow(to_a).has_value(); }));
  REQUIRE(r.rig.dp->hit(to_a));
  const std::int64_t last = ofproto::steady_ms();
  REQUIRE(eventually([&] { return again->counters->packets.load() == 2; }, 3000ms));  // miss, hit
  std::int64_t gone = 0;
  while (ofproto::steady_ms() - last < 5000 && !gone) {
    std::this_thread::sleep_for(20ms);
    if (tables.expire(ofproto::steady_ms())) gone = ofproto::steady_ms();
  }
  REQUIRE(gone);
  INFO("expired " << gone - last << " ms after the last packet");
  CHECK(gone - last > 990);
  CHECK(gone - last < 2500);
  const auto expired = tables.take_removed();
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].reason == ofproto::RemovedReason::kIdleTimeout);
}

TEST_CASE("TABLE stats count traffic served from the kernel cache",
          "[upcall][revalidator][openflow]") {
  AgentRig r;
  const Mac a = r.a, b = r.b;
  r.rig.start();
  // Table 0: eth_dst=a goes to table 1, which has no rule: a miss there.
  openflow::Message m = flow_mod(a, 1);
  auto& f = std::get<openflow::FlowMod>(m.body);
  f.instructions = {openflow::Instruction::goto_table(1)};
  CHECK(r.send(m).empty());
  (void)r.send(openflow::Message{openflow::kVersion13, 9, openflow::BarrierRequest{}});
  const auto table = [&](std::uint8_t t) {
    auto reply = r.send(openflow::Message{
        openflow::kVersion13, 3, openflow::MultipartRequest{0, openflow::TableStatsRequest{}}});
    REQUIRE(reply.size() == 1);
    const auto& s =
        std::get<openflow::TableStatsReply>(std::get<openflow::MultipartReply>(reply[0].body).body);
    return std::pair<std::uint64_t, std::uint64_t>{s.entries[t].lookup_count,
                                                   s.entries[t].matched_count};
  };
  r.rig.miss(2, b, a);
  const dpif::Match to_a = r.rig.megaflow(2, b, a);
  REQUIRE(eventually([&] { return r.rig.dp->flow(to_a).has_value(); }));
  CHECK(table(0) == std::pair<std::uint64_t, std::uint64_t>{1, 1});  // the missed packet
  CHECK(table(1) == std::pair<std::uint64_t, std::uint64_t>{1, 0});
  REQUIRE(r.rig.dp->hit(to_a, 9));  // nine packets from the cache
  REQUIRE(eventually([&] { return table(1).first == 10; }, 3000ms));
  CHECK(table(0) == std::pair<std::uint64_t, std::uint64_t>{10, 10});
  CHECK(table(1) == std::pair<std::uint64_t, std::uint64_t>{10, 0});
}

// ovs-ofctl add-flows: a FLOW_MOD and a barrier per rule, so a publish (revalidate_all())
// per rule. The revalidator marks the cached flows once per wake-up rather than once per
// publish, and the last rule still reaches the cached megaflow within a second.
TEST_CASE("a burst of FLOW_MOD + BARRIER round trips still fixes cached megaflows in a second",
          "[upcall][revalidator][openflow]") {
  AgentRig r;
  const Mac a = r.a, b = r.b;
  // Rules published while nothing is cached: no ukey to mark, nothing to fix.
  for (int i = 0; i < 20; ++i) {
    CHECK(r.send(flow_mod(host(static_cast<std::uint8_t>(0xe8 + i)), 2)).empty());
    CHECK(r.send(openflow::Message{openflow::kVersion13, 2, openflow::BarrierRequest{}}).size() ==
          1);
  }
  r.rig.start();
  r.rig.miss(2, b, a);
  const dpif::Match ba = r.rig.megaflow(2, b, a);
  REQUIRE(eventually([&] { return r.rig.udpif->counters().installs == 1; }));
  REQUIRE(r.rig.dp->flow(ba)->actions == outputs({1}));

  constexpr int kRules = 500;
  for (int i = 0; i < kRules; ++i) {
    // 200 distinct rules (a repeated one is replaced, still a publish), then eth_dst=a.
    const Mac dst = i == kRules - 1 ? a : host(static_cast<std::uint8_t>(0x20 + i % 200));
    CHECK(r.send(flow_mod(dst, 3)).empty());
    const auto replies =
        r.send(openflow::Message{openflow::kVersion13, 3, openflow::BarrierRequest{}});
    REQUIRE(replies.size() == 1);
    REQUIRE(replies[0].type() == openflow::MsgType::kBarrierReply);
  }
  CHECK(r.rig.ofp.tables().size() >= 20 + 200 + 1);
  const bool fixed = eventually(
      [&] {
        const auto f = r.rig.dp->flow(ba);
        return !f || f->actions == outputs({3});
      },
      1000ms);
  INFO(describe(r.rig.dp->flows()));
  CHECK(fixed);
  // One cached flow, re-translated at most once per wake-up, not once per publish.
  CHECK(r.rig.udpif->counters().revalidated < kRules);
}
