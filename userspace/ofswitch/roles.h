// Controller roles (OpenFlow 1.3.5 6.3.6, 7.3.9), as Open vSwitch's connmgr keeps them.
//
// Every connection starts EQUAL (Session::role). ROLE_REQUEST asks for EQUAL, MASTER or
// SLAVE, or NOCHANGE to just read the role; any other value is OFPRRFC_BAD_ROLE. The
// ROLE_REPLY carries the role now in force and the bridge's generation id (all ones while
// none was ever accepted).
//
// Generation ids. A MASTER or SLAVE request carries one: the bridge keeps the last one it
// accepted (an Election, one per bridge, in the Agent). Once one is defined, a request
// whose id is older — (int64_t)(id - cached) < 0, so the ids may wrap — is refused with
// OFPRRFC_STALE and changes nothing; otherwise its id becomes the cached one. EQUAL and
// NOCHANGE requests ignore the id.
//
// One master per bridge: a connection becoming MASTER turns every other MASTER connection
// of the bridge into a SLAVE (ConnMgr::demote_masters()). Nothing tells the demoted
// controller (ROLE_STATUS is OpenFlow 1.4; Open vSwitch sends its ONF extension to 1.3
// connections, vsw does not); it sees its role with NOCHANGE.
//
// What a slave may not do (Open vSwitch's reject_slave_controller()): FLOW_MOD, GROUP_MOD,
// PORT_MOD, TABLE_MOD, METER_MOD and PACKET_OUT are refused with BAD_REQUEST/IS_SLAVE (the
// connection keeps working); a slave's SET_CONFIG keeps its miss_send_len but not its
// fragment flags. A service connection (BR.mgmt) is never refused, whatever its role.
// Asynchronous messages use the element of the SET_ASYNC masks for the connection's role
// (Session::async_index()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "openflow/codec.h"

namespace vsw::ofswitch {

struct Session;

// ofp_controller_role.
enum class Role : std::uint32_t { kNoChange = 0, kEqual = 1, kMaster = 2, kSlave = 3 };

// The bridge's generation id state.
struct Election {
  bool defined = false;
  std::uint64_t generation_id = 0;
};

// "equal", "master", "slave" ("nochange" for kNoChange).
[[nodiscard]] const char* role_name(Role r);

// Applies a ROLE_REQUEST to session: the ROLE_REPLY to send, or the error (BAD_ROLE,
// STALE) with nothing changed. The caller demotes the other masters when session.role is
// MASTER afterwards.
[[nodiscard]] openflow::Result<openflow::RoleReply> role_request(Session& session,
                                                                 Election& election,
                                                                 const openflow::RoleRequest& r);

// BAD_REQUEST/IS_SLAVE if session is a controller's slave and t modifies the switch.
[[nodiscard]] std::optional<openflow::OfError> refuse_slave(const Session& session,
                                                            openflow::MsgType t);

}  // namespace vsw::ofswitch
