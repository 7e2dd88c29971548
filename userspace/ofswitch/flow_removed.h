// FLOW_REMOVED: what one connection is told about a rule that left the tables.
//
// The tables log every rule with OFPFF_SEND_FLOW_REM that a FLOW_MOD delete (reason DELETE)
// or an expiry (IDLE_TIMEOUT, HARD_TIMEOUT) removed (ofproto::Tables::take_removed()); the
// ConnMgr hands each entry to every negotiated connection through flow_removed(), which
// decides whether that connection wants it, as Open vSwitch does: its asynchronous
// configuration for its current role (Session::flow_removed_mask, element 0 for master and
// equal, 1 for slave, set by SET_ASYNC; by default IDLE, HARD, DELETE and GROUP_DELETE for
// master/equal, nothing for slaves) has the reason, and a service connection
// (BR.mgmt) gets asynchronous messages only after it set a nonzero miss_send_len.
//
// The message carries the rule's cookie, priority, table, timeouts and match (as the
// controller sent it), its duration from its creation to its removal, and its packet and
// byte counts when the message is built (the revalidators credit a deleted megaflow's last
// counters to its rules, so the ConnMgr builds it shortly after the removal was published).
#pragma once

#include <optional>

#include "ofproto/tables.h"
#include "ofswitch/agent.h"
#include "openflow/codec.h"

namespace vsw::ofswitch {

// The OFPT_FLOW_REMOVED (xid 0) for session, or nothing when it does not want it.
[[nodiscard]] std::optional<openflow::Bytes> flow_removed(const Session& session,
                                                          const ofproto::RemovedRule& removed);

// The message's body (any session).
[[nodiscard]] openflow::FlowRemoved flow_removed_body(const ofproto::RemovedRule& removed);

}  // namespace vsw::ofswitch
