// NetlinkDpif: the Dpif implementation over generic netlink (libmnl) talking to vsw.ko.
//
// open() resolves the four vsw families; a missing family means the module is not loaded
// and is reported as such. The first use of a datapath name looks it up (dp_get), which
// checks the kernel's protocol version and flow key size against this build, so a
// mismatched module fails loudly instead of receiving garbage keys; the datapath's
// ifindex is then cached. A request refused with ENODEV drops the cached ifindex (the
// datapath may have been deleted and re-created under the same name) and, when the
// ifindex came from the cache, is retried once with a fresh lookup: ENODEV means the
// kernel did nothing, so the retry cannot run anything twice.
//
// operate() builds one request per op (vsw_messages.h) and runs them with
// NetlinkSocket::transact_batch: one sendmsg per chunk, then every answer in one pass.
#pragma once

#include <functional>
#include <map>
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

  [[nodiscard]] std::uint32_t port_id() const { return sock_.port_id(); }

 private:
  NetlinkDpif(NetlinkSocket sock, std::uint16_t dp, std::uint16_t vport, std::uint16_t flow,
              std::uint16_t packet)
      : sock_(std::move(sock)),
        dp_family_(dp),
        vport_family_(vport),
        flow_family_(flow),
        packet_family_(packet) {}

  // The dp_ifindex of a datapath: cached, or looked up with dp_get (which checks version
  // and key size). *cached tells which.
  Result<int> resolve(std::string_view dp, bool* cached = nullptr);
  void forget(std::string_view dp);
  // Runs f(ifindex) -> Result<T> with the ENODEV retry described at the top of this file.
  template <class F>
  auto with_dp(std::string_view dp, F&& f) -> decltype(f(0));
  // Runs req and, if out is given, parses the flow the kernel answers with into it.
  Result<void> flow_request(Request& req, FlowEntry* out);
  // Runs ops[i] for every i in `which` against `ifindex`; fails only on a socket failure.
  Result<void> run_ops(int ifindex, std::span<Op> ops, const std::vector<std::size_t>& which);

  NetlinkSocket sock_;
  std::uint16_t dp_family_, vport_family_, flow_family_, packet_family_;
  std::map<std::string, int, std::less<>> ifindex_;  // datapath name -> dp_ifindex
};

}  // namespace vsw::dpif
