// Controller roles and PORT_STATUS through the connection manager, on a real io_context with
// raw OpenFlow peers on a punix controller target (and the service socket): ROLE_REQUEST
// and its errors (BAD_ROLE, STALE, generation ids wrapping around), a new master demoting
// the old one, a slave's modifying requests refused with IS_SLAVE on a connection that
// keeps working, PACKET_IN / FLOW_REMOVED / PORT_STATUS filtered with the async mask of
// each connection's role, PORT_STATUS ADD/MODIFY/DELETE when the ports change, and the
// roles in status().

#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <thread>

#include "ofswitch/connmgr.h"
#include "ofswitch/port_status.h"
#include "openflow/codec.h"
#include "rig.h"

using namespace vsw;
using namespace vsw::openflow;
using namespace vsw::ofswitch::test;
using namespace std::chrono_literals;

namespace {

// An Ofproto, its Agent and ConnMgr, with the io_context on a thread of its own.
struct Switch {
  asio::io_context io;
  ofproto::Ofproto of{secure_options()};
  ofswitch::Agent agent{of, "br0", {}};
  std::unique_ptr<ofswitch::ConnMgr> mgr;
  std::thread thread;

  Switch() {
    REQUIRE(of.set_ports(three_ports()));
    mgr = std::make_unique<ofswitch::ConnMgr>(io, agent, ofswitch::ConnMgr::Options{}, [](bool) {});
    thread = run_io(io);
  }
  ~Switch() {
    on_io([this] { mgr.reset(); });
    io.stop();
    thread.join();
  }
  template <class F>
  auto on_io(F f) -> decltype(f()) {
    return ofswitch::test::on_io(io, std::move(f));
  }
};

// A blocking raw OpenFlow 1.3 peer, negotiated on construction.
struct Peer : RawPeer {
  uint32_t xid = 100;
  explicit Peer(const std::string& path) : RawPeer(path) {
    REQUIRE(read());  // HELLO
    write(make_hello(1));
    sync();
  }
  using RawPeer::write;
  void write(const Message& m) { RawPeer::write(encode(m)); }
  void write(Body b) { write(Message{kVersion13, ++xid, std::move(b)}); }
  // A barrier round trip: everything sent before is handled, nothing was queued before it.
  void sync() {
    write(BarrierRequest{});
    auto m = read();
    REQUIRE(m);
    REQUIRE(m->type() == MsgType::kBarrierReply);
  }
  // The next message, which must be of type t.
  template <class T>
  T next(MsgType t) {
    auto m = read();
    REQUIRE(m);
    REQUIRE(m->type() == t);
    return std::get<T>(m->body);
  }
  // Sends body; the answer must be an error: (type, code).
  std::pair<uint16_t, uint16_t> error_of(Body body) {
    write(std::move(body));
    const auto e = next<openflow::Error>(MsgType::kError);
    return {e.type, e.code};
  }
  RoleReply role(uint32_t role, uint64_t gen = 0) {
    write(RoleRequest{role, gen});
    return next<RoleReply>(MsgType::kRoleReply);
  }
};

constexpr uint32_t kNoChange = 0, kEqual = 1, kMaster = 2, kSlave = 3;
constexpr uint64_t kNoGeneration = ~uint64_t{0};
const std::pair<uint16_t, uint16_t> kStale{11, 0}, kBadRole{11, 2}, kIsSlave{1, 10};

FlowMod rule(uint32_t in_port, uint16_t flags = 0) {
  FlowMod f;
  f.priority = 100;
  f.flags = flags;
  f.match.fields = {OxmField::exact(OxmId::kInPort, in_port)};
  f.instructions = {Instruction::apply({Action::output(2)})};
  return f;
}

}  // namespace

TEST_CASE("ofswitch: ROLE_REQUEST, generation ids (stale, wrapping), one master", "[ofswitch]") {
  Switch sw;
  const std::string ctl = tmp_sock("gen");
  sw.on_io([&] { sw.mgr->set_targets({"punix:" + ctl}); });
  Peer a(ctl), b(ctl);

  // Every connection starts equal; no generation id yet.
  RoleReply r = a.role(kNoChange, 77);
  CHECK(r.role == kEqual);
  CHECK(r.generation_id == kNoGeneration);
  CHECK(a.error_of(RoleRequest{4, 1}) == kBadRole);
  CHECK(a.error_of(RoleRequest{0x80000000U, 1}) == kBadRole);

  r = a.role(kMaster, 10);
  CHECK(r.role == kMaster);
  CHECK(r.generation_id == 10);
  CHECK(b.error_of(RoleRequest{kSlave, 9}) == kStale);  // older than 10: nothing changes
  CHECK(b.role(kNoChange).role == kEqual);
  r = b.role(kEqual, 3);  // EQUAL does not look at the id, nor keep it
  CHECK(r.role == kEqual);
  CHECK(r.generation_id == 10);
  r = b.role(kSlave, 10);  // the same id is not stale
  CHECK(r.role == kSlave);
  CHECK(b.role(kMaster, 11).role == kMaster);
  // b became master: a is a slave now (OpenFlow 1.3: it is not told, it can ask).
  r = a.role(kNoChange);
  CHECK(r.role == kSlave);
  CHECK(r.generation_id == 11);
  auto st = sw.on_io([&] { return sw.mgr->status(); });
  REQUIRE(st.size() == 1);
  CHECK((st[0].role == "slave,master" || st[0].role == "master,slave"));

  // Signed 64-bit distance: ids may wrap around.
  CHECK(a.role(kSlave, 0x4000000000000000ULL).generation_id == 0x4000000000000000ULL);
  CHECK(a.role(kSlave, 0xb000000000000000ULL).generation_id == 0xb000000000000000ULL);
  CHECK(a.role(kSlave, 0xfffffffffffffff0ULL).generation_id == 0xfffffffffffffff0ULL);
  r = a.role(kMaster, 5);  // 21 past 0xff..f0
  CHECK(r.role == kMaster);
  CHECK(r.generation_id == 5);
  CHECK(a.error_of(RoleRequest{kMaster, 0xfffffffffffffff8ULL}) == kStale);  // 13 before 5
  CHECK(a.error_of(RoleRequest{kSlave, 0x8000000000000006ULL}) == kStale);   // 2^63 + 1 ahead
  CHECK(a.role(kSlave, 0x8000000000000004ULL).generation_id == 0x8000000000000004ULL);
  CHECK(b.role(kNoChange).role == kSlave);  // a was master again before it stepped down
  CHECK(sw.on_io([&] { return sw.agent.election().generation_id; }) == 0x8000000000000004ULL);
}

TEST_CASE("ofswitch: a slave's modifying requests get IS_SLAVE; it keeps working", "[ofswitch]") {
  Switch sw;
  const std::string ctl = tmp_sock("slave"), svc = tmp_sock("slave-svc");
  sw.on_io([&] { sw.mgr->set_targets({"punix:" + ctl}); });
  REQUIRE(!sw.on_io([&] { return sw.mgr->set_service(svc); }));
  Peer slave(ctl), tool(svc);
  REQUIRE(slave.role(kSlave, 1).role == kSlave);

  PacketOut po;
  po.actions = {Action::output(1)};
  po.data.assign(60, 0xab);
  GroupMod g;
  g.type = 0;
  g.group_id = 1;
  PortMod pm;
  pm.port_no = 1;
  CHECK(slave.error_of(rule(1)) == kIsSlave);
  CHECK(slave.error_of(po) == kIsSlave);
  CHECK(slave.error_of(g) == kIsSlave);
  CHECK(slave.error_of(pm) == kIsSlave);
  CHECK(slave.error_of(TableMod{0xff, 0}) == kIsSlave);
  CHECK(slave.error_of(MeterMod{}) == kIsSlave);
  CHECK(sw.on_io([&] { return sw.of.tables().size(); }) == 0);
  // Reading is fine, and the connection still works.
  slave.write(MultipartRequest{0, DescRequest{}});
  CHECK(
      std::holds_alternative<DescReply>(slave.next<MultipartReply>(MsgType::kMultipartReply).body));
  slave.sync();
  // A slave's SET_CONFIG keeps miss_send_len, not the fragment flags (as Open vSwitch).
  slave.write(SetConfig{1, 200});
  slave.write(GetConfigRequest{});
  const auto cfg = slave.next<GetConfigReply>(MsgType::kGetConfigReply);
  CHECK(cfg.flags == 0);
  CHECK(cfg.miss_send_len == 200);

  // A service connection is never refused, whatever its role.
  REQUIRE(tool.role(kSlave, 2).role == kSlave);
  tool.write(rule(1));
  tool.sync();
  CHECK(sw.on_io([&] { return sw.of.tables().size(); }) == 1);
  // Back to equal, the controller may change the tables again.
  REQUIRE(slave.role(kEqual).role == kEqual);
  slave.write(rule(2));
  slave.sync();
  CHECK(sw.on_io([&] { return sw.of.tables().size(); }) == 2);
}

TEST_CASE("ofswitch: PACKET_IN and FLOW_REMOVED use the async mask of the connection's role",
          "[ofswitch]") {
  Switch sw;
  const std::string ctl = tmp_sock("async");
  sw.on_io([&] { sw.mgr->set_targets({"punix:" + ctl}); });
  Peer master(ctl), slave(ctl);
  REQUIRE(master.role(kMaster, 1).role == kMaster);
  REQUIRE(slave.role(kSlave, 1).role == kSlave);

  ofproto::ControllerPacket action;
  action.cookie = {ofproto::PacketInReason::kAction, 0, 0xffff, 0x1, 0};
  action.in_port = 1;
  action.packet.assign(60, 0x5a);
  constexpr uint16_t kSendFlowRem = 1;
  const auto remove_rule = [&](uint32_t in_port) {  // added and deleted by the master
    master.write(rule(in_port, kSendFlowRem));
    FlowMod del = rule(in_port);
    del.command = uint8_t(FlowModCommand::kDeleteStrict);
    master.write(del);
  };

  // Open vSwitch's defaults: a slave gets neither.
  sw.on_io([&] { sw.mgr->packet_in(action); });
  remove_rule(1);
  CHECK(master.next<PacketIn>(MsgType::kPacketIn).cookie == 0x1);
  CHECK(master.next<FlowRemoved>(MsgType::kFlowRemoved).reason == 2);  // DELETE
  slave.sync();                                                        // nothing before it

  // The slave asks for ACTION packet-ins and DELETE flow-removeds in its slave element only.
  SetAsync a;
  a.packet_in_mask = {0, 1U << 1};
  a.port_status_mask = {0x7, 0x7};
  a.flow_removed_mask = {0, 1U << 2};
  slave.write(a);
  slave.sync();
  sw.on_io([&] { sw.mgr->packet_in(action); });
  remove_rule(2);
  CHECK(slave.next<PacketIn>(MsgType::kPacketIn).reason == 1);
  CHECK(slave.next<FlowRemoved>(MsgType::kFlowRemoved).match == rule(2).match);
  // Equal again, it uses element 0 (nothing).
  REQUIRE(slave.role(kEqual).role == kEqual);
  sw.on_io([&] { sw.mgr->packet_in(action); });
  remove_rule(3);
  CHECK(master.next<PacketIn>(MsgType::kPacketIn).reason == 1);  // the master got all three
  master.next<FlowRemoved>(MsgType::kFlowRemoved);
  CHECK(master.next<PacketIn>(MsgType::kPacketIn).reason == 1);
  CHECK(master.next<FlowRemoved>(MsgType::kFlowRemoved).match == rule(3).match);
  slave.sync();
}

TEST_CASE("ofswitch: PORT_STATUS on port add, link down, delete; per role and reason",
          "[ofswitch]") {
  Switch sw;
  const std::string ctl = tmp_sock("ps"), svc = tmp_sock("ps-svc");
  sw.on_io([&] { sw.mgr->set_targets({"punix:" + ctl}); });
  REQUIRE(!sw.on_io([&] { return sw.mgr->set_service(svc); }));
  Peer master(ctl), slave(ctl), adds_only(ctl), tool(svc);
  REQUIRE(master.role(kMaster, 1).role == kMaster);
  REQUIRE(slave.role(kSlave, 1).role == kSlave);
  SetAsync a;  // ADD to master/equal, nothing to slave
  a.packet_in_mask = {0x3, 0};
  a.port_status_mask = {1U << ofswitch::kPortAdd, 0};
  a.flow_removed_mask = {0xf, 0};
  adds_only.write(a);
  adds_only.sync();

  // Nothing changed: nothing sent.
  CHECK(sw.on_io([&] { return sw.mgr->ports_changed(); }) == 0);
  // eth2 goes, eth1's link goes down, eth3 comes.
  auto ports = three_ports();
  ports[1].up = false;
  ports[2].ofport = 3;
  ports[2].name = "eth3";
  REQUIRE(sw.on_io([&] { return sw.of.set_ports(ports).ok(); }));
  CHECK(sw.on_io([&] { return sw.mgr->ports_changed(); }) == 3 + 3 + 1);
  for (Peer* p : {&master, &slave}) {
    auto del = p->next<PortStatus>(MsgType::kPortStatus);
    CHECK(del.reason == ofswitch::kPortDelete);
    CHECK(del.desc.port_no == 2);
    CHECK(del.desc.name == "eth2");
    auto mod = p->next<PortStatus>(MsgType::kPortStatus);
    CHECK(mod.reason == ofswitch::kPortModify);
    CHECK(mod.desc.port_no == 1);
    CHECK(mod.desc.state == 1);  // OFPPS_LINK_DOWN
    auto add = p->next<PortStatus>(MsgType::kPortStatus);
    CHECK(add.reason == ofswitch::kPortAdd);
    CHECK(add.desc.port_no == 3);
    CHECK(add.desc.name == "eth3");
    CHECK(add.desc.state == 0);
  }
  CHECK(adds_only.next<PortStatus>(MsgType::kPortStatus).desc.port_no == 3);
  adds_only.sync();
  tool.sync();  // no miss_send_len: a service connection gets nothing
  // The body is the PORT_DESC entry.
  master.write(MultipartRequest{0, PortDescRequest{}});
  const auto desc = master.next<MultipartReply>(MsgType::kMultipartReply);
  const auto& entries = std::get<PortDescReply>(desc.body).entries;
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].state == 1);  // port 1, down
  // Link up again: MODIFY with state 0.
  ports[1].up = true;
  REQUIRE(sw.on_io([&] { return sw.of.set_ports(ports).ok(); }));
  CHECK(sw.on_io([&] { return sw.mgr->ports_changed(); }) == 2);
  auto up = master.next<PortStatus>(MsgType::kPortStatus);
  CHECK(up.reason == ofswitch::kPortModify);
  CHECK(up.desc.state == 0);
  CHECK(sw.on_io([&] { return sw.mgr->port_status_sent(); }) == 9);
}
