// Translation over hand-built rule sets: goto_table, write_metadata, apply/write/clear
// actions and the action set's order, outputs to reserved ports, VLAN push/pop and
// set_field with their megaflow bits, unsupported actions; flow_mod semantics of Tables;
// fail modes; rule counters.
#include <catch2/catch_test_macros.hpp>

#include <cstring>
#include <thread>

#include "classifier/epoch.h"
#include "ofproto/controller_cookie.h"
#include "ofproto/key_map.h"
#include "ofproto/ofproto.h"
#include "test_util.h"

using namespace vsw::ofproto;
using namespace vsw::ofproto::test;
using vsw::openflow::Action;
using vsw::openflow::ActionType;
using vsw::openflow::Instruction;
using vsw::openflow::InstructionType;
using vsw::openflow::OxmField;
using vsw::openflow::OxmId;
namespace P = vsw::openflow::port;

namespace {

Instruction write_metadata(std::uint64_t v, std::uint64_t mask) {
  Instruction i;
  i.type = InstructionType::kWriteMetadata;
  i.metadata = v;
  i.mask = mask;
  return i;
}

Instruction clear_actions() {
  Instruction i;
  i.type = InstructionType::kClearActions;
  return i;
}

Action set(OxmId id, std::uint64_t v) {
  return Action::set_field(OxmField::exact(id, v));
}

// A secure bridge (no implied rule) with trunk ports 1..5.
struct Pipeline {
  Ofproto of{options(FailMode::kSecure)};
  Pipeline() {
    std::vector<PortInfo> ports;
    for (std::uint32_t p = 1; p <= 5; ++p) ports.push_back(trunk_port(p));
    REQUIRE(of.set_ports(ports));
  }
  RuleId add(std::uint8_t table, vsw::classifier::Match m, std::int32_t prio,
             std::vector<Instruction> ins, std::uint64_t cookie = 0) {
    auto r = of.tables().add(RuleSpec{table, m, prio, cookie, std::move(ins)});
    REQUIRE(r);
    return *r;
  }
  XlateResult run(const vsw_flow_key& k) {
    of.tables().publish();
    return of.translate(k, false);
  }
};

vsw_flow_key ipv4_key(std::uint32_t in_port, std::uint8_t proto = 6, std::uint8_t ttl = 64) {
  vsw_flow_key k = l2_key(in_port, 0xa1, 0xb2);
  k.ipv4_src = htonl(0x0a000001);
  k.ipv4_dst = htonl(0x0a000002);
  k.ip_proto = proto;
  k.ip_ttl = ttl;
  k.tp_src = htons(1234);
  k.tp_dst = htons(80);
  return k;
}

bool all_ones(const void* p, std::size_t n) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  for (std::size_t i = 0; i < n; ++i)
    if (b[i] != 0xff) return false;
  return true;
}

}  // namespace

TEST_CASE("goto_table, write_metadata, apply and write actions") {
  Pipeline p;
  const auto r0 = p.add(0, match({OxmField::exact(OxmId::kInPort, 1)}), 10,
                        {Instruction::goto_table(1), Instruction::write({Action::output(3)}),
                         write_metadata(0x5, 0xff)});
  const auto r1 = p.add(1, match({OxmField::exact(OxmId::kMetadata, 5)}), 10,
                        {Instruction::apply({set(OxmId::kEthDst, 0x0a), Action::output(2)})});
  auto r = p.run(l2_key(1, 0xa1, 0xb2));
  CHECK(text(r.actions) == want("set(eth(dst=00:00:00:00:00:0a)),2,3"));
  REQUIRE(r.rules.size() == 2);
  CHECK(r.rules[0] == r0);
  CHECK(r.rules[1] == r1);
  // The megaflow: in_port only (metadata is not a datapath field; eth_dst was written,
  // never read).
  vsw_flow_key want_mask{};
  want_mask.in_port = 0xffffffff;
  CHECK(std::memcmp(&r.megaflow.mask, &want_mask, sizeof want_mask) == 0);
  // Another port misses table 0: dropped silently.
  r = p.run(l2_key(2, 0xa1, 0xb2));
  CHECK(r.actions.empty());
  CHECK(r.reason.empty());
  // Only table 0's miss counter (TABLE stats' lookup count).
  REQUIRE(r.rules.size() == 1);
  CHECK(r.rules[0] == p.of.tables().miss_counter(0));
  CHECK(r.rules[0]->table_id == kAllTables);
}

TEST_CASE("metadata written with a mask steers the next table") {
  Pipeline p;
  p.add(0, match({}), 1, {write_metadata(0xab00, 0xff00), Instruction::goto_table(3)});
  p.add(3, match({OxmField::masked(OxmId::kMetadata, 0xab00, 0xff00)}), 1,
        {Instruction::apply({Action::output(4)})});
  p.add(3, match({}), 0, {Instruction::apply({Action::output(5)})});
  CHECK(text(p.run(l2_key(1, 1, 2)).actions) == want("4"));
}

TEST_CASE("clear_actions empties the action set; a table miss drops it") {
  Pipeline p;
  p.add(0, match({OxmField::exact(OxmId::kInPort, 1)}), 1,
        {Instruction::write({Action::output(4)}), Instruction::goto_table(1)});
  p.add(1, match({}), 1, {clear_actions(), Instruction::write({Action::output(5)})});
  p.add(0, match({OxmField::exact(OxmId::kInPort, 2)}), 1,
        {Instruction::write({Action::output(4)}), Instruction::goto_table(2)});
  CHECK(text(p.run(l2_key(1, 1, 2)).actions) == want("5"));
  CHECK(p.run(l2_key(2, 1, 2)).actions.empty());  // table 2 is empty
}

TEST_CASE("the action set runs in OpenFlow's order, one action per type") {
  Pipeline p;
  p.add(0, match({}), 1,
        {Instruction::write({Action::output(2), Action::simple(ActionType::kPopVlan),
                             set(OxmId::kEthSrc, 0x1), set(OxmId::kEthSrc, 0x2)}),
         Instruction::goto_table(1)});
  p.add(1, match({}), 1, {Instruction::write({Action::output(3)})});
  const auto r = p.run(l2_key(1, 1, 2, tagged(10)));
  CHECK(text(r.actions) == want("set(eth(src=00:00:00:00:00:02)),pop_vlan,3"));
  CHECK(all_ones(&r.megaflow.mask.vlan_tci, 2));
}

TEST_CASE("push_vlan, set_field vlan_vid/pcp and pop_vlan") {
  Pipeline p;
  p.add(0, match({OxmField::exact(OxmId::kInPort, 1)}), 1,
        {Instruction::apply({Action::simple(ActionType::kPushVlan, 0x8100),
                             set(OxmId::kVlanVid, 0x1000 | 7), set(OxmId::kVlanPcp, 3),
                             Action::output(2), Action::simple(ActionType::kPopVlan),
                             Action::output(3)})});
  auto r = p.run(l2_key(1, 1, 2));
  CHECK(text(r.actions) == want("push_vlan(vid=7,pcp=3),2,pop_vlan,3"));
  CHECK(all_ones(&r.megaflow.mask.vlan_tci, 2));
  // Push on a tagged frame (QinQ) is refused: drop with a reason.
  r = p.run(l2_key(1, 1, 2, tagged(5)));
  CHECK(r.actions.empty());
  CHECK(r.reason.find("QinQ") != std::string::npos);
  // set_field vlan_vid/pcp on an existing tag: rewritten in place (its DEI bit stays).
  p.add(0, match({OxmField::exact(OxmId::kInPort, 2)}), 1,
        {Instruction::apply({set(OxmId::kVlanVid, 0x1000 | 9), Action::output(4)})});
  r = p.run(l2_key(2, 1, 2, tagged(5, 6)));
  CHECK(text(r.actions) == want("set(vlan(vid=9)),4"));
  CHECK(all_ones(&r.megaflow.mask.vlan_tci, 2));             // the kernel needs the tag matched
  CHECK(text(p.run(l2_key(2, 1, 2)).actions) == want("4"));  // untagged: nothing to set
  p.add(0, match({OxmField::exact(OxmId::kInPort, 3)}), 1,
        {Instruction::apply({set(OxmId::kVlanPcp, 2), Action::output(4),
                             set(OxmId::kVlanVid, 0x1000 | 5), Action::output(5)})});
  CHECK(text(p.run(l2_key(3, 1, 2, tagged(5, 6))).actions) == want("set(vlan(pcp=2)),4,5"));
}

vsw_flow_key ipv6_key(std::uint32_t in_port, std::uint8_t proto = 17, std::uint8_t hlim = 64) {
  vsw_flow_key k = l2_key(in_port, 0xa1, 0xb2, 0, 0x86dd);
  k.ipv6_src[0] = 0xfd;
  k.ipv6_src[15] = 1;
  k.ipv6_dst[0] = 0xfd;
  k.ipv6_dst[15] = 2;
  k.ip_proto = proto;
  k.ip_ttl = hlim;
  k.ip_tos = 0x01;
  return k;
}

TEST_CASE("set_field on IPv6 and ARP headers, and the IPv6 hop limit") {
  Pipeline p;
  const std::uint8_t a9[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
  p.add(0, match({}), 1,
        {Instruction::apply({Action::set_field(OxmField::exact_bytes(OxmId::kIpv6Src, {a9, 16})),
                             Action::set_field(OxmField::exact_bytes(OxmId::kIpv6Dst, {a9, 16})),
                             set(OxmId::kIpv6Flabel, 0x12345), set(OxmId::kIpDscp, 8),
                             Action::simple(ActionType::kDecNwTtl), set(OxmId::kArpOp, 2),
                             set(OxmId::kArpSpa, 0x0a000009), set(OxmId::kArpTpa, 0x0a000003),
                             set(OxmId::kArpSha, 0xaa), set(OxmId::kArpTha, 0xbb),
                             Action::output(2)})});
  auto r = p.run(ipv6_key(1));
  // DSCP 8 over ECN 1 from the packet: traffic class 0x21; the ECN bits are consulted.
  CHECK(text(r.actions) ==
        want("set(ipv6(src=fd00::9,dst=fd00::9,tclass=33,label=0x12345,hlimit=63)),2"));
  CHECK(all_ones(&r.megaflow.mask.eth_type, 2));
  CHECK(r.megaflow.mask.ip_ttl == 0xff);
  CHECK(r.megaflow.mask.ip_tos == 0x03);
  // The same rule on ARP rewrites the ARP fields only.
  vsw_flow_key arp = l2_key(1, 0xa1, 0xb2, 0, 0x0806);
  arp.arp_op = htons(1);
  r = p.run(arp);
  CHECK(text(r.actions) == want("set(arp(op=2,sha=00:00:00:00:00:aa,tha=00:00:00:00:00:bb,"
                                "sip=10.0.0.9,tip=10.0.0.3)),2"));
  CHECK(all_ones(&r.megaflow.mask.eth_type, 2));
  // IPv6 hop limit 1: exceeded, as for IPv4.
  r = p.run(ipv6_key(1, 17, 1));
  CHECK(r.reason.find("TTL") != std::string::npos);
}

TEST_CASE("set_field on IP and transport headers checks the header is there") {
  Pipeline p;
  p.add(0, match({}), 1,
        {Instruction::apply({set(OxmId::kIpv4Src, 0xc0a80001), set(OxmId::kTcpDst, 8080),
                             set(OxmId::kIpDscp, 46), Action::output(2)})});
  auto r = p.run(ipv4_key(1));
  CHECK(text(r.actions) == want("set(ipv4(src=192.168.0.1,tos=184),l4(dst=8080)),2"));
  CHECK(all_ones(&r.megaflow.mask.eth_type, 2));
  CHECK(r.megaflow.mask.ip_proto == 0xff);
  CHECK(r.megaflow.mask.ipv4_src == 0);  // written, never read
  // UDP: the tcp_dst rewrite does nothing.
  r = p.run(ipv4_key(1, 17));
  CHECK(text(r.actions) == want("set(ipv4(src=192.168.0.1,tos=184)),2"));
  // ARP: no IP header, nothing to rewrite; eth_type still in the mask.
  r = p.run(l2_key(1, 1, 2, 0, 0x0806));
  CHECK(text(r.actions) == want("2"));
  CHECK(all_ones(&r.megaflow.mask.eth_type, 2));
}

TEST_CASE("TTL actions") {
  Pipeline p;
  p.add(0, match({}), 1,
        {Instruction::apply(
            {Action::output(2), Action::simple(ActionType::kDecNwTtl), Action::output(3)})});
  auto r = p.run(ipv4_key(1, 6, 64));
  CHECK(text(r.actions) == want("2,set(ipv4(ttl=63)),3"));
  CHECK(r.megaflow.mask.ip_ttl == 0xff);
  r = p.run(ipv4_key(1, 6, 1));
  // TTL exceeded: nothing after the dec_ttl, the packet goes to the controllers (INVALID_TTL,
  // whole; only those that asked get it).
  REQUIRE(r.actions.size() == 2);
  CHECK(text({r.actions[0]}) == want("2"));
  const auto* u = std::get_if<vsw::dpif::UserspaceAction>(&r.actions[1]);
  REQUIRE(u);
  auto c = decode_controller_cookie(u->cookie);
  REQUIRE(c);
  CHECK(c->reason == PacketInReason::kInvalidTtl);
  CHECK(c->max_len == 0xffff);
  CHECK(r.reason.find("TTL") != std::string::npos);
  CHECK(text(p.run(l2_key(1, 1, 2, 0, 0x0806)).actions) == want("2,3"));
}

TEST_CASE("outputs to ports and reserved ports") {
  Pipeline p;
  p.add(0, match({OxmField::exact(OxmId::kInPort, 1)}), 1,
        {Instruction::apply({Action::output(1), Action::output(P::kInPort),
                             Action::output(P::kLocal), Action::output(9)})});
  p.add(0, match({OxmField::exact(OxmId::kInPort, 2)}), 1,
        {Instruction::apply({Action::output(P::kAll)})});
  p.add(0, match({OxmField::exact(OxmId::kInPort, 3)}), 1,
        {Instruction::apply({Action::output(P::kFlood)})});
  p.add(0, match({OxmField::exact(OxmId::kInPort, 4)}), 1,
        {Instruction::apply({Action::output(2), Action::output(P::kController)})});
  // Output to the input port by number does nothing; port 9 does not exist.
  CHECK(text(p.run(l2_key(1, 1, 2)).actions) == want("1,0"));
  CHECK(text(p.run(l2_key(2, 1, 2)).actions) == want("1,3,4,5"));
  CHECK(text(p.run(l2_key(3, 1, 2)).actions) == want("1,2,4,5"));
  const auto r = p.run(l2_key(4, 1, 2));
  REQUIRE(r.actions.size() == 2);
  CHECK(r.actions[0] == vsw::dpif::Action{vsw::dpif::OutputAction{2}});
  CHECK(std::holds_alternative<vsw::dpif::UserspaceAction>(r.actions[1]));
}

TEST_CASE("output:CONTROLLER is a USERSPACE action whose cookie says what the PACKET_IN reports") {
  Pipeline p;
  // Table 0: in_port=1 writes metadata and goes to table 1, whose rule sends 200 bytes to
  // the controller after rewriting eth_dst; anything else meets table 0's table-miss rule.
  p.add(0, match({OxmField::exact(OxmId::kInPort, 1)}), 10,
        {write_metadata(0xab00, 0xff00), Instruction::goto_table(1)}, 0x11);
  p.add(1, match({}), 5,
        {Instruction::apply(
            {set(OxmId::kEthDst, 0x0000000000bb), Action::output(P::kController, 200)})},
        0x22);
  p.add(0, match({}), 0, {Instruction::apply({Action::output(P::kController)})}, 0x33);

  const auto user = [](const XlateResult& r) {
    REQUIRE(!r.actions.empty());
    const auto* u = std::get_if<vsw::dpif::UserspaceAction>(&r.actions.back());
    REQUIRE(u);
    CHECK(u->pid == 0);
    auto c = decode_controller_cookie(u->cookie);
    REQUIRE(c);
    return *c;
  };
  XlateResult r = p.run(l2_key(1, 1, 2));
  // The rewrite is committed before the packet goes up.
  CHECK(text(r.actions).starts_with("set(eth(dst=00:00:00:00:00:bb)),userspace(pid=0"));
  ControllerCookie c = user(r);
  CHECK(c.reason == PacketInReason::kAction);
  CHECK(c.table_id == 1);
  CHECK(c.rule_cookie == 0x22);
  CHECK(c.max_len == 200);
  CHECK(c.metadata == 0xab00);
  CHECK(r.stable);

  // The table-miss rule: priority 0, empty match = NO_MATCH.
  r = p.run(l2_key(2, 1, 2));
  REQUIRE(r.actions.size() == 1);
  c = user(r);
  CHECK(c == ControllerCookie{PacketInReason::kNoMatch, 0, 0xffff, 0x33, 0});

  // A priority-0 rule with a match is not a table-miss rule.
  p.add(0, match({OxmField::exact(OxmId::kInPort, 3)}), 0,
        {Instruction::apply({Action::output(P::kController, 64)})}, 0x44);
  c = user(p.run(l2_key(3, 1, 2)));
  CHECK(c == ControllerCookie{PacketInReason::kAction, 0, 64, 0x44, 0});
}

TEST_CASE("unsupported actions drop the packet with a reason") {
  Pipeline p;
  // A group that does not exist ends its action list, as in Open vSwitch.
  p.add(0, match({}), 1,
        {Instruction::apply(
            {Action::output(2), Action::simple(ActionType::kGroup, 1), Action::output(3)})});
  auto r = p.run(l2_key(1, 1, 2));
  CHECK(text(r.actions) == want("2"));
  p.add(0, match({}), 1, {Instruction::apply({Action::simple(ActionType::kGroup, 1)})});
  r = p.run(l2_key(1, 1, 2));
  CHECK(r.actions.empty());
  CHECK(r.reason.find("group 1 does not exist") != std::string::npos);
  p.add(0, match({}), 1, {Instruction::apply({set(OxmId::kIcmpv4Type, 3), Action::output(2)})});
  r = p.run(l2_key(1, 1, 2, 0, 0x0806));
  CHECK(r.actions.empty());
  CHECK(r.reason.find("icmpv4_type") != std::string::npos);
}

TEST_CASE("Tables refuse bad instructions") {
  Tables t;
  auto bad = [&](std::uint8_t table, std::vector<Instruction> ins) {
    return t.add(RuleSpec{table, {}, 1, 0, std::move(ins)});
  };
  CHECK(bad(3, {Instruction::goto_table(2)}).error().code == std::errc::invalid_argument);
  CHECK(bad(3, {Instruction::goto_table(3)}).error().code == std::errc::invalid_argument);
  CHECK(bad(1, {Instruction::apply({}), Instruction::apply({})}).error().code ==
        std::errc::invalid_argument);
  Instruction meter;
  meter.type = InstructionType::kMeter;
  CHECK(bad(1, {meter}).error().code == std::errc::operation_not_supported);
  CHECK(bad(255, {}).error().code == std::errc::invalid_argument);
  CHECK(t.size() == 0);
}

TEST_CASE("flow_mod add, modify and delete follow OpenFlow") {
  Tables t;
  using vsw::openflow::FlowMod;
  using vsw::openflow::FlowModCommand;
  auto fm = [](FlowModCommand c, std::uint8_t table, std::vector<OxmField> m, std::uint16_t prio,
               std::vector<Instruction> ins = {}) {
    FlowMod f;
    f.command = static_cast<std::uint8_t>(c);
    f.table_id = table;
    f.match.fields = std::move(m);
    f.priority = prio;
    f.instructions = std::move(ins);
    return f;
  };
  const auto port1 = OxmField::exact(OxmId::kInPort, 1);
  const auto ip = OxmField::exact(OxmId::kEthType, 0x0800);
  const auto out = [](std::uint32_t p) { return Instruction::apply({Action::output(p)}); };

  auto add1 = fm(FlowModCommand::kAdd, 0, {port1}, 10, {out(2)});
  add1.cookie = 0x100;
  REQUIRE(t.apply(add1));
  auto add2 = fm(FlowModCommand::kAdd, 0, {port1, ip}, 20, {out(3)});
  add2.cookie = 0x200;
  REQUIRE(t.apply(add2));
  REQUIRE(t.apply(fm(FlowModCommand::kAdd, 1, {}, 0, {out(4)})));
  CHECK(t.size() == 3);
  t.rules(0)[0]->credit(5, 500, 1);

  // Overlap check: same priority, overlapping match.
  auto overlap = fm(FlowModCommand::kAdd, 0, {ip}, 20, {out(5)});
  overlap.flags = kFlagCheckOverlap;
  CHECK(t.apply(overlap).error().code == std::errc::file_exists);

  // Modify strict keeps the counters; non-strict selects the more specific rules too.
  REQUIRE(t.apply(fm(FlowModCommand::kModifyStrict, 0, {port1, ip}, 20, {out(5)})));
  auto rules = t.rules(0);
  REQUIRE(rules.size() == 2);
  CHECK(rules[0]->priority == 20);
  CHECK(rules[0]->outputs_to(5));
  CHECK(rules[0]->counters->packets == 5);
  CHECK(rules[0]->cookie == 0x200);
  REQUIRE(t.apply(fm(FlowModCommand::kModify, 0, {port1}, 0, {out(6)})));
  for (const auto& r : t.rules(0)) CHECK(r->outputs_to(6));

  // Delete by cookie (non-strict, every table), then by out_port.
  auto del = fm(FlowModCommand::kDelete, kAllTables, {}, 0);
  del.cookie = 0x200;
  del.cookie_mask = 0xf00;
  std::vector<RuleId> removed;
  REQUIRE(t.apply(del, &removed));
  REQUIRE(removed.size() == 1);
  CHECK(removed[0]->priority == 20);
  CHECK(removed[0]->counters->packets == 5);  // still creditable after deletion
  auto del_out = fm(FlowModCommand::kDelete, kAllTables, {}, 0);
  del_out.out_port = 4;
  REQUIRE(t.apply(del_out));
  CHECK(t.size() == 1);
  // Strict delete needs the exact match and priority.
  REQUIRE(t.apply(fm(FlowModCommand::kDeleteStrict, 0, {port1}, 11)));
  CHECK(t.size() == 1);
  REQUIRE(t.apply(fm(FlowModCommand::kDeleteStrict, 0, {port1}, 10)));
  CHECK(t.size() == 0);

  CHECK(t.apply(fm(FlowModCommand::kAdd, kAllTables, {}, 0)).error().code ==
        std::errc::invalid_argument);
  t.publish();
}

TEST_CASE("fail modes install and remove the NORMAL rule") {
  Ofproto of;  // standalone by default
  REQUIRE(of.set_ports({trunk_port(1), trunk_port(2)}));
  CHECK(of.fail_mode() == FailMode::kStandalone);
  CHECK(of.tables().size() == 1);
  CHECK(text(of.translate(l2_key(1, 0xa1, 0xffffffffffff), true).actions) == want("2"));
  of.set_fail_mode(FailMode::kSecure);
  CHECK(of.tables().size() == 0);
  CHECK(of.translate(l2_key(1, 0xa1, 0xffffffffffff), true).actions.empty());
  of.set_fail_mode(FailMode::kStandalone);
  CHECK(of.tables().size() == 1);
  const auto r = of.translate(l2_key(1, 0xa1, 0xffffffffffff), true);
  CHECK(text(r.actions) == want("2"));
  REQUIRE(r.rules.size() == 1);
  const std::int64_t later = r.rules[0]->counters->used_ms + 42;  // it starts at creation
  r.rules[0]->credit(3, 180, later);
  CHECK(r.rules[0]->counters->bytes == 180);
  CHECK(r.rules[0]->counters->used_ms == later);
  CHECK(of.tables().version() >= 3);
}

TEST_CASE("removed rules are freed once no lookup can see them, never earlier") {
  Tables t;
  std::weak_ptr<const Rule> weak;
  {
    auto r = t.add(RuleSpec{0, {}, 1, 7, {}});
    REQUIRE(r);
    weak = *r;
  }
  t.publish();
  vsw::classifier::FlowKey wc;
  const Rule* seen = nullptr;
  {
    vsw::classifier::Epoch::ReadGuard guard;  // a lookup in progress
    seen = t.lookup(0, {}, &wc);
    REQUIRE(seen);
    RuleFilter all;
    CHECK(t.remove(all) == 1);
    // publish() from another thread (a reader here would deadlock a blocking writer; ours
    // does not wait at all).
    std::thread writer([&] { t.publish(); });
    writer.join();
    CHECK(t.reclaim() == 1);  // the guard still holds it
    CHECK(!weak.expired());
    CHECK(seen->cookie == 7);
  }
  CHECK(t.reclaim() == 0);
  CHECK(weak.expired());
  CHECK(t.lookup(0, {}, &wc) == nullptr);
}
