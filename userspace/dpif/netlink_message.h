// Request: one generic netlink request being built — nlmsghdr, genlmsghdr, an optional
// fixed family header, then attributes — in a buffer that grows as attributes are added.
//
// Why it grows: a request's size depends on what it carries (a 9,000-byte jumbo frame in
// an EXECUTE, 32 actions with cookies in a FLOW_NEW), and a fixed buffer either wastes
// memory on every request or gets written past by the largest one. Every write goes
// through a method here that makes room first, so no caller can overrun the buffer.
//
// Limits: an attribute's length is a 16-bit field, so a payload larger than
// kMaxAttrPayload, or a nest whose content grows past it, cannot be encoded. Such a put
// is not written; it marks the request too big, check() then returns EMSGSIZE, and
// NetlinkSocket refuses to send it. Callers therefore need no size checks of their own.
//
// Pointers returned by nlh() and put_extra() are valid until the next put; nests are
// named by offsets (nest_start()'s result), which survive growth.
#pragma once

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dpif/result.h"

namespace vsw::dpif {

class Request {
 public:
  // The largest attribute payload nla_len can describe (0xffff minus the 4-byte header).
  static constexpr std::size_t kMaxAttrPayload = 0xffff - NLA_HDRLEN;

  // family: the resolved id; cmd/version: genl fields; flags: NLM_F_* beyond NLM_F_REQUEST.
  Request(std::uint16_t family, std::uint8_t cmd, std::uint8_t version, std::uint16_t flags);

  // Adds room for a fixed header after the genlmsghdr (zeroed) and returns it. Call
  // before any attribute.
  void* put_extra(std::size_t size);

  // Attributes. Integers are written in host order, as libmnl does.
  void put(std::uint16_t type, const void* data, std::size_t len);
  void put(std::uint16_t type, std::span<const std::uint8_t> data) {
    put(type, data.data(), data.size());
  }
  void put_u8(std::uint16_t type, std::uint8_t v) { put(type, &v, sizeof v); }
  void put_u16(std::uint16_t type, std::uint16_t v) { put(type, &v, sizeof v); }
  void put_u32(std::uint16_t type, std::uint32_t v) { put(type, &v, sizeof v); }
  void put_u64(std::uint16_t type, std::uint64_t v) { put(type, &v, sizeof v); }
  void put_flag(std::uint16_t type) { put(type, nullptr, 0); }
  // A NUL-terminated string.
  void put_strz(std::uint16_t type, std::string_view s);

  // Opens a nested attribute (NLA_F_NESTED is set); returns the handle for nest_end().
  [[nodiscard]] std::size_t nest_start(std::uint16_t type);
  void nest_end(std::size_t nest);

  [[nodiscard]] nlmsghdr* nlh() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  [[nodiscard]] const nlmsghdr* nlh() const {
    return reinterpret_cast<const nlmsghdr*>(buf_.data());
  }
  // Bytes of the message so far (== nlh()->nlmsg_len, always a multiple of 4).
  [[nodiscard]] std::size_t size() const { return buf_.size(); }

  // EMSGSIZE when a put could not be encoded (see the top of this file).
  [[nodiscard]] Result<void> check() const;

 private:
  // Appends `len` zeroed bytes rounded up to the netlink alignment; returns their offset.
  std::size_t grow(std::size_t len);

  std::vector<std::uint8_t> buf_;  // exactly the message; nlmsg_len kept equal to size()
  bool too_big_ = false;
};

}  // namespace vsw::dpif
