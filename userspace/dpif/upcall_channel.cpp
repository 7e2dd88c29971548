// UpcallChannel and parse_upcall (see upcall_channel.h).
#include "dpif/upcall_channel.h"

#include <linux/genetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace vsw::dpif {

namespace {

constexpr std::size_t kHeaders = NLMSG_ALIGN(sizeof(genlmsghdr) + sizeof(vsw_header));

Error bad(const std::string& what) {
  return make_error(EBADMSG, "malformed upcall: " + what);
}

}  // namespace

Result<void> parse_upcall(const nlmsghdr* nlh, Upcall& out) {
  if (nlh->nlmsg_len < NLMSG_HDRLEN + kHeaders)
    return bad("shorter than its headers (" + std::to_string(nlh->nlmsg_len) + " bytes)");
  if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
    return bad("a netlink control message (type " + std::to_string(nlh->nlmsg_type) + ")");
  const auto* payload = reinterpret_cast<const std::uint8_t*>(nlh) + NLMSG_HDRLEN;
  genlmsghdr genl{};
  vsw_header hdr{};
  std::memcpy(&genl, payload, sizeof genl);
  std::memcpy(&hdr, payload + sizeof genl, sizeof hdr);
  if (genl.cmd != VSW_PACKET_CMD_MISS && genl.cmd != VSW_PACKET_CMD_ACTION)
    return bad("command " + std::to_string(genl.cmd) + " is not MISS or ACTION");

  out = Upcall{};
  out.cmd = genl.cmd;
  out.dp_ifindex = hdr.dp_ifindex;
  bool have_key = false, have_packet = false, have_in_port = false;
  const std::uint8_t* p = payload + kHeaders;
  std::size_t rem = nlh->nlmsg_len - NLMSG_HDRLEN - kHeaders;
  while (rem >= NLA_HDRLEN) {
    nlattr a{};
    std::memcpy(&a, p, sizeof a);
    if (a.nla_len < NLA_HDRLEN || a.nla_len > rem)
      return bad("attribute " + std::to_string(a.nla_type & NLA_TYPE_MASK) + " of length " +
                 std::to_string(a.nla_len) + " with " + std::to_string(rem) + " bytes left");
    const std::span<const std::uint8_t> data(p + NLA_HDRLEN, a.nla_len - NLA_HDRLEN);
    switch (a.nla_type & NLA_TYPE_MASK) {
      case VSW_PACKET_ATTR_KEY:
        if (data.size() != sizeof out.key)
          return bad("a " + std::to_string(data.size()) + "-byte key (this program expects " +
                     std::to_string(sizeof out.key) + ")");
        std::memcpy(&out.key, data.data(), sizeof out.key);
        have_key = true;
        break;
      case VSW_PACKET_ATTR_PACKET:
        out.packet = data;
        have_packet = true;
        break;
      case VSW_PACKET_ATTR_IN_PORT:
        if (data.size() != sizeof out.in_port)
          return bad("an in_port of " + std::to_string(data.size()) + " bytes");
        std::memcpy(&out.in_port, data.data(), sizeof out.in_port);
        have_in_port = true;
        break;
      case VSW_PACKET_ATTR_USERDATA:
        out.userdata = data;
        break;
      default:
        break;  // a newer kernel's attribute
    }
    const std::size_t step = NLA_ALIGN(a.nla_len);
    if (step >= rem) {
      rem = 0;
      break;
    }
    p += step;
    rem -= step;
  }
  if (rem != 0) return bad(std::to_string(rem) + " stray bytes after the attributes");
  if (!have_key) return bad("no key");
  if (!have_packet) return bad("no packet");
  if (!have_in_port) out.in_port = out.key.in_port;
  return {};
}

// ---- UpcallChannel ---------------------------------------------------------------------------
UpcallChannel::UpcallChannel(UniqueFd fd, std::uint32_t port_id,
                             const UpcallChannelOptions& options)
    : fd_(std::move(fd)),
      port_id_(port_id),
      slots_(std::max<std::size_t>(1, options.batch)),
      buf_(std::make_unique_for_overwrite<std::uint8_t[]>(slots_ * kSlotSize)),
      iov_(slots_),
      msgs_(slots_) {}

UpcallChannel::UpcallChannel(UpcallChannel&& o) noexcept
    : fd_(std::move(o.fd_)),
      port_id_(o.port_id_),
      slots_(o.slots_),
      buf_(std::move(o.buf_)),
      iov_(std::move(o.iov_)),
      msgs_(std::move(o.msgs_)),
      enobufs_(o.enobufs_.load(std::memory_order_relaxed)),
      malformed_(o.malformed_.load(std::memory_order_relaxed)) {
  o.slots_ = 0;
}

UpcallChannel& UpcallChannel::operator=(UpcallChannel&& o) noexcept {
  if (this == &o) return *this;
  fd_ = std::move(o.fd_);
  port_id_ = o.port_id_;
  slots_ = std::exchange(o.slots_, 0);
  buf_ = std::move(o.buf_);
  iov_ = std::move(o.iov_);
  msgs_ = std::move(o.msgs_);
  enobufs_.store(o.enobufs_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  malformed_.store(o.malformed_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  return *this;
}

Result<UpcallChannel> UpcallChannel::open(const UpcallChannelOptions& options) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_GENERIC));
  if (!fd) return make_error(errno, "cannot open an upcall netlink socket");
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;  // nl_pid 0: the kernel picks a free port id
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0)
    return make_error(errno, "cannot bind the upcall netlink socket");
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) < 0)
    return make_error(errno, "cannot read the upcall socket's port id");
  const int rcvbuf = options.rcvbuf;
  if (rcvbuf > 0 && ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  return UpcallChannel(std::move(fd), addr.nl_pid, options);
}

UpcallChannel UpcallChannel::adopt(UniqueFd fd, std::uint32_t port_id,
                                   const UpcallChannelOptions& options) {
  return UpcallChannel(std::move(fd), port_id, options);
}

void UpcallChannel::parse_slot(std::size_t i, std::size_t len, std::vector<Upcall>& out) {
  const auto* m = reinterpret_cast<const nlmsghdr*>(buf_.get() + i * kSlotSize);
  while (len >= NLMSG_HDRLEN) {
    if (m->nlmsg_len < NLMSG_HDRLEN || m->nlmsg_len > len) {
      malformed_.fetch_add(1, std::memory_order_relaxed);  // a truncated message
      return;
    }
    Upcall up;
    if (parse_upcall(m, up))
      out.push_back(up);
    else
      malformed_.fetch_add(1, std::memory_order_relaxed);
    const std::size_t step = NLMSG_ALIGN(m->nlmsg_len);
    if (step >= len) return;
    len -= step;
    m = reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const std::uint8_t*>(m) + step);
  }
  if (len != 0) malformed_.fetch_add(1, std::memory_order_relaxed);
}

Result<std::size_t> UpcallChannel::receive(std::vector<Upcall>& out, std::size_t max) {
  out.clear();
  const std::size_t n_slots = std::min(max, slots_);
  if (n_slots == 0 || !fd_) return std::size_t{0};
  for (;;) {
    for (std::size_t i = 0; i < n_slots; ++i) {
      iov_[i] = {buf_.get() + i * kSlotSize, kSlotSize};
      msgs_[i] = mmsghdr{};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    const int n =
        ::recvmmsg(fd_.get(), msgs_.data(), static_cast<unsigned>(n_slots), MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return out.size();
      if (errno == ENOBUFS) {
        enobufs_.fetch_add(1, std::memory_order_relaxed);
        continue;  // reported once; what is still queued is readable
      }
      return make_error(errno, "cannot receive upcalls");
    }
    for (int i = 0; i < n; ++i) {
      if (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) {
        malformed_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      parse_slot(static_cast<std::size_t>(i), msgs_[i].msg_len, out);
    }
    // Return 0 only for an empty socket: a batch of nothing but malformed messages reads on.
    if (!out.empty() || n == 0) return out.size();
  }
}

}  // namespace vsw::dpif
