// NetlinkDpif: the Dpif implementation over generic netlink (libmnl) talking to vsw.ko.
//
// open() resolves the four vsw families; a missing family means the module is not loaded
// and is reported as such. Every datapath lookup checks the kernel's protocol version and
// flow key size against this build, so a mismatched module fails loudly instead of
// receiving garbage keys.
#pragma once

#include <memory>
#include <string>

#include "dpif/dpif.h"
#include "dpif/netlink_socket.h"

namespace vsw::dpif {

class NetlinkDpif final : public Dpif {
 public:
  [[nodiscard]] static Result<std::unique_ptr<NetlinkDpif>> open();

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

  [[nodiscard]] std::uint32_t port_id() const { return sock_.port_id(); }

 private:
  NetlinkDpif(NetlinkSocket sock, std::uint16_t dp, std::uint16_t vport, std::uint16_t flow,
              std::uint16_t packet)
      : sock_(std::move(sock)),
        dp_family_(dp),
        vport_family_(vport),
        flow_family_(flow),
        packet_family_(packet) {}

  // The dp_ifindex of a datapath, checking version and key size.
  Result<int> resolve(std::string_view dp);
  Result<void> flow_request(std::string_view dp, std::uint8_t cmd, std::uint16_t flags,
                            const Match* match, const Actions* actions, bool clear, FlowEntry* out);

  NetlinkSocket sock_;
  std::uint16_t dp_family_, vport_family_, flow_family_, packet_family_;
};

}  // namespace vsw::dpif
