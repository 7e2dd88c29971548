// NetlinkSocket: a RAII generic-netlink socket over libmnl.
//
// What it does: opens a NETLINK_GENERIC socket with extended acks turned on, resolves
// family names to ids, and runs one request to completion: send, then read replies until
// the kernel's ack (NLMSG_ERROR 0), NLMSG_DONE for a dump, or an error. Each data message
// goes to a caller callback. A kernel error comes back as an Error whose message is the
// extended-ack text (e.g. "no such port") so callers can show it to the user unchanged.
//
// Thread-safety: one NetlinkSocket per thread; it is move-only.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dpif/result.h"

namespace vsw::dpif {

// A request being built: nlmsghdr + genlmsghdr + a fixed user header, then attributes.
class Request {
 public:
  // family: the resolved id; cmd/version: genl fields; flags: NLM_F_* beyond NLM_F_REQUEST.
  Request(std::uint16_t family, std::uint8_t cmd, std::uint8_t version, std::uint16_t flags);
  // Adds room for a fixed header after the genlmsghdr and returns it.
  void* put_extra(std::size_t size);
  [[nodiscard]] nlmsghdr* nlh() { return nlh_; }

 private:
  std::vector<char> buf_;
  nlmsghdr* nlh_;
};

class NetlinkSocket {
 public:
  using Callback = std::function<Result<void>(const nlmsghdr*)>;

  [[nodiscard]] static Result<NetlinkSocket> open();

  NetlinkSocket(NetlinkSocket&&) noexcept = default;
  NetlinkSocket& operator=(NetlinkSocket&&) noexcept = default;
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;

  // The id of a generic netlink family; ENOENT when it is not registered.
  [[nodiscard]] Result<std::uint16_t> resolve_family(std::string_view name);

  // Sends req (NLM_F_ACK is added) and reads until ack/done/error; cb sees every message
  // that is not NLMSG_ERROR/NLMSG_DONE. A callback error stops the exchange (the rest of
  // the replies are drained) and is returned.
  [[nodiscard]] Result<void> transact(Request& req, const Callback& cb = {});

  [[nodiscard]] std::uint32_t port_id() const;

 private:
  struct Closer {
    void operator()(mnl_socket* s) const { mnl_socket_close(s); }
  };
  explicit NetlinkSocket(mnl_socket* s) : sock_(s) {}

  std::unique_ptr<mnl_socket, Closer> sock_;
  std::uint32_t seq_ = 1;
};

}  // namespace vsw::dpif
