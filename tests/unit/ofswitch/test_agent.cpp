// The agent driven directly by decoded messages: FEATURES, config, DESC, PORT_DESC,
// FLOW_MOD add/modify/delete (strict and not) with the spec's errors, FLOW and AGGREGATE
// stats, barrier-driven publication, and the standalone fail mode's NORMAL rule.
#include <catch2/catch_test_macros.hpp>
#include <variant>

#include "ofswitch/agent.h"
#include "openflow/codec.h"

using namespace vsw;
using namespace vsw::openflow;

namespace {

struct Rig {
  ofproto::Ofproto of;
  int changed = 0;
  int flush_requests = 0;
  bool batched = false;
  ofswitch::Agent agent;
  ofswitch::Session session;
  std::vector<Message> out;

  explicit Rig(bool batch = false, ofproto::FailMode mode = ofproto::FailMode::kSecure)
      : of(options(mode)), batched(batch), agent(of, "br0", hooks()) {
    std::vector<ofproto::PortInfo> ports(3);
    ports[0].ofport = port::kLocal;
    ports[0].name = "br0";
    ports[1].ofport = 1;
    ports[1].name = "eth1";
    ports[1].up = true;
    ports[2].ofport = 2;
    ports[2].name = "eth2";
    ports[2].up = false;
    REQUIRE(of.set_ports(ports));
  }
  static ofproto::Ofproto::Options options(ofproto::FailMode mode) {
    ofproto::Ofproto::Options o;
    o.fail_mode = mode;
    return o;
  }
  ofswitch::Agent::Hooks hooks() {
    ofswitch::Agent::Hooks h;
    h.rules_changed = [this] { ++changed; };
    if (batched) h.want_flush = [this] { ++flush_requests; };
    return h;
  }
  // Sends m; returns the replies.
  std::vector<Message> send(Body body, uint32_t xid = 7) {
    out.clear();
    agent.handle(session, Message{kVersion13, xid, std::move(body)}, [this](Bytes b) {
      auto m = decode(b);
      REQUIRE(m.ok());
      out.push_back(m.value());
    });
    return out;
  }
  // The single reply's error (type, code); (0xffff, 0) if it is not an error.
  std::pair<uint16_t, uint16_t> error_of(Body body) {
    auto r = send(std::move(body));
    if (r.size() != 1 || r[0].type() != MsgType::kError) return {0xffff, 0};
    const auto& e = std::get<openflow::Error>(r[0].body);
    return {e.type, e.code};
  }
  std::vector<FlowStats> dump(uint8_t table = 0xff) {
    FlowStatsRequest req;
    req.table_id = table;
    auto r = send(MultipartRequest{0, req});
    REQUIRE(r.size() == 1);
    return std::get<FlowStatsReply>(std::get<MultipartReply>(r[0].body).body).entries;
  }
};

FlowMod add(uint16_t priority, std::vector<OxmField> match, std::vector<Instruction> ins,
            uint8_t table = 0) {
  FlowMod f;
  f.command = uint8_t(FlowModCommand::kAdd);
  f.table_id = table;
  f.priority = priority;
  f.match.fields = std::move(match);
  f.instructions = std::move(ins);
  return f;
}

OxmField eth_type(uint16_t t) {
  return OxmField::exact(OxmId::kEthType, t);
}

}  // namespace

TEST_CASE("ofswitch: FEATURES, config, DESC and PORT_DESC replies", "[ofswitch]") {
  Rig rig;
  rig.agent.set_datapath_id(0x1234);
  auto r = rig.send(FeaturesRequest{});
  REQUIRE(r.size() == 1);
  const auto& f = std::get<FeaturesReply>(r[0].body);
  CHECK(r[0].xid == 7);
  CHECK(f.datapath_id == 0x1234);
  CHECK(f.n_tables == 255);
  CHECK(f.n_buffers == 0);
  CHECK(f.capabilities == 3);  // FLOW_STATS | TABLE_STATS

  r = rig.send(GetConfigRequest{});
  REQUIRE(r.size() == 1);
  CHECK(std::get<GetConfigReply>(r[0].body).miss_send_len == 128);
  CHECK(rig.send(SetConfig{0, 0xffff}).empty());
  r = rig.send(GetConfigRequest{});
  CHECK(std::get<GetConfigReply>(r[0].body).miss_send_len == 0xffff);

  r = rig.send(MultipartRequest{0, DescRequest{}});
  REQUIRE(r.size() == 1);
  CHECK(std::get<DescReply>(std::get<MultipartReply>(r[0].body).body).dp_desc == "br0");

  r = rig.send(MultipartRequest{0, PortDescRequest{}});
  REQUIRE(r.size() == 1);
  const auto& ports = std::get<PortDescReply>(std::get<MultipartReply>(r[0].body).body).entries;
  REQUIRE(ports.size() == 3);
  CHECK(ports[0].port_no == 1);
  CHECK(ports[0].name == "eth1");
  CHECK(ports[0].state == 0);
  CHECK(ports[1].state == 1);  // LINK_DOWN
  CHECK(ports[2].port_no == port::kLocal);

  // Not implemented yet: refused with the spec's errors, nothing else happens.
  CHECK(rig.error_of(PacketOut{}) == std::pair<uint16_t, uint16_t>{1, 1});  // BAD_TYPE
  CHECK(rig.error_of(MultipartRequest{0, GroupDescRequest{}}) ==
        std::pair<uint16_t, uint16_t>{1, 2});  // BAD_MULTIPART
}

TEST_CASE("ofswitch: derived datapath ids are stable, 48-bit and locally administered",
          "[ofswitch]") {
  const auto a = ofswitch::derived_datapath_id("br0");
  CHECK(a == ofswitch::derived_datapath_id("br0"));
  CHECK(a != ofswitch::derived_datapath_id("br1"));
  CHECK((a >> 48) == 0);
  CHECK(((a >> 40) & 3) == 2);
}

TEST_CASE("ofswitch: FLOW_MOD add, modify, delete, strict and not, with FLOW stats", "[ofswitch]") {
  Rig rig;
  const auto out = [](uint32_t p) { return std::vector{Instruction::apply({Action::output(p)})}; };
  CHECK(rig.send(add(10, {eth_type(0x800)}, out(1))).empty());
  CHECK(rig.send(add(20, {eth_type(0x800), OxmField::exact(OxmId::kIpProto, 6)}, out(2))).empty());
  FlowMod other = add(30, {eth_type(0x806)}, out(port::kFlood));
  other.cookie = 0xab;
  CHECK(rig.send(other).empty());
  CHECK(rig.changed == 3);  // unbatched: each change published
  auto d = rig.dump();
  REQUIRE(d.size() == 3);
  CHECK(d[0].priority == 30);
  CHECK(d[0].cookie == 0xab);
  CHECK(d[0].match.fields.size() == 1);
  CHECK(d[0].instructions == out(port::kFlood));

  // Non-strict modify of eth_type=0x800 selects both IPv4 rules.
  FlowMod mod = add(0, {eth_type(0x800)}, out(port::kLocal));
  mod.command = uint8_t(FlowModCommand::kModify);
  CHECK(rig.send(mod).empty());
  d = rig.dump();
  CHECK(d[1].instructions == out(port::kLocal));
  CHECK(d[2].instructions == out(port::kLocal));
  // Strict modify needs the same priority.
  mod.command = uint8_t(FlowModCommand::kModifyStrict);
  mod.priority = 10;
  mod.instructions = out(1);
  CHECK(rig.send(mod).empty());
  d = rig.dump();
  CHECK(d[1].instructions == out(port::kLocal));
  CHECK(d[2].instructions == out(1));

  // Cookie filter: delete with cookie 0xab/0xff removes only that rule.
  FlowMod del;
  del.command = uint8_t(FlowModCommand::kDelete);
  del.table_id = 0xff;
  del.cookie = 0xab;
  del.cookie_mask = 0xff;
  CHECK(rig.send(del).empty());
  CHECK(rig.dump().size() == 2);
  // Delete strict of priority 20's match removes only it.
  FlowMod ds = add(20, {eth_type(0x800), OxmField::exact(OxmId::kIpProto, 6)}, {});
  ds.command = uint8_t(FlowModCommand::kDeleteStrict);
  CHECK(rig.send(ds).empty());
  d = rig.dump();
  REQUIRE(d.size() == 1);
  CHECK(d[0].priority == 10);
  // FLOW stats filtered by out_port.
  FlowStatsRequest req;
  req.out_port = 2;
  auto r = rig.send(MultipartRequest{0, req});
  CHECK(std::get<FlowStatsReply>(std::get<MultipartReply>(r[0].body).body).entries.empty());
  AggregateStatsRequest agg;
  r = rig.send(MultipartRequest{0, agg});
  CHECK(std::get<AggregateStatsReply>(std::get<MultipartReply>(r[0].body).body).flow_count == 1);
  // Delete everything.
  del.cookie_mask = 0;
  CHECK(rig.send(del).empty());
  CHECK(rig.dump().empty());
}

TEST_CASE("ofswitch: bad FLOW_MODs get the spec's errors and change nothing", "[ofswitch]") {
  Rig rig;
  using E = std::pair<uint16_t, uint16_t>;
  const auto out = [](uint32_t p) { return std::vector{Instruction::apply({Action::output(p)})}; };
  FlowMod f = add(5, {}, out(1));
  f.command = 9;
  CHECK(rig.error_of(f) == E{5, 6});  // FLOW_MOD_FAILED / BAD_COMMAND
  f = add(5, {}, out(1), 0xff);
  CHECK(rig.error_of(f) == E{5, 2});  // BAD_TABLE_ID (ALL is for deletes only)
  f = add(5, {}, out(1));
  f.flags = 0x100;
  CHECK(rig.error_of(f) == E{5, 7});  // BAD_FLAGS
  f = add(5, {}, out(1));
  f.buffer_id = 3;
  CHECK(rig.error_of(f) == E{1, 8});  // BAD_REQUEST / BUFFER_UNKNOWN
  // TCP port without ip_proto: the codec's prerequisite check.
  CHECK(rig.error_of(add(5, {OxmField::exact(OxmId::kTcpDst, 80)}, out(1))) ==
        E{4, 9});  // BAD_MATCH / BAD_PREREQ
  // A field the classifier cannot match.
  CHECK(rig.error_of(add(5, {OxmField::exact(OxmId::kTunnelId, 1)}, out(1))) ==
        E{4, 6});  // BAD_MATCH / BAD_FIELD
  CHECK(rig.error_of(add(5, {}, {Instruction::goto_table(0)}, 3)) ==
        E{3, 2});  // BAD_INSTRUCTION / BAD_TABLE_ID
  Instruction meter;
  meter.type = InstructionType::kMeter;
  meter.meter_id = 1;
  CHECK(rig.error_of(add(5, {}, {meter})) == E{3, 1});  // UNSUP_INST
  CHECK(rig.error_of(add(5, {}, {Instruction::apply({}), Instruction::apply({})})) == E{3, 1});
  CHECK(rig.error_of(add(5, {}, out(5000))) == E{2, 4});  // BAD_ACTION / BAD_OUT_PORT
  CHECK(rig.error_of(add(5, {}, out(port::kTable))) == E{2, 4});
  CHECK(rig.error_of(add(5, {}, {Instruction::apply({Action::simple(ActionType::kGroup, 1)})})) ==
        E{2, 9});  // BAD_OUT_GROUP
  // CHECK_OVERLAP.
  CHECK(rig.send(add(5, {eth_type(0x800)}, out(1))).empty());
  f = add(5, {OxmField::exact(OxmId::kInPort, 1)}, out(2));
  f.flags = 2;                        // OFPFF_CHECK_OVERLAP
  CHECK(rig.error_of(f) == E{5, 3});  // OVERLAP
  CHECK(rig.dump().size() == 1);
  // The error carries the start of the refused message.
  auto r = rig.send(add(5, {}, out(5000)), 0x42);
  REQUIRE(r.size() == 1);
  CHECK(r[0].xid == 0x42);
  const auto& e = std::get<openflow::Error>(r[0].body);
  REQUIRE(e.data.size() == 64);
  CHECK(e.data[1] == 14);  // OFPT_FLOW_MOD
}

TEST_CASE("ofswitch: batched publication; barriers and stats flush first", "[ofswitch]") {
  Rig rig(/*batch=*/true);
  const auto out = [](uint32_t p) { return std::vector{Instruction::apply({Action::output(p)})}; };
  const uint64_t v0 = rig.of.tables().version();
  for (uint16_t i = 0; i < 50; ++i)
    CHECK(rig.send(add(i, {OxmField::exact(OxmId::kInPort, 1 + i % 2)}, out(1))).empty());
  CHECK(rig.flush_requests == 1);  // one request for the whole burst
  CHECK(rig.of.tables().version() == v0);
  CHECK(rig.changed == 0);
  auto r = rig.send(BarrierRequest{});
  REQUIRE(r.size() == 1);
  CHECK(r[0].type() == MsgType::kBarrierReply);
  CHECK(rig.of.tables().version() == v0 + 1);  // one publication
  CHECK(rig.changed == 1);
  rig.agent.flush();  // the owner's timer firing late: nothing left to do
  CHECK(rig.changed == 1);
  CHECK(rig.send(add(60, {}, out(1))).empty());
  CHECK(rig.flush_requests == 2);
  CHECK(rig.dump().size() == 51);  // stats flush too
  CHECK(rig.changed == 2);
}

TEST_CASE("ofswitch: standalone NORMAL rule while no controller is connected", "[ofswitch]") {
  Rig rig(false, ofproto::FailMode::kStandalone);
  auto d = rig.dump();
  REQUIRE(d.size() == 1);
  CHECK(d[0].priority == 0);
  CHECK(d[0].instructions == std::vector{Instruction::apply({Action::output(port::kNormal)})});
  rig.of.set_controller_connected(true);
  CHECK(rig.dump().empty());  // table-miss now drops
  rig.of.set_controller_connected(false);
  CHECK(rig.dump().size() == 1);
  // A controller's own table-miss rule is neither removed nor replaced.
  rig.of.set_controller_connected(true);
  CHECK(rig.send(add(0, {}, {Instruction::apply({Action::output(port::kController)})})).empty());
  rig.of.set_controller_connected(false);
  d = rig.dump();
  REQUIRE(d.size() == 1);
  CHECK(d[0].instructions == std::vector{Instruction::apply({Action::output(port::kController)})});
  // Secure: never a NORMAL rule.
  Rig secure(false, ofproto::FailMode::kSecure);
  CHECK(secure.dump().empty());
  secure.of.set_controller_connected(true);
  secure.of.set_controller_connected(false);
  CHECK(secure.dump().empty());
}
