// PORT_MOD checks and config changes. See port_mod.h.
#include "ofswitch/port_mod.h"

#include <algorithm>
#include <variant>

#include "ofswitch/agent.h"
#include "util/log.h"

namespace vsw::ofswitch {
namespace {

using openflow::ErrType;
namespace pc = ofproto::port_config;

constexpr std::uint16_t kPmfcBadPort = 0, kPmfcBadHwAddr = 1, kPmfcBadConfig = 2;
constexpr std::uint16_t kBacBadOutPort = 4;
constexpr std::uint32_t kOfppMax10 = 0xff00, kOfppMax11 = 0xffffff00;

}  // namespace

PortModOutcome apply_port_mod(ofproto::Ofproto& ofproto, const openflow::PortMod& pm,
                              const SetLinkFn& set_link) {
  PortModOutcome out;
  if (pm.port_no >= kOfppMax10 && pm.port_no < kOfppMax11) {
    out.error = openflow::make_error(ErrType::kBadAction, kBacBadOutPort);
    return out;
  }
  const auto& ports = ofproto.ports();
  const auto it = std::find_if(ports.begin(), ports.end(),
                               [&](const ofproto::PortInfo& p) { return p.ofport == pm.port_no; });
  if (it == ports.end()) {
    out.error = openflow::make_error(ErrType::kPortModFailed, kPmfcBadPort);
    return out;
  }
  if (it->hw_addr != pm.hw_addr) {
    out.error = openflow::make_error(ErrType::kPortModFailed, kPmfcBadHwAddr);
    return out;
  }
  if ((pm.config | pm.mask) & ~pc::kAll) {
    out.error = openflow::make_error(ErrType::kPortModFailed, kPmfcBadConfig);
    return out;
  }
  out.before = *it;  // a copy: set_port_config() replaces the port list
  const ofproto::PortInfo& before = *out.before;
  std::uint32_t toggle = (pm.config ^ before.config) & pm.mask;
  if ((toggle & pc::kPortDown) && set_link) {
    const bool up = !(pm.config & pc::kPortDown);
    if (auto r = set_link(before, up); !r) {
      log::warn("PORT_MOD: cannot turn %s %s: %s", before.name.c_str(), up ? "up" : "down",
                r.error().to_string().c_str());
      toggle &= ~pc::kPortDown;
    }
  }
  if (!toggle) {
    out.before.reset();
    return out;
  }
  (void)ofproto.set_port_config(before.ofport, before.config ^ toggle);
  out.after = before;
  out.after->config ^= toggle;
  return out;
}

void Agent::port_mod(const openflow::Message& m, const SendFn& send) {
  const PortModOutcome o =
      apply_port_mod(ofproto_, std::get<openflow::PortMod>(m.body), hooks_.set_link);
  if (o.error) return error(m, *o.error, send);
  if (!o.after) return;  // nothing changed
  // The port's config changed: every cached megaflow may now be wrong (as a rule change).
  if (hooks_.rules_changed) hooks_.rules_changed();
  // PORT_STATUS MODIFY hook point: o.before / o.after are the port's old and new state;
  // Open vSwitch sends PORT_STATUS (reason MODIFY) to every connection but this one.
}

}  // namespace vsw::ofswitch
