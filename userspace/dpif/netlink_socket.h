// NetlinkSocket: a RAII generic-netlink socket over libmnl.
//
// What it does: opens a NETLINK_GENERIC socket with extended acks turned on, resolves
// family names to ids, and runs requests to completion: send, then read replies until
// the kernel's ack (NLMSG_ERROR 0), NLMSG_DONE for a dump, or an error. Each data message
// goes to a caller callback. A kernel error comes back as an Error whose message is the
// extended-ack text (e.g. "no such port") so callers can show it to the user unchanged.
//
// Batches. transact_batch() sends many requests with one sendmsg and then collects every
// answer in one pass, matching replies to requests by sequence number. The kernel runs
// the requests of one sendmsg in order, inside that call, and queues all their answers
// on this socket before it returns; a batch is therefore cut into chunks whose answers
// surely fit the receive buffer (kMaxBatch requests, kMaxBatchBytes of requests), or
// the kernel would drop answers (ENOBUFS) and the outcome of some requests would be
// unknown. Each request's failure is its own; the batch fails only when the socket does.
//
// A reply that never comes must not wedge a thread: receives time out after
// kReceiveTimeoutSeconds (the kernel answers a non-dump request inside sendmsg, so any
// wait is only the scheduler's).
//
// Thread-safety: one NetlinkSocket per thread; it is move-only.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dpif/netlink_message.h"
#include "dpif/result.h"

namespace vsw::dpif {

class NetlinkSocket {
 public:
  using Callback = std::function<Result<void>(const nlmsghdr*)>;

  // One request of a batch and, after transact_batch(), its outcome.
  struct Exchange {
    Request* request = nullptr;    // NLM_F_ACK and a sequence number are added
    Callback on_reply{};           // sees every data message answering it (may be empty)
    std::optional<Error> error{};  // out: the kernel's refusal or the callback's error
  };

  static constexpr std::size_t kMaxBatch = 64;
  static constexpr std::size_t kMaxBatchBytes = std::size_t{128} * 1024;
  static constexpr int kReceiveTimeoutSeconds = 30;

  [[nodiscard]] static Result<NetlinkSocket> open();

  NetlinkSocket(NetlinkSocket&&) noexcept = default;
  NetlinkSocket& operator=(NetlinkSocket&&) noexcept = default;
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;

  // The id of a generic netlink family; ENOENT when it is not registered.
  [[nodiscard]] Result<std::uint16_t> resolve_family(std::string_view name);

  // Sends req (NLM_F_ACK is added) and reads until ack/done/error; cb sees every message
  // that is not NLMSG_ERROR/NLMSG_DONE. A callback error stops the exchange (the rest of
  // the replies are drained) and is returned. A request that check() refuses is not sent.
  [[nodiscard]] Result<void> transact(Request& req, const Callback& cb = {});

  // Runs every request (see the top of this file). Each exchange's `error` is set when its
  // request was refused (by check(), the kernel, or its callback) and cleared otherwise.
  // Fails as a whole only when sending or receiving fails; exchanges not yet answered then
  // keep an error too. Not for dumps (the kernel runs one dump per socket at a time).
  [[nodiscard]] Result<void> transact_batch(std::span<Exchange> batch);

  [[nodiscard]] std::uint32_t port_id() const;

 private:
  struct Closer {
    void operator()(mnl_socket* s) const { mnl_socket_close(s); }
  };
  explicit NetlinkSocket(mnl_socket* s);

  // One sendmsg for batch[0..n), then reads until each has its answer.
  Result<void> run_chunk(std::span<Exchange> chunk);

  std::unique_ptr<mnl_socket, Closer> sock_;
  std::uint32_t seq_ = 1;
  std::unique_ptr<char[]> rbuf_;  // receive buffer, kRecvSize bytes, left uninitialized
};

}  // namespace vsw::dpif
