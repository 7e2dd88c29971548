// FLOW_REMOVED messages. See flow_removed.h.
#include "ofswitch/flow_removed.h"

#include <algorithm>
#include <atomic>

namespace vsw::ofswitch {

openflow::FlowRemoved flow_removed_body(const ofproto::RemovedRule& removed) {
  const ofproto::Rule& r = *removed.rule;
  openflow::FlowRemoved fr;
  fr.cookie = r.cookie;
  fr.priority = static_cast<std::uint16_t>(r.priority);
  fr.reason = static_cast<std::uint8_t>(removed.reason);
  fr.table_id = r.table_id;
  const std::int64_t age_ms = std::max<std::int64_t>(0, removed.at_ms - r.created_ms);
  fr.duration_sec = static_cast<std::uint32_t>(age_ms / 1000);
  fr.duration_nsec = static_cast<std::uint32_t>(age_ms % 1000) * 1'000'000U;
  fr.idle_timeout = r.idle_timeout;
  fr.hard_timeout = r.hard_timeout;
  fr.packet_count = r.counters->packets.load(std::memory_order_relaxed);
  fr.byte_count = r.counters->bytes.load(std::memory_order_relaxed);
  fr.match = r.oxm();
  return fr;
}

std::optional<openflow::Bytes> flow_removed(const Session& session,
                                            const ofproto::RemovedRule& removed) {
  if (!(removed.rule->flags & ofproto::kFlagSendFlowRem)) return std::nullopt;
  if (session.service && session.miss_send_len == 0) return std::nullopt;
  const auto reason = static_cast<unsigned>(removed.reason);
  if (!(session.flow_removed_mask[session.async_index()] & (1U << reason))) return std::nullopt;
  return openflow::encode(openflow::Message{openflow::kVersion13, 0, flow_removed_body(removed)});
}

}  // namespace vsw::ofswitch
