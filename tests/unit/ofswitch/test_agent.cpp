// The agent driven directly by decoded messages: FEATURES, config, DESC, PORT_DESC, PORT_STATS,
// FLOW_MOD add/modify/delete (strict and not) with the spec's errors, FLOW and AGGREGATE
// stats, barrier-driven publication, the standalone fail mode's NORMAL rule, PACKET_OUT, PACKET_IN
// from a translation's controller cookie, SET_ASYNC/GET_ASYNC, TABLE_MOD and the answers of a
// switch without meters or queues.
#include <arpa/inet.h>

#include <catch2/catch_test_macros.hpp>
#include <cstring>
#include <optional>
#include <span>
#include <variant>

#include "dpif/flow.h"
#include "ofproto/controller_cookie.h"
#include "ofswitch/agent.h"
#include "openflow/codec.h"
#include "rig.h"

using namespace vsw;
using namespace vsw::openflow;
using namespace vsw::ofswitch::test;

namespace {

struct Executed {
  vsw_flow_key key;
  dpif::Actions actions;
  Bytes packet;
};

struct Rig {
  ofproto::Ofproto of;
  int changed = 0;
  std::vector<Executed> executed;           // Hooks::execute calls
  std::vector<ofproto::MacTag> relearned;   // Hooks::macs_changed tags
  std::optional<vsw::Error> execute_error;  // what Hooks::execute answers (none: success)
  int flush_requests = 0;
  bool batched = false;
  ofswitch::Agent agent;
  ofswitch::Session session;
  std::vector<Message> out;
  std::vector<ofswitch::PortCounters> port_counters;  // Hooks::port_stats (empty: none)

  explicit Rig(bool batch = false, ofproto::FailMode mode = ofproto::FailMode::kSecure)
      : of(options(mode)), batched(batch), agent(of, "br0", hooks()) {
    std::vector<ofproto::PortInfo> ports = three_ports();
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
    h.execute = [this](const vsw_flow_key& key, const dpif::Actions& actions,
                       std::span<const std::uint8_t> packet) -> vsw::Result<void> {
      executed.push_back({key, actions, Bytes(packet.begin(), packet.end())});
      if (execute_error) return *execute_error;
      return {};
    };
    h.macs_changed = [this](const std::vector<ofproto::MacTag>& tags) {
      relearned.insert(relearned.end(), tags.begin(), tags.end());
    };
    if (!port_counters.empty()) h.port_stats = [this] { return port_counters; };
    return h;
  }
  // Sends m; returns the replies.
  std::vector<Message> send(Body body, uint32_t xid = 7) {
    out = handle(agent, session, std::move(body), xid);
    return out;
  }
  // The single reply's error (type, code); (0xffff, 0) if it is not an error.
  std::pair<uint16_t, uint16_t> error_of(Body body) { return error_code(send(std::move(body))); }
  std::vector<FlowStats> dump(uint8_t table = 0xff) {
    FlowStatsRequest req;
    req.table_id = table;
    return multipart_body<FlowStatsReply>(send(MultipartRequest{0, req})).entries;
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
  CHECK(f.capabilities == 11);  // FLOW_STATS | TABLE_STATS | GROUP_STATS

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

  // No groups yet: an empty GROUP_DESC.
  r = rig.send(MultipartRequest{0, GroupDescRequest{}});
  REQUIRE(r.size() == 1);
  CHECK(std::get<GroupDescReply>(std::get<MultipartReply>(r[0].body).body).entries.empty());
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
        E{2, 9});  // BAD_OUT_GROUP: no group 1
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

namespace {

// The packet a translation sends to the controllers, as the ACTION upcall brings it back:
// the cookie of the USERSPACE action the tables produced for `key`, the key's in_port and
// `packet`.
ofproto::ControllerPacket to_controller(Rig& rig, const vsw_flow_key& key,
                                        std::vector<std::uint8_t> packet) {
  rig.agent.flush();
  const ofproto::XlateResult x = rig.of.translate(key, false);
  REQUIRE(!x.actions.empty());
  const auto* u = std::get_if<dpif::UserspaceAction>(&x.actions.back());
  REQUIRE(u);
  auto c = ofproto::decode_controller_cookie(u->cookie);
  REQUIRE(c);
  return {*c, key.in_port, std::move(packet)};
}

vsw_flow_key key_on(std::uint32_t dp_port) {
  vsw_flow_key k{};
  k.in_port = dp_port;
  k.eth_type = htons(0x0800);
  return k;
}

std::vector<std::uint8_t> numbered(std::size_t n) {
  std::vector<std::uint8_t> f(n);
  for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<std::uint8_t>(i);
  return f;
}

PacketIn decoded(const Bytes& b) {
  auto m = decode(b);
  REQUIRE(m.ok());
  REQUIRE(m.value().type() == MsgType::kPacketIn);
  return std::get<PacketIn>(m.value().body);
}

constexpr uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr uint8_t kHostA[6] = {0x02, 0, 0, 0, 0, 0x0a};
constexpr uint8_t kHostB[6] = {0x02, 0, 0, 0, 0, 0x0b};

// An Ethernet frame: dst, src, optional 802.1Q tag, type, then `payload` zero bytes; an
// IPv4 type gets a 20-byte UDP-carrying header first.
Bytes frame(const uint8_t* dst, const uint8_t* src, uint16_t type, std::size_t payload = 26,
            std::optional<uint16_t> tci = std::nullopt) {
  Bytes b(dst, dst + 6);
  b.insert(b.end(), src, src + 6);
  if (tci) b.insert(b.end(), {0x81, 0x00, uint8_t(*tci >> 8), uint8_t(*tci)});
  b.insert(b.end(), {uint8_t(type >> 8), uint8_t(type)});
  if (type == 0x0800)
    b.insert(b.end(), {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2});
  b.insert(b.end(), payload, 0);
  return b;
}

PacketOut packet_out(uint32_t in_port, std::vector<Action> actions, Bytes data) {
  PacketOut p;
  p.in_port = in_port;
  p.actions = std::move(actions);
  p.data = std::move(data);
  return p;
}

std::vector<uint32_t> outputs(const dpif::Actions& acts) {
  std::vector<uint32_t> out;
  for (const auto& a : acts)
    if (const auto* o = std::get_if<dpif::OutputAction>(&a)) out.push_back(o->port);
  return out;
}

}  // namespace

TEST_CASE("ofswitch: an ACTION upcall of output:CONTROLLER becomes the PACKET_IN", "[ofswitch]") {
  Rig rig;
  // Table 0: eth1 writes metadata and goes on to table 3, which sends 20 bytes to the
  // controller; a table-miss rule sends everything else (max_len ignored for NO_MATCH: the
  // connection's miss_send_len applies).
  FlowMod f = add(10, {OxmField::exact(OxmId::kInPort, 1)}, {Instruction::goto_table(3)});
  Instruction md;
  md.type = InstructionType::kWriteMetadata;
  md.metadata = 0x5500;
  md.mask = 0xff00;
  f.instructions.insert(f.instructions.begin(), md);
  f.cookie = 0xc1;
  REQUIRE(rig.send(f).empty());
  f = add(1, {}, {Instruction::apply({Action::output(port::kController, 20)})}, 3);
  f.cookie = 0xc3;
  REQUIRE(rig.send(f).empty());
  f = add(0, {}, {Instruction::apply({Action::output(port::kController, 20)})});
  f.cookie = 0xc0;
  REQUIRE(rig.send(f).empty());

  // ACTION from table 3: 20 of 100 bytes, metadata in the match.
  auto p = to_controller(rig, key_on(1), numbered(100));
  auto bytes = rig.agent.packet_in(rig.session, p);
  REQUIRE(bytes);
  PacketIn pin = decoded(*bytes);
  CHECK(pin.buffer_id == kNoBuffer);
  CHECK(pin.total_len == 100);
  CHECK(pin.reason == 1);  // OFPR_ACTION
  CHECK(pin.table_id == 3);
  CHECK(pin.cookie == 0xc3);
  CHECK(pin.data == numbered(20));
  REQUIRE(pin.match.fields.size() == 2);
  CHECK(pin.match.fields[0] == OxmField::exact(OxmId::kInPort, 1));
  CHECK(pin.match.fields[1] == OxmField::exact(OxmId::kMetadata, 0x5500));
  // The exact bytes: header, buffer_id, total_len, reason, table, cookie, then the match
  // (4 + 8 bytes of OXM in_port + 12 of metadata: 24, no padding), 2 pad bytes, the data.
  REQUIRE(bytes->size() == 8 + 16 + 24 + 2 + 20);
  const Bytes head(bytes->begin(), bytes->begin() + 24);
  CHECK(head == Bytes{4, 10,  0, 70, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
                      0, 100, 1, 3,  0, 0, 0, 0, 0,    0,    0,    0xc3});
  CHECK(Bytes(bytes->begin() + 24, bytes->begin() + 32) ==
        Bytes{0, 1, 0, 24, 0x80, 0, 0, 4});  // OFPMT_OXM, length 24, OXM in_port
  CHECK(Bytes(bytes->end() - 22, bytes->end() - 20) == Bytes{0, 0});

  // NO_MATCH from the table-miss rule, on the local port: miss_send_len (128) cuts it.
  p = to_controller(rig, key_on(0), numbered(300));
  bytes = rig.agent.packet_in(rig.session, p);
  REQUIRE(bytes);
  pin = decoded(*bytes);
  CHECK(pin.reason == 0);  // OFPR_NO_MATCH
  CHECK(pin.table_id == 0);
  CHECK(pin.cookie == 0xc0);
  CHECK(pin.total_len == 300);
  CHECK(pin.data == numbered(128));
  REQUIRE(pin.match.fields.size() == 1);  // no metadata: it is 0
  CHECK(pin.match.fields[0] == OxmField::exact(OxmId::kInPort, port::kLocal));
  // OFPCML_NO_BUFFER: the whole packet; 0: no packet-in for table misses at all.
  REQUIRE(rig.send(SetConfig{0, 0xffff}).empty());
  bytes = rig.agent.packet_in(rig.session, p);
  REQUIRE(bytes);
  CHECK(decoded(*bytes).data == numbered(300));
  REQUIRE(rig.send(SetConfig{0, 0}).empty());
  CHECK(!rig.agent.packet_in(rig.session, p));
  CHECK(rig.agent.packet_in(rig.session, to_controller(rig, key_on(1), numbered(10))));

  // A service connection gets none until it sets a miss_send_len, as in Open vSwitch.
  ofswitch::Session svc = ofswitch::Session::for_service();
  CHECK(!rig.agent.packet_in(svc, to_controller(rig, key_on(1), numbered(10))));
  svc.miss_send_len = 128;
  CHECK(rig.agent.packet_in(svc, to_controller(rig, key_on(1), numbered(10))));
  CHECK(rig.agent.packet_ins_sent() == 5);
}

TEST_CASE("ofswitch: SET_ASYNC filters packet-ins per connection; GET_ASYNC reports it",
          "[ofswitch]") {
  Rig rig;
  // The defaults (Open vSwitch's for 1.3): NO_MATCH and ACTION to master/equal.
  auto r = rig.send(GetAsyncRequest{}, 21);
  REQUIRE(r.size() == 1);
  CHECK(r[0].xid == 21);
  auto a = std::get<GetAsyncReply>(r[0].body);
  CHECK(a.packet_in_mask == std::array<uint32_t, 2>{3, 0});
  CHECK(a.port_status_mask == std::array<uint32_t, 2>{7, 7});
  CHECK(a.flow_removed_mask == std::array<uint32_t, 2>{0xf, 0});

  REQUIRE(rig.send(add(0, {}, {Instruction::apply({Action::output(port::kController)})})).empty());
  REQUIRE(rig.send(add(5, {OxmField::exact(OxmId::kInPort, 1)},
                       {Instruction::apply({Action::output(port::kController)})}))
              .empty());
  const auto miss = to_controller(rig, key_on(2), numbered(60));
  const auto action = to_controller(rig, key_on(1), numbered(60));
  CHECK(rig.agent.packet_in(rig.session, miss));
  CHECK(rig.agent.packet_in(rig.session, action));
  // INVALID_TTL (a dec_ttl that ran out) only when asked for.
  ofproto::ControllerPacket ttl = action;
  ttl.cookie.reason = ofproto::PacketInReason::kInvalidTtl;
  CHECK(!rig.agent.packet_in(rig.session, ttl));
  SetAsync all;
  all.packet_in_mask = {0x7, 0};
  CHECK(rig.send(all).empty());
  auto bytes = rig.agent.packet_in(rig.session, ttl);
  REQUIRE(bytes);
  CHECK(decoded(*bytes).reason == 2);  // OFPR_INVALID_TTL

  // Only ACTION (bit 1); reasons 1.3 does not define are dropped from the masks.
  SetAsync set;
  set.packet_in_mask = {(1U << 1) | (1U << 9), 0x7};
  set.port_status_mask = {0x1, 0xff};
  set.flow_removed_mask = {0x8, 0};
  CHECK(rig.send(set).empty());
  CHECK(!rig.agent.packet_in(rig.session, miss));
  CHECK(rig.agent.packet_in(rig.session, action));
  r = rig.send(GetAsyncRequest{});
  a = std::get<GetAsyncReply>(r[0].body);
  CHECK(a.packet_in_mask == std::array<uint32_t, 2>{2, 7});
  CHECK(a.port_status_mask == std::array<uint32_t, 2>{1, 7});
  CHECK(a.flow_removed_mask == std::array<uint32_t, 2>{8, 0});
  // Nothing at all; another connection's session keeps the defaults.
  set.packet_in_mask = {0, 0};
  CHECK(rig.send(set).empty());
  CHECK(!rig.agent.packet_in(rig.session, action));
  CHECK(rig.agent.packet_in(ofswitch::Session{}, action));
}

TEST_CASE("ofswitch: bad PACKET_OUTs get the spec's errors and send nothing", "[ofswitch]") {
  Rig rig;
  const Bytes ok = frame(kBroadcast, kHostA, 0x0806);
  using E = std::pair<uint16_t, uint16_t>;
  PacketOut buffered = packet_out(port::kController, {Action::output(1)}, ok);
  buffered.buffer_id = 1;
  CHECK(rig.error_of(buffered) == E{1, 8});  // BAD_REQUEST / BUFFER_UNKNOWN
  for (const uint32_t bad : {0U, 1024U, 0xffffff00U, port::kTable, port::kNormal, port::kFlood,
                             port::kAll, port::kInPort}) {
    INFO("in_port " << bad);
    CHECK(rig.error_of(packet_out(bad, {Action::output(1)}, ok)) == E{1, 11});  // BAD_PORT
  }
  // in_port is checked first, as Open vSwitch does.
  buffered.in_port = 0;
  CHECK(rig.error_of(buffered) == E{1, 11});
  for (const uint32_t bad : {0U, 1024U, port::kAny}) {
    INFO("output " << bad);
    CHECK(rig.error_of(packet_out(1, {Action::output(bad)}, ok)) == E{2, 4});  // BAD_OUT_PORT
  }
  CHECK(rig.error_of(packet_out(1, {Action::simple(ActionType::kGroup, 1)}, ok)) ==
        E{2, 9});  // BAD_ACTION / BAD_OUT_GROUP
  // Less than an Ethernet header (an empty packet included).
  CHECK(rig.error_of(packet_out(1, {Action::output(2)}, Bytes(13, 0xff))) == E{1, 12});
  CHECK(rig.error_of(PacketOut{}) == E{1, 12});  // BAD_REQUEST / BAD_PACKET
  CHECK(rig.executed.empty());
  CHECK(rig.agent.packet_outs() == 0);
  CHECK(rig.agent.errors_sent() == 16);
  // Still answering.
  auto r = rig.send(BarrierRequest{});
  REQUIRE(r.size() == 1);
  CHECK(r[0].type() == MsgType::kBarrierReply);
}

TEST_CASE("ofswitch: PACKET_OUT sends the frame with the translated datapath actions",
          "[ofswitch]") {
  Rig rig;  // port 1 up, port 2 down, LOCAL up
  const Bytes arp = frame(kBroadcast, kHostA, 0x0806);

  SECTION("output to a port, from the controller") {
    CHECK(rig.send(packet_out(port::kController, {Action::output(1)}, arp)).empty());
    REQUIRE(rig.executed.size() == 1);
    const Executed& e = rig.executed[0];
    CHECK(e.packet == arp);
    CHECK(outputs(e.actions) == std::vector<uint32_t>{1});
    CHECK(e.key.in_port == VSW_PORT_LOCAL);  // no input port: sent as from the bridge
    CHECK(e.key.eth_type == htons(0x0806));
    CHECK(std::memcmp(e.key.eth_src, kHostA, 6) == 0);
    CHECK(rig.agent.packet_outs() == 1);
    CHECK(rig.agent.packet_out_drops() == 0);
  }
  SECTION("a down port, or the input port itself, outputs nothing") {
    CHECK(rig.send(packet_out(port::kController, {Action::output(2)}, arp)).empty());
    CHECK(rig.send(packet_out(1, {Action::output(1)}, arp)).empty());
    CHECK(rig.executed.empty());
    CHECK(rig.agent.packet_out_drops() == 2);
  }
  SECTION("IN_PORT, LOCAL, ALL and FLOOD") {
    CHECK(rig.send(packet_out(1, {Action::output(port::kInPort)}, arp)).empty());
    CHECK(rig.send(packet_out(port::kLocal, {Action::output(1)}, arp)).empty());
    CHECK(rig.send(packet_out(1, {Action::output(port::kLocal)}, arp)).empty());
    CHECK(rig.send(packet_out(port::kController, {Action::output(port::kFlood)}, arp)).empty());
    CHECK(rig.send(packet_out(1, {Action::output(port::kAll)}, arp)).empty());
    CHECK(rig.send(packet_out(port::kAny, {Action::output(port::kInPort)}, arp)).empty());
    REQUIRE(rig.executed.size() == 5);
    CHECK(outputs(rig.executed[0].actions) == std::vector<uint32_t>{1});
    CHECK(rig.executed[0].key.in_port == 1);
    CHECK(outputs(rig.executed[1].actions) == std::vector<uint32_t>{1});
    CHECK(rig.executed[1].key.in_port == VSW_PORT_LOCAL);
    CHECK(outputs(rig.executed[2].actions) == std::vector<uint32_t>{VSW_PORT_LOCAL});
    // Every up port (LOCAL and 1; 2 is down), but not the input port.
    CHECK(outputs(rig.executed[3].actions) == std::vector<uint32_t>{VSW_PORT_LOCAL, 1});
    CHECK(outputs(rig.executed[4].actions) == std::vector<uint32_t>{VSW_PORT_LOCAL});
    CHECK(rig.agent.packet_out_drops() == 1);  // IN_PORT with no input port
  }
  SECTION("push_vlan, set_field and pop_vlan become datapath actions") {
    const OxmField vid = OxmField::exact(OxmId::kVlanVid, 0x1000 | 10);
    const OxmField dst = OxmField::exact_bytes(OxmId::kEthDst, ByteSpan(kHostB, 6));
    CHECK(rig.send(packet_out(port::kController,
                              {Action::simple(ActionType::kPushVlan, 0x8100),
                               Action::set_field(vid), Action::set_field(dst), Action::output(1)},
                              frame(kHostA, kHostA, 0x0800)))
              .empty());
    const Bytes tagged = frame(kBroadcast, kHostA, 0x0800, 26, 0x2007);
    CHECK(rig.send(packet_out(port::kController,
                              {Action::simple(ActionType::kPopVlan), Action::output(1)}, tagged))
              .empty());
    REQUIRE(rig.executed.size() == 2);
    const dpif::Actions& a = rig.executed[0].actions;
    REQUIRE(a.size() == 3);
    const auto* set = std::get_if<dpif::SetAction>(&a[0]);
    REQUIRE(set);
    REQUIRE(set->eth_dst);
    CHECK(std::memcmp(set->eth_dst->data(), kHostB, 6) == 0);
    const auto* push = std::get_if<dpif::PushVlanAction>(&a[1]);
    REQUIRE(push);
    CHECK(push->vid == 10);
    CHECK(outputs(a) == std::vector<uint32_t>{1});
    // The tagged frame's key has the tag read in the frame, as the kernel's execute does.
    CHECK(rig.executed[1].key.vlan_tci == htons(0x2007 | VSW_VLAN_TAG_PRESENT));
    CHECK(rig.executed[1].key.eth_type == htons(0x0800));
    REQUIRE(rig.executed[1].actions.size() == 2);
    CHECK(std::holds_alternative<dpif::PopVlanAction>(rig.executed[1].actions[0]));
  }
  SECTION("a datapath refusal is counted, not answered") {
    rig.execute_error = vsw::make_error(ENODEV, "no datapath");
    CHECK(rig.send(packet_out(port::kController, {Action::output(1)}, arp)).empty());
    CHECK(rig.executed.size() == 1);
    CHECK(rig.agent.packet_out_drops() == 1);
    CHECK(rig.agent.errors_sent() == 0);
  }
}

TEST_CASE("ofswitch: PACKET_OUT to TABLE runs the pipeline, sees staged rules, credits them",
          "[ofswitch]") {
  Rig rig(/*batch=*/true);
  // IPv4 from port 3 (not attached) to port 1; in_port=LOCAL to LOCAL-less flood.
  CHECK(rig.send(add(10, {eth_type(0x800)}, {Instruction::apply({Action::output(1)})})).empty());
  CHECK(rig.send(add(20, {OxmField::exact(OxmId::kInPort, port::kLocal), eth_type(0x806)},
                     {Instruction::apply({Action::output(port::kFlood)})}))
            .empty());
  CHECK(rig.of.tables().has_staged());  // not published yet: the packet-out must flush
  const Bytes ip = frame(kHostB, kHostA, 0x0800);
  CHECK(rig.send(packet_out(port::kController, {Action::output(port::kTable)}, ip)).empty());
  CHECK_FALSE(rig.of.tables().has_staged());
  CHECK(rig.send(packet_out(port::kLocal, {Action::output(port::kTable)},
                            frame(kBroadcast, kHostA, 0x0806)))
            .empty());
  // An ARP from the controller matches nothing (in_port is not LOCAL): table miss, dropped.
  CHECK(rig.send(packet_out(port::kController, {Action::output(port::kTable)},
                            frame(kBroadcast, kHostA, 0x0806)))
            .empty());
  // Actions around TABLE: before it changes what the pipeline sees, after it runs after.
  const OxmField set_src = OxmField::exact_bytes(OxmId::kEthSrc, ByteSpan(kHostB, 6));
  CHECK(rig.send(packet_out(port::kController,
                            {Action::set_field(set_src), Action::output(port::kTable),
                             Action::output(port::kLocal)},
                            ip))
            .empty());
  REQUIRE(rig.executed.size() == 3);
  CHECK(outputs(rig.executed[0].actions) == std::vector<uint32_t>{1});
  CHECK(outputs(rig.executed[1].actions) == std::vector<uint32_t>{1});  // flood from LOCAL
  CHECK(outputs(rig.executed[2].actions) == std::vector<uint32_t>{1, VSW_PORT_LOCAL});
  CHECK(std::holds_alternative<dpif::SetAction>(rig.executed[2].actions[0]));
  CHECK(rig.agent.packet_out_drops() == 1);
  // The rules the packets went through count them (as Open vSwitch credits packet-outs).
  const auto d = rig.dump();
  REQUIRE(d.size() == 2);
  CHECK(d[0].priority == 20);
  CHECK(d[0].packet_count == 1);
  CHECK(d[1].packet_count == 2);
  CHECK(d[1].byte_count == 2 * ip.size());
}

TEST_CASE("ofswitch: PACKET_OUT to NORMAL learns from a real in_port, not from the controller",
          "[ofswitch]") {
  Rig rig;
  const Bytes arp = frame(kBroadcast, kHostA, 0x0806);
  CHECK(rig.send(packet_out(port::kController, {Action::output(port::kNormal)}, arp)).empty());
  REQUIRE(rig.executed.size() == 1);
  CHECK(outputs(rig.executed[0].actions) == std::vector<uint32_t>{VSW_PORT_LOCAL, 1});
  CHECK(rig.of.macs().dump().empty());
  CHECK(rig.relearned.empty());

  CHECK(rig.send(packet_out(1, {Action::output(port::kNormal)}, arp)).empty());
  REQUIRE(rig.executed.size() == 2);
  CHECK(outputs(rig.executed[1].actions) == std::vector<uint32_t>{VSW_PORT_LOCAL});
  const auto macs = rig.of.macs().dump();
  REQUIRE(macs.size() == 1);
  CHECK(macs[0].port == 1);
  REQUIRE(rig.relearned.size() == 1);  // the new entry, for the revalidators
  // Now known: unicast to A from the controller goes to port 1 only.
  CHECK(rig.send(packet_out(port::kController, {Action::output(port::kNormal)},
                            frame(kHostA, kHostB, 0x0800)))
            .empty());
  REQUIRE(rig.executed.size() == 3);
  CHECK(outputs(rig.executed[2].actions) == std::vector<uint32_t>{1});
}

TEST_CASE("ofswitch: TABLE_MOD is accepted and changes nothing, as in Open vSwitch", "[ofswitch]") {
  Rig rig;
  REQUIRE(rig.send(add(10, {eth_type(0x0800)}, {})).empty());
  for (const uint8_t table : {uint8_t{0}, uint8_t{254}, uint8_t{255}}) {
    TableMod tm;
    tm.table_id = table;
    tm.config = 3;  // OpenFlow 1.1's miss bits: deprecated in 1.3, ignored
    CHECK(rig.send(tm).empty());
  }
  CHECK(rig.agent.errors_sent() == 0);
  CHECK(rig.dump().size() == 1);  // the rules are untouched
}

TEST_CASE("ofswitch: no meters: METER_FEATURES all 0, METER_MOD and meter stats refused",
          "[ofswitch]") {
  Rig rig;
  auto r = rig.send(MultipartRequest{0, MeterFeaturesRequest{}});
  REQUIRE(r.size() == 1);
  const auto& f = std::get<MeterFeaturesReply>(std::get<MultipartReply>(r[0].body).body);
  CHECK(f.max_meter == 0);
  CHECK(f.band_types == 0);
  CHECK(f.capabilities == 0);
  CHECK(f.max_bands == 0);
  CHECK(f.max_color == 0);

  using E = std::pair<uint16_t, uint16_t>;
  MeterMod mm;
  mm.meter_id = 1;
  mm.command = 0;                       // ADD
  CHECK(rig.error_of(mm) == E{12, 2});  // METER_MOD_FAILED / INVALID_METER
  mm.command = 1;                       // MODIFY
  CHECK(rig.error_of(mm) == E{12, 2});
  mm.flags = 3;                         // KBPS and PKTPS
  CHECK(rig.error_of(mm) == E{12, 5});  // BAD_FLAGS
  mm.command = 3;
  CHECK(rig.error_of(mm) == E{12, 4});  // BAD_COMMAND
  mm.command = 2;                       // DELETE: nothing to delete, no error
  CHECK(rig.send(mm).empty());
  mm.meter_id = 0xffffffff;
  CHECK(rig.send(mm).empty());

  // METER and METER_CONFIG: ALL lists nothing, one meter is unknown.
  r = rig.send(MultipartRequest{0, MeterStatsRequest{0xffffffff}});
  REQUIRE(r.size() == 1);
  CHECK(std::get<MeterStatsReply>(std::get<MultipartReply>(r[0].body).body).entries.empty());
  r = rig.send(MultipartRequest{0, MeterConfigRequest{0xffffffff}});
  REQUIRE(r.size() == 1);
  CHECK(std::get<MeterConfigReply>(std::get<MultipartReply>(r[0].body).body).entries.empty());
  CHECK(rig.error_of(MultipartRequest{0, MeterStatsRequest{1}}) == E{12, 3});  // UNKNOWN_METER
  CHECK(rig.error_of(MultipartRequest{0, MeterConfigRequest{7}}) == E{12, 3});
  CHECK(rig.agent.errors_sent() == 6);
}

TEST_CASE("ofswitch: no queues: QUEUE stats and QUEUE_GET_CONFIG as Open vSwitch answers",
          "[ofswitch]") {
  Rig rig;  // ports 1, 2 and LOCAL
  using E = std::pair<uint16_t, uint16_t>;
  const auto stats = [&](uint32_t port_no, uint32_t queue_id) {
    return MultipartRequest{0, QueueStatsRequest{port_no, queue_id}};
  };
  for (const uint32_t p : {port::kAny, 1U, 2U, port::kLocal}) {
    auto r = rig.send(stats(p, 0xffffffff));
    REQUIRE(r.size() == 1);
    CHECK(std::get<QueueStatsReply>(std::get<MultipartReply>(r[0].body).body).entries.empty());
  }
  CHECK(rig.error_of(stats(3, 0xffffffff)) == E{9, 0});  // QUEUE_OP_FAILED / BAD_PORT
  CHECK(rig.error_of(stats(0, 0xffffffff)) == E{9, 0});
  CHECK(rig.error_of(stats(port::kAny, 0)) == E{9, 1});  // BAD_QUEUE
  CHECK(rig.error_of(stats(1, 5)) == E{9, 1});
  CHECK(rig.error_of(stats(0x10000, 0xffffffff)) == E{2, 4});  // OVS: BAD_ACTION / BAD_OUT_PORT

  for (const uint32_t p : {port::kAny, 1U, 2U}) {
    auto r = rig.send(QueueGetConfigRequest{p});
    REQUIRE(r.size() == 1);
    const auto& c = std::get<QueueGetConfigReply>(r[0].body);
    CHECK(c.port_no == p);
    CHECK(c.queues.empty());
  }
  CHECK(rig.error_of(QueueGetConfigRequest{3}) == E{9, 0});
  CHECK(rig.error_of(QueueGetConfigRequest{port::kLocal}) == E{9, 0});  // OVS takes only ANY
  CHECK(rig.error_of(QueueGetConfigRequest{0xff00}) == E{2, 4});
  CHECK(rig.agent.errors_sent() == 8);
}

TEST_CASE("ofswitch: PORT_STATS from the datapath's counters; refused without them", "[ofswitch]") {
  {
    Rig rig;
    auto e = rig.error_of(MultipartRequest{0, PortStatsRequest{}});
    CHECK(e.first == uint16_t(ErrType::kBadRequest));
    CHECK(e.second == 2);  // BAD_MULTIPART: the agent cannot read counters
  }
  const std::int64_t now = ofproto::steady_ms();
  vsw_vport_stats s2{};
  s2.rx_packets = 7;
  s2.tx_packets = 9;
  s2.rx_bytes = 700;
  s2.tx_bytes = 900;
  s2.tx_dropped = 1;
  vsw_vport_stats local{};
  local.rx_packets = 3;
  // The rig's members are built in order: the hooks read port_counters when called.
  Rig rig;
  rig.port_counters = {{2, s2, now - 5'500}, {port::kLocal, local, now}, {1, {}, now - 1'000}};
  // Rebuild the agent's hooks with the counters in place.
  ofswitch::Agent agent(rig.of, "br0", rig.hooks());
  const auto stats_of = [&](uint32_t port_no) {
    std::vector<PortStats> all;
    PortStatsRequest req;
    req.id = port_no;
    agent.handle(rig.session, Message{kVersion13, 3, MultipartRequest{0, req}}, [&](Bytes b) {
      auto m = decode(b);
      REQUIRE(m.ok());
      const auto& body = std::get<MultipartReply>(m.value().body).body;
      for (const PortStats& p : std::get<PortStatsReply>(body).entries) all.push_back(p);
    });
    return all;
  };
  const auto all = stats_of(port::kAny);
  REQUIRE(all.size() == 3);
  CHECK(all[0].port_no == 1);  // by port number, LOCAL last
  CHECK(all[1].port_no == 2);
  CHECK(all[2].port_no == port::kLocal);
  CHECK(all[1].rx_packets == 7);
  CHECK(all[1].tx_packets == 9);
  CHECK(all[1].rx_bytes == 700);
  CHECK(all[1].tx_bytes == 900);
  CHECK(all[1].tx_dropped == 1);
  CHECK(all[1].rx_errors == ~uint64_t{0});  // not kept: all ones
  CHECK(all[1].collisions == ~uint64_t{0});
  CHECK(all[1].duration_sec >= 5);
  CHECK(all[1].duration_sec <= 6);
  CHECK(all[2].rx_packets == 3);
  const auto one = stats_of(2);
  REQUIRE(one.size() == 1);
  CHECK(one[0].port_no == 2);
  CHECK(stats_of(17).empty());  // no such port: an empty reply, as Open vSwitch
}
