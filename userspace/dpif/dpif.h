// Dpif: the datapath interface, what userspace can ask of a vsw datapath.
//
// An abstract class so that tools and the daemon can be tested against an in-memory fake
// (tests/support/dpif/dpif_fake.h); NetlinkDpif (dpif_netlink.h) is the implementation
// that talks to vsw.ko. Datapaths are named by their name (the netdev name of port 0);
// ports by interface name or number. Every call returns a Result; a kernel refusal
// carries the kernel's extack message.
//
// Batches. operate() runs many flow puts, flow deletes and packet executes in one round
// trip to the kernel (the upcall handlers' install-and-execute step, the revalidators'
// deletes). Each op succeeds or fails on its own: its failure lands in Op::error, and
// operate() fails as a whole only when the channel to the datapath itself fails (then
// ops without an answer carry that error too, and whether they ran is unknown).
//
// Upcall destinations. Misses go to the upcall pid of their ingress port, or, when the
// kernel supports it (DatapathInfo::features has VSW_DP_F_PER_CPU_UPCALLS) and a per-CPU
// pid array is set, to the pid of the CPU that received the packet.
//
// Thread-safety: an instance is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dpif/flow.h"
#include "dpif/result.h"

namespace vsw::dpif {

enum class FlowPut {
  kCreate,  // fail with EEXIST if the flow exists
  kModify,  // replace actions of an existing flow; ENOENT if absent
};

// ---- operations of a batch (operate()) ---------------------------------------------------
struct FlowPutOp {
  Match match;
  Actions actions;
  FlowPut mode = FlowPut::kCreate;
  bool clear_stats = false;  // kModify only: also zero the flow's counters
};

struct FlowDelOp {
  Match match;
  std::optional<FlowEntry> stats{};  // out: the deleted flow with its last counters
};

struct ExecuteOp {
  vsw_flow_key key{};                    // key.in_port is the ingress port
  std::span<const std::uint8_t> packet;  // borrowed until operate() returns
  Actions actions;
};

struct Op {
  std::variant<FlowPutOp, FlowDelOp, ExecuteOp> op;
  std::optional<Error> error{};  // out: this op's failure; empty when it succeeded
};

class Dpif {
 public:
  virtual ~Dpif() = default;

  // ---- datapaths
  [[nodiscard]] virtual Result<DatapathInfo> dp_create(std::string_view name) = 0;
  [[nodiscard]] virtual Result<void> dp_delete(std::string_view name) = 0;
  [[nodiscard]] virtual Result<DatapathInfo> dp_get(std::string_view name) = 0;
  [[nodiscard]] virtual Result<std::vector<DatapathInfo>> dp_list() = 0;
  // The upcall pid of port 0 (the datapath's internal port).
  [[nodiscard]] virtual Result<void> dp_set_upcall_pid(std::string_view dp, std::uint32_t pid) = 0;
  // Per-CPU dispatch: a miss received on CPU c goes to pids[c % pids.size()]. Empty turns
  // it off (misses go to their port's pid again). ENOTSUP when the kernel lacks
  // VSW_DP_F_PER_CPU_UPCALLS (turning it off there succeeds: it is already off).
  [[nodiscard]] virtual Result<void> dp_set_upcall_pids(std::string_view dp,
                                                        std::span<const std::uint32_t> pids) = 0;

  // ---- ports
  [[nodiscard]] virtual Result<PortInfo> port_add(std::string_view dp, std::string_view iface,
                                                  std::optional<std::uint32_t> port_no,
                                                  std::uint32_t upcall_pid) = 0;
  [[nodiscard]] virtual Result<void> port_del(std::string_view dp, std::string_view iface) = 0;
  [[nodiscard]] virtual Result<std::vector<PortInfo>> port_list(std::string_view dp) = 0;
  [[nodiscard]] virtual Result<void> port_set_upcall_pid(std::string_view dp, std::uint32_t port_no,
                                                         std::uint32_t pid) = 0;

  // ---- flows
  [[nodiscard]] virtual Result<void> flow_put(std::string_view dp, const Match& match,
                                              const Actions& actions, FlowPut mode,
                                              bool clear_stats) = 0;
  [[nodiscard]] virtual Result<FlowEntry> flow_get(std::string_view dp, const Match& match) = 0;
  // Deletes one flow and returns its last stats.
  [[nodiscard]] virtual Result<FlowEntry> flow_del(std::string_view dp, const Match& match) = 0;
  [[nodiscard]] virtual Result<void> flow_flush(std::string_view dp) = 0;
  // Calls `each` for every flow, in the kernel's dump order.
  [[nodiscard]] virtual Result<void> flow_dump(
      std::string_view dp, const std::function<void(const FlowEntry&)>& each) = 0;

  // ---- packets
  // Runs `actions` on `packet` as if it had arrived on key.in_port.
  [[nodiscard]] virtual Result<void> execute(std::string_view dp, const vsw_flow_key& key,
                                             std::span<const std::uint8_t> packet,
                                             const Actions& actions) = 0;

  // ---- batches
  // Runs every op, in order (see the top of this file). A datapath that does not exist
  // fails every op with ENODEV, not the call.
  [[nodiscard]] virtual Result<void> operate(std::string_view dp, std::span<Op> ops) = 0;
};

}  // namespace vsw::dpif
