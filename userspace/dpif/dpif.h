// Dpif: the datapath interface, what userspace can ask of a vsw datapath.
//
// An abstract class so that tools and the daemon can be tested against an in-memory fake;
// NetlinkDpif (dpif_netlink.h) is the implementation that talks to vsw.ko. Datapaths are
// named by their name (the netdev name of port 0); ports by interface name or number.
// Every call returns a Result; a kernel refusal carries the kernel's extack message.
//
// Thread-safety: an instance is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dpif/flow.h"
#include "dpif/result.h"

namespace vsw::dpif {

enum class FlowPut {
  kCreate,  // fail with EEXIST if the flow exists
  kModify,  // replace actions of an existing flow; ENOENT if absent
};

class Dpif {
 public:
  virtual ~Dpif() = default;

  // ---- datapaths
  [[nodiscard]] virtual Result<DatapathInfo> dp_create(std::string_view name) = 0;
  [[nodiscard]] virtual Result<void> dp_delete(std::string_view name) = 0;
  [[nodiscard]] virtual Result<DatapathInfo> dp_get(std::string_view name) = 0;
  [[nodiscard]] virtual Result<std::vector<DatapathInfo>> dp_list() = 0;

  // ---- ports
  [[nodiscard]] virtual Result<PortInfo> port_add(std::string_view dp, std::string_view iface,
                                                  std::optional<std::uint32_t> port_no,
                                                  std::uint32_t upcall_pid) = 0;
  [[nodiscard]] virtual Result<void> port_del(std::string_view dp, std::string_view iface) = 0;
  [[nodiscard]] virtual Result<std::vector<PortInfo>> port_list(std::string_view dp) = 0;

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
                                             const std::vector<std::uint8_t>& packet,
                                             const Actions& actions) = 0;
};

}  // namespace vsw::dpif
