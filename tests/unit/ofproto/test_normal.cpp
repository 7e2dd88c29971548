// NORMAL through a standalone bridge: flooding, learning, unicast, no hairpin, access and
// trunk VLAN rules with push/pop, tags and changed entries, and megaflows that carry only
// in_port, Ethernet addresses and the VLAN TCI.
#include <catch2/catch_test_macros.hpp>

#include <cstring>

#include "ofproto/key_map.h"
#include "ofproto/ofproto.h"
#include "test_util.h"

using namespace vsw::ofproto;
using namespace vsw::ofproto::test;

namespace {

constexpr std::uint64_t kA = 0x0000000000a1, kB = 0x0000000000b2, kC = 0x0000000000c3;
constexpr std::uint64_t kBroadcast = 0xffffffffffff;

PortInfo access(std::uint32_t n, std::uint16_t tag) {
  return access_port(n, tag);
}

PortInfo trunk(std::uint32_t n, std::vector<std::uint16_t> trunks = {}) {
  return trunk_port(n, std::move(trunks));
}

// 1, 2: access VLAN 10; 3: access VLAN 20; 4: trunk (all); 5: trunk 10; 6: trunk 20.
std::vector<PortInfo> bridge_ports() {
  return {access(1, 10), access(2, 10), access(3, 20), trunk(4), trunk(5, {10}), trunk(6, {20})};
}

vsw_flow_key normal_mask() {
  vsw_flow_key m{};
  std::memset(&m.in_port, 0xff, sizeof m.in_port);
  std::memset(m.eth_src, 0xff, 6);
  std::memset(m.eth_dst, 0xff, 6);
  std::memset(&m.vlan_tci, 0xff, sizeof m.vlan_tci);
  return m;
}

struct Bridge {
  Ofproto of;
  explicit Bridge(std::vector<PortInfo> ports = bridge_ports()) {
    REQUIRE(of.set_ports(std::move(ports)));
  }
  XlateResult send(const vsw_flow_key& k, std::vector<MacTag>* changed = nullptr) {
    return of.translate(k, true, changed);
  }
};

}  // namespace

TEST_CASE("NORMAL floods unknown unicast within the VLAN, tagging for trunks") {
  Bridge br;
  const auto r = br.send(l2_key(1, kA, kB));
  CHECK(text(r.actions) == want("2,push_vlan(vid=10),4,5"));
  CHECK(r.reason.empty());
  const vsw_flow_key nm = normal_mask();
  CHECK(std::memcmp(&r.megaflow.mask, &nm, sizeof nm) == 0);
  REQUIRE(r.rules.size() == 1);  // the fail-mode rule
  CHECK(r.rules[0]->priority == 0);
  // Tags: the absent destination only; the source is what it learns, not what it read.
  CHECK(r.tags == std::vector<MacTag>{MacTag{10, mac(kB)}});
  REQUIRE(r.learns);
  CHECK(*r.learns == MacLearnRef{MacTag{10, mac(kA)}, 1});
}

TEST_CASE("NORMAL learns and then forwards unicast, popping or keeping tags") {
  Bridge br;
  std::vector<MacTag> changed;
  br.send(l2_key(1, kA, kB), &changed);
  CHECK(changed == std::vector<MacTag>{MacTag{10, mac(kA)}});
  changed.clear();
  // B answers from trunk 4, tagged VLAN 10 with PCP 3: A is on access port 1.
  auto r = br.send(l2_key(4, kB, kA, tagged(10, 3)), &changed);
  CHECK(text(r.actions) == want("pop_vlan,1"));
  CHECK(changed == std::vector<MacTag>{MacTag{10, mac(kB)}});
  CHECK(br.of.macs().lookup(10, mac(kB)) == 4U);
  // A to B again: out of trunk 4 with a pushed tag.
  r = br.send(l2_key(1, kA, kB));
  CHECK(text(r.actions) == want("push_vlan(vid=10),4"));
  // C on trunk 5 to B on trunk 4: same tag, no VLAN action, PCP kept.
  r = br.send(l2_key(5, kC, kB, tagged(10, 7)));
  CHECK(text(r.actions) == want("4"));
}

TEST_CASE("NORMAL never sends a frame back where it came from") {
  Bridge br;
  br.send(l2_key(1, kA, kB));
  br.send(l2_key(1, kB, kC));  // B is on port 1 as well
  const auto r = br.send(l2_key(1, kA, kB));
  CHECK(r.actions.empty());
  CHECK(r.reason.find("input port") != std::string::npos);
}

TEST_CASE("access ports drop VID-tagged frames and take priority-tagged ones") {
  Bridge br;
  auto r = br.send(l2_key(1, kA, kBroadcast, tagged(10)));
  CHECK(r.actions.empty());
  CHECK(r.reason.find("access port") != std::string::npos);
  CHECK(!br.of.macs().lookup(10, mac(kA)));  // not learned either
  // Priority tag (VID 0, PCP 5): VLAN 10; the trunks get tag 10 with PCP 5.
  r = br.send(l2_key(1, kA, kBroadcast, tagged(0, 5)));
  CHECK(text(r.actions) == want("pop_vlan,2,push_vlan(vid=10,pcp=5),4,5"));
}

TEST_CASE("trunks carry only their VLANs; untagged is VLAN 0") {
  Bridge br;
  // Trunk 5 carries only VLAN 10: untagged (VLAN 0) and VLAN 20 are dropped.
  CHECK(br.send(l2_key(5, kA, kBroadcast)).actions.empty());
  CHECK(br.send(l2_key(5, kA, kBroadcast, tagged(20))).actions.empty());
  // Trunk 4 carries everything: VLAN 20 reaches access 3 (untagged) and trunk 6 (tagged).
  auto r = br.send(l2_key(4, kA, kBroadcast, tagged(20)));
  CHECK(text(r.actions) == want("6,pop_vlan,3"));
  // Untagged on trunk 4 is VLAN 0: no access port has tag 0, no other trunk lists 0.
  r = br.send(l2_key(4, kA, kBroadcast));
  CHECK(r.actions.empty());
  // VLAN 0 leaves untagged, even when it arrived priority-tagged.
  Bridge br2({trunk(1), trunk(2), trunk(3, {0, 10}), access(4, 0)});
  r = br2.send(l2_key(1, kA, kBroadcast, tagged(0, 4)));
  CHECK(text(r.actions) == want("pop_vlan,2,3,4"));
}

TEST_CASE("VLANs are separate learning domains") {
  Bridge br;
  br.send(l2_key(1, kA, kB));           // A in VLAN 10 on port 1
  auto r = br.send(l2_key(3, kB, kA));  // VLAN 20 does not know A: flood in VLAN 20
  CHECK(text(r.actions) == want("push_vlan(vid=20),4,6"));
  CHECK(r.tags == std::vector<MacTag>{MacTag{20, mac(kA)}});
  REQUIRE(r.learns);
  CHECK(*r.learns == MacLearnRef{MacTag{20, mac(kB)}, 3});
}

TEST_CASE("broadcast and multicast flood; group sources are not learned") {
  Bridge br;
  auto r = br.send(l2_key(2, kA, kBroadcast));
  CHECK(text(r.actions) == want("1,push_vlan(vid=10),4,5"));
  CHECK(r.tags.empty());  // no tag for a group destination
  REQUIRE(r.learns);
  CHECK(*r.learns == MacLearnRef{MacTag{10, mac(kA)}, 2});
  r = br.send(l2_key(2, kA, 0x01005e000001));
  CHECK(text(r.actions) == want("1,push_vlan(vid=10),4,5"));
  std::vector<MacTag> changed;
  br.send(l2_key(2, 0x01005e0000aa, kA), &changed);
  CHECK(changed.empty());
  CHECK(!br.of.macs().lookup(10, mac(0x01005e0000aa)));
}

TEST_CASE("reserved link-local destinations are not forwarded") {
  Bridge br;
  const auto r = br.send(l2_key(1, kA, 0x0180c2000000));
  CHECK(r.actions.empty());
  CHECK(r.reason.find("reserved") != std::string::npos);
}

TEST_CASE("down ports neither send nor receive; unknown input ports drop") {
  auto ports = bridge_ports();
  ports[1].up = false;  // port 2
  Bridge br(ports);
  auto r = br.send(l2_key(1, kA, kBroadcast));
  CHECK(text(r.actions) == want("push_vlan(vid=10),4,5"));
  CHECK(br.send(l2_key(2, kB, kBroadcast)).actions.empty());
  r = br.send(l2_key(9, kB, kBroadcast));
  CHECK(r.actions.empty());
  CHECK(r.reason.find("not a port") != std::string::npos);
  // A destination learned on a port that then went down: dropped, not flooded.
  br.send(l2_key(4, kC, kA, tagged(10)));  // C on trunk 4
  ports[3].up = false;
  REQUIRE(br.of.set_ports(ports));
  r = br.send(l2_key(1, kA, kC));
  CHECK(r.actions.empty());
}

TEST_CASE("a MAC move is reported, counted and followed") {
  Bridge br;
  br.send(l2_key(1, kA, kB));
  std::vector<MacTag> changed;
  br.send(l2_key(2, kA, kB), &changed);
  CHECK(changed == std::vector<MacTag>{MacTag{10, mac(kA)}});
  CHECK(br.of.macs().stats().moved == 1);
  const auto r = br.send(l2_key(4, kB, kA, tagged(10)));
  CHECK(text(r.actions) == want("pop_vlan,2"));
}

TEST_CASE("set_ports flushes entries of removed or re-tagged ports") {
  Bridge br;
  br.send(l2_key(1, kA, kB));
  br.send(l2_key(3, kC, kB));
  auto ports = bridge_ports();
  ports[0].tag = 30;               // port 1 moves to VLAN 30
  ports.erase(ports.begin() + 2);  // port 3 removed
  std::vector<MacTag> flushed;
  REQUIRE(br.of.set_ports(ports, &flushed));
  std::sort(flushed.begin(), flushed.end());
  CHECK(flushed == std::vector<MacTag>{MacTag{10, mac(kA)}, MacTag{20, mac(kC)}});
  CHECK(br.of.macs().stats().entries == 0);
  // Invalid port lists are refused and change nothing.
  CHECK(!br.of.set_ports({access(1, 10), access(1, 20)}));
  CHECK(!br.of.set_ports({access(1, 5000)}));
  CHECK(!br.of.set_ports({trunk(2000)}));
  CHECK(br.of.ports().size() == ports.size());
}

TEST_CASE("NORMAL megaflows never carry eth_type, IP or transport bits") {
  Bridge br;
  KeyGen gen(seed() + 7);
  for (int i = 0; i < 2000; ++i) {
    const auto r = br.send(gen.key());
    vsw_flow_key outside = r.megaflow.mask;
    std::memset(&outside.in_port, 0, sizeof outside.in_port);
    std::memset(outside.eth_src, 0, 6);
    std::memset(outside.eth_dst, 0, 6);
    std::memset(&outside.vlan_tci, 0, sizeof outside.vlan_tci);
    REQUIRE(mask_is_zero(outside));
  }
}

TEST_CASE("the local port takes part in NORMAL as datapath port 0") {
  PortInfo local = trunk(vsw::openflow::port::kLocal);
  local.name = "br0";
  Bridge br({local, access(1, 0), trunk(2)});
  auto r = br.send(l2_key(0, kA, kBroadcast));
  CHECK(text(r.actions) == want("1,2"));
  r = br.send(l2_key(1, kB, kA));
  CHECK(text(r.actions) == want("0"));
  CHECK(br.of.macs().lookup(0, mac(kA)) == vsw::openflow::port::kLocal);
}

TEST_CASE("more outputs than the datapath takes drop with a reason") {
  std::vector<PortInfo> many;
  for (std::uint32_t p = 1; p <= 40; ++p) many.push_back(trunk(p));
  Bridge br(many);
  const auto r = br.send(l2_key(1, kA, kBroadcast));
  CHECK(r.actions.empty());
  CHECK(r.reason.find("datapath actions") != std::string::npos);
}
