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
  for (PortInfo& p : ports) {
    const auto dp = dp_port_from_of(p.ofport);
    if (!dp) {
      return make_error(EINVAL, "port " + p.name + ": ofport " + std::to_string(p.ofport) +
                                    " is not 1..1023 or LOCAL");
    }
    if (t.by_dp_[*dp] >= 0)
      return make_error(
          EEXIST, "port " + p.name + ": ofport " + std::to_string(p.ofport) + " is used twice");
    Port port;
    port.dp_port = *dp;
    if (p.vlan_mode == VlanMode::kAccess) {
      if (p.tag >= kVlans)
        return make_error(EINVAL,
                          "port " + p.name + ": tag " + std::to_string(p.tag) + " is not 0..4095");
      port.vlans.set(p.tag);
    } else if (p.trunks.empty()) {
      port.vlans.set();
    } else {
      for (const std::uint16_t v : p.trunks) {
        if (v >= kVlans)
          return make_error(
              EINVAL, "port " + p.name + ": trunk VLAN " + std::to_string(v) + " is not 0..4095");
        port.vlans.set(v);
      }
    }
    port.info = std::move(p);
    t.by_dp_[*dp] = 0;  // placeholder; indexes are assigned after sorting
    t.ports_.push_back(std::move(port));
  }
  std::sort(t.ports_.begin(), t.ports_.end(),
            [](const Port& a, const Port& b) { return a.dp_port < b.dp_port; });
  for (std::size_t i = 0; i < t.ports_.size(); ++i)
    t.by_dp_[t.ports_[i].dp_port] = static_cast<std::int16_t>(i);
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
