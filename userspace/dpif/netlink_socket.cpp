// NetlinkSocket implementation (see netlink_socket.h).
#include "dpif/netlink_socket.h"

#include "dpif/netlink_codec.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace vsw::dpif {

namespace {
constexpr std::size_t kRecvSize = std::size_t{256} * 1024;

// The text of an extended ack in the TLVs that start `off` bytes into the payload.
std::string extack_text(const nlmsghdr* nlh, std::size_t off) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  std::string msg;
  const std::size_t total = mnl_nlmsg_get_payload_len(nlh);
  if (off >= total) return {};
  const auto* base = static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + off;
  for (const nlattr* attr : AttrRange(base, total - off)) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
      msg = mnl_attr_get_str(attr);
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    }
  }
  return msg;
}

// NLMSG_ERROR: struct nlmsgerr, then (unless capped) the request echoed, then the TLVs.
std::string extack_message(const nlmsghdr* nlh) {
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  std::size_t off = sizeof(*err);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && err->msg.nlmsg_len > sizeof(nlmsghdr))
    off += NLMSG_ALIGN(err->msg.nlmsg_len - sizeof(nlmsghdr));
  return extack_text(nlh, off);
}

// NLMSG_DONE: the int status, then the TLVs.
std::string done_message(const nlmsghdr* nlh) {
  return extack_text(nlh, NLMSG_ALIGN(sizeof(int)));
}
}  // namespace

NetlinkSocket::NetlinkSocket(mnl_socket* s)
    : sock_(s), rbuf_(std::make_unique_for_overwrite<char[]>(kRecvSize)) {}

Result<NetlinkSocket> NetlinkSocket::open() {
  mnl_socket* s = mnl_socket_open(NETLINK_GENERIC);
  if (!s) return make_error(errno, "cannot open a generic netlink socket");
  NetlinkSocket sock(s);
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0)
    return make_error(errno, "cannot bind the netlink socket");
  int one = 1;
  // Extended acks (error text) and capped acks (no echo of our request); both optional.
  (void)mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &one, sizeof one);
  (void)mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &one, sizeof one);
  const int fd = mnl_socket_get_fd(s);
  // Room for the answers of a whole batch chunk. FORCE needs CAP_NET_ADMIN; without it
  // the kernel caps the size at net.core.rmem_max / wmem_max, which is still enough.
  int rcvbuf = 4 << 20, sndbuf = 1 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  timeval tv{};
  tv.tv_sec = kReceiveTimeoutSeconds;
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return sock;
}

std::uint32_t NetlinkSocket::port_id() const {
  return mnl_socket_get_portid(sock_.get());
}

Result<void> NetlinkSocket::transact(Request& req, const Callback& cb) {
  Exchange ex{&req, cb, std::nullopt};
  auto r = run_chunk(std::span<Exchange>(&ex, 1));
  if (!r) return r;
  if (ex.error) return *ex.error;
  return {};
}

Result<void> NetlinkSocket::transact_batch(std::span<Exchange> batch) {
  std::size_t begin = 0;
  while (begin < batch.size()) {
    std::size_t end = begin, bytes = 0;
    while (end < batch.size() && end - begin < kMaxBatch) {
      const std::size_t size = batch[end].request->size();
      if (end > begin && bytes + size > kMaxBatchBytes) break;
      bytes += size;
      ++end;
    }
    auto r = run_chunk(batch.subspan(begin, end - begin));
    if (!r) {
      for (std::size_t i = end; i < batch.size(); ++i) batch[i].error = r.error();
      return r;
    }
    begin = end;
  }
  return {};
}

Result<void> NetlinkSocket::run_chunk(std::span<Exchange> chunk) {
  const std::uint32_t first_seq = seq_;
  seq_ += static_cast<std::uint32_t>(chunk.size());
  std::vector<iovec> iov;
  std::vector<bool> pending(chunk.size(), false);
  std::size_t left = 0;
  iov.reserve(chunk.size());
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    Exchange& ex = chunk[i];
    ex.error.reset();
    if (auto ok = ex.request->check(); !ok) {
      ex.error = ok.error();
      continue;
    }
    nlmsghdr* nlh = ex.request->nlh();
    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = first_seq + static_cast<std::uint32_t>(i);
    iov.push_back({nlh, ex.request->size()});
    pending[i] = true;
    ++left;
  }
  if (left == 0) return {};

  auto fail_pending = [&](const Error& e) -> Result<void> {
    for (std::size_t i = 0; i < chunk.size(); ++i)
      if (pending[i]) chunk[i].error = e;
    return e;
  };

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  msghdr msg{};
  msg.msg_name = &kernel;
  msg.msg_namelen = sizeof kernel;
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  const int fd = mnl_socket_get_fd(sock_.get());
  ssize_t sent;
  do {
    sent = sendmsg(fd, &msg, 0);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return fail_pending(make_error(errno, "cannot send a netlink request"));

  const std::uint32_t portid = port_id();
  while (left > 0) {
    ssize_t n = mnl_socket_recvfrom(sock_.get(), rbuf_.get(), kRecvSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return fail_pending(make_error(ETIMEDOUT, "no answer from the kernel"));
      return fail_pending(make_error(errno, "cannot read the netlink reply"));
    }
    const auto* m = reinterpret_cast<const nlmsghdr*>(rbuf_.get());
    int len = static_cast<int>(n);
    for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
      const std::uint32_t index = m->nlmsg_seq - first_seq;
      if (index >= chunk.size() || !pending[index] || (m->nlmsg_pid && m->nlmsg_pid != portid))
        continue;  // a stale reply to an earlier request
      Exchange& ex = chunk[index];
      if (m->nlmsg_type == NLMSG_ERROR) {
        if (m->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) {
          ex.error = make_error(EBADMSG, "truncated netlink error message");
        } else {
          const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m));
          if (err->error != 0) ex.error = make_error(-err->error, extack_message(m));
        }
        pending[index] = false;
        --left;
      } else if (m->nlmsg_type == NLMSG_DONE) {
        // A dump with NLM_F_ACK gets no separate ack on older kernels; DONE ends it (a
        // later ack, if any, is skipped as stale).
        int status = 0;
        if (mnl_nlmsg_get_payload_len(m) >= sizeof(int))
          std::memcpy(&status, mnl_nlmsg_get_payload(m), sizeof status);
        if (status < 0) ex.error = make_error(-status, done_message(m));
        pending[index] = false;
        --left;
      } else if (m->nlmsg_type >= NLMSG_MIN_TYPE && ex.on_reply && !ex.error) {
        auto r = ex.on_reply(m);
        if (!r) ex.error = r.error();
      }
    }
  }
  return {};
}

Result<std::uint16_t> NetlinkSocket::resolve_family(std::string_view name) {
  Request req(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
  std::string n(name);
  req.put_strz(CTRL_ATTR_FAMILY_NAME, n);
  std::uint16_t id = 0;
  auto r = transact(req, [&](const nlmsghdr* msg) -> Result<void> {
    for (const nlattr* attr : msg_attrs(msg, sizeof(genlmsghdr))) {
      if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
          mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
        id = mnl_attr_get_u16(attr);
    }
    return {};
  });
  if (!r) {
    if (r.error().code.value() == ENOENT)
      return make_error(ENOENT, "generic netlink family '" + n + "' not found");
    return r.error();
  }
  if (id == 0) return make_error(EPROTO, "no id in the reply for family '" + n + "'");
  return id;
}

}  // namespace vsw::dpif
