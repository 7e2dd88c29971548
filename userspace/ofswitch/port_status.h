// PORT_STATUS (OpenFlow 1.3.5 7.4.3): what connections are told about the bridge's ports.
//
// The ConnMgr keeps the PORT_DESC entries it last reported (Agent::port_desc(): number,
// name, config, state; the body PORT_DESC shows) and, when told the ports may have changed
// (ConnMgr::ports_changed()), diffs them against the current ones with port_changes(): a
// new port number is ADD, a vanished one DELETE (with its last description), an entry that
// differs in anything (its link going down sets OFPPS_LINK_DOWN in state; a PORT_MOD
// changing its config) is MODIFY. Each change goes to every negotiated connection whose
// asynchronous configuration for its role (Session::port_status_mask, element 0 for master
// and equal, 1 for slave; by default every reason for both) has the reason; a service
// connection (BR.mgmt) only once it set a nonzero miss_send_len, as in Open vSwitch.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "ofswitch/agent.h"
#include "openflow/codec.h"

namespace vsw::ofswitch {

// ofp_port_reason.
inline constexpr std::uint8_t kPortAdd = 0, kPortDelete = 1, kPortModify = 2;

// The changes from known to now, in port number order (DELETEs first); known becomes now.
[[nodiscard]] std::vector<openflow::PortStatus> port_changes(
    std::map<std::uint32_t, openflow::Port>& known, const openflow::PortDescReply& now);

// The OFPT_PORT_STATUS (xid 0) for session, or nothing when it does not want it.
[[nodiscard]] std::optional<openflow::Bytes> port_status(const Session& session,
                                                         const openflow::PortStatus& ps);

}  // namespace vsw::ofswitch
