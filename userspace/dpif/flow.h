// The datapath flow model shared by vsw-dpctl, the daemon and tests: a megaflow match
// (key + mask, both the ABI's struct vsw_flow_key), a list of datapath actions, and the
// stats the kernel reports. It knows nothing about netlink; netlink_codec.h converts it
// to and from attributes, flow_text.h to and from the ovs-dpctl-like text syntax.
//
// Invariants kept by every producer in this library:
//  - the key never has bits set outside the mask (Match::normalize clears them), so two
//    matches that select the same packets compare equal;
//  - key/mask padding is zero (the kernel rejects non-zero padding).
#pragma once

#include <linux/types.h>
#include <vsw.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace vsw::dpif {

static_assert(sizeof(vsw_flow_key) % 8 == 0, "flow key size must be a multiple of 8");

using Mac = std::array<std::uint8_t, 6>;
using Ipv6 = std::array<std::uint8_t, 16>;

// A megaflow match. Fields in network byte order are kept as the ABI stores them.
struct Match {
  vsw_flow_key key{};   // values; only bits set in mask are meaningful
  vsw_flow_key mask{};  // 1-bits are matched, 0-bits wildcarded

  // Clears key bits outside the mask and the padding.
  void normalize();
  friend bool operator==(const Match& a, const Match& b) {
    return std::memcmp(&a.key, &b.key, sizeof a.key) == 0 &&
           std::memcmp(&a.mask, &b.mask, sizeof a.mask) == 0;
  }
};

// ---- actions --------------------------------------------------------------------------
struct OutputAction {
  std::uint32_t port = 0;
  friend bool operator==(const OutputAction&, const OutputAction&) = default;
};

struct UserspaceAction {
  std::uint32_t pid = 0;             // 0: the ingress port's upcall pid
  std::vector<std::uint8_t> cookie;  // optional, up to VSW_MAX_COOKIE bytes
  friend bool operator==(const UserspaceAction&, const UserspaceAction&) = default;
};

// One SET action: any combination of rewritable fields. Values in host order except
// addresses, which are kept as network-order 32-bit words like the key.
struct SetAction {
  std::optional<Mac> eth_src, eth_dst;
  std::optional<std::uint32_t> ipv4_src, ipv4_dst;  // network byte order
  std::optional<std::uint8_t> ipv4_tos, ipv4_ttl;
  std::optional<std::uint16_t> l4_src, l4_dst;  // host order
  // Since VSW_DP_F_SET_EXT:
  std::optional<std::uint16_t> vlan_vid;  // 0..4095, the outer tag's
  std::optional<std::uint8_t> vlan_pcp;   // 0..7
  std::optional<Ipv6> ipv6_src, ipv6_dst;
  std::optional<std::uint8_t> ipv6_tclass, ipv6_hlimit;
  std::optional<std::uint32_t> ipv6_label;  // host order, 0..0xfffff
  std::optional<std::uint16_t> arp_op;      // host order
  std::optional<Mac> arp_sha, arp_tha;
  std::optional<std::uint32_t> arp_spa, arp_tpa;  // network byte order
  friend bool operator==(const SetAction&, const SetAction&) = default;
  [[nodiscard]] bool empty() const { return *this == SetAction{}; }
};

struct PushVlanAction {
  std::uint16_t vid = 0;  // 0..4095
  std::uint8_t pcp = 0;   // 0..7
  friend bool operator==(const PushVlanAction&, const PushVlanAction&) = default;
};

struct PopVlanAction {
  friend bool operator==(const PopVlanAction&, const PopVlanAction&) = default;
};

using Action =
    std::variant<OutputAction, UserspaceAction, SetAction, PushVlanAction, PopVlanAction>;
using Actions = std::vector<Action>;  // executed in order; empty = drop

// ---- what the kernel reports ------------------------------------------------------------
struct FlowEntry {
  Match match;
  Actions actions;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::optional<std::uint64_t> used_ms;  // ms since the last hit; empty if never hit
  std::uint16_t tcp_flags = 0;           // OR of the TCP flags seen
  std::uint32_t id = 0;                  // the kernel's dump-order id
};

struct DatapathInfo {
  std::string name;
  int ifindex = 0;  // of port 0, the datapath's internal netdev
  std::uint32_t version = 0;
  std::uint32_t key_size = 0;
  std::uint32_t upcall_pid = 0;
  std::uint32_t features = 0;               // VSW_DP_F_* the kernel supports
  std::vector<std::uint32_t> per_cpu_pids;  // per-CPU upcall pids; empty: per-port dispatch
  std::uint32_t max_flows = 0;              // most flows it holds; 0: not reported (older module)
  std::uint32_t max_masks = 0;              // most distinct masks; 0: not reported
  vsw_dp_stats stats{};
};

struct PortInfo {
  std::uint32_t port_no = 0;
  std::uint32_t type = 0;  // enum vsw_vport_type
  std::string name;
  std::uint32_t ifindex = 0;
  std::uint32_t upcall_pid = 0;
  vsw_vport_stats stats{};
};

}  // namespace vsw::dpif
