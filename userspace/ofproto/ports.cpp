// Port snapshot construction and lookups. See ports.h.
#include "ofproto/ports.h"

#include <linux/types.h>
#include <vsw.h>

#include <algorithm>
#include <cerrno>

#include "ofproto/key_map.h"

namespace vsw::ofproto {

Result<PortTable> PortTable::build(std::vector<PortInfo> ports) {
  PortTable t;
  t.by_dp_.assign(VSW_MAX_PORTS, -1);
  // First each port's datapath number is checked and noted (by_dp_ holds its index into
  // `ports` for now); then the table is filled in datapath-port order, with no sort of
  // the 600-byte Ports (a bridge may have 1,000).
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const PortInfo& p = ports[i];
    const auto dp = dp_port_from_of(p.ofport);
    if (!dp) {
      return make_error(EINVAL, "port " + p.name + ": ofport " + std::to_string(p.ofport) +
                                    " is not 1..1023 or LOCAL");
    }
    if (t.by_dp_[*dp] >= 0)
      return make_error(
          EEXIST, "port " + p.name + ": ofport " + std::to_string(p.ofport) + " is used twice");
    if (p.vlan_mode == VlanMode::kAccess && p.tag >= kVlans)
      return make_error(EINVAL,
                        "port " + p.name + ": tag " + std::to_string(p.tag) + " is not 0..4095");
    if (p.vlan_mode != VlanMode::kAccess)
      for (const std::uint16_t v : p.trunks)
        if (v >= kVlans)
          return make_error(
              EINVAL, "port " + p.name + ": trunk VLAN " + std::to_string(v) + " is not 0..4095");
    t.by_dp_[*dp] = static_cast<std::int16_t>(i);
  }
  t.ports_.reserve(ports.size());
  for (std::uint32_t dp = 0; dp < VSW_MAX_PORTS; ++dp) {
    if (t.by_dp_[dp] < 0) continue;
    PortInfo& p = ports[static_cast<std::size_t>(t.by_dp_[dp])];
    Port& port = t.ports_.emplace_back();
    port.dp_port = dp;
    if (p.vlan_mode == VlanMode::kAccess)
      port.vlans.set(p.tag);
    else if (p.trunks.empty())
      port.vlans.set();
    else
      for (const std::uint16_t v : p.trunks) port.vlans.set(v);
    port.info = std::move(p);
    t.by_dp_[dp] = static_cast<std::int16_t>(t.ports_.size() - 1);
  }
  return t;
}

const PortTable::Port* PortTable::by_dp(std::uint32_t dp_port) const {
  if (dp_port >= by_dp_.size() || by_dp_[dp_port] < 0) return nullptr;
  return &ports_[static_cast<std::size_t>(by_dp_[dp_port])];
}

const PortTable::Port* PortTable::by_ofport(std::uint32_t ofport) const {
  const auto dp = dp_port_from_of(ofport);
  return dp ? by_dp(*dp) : nullptr;
}

}  // namespace vsw::ofproto
