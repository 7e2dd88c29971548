// Request implementation (see netlink_message.h).
#include "dpif/netlink_message.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace vsw::dpif {

namespace {
constexpr std::size_t kInitialCapacity = 512;
constexpr std::size_t align(std::size_t n) {
  return NLMSG_ALIGN(n);
}
}  // namespace

Request::Request(std::uint16_t family, std::uint8_t cmd, std::uint8_t version,
                 std::uint16_t flags) {
  buf_.reserve(kInitialCapacity);
  grow(sizeof(nlmsghdr));
  nlh()->nlmsg_type = family;
  nlh()->nlmsg_flags = NLM_F_REQUEST | flags;
  const std::size_t off = grow(sizeof(genlmsghdr));
  auto* genl = reinterpret_cast<genlmsghdr*>(buf_.data() + off);
  genl->cmd = cmd;
  genl->version = version;
}

std::size_t Request::grow(std::size_t len) {
  const std::size_t off = buf_.size();
  buf_.resize(off + align(len));  // value-initialized: padding is zero
  nlh()->nlmsg_len = static_cast<std::uint32_t>(buf_.size());
  return off;
}

void* Request::put_extra(std::size_t size) {
  return buf_.data() + grow(size);
}

void Request::put(std::uint16_t type, const void* data, std::size_t len) {
  if (len > kMaxAttrPayload) {
    too_big_ = true;
    return;
  }
  const std::size_t off = grow(NLA_HDRLEN + len);
  nlattr attr{};
  attr.nla_type = type;
  attr.nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + len);
  std::memcpy(buf_.data() + off, &attr, sizeof attr);
  if (len) std::memcpy(buf_.data() + off + NLA_HDRLEN, data, len);
}

void Request::put_strz(std::uint16_t type, std::string_view s) {
  if (s.size() + 1 > kMaxAttrPayload) {
    too_big_ = true;
    return;
  }
  const std::size_t off = grow(NLA_HDRLEN + s.size() + 1);
  nlattr attr{};
  attr.nla_type = type;
  attr.nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + s.size() + 1);
  std::memcpy(buf_.data() + off, &attr, sizeof attr);
  if (!s.empty()) std::memcpy(buf_.data() + off + NLA_HDRLEN, s.data(), s.size());
  // the terminating NUL is already there: grow() zero-fills
}

std::size_t Request::nest_start(std::uint16_t type) {
  const std::size_t off = grow(NLA_HDRLEN);
  nlattr attr{};
  attr.nla_type = static_cast<std::uint16_t>(type | NLA_F_NESTED);
  attr.nla_len = NLA_HDRLEN;
  std::memcpy(buf_.data() + off, &attr, sizeof attr);
  return off;
}

void Request::nest_end(std::size_t nest) {
  const std::size_t len = buf_.size() - nest;
  if (len > 0xffff) {
    too_big_ = true;
    return;
  }
  const auto len16 = static_cast<std::uint16_t>(len);
  std::memcpy(buf_.data() + nest + offsetof(nlattr, nla_len), &len16, sizeof len16);
}

Result<void> Request::check() const {
  if (too_big_)
    return make_error(EMSGSIZE, "netlink request too big: an attribute exceeds " +
                                    std::to_string(kMaxAttrPayload) + " bytes");
  return {};
}

}  // namespace vsw::dpif
