// The group table and the translation of group actions: the store's versions and
// counters, ALL (each bucket on a copy of the packet), INDIRECT, SELECT (stable per flow,
// spread over buckets, weights honoured, weight 0 and dead buckets never chosen, a removed
// bucket moves only its own flows, hashed fields in the megaflow), FAST_FAILOVER on port
// liveness and watch_group, chaining and its depth limit, groups in the action set, and the
// megaflow contract over random keys.
#include <arpa/inet.h>

#include <catch2/catch_test_macros.hpp>
#include <cstring>
#include <map>
#include <set>

#include "ofproto/key_map.h"
#include "ofproto/ofproto.h"
#include "test_util.h"

using namespace vsw::ofproto;
using namespace vsw::ofproto::test;
using vsw::openflow::Action;
using vsw::openflow::ActionType;
using vsw::openflow::Instruction;
using vsw::openflow::OxmField;
using vsw::openflow::OxmId;
namespace P = vsw::openflow::port;

namespace {

Action group_action(std::uint32_t id) {
  return Action::simple(ActionType::kGroup, id);
}

GroupBucket bucket(std::vector<Action> actions, std::uint16_t weight = 0,
                   std::uint32_t watch_port = P::kAny,
                   std::uint32_t watch_group = vsw::openflow::kGroupAny) {
  GroupBucket b;
  b.actions = std::move(actions);
  b.weight = weight;
  b.watch_port = watch_port;
  b.watch_group = watch_group;
  return b;
}

Group group(std::uint32_t id, GroupType type, std::vector<GroupBucket> buckets) {
  Group g;
  g.id = id;
  g.type = type;
  g.buckets = std::move(buckets);
  return g;
}

// A secure bridge with trunk ports 1..5 and one rule in table 0 (every packet) whose apply
// actions are given.
struct Bridge {
  Ofproto of{options(FailMode::kSecure)};
  std::vector<PortInfo> ports;
  Bridge() {
    for (std::uint32_t p = 1; p <= 5; ++p) ports.push_back(trunk_port(p));
    REQUIRE(of.set_ports(ports));
  }
  void rule(std::vector<Instruction> ins) {
    REQUIRE(of.tables().add(RuleSpec{0, vsw::classifier::Match{}, 1, 0, std::move(ins)}));
    of.tables().publish();
  }
  void apply(std::vector<Action> actions) { rule({Instruction::apply(std::move(actions))}); }
  void add(Group g) {
    REQUIRE(of.groups().add(std::move(g)));
    of.groups().publish();
  }
  void set_up(std::uint32_t port, bool up) {
    ports[port - 1].up = up;
    REQUIRE(of.set_ports(ports));
  }
  XlateResult run(const vsw_flow_key& k) { return of.translate(k, false); }
};

vsw_flow_key udp_key(std::uint32_t in_port, std::uint16_t sport, std::uint16_t dport = 53) {
  vsw_flow_key k = l2_key(in_port, 0xa1, 0xb2);
  k.ipv4_src = htonl(0x0a000001);
  k.ipv4_dst = htonl(0x0a000002);
  k.ip_proto = 17;
  k.ip_ttl = 64;
  k.tp_src = htons(sport);
  k.tp_dst = htons(dport);
  return k;
}

bool all_ones(const void* p, std::size_t n) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  for (std::size_t i = 0; i < n; ++i)
    if (b[i] != 0xff) return false;
  return true;
}

// The output port of a translation that outputs once.
std::uint32_t out_port(const XlateResult& r) {
  REQUIRE(r.actions.size() == 1);
  const auto* o = std::get_if<vsw::dpif::OutputAction>(&r.actions[0]);
  REQUIRE(o);
  return o->port;
}

}  // namespace

TEST_CASE("group table: staged until publish, modify keeps counters, delete") {
  GroupTable t;
  REQUIRE(t.add(group(1, GroupType::kAll, {bucket({Action::output(1)})})));
  CHECK_FALSE(t.add(group(1, GroupType::kAll, {})));
  CHECK(t.contains(1));
  CHECK(t.snapshot()->find(1) == nullptr);  // not published yet
  t.publish();
  const Group* g = t.snapshot()->find(1);
  REQUIRE(g);
  g->counter->credit(3, 300, 1);
  g->buckets[0].counter->credit(3, 300, 1);
  const auto created = g->created_ms;

  CHECK(t.replace(group(1, GroupType::kSelect,
                        {bucket({Action::output(2)}, 1), bucket({Action::output(3)}, 1)})));
  CHECK_FALSE(t.replace(group(2, GroupType::kAll, {})));
  CHECK(t.snapshot()->find(1)->type == GroupType::kAll);  // the old version until publish
  t.publish();
  g = t.snapshot()->find(1);
  REQUIRE(g);
  CHECK(g->type == GroupType::kSelect);
  CHECK(g->created_ms == created);
  CHECK(g->counter->counters->packets == 3);
  CHECK(g->buckets[0].counter->counters->bytes == 300);  // by position
  CHECK(g->buckets[1].counter->counters->packets == 0);

  CHECK(t.remove(1));
  CHECK_FALSE(t.remove(1));
  CHECK(t.snapshot()->find(1));
  t.publish();
  CHECK(t.snapshot()->find(1) == nullptr);
  t.reclaim();
}

TEST_CASE("ALL: every bucket on a copy of the packet; counters through XlateResult::rules") {
  Bridge b;
  const auto eth_dst = [](std::uint64_t v) {
    return Action::set_field(OxmField::exact(OxmId::kEthDst, v));
  };
  b.add(group(1, GroupType::kAll,
              {bucket({eth_dst(0xa), Action::output(2)}), bucket({Action::output(3)}),
               bucket({Action::simple(ActionType::kPushVlan, 0x8100), Action::output(4)})}));
  // The actions after the group see the packet as it was before it.
  b.apply({group_action(1), Action::output(5)});
  const XlateResult r = b.run(l2_key(1, 1, 2));
  CHECK(text(r.actions) == want("set(eth(dst=00:00:00:00:00:0a)),2,"
                                "set(eth(dst=00:00:00:00:00:02)),3,"
                                "push_vlan(vid=0,pcp=0),4,pop_vlan,5"));
  // The rule, the group, each bucket: credited from datapath stats like rules.
  REQUIRE(r.rules.size() == 5);
  const Group* g = b.of.groups().find(1);
  CHECK(r.rules[1] == g->counter);
  CHECK(r.rules[2] == g->buckets[0].counter);
  CHECK(r.rules[4] == g->buckets[2].counter);
  for (const RuleId& id : r.rules) id->credit(2, 128, 1);
  CHECK(g->counter->counters->packets == 2);
  CHECK(g->buckets[1].counter->counters->bytes == 128);

  // A rewrite before the group is committed once, before the first bucket's output.
  b.apply({eth_dst(0xc), group_action(1)});
  CHECK(text(b.run(l2_key(1, 1, 2)).actions) ==
        want("set(eth(dst=00:00:00:00:00:0a)),2,set(eth(dst=00:00:00:00:00:0c)),3,"
             "push_vlan(vid=0,pcp=0),4"));
}

TEST_CASE("INDIRECT runs its bucket; a dec_ttl that runs out ends only its bucket") {
  Bridge b;
  b.add(group(7, GroupType::kIndirect, {bucket({Action::output(4)})}));
  b.apply({group_action(7)});
  CHECK(text(b.run(l2_key(1, 1, 2)).actions) == want("4"));

  b.add(group(8, GroupType::kAll,
              {bucket({Action::simple(ActionType::kDecNwTtl), Action::output(2)}),
               bucket({Action::output(3)})}));
  b.apply({group_action(8)});
  const XlateResult r = b.run(udp_key(1, 1000));
  CHECK(text(r.actions) == want("set(ipv4(ttl=63)),2,set(ipv4(ttl=64)),3"));
  vsw_flow_key k = udp_key(1, 1000);
  k.ip_ttl = 1;
  const XlateResult expired = b.run(k);
  REQUIRE(expired.actions.size() == 2);  // USERSPACE (INVALID_TTL), then bucket 2's output
  CHECK(std::holds_alternative<vsw::dpif::UserspaceAction>(expired.actions[0]));
  CHECK(text({expired.actions[1]}) == want("3"));
}

TEST_CASE("SELECT: stable per flow, spread, weighted, only live buckets, hashed bits in mask") {
  Bridge b;
  b.add(group(1, GroupType::kSelect,
              {bucket({Action::output(2)}, 1), bucket({Action::output(3)}, 1)}));
  b.apply({group_action(1)});
  std::map<std::uint32_t, int> per_port;
  std::map<std::uint16_t, std::uint32_t> chosen;
  for (std::uint16_t sport = 1000; sport < 1400; ++sport) {
    const XlateResult r = b.run(udp_key(1, sport));
    const std::uint32_t p = out_port(r);
    ++per_port[p];
    chosen[sport] = p;
    CHECK(out_port(b.run(udp_key(1, sport))) == p);  // stable
    // Every hashed field is in the megaflow.
    const vsw_flow_key& m = r.megaflow.mask;
    CHECK(all_ones(&m.tp_src, 2));
    CHECK(all_ones(&m.tp_dst, 2));
    CHECK(all_ones(&m.ipv4_src, 4));
    CHECK(all_ones(&m.ipv4_dst, 4));
    CHECK(m.ip_proto == 0xff);
    CHECK(all_ones(m.eth_src, 6));
    CHECK(all_ones(m.eth_dst, 6));
  }
  CHECK(per_port.size() == 2);
  CHECK(per_port[2] > 120);
  CHECK(per_port[3] > 120);

  // A third bucket takes flows only from the others: no flow moves between buckets 1 and 2.
  REQUIRE(
      b.of.groups().replace(group(1, GroupType::kSelect,
                                  {bucket({Action::output(2)}, 1), bucket({Action::output(3)}, 1),
                                   bucket({Action::output(4)}, 1)})));
  b.of.groups().publish();
  int moved = 0;
  for (const auto& [sport, was] : chosen) {
    const std::uint32_t now = out_port(b.run(udp_key(1, sport)));
    if (now != was) {
      CHECK(now == 4);
      ++moved;
    }
  }
  CHECK(moved > 60);

  // A watched port that goes down takes its bucket out of the choice.
  REQUIRE(b.of.groups().replace(
      group(1, GroupType::kSelect,
            {bucket({Action::output(2)}, 1, 2), bucket({Action::output(3)}, 1, 3)})));
  b.of.groups().publish();
  b.set_up(2, false);
  for (std::uint16_t sport = 1000; sport < 1050; ++sport)
    CHECK(out_port(b.run(udp_key(1, sport))) == 3);
  b.set_up(2, true);

  // Weights: 1 against 3 gives the heavier bucket most flows; weight 0 is never chosen.
  REQUIRE(
      b.of.groups().replace(group(1, GroupType::kSelect,
                                  {bucket({Action::output(2)}, 1), bucket({Action::output(3)}, 3),
                                   bucket({Action::output(4)}, 0)})));
  b.of.groups().publish();
  per_port.clear();
  for (std::uint16_t sport = 1000; sport < 2000; ++sport)
    ++per_port[out_port(b.run(udp_key(1, sport)))];
  CHECK(per_port.count(4) == 0);
  CHECK(per_port[3] > 700);
  CHECK(per_port[2] > 50);

  // No live bucket: nothing happens, with a reason.
  REQUIRE(b.of.groups().replace(group(1, GroupType::kSelect, {bucket({Action::output(2)}, 0)})));
  b.of.groups().publish();
  const XlateResult none = b.run(udp_key(1, 1000));
  CHECK(none.actions.empty());
  CHECK(none.reason == "group 1 has no live bucket");
}

TEST_CASE("FAST_FAILOVER: the first live bucket by watch_port and watch_group") {
  Bridge b;
  b.add(group(1, GroupType::kFastFailover,
              {bucket({Action::output(2)}, 0, 2), bucket({Action::output(3)}, 0, 3)}));
  b.apply({group_action(1)});
  CHECK(text(b.run(l2_key(1, 1, 2)).actions) == want("2"));
  b.set_up(2, false);
  CHECK(text(b.run(l2_key(1, 1, 2)).actions) == want("3"));
  b.set_up(3, false);
  const XlateResult none = b.run(l2_key(1, 1, 2));
  CHECK(none.actions.empty());
  CHECK(none.reason == "group 1 has no live bucket");
  b.set_up(2, true);
  CHECK(text(b.run(l2_key(1, 1, 2)).actions) == want("2"));

  // watch_group: live while the watched group has a live bucket.
  b.add(group(2, GroupType::kFastFailover,
              {bucket({Action::output(4)}, 0, P::kAny, 1), bucket({Action::output(5)}, 0, 5)}));
  b.apply({group_action(2)});
  CHECK(text(b.run(l2_key(1, 1, 2)).actions) == want("4"));
  b.set_up(2, false);  // group 1: no live bucket (3 is down too)
  CHECK(text(b.run(l2_key(1, 1, 2)).actions) == want("5"));
  // A port that is not configured is not live.
  b.add(group(3, GroupType::kFastFailover,
              {bucket({Action::output(4)}, 0, 77), bucket({Action::output(5)}, 0, 5)}));
  b.apply({group_action(3)});
  CHECK(text(b.run(l2_key(1, 1, 2)).actions) == want("5"));
}

TEST_CASE("chaining, loops, groups in the action set, packet-out") {
  Bridge b;
  b.add(group(1, GroupType::kIndirect, {bucket({Action::output(2), group_action(2)})}));
  b.add(group(2, GroupType::kAll, {bucket({Action::output(3)}), bucket({Action::output(4)})}));
  b.apply({group_action(1)});
  CHECK(text(b.run(l2_key(1, 1, 2)).actions) == want("2,3,4"));

  // A loop is cut at 32 groups deep: the packet is dropped with a reason.
  b.add(group(3, GroupType::kIndirect, {bucket({Action::output(2), group_action(3)})}));
  b.apply({group_action(3)});
  XlateResult r = b.run(l2_key(1, 1, 2));
  CHECK(r.actions.empty());
  CHECK(r.reason == "group chaining deeper than 32 groups");

  // In the action set a group runs and the output is ignored (OpenFlow 1.3 5.10).
  b.rule({Instruction::write({Action::output(5), group_action(2)})});
  CHECK(text(b.run(l2_key(1, 1, 2)).actions) == want("3,4"));

  // A PACKET_OUT's actions may name a group.
  r = b.of.translate_actions(l2_key(1, 1, 2), {group_action(2)}, false);
  CHECK(text(r.actions) == want("3,4"));
}

TEST_CASE("groups keep the megaflow contract on random keys") {
  Bridge b;
  b.add(group(
      1, GroupType::kSelect,
      {bucket({Action::output(2)}, 1), bucket({Action::output(3)}, 2),
       bucket({Action::set_field(OxmField::exact(OxmId::kUdpSrc, 9)), Action::output(4)}, 1, 4)}));
  b.add(group(2, GroupType::kFastFailover,
              {bucket({Action::output(5)}, 0, 5), bucket({group_action(1)}, 0, P::kAny, 1)}));
  b.add(group(
      3, GroupType::kAll,
      {bucket({Action::set_field(OxmField::exact(OxmId::kIpv4Dst, 0x01020304)), Action::output(2)}),
       bucket({group_action(2)})}));
  KeyGen gen(seed());
  for (int round = 0; round < 3; ++round) {
    b.apply({group_action(static_cast<std::uint32_t>(round + 1)), Action::output(1)});
    if (round == 1) b.set_up(5, false);
    for (int i = 0; i < 300; ++i) {
      const vsw_flow_key k = gen.key();
      const XlateResult r = b.run(k);
      for (int v = 0; v < 8; ++v) {
        const vsw_flow_key k2 = gen.agreeing(k, r.megaflow.mask);
        INFO("round " << round << " megaflow " << vsw::dpif::format_match(r.megaflow));
        CHECK(text(b.run(k2).actions) == text(r.actions));
      }
    }
  }
}
