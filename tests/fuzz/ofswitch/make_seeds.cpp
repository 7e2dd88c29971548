// Writes agent_fuzz's seed corpus: sessions of valid OpenFlow 1.3 messages (rules over
// several tables with goto_table, metadata, set_field, push/pop VLAN, dec_ttl, output to
// ports, NORMAL, CONTROLLER and groups; modifies and deletes; PACKET_OUT; stats requests;
// config and async settings; group, meter and table mods; role requests with generation ids
// and a slave's refused changes; barriers), each encoded by the
// codec so the corpus follows it. Framing as fuzz_agent.cpp reads it.
//   agent_fuzz_seeds DIR
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "openflow/codec.h"

using namespace vsw::openflow;

namespace {

using Session = std::vector<Body>;

OxmField exact(OxmId id, std::uint64_t v) {
  return OxmField::exact(id, v);
}

FlowMod rule(std::uint8_t table, std::uint16_t priority, std::vector<OxmField> match,
             std::vector<Instruction> ins, std::uint8_t command = 0) {
  FlowMod f;
  f.command = command;
  f.table_id = table;
  f.priority = priority;
  f.match.fields = std::move(match);
  f.instructions = std::move(ins);
  return f;
}

Instruction metadata(std::uint64_t v, std::uint64_t m) {
  Instruction i;
  i.type = InstructionType::kWriteMetadata;
  i.metadata = v;
  i.mask = m;
  return i;
}

MultipartRequest mp(MpRequestBody b) {
  return MultipartRequest{0, std::move(b)};
}

std::vector<Session> sessions() {
  using A = Action;
  const auto ipv4 = exact(OxmId::kEthType, 0x0800);
  const auto ipv6 = exact(OxmId::kEthType, 0x86dd);
  std::vector<Session> s;
  // A two-table pipeline: table 0 classifies, table 1 forwards.
  s.push_back(
      {rule(0, 100, {exact(OxmId::kInPort, 1)}, {metadata(7, 0xff), Instruction::goto_table(1)}),
       rule(1, 10, {exact(OxmId::kMetadata, 7), ipv4},
            {Instruction::apply({A::simple(ActionType::kDecNwTtl), A::output(2)})}),
       rule(1, 0, {}, {Instruction::apply({A::output(port::kNormal)})}), BarrierRequest{},
       mp(FlowStatsRequest{}), mp(AggregateStatsRequest{})});
  // Layer 4 matches, a drop, rewrites, VLAN push/pop.
  s.push_back({rule(0, 200, {ipv4, exact(OxmId::kIpProto, 6), exact(OxmId::kTcpDst, 80)}, {}),
               rule(0, 150, {ipv4, exact(OxmId::kIpProto, 17)},
                    {Instruction::apply({A::set_field(exact(OxmId::kUdpDst, 53)),
                                         A::set_field(exact(OxmId::kIpv4Dst, 0x0a000009)),
                                         A::output(port::kInPort)})}),
               rule(0, 120, {exact(OxmId::kVlanVid, 0x1000 | 10)},
                    {Instruction::apply({A::simple(ActionType::kPopVlan), A::output(1)})}),
               rule(0, 110, {exact(OxmId::kInPort, 1)},
                    {Instruction::apply({A::simple(ActionType::kPushVlan, 0x8100),
                                         A::set_field(exact(OxmId::kVlanVid, 0x1000 | 20)),
                                         A::output(2)})}),
               BarrierRequest{}});
  // IPv6 and ARP, controller output, write actions, flood and all.
  s.push_back({rule(0, 90, {ipv6, exact(OxmId::kIpProto, 17)},
                    {Instruction::write({A::output(port::kController, 64)})}),
               rule(0, 80, {exact(OxmId::kEthType, 0x0806), exact(OxmId::kArpOp, 1)},
                    {Instruction::apply({A::output(port::kFlood)})}),
               rule(0, 70, {exact(OxmId::kEthDst, 0xffffffffffff)},
                    {Instruction::apply({A::output(port::kAll)})}),
               SetConfig{0, 0xffff}, BarrierRequest{}});
  // Modify, strict delete, delete by cookie.
  {
    FlowMod add = rule(0, 50, {ipv4}, {Instruction::apply({A::output(1)})});
    add.cookie = 0x42;
    FlowMod mod = rule(0, 50, {ipv4}, {Instruction::apply({A::output(2)})},
                       static_cast<std::uint8_t>(FlowModCommand::kModifyStrict));
    FlowMod del = rule(0xff, 0, {}, {}, static_cast<std::uint8_t>(FlowModCommand::kDelete));
    del.cookie = 0x42;
    del.cookie_mask = ~0ULL;
    s.push_back({add, mod, mp(FlowStatsRequest{}), del, BarrierRequest{}});
  }
  // PACKET_OUT through the pipeline and to a port.
  {
    PacketOut po;
    po.in_port = 1;
    po.actions = {A::output(port::kTable)};
    po.data = {0x02, 0,    0, 0, 0, 2, 0x02, 0,  0, 0, 0, 1, 0x08, 0x06, 0, 1, 8, 0,  6, 4, 0,
               1,    0x02, 0, 0, 0, 0, 1,    10, 0, 0, 1, 0, 0,    0,    0, 0, 0, 10, 0, 0, 2};
    PacketOut po2 = po;
    po2.in_port = port::kController;
    po2.actions = {A::output(2), A::output(port::kNormal)};
    s.push_back({rule(0, 10, {}, {Instruction::apply({A::output(port::kNormal)})}), po, po2,
                 BarrierRequest{}});
  }
  // Groups and meters, async and stats of every kind.
  {
    GroupMod g;
    g.type = 1;  // select
    g.group_id = 5;
    Bucket b1, b2;
    b1.weight = 1;
    b1.actions = {A::output(1)};
    b2.weight = 2;
    b2.actions = {A::output(2)};
    g.buckets = {b1, b2};
    FlowMod uses = rule(0, 60, {ipv4}, {Instruction::apply({A::simple(ActionType::kGroup, 5)})});
    MeterMod mm;
    SetAsync as;
    s.push_back({g, uses, mm, TableMod{}, as, GetAsyncRequest{}, GetConfigRequest{},
                 FeaturesRequest{}, mp(DescRequest{}), mp(TableStatsRequest{}),
                 mp(PortDescRequest{}), mp(GroupDescRequest{}), mp(GroupFeaturesRequest{}),
                 mp(GroupStatsRequest{}), mp(PortStatsRequest{}), mp(MeterFeaturesRequest{}),
                 BarrierRequest{}});
  }
  // Roles: generation ids (a stale one, a bad role), a slave's refused changes, back to equal.
  {
    PacketOut po;
    po.actions = {A::output(1)};
    po.data.assign(60, 0x5a);
    const FlowMod add = rule(0, 30, {ipv4}, {Instruction::apply({A::output(2)})});
    s.push_back({RoleRequest{0, 0}, RoleRequest{2, 5}, add, RoleRequest{3, 4}, RoleRequest{3, 6},
                 add, po, TableMod{}, RoleRequest{7, 6}, SetConfig{1, 64}, GetConfigRequest{},
                 RoleRequest{1, 0}, add, RoleRequest{2, ~0ULL - 1}, RoleRequest{3, 2},
                 RoleRequest{0, 0}, BarrierRequest{}});
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: agent_fuzz_seeds DIR\n");
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  int n = 0;
  for (const Session& session : sessions()) {
    std::string out;
    std::uint32_t xid = 2;  // even: the harness flushes after each message
    for (const Body& b : session) {
      const Bytes m = encode(Message{kVersion13, xid, b});
      xid += 2;
      out.push_back(static_cast<char>(m.size() & 0xff));
      out.push_back(static_cast<char>(m.size() >> 8));
      out.append(m.begin(), m.end());
    }
    const std::filesystem::path path = dir / ("session-" + std::to_string(++n));
    std::ofstream f(path, std::ios::binary);
    f << out;
    if (!f) {
      std::fprintf(stderr, "agent_fuzz_seeds: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  std::printf("%d seeds\n", n);
  return 0;
}
