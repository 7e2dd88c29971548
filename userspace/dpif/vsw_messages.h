// The vsw requests NetlinkDpif sends and the replies it reads, as pure functions: each
// builder returns a complete Request for a resolved family id and datapath, each parser
// reads one reply message. No sockets, so the exact bytes can be unit-tested (sizes,
// attribute layout, replies from newer kernels with attributes we do not know).
//
// Every vsw message carries a struct vsw_header after the genlmsghdr (vsw.h).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "dpif/dpif.h"
#include "dpif/flow.h"
#include "dpif/netlink_message.h"
#include "dpif/result.h"

namespace vsw::dpif {

// Offset of the first attribute in a vsw message's payload.
inline constexpr std::size_t kVswAttrOffset = sizeof(genlmsghdr) + sizeof(vsw_header);

// A request of a vsw family with its vsw_header filled in.
[[nodiscard]] Request vsw_request(std::uint16_t family, std::uint8_t cmd, std::uint16_t flags,
                                  int dp_ifindex);

// ---- datapath family (datapaths named by NAME, dp_ifindex 0)
// DP SET: any of the upcall pid of port 0 and the per-CPU pid array (empty: turn off).
[[nodiscard]] Request dp_set_request(std::uint16_t family, std::string_view dp,
                                     std::optional<std::uint32_t> upcall_pid,
                                     std::optional<std::span<const std::uint32_t>> per_cpu_pids);

// ---- vport family
[[nodiscard]] Request port_set_request(std::uint16_t family, int dp_ifindex, std::uint32_t port_no,
                                       std::uint32_t upcall_pid);

// ---- flow family
// KEY and MASK of a normalized copy of `match`.
void put_match(Request& req, const Match& match);
// FLOW_NEW (kCreate) or FLOW_SET (kModify, with CLEAR when clear_stats).
[[nodiscard]] Request flow_put_request(std::uint16_t family, int dp_ifindex, const Match& match,
                                       const Actions& actions, FlowPut mode, bool clear_stats);
// FLOW_DEL of one flow, with NLM_F_ECHO so the reply carries its last stats.
[[nodiscard]] Request flow_del_request(std::uint16_t family, int dp_ifindex, const Match& match);

// ---- packet family
[[nodiscard]] Request execute_request(std::uint16_t family, int dp_ifindex, const vsw_flow_key& key,
                                      std::span<const std::uint8_t> packet, const Actions& actions);

// ---- replies. Unknown attributes are ignored (a newer kernel may add some).
[[nodiscard]] int reply_ifindex(const nlmsghdr* nlh);
[[nodiscard]] Result<DatapathInfo> parse_dp_reply(const nlmsghdr* nlh);
[[nodiscard]] Result<PortInfo> parse_port_reply(const nlmsghdr* nlh);
[[nodiscard]] Result<FlowEntry> parse_flow_reply(const nlmsghdr* nlh);

}  // namespace vsw::dpif
