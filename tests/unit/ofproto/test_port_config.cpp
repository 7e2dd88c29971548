// PORT_MOD's port config bits in translation (ports.h port_config): NO_RECV and PORT_DOWN
// drop what a port receives, NO_FWD and PORT_DOWN keep every kind of output off a port,
// NO_FLOOD keeps FLOOD and NORMAL's flooding (not ALL) off it, NO_PACKET_IN stops packets from
// a port reaching the controllers; the config survives set_ports() for the same port.
#include <catch2/catch_test_macros.hpp>

#include "ofproto/controller_cookie.h"
#include "ofproto/key_map.h"
#include "ofproto/ofproto.h"
#include "test_util.h"

using namespace vsw::ofproto;
using namespace vsw::ofproto::test;
using vsw::openflow::Action;
using vsw::openflow::Instruction;
using vsw::openflow::OxmField;
using vsw::openflow::OxmId;
namespace P = vsw::openflow::port;
namespace pc = vsw::ofproto::port_config;

namespace {

vsw::classifier::Match in_port(std::uint32_t p) {
  return match({OxmField::exact(OxmId::kInPort, p)});
}

// A secure bridge with trunk ports 1..5; in_port=N runs `actions`.
struct Bridge {
  Ofproto of{options(FailMode::kSecure)};
  Bridge() {
    std::vector<PortInfo> ports;
    for (std::uint32_t p = 1; p <= 5; ++p) ports.push_back(trunk_port(p));
    REQUIRE(of.set_ports(ports));
  }
  void on(std::uint32_t port, std::vector<Action> actions) {
    REQUIRE(of.tables().add(RuleSpec{0, in_port(port), 1, 0, {Instruction::apply(actions)}}));
    of.tables().publish();
  }
  std::string out(std::uint32_t port, std::uint64_t src = 1, std::uint64_t dst = 2) {
    return text(of.translate(l2_key(port, src, dst), /*may_learn=*/true).actions);
  }
};

}  // namespace

TEST_CASE("port config: NO_FWD keeps every kind of output off the port") {
  Bridge b;
  b.on(1, {Action::output(4), Action::output(P::kFlood)});
  b.on(2, {Action::output(P::kAll)});
  b.on(4, {Action::output(P::kInPort), Action::output(3)});
  CHECK(b.out(1) == want("4,2,3,4,5"));
  REQUIRE(b.of.set_port_config(4, pc::kNoFwd));
  CHECK(b.out(1) == want("2,3,5"));
  CHECK(b.out(2) == want("1,3,5"));
  CHECK(b.out(4) == want("3"));  // it still receives; IN_PORT is an output to it
  REQUIRE(b.of.set_port_config(4, 0));
  CHECK(b.out(1) == want("4,2,3,4,5"));
}

TEST_CASE("port config: NO_FLOOD leaves the port out of FLOOD only, not ALL or direct outputs") {
  Bridge b;
  b.on(1, {Action::output(P::kFlood)});
  b.on(2, {Action::output(P::kAll), Action::output(5)});
  REQUIRE(b.of.set_port_config(5, pc::kNoFlood));
  CHECK(b.out(1) == want("2,3,4"));
  CHECK(b.out(2) == want("1,3,4,5,5"));
}

TEST_CASE("port config: NO_RECV and PORT_DOWN drop everything the port receives") {
  Bridge b;
  b.on(1, {Action::output(2)});
  b.on(2, {Action::output(1)});
  REQUIRE(b.of.set_port_config(1, pc::kNoRecv));
  XlateResult r = b.of.translate(l2_key(1, 1, 2), false);
  CHECK(r.actions.empty());
  CHECK(r.reason == "input port 1 is configured no-receive");
  CHECK(r.megaflow.mask.in_port == 0xffffffff);  // the drop holds for this port only
  CHECK(b.out(2) == want("1"));                  // NO_RECV still forwards to it

  REQUIRE(b.of.set_port_config(1, pc::kPortDown));
  CHECK(b.out(1) == text({}));
  CHECK(b.out(2) == text({}));  // down: nothing to it either
  CHECK(b.of.translate(l2_key(2, 1, 2), false).reason == "output port 1 is configured down");
  // A packet-out naming the port as in_port is dropped as well (Open vSwitch's may_receive).
  CHECK(b.of.translate_actions(l2_key(1, 1, 2), {Action::output(3)}, false).actions.empty());
}

TEST_CASE("port config: NORMAL floods past NO_FLOOD and NO_FWD ports, never forwards to NO_FWD") {
  Bridge b;
  for (std::uint32_t p = 1; p <= 5; ++p) b.on(p, {Action::output(P::kNormal)});
  REQUIRE(b.of.set_port_config(3, pc::kNoFlood));
  REQUIRE(b.of.set_port_config(4, pc::kNoFwd));
  CHECK(b.out(1, 0xa, 0xb) == want("2,5"));  // 0xb unknown: flood
  CHECK(b.out(3, 0xb, 0xa) == want("1"));    // learned 0xb on 3, 0xa on 1 (NO_FLOOD receives)
  CHECK(b.out(1, 0xa, 0xb) == want("3"));    // a known destination on a NO_FLOOD port
  CHECK(b.out(4, 0xc, 0xa) == want("1"));    // NO_FWD receives (and learns 0xc on 4)
  const XlateResult r = b.of.translate(l2_key(1, 0xa, 0xc), false);
  CHECK(r.actions.empty());
  CHECK(r.reason == "NORMAL: destination port is down or no-forward");
}

TEST_CASE("port config: NO_PACKET_IN stops packets from the port reaching the controllers") {
  Bridge b;
  b.on(1, {Action::output(2), Action::output(P::kController)});
  b.on(2, {Action::output(P::kController)});
  REQUIRE(b.of.set_port_config(1, pc::kNoPacketIn));
  CHECK(b.out(1) == want("2"));
  const XlateResult r = b.of.translate(l2_key(2, 1, 2), false);
  REQUIRE(r.actions.size() == 1);
  CHECK(std::holds_alternative<vsw::dpif::UserspaceAction>(r.actions[0]));
  // The table-miss rule's NO_MATCH packet-ins too.
  REQUIRE(b.of.tables().add(RuleSpec{
      0, vsw::classifier::Match{}, 0, 0, {Instruction::apply({Action::output(P::kController)})}}));
  b.of.tables().publish();
  CHECK(b.out(5).starts_with("userspace("));
  REQUIRE(b.of.set_port_config(5, pc::kNoPacketIn));
  const XlateResult none = b.of.translate(l2_key(5, 1, 2), false);
  CHECK(none.actions.empty());
  CHECK(none.reason == "input port 5 is configured no-packet-in");
}

TEST_CASE("port config: kept across set_ports() for the same port, forgotten otherwise") {
  Bridge b;
  CHECK_FALSE(b.of.set_port_config(9, pc::kNoFwd));
  REQUIRE(b.of.set_port_config(2, pc::kNoFwd | pc::kNoRecv));
  REQUIRE(b.of.set_port_config(3, pc::kNoFlood));
  std::vector<PortInfo> ports;
  for (std::uint32_t p = 1; p <= 5; ++p) ports.push_back(trunk_port(p));
  ports[1].up = false;      // a link change keeps the config
  ports[2].name = "other";  // another interface on ofport 3: a new port
  REQUIRE(b.of.set_ports(ports));
  CHECK(b.of.ports()[1].config == (pc::kNoFwd | pc::kNoRecv));
  CHECK(b.of.ports()[2].config == 0);
  ports.erase(ports.begin() + 1);  // port 2 goes away and comes back: config forgotten
  REQUIRE(b.of.set_ports(ports));
  ports.insert(ports.begin() + 1, trunk_port(2));
  REQUIRE(b.of.set_ports(ports));
  CHECK(b.of.ports()[1].config == 0);
}
