// NORMAL: the standalone L2 learning switch that OpenFlow's output:NORMAL hands a packet to.
//
// Given the packet as the pipeline has it, decide the output ports and, for each, the
// VLAN tag the frame must carry when it leaves (translation then emits the pop/push
// actions, grouped so the tag changes as few times as possible). The steps:
//
//  1. Admission. The input port must exist and be up, or be kNoInPort (a controller's
//     PACKET_OUT: handled as from a trunk carrying every VLAN, never learned from, as Open
//     vSwitch's OFPP_NONE bundle). Frames to the IEEE 802.1D reserved
//     group addresses 01:80:c2:00:00:00-0f (STP, LACP, 802.1X...) are not forwarded.
//  2. Input VLAN (ports.h has the rules): access ports put untagged and priority-tagged
//     frames into their VLAN and drop frames tagged with a nonzero VID; trunk ports take
//     the tag's VID (0 when untagged or priority-tagged) and drop VLANs they do not carry.
//  3. Learning, when allowed: (VLAN, eth_src) -> input port, unless eth_src is a group
//     address. New, moved and evicted entries are reported in `changed`.
//  4. Destination. A group (multicast or broadcast) eth_dst, or an unknown unicast one,
//     floods: every other up port that carries the VLAN. A known one goes to the port it
//     was learned on, or nowhere if that is the input port (no hairpin) or the port is down.
//  5. Output VLAN: access ports and VLAN 0 leave untagged; trunk ports carry a tag with the
//     VLAN's VID and the frame's PCP (0 if it arrived untagged).
//
// Megaflow. The decision reads in_port, eth_src (learning: a flow covering another
// source would hide it from the MAC table, so eth_src is always consulted), eth_dst (all
// 48 bits: its group bit and its table lookup) and the whole vlan_tci (VID, PCP and tag
// presence). Nothing else: no eth_type, no IP or transport bits. The MAC table's part is
// named by tags: the destination entry read (hit or absent) and the source entry learned.
#pragma once

#include <linux/types.h>
#include <vsw.h>

#include <cstdint>
#include <vector>

#include "ofproto/mac_learning.h"
#include "ofproto/ports.h"

namespace vsw::ofproto {

struct NormalOutput {
  std::uint32_t dp_port = 0;
  std::uint16_t tci =
      0;  // the frame's vlan_tci on leaving (host order, kernel layout); 0 = untagged
  friend bool operator==(const NormalOutput&, const NormalOutput&) = default;
};

struct NormalDecision {
  std::vector<NormalOutput> outputs;  // in datapath port order
  std::vector<MacTag> tags;           // MAC entries the decision read
  std::vector<MacTag> changed;        // entries learned new or moved, and evicted ones
  vsw_flow_key mask{};                // the key bits the decision read
  const char* drop_reason = nullptr;  // set when there is no output, if the reason is notable
  std::uint16_t vlan = 0;             // the frame's VLAN (when admitted)
};

// flow: the packet as the pipeline has it (in_port is a datapath port number).
NormalDecision normal_switch(const vsw_flow_key& flow, const PortTable& ports, MacLearning& macs,
                             bool may_learn);

}  // namespace vsw::ofproto
