// Conversion between the flow model (flow.h) and vsw netlink attributes (vsw.h).
// Pure functions over message buffers (Request to encode, libmnl views to decode): no
// sockets, so they can be unit-tested and fuzzed.
#pragma once

#include <libmnl/libmnl.h>

#include <cstddef>

#include "dpif/flow.h"
#include "dpif/netlink_message.h"
#include "dpif/result.h"

namespace vsw::dpif {

// A range over the well-formed attributes in a buffer, for range-for loops (libmnl's
// iteration macros do not compile as C++).
class AttrRange {
 public:
  class Iterator {
   public:
    Iterator(const nlattr* a, int rem) : a_(a), rem_(rem) { check(); }
    const nlattr* operator*() const { return a_; }
    Iterator& operator++() {
      if (!a_) return *this;
      rem_ -= static_cast<int>(MNL_ALIGN(a_->nla_len));
      a_ = mnl_attr_next(a_);
      check();
      return *this;
    }
    bool operator!=(const Iterator& o) const { return a_ != o.a_; }

   private:
    void check() {
      if (a_ && !mnl_attr_ok(a_, rem_)) a_ = nullptr;
    }
    const nlattr* a_;
    int rem_;
  };
  AttrRange(const void* data, std::size_t len)
      : data_(static_cast<const nlattr*>(data)), len_(static_cast<int>(len)) {}
  [[nodiscard]] Iterator begin() const { return {len_ > 0 ? data_ : nullptr, len_}; }
  [[nodiscard]] Iterator end() const { return {nullptr, 0}; }

 private:
  const nlattr* data_;
  int len_;
};

// The attributes nested in `nest`.
inline AttrRange nested(const nlattr* nest) {
  return {mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest)};
}
// The attributes of a message after `offset` bytes of fixed headers.
inline AttrRange msg_attrs(const nlmsghdr* nlh, std::size_t offset) {
  const auto* p = static_cast<const char*>(mnl_nlmsg_get_payload(nlh));
  std::size_t total = mnl_nlmsg_get_payload_len(nlh);
  offset = MNL_ALIGN(offset);
  if (offset >= total) return {p, 0};
  return {p + offset, total - offset};
}

// Appends `actions` as one nested attribute of type `type` (e.g. VSW_FLOW_ATTR_ACTIONS).
void put_actions(Request& req, std::uint16_t type, const Actions& actions);

// Parses a nested action list attribute (the payload of VSW_FLOW_ATTR_ACTIONS).
[[nodiscard]] Result<Actions> parse_actions_attr(const nlattr* list);

// Copies a key/mask attribute, which must be exactly sizeof(vsw_flow_key) long.
[[nodiscard]] Result<vsw_flow_key> parse_key_attr(const nlattr* attr);

}  // namespace vsw::dpif
