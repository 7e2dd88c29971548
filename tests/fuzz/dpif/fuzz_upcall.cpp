// libFuzzer harness for the upcall parser: dpif::parse_upcall() on arbitrary netlink bytes,
// and the same bytes through a real UpcallChannel (receive() over a socketpair).
//
// The input is one datagram as the kernel would deliver it to a handler's socket: zero or
// more netlink messages back to back. The harness walks it the way the channel does (a
// message whose nlmsg_len does not fit what is left ends the walk: parse_upcall()'s
// precondition) and parses each message from a heap copy of exactly the datagram's size,
// so ASan sees any read past it. A message that parses must be a MISS or ACTION whose
// packet and userdata lie inside that message. Then the datagram is sent over a socketpair
// to an UpcallChannel: receive() must return exactly the upcalls of the walk, the same
// ones (command, ifindex, in_port, key, packet and userdata bytes), and count the rest as
// malformed. Anything else traps. Built only with -DVSW_FUZZ=ON (clang, ASan + UBSan);
// tests/suites/30-fuzz runs it.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "dpif/upcall_channel.h"

using namespace vsw::dpif;

namespace {

// Reads every byte of a span (so ASan checks its bounds) and checks it lies in [lo, hi).
void check_inside(std::span<const std::uint8_t> s, const std::uint8_t* lo, const std::uint8_t* hi) {
  if (s.empty()) return;
  if (s.data() < lo || s.data() > hi || s.size() > static_cast<std::size_t>(hi - s.data()))
    __builtin_trap();
  volatile std::uint8_t sink = 0;
  for (std::uint8_t b : s) sink = sink ^ b;
  (void)sink;
}

bool same(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

struct Channel {
  UpcallChannel ch;
  UniqueFd peer;
};

// One channel for the whole run (its buffer is 68 KiB a slot); inputs are far smaller than
// the socket buffers, so a send never blocks and one receive() drains it.
Channel& channel() {
  static Channel* c = [] {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
      __builtin_trap();
    int big = 1 << 20;
    ::setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    ::setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    UpcallChannelOptions o;
    o.batch = 4;
    return new Channel{UpcallChannel::adopt(UniqueFd(sv[0]), 1, o), UniqueFd(sv[1])};
  }();
  return *c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The walk over an exact-size copy (netlink messages are 4-byte aligned in a datagram).
  auto buf = std::make_unique<std::uint8_t[]>(size == 0 ? 1 : size);
  if (size != 0) std::memcpy(buf.get(), data, size);
  const std::uint8_t* const end = buf.get() + size;
  std::vector<Upcall> expect;
  std::size_t bad = 0;
  const std::uint8_t* p = buf.get();
  std::size_t len = size;
  while (len >= NLMSG_HDRLEN) {
    const auto* m = reinterpret_cast<const nlmsghdr*>(p);
    if (m->nlmsg_len < NLMSG_HDRLEN || m->nlmsg_len > len) {
      ++bad;
      len = 0;
      break;
    }
    Upcall up;
    if (parse_upcall(m, up).ok()) {
      if (up.cmd != VSW_PACKET_CMD_MISS && up.cmd != VSW_PACKET_CMD_ACTION) __builtin_trap();
      if (up.packet.data() == nullptr) __builtin_trap();  // a packet is required
      check_inside(up.packet, p, p + m->nlmsg_len);
      check_inside(up.userdata, p, p + m->nlmsg_len);
      expect.push_back(up);
    } else {
      ++bad;
    }
    const std::size_t step = NLMSG_ALIGN(m->nlmsg_len);
    if (step >= len) {
      len = 0;
      break;
    }
    p += step;
    len -= step;
  }
  if (len != 0) ++bad;
  if (p > end) __builtin_trap();

  // The same datagram through the channel.
  Channel& c = channel();
  if (::send(c.peer.get(), data, size, 0) != static_cast<ssize_t>(size)) __builtin_trap();
  const std::uint64_t malformed_before = c.ch.malformed();
  std::vector<Upcall> got;
  auto r = c.ch.receive(got, 4);
  if (!r.ok() || *r != got.size() || got.size() != expect.size()) __builtin_trap();
  if (c.ch.malformed() - malformed_before != bad) __builtin_trap();
  for (std::size_t i = 0; i < got.size(); ++i) {
    const Upcall& a = got[i];
    const Upcall& b = expect[i];
    if (a.cmd != b.cmd || a.dp_ifindex != b.dp_ifindex || a.in_port != b.in_port ||
        std::memcmp(&a.key, &b.key, sizeof a.key) != 0 || !same(a.packet, b.packet) ||
        !same(a.userdata, b.userdata))
      __builtin_trap();
  }
  // Nothing may be left queued.
  if (auto again = c.ch.receive(got, 4); !again.ok() || *again != 0) __builtin_trap();
  return 0;
}
