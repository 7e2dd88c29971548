// FakeDpif: an in-memory Dpif for unit tests of code above the datapath interface.
//
// It keeps datapaths, ports and flows in maps and enforces the same rules the kernel
// documents in vsw.h that callers can observe: EEXIST/ENOENT/ENODEV, lowest free port
// number, flows identified by (masked key, mask), flush, dump in insertion-id order,
// per-CPU upcall pids only when the datapath's features say so. It does not forward
// packets: execute() and ExecuteOp record what they were asked to run (executions), so a
// test can check it. operate() runs each op like the single call and records its own
// error, as NetlinkDpif does.
//
// Test hooks (public fields) inject what a real kernel would do: counters on a flow
// (hit()), a kernel without per-CPU dispatch (features), a failing channel
// (operate_error).
//
// Thread-safety: none; one thread at a time, like every Dpif.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dpif/dpif.h"

namespace vsw::dpif {

class FakeDpif final : public Dpif {
 public:
  Result<DatapathInfo> dp_create(std::string_view name) override;
  Result<void> dp_delete(std::string_view name) override;
  Result<DatapathInfo> dp_get(std::string_view name) override;
  Result<std::vector<DatapathInfo>> dp_list() override;
  Result<void> dp_set_upcall_pid(std::string_view dp, std::uint32_t pid) override;
  Result<void> dp_set_upcall_pids(std::string_view dp,
                                  std::span<const std::uint32_t> pids) override;
  Result<PortInfo> port_add(std::string_view dp, std::string_view iface,
                            std::optional<std::uint32_t> port_no,
                            std::uint32_t upcall_pid) override;
  Result<void> port_del(std::string_view dp, std::string_view iface) override;
  Result<std::vector<PortInfo>> port_list(std::string_view dp) override;
  Result<void> port_set_upcall_pid(std::string_view dp, std::uint32_t port_no,
                                   std::uint32_t pid) override;
  Result<void> flow_put(std::string_view dp, const Match& match, const Actions& actions,
                        FlowPut mode, bool clear_stats) override;
  Result<FlowEntry> flow_get(std::string_view dp, const Match& match) override;
  Result<FlowEntry> flow_del(std::string_view dp, const Match& match) override;
  Result<void> flow_flush(std::string_view dp) override;
  Result<void> flow_dump(std::string_view dp,
                         const std::function<void(const FlowEntry&)>& each) override;
  Result<void> execute(std::string_view dp, const vsw_flow_key& key,
                       std::span<const std::uint8_t> packet, const Actions& actions) override;
  Result<void> operate(std::string_view dp, std::span<Op> ops) override;

  // ---- test hooks
  // Adds to a flow's counters as if packets had hit it; false if there is no such flow.
  bool hit(std::string_view dp, const Match& match, std::uint64_t packets, std::uint64_t bytes);

  struct Execution {
    std::string dp;
    vsw_flow_key key{};
    std::vector<std::uint8_t> packet;  // copied
    Actions actions;
  };
  std::vector<Execution> executions;  // every packet run, by execute() or an ExecuteOp
  int executed = 0;                   // execute() calls and ExecuteOps that succeeded
  int operate_calls = 0;              // operate() calls (batches)
  // The features new datapaths report; clear the bit to act like an older kernel.
  std::uint32_t features = VSW_DP_F_PER_CPU_UPCALLS;
  // The limits new datapaths report (not enforced); 0 acts like a module that reports none.
  std::uint32_t max_flows = VSW_DP_MAX_FLOWS;
  std::uint32_t max_masks = VSW_DP_MAX_MASKS;
  // When set, operate() fails with it as a whole (a broken channel) and runs nothing.
  std::optional<Error> operate_error;

 private:
  struct Dp {
    DatapathInfo info;
    std::map<std::uint32_t, PortInfo> ports;
    std::vector<FlowEntry> flows;
    std::uint32_t next_id = 1;
  };
  Result<Dp*> find(std::string_view name);
  static FlowEntry* find_flow(Dp& dp, const Match& match);

  std::map<std::string, Dp, std::less<>> dps_;
  int next_ifindex_ = 100;
};

}  // namespace vsw::dpif
