// PORT_STATUS messages. See port_status.h.
#include "ofswitch/port_status.h"

namespace vsw::ofswitch {

std::vector<openflow::PortStatus> port_changes(std::map<std::uint32_t, openflow::Port>& known,
                                               const openflow::PortDescReply& now) {
  std::map<std::uint32_t, openflow::Port> next;
  for (const openflow::Port& p : now.entries) next[p.port_no] = p;
  std::vector<openflow::PortStatus> out;
  for (const auto& [no, p] : known)
    if (!next.contains(no)) out.push_back({kPortDelete, p});
  for (const auto& [no, p] : next) {
    auto it = known.find(no);
    if (it == known.end())
      out.push_back({kPortAdd, p});
    else if (!(it->second == p))
      out.push_back({kPortModify, p});
  }
  known = std::move(next);
  return out;
}

std::optional<openflow::Bytes> port_status(const Session& session, const openflow::PortStatus& ps) {
  if (session.service && session.miss_send_len == 0) return std::nullopt;
  if (!(session.port_status_mask[session.async_index()] & (1U << ps.reason))) return std::nullopt;
  return openflow::encode(openflow::Message{openflow::kVersion13, 0, ps});
}

}  // namespace vsw::ofswitch
