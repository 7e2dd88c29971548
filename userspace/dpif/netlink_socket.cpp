// NetlinkSocket implementation (see netlink_socket.h).
#include "dpif/netlink_socket.h"

#include "dpif/netlink_codec.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace vsw::dpif {

namespace {
constexpr std::size_t kRecvSize = 256 * 1024;
constexpr std::size_t kRequestSize = 8192;

// Reads the text of an extended ack, if the error message carries one.
std::string extack_message(const nlmsghdr* nlh) {
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  std::size_t off = sizeof(*err);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) off += err->msg.nlmsg_len - sizeof(nlmsghdr);
  std::string msg;
  std::size_t total = mnl_nlmsg_get_payload_len(nlh);
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
}  // namespace

Request::Request(std::uint16_t family, std::uint8_t cmd, std::uint8_t version, std::uint16_t flags)
    : buf_(kRequestSize) {
  nlh_ = mnl_nlmsg_put_header(buf_.data());
  nlh_->nlmsg_type = family;
  nlh_->nlmsg_flags = NLM_F_REQUEST | flags;
  auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(genlmsghdr)));
  genl->cmd = cmd;
  genl->version = version;
}

void* Request::put_extra(std::size_t size) {
  return mnl_nlmsg_put_extra_header(nlh_, size);
}

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
  int rcvbuf = 4 << 20;
  (void)setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  return sock;
}

std::uint32_t NetlinkSocket::port_id() const {
  return mnl_socket_get_portid(sock_.get());
}

Result<void> NetlinkSocket::transact(Request& req, const Callback& cb) {
  nlmsghdr* nlh = req.nlh();
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = seq_++;
  if (mnl_socket_sendto(sock_.get(), nlh, nlh->nlmsg_len) < 0)
    return make_error(errno, "cannot send a netlink request");

  std::vector<char> buf(kRecvSize);
  std::optional<Error> cb_error;
  const std::uint32_t portid = port_id();
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock_.get(), buf.data(), buf.size());
    if (n < 0) return make_error(errno, "cannot read the netlink reply");
    const auto* msg = reinterpret_cast<const nlmsghdr*>(buf.data());
    int len = static_cast<int>(n);
    while (mnl_nlmsg_ok(msg, len)) {
      if (msg->nlmsg_seq != nlh->nlmsg_seq || (msg->nlmsg_pid && msg->nlmsg_pid != portid)) {
        msg = mnl_nlmsg_next(msg, &len);  // a stale reply to an earlier request
        continue;
      }
      if (msg->nlmsg_type == NLMSG_ERROR) {
        if (msg->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr)))
          return make_error(EBADMSG, "truncated netlink error message");
        const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(msg));
        if (err->error == 0) {
          if (cb_error) return *cb_error;
          return {};
        }
        return make_error(-err->error, extack_message(msg));
      }
      if (msg->nlmsg_type == NLMSG_DONE) {
        int status = 0;
        if (mnl_nlmsg_get_payload_len(msg) >= sizeof(int))
          std::memcpy(&status, mnl_nlmsg_get_payload(msg), sizeof status);
        if (status < 0) return make_error(-status, extack_message(msg));
        if (cb_error) return *cb_error;
        // A dump with NLM_F_ACK gets no separate ack on older kernels; DONE ends it.
        return {};
      }
      if (cb && !cb_error) {
        auto r = cb(msg);
        if (!r) cb_error = r.error();
      }
      msg = mnl_nlmsg_next(msg, &len);
    }
  }
}

Result<std::uint16_t> NetlinkSocket::resolve_family(std::string_view name) {
  Request req(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
  std::string n(name);
  mnl_attr_put_strz(req.nlh(), CTRL_ATTR_FAMILY_NAME, n.c_str());
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
