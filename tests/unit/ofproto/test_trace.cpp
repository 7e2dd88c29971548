// Tracing (ofproto/trace.h): a multi-table pipeline reported table by table (a rule per
// table, goto_table, a table miss), NORMAL traced without learning, the trace's megaflow
// equal to what a real translation installs (hand-built cases and random packets through
// a random-ish pipeline), and the packet description's parser.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cstring>

#include "dpif/flow_text.h"
#include "ofproto/key_map.h"
#include "ofproto/trace.h"
#include "test_util.h"

using namespace vsw::ofproto;
using namespace vsw::ofproto::test;
using Catch::Matchers::ContainsSubstring;
using vsw::openflow::Action;
using vsw::openflow::Instruction;
using vsw::openflow::OxmField;
using vsw::openflow::OxmId;
namespace P = vsw::openflow::port;

namespace {

// A rule whose OpenFlow match is kept too (as FLOW_MOD keeps it), so the trace prints it.
RuleId add(Ofproto& of, std::uint8_t table, std::vector<OxmField> fields, std::int32_t prio,
           std::vector<Instruction> ins, std::uint64_t cookie = 0) {
  vsw::openflow::Match m;
  m.fields = std::move(fields);
  auto cm = from_oxm(m);
  REQUIRE(cm);
  RuleSpec spec{table, *cm, prio, cookie, std::move(ins)};
  spec.oxm = m;
  auto r = of.tables().add(spec);
  REQUIRE(r);
  return *r;
}

std::vector<PortInfo> named_ports() {
  std::vector<PortInfo> ports;
  PortInfo local;
  local.ofport = P::kLocal;
  local.name = "br0";
  ports.push_back(local);
  for (std::uint32_t p = 1; p <= 3; ++p) {
    PortInfo pi = trunk_port(p);
    pi.name = "eth" + std::to_string(p);
    ports.push_back(pi);
  }
  return ports;
}

vsw_flow_key parse(std::string_view text) {
  auto k = parse_trace_flow(text, named_ports());
  INFO(text);
  REQUIRE(k);
  return *k;
}

bool same(const vsw::dpif::Match& a, const vsw::dpif::Match& b) {
  return a == b;
}

}  // namespace

TEST_CASE("trace reports every table of a multi-table pipeline") {
  Ofproto of(options(FailMode::kSecure));
  REQUIRE(of.set_ports(named_ports()));
  add(of, 0, {OxmField::exact(OxmId::kEthType, 0x0800), OxmField::exact(OxmId::kIpProto, 6)}, 100,
      {Instruction::goto_table(1)}, 0x5);
  add(of, 0, {}, 0, {Instruction::apply({Action::output(3)})});
  add(of, 1,
      {OxmField::exact(OxmId::kEthType, 0x0800), OxmField::exact(OxmId::kIpProto, 6),
       OxmField::exact(OxmId::kTcpDst, 80)},
      200, {Instruction::write({Action::output(2)}), Instruction::goto_table(4)}, 0xab);
  add(of, 4, {OxmField::exact(OxmId::kInPort, 1)}, 7,
      {Instruction::apply({Action::set_field(OxmField::exact(OxmId::kEthDst, 0x0a))})});
  of.tables().publish();

  SECTION("a rule per table, goto_table, the action set at the end") {
    const vsw_flow_key k = parse(
        "in_port=eth1,eth(src=00:00:00:00:00:a1,dst=00:00:00:00:00:b2),"
        "ipv4(src=10.0.0.1,dst=10.0.0.2,ttl=64),tcp(src=1234,dst=80)");
    const Trace t = trace(of, k);
    REQUIRE(t.steps.size() == 3);
    CHECK(t.steps[0].table_id == 0);
    CHECK(t.steps[0].matched);
    CHECK(t.steps[0].cookie == 0x5);
    CHECK(t.steps[0].priority == 100);
    CHECK(t.steps[0].match == "tcp");
    CHECK(t.steps[0].instructions == "goto_table:1");
    CHECK(t.steps[1].table_id == 1);
    CHECK(t.steps[1].cookie == 0xab);
    CHECK(t.steps[1].match == "tcp,tp_dst=80");
    CHECK(t.steps[1].instructions == "write_actions(output:2),goto_table:4");
    CHECK(t.steps[2].table_id == 4);
    CHECK(t.steps[2].match == "in_port=1");
    CHECK(t.steps[2].instructions == "set_field:00:00:00:00:00:0a->eth_dst");
    CHECK(t.action_set_ran);
    CHECK(t.action_set == "output:2");
    CHECK(text(t.result.actions) == "set(eth(dst=00:00:00:00:00:0a)),2");
    CHECK(t.final_flow.find("dst=00:00:00:00:00:0a") != std::string::npos);
    CHECK(t.flow.find("tcp(src=1234,dst=80)") != std::string::npos);
    CHECK(t.result.stable);
  }
  SECTION("a table miss ends the pipeline and drops") {
    // TCP to port 22 from eth2: table 0's TCP rule, then nothing in table 1 matches.
    const Trace t = trace(of, parse("in_port=2,ipv4(src=10.0.0.1,dst=10.0.0.2),tcp(dst=22)"));
    REQUIRE(t.steps.size() == 2);
    CHECK(t.steps[0].matched);
    CHECK(t.steps[1].table_id == 1);
    CHECK_FALSE(t.steps[1].matched);
    CHECK_FALSE(t.action_set_ran);
    CHECK(t.result.actions.empty());
    CHECK(t.final_flow.empty());
  }
  SECTION("a catch-all rule has an empty match") {
    const Trace t = trace(of, parse("in_port=LOCAL,arp(op=1)"));
    REQUIRE(t.steps.size() == 1);
    CHECK(t.steps[0].priority == 0);
    CHECK(t.steps[0].match.empty());
    CHECK(text(t.result.actions) == "3");
  }
}

TEST_CASE("trace through NORMAL learns nothing") {
  Ofproto of(options(FailMode::kStandalone));
  REQUIRE(of.set_ports(named_ports()));
  const std::string pkt = "in_port=eth1,eth(src=00:00:00:00:00:a1,dst=00:00:00:00:00:b2)";
  const Trace t = trace(of, parse(pkt));
  REQUIRE(t.steps.size() == 1);
  CHECK(t.steps[0].instructions == "NORMAL");
  REQUIRE(t.steps[0].notes.size() == 1);
  CHECK_THAT(t.steps[0].notes[0], ContainsSubstring("NORMAL: VLAN 0, output to 0,2,3"));
  CHECK(text(t.result.actions) == "0,2,3");  // unknown destination: flood
  CHECK(of.macs().dump().empty());
  CHECK(of.macs().stats().learned == 0);

  // Once b2 is learned for real (on eth3), the trace sends there, and still learns a1 not.
  std::vector<MacTag> changed;
  (void)of.translate(parse("in_port=eth3,eth(src=00:00:00:00:00:b2,dst=00:00:00:00:00:a1)"), true,
                     &changed);
  REQUIRE(of.macs().dump().size() == 1);
  const Trace t2 = trace(of, parse(pkt));
  CHECK(text(t2.result.actions) == "3");
  CHECK(of.macs().dump().size() == 1);
  CHECK_FALSE(of.macs().lookup(0, mac(0xa1)).has_value());
}

TEST_CASE("a trace's megaflow is the one a real translation installs") {
  SECTION("hand-built: NORMAL, and a rule reading IP and TCP fields") {
    Ofproto of(options(FailMode::kStandalone));
    REQUIRE(of.set_ports(named_ports()));
    add(of, 0,
        {OxmField::exact(OxmId::kEthType, 0x0800), OxmField::exact(OxmId::kIpProto, 6),
         OxmField::exact(OxmId::kTcpDst, 80)},
        100, {Instruction::apply({Action::output(2)})});
    of.tables().publish();
    for (const char* pkt :
         {"in_port=1,eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),vlan(vid=10)",
          "in_port=1,eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),"
          "ipv4(src=10.0.0.1,dst=10.0.0.2,ttl=64),tcp(src=5,dst=80)",
          "in_port=2,eth(src=00:00:00:00:00:03,dst=00:00:00:00:00:01),"
          "ipv4(src=10.0.0.1,dst=10.0.0.2,ttl=64),tcp(src=5,dst=81)",
          "in_port=3,eth(src=00:00:00:00:00:04,dst=00:00:00:00:00:03),"
          "ipv6(src=fd00::1,dst=fd00::2),udp(dst=53)"}) {
      INFO(pkt);
      const vsw_flow_key k = parse(pkt);
      const Trace t = trace(of, k);
      const XlateResult real = of.translate(k, true);
      CHECK(same(t.result.megaflow, real.megaflow));
      CHECK(text(t.result.actions) == text(real.actions));
    }
  }
  SECTION("random packets through a pipeline with goto, metadata, rewrites and NORMAL") {
    Ofproto of(options(FailMode::kSecure));
    std::vector<PortInfo> ports;
    for (std::uint32_t p = 1; p <= 4; ++p)
      ports.push_back(p % 2 ? trunk_port(p) : access_port(p, 10));
    REQUIRE(of.set_ports(ports));
    add(of, 0, {OxmField::exact(OxmId::kInPort, 1)}, 10,
        {Instruction::goto_table(1), Instruction::write({Action::output(P::kNormal)})});
    add(of, 0, {OxmField::exact(OxmId::kEthType, 0x0800)}, 5,
        {Instruction::apply({Action::simple(vsw::openflow::ActionType::kDecNwTtl)}),
         Instruction::goto_table(2)});
    add(of, 0, {}, 0, {Instruction::apply({Action::output(P::kNormal)})});
    add(of, 1, {OxmField::masked(OxmId::kEthSrc, 0x000000000001, 0x000000000001)}, 3,
        {Instruction::apply({Action::output(4)})});
    add(of, 2,
        {OxmField::exact(OxmId::kEthType, 0x0800),
         OxmField::masked(OxmId::kIpv4Dst, 0x0a000000, 0xffffff00)},
        3,
        {Instruction::apply(
            {Action::set_field(OxmField::exact(OxmId::kIpv4Src, 0x01020304)), Action::output(3)})});
    of.tables().publish();
    KeyGen gen(seed());
    unsigned compared = 0;
    for (int i = 0; i < 2000; ++i) {
      vsw_flow_key k = gen.key();
      const Trace before = trace(of, k);
      const XlateResult real = of.translate(k, true);
      // After the real translation learned the source, a trace sees what it saw. (Before,
      // the actions may differ when eth_src == eth_dst: learning the source decides where
      // the destination is.)
      const Trace after = trace(of, k);
      INFO("seed " << seed() << " key " << packet_text(k));
      CHECK(same(before.result.megaflow, real.megaflow));
      CHECK(same(after.result.megaflow, real.megaflow));
      CHECK(text(after.result.actions) == text(real.actions));
      ++compared;
    }
    CHECK(compared == 2000);
    CHECK(of.macs().stats().learned > 0);  // the real translations did learn meanwhile
  }
}

TEST_CASE("trace flows: in_port by number, name or LOCAL; EtherType implied; errors") {
  CHECK(parse("in_port=2").in_port == 2);
  CHECK(parse("in_port=eth3").in_port == 3);
  CHECK(parse("in_port=LOCAL").in_port == 0);
  CHECK(parse("in_port=br0").in_port == 0);
  CHECK(parse("in_port(2)").in_port == 2);  // vsw-dpctl's form: a datapath port number
  const vsw_flow_key v4 = parse("in_port=1,ipv4(src=10.0.0.1)");
  CHECK(ntohs(v4.eth_type) == 0x0800);
  CHECK(ntohl(v4.ipv4_src) == 0x0a000001);
  CHECK(ntohs(parse("in_port=1,tcp(dst=80)").eth_type) == 0x0800);
  CHECK(parse("in_port=1,tcp(dst=80)").ip_proto == 6);
  CHECK(ntohs(parse("in_port=1,ipv6(dst=fd00::1),udp(dst=53)").eth_type) == 0x86dd);
  CHECK(ntohs(parse("in_port=1,arp(op=2)").eth_type) == 0x0806);
  CHECK(ntohs(parse("in_port=1,eth_type(0x88cc),ipv4(src=1.2.3.4)").eth_type) == 0x88cc);
  // packet_text() parses back to the same packet.
  const vsw_flow_key k = parse(
      "in_port=1,eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),vlan(vid=5,pcp=3),"
      "ipv4(src=10.0.0.1,dst=10.0.0.2,tos=4,ttl=9),udp(src=1,dst=2)");
  const vsw_flow_key back = parse(packet_text(k));
  CHECK(std::memcmp(&k, &back, sizeof k) == 0);

  struct Bad {
    const char* text;
    int code;
    const char* says;
  };
  for (const Bad& b : std::vector<Bad>{
           {"eth(src=00:00:00:00:00:01)", EINVAL, "needs an input port"},
           {"in_port=eth9", ENOENT, "no port 'in_port=eth9'"},
           {"in_port=7", ENOENT, "no port 'in_port=7'"},
           {"in_port=", EINVAL, "in_port needs"},
           {"in_port=1,in_port=2", EINVAL, "twice"},
           {"in_port=1,bogus(3)", EINVAL, "bogus"},
           {"in_port=1,ipv4(src=10.0.0.300)", EINVAL, "10.0.0.300"},
       }) {
    INFO(b.text);
    auto r = parse_trace_flow(b.text, named_ports());
    REQUIRE_FALSE(r);
    CHECK(r.error().code.value() == b.code);
    CHECK_THAT(r.error().message, ContainsSubstring(b.says));
    CHECK(r.error().message.find('\n') == std::string::npos);
  }
}
