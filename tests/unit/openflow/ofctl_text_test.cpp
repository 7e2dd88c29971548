// The ovs-ofctl text forms (openflow/print_ofctl.h): fixed expectations for representative
// flows (IPv6 prefixes, reserved ports, VLANs, masks, every instruction), then the same
// flows encoded as one FLOW stats reply and printed by Debian's `ovs-ofctl ofp-print`,
// compared line by line with ofctl_flow_stats(). Also the message printer's text forms
// (print.h) and vsw-ofp-print's refusal of unreadable input.
#include <catch2/catch_test_macros.hpp>

#include <arpa/inet.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "openflow/codec.h"
#include "openflow/print.h"
#include "openflow/print_ofctl.h"

using namespace vsw::openflow;

namespace {

OxmField ipv6(OxmId id, const char* addr, int prefix = 128) {
  std::array<uint8_t, 16> v{}, m{};
  REQUIRE(inet_pton(AF_INET6, addr, v.data()) == 1);
  for (int i = 0; i < 16; ++i) {
    const int bits = std::min(8, std::max(0, prefix - i * 8));
    m[static_cast<std::size_t>(i)] = static_cast<uint8_t>(0xff00 >> bits);
    v[static_cast<std::size_t>(i)] &= m[static_cast<std::size_t>(i)];
  }
  if (prefix == 128) return OxmField::exact_bytes(id, ByteSpan(v.data(), 16));
  return OxmField::masked_bytes(id, ByteSpan(v.data(), 16), ByteSpan(m.data(), 16));
}

Instruction write_metadata(uint64_t v, uint64_t m) {
  Instruction i;
  i.type = InstructionType::kWriteMetadata;
  i.metadata = v;
  i.mask = m;
  return i;
}

Instruction clear_actions() {
  Instruction i;
  i.type = InstructionType::kClearActions;
  return i;
}

struct Case {
  FlowStats fs;
  std::string line;  // what we expect (and ovs-ofctl prints)
};

FlowStats flow(uint16_t priority, std::vector<OxmField> match, std::vector<Instruction> ins) {
  FlowStats fs;
  fs.priority = priority;
  fs.match.fields = std::move(match);
  fs.instructions = std::move(ins);
  return fs;
}

std::vector<Case> cases() {
  using A = Action;
  using I = Instruction;
  using F = OxmField;
  std::vector<Case> c;
  {
    FlowStats fs = flow(100,
                        {F::exact(OxmId::kEthType, 0x0800), F::exact(OxmId::kIpProto, 6),
                         F::exact(OxmId::kTcpDst, 80)},
                        {});
    fs.duration_sec = 1;
    fs.duration_nsec = 234'000'000;
    c.push_back({fs,
                 " cookie=0x0, duration=1.234s, table=0, n_packets=0, n_bytes=0, "
                 "priority=100,tcp,tp_dst=80 actions=drop"});
  }
  {
    FlowStats fs = flow(0x8000, {}, {I::apply({A::output(port::kNormal)})});
    fs.cookie = 0x5;
    fs.table_id = 3;
    fs.packet_count = 12;
    fs.byte_count = 3456;
    fs.duration_sec = 7;
    c.push_back({fs,
                 " cookie=0x5, duration=7s, table=3, n_packets=12, n_bytes=3456, "
                 "actions=NORMAL"});
  }
  c.push_back({flow(10,
                    {F::exact(OxmId::kEthType, 0x86dd), ipv6(OxmId::kIpv6Src, "fd00::", 32),
                     ipv6(OxmId::kIpv6Dst, "fd00:1::1")},
                    {I::apply({A::output(port::kController, 128), A::output(port::kLocal),
                               A::output(port::kInPort)})}),
               " cookie=0x0, duration=0s, table=0, n_packets=0, n_bytes=0, "
               "priority=10,ipv6,ipv6_src=fd00::/32,ipv6_dst=fd00:1::1 "
               "actions=CONTROLLER:128,LOCAL,IN_PORT"});
  c.push_back(
      {flow(20,
            {F::exact(OxmId::kInPort, 1), F::exact(OxmId::kVlanVid, 0x1000 | 10),
             F::masked(OxmId::kEthSrc, 0x020000000000, 0x020000000000),
             F::exact(OxmId::kEthType, 0x0800), F::masked(OxmId::kIpv4Src, 0x0a000000, 0xff000000),
             F::masked(OxmId::kIpv4Dst, 0x0a000001, 0xff0000ff), F::exact(OxmId::kIpProto, 17),
             F::exact(OxmId::kUdpSrc, 53)},
            {I::apply({A::simple(ActionType::kPopVlan),
                       A::set_field(F::exact(OxmId::kIpv4Dst, 0x0a010101)),
                       A::simple(ActionType::kDecNwTtl), A::simple(ActionType::kSetNwTtl, 9),
                       A::output(2)}),
             I::goto_table(4)}),
       " cookie=0x0, duration=0s, table=0, n_packets=0, n_bytes=0, "
       "priority=20,udp,in_port=1,dl_vlan=10,dl_src=02:00:00:00:00:00/"
       "02:00:00:00:00:00,nw_src=10.0.0.0/8,nw_dst=10.0.0.1/255.0.0.255,tp_src=53 "
       "actions=pop_vlan,set_field:10.1.1.1->ip_dst,dec_ttl,mod_nw_ttl:9,output:2,"
       "goto_table:4"});
  c.push_back({flow(30, {F::exact(OxmId::kVlanVid, 0)},
                    {I::apply({A::simple(ActionType::kPushVlan, 0x8100),
                               A::set_field(F::exact(OxmId::kVlanVid, 0x1000 | 5)),
                               A::output(port::kFlood)})}),
               " cookie=0x0, duration=0s, table=0, n_packets=0, n_bytes=0, "
               "priority=30,vlan_tci=0x0000/0x1fff actions=push_vlan:0x8100,"
               "set_field:4101->vlan_vid,FLOOD"});
  {
    FlowStats fs = flow(
        40,
        {F::exact(OxmId::kMetadata, 0x5), F::exact(OxmId::kEthType, 0x0806),
         F::exact(OxmId::kArpOp, 1), F::exact(OxmId::kArpTpa, 0xc0a80001)},
        {clear_actions(), I::write({A::output(3), A::set_field(F::exact(OxmId::kEthDst, 0xa))}),
         write_metadata(0x1, 0xff), I::goto_table(9)});
    fs.idle_timeout = 10;
    fs.hard_timeout = 60;
    fs.flags = 1 | 4;
    c.push_back({fs,
                 " cookie=0x0, duration=0s, table=0, n_packets=0, n_bytes=0, idle_timeout=10, "
                 "hard_timeout=60, send_flow_rem reset_counts priority=40,arp,metadata=0x5,"
                 "arp_tpa=192.168.0.1,arp_op=1 actions=clear_actions,write_actions(output:3,"
                 "set_field:00:00:00:00:00:0a->eth_dst),write_metadata:0x1/0xff,goto_table:9"});
  }
  c.push_back(
      {flow(50,
            {F::exact(OxmId::kEthType, 0x86dd), F::exact(OxmId::kIpProto, 58),
             F::exact(OxmId::kIcmpv6Type, 135), ipv6(OxmId::kIpv6NdTarget, "2001:db8::1:0:0:1")},
            {I::apply({A::output(port::kAll)})}),
       " cookie=0x0, duration=0s, table=0, n_packets=0, n_bytes=0, "
       "priority=50,icmp6,icmp_type=135,nd_target=2001:db8::1:0:0:1 actions=ALL"});
  c.push_back({flow(60,
                    {F::exact(OxmId::kEthType, 0x0800), F::exact(OxmId::kIpDscp, 46),
                     F::exact(OxmId::kIpProto, 1), F::exact(OxmId::kIcmpv4Type, 8),
                     F::masked(OxmId::kReg0 /* reg0 */, 0x5, 0xff)},
                    {I::apply({A::simple(ActionType::kGroup, 7)})}),
               " cookie=0x0, duration=0s, table=0, n_packets=0, n_bytes=0, "
               "priority=60,icmp,reg0=0x5/0xff,nw_tos=184,icmp_type=8 actions=group:7"});
  c.push_back({flow(70, {F::exact(OxmId::kEthType, 0x88cc)}, {I::apply({})}),
               " cookie=0x0, duration=0s, table=0, n_packets=0, n_bytes=0, "
               "priority=70,dl_type=0x88cc actions=drop"});
  return c;
}

std::string hex(const Bytes& b) {
  std::string s;
  char buf[3];
  for (uint8_t c : b) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    s += buf;
  }
  return s;
}

}  // namespace

TEST_CASE("ovs-ofctl text: matches, actions and flow stats lines") {
  for (const Case& c : cases()) CHECK(ofctl_flow_stats(c.fs) == c.line);
  CHECK(ofctl_port(port::kController) == "CONTROLLER");
  CHECK(ofctl_port(port::kAny) == "ANY");
  CHECK(ofctl_port(7) == "7");
  CHECK(ofctl_duration(2, 500'000) == "2.0005");
  const std::array<uint8_t, 16> v6 = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  CHECK(ipv6_text(v6.data()) == "fd00::1");
}

TEST_CASE("ovs-ofctl text: Debian's ovs-ofctl prints the same FLOW stats reply") {
  const auto all = cases();
  MultipartReply r;
  FlowStatsReply body;
  for (const Case& c : all) body.entries.push_back(c.fs);
  r.body = body;
  Message m;
  m.xid = 2;
  m.body = r;
  const std::string cmd = "ovs-ofctl ofp-print " + hex(encode(m)) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::vector<std::string> lines;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) {
    std::string line(buf);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    lines.push_back(line);
  }
  REQUIRE(pclose(p) == 0);
  REQUIRE(lines.size() == all.size() + 1);
  CHECK(lines[0].starts_with("OFPST_FLOW reply (OF1.3)"));
  for (std::size_t i = 0; i < all.size(); ++i) {
    INFO("flow " << i);
    CHECK(lines[i + 1] == ofctl_flow_stats(all[i].fs));
  }
}

TEST_CASE("message text forms: RFC 5952 IPv6, prefixes as /N, commands and ports by name") {
  FlowMod fm;
  fm.command = 3;  // DELETE
  fm.out_port = port::kController;
  fm.match.fields = {OxmField::exact(OxmId::kEthType, 0x86dd), ipv6(OxmId::kIpv6Src, "fd00::", 32),
                     ipv6(OxmId::kIpv6Dst, "fd00:0:0:1::2")};
  fm.instructions = {Instruction::apply(
      {Action::output(port::kController, 128), Action::output(port::kLocal), Action::output(3)})};
  Message m;
  m.xid = 9;
  m.body = fm;
  const std::string t = to_text(m);
  INFO(t);
  CHECK(t.find("command=DELETE ") != std::string::npos);
  CHECK(t.find("out_port=CONTROLLER") != std::string::npos);
  CHECK(t.find("ipv6_src=fd00::/32,ipv6_dst=fd00:0:0:1::2") != std::string::npos);
  CHECK(t.find("instructions=CONTROLLER:128,LOCAL,output:3") != std::string::npos);
  fm.command = 0;
  m.body = fm;
  CHECK(to_text(m).find("command=ADD ") != std::string::npos);
  // JSON names them too (as strings); other ports stay numbers; addresses are RFC 5952.
  const std::string j = to_json(m);
  CHECK(j.find("\"command\":\"ADD\"") != std::string::npos);
  CHECK(j.find("\"out_port\":\"CONTROLLER\"") != std::string::npos);
  CHECK(j.find("{\"type\":\"output\",\"port\":\"CONTROLLER\",\"max_len\":128}") !=
        std::string::npos);
  CHECK(j.find("{\"type\":\"output\",\"port\":3,") != std::string::npos);
  CHECK(j.find("\"ipv6_src\":{\"value\":\"fd00::\",\"mask\":\"ffff:ffff::\"}") !=
        std::string::npos);
  GroupMod gm;
  gm.command = 2;
  Message g;
  g.body = gm;
  CHECK(to_text(g).find("command=DELETE") != std::string::npos);
}

TEST_CASE("vsw-ofp-print given a directory or a missing file: one line, exit 2") {
  for (const std::string& input : {std::string("/tmp"), std::string("/nonexistent/vsw-x")}) {
    const std::string cmd = std::string(VSW_OFP_PRINT) + " " + input + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    const int st = pclose(p);
    INFO(out);
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 2);
    CHECK(out.starts_with("vsw-ofp-print: "));
    CHECK(out.find(input) != std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  }
}
