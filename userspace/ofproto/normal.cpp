// NORMAL's learning switch. See normal.h.
#include "ofproto/normal.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace vsw::ofproto {
namespace {

constexpr std::uint16_t kTagPresent = VSW_VLAN_TAG_PRESENT;
constexpr std::uint16_t kVidMask = VSW_VLAN_VID_MASK;
constexpr unsigned kPcpShift = VSW_VLAN_PCP_SHIFT;

bool is_group(const std::uint8_t* mac) {
  return (mac[0] & 1) != 0;
}

// 01:80:c2:00:00:00 .. 01:80:c2:00:00:0f: link-local, never forwarded by a bridge.
bool is_reserved(const std::uint8_t* mac) {
  static constexpr std::uint8_t kPrefix[5] = {0x01, 0x80, 0xc2, 0x00, 0x00};
  return std::memcmp(mac, kPrefix, sizeof kPrefix) == 0 && (mac[5] & 0xf0) == 0;
}

Mac to_mac(const std::uint8_t* p) {
  Mac m;
  std::memcpy(m.data(), p, m.size());
  return m;
}

}  // namespace

NormalDecision normal_switch(const vsw_flow_key& flow, const PortTable& ports, MacLearning& macs,
                             bool may_learn) {
  NormalDecision d;
  std::memset(&d.mask.in_port, 0xff, sizeof d.mask.in_port);
  std::memset(d.mask.eth_src, 0xff, sizeof d.mask.eth_src);
  std::memset(d.mask.eth_dst, 0xff, sizeof d.mask.eth_dst);
  std::memset(&d.mask.vlan_tci, 0xff, sizeof d.mask.vlan_tci);

  // 1. Admission. A packet from no port (kNoInPort: a controller's PACKET_OUT) is taken
  // as from a trunk carrying every VLAN, and teaches nothing (Open vSwitch's OFPP_NONE).
  const bool from_controller = flow.in_port == kNoInPort;
  const PortTable::Port* in = from_controller ? nullptr : ports.by_dp(flow.in_port);
  if (!in && !from_controller) {
    d.drop_reason = "NORMAL: input port is not a port of the bridge";
    return d;
  }
  if (in && !in->info.up) {
    d.drop_reason = "NORMAL: input port is down";
    return d;
  }
  if (is_reserved(flow.eth_dst)) {
    d.drop_reason = "NORMAL: reserved link-local destination";
    return d;
  }

  // 2. Input VLAN.
  const std::uint16_t tci = ntohs(flow.vlan_tci);
  const bool tagged = (tci & kTagPresent) != 0;
  const std::uint16_t vid = tci & kVidMask;
  std::uint16_t vlan;
  if (!in) {
    vlan = tagged ? vid : 0;
  } else if (in->info.vlan_mode == VlanMode::kAccess) {
    if (tagged && vid != 0) {
      d.drop_reason = "NORMAL: tagged frame on an access port";
      return d;
    }
    vlan = in->info.tag;
  } else {
    vlan = tagged ? vid : 0;
    if (!in->carries(vlan)) {
      d.drop_reason = "NORMAL: VLAN not carried by the input trunk";
      return d;
    }
  }
  d.vlan = vlan;
  const std::uint16_t pcp = tagged ? static_cast<std::uint16_t>(tci >> kPcpShift) : 0;
  const auto out_tci = [&](const PortTable::Port& p) -> std::uint16_t {
    if (vlan == 0 || p.info.vlan_mode == VlanMode::kAccess) return 0;
    return static_cast<std::uint16_t>(pcp << kPcpShift | kTagPresent | vlan);
  };

  // 3. Learning.
  const Mac src = to_mac(flow.eth_src);
  if (in && !is_group(flow.eth_src)) {
    // Not a tag: what this frame is forwarded to does not depend on its source's entry.
    const MacTag src_tag{vlan, src};
    d.learns = MacLearnRef{src_tag, in->info.ofport};
    if (may_learn) {
      const auto r = macs.learn(vlan, src, in->info.ofport);
      if (r.what == MacLearning::Learned::kNew || r.what == MacLearning::Learned::kMoved)
        d.changed.push_back(src_tag);
      if (r.evicted) d.changed.push_back(*r.evicted);
    }
  }

  // 4. Destination.
  if (!is_group(flow.eth_dst)) {
    const MacTag dst_tag{vlan, to_mac(flow.eth_dst)};
    d.tags.push_back(dst_tag);
    if (const auto port = macs.lookup(vlan, dst_tag.mac)) {
      const PortTable::Port* out = ports.by_ofport(*port);
      if (out && out->carries(vlan)) {
        if (out == in) {
          d.drop_reason = "NORMAL: destination is on the input port";
        } else if (!out->forwards()) {
          d.drop_reason = "NORMAL: destination port is down or no-forward";
        } else {
          d.outputs.push_back({out->dp_port, out_tci(*out)});
        }
        return d;
      }
      // Learned on a port that no longer carries the VLAN: treat as unknown.
    }
  }

  // Flood.
  for (const PortTable::Port& p : ports.all()) {
    if (&p == in || !p.floods() || !p.carries(vlan)) continue;
    d.outputs.push_back({p.dp_port, out_tci(p)});
  }
  if (d.outputs.empty()) d.drop_reason = "NORMAL: no other port carries the VLAN";
  return d;
}

}  // namespace vsw::ofproto
