// See samples.h.
#include "samples.h"

namespace vsw::openflow::testing {
namespace {

Bytes hexbytes(std::initializer_list<int> v) {
  Bytes b;
  for (int x : v) b.push_back(uint8_t(x));
  return b;
}

Match tcp_match() {
  Match m;
  m.fields.push_back(OxmField::exact(OxmId::kInPort, 1));
  m.fields.push_back(OxmField::exact(OxmId::kEthType, 0x0800));
  m.fields.push_back(OxmField::exact(OxmId::kIpProto, 6));
  m.fields.push_back(OxmField::masked(OxmId::kIpv4Src, 0x0a000000, 0xff000000));
  m.fields.push_back(OxmField::exact(OxmId::kTcpDst, 80));
  return m;
}

std::vector<Action> all_actions() {
  std::vector<Action> a;
  a.push_back(Action::output(2, 0));
  a.push_back(Action::output(port::kController, 128));
  a.push_back(Action::simple(ActionType::kCopyTtlOut));
  a.push_back(Action::simple(ActionType::kCopyTtlIn));
  a.push_back(Action::simple(ActionType::kSetMplsTtl, 9));
  a.push_back(Action::simple(ActionType::kDecMplsTtl));
  a.push_back(Action::simple(ActionType::kPushVlan, 0x8100));
  a.push_back(Action::simple(ActionType::kPopVlan));
  a.push_back(Action::simple(ActionType::kPushMpls, 0x8847));
  a.push_back(Action::simple(ActionType::kPopMpls, 0x0800));
  a.push_back(Action::simple(ActionType::kSetQueue, 3));
  a.push_back(Action::simple(ActionType::kGroup, 7));
  a.push_back(Action::simple(ActionType::kSetNwTtl, 64));
  a.push_back(Action::simple(ActionType::kDecNwTtl));
  a.push_back(Action::set_field(OxmField::exact(OxmId::kIpv4Dst, 0x0a010101)));
  a.push_back(Action::set_field(OxmField::exact(OxmId::kVlanVid, 0x1000 | 100)));
  a.push_back(Action::set_field(OxmField::exact(OxmId::kReg0, 0xdeadbeef)));
  a.push_back(Action::simple(ActionType::kPushPbb, 0x88e7));
  a.push_back(Action::simple(ActionType::kPopPbb));
  Action exp;
  exp.type = ActionType::kExperimenter;
  exp.experimenter = 0x00002320;
  exp.data = hexbytes({0, 1, 2, 3, 4, 5, 6, 7});
  a.push_back(exp);
  return a;
}

std::vector<Instruction> all_instructions() {
  std::vector<Instruction> in;
  Instruction meter;
  meter.type = InstructionType::kMeter;
  meter.meter_id = 5;
  in.push_back(meter);
  in.push_back(Instruction::apply({Action::output(2), Action::simple(ActionType::kDecNwTtl)}));
  Instruction clear;
  clear.type = InstructionType::kClearActions;
  in.push_back(clear);
  in.push_back(Instruction::write({Action::simple(ActionType::kGroup, 1)}));
  Instruction md;
  md.type = InstructionType::kWriteMetadata;
  md.metadata = 0x1200;
  md.mask = 0xff00;
  in.push_back(md);
  in.push_back(Instruction::goto_table(4));
  return in;
}

// Every basic field at least once, across matches whose prerequisites hold.
std::vector<Match> all_field_matches() {
  using O = OxmField;
  std::vector<Match> ms;
  uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  uint8_t v6m[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0};
  uint8_t mac[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
  uint8_t macm[6] = {0xff, 0xff, 0xff, 0, 0, 0};
  uint8_t mac_pfx[6] = {0x00, 0x11, 0x22, 0, 0, 0};
  uint8_t v6_pfx[16] = {0x20, 0x01, 0x0d, 0xb8};
  Match a;  // L2 + IPv4 + UDP
  a.fields = {O::exact(OxmId::kInPort, 3),
              O::masked(OxmId::kMetadata, 0x100, 0xf00),
              O::exact_bytes(OxmId::kEthDst, mac),
              O::masked_bytes(OxmId::kEthSrc, mac_pfx, macm),
              O::exact(OxmId::kEthType, 0x0800),
              O::exact(OxmId::kVlanVid, 0x1000 | 10),
              O::exact(OxmId::kVlanPcp, 5),
              O::exact(OxmId::kIpDscp, 46),
              O::exact(OxmId::kIpEcn, 2),
              O::exact(OxmId::kIpProto, 17),
              O::exact(OxmId::kIpv4Src, 0xc0a80001),
              O::masked(OxmId::kIpv4Dst, 0xc0a80000, 0xffff0000),
              O::exact(OxmId::kUdpSrc, 5353),
              O::exact(OxmId::kUdpDst, 53),
              O::masked(OxmId::kTunnelId, 0x55, 0xff),
              O::masked(OxmId::kReg0, 1, 0xff),
              O::exact(OxmId(uint8_t(OxmId::kReg0) + 15), 0xabcd)};
  ms.push_back(a);
  Match tcp;
  tcp.fields = {O::exact(OxmId::kEthType, 0x0800), O::exact(OxmId::kIpProto, 6),
                O::exact(OxmId::kTcpSrc, 1024), O::exact(OxmId::kTcpDst, 443)};
  ms.push_back(tcp);
  Match sctp;
  sctp.fields = {O::exact(OxmId::kEthType, 0x86dd),
                 O::exact(OxmId::kIpProto, 132),
                 O::exact(OxmId::kSctpSrc, 9),
                 O::exact(OxmId::kSctpDst, 10),
                 O::masked_bytes(OxmId::kIpv6Src, v6_pfx, v6m),
                 O::exact_bytes(OxmId::kIpv6Dst, v6),
                 O::masked(OxmId::kIpv6Flabel, 0x12345, 0xfffff),
                 O::masked(OxmId::kIpv6Exthdr, 0x4, 0x4)};
  ms.push_back(sctp);
  Match icmp4;
  icmp4.fields = {O::exact(OxmId::kEthType, 0x0800), O::exact(OxmId::kIpProto, 1),
                  O::exact(OxmId::kIcmpv4Type, 8), O::exact(OxmId::kIcmpv4Code, 0)};
  ms.push_back(icmp4);
  Match arp;
  arp.fields = {O::exact(OxmId::kEthType, 0x0806),
                O::exact(OxmId::kArpOp, 1),
                O::masked(OxmId::kArpSpa, 0x0a000000, 0xffffff00),
                O::exact(OxmId::kArpTpa, 0x0a000002),
                O::exact_bytes(OxmId::kArpSha, mac),
                O::masked_bytes(OxmId::kArpTha, mac_pfx, macm)};
  ms.push_back(arp);
  Match nd;
  nd.fields = {O::exact(OxmId::kEthType, 0x86dd),        O::exact(OxmId::kIpProto, 58),
               O::exact(OxmId::kIcmpv6Type, 135),        O::exact(OxmId::kIcmpv6Code, 0),
               O::exact_bytes(OxmId::kIpv6NdTarget, v6), O::exact_bytes(OxmId::kIpv6NdSll, mac)};
  ms.push_back(nd);
  Match na;
  na.fields = {O::exact(OxmId::kEthType, 0x86dd), O::exact(OxmId::kIpProto, 58),
               O::exact(OxmId::kIcmpv6Type, 136), O::exact_bytes(OxmId::kIpv6NdTll, mac)};
  ms.push_back(na);
  Match mpls;
  mpls.fields = {O::exact(OxmId::kEthType, 0x8847), O::exact(OxmId::kMplsLabel, 1000),
                 O::exact(OxmId::kMplsTc, 3), O::exact(OxmId::kMplsBos, 1)};
  ms.push_back(mpls);
  Match pbb;
  pbb.fields = {O::exact(OxmId::kEthType, 0x88e7), O::masked(OxmId::kPbbIsid, 0x123400, 0xffff00)};
  ms.push_back(pbb);
  Match phy;  // in_phy_port alone: Open vSwitch does not support it
  phy.fields = {O::exact(OxmId::kInPort, 3), O::exact(OxmId::kInPhyPort, 3)};
  ms.push_back(phy);
  return ms;
}

MeterBand band(uint16_t type, uint32_t rate) {
  MeterBand b;
  b.type = type;
  b.rate = rate;
  b.burst_size = rate / 10;
  if (type == 2) b.prec_level = 1;
  if (type == 0xffff) b.experimenter = 0x2320;
  return b;
}

Bytes packet() {
  Bytes p = hexbytes({0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x66, 0x77, 0x88, 0x99, 0xaa,
                      0x08, 0x00, 0x45, 0x00, 0x00, 0x14, 0x00, 0x00, 0x40, 0x00, 0x40, 0x3b,
                      0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02});
  return p;
}

}  // namespace

Port sample_port(uint32_t no, const std::string& name) {
  Port p;
  p.port_no = no;
  p.hw_addr = {0x02, 0x00, 0x00, 0x00, 0x00, uint8_t(no)};
  p.name = name;
  p.config = 0;
  p.state = 4;     // LIVE
  p.curr = 0x840;  // 10GB_FD | COPPER
  p.advertised = 0;
  p.supported = 0x840;
  p.curr_speed = 10000000;
  p.max_speed = 10000000;
  return p;
}

TableFeatures sample_table_features(uint8_t table_id) {
  TableFeatures t;
  t.table_id = table_id;
  t.name = "table" + std::to_string(table_id);
  t.metadata_match = ~0ull;
  t.metadata_write = ~0ull;
  t.config = 0;
  t.max_entries = 1000000;
  auto ids = [](uint16_t prop, std::initializer_list<uint16_t> types) {
    TableFeatureProp p;
    p.type = prop;
    for (uint16_t ty : types) p.ids.push_back({ty, 0, {}});
    return p;
  };
  auto oxms = [](uint16_t prop, std::initializer_list<uint8_t> fields) {
    TableFeatureProp p;
    p.type = prop;
    for (uint8_t f : fields)
      p.oxm_ids.push_back(0x80000000u | uint32_t(f) << 9 | oxm_info(OxmId(f)).len);
    return p;
  };
  t.properties.push_back(ids(0, {1, 2, 3, 4, 5, 6}));  // INSTRUCTIONS
  TableFeatureProp next;
  next.type = 2;  // NEXT_TABLES
  for (int n = table_id + 1; n < 4; ++n) next.tables.push_back(uint8_t(n));
  t.properties.push_back(next);
  t.properties.push_back(ids(4, {0, 17, 18, 22, 25}));         // WRITE_ACTIONS
  t.properties.push_back(ids(6, {0, 17, 18, 22, 25}));         // APPLY_ACTIONS
  t.properties.push_back(oxms(8, {0, 3, 4, 5, 10, 11, 12}));   // MATCH
  t.properties.push_back(oxms(10, {0, 3, 4, 5, 10, 11, 12}));  // WILDCARDS
  t.properties.push_back(oxms(12, {3, 4, 11, 12}));            // WRITE_SETFIELD
  t.properties.push_back(oxms(14, {3, 4, 11, 12}));            // APPLY_SETFIELD
  return t;
}

FlowMod nsx_flow_mod(uint32_t i) {
  using O = OxmField;
  FlowMod f;
  f.cookie = 0x1000000 + i;
  f.table_id = uint8_t(i % 8);
  f.priority = uint16_t(100 + i % 1000);
  f.idle_timeout = 0;
  f.match.fields = {O::exact(OxmId::kInPort, 1 + i % 48),
                    O::masked(OxmId::kMetadata, uint64_t(i % 4096) << 32, 0xfff00000000ull),
                    O::masked(OxmId::kReg0, i % 256, 0xff),
                    O::exact(OxmId::kEthType, 0x0800),
                    O::exact(OxmId::kVlanVid, 0x1000 | (i % 4000)),
                    O::exact(OxmId::kIpProto, 6),
                    O::masked(OxmId::kIpv4Src, 0x0a000000 | (i << 8), 0xffffff00),
                    O::exact(OxmId::kIpv4Dst, 0xac100000 | (i & 0xffff)),
                    O::exact(OxmId::kTcpSrc, 1024 + i % 60000),
                    O::exact(OxmId::kTcpDst, 443)};
  f.instructions.push_back(
      Instruction::apply({Action::set_field(O::exact(OxmId(uint8_t(OxmId::kReg0) + 1), i)),
                          Action::set_field(O::exact(OxmId::kIpv4Dst, 0xc0a80000 | (i & 0xffff))),
                          Action::simple(ActionType::kDecNwTtl), Action::output(1 + i % 48, 0)}));
  f.instructions.push_back(Instruction::goto_table(uint8_t(f.table_id + 1)));
  return f;
}

FlowStats nsx_flow_stats(uint32_t i) {
  FlowMod f = nsx_flow_mod(i);
  FlowStats s;
  s.table_id = f.table_id;
  s.duration_sec = 10 + i;
  s.duration_nsec = 500000000;
  s.priority = f.priority;
  s.cookie = f.cookie;
  s.packet_count = i * 3;
  s.byte_count = i * 300;
  s.match = f.match;
  s.instructions = f.instructions;
  return s;
}

std::vector<Sample> samples() {
  std::vector<Sample> s;
  uint32_t xid = 1;
  auto add = [&](std::string name, Body b) {
    s.push_back(Sample{std::move(name), Message{kVersion13, xid++, std::move(b)}});
  };
  add("hello", make_hello(0).body);
  {
    Hello h;
    h.elements.push_back(HelloElement{1, {0x12, 0}, {}});
    h.elements.push_back(HelloElement{7, {}, hexbytes({1, 2, 3})});
    add("hello_multi_element", h);
  }
  add("error", Error{1, 6, 0, hexbytes({4, 20, 0, 8, 0, 0, 0, 1})});  // a whole BARRIER_REQUEST
  add("error_experimenter", Error{0xffff, 3, 0x2320, hexbytes({1, 2})});
  add("echo_request", EchoRequest{hexbytes({'p', 'i', 'n', 'g'})});
  add("echo_reply", EchoReply{hexbytes({'p', 'o', 'n', 'g'})});
  add("experimenter", Experimenter{0x2320, 17, hexbytes({9, 9, 9})});
  add("features_request", FeaturesRequest{});
  add("features_reply", FeaturesReply{0x0000aabbccddeeff, 256, 254, 0, 0x4f, 0});
  add("get_config_request", GetConfigRequest{});
  add("get_config_reply", GetConfigReply{0, 128});
  add("set_config", SetConfig{1, 0xffff});
  {
    PacketIn p;
    p.buffer_id = kNoBuffer;
    p.total_len = uint16_t(packet().size());
    p.reason = 1;
    p.table_id = 2;
    p.cookie = 0x77;
    p.match.fields = {OxmField::exact(OxmId::kInPort, 4)};
    p.data = packet();
    add("packet_in", p);
  }
  {
    FlowRemoved f;
    f.cookie = 9;
    f.priority = 100;
    f.reason = 2;
    f.table_id = 1;
    f.duration_sec = 60;
    f.duration_nsec = 1;
    f.idle_timeout = 10;
    f.packet_count = 5;
    f.byte_count = 500;
    f.match = tcp_match();
    add("flow_removed", f);
  }
  add("port_status", PortStatus{2, sample_port(3, "eth3")});
  {
    PacketOut p;
    p.in_port = port::kController;
    p.actions = {Action::simple(ActionType::kPushVlan, 0x8100),
                 Action::set_field(OxmField::exact(OxmId::kVlanVid, 0x1000 | 5)),
                 Action::output(port::kFlood, 0)};
    p.data = packet();
    add("packet_out", p);
  }
  {
    FlowMod f;
    f.cookie = 5;
    f.cookie_mask = ~0ull;
    f.table_id = 3;
    f.priority = 7;
    f.flags = 1;
    f.match = tcp_match();
    f.instructions = {Instruction::apply(all_actions()), Instruction::goto_table(4)};
    add("flow_mod_all_actions", f);
    f.instructions = all_instructions();
    f.command = uint8_t(FlowModCommand::kModifyStrict);
    add("flow_mod_all_instructions", f);
    int n = 0;
    for (const Match& m : all_field_matches()) {
      FlowMod g;
      g.command = uint8_t(FlowModCommand::kDelete);
      g.table_id = 0xff;
      g.match = m;
      add("flow_mod_fields_" + std::to_string(n++), g);
    }
    add("flow_mod_nsx", nsx_flow_mod(42));
  }
  {
    GroupMod g;
    g.command = 0;
    g.type = 1;  // select
    g.group_id = 10;
    g.buckets.push_back(Bucket{50, port::kAny, kGroupAny, {Action::output(1)}});
    g.buckets.push_back(
        Bucket{50, 2, kGroupAny, {Action::simple(ActionType::kPopVlan), Action::output(2)}});
    add("group_mod", g);
  }
  add("port_mod", PortMod{3, {2, 0, 0, 0, 0, 3}, 1, 1, 0x20});
  add("table_mod", TableMod{1, 3});
  {
    MultipartRequest r;
    r.body = DescRequest{};
    add("mp_desc_request", r);
    FlowStatsRequest f;
    f.table_id = 0xff;
    f.cookie = 5;
    f.cookie_mask = 0xff;
    f.match = tcp_match();
    r.body = f;
    add("mp_flow_request", r);
    AggregateStatsRequest a;
    a.table_id = 1;
    r.body = a;
    add("mp_aggregate_request", r);
    r.body = TableStatsRequest{};
    add("mp_table_request", r);
    r.body = PortStatsRequest{port::kAny};
    add("mp_port_stats_request", r);
    r.body = QueueStatsRequest{1, 0xffffffff};
    add("mp_queue_request", r);
    r.body = GroupStatsRequest{kGroupAll};
    add("mp_group_request", r);
    r.body = GroupDescRequest{};
    add("mp_group_desc_request", r);
    r.body = GroupFeaturesRequest{};
    add("mp_group_features_request", r);
    r.body = MeterStatsRequest{0xffffffff};
    add("mp_meter_request", r);
    r.body = MeterConfigRequest{1};
    add("mp_meter_config_request", r);
    r.body = MeterFeaturesRequest{};
    add("mp_meter_features_request", r);
    r.body = TableFeaturesRequest{};
    add("mp_table_features_request_empty", r);
    r.body = TableFeaturesRequest{{sample_table_features(0)}};
    add("mp_table_features_request_set", r);
    r.body = PortDescRequest{};
    add("mp_port_desc_request", r);
    r.body = MpExperimenter{0x2320, 1, hexbytes({1, 2, 3, 4})};
    add("mp_experimenter_request", r);
  }
  {
    MultipartReply r;
    r.body = DescReply{"vsw project", "software", "vsw 0.1", "0001", "br0"};
    add("mp_desc_reply", r);
    r.flags = kMpReplyMore;
    r.body = FlowStatsReply{{nsx_flow_stats(1), nsx_flow_stats(2)}};
    add("mp_flow_reply", r);
    r.flags = 0;
    r.body = AggregateStatsReply{100, 6400, 3};
    add("mp_aggregate_reply", r);
    r.body = TableStatsReply{{TableStats{0, 3, 100, 90}, TableStats{1, 0, 10, 0}}};
    add("mp_table_reply", r);
    PortStats ps;
    ps.port_no = 1;
    ps.rx_packets = 10;
    ps.tx_packets = 20;
    ps.rx_bytes = 1000;
    ps.tx_bytes = 2000;
    ps.collisions = 1;
    ps.duration_sec = 5;
    r.body = PortStatsReply{{ps}};
    add("mp_port_stats_reply", r);
    r.body = QueueStatsReply{{QueueStats{1, 2, 300, 3, 0, 4, 5}}};
    add("mp_queue_reply", r);
    GroupStats gs;
    gs.group_id = 10;
    gs.ref_count = 1;
    gs.packet_count = 4;
    gs.byte_count = 400;
    gs.bucket_stats = {{2, 200}, {2, 200}};
    r.body = GroupStatsReply{{gs}};
    add("mp_group_reply", r);
    GroupDesc gd;
    gd.type = 0;
    gd.group_id = 10;
    gd.buckets.push_back(Bucket{0, port::kAny, kGroupAny, {Action::output(1)}});
    r.body = GroupDescReply{{gd}};
    add("mp_group_desc_reply", r);
    r.body = GroupFeaturesReply{0xf, 0x5, {100, 100, 0, 100}, {0x1, 0x1, 0, 0x1}};
    add("mp_group_features_reply", r);
    MeterStats ms;
    ms.meter_id = 1;
    ms.flow_count = 2;
    ms.band_stats = {{7, 700}};
    r.body = MeterStatsReply{{ms}};
    add("mp_meter_reply", r);
    r.body = MeterConfigReply{{MeterConfig{0x5, 1, {band(1, 1000), band(2, 2000)}}}};
    add("mp_meter_config_reply", r);
    r.body = MeterFeaturesReply{100, 0x6, 0xf, 2, 8};
    add("mp_meter_features_reply", r);
    r.body = TableFeaturesReply{{sample_table_features(0), sample_table_features(1)}};
    add("mp_table_features_reply", r);
    r.body = PortDescReply{{sample_port(1, "eth1"), sample_port(2, "eth2")}};
    add("mp_port_desc_reply", r);
    r.body = MpExperimenter{0x2320, 2, hexbytes({5, 6, 7, 8, 9, 10, 11, 12})};
    add("mp_experimenter_reply", r);
  }
  add("barrier_request", BarrierRequest{});
  add("barrier_reply", BarrierReply{});
  add("queue_get_config_request", QueueGetConfigRequest{1});
  add("queue_get_config_reply",
      QueueGetConfigReply{
          1,
          {PacketQueue{1, 1, {}},
           PacketQueue{2, 1, {QueueProp{1, 100, 0, {}}, QueueProp{2, 900, 0, {}}}}}});
  add("role_request", RoleRequest{2, 0x10});
  add("role_reply", RoleReply{2, 0x10});
  add("get_async_request", GetAsyncRequest{});
  add("get_async_reply", GetAsyncReply{{3, 0}, {7, 0}, {15, 0}});
  add("set_async", SetAsync{{3, 1}, {7, 1}, {15, 1}});
  add("meter_mod", MeterMod{0, 0x5, 1, {band(1, 1000), band(2, 500), band(0xffff, 10)}});
  return s;
}

}  // namespace vsw::openflow::testing
