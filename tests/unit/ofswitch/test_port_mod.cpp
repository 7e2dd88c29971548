// PORT_MOD through the agent: the spec's errors in Open vSwitch's order (nothing changes and
// nothing is revalidated), config bits kept and shown in PORT_DESC, a change revalidates
// once (no change: not at all), PORT_DOWN through the set_link hook (a failure keeps the bit).
#include <catch2/catch_test_macros.hpp>
#include <variant>

#include "ofswitch/agent.h"
#include "openflow/codec.h"
#include "rig.h"

using namespace vsw;
using namespace vsw::openflow;
using namespace vsw::ofswitch::test;
namespace pc = vsw::ofproto::port_config;

namespace {

constexpr Mac kMac1{0x02, 0, 0, 0, 0, 0x01};

struct Rig {
  ofproto::Ofproto of;
  int changed = 0;
  std::vector<std::pair<std::string, bool>> links;  // set_link calls
  bool link_fails = false;
  ofswitch::Agent agent;
  ofswitch::Session session;

  Rig() : agent(of, "br0", hooks()) {
    std::vector<ofproto::PortInfo> ports(2);
    ports[0].ofport = port::kLocal;
    ports[0].name = "br0";
    ports[1].ofport = 1;
    ports[1].name = "eth1";
    ports[1].hw_addr = kMac1;
    REQUIRE(of.set_ports(ports));
  }
  ofswitch::Agent::Hooks hooks() {
    ofswitch::Agent::Hooks h;
    h.rules_changed = [this] { ++changed; };
    h.set_link = [this](const ofproto::PortInfo& p, bool up) -> vsw::Result<void> {
      links.emplace_back(p.name, up);
      if (link_fails) return vsw::make_error(EPERM, "not allowed");
      return {};
    };
    return h;
  }
  std::vector<Message> send(Body body) { return handle(agent, session, std::move(body)); }
  std::pair<uint16_t, uint16_t> error_of(const PortMod& pm) { return error_code(send(pm)); }
  // PORT_DESC's config of port_no.
  uint32_t config(uint32_t port_no) {
    for (const Port& p :
         multipart_body<PortDescReply>(send(MultipartRequest{0, PortDescRequest{}})).entries)
      if (p.port_no == port_no) return p.config;
    FAIL("no port " << port_no);
    return 0;
  }
};

PortMod mod(uint32_t port_no, uint32_t config, uint32_t mask, Mac hw = kMac1) {
  PortMod pm;
  pm.port_no = port_no;
  pm.hw_addr = hw;
  pm.config = config;
  pm.mask = mask;
  return pm;
}

}  // namespace

TEST_CASE("ofswitch: bad PORT_MODs get Open vSwitch's errors and change nothing", "[ofswitch]") {
  Rig rig;
  using P = std::pair<uint16_t, uint16_t>;
  CHECK(rig.error_of(mod(7, pc::kNoFwd, pc::kNoFwd)) == P{7, 0});           // BAD_PORT
  CHECK(rig.error_of(mod(port::kAny, pc::kNoFwd, pc::kNoFwd)) == P{7, 0});  // ANY: no port
  CHECK(rig.error_of(mod(0xff00, pc::kNoFwd, pc::kNoFwd)) == P{2, 4});      // BAD_OUT_PORT
  CHECK(rig.error_of(mod(1, pc::kNoFwd, pc::kNoFwd, Mac{})) == P{7, 1});    // BAD_HW_ADDR
  CHECK(rig.error_of(mod(1, 1U << 1, 1U << 1)) == P{7, 2});                 // NO_STP: BAD_CONFIG
  CHECK(rig.error_of(mod(1, 0, 1U << 7)) == P{7, 2});
  CHECK(rig.error_of(mod(1, 1U << 3, 0)) == P{7, 2});  // NO_RECV_STP in config alone too
  // The port's number is checked before its address, its address before the bits.
  CHECK(rig.error_of(mod(7, 1U << 1, 1U << 1, Mac{})) == P{7, 0});
  CHECK(rig.error_of(mod(1, 1U << 1, 1U << 1, Mac{})) == P{7, 1});
  CHECK(rig.config(1) == 0);
  CHECK(rig.changed == 0);
  CHECK(rig.agent.errors_sent() == 9);
}

TEST_CASE("ofswitch: PORT_MOD sets config bits, shown in PORT_DESC, and revalidates",
          "[ofswitch]") {
  Rig rig;
  CHECK(rig.send(mod(1, pc::kNoFwd | pc::kNoPacketIn, pc::kNoFwd | pc::kNoPacketIn)).empty());
  CHECK(rig.config(1) == (pc::kNoFwd | pc::kNoPacketIn));
  CHECK(rig.changed == 1);
  // Only masked bits change; the same config again changes nothing and revalidates nothing.
  CHECK(rig.send(mod(1, pc::kNoRecv, pc::kNoPacketIn)).empty());
  CHECK(rig.config(1) == pc::kNoFwd);
  CHECK(rig.changed == 2);
  CHECK(rig.send(mod(1, pc::kNoFwd, pc::kNoFwd)).empty());
  CHECK(rig.changed == 2);
  // NO_FLOOD (OpenFlow 1.0's bit) is accepted as an extension; the bridge's own port too.
  CHECK(rig.send(mod(1, pc::kNoFlood, pc::kNoFlood | pc::kNoFwd)).empty());
  CHECK(rig.config(1) == pc::kNoFlood);
  CHECK(rig.send(mod(port::kLocal, pc::kNoRecv, pc::kNoRecv, Mac{})).empty());
  CHECK(rig.config(port::kLocal) == pc::kNoRecv);
  CHECK(rig.links.empty());  // no PORT_DOWN change: the link is left alone
  CHECK(rig.agent.errors_sent() == 0);
}

TEST_CASE("ofswitch: PORT_MOD's PORT_DOWN turns the interface down and up", "[ofswitch]") {
  Rig rig;
  CHECK(rig.send(mod(1, pc::kPortDown, pc::kPortDown)).empty());
  CHECK(rig.config(1) == pc::kPortDown);
  REQUIRE(rig.links.size() == 1);
  CHECK(rig.links[0] == std::pair<std::string, bool>{"eth1", false});
  CHECK(rig.send(mod(1, pc::kPortDown, pc::kPortDown)).empty());  // already down: no call
  CHECK(rig.links.size() == 1);
  CHECK(rig.send(mod(1, 0, pc::kPortDown)).empty());
  CHECK(rig.links.back() == std::pair<std::string, bool>{"eth1", true});
  CHECK(rig.config(1) == 0);
  // The interface cannot be turned down: no error, the bit stays clear, the others change.
  rig.link_fails = true;
  const int before = rig.changed;
  CHECK(rig.send(mod(1, pc::kPortDown | pc::kNoFwd, pc::kPortDown | pc::kNoFwd)).empty());
  CHECK(rig.config(1) == pc::kNoFwd);
  CHECK(rig.changed == before + 1);
}
