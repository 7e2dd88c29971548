// PORT_MOD (OpenFlow 1.3.5 7.3.4.3), as Open vSwitch 3.1 handles it (ofproto/ofproto.c:
// handle_port_mod, port_mod_start, update_port_config).
//
// Checks, in Open vSwitch's order, each refusing the whole message:
//  - port_no as Open vSwitch decodes an OpenFlow 1.1+ port: 0xff00..0xfffffeff is
//    BAD_ACTION/BAD_OUT_PORT (its quirk); a port the bridge lacks (ANY, and every reserved
//    port but LOCAL, included): PORT_MOD_FAILED/BAD_PORT;
//  - hw_addr not the port's (PORT_DESC's): PORT_MOD_FAILED/BAD_HW_ADDR;
//  - a config or mask bit other than PORT_DOWN, NO_RECV, NO_FWD, NO_PACKET_IN and
//    OpenFlow 1.0's NO_FLOOD (ofproto::port_config): PORT_MOD_FAILED/BAD_CONFIG (Open
//    vSwitch drops such bits silently; we say so).
// Then the masked bits change. advertise is ignored (vsw sets no link features). A
// PORT_DOWN change first asks `set_link` to turn the port's interface down or up (Open
// vSwitch turns the netdev's IFF_UP off/on); if that fails the PORT_DOWN bit keeps its old
// value, without an error, as in Open vSwitch. Either way translation treats a PORT_DOWN
// port as neither receiving nor forwarding (ports.h).
#pragma once

#include <functional>
#include <optional>

#include "ofproto/ofproto.h"
#include "openflow/messages.h"
#include "util/result.h"

namespace vsw::ofswitch {

// Turns the port's interface administratively up or down (empty: PORT_DOWN only changes
// what translation does).
using SetLinkFn = std::function<Result<void>(const ofproto::PortInfo& port, bool up)>;

struct PortModOutcome {
  std::optional<openflow::OfError> error;  // refused: nothing changed
  // The port before and after, when its config changed (a PORT_STATUS MODIFY's subject).
  std::optional<ofproto::PortInfo> before, after;
};

PortModOutcome apply_port_mod(ofproto::Ofproto& ofproto, const openflow::PortMod& pm,
                              const SetLinkFn& set_link);

}  // namespace vsw::ofswitch
