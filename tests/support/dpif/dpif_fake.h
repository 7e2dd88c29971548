// FakeDpif: an in-memory Dpif for unit tests of code above the datapath interface.
//
// It keeps datapaths, ports and flows in maps and enforces the same rules the kernel
// documents in vsw.h that callers can observe: EEXIST/ENOENT/ENODEV, lowest free port
// number, flows identified by (masked key, mask), flush, dump in insertion-id order.
// It does not forward packets; execute() only records the call.
#pragma once

#include <map>
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
  Result<PortInfo> port_add(std::string_view dp, std::string_view iface,
                            std::optional<std::uint32_t> port_no,
                            std::uint32_t upcall_pid) override;
  Result<void> port_del(std::string_view dp, std::string_view iface) override;
  Result<std::vector<PortInfo>> port_list(std::string_view dp) override;
  Result<void> flow_put(std::string_view dp, const Match& match, const Actions& actions,
                        FlowPut mode, bool clear_stats) override;
  Result<FlowEntry> flow_get(std::string_view dp, const Match& match) override;
  Result<FlowEntry> flow_del(std::string_view dp, const Match& match) override;
  Result<void> flow_flush(std::string_view dp) override;
  Result<void> flow_dump(std::string_view dp,
                         const std::function<void(const FlowEntry&)>& each) override;
  Result<void> execute(std::string_view dp, const vsw_flow_key& key,
                       const std::vector<std::uint8_t>& packet, const Actions& actions) override;

  // Test hook: add to a flow's counters as if packets had hit it.
  bool hit(std::string_view dp, const Match& match, std::uint64_t packets, std::uint64_t bytes);
  int executed = 0;  // execute() calls

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
