// A bridge's ports as translation sees them: OpenFlow number, datapath number, VLAN role.
//
// PortTable is an immutable snapshot built by the writer (Ofproto::set_ports) and read by
// every handler thread without locks; a new configuration is a new snapshot.
//
// VLAN roles (the rules NORMAL follows, Open vSwitch's):
//  - access port (tag = VID): carries exactly VLAN VID. Frames arrive untagged (or
//    priority-tagged, VID 0) and belong to VLAN VID; a frame tagged with a nonzero VID is
//    dropped, even VID itself. Frames leave untagged.
//  - trunk port (trunks = list, empty = all 4096): a frame belongs to the VLAN of its tag,
//    or VLAN 0 when untagged or priority-tagged; a VLAN the port does not trunk is dropped
//    (so a trunk with a list carries untagged frames only if the list holds 0). Frames
//    leave tagged with their VLAN, except VLAN 0, which leaves untagged.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/result.h"

namespace vsw::ofproto {

enum class VlanMode : std::uint8_t { kTrunk, kAccess };

struct PortInfo {
  std::uint32_t ofport = 0;  // 1..1023, or openflow::port::kLocal for the bridge's own port
  std::string name;
  VlanMode vlan_mode = VlanMode::kTrunk;
  std::uint16_t tag = 0;                  // access ports: the VLAN (0..4095)
  std::vector<std::uint16_t> trunks;      // trunk ports: VLANs carried; empty = all
  bool up = true;                         // attached and usable; down ports get no packets
  std::array<std::uint8_t, 6> hw_addr{};  // the interface's MAC (PORT_DESC, PORT_MOD's check)
  std::uint32_t config = 0;               // OpenFlow port config bits (PortConfig), from PORT_MOD
  friend bool operator==(const PortInfo&, const PortInfo&) = default;
};

// OpenFlow port config bits (OFPPC_*) translation obeys. PORT_DOWN, NO_RECV, NO_FWD and
// NO_PACKET_IN are OpenFlow 1.3's; NO_FLOOD is OpenFlow 1.0's bit, kept as an extension
// (Open vSwitch drops it from 1.3 messages).
//  - PORT_DOWN: the port neither receives nor forwards (as if its link were down);
//  - NO_RECV: everything received on the port is dropped;
//  - NO_FWD: nothing is output to the port (any action: output, IN_PORT, FLOOD, ALL, NORMAL);
//  - NO_FLOOD: FLOOD and NORMAL's flooding skip the port (ALL and direct outputs do not);
//  - NO_PACKET_IN: packets received on the port are never sent to the controllers.
namespace port_config {
inline constexpr std::uint32_t kPortDown = 1U << 0, kNoRecv = 1U << 2, kNoFlood = 1U << 4,
                               kNoFwd = 1U << 5, kNoPacketIn = 1U << 6;
inline constexpr std::uint32_t kAll = kPortDown | kNoRecv | kNoFlood | kNoFwd | kNoPacketIn;
}  // namespace port_config

inline constexpr unsigned kVlans = 4096;

// The in_port of a packet that arrived on no port: a PACKET_OUT with in_port CONTROLLER or
// ANY (Open vSwitch's OFPP_NONE bundle). OFPP_CONTROLLER's value; no datapath port has it.
inline constexpr std::uint32_t kNoInPort = 0xfffffffd;

class PortTable {
 public:
  struct Port {
    PortInfo info;
    std::uint32_t dp_port = 0;  // the datapath's number for info.ofport
    std::bitset<kVlans> vlans;  // the VLANs this port carries

    [[nodiscard]] bool carries(std::uint16_t vlan) const { return vlans.test(vlan & 0xfff); }
    // What the port's config (port_config) and link state allow. receives() reads only
    // the config: a packet that arrived (or a packet-out naming the port) is processed.
    [[nodiscard]] bool receives() const {
      return !(info.config & (port_config::kPortDown | port_config::kNoRecv));
    }
    [[nodiscard]] bool forwards() const {
      return info.up && !(info.config & (port_config::kPortDown | port_config::kNoFwd));
    }
    [[nodiscard]] bool floods() const {
      return forwards() && !(info.config & port_config::kNoFlood);
    }
  };

  PortTable() = default;
  // Checks and indexes ports: ofport valid and unique, tag and trunks 0..4095.
  [[nodiscard]] static Result<PortTable> build(std::vector<PortInfo> ports);

  // The port with this OpenFlow / datapath number, or null.
  [[nodiscard]] const Port* by_ofport(std::uint32_t ofport) const;
  [[nodiscard]] const Port* by_dp(std::uint32_t dp_port) const;
  // Every port, in datapath port order.
  [[nodiscard]] std::span<const Port> all() const { return ports_; }

 private:
  std::vector<Port> ports_;          // sorted by dp_port
  std::vector<std::int16_t> by_dp_;  // dp port -> index in ports_, -1 if none
};

}  // namespace vsw::ofproto
