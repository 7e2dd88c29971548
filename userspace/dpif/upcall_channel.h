// UpcallChannel: the socket one handler thread receives the kernel's upcalls on.
//
// What? A non-blocking NETLINK_GENERIC socket whose port id is given to the kernel as an
// upcall pid (per port, or per CPU when the kernel supports it). receive() reads a batch
// of upcall messages with one recvmmsg and turns each into an Upcall that points into the
// channel's own buffer, so a packet is never copied on its way to translation.
//
// Goals. Cheap per upcall (one system call per batch, no allocation per message once the
// output vector has grown); never blocked, never crashed by what arrives; losses visible.
//
// Design. The buffer holds `batch` slots of kSlotSize bytes, each larger than the largest
// upcall the kernel can build (the packet attribute's length is 16 bits), so no upcall is
// truncated. The buffer is allocated uninitialized: a slot's pages become resident only
// as the kernel writes into them, so the footprint follows the packet sizes actually
// seen, not the worst case. Each slot is one datagram; it may hold several netlink
// messages, all parsed.
//
// Losses and bad input. When the socket's receive queue is full the kernel drops upcalls
// (counted in the datapath's n_lost) and reports ENOBUFS once on the socket; receive()
// counts it in enobufs() and keeps reading. A message that is not a well-formed upcall
// (truncated, wrong command, missing key or packet, a key of the wrong size, a control
// message) is skipped and counted in malformed(); parse_upcall() says what was wrong.
//
// Lifetimes. The spans of an Upcall (packet, userdata) point into the channel and stay
// valid until the next receive() on it or its destruction; the key is copied.
//
// Thread-safety. One thread receives (a handler). enobufs() and malformed() may be read
// from any thread. The channel is move-only; moving keeps the buffer where it is.
#pragma once

#include <linux/netlink.h>
#include <sys/socket.h>
#include <vsw.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dpif/result.h"
#include "dpif/unique_fd.h"

namespace vsw::dpif {

struct Upcall {
  std::uint8_t cmd = 0;  // VSW_PACKET_CMD_MISS / _ACTION
  int dp_ifindex = 0;
  std::uint32_t in_port = 0;
  vsw_flow_key key{};                      // copied
  std::span<const std::uint8_t> packet;    // points into the channel's buffer,
  std::span<const std::uint8_t> userdata;  // valid until the next receive()
};

// Parses one message of the vsw_packet family sent by the kernel: a MISS or ACTION with
// a vsw_header, KEY (exactly sizeof(vsw_flow_key)), PACKET, optional IN_PORT (u32; the
// key's in_port when absent) and USERDATA. Unknown attributes are ignored. On success
// `out`'s spans point into the message; on failure `out` is unspecified and the error
// (EBADMSG) says what is wrong.
[[nodiscard]] Result<void> parse_upcall(const nlmsghdr* nlh, Upcall& out);

struct UpcallChannelOptions {
  std::size_t batch = 64;  // receive slots: the most upcalls one receive() returns
  int rcvbuf = 4 << 20;    // socket receive buffer in bytes (forced when privileged, else
                           // capped by net.core.rmem_max)
};

class UpcallChannel {
 public:
  // A slot holds one datagram: more than the largest upcall (64 KiB of packet attribute
  // plus key, headers and a cookie).
  static constexpr std::size_t kSlotSize = std::size_t{68} * 1024;

  // A non-blocking netlink socket bound to a fresh port id. Works without vsw.ko.
  [[nodiscard]] static Result<UpcallChannel> open(const UpcallChannelOptions& options = {});
  // A channel over an already-open non-blocking datagram socket that carries netlink
  // messages (tests use one end of a socketpair); port_id is reported as given.
  [[nodiscard]] static UpcallChannel adopt(UniqueFd fd, std::uint32_t port_id,
                                           const UpcallChannelOptions& options = {});

  UpcallChannel(UpcallChannel&& o) noexcept;
  UpcallChannel& operator=(UpcallChannel&& o) noexcept;
  UpcallChannel(const UpcallChannel&) = delete;
  UpcallChannel& operator=(const UpcallChannel&) = delete;
  ~UpcallChannel() = default;

  // For boost::asio::posix::stream_descriptor (dup() it: the descriptor closes its fd).
  [[nodiscard]] int fd() const { return fd_.get(); }
  // Give this to the kernel as an upcall pid.
  [[nodiscard]] std::uint32_t port_id() const { return port_id_; }

  // Clears `out`, then receives up to min(max, batch) upcalls with one recvmmsg (a few
  // more calls only after ENOBUFS or when a whole batch was malformed). Returns how many
  // were appended; 0 only when nothing is queued (EAGAIN). Fails only when the socket
  // does. If it returns the full batch, more may be queued.
  [[nodiscard]] Result<std::size_t> receive(std::vector<Upcall>& out, std::size_t max = 64);

  // Receive-queue overflows reported by the kernel (each stands for one or more lost
  // upcalls; the datapath's n_lost has the exact count).
  [[nodiscard]] std::uint64_t enobufs() const { return enobufs_.load(std::memory_order_relaxed); }
  // Messages skipped because they were not well-formed upcalls.
  [[nodiscard]] std::uint64_t malformed() const {
    return malformed_.load(std::memory_order_relaxed);
  }

 private:
  UpcallChannel(UniqueFd fd, std::uint32_t port_id, const UpcallChannelOptions& options);
  // Parses the datagram in slot i (len bytes) into out; counts what is malformed.
  void parse_slot(std::size_t i, std::size_t len, std::vector<Upcall>& out);

  UniqueFd fd_;
  std::uint32_t port_id_ = 0;
  std::size_t slots_ = 0;
  std::unique_ptr<std::uint8_t[]> buf_;  // slots_ * kSlotSize bytes, uninitialized
  std::vector<iovec> iov_;               // one per slot
  std::vector<mmsghdr> msgs_;            // one per slot
  std::atomic<std::uint64_t> enobufs_{0};
  std::atomic<std::uint64_t> malformed_{0};
};

}  // namespace vsw::dpif
