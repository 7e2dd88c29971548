// The connection manager on a real io_context (a background thread), with the agent and an
// Ofproto behind it but no datapath: Debian's ovs-ofctl -O OpenFlow13 adding, dumping,
// modifying and deleting flows over punix; a raw socket sending malformed requests, each
// answered with an OFPT_ERROR on a connection that keeps working; an active tcp: target
// connecting to a test controller (fail mode follows it, reconnect after the controller
// hangs up); targets reconciled when the list changes; packet-ins fanned out to controllers,
// to a service connection only after it set a miss_send_len; FLOW_REMOVED for expired and
// deleted rules, by the ConnMgr's own timers, to the connections whose async config wants it.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <thread>

#include "ofswitch/connmgr.h"
#include "openflow/codec.h"
#include "rig.h"

using namespace vsw;
using namespace vsw::openflow;
using namespace vsw::ofswitch::test;
using namespace std::chrono_literals;
using Catch::Matchers::ContainsSubstring;

namespace {

struct Switch {
  asio::io_context io;
  // The tables' clock (rule timeouts): the real one until a test sets it.
  std::shared_ptr<std::atomic<std::int64_t>> now = std::make_shared<std::atomic<std::int64_t>>(0);
  ofproto::Ofproto of;
  std::atomic<int> changed{0};
  std::atomic<int> controller_events{0};
  std::atomic<bool> controller{false};
  ofswitch::Agent agent;
  std::unique_ptr<ofswitch::ConnMgr> mgr;
  std::thread thread;

  explicit Switch(ofproto::FailMode mode = ofproto::FailMode::kSecure)
      : of(options(mode, now)), agent(of, "br0", hooks()) {
    REQUIRE(of.set_ports(three_ports()));
    agent.set_datapath_id(0xabcdef);
    ofswitch::ConnMgr::Options o;
    o.backoff = Backoff{50ms, 100ms};
    mgr = std::make_unique<ofswitch::ConnMgr>(io, agent, o, [this](bool c) {
      ++controller_events;
      controller = c;
      of.set_controller_connected(c);
    });
    thread = run_io(io);
  }
  ~Switch() {
    on_io([this] { mgr.reset(); });
    io.stop();
    thread.join();
  }
  static ofproto::Ofproto::Options options(ofproto::FailMode mode,
                                           std::shared_ptr<std::atomic<std::int64_t>> now) {
    ofproto::Ofproto::Options o;
    o.fail_mode = mode;
    o.clock = [now] { return *now ? now->load() : ofproto::steady_ms(); };
    return o;
  }
  ofswitch::Agent::Hooks hooks() {
    ofswitch::Agent::Hooks h;
    h.rules_changed = [this] { ++changed; };
    return h;
  }
  // Runs f on the io thread and waits for it.
  template <class F>
  auto on_io(F f) -> decltype(f()) {
    return ofswitch::test::on_io(io, std::move(f));
  }
  size_t rules() {
    return on_io([this] { return of.tables().size(); });
  }
  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds t = 3000ms) {
    for (auto end = std::chrono::steady_clock::now() + t; std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(10ms))
      if (pred()) return true;
    return pred();
  }
};
}  // namespace

TEST_CASE("ofswitch: ovs-ofctl adds, dumps, modifies and deletes flows over the service socket",
          "[ofswitch][ofctl]") {
  if (sh("which ovs-ofctl").status != 0) SKIP("ovs-ofctl is not installed");
  Switch sw;
  const std::string path = tmp_sock("ofctl");
  REQUIRE(!sw.on_io([&] { return sw.mgr->set_service(path); }));
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  const std::string ofctl = "ovs-ofctl -O OpenFlow13 ";
  const std::string tgt = " unix:" + path + " ";

  auto r = sh(ofctl + "show" + tgt);
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, ContainsSubstring("dpid:0000000000abcdef"));
  CHECK_THAT(r.out, ContainsSubstring("n_tables:255"));
  CHECK_THAT(r.out, ContainsSubstring("1(eth1)"));
  CHECK_THAT(r.out, ContainsSubstring("LOCAL(br0)"));

  r = sh(ofctl + "add-flow" + tgt + "'priority=10,ip,nw_dst=10.0.0.1,actions=output:2'");
  INFO(r.out);
  REQUIRE(r.status == 0);
  REQUIRE(sh(ofctl + "add-flow" + tgt + "'table=1,priority=5,tcp,tp_dst=80,actions=drop'").status ==
          0);
  REQUIRE(sh(ofctl + "add-flow" + tgt +
             "'cookie=0x7,priority=20,in_port=1,actions=set_field:00:00:00:00:00:01->eth_dst,"
             "goto_table:1'")
              .status == 0);
  CHECK(sw.rules() == 3);
  CHECK(sw.changed >= 1);
  r = sh(ofctl + "dump-flows" + tgt);
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, ContainsSubstring("priority=10,ip,nw_dst=10.0.0.1 actions=output:2"));
  CHECK_THAT(r.out, ContainsSubstring("table=1"));
  CHECK_THAT(r.out, ContainsSubstring("tp_dst=80 actions=drop"));
  CHECK_THAT(r.out, ContainsSubstring("cookie=0x7"));
  CHECK_THAT(r.out, ContainsSubstring("goto_table:1"));

  REQUIRE(sh(ofctl + "mod-flows" + tgt + "'ip,nw_dst=10.0.0.1,actions=output:1'").status == 0);
  r = sh(ofctl + "dump-flows" + tgt + "table=0");
  CHECK_THAT(r.out, ContainsSubstring("nw_dst=10.0.0.1 actions=output:1"));
  CHECK_THAT(r.out, !ContainsSubstring("table=1"));

  // Strict delete needs the priority; non-strict removes every rule at least as specific.
  REQUIRE(sh(ofctl + "del-flows --strict" + tgt + "'priority=11,ip,nw_dst=10.0.0.1'").status == 0);
  CHECK(sw.rules() == 3);
  REQUIRE(sh(ofctl + "del-flows --strict" + tgt + "'priority=10,ip,nw_dst=10.0.0.1'").status == 0);
  CHECK(sw.rules() == 2);
  REQUIRE(sh(ofctl + "del-flows" + tgt + "cookie=0x7/-1").status == 0);
  CHECK(sw.rules() == 1);

  // Refused by the switch: ovs-ofctl prints the error, the next command works.
  r = sh(ofctl + "add-flow" + tgt + "'actions=output:2000'");
  INFO(r.out);
  CHECK(r.status != 0);
  CHECK_THAT(r.out, ContainsSubstring("OFPBAC_BAD_OUT_PORT"));
  r = sh(ofctl + "dump-tables" + tgt);
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK_THAT(r.out, ContainsSubstring("table 1:\n    active=1"));
  CHECK_THAT(r.out, ContainsSubstring("254"));
  r = sh(ofctl + "dump-table-features" + tgt);
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK_THAT(r.out, ContainsSubstring("goto_table"));
  CHECK_THAT(r.out, ContainsSubstring("254"));
  r = sh(ofctl + "dump-ports-desc" + tgt);
  CHECK_THAT(r.out, ContainsSubstring("2(eth2)"));
  r = sh(ofctl + "dump-aggregate" + tgt);
  CHECK_THAT(r.out, ContainsSubstring("flow_count=1"));
  REQUIRE(sh(ofctl + "del-flows" + tgt).status == 0);
  CHECK(sw.rules() == 0);
  CHECK(sh(ofctl + "dump-flows" + tgt).out.find("actions=") == std::string::npos);
  // Service connections are not controllers.
  CHECK(sw.controller_events == 0);
  CHECK(!sw.on_io([&] { return sw.mgr->set_service(""); }));
  CHECK(stat(path.c_str(), &st) != 0);  // the listener is gone with its socket file
}

TEST_CASE("ofswitch: a peer of a passive controller target is a controller; the service's is not",
          "[ofswitch]") {
  Switch sw(ofproto::FailMode::kStandalone);
  CHECK(sw.rules() == 1);  // NORMAL while no controller is connected
  const std::string ctl = tmp_sock("ctl"), svc = tmp_sock("svc");
  sw.on_io([&] { sw.mgr->set_targets({"punix:" + ctl}); });
  REQUIRE(!sw.on_io([&] { return sw.mgr->set_service(svc); }));
  CHECK(sw.controller_events == 0);  // a listener alone is no controller
  {
    RawPeer tool(svc);
    REQUIRE(tool.read());  // the switch's HELLO
    tool.write(encode(make_hello(1)));
    tool.write(encode(Message{kVersion13, 2, EchoRequest{{1}}}));
    auto echo = tool.read();
    REQUIRE(echo);  // negotiated and answering
    CHECK(echo->type() == MsgType::kEchoReply);
    CHECK(sw.controller_events == 0);
    CHECK(sw.rules() == 1);
    RawPeer controller(ctl);
    REQUIRE(controller.read());
    controller.write(encode(make_hello(1)));
    REQUIRE(sw.wait([&] { return sw.controller.load(); }));
    CHECK(sw.wait([&] { return sw.rules() == 0; }));  // the fail-open NORMAL rule went
    auto st = sw.on_io([&] { return sw.mgr->status(); });
    REQUIRE(st.size() == 1);  // the service socket is not a controller target
    CHECK(st[0].target == "punix:" + ctl);
  }
  REQUIRE(sw.wait([&] { return !sw.controller.load(); }));  // the controller hung up
  CHECK(sw.wait([&] { return sw.rules() == 1; }));
  CHECK(sw.controller_events == 2);
  // A service socket that cannot be created is an error, and the bridge goes on without it.
  CHECK(sw.on_io([&] { return sw.mgr->set_service("/nonexistent-dir/x.mgmt"); }));
}

TEST_CASE("ofswitch: malformed requests get OFPT_ERROR and the connection keeps working",
          "[ofswitch]") {
  Switch sw;
  const std::string path = tmp_sock("raw");
  sw.on_io([&] { sw.mgr->set_targets({"punix:" + path}); });
  RawPeer p(path);
  auto hello = p.read();
  REQUIRE(hello);
  REQUIRE(hello->type() == MsgType::kHello);
  p.write(encode(make_hello(1)));

  FlowMod bad;
  bad.command = 7;
  p.write(encode(Message{kVersion13, 2, bad}));
  CHECK(p.error() == std::pair<uint16_t, uint16_t>{5, 6});  // FLOW_MOD_FAILED / BAD_COMMAND
  // A message type no version has.
  p.write(Bytes{4, 40, 0, 8, 0, 0, 0, 3});
  CHECK(p.error() == std::pair<uint16_t, uint16_t>{1, 1});  // BAD_REQUEST / BAD_TYPE
  // A FLOW_MOD cut short.
  Bytes cut = encode(Message{kVersion13, 4, FlowMod{}});
  cut.resize(20);
  cut[3] = 20;
  p.write(cut);
  CHECK(p.error() == std::pair<uint16_t, uint16_t>{1, 6});  // BAD_REQUEST / BAD_LEN
  // Wrong version.
  Bytes v = encode(Message{kVersion13, 5, BarrierRequest{}});
  v[0] = 1;
  p.write(v);
  CHECK(p.error() == std::pair<uint16_t, uint16_t>{1, 0});  // BAD_VERSION
  // A PACKET_OUT naming a buffer (there are none).
  PacketOut po;
  po.buffer_id = 5;
  p.write(encode(Message{kVersion13, 6, po}));
  CHECK(p.error() == std::pair<uint16_t, uint16_t>{1, 8});  // BAD_REQUEST / BUFFER_UNKNOWN
  // Still working: echo, a valid FLOW_MOD and a barrier.
  p.write(encode(Message{kVersion13, 8, EchoRequest{{1, 2, 3}}}));
  auto echo = p.read();
  REQUIRE(echo);
  CHECK(echo->type() == MsgType::kEchoReply);
  CHECK(echo->xid == 8);
  FlowMod ok;
  ok.instructions = {Instruction::apply({Action::output(1)})};
  p.write(encode(Message{kVersion13, 9, ok}));
  p.write(encode(Message{kVersion13, 10, BarrierRequest{}}));
  auto barrier = p.read();
  REQUIRE(barrier);
  CHECK(barrier->type() == MsgType::kBarrierReply);
  CHECK(barrier->xid == 10);
  CHECK(sw.rules() == 1);
  CHECK(sw.on_io([&] { return !sw.of.tables().has_staged(); }));  // published at the barrier
  auto status = sw.on_io([&] { return sw.mgr->status(); });
  REQUIRE(status.size() == 1);
  CHECK(status[0].state == "listening (1 connected)");
  CHECK(status[0].connected);
}

TEST_CASE("ofswitch: active target: controller connection drives the fail mode, reconnects",
          "[ofswitch]") {
  Switch sw(ofproto::FailMode::kStandalone);
  CHECK(sw.rules() == 1);  // NORMAL while no controller is connected
  // The controller: a listener on the same io_context that keeps its connections.
  std::vector<std::shared_ptr<Connection>> conns;
  std::atomic<int> accepted{0};
  Listener ctl(sw.io, [&](Socket s) {
    auto c = Connection::create(std::move(s), {}, [](Connection&, Message&) {});
    conns.push_back(c);
    ++accepted;
    return c;
  });
  REQUIRE(!ctl.open("ptcp:0:127.0.0.1"));
  const std::string target = "tcp:127.0.0.1:" + std::to_string(ctl.port());
  sw.on_io([&] { sw.mgr->set_targets({target, "unix:/nowhere"}); });
  REQUIRE(sw.wait([&] { return sw.controller.load(); }));
  CHECK(sw.controller_events == 1);
  CHECK(sw.wait([&] { return sw.rules() == 0; }));  // the NORMAL rule went
  REQUIRE(sw.wait([&] {
    auto st = sw.on_io([&] { return sw.mgr->status(); });
    return st.size() == 2 && st[0].connected;
  }));
  auto st = sw.on_io([&] { return sw.mgr->status(); });
  CHECK(st[0].state == "connected");
  CHECK_THAT(st[1].state, ContainsSubstring("unsupported"));

  // The controller hangs up: fail mode back to NORMAL, then the connector reconnects.
  sw.on_io([&] {
    for (auto& c : conns) c->close();
  });
  REQUIRE(sw.wait([&] { return sw.controller_events >= 2; }));
  REQUIRE(sw.wait([&] { return accepted >= 2 && sw.controller.load(); }));
  CHECK(sw.controller_events == 3);

  // Removing the target ends the connection; NORMAL comes back.
  sw.on_io([&] { sw.mgr->set_targets({}); });
  CHECK(sw.controller_events == 4);
  CHECK(!sw.controller);
  CHECK(sw.rules() == 1);
  sw.on_io([&] {
    for (auto& c : conns) c->close();
    ctl.close();
  });
}

TEST_CASE("ofswitch: packet-ins go to controller connections, to the service only if asked",
          "[ofswitch]") {
  Switch sw;
  const std::string ctl = tmp_sock("pin-ctl"), svc = tmp_sock("pin-svc");
  sw.on_io([&] { sw.mgr->set_targets({"punix:" + ctl}); });
  REQUIRE(!sw.on_io([&] { return sw.mgr->set_service(svc); }));
  RawPeer controller(ctl), tool(svc);
  for (RawPeer* p : {&controller, &tool}) {
    REQUIRE(p->read());  // HELLO
    p->write(encode(make_hello(1)));
    p->write(encode(Message{kVersion13, 2, BarrierRequest{}}));
    auto b = p->read();
    REQUIRE(b);  // negotiated
    CHECK(b->type() == MsgType::kBarrierReply);
  }
  ofproto::ControllerPacket pkt;
  pkt.cookie = {ofproto::PacketInReason::kAction, 2, 0xffff, 0xabc, 0};
  pkt.in_port = 1;
  pkt.packet.assign(64, 0x5a);
  sw.on_io([&] { sw.mgr->packet_in(pkt); });
  auto m = controller.read();
  REQUIRE(m);
  REQUIRE(m->type() == MsgType::kPacketIn);
  const auto& pin = std::get<PacketIn>(m->body);
  CHECK(pin.reason == 1);
  CHECK(pin.table_id == 2);
  CHECK(pin.cookie == 0xabc);
  CHECK(pin.data == Bytes(64, 0x5a));
  // The tool got nothing: its next message is the reply to its echo.
  tool.write(encode(Message{kVersion13, 3, EchoRequest{{7}}}));
  auto e = tool.read();
  REQUIRE(e);
  CHECK(e->type() == MsgType::kEchoReply);
  // Once it sets a miss_send_len it gets them too (ovs-ofctl monitor does this).
  tool.write(encode(Message{kVersion13, 4, SetConfig{0, 0xffff}}));
  tool.write(encode(Message{kVersion13, 5, BarrierRequest{}}));
  REQUIRE(tool.read());  // barrier reply: the SET_CONFIG was handled
  sw.on_io([&] { sw.mgr->packet_in(pkt); });
  for (RawPeer* p : {&controller, &tool}) {
    auto again = p->read();
    REQUIRE(again);
    CHECK(again->type() == MsgType::kPacketIn);
  }
  CHECK(sw.on_io([&] { return sw.agent.packet_ins_sent(); }) == 3);
  CHECK(sw.on_io([&] { return sw.mgr->packet_ins_congested(); }) == 0);
}

namespace {

// Negotiates (HELLO, then a barrier round trip).
void negotiate(RawPeer& p) {
  REQUIRE(p.read());  // HELLO
  p.write(encode(make_hello(1)));
  p.write(encode(Message{kVersion13, 2, BarrierRequest{}}));
  auto b = p.read();
  REQUIRE(b);
  CHECK(b->type() == MsgType::kBarrierReply);
}

// A barrier round trip: everything p sent before is handled.
void sync(RawPeer& p, uint32_t xid) {
  p.write(encode(Message{kVersion13, xid, BarrierRequest{}}));
  auto b = p.read();
  REQUIRE(b);
  REQUIRE(b->type() == MsgType::kBarrierReply);
}

FlowMod timed_rule(uint32_t in_port, uint16_t idle, uint16_t hard, uint16_t flags) {
  FlowMod f;
  f.command = uint8_t(FlowModCommand::kAdd);
  f.priority = 100;
  f.cookie = 0x1000 + in_port;
  f.idle_timeout = idle;
  f.hard_timeout = hard;
  f.flags = flags;
  f.match.fields = {OxmField::exact(OxmId::kInPort, in_port)};
  f.instructions = {Instruction::apply({Action::output(2)})};
  return f;
}

// The next message p gets must be a FLOW_REMOVED.
FlowRemoved next_removed(RawPeer& p) {
  auto m = p.read();
  REQUIRE(m);
  REQUIRE(m->type() == MsgType::kFlowRemoved);
  return std::get<FlowRemoved>(m->body);
}

// p has nothing queued: its next message is the answer to an echo.
void nothing_for(RawPeer& p, uint32_t xid) {
  p.write(encode(Message{kVersion13, xid, EchoRequest{{9}}}));
  auto e = p.read();
  REQUIRE(e);
  CHECK(e->type() == MsgType::kEchoReply);
}

}  // namespace

TEST_CASE("ofswitch: rules expire on the ConnMgr's timer; FLOW_REMOVED goes where it is wanted",
          "[ofswitch][timeouts]") {
  Switch sw;
  const std::int64_t t0 = 5'000'000;
  *sw.now = t0;
  const std::string ctl = tmp_sock("fr-ctl"), svc = tmp_sock("fr-svc");
  sw.on_io([&] { sw.mgr->set_targets({"punix:" + ctl}); });
  REQUIRE(!sw.on_io([&] { return sw.mgr->set_service(svc); }));
  RawPeer controller(ctl), only_deletes(ctl), tool(svc);
  for (RawPeer* p : {&controller, &only_deletes, &tool}) negotiate(*p);
  // One controller wants DELETE only (master/equal mask), the tool never asked for
  // asynchronous messages.
  SetAsync a;
  a.packet_in_mask = {0x3, 0};
  a.port_status_mask = {0x7, 0x7};
  a.flow_removed_mask = {1U << 2, 0};
  only_deletes.write(encode(Message{kVersion13, 3, a}));
  sync(only_deletes, 4);

  constexpr uint16_t kSendFlowRem = 1;
  controller.write(encode(Message{kVersion13, 10, timed_rule(1, 2, 0, kSendFlowRem)}));
  controller.write(encode(Message{kVersion13, 11, timed_rule(2, 0, 3, kSendFlowRem)}));
  controller.write(encode(Message{kVersion13, 12, timed_rule(3, 1, 0, 0)}));  // no SEND_FLOW_REM
  controller.write(encode(Message{kVersion13, 13, timed_rule(4, 0, 0, kSendFlowRem)}));
  sync(controller, 14);
  REQUIRE(sw.rules() == 4);
  // Traffic from the kernel's cache, as the revalidators credit it: 3 packets, last at 1.5 s.
  sw.on_io([&] {
    for (const auto& r : sw.of.tables().rules())
      if (r->cookie == 0x1001) r->credit(3, 180, t0 + 1500);
  });

  // 2.5 s: rule 3 (idle 1 s, no traffic) goes, silently; rule 1 saw traffic at 1.5 s.
  *sw.now = t0 + 2500;
  CHECK(sw.wait([&] { return sw.rules() == 3; }));
  // 3.6 s: rule 1's idle timeout and rule 2's hard timeout have passed; the timer removes
  // them and, a little later, reports them.
  const int changed_before = sw.changed;
  *sw.now = t0 + 3600;
  CHECK(sw.wait([&] { return sw.rules() == 1; }));
  CHECK(sw.changed > changed_before);  // published: the revalidators were told
  std::vector<FlowRemoved> got = {next_removed(controller), next_removed(controller)};
  std::sort(got.begin(), got.end(),
            [](const FlowRemoved& x, const FlowRemoved& y) { return x.cookie < y.cookie; });
  CHECK(got[0].cookie == 0x1001);
  CHECK(got[0].reason == 0);  // IDLE_TIMEOUT
  CHECK(got[0].priority == 100);
  CHECK(got[0].table_id == 0);
  CHECK(got[0].idle_timeout == 2);
  CHECK(got[0].hard_timeout == 0);
  CHECK(got[0].packet_count == 3);
  CHECK(got[0].byte_count == 180);
  CHECK(got[0].duration_sec == 3);  // removed at 3.6 s (the timer's check), added at 0
  CHECK(got[0].duration_nsec == 600'000'000U);
  CHECK(got[0].match == timed_rule(1, 0, 0, 0).match);
  CHECK(got[1].cookie == 0x1002);
  CHECK(got[1].reason == 1);  // HARD_TIMEOUT
  CHECK(got[1].hard_timeout == 3);
  CHECK(got[1].packet_count == 0);

  // A FLOW_MOD delete: reason DELETE, to both controllers (also the one that deleted).
  FlowMod del;
  del.command = uint8_t(FlowModCommand::kDeleteStrict);
  del.priority = 100;
  del.match.fields = {OxmField::exact(OxmId::kInPort, 4)};
  controller.write(encode(Message{kVersion13, 20, del}));
  for (RawPeer* p : {&only_deletes, &controller}) {
    const FlowRemoved fr = next_removed(*p);
    CHECK(fr.cookie == 0x1004);
    CHECK(fr.reason == 2);  // DELETE
  }
  CHECK(sw.rules() == 0);
  // The service tool got nothing, nor did the DELETE-only controller before the delete.
  nothing_for(tool, 30);
  CHECK(sw.on_io([&] { return sw.mgr->flow_removed_sent(); }) == 4);
}

// The flush timer is armed once per batch and left to run (ConnMgr::schedule_flush()):
// FLOW_MODs without barriers publish together, each barrier still publishes everything
// before it, and a change staged while the timer runs is published when it fires.
TEST_CASE("ofswitch: a burst of FLOW_MODs publishes in batches; barriers still order",
          "[ofswitch][flush]") {
  Switch sw;
  const std::string svc = tmp_sock("burst");
  REQUIRE(!sw.on_io([&] { return sw.mgr->set_service(svc); }));
  RawPeer tool(svc);
  negotiate(tool);
  const int before = sw.changed;
  Bytes burst;
  for (uint32_t i = 1; i <= 200; ++i)
    encode_into(burst, Message{kVersion13, 10 + i, timed_rule(i, 0, 0, 0)});
  tool.write(burst);
  sync(tool, 300);
  CHECK(sw.rules() == 200);
  CHECK(sw.changed - before >= 1);
  CHECK(sw.changed - before < 200);  // batched by the timer and the barrier

  // ovs-ofctl add-flows: each FLOW_MOD followed by a barrier; at every reply the rule is
  // published.
  for (uint32_t i = 201; i <= 300; ++i) {
    tool.write(encode(Message{kVersion13, i, timed_rule(i, 0, 0, 0)}));
    sync(tool, 1000 + i);
    REQUIRE(sw.on_io([&] { return !sw.of.tables().has_staged(); }));
  }
  CHECK(sw.rules() == 300);

  // No barrier: the timer (armed by an earlier FLOW_MOD or this one) publishes it.
  const int published = sw.changed;
  tool.write(encode(Message{kVersion13, 400, timed_rule(400, 0, 0, 0)}));
  CHECK(sw.wait([&] { return sw.changed > published; }, 1000ms));
  CHECK(sw.on_io([&] { return !sw.of.tables().has_staged(); }));
  CHECK(sw.rules() == 301);
}
