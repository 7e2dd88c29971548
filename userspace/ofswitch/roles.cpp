// Controller roles. See roles.h.
#include "ofswitch/roles.h"

#include "ofswitch/agent.h"

namespace vsw::ofswitch {
namespace {
constexpr std::uint16_t kRrfcStale = 0, kRrfcBadRole = 2;  // OFPRRFC_*
constexpr std::uint16_t kBrcIsSlave = 10;                  // OFPBRC_IS_SLAVE
constexpr std::uint64_t kNoGeneration = ~std::uint64_t{0};
}  // namespace

const char* role_name(Role r) {
  switch (r) {
    case Role::kNoChange:
      return "nochange";
    case Role::kEqual:
      return "equal";
    case Role::kMaster:
      return "master";
    case Role::kSlave:
      return "slave";
  }
  return "?";
}

openflow::Result<openflow::RoleReply> role_request(Session& session, Election& election,
                                                   const openflow::RoleRequest& r) {
  using openflow::ErrType;
  if (r.role > static_cast<std::uint32_t>(Role::kSlave))
    return openflow::make_error(ErrType::kRoleRequestFailed, kRrfcBadRole);
  const auto role = static_cast<Role>(r.role);
  if (role == Role::kMaster || role == Role::kSlave) {
    // Signed distance: an id just past a wraparound is newer than one just before it.
    if (election.defined && static_cast<std::int64_t>(r.generation_id - election.generation_id) < 0)
      return openflow::make_error(ErrType::kRoleRequestFailed, kRrfcStale);
    election.defined = true;
    election.generation_id = r.generation_id;
  }
  if (role != Role::kNoChange) session.role = role;
  openflow::RoleReply reply;
  reply.role = static_cast<std::uint32_t>(session.role);
  reply.generation_id = election.defined ? election.generation_id : kNoGeneration;
  return reply;
}

std::optional<openflow::OfError> refuse_slave(const Session& session, openflow::MsgType t) {
  using openflow::MsgType;
  if (session.service || session.role != Role::kSlave) return std::nullopt;
  switch (t) {
    case MsgType::kFlowMod:
    case MsgType::kGroupMod:
    case MsgType::kPortMod:
    case MsgType::kTableMod:
    case MsgType::kMeterMod:
    case MsgType::kPacketOut:
      return openflow::make_error(openflow::ErrType::kBadRequest, kBrcIsSlave);
    default:
      return std::nullopt;
  }
}

}  // namespace vsw::ofswitch
