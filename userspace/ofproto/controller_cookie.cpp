// The USERSPACE cookie of output:CONTROLLER. See controller_cookie.h.
#include "ofproto/controller_cookie.h"

#include <cerrno>
#include <string>

namespace vsw::ofproto {
namespace {

constexpr std::size_t kBaseLen = 16, kWithMetadataLen = 24;
constexpr std::uint8_t kFlagMetadata = 1;

void put_be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get_be(std::span<const std::uint8_t> in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | in[at + static_cast<std::size_t>(i)];
  return v;
}

}  // namespace

std::vector<std::uint8_t> encode_controller_cookie(const ControllerCookie& c) {
  std::vector<std::uint8_t> out;
  out.reserve(kWithMetadataLen);
  out.push_back(kControllerCookieVersion);
  out.push_back(static_cast<std::uint8_t>(c.reason));
  out.push_back(c.table_id);
  out.push_back(c.metadata ? kFlagMetadata : 0);
  put_be(out, c.max_len, 2);
  put_be(out, 0, 2);
  put_be(out, c.rule_cookie, 8);
  if (c.metadata) put_be(out, c.metadata, 8);
  return out;
}

Result<ControllerCookie> decode_controller_cookie(std::span<const std::uint8_t> in) {
  const auto bad = [](const std::string& why) {
    return make_error(EBADMSG, "controller cookie: " + why);
  };
  if (in.size() != kBaseLen && in.size() != kWithMetadataLen)
    return bad(std::to_string(in.size()) + " bytes, expected 16 or 24");
  if (in[0] != kControllerCookieVersion) return bad("version " + std::to_string(in[0]));
  if (in[1] > static_cast<std::uint8_t>(PacketInReason::kInvalidTtl))
    return bad("reason " + std::to_string(in[1]));
  if (in[3] & ~kFlagMetadata) return bad("flags " + std::to_string(in[3]));
  const bool has_md = (in[3] & kFlagMetadata) != 0;
  if (in.size() != (has_md ? kWithMetadataLen : kBaseLen))
    return bad("length does not agree with the metadata flag");
  if (in[6] || in[7]) return bad("reserved bytes are not zero");
  ControllerCookie c;
  c.reason = static_cast<PacketInReason>(in[1]);
  c.table_id = in[2];
  c.max_len = static_cast<std::uint16_t>(get_be(in, 4, 2));
  c.rule_cookie = get_be(in, 8, 8);
  if (has_md) {
    c.metadata = get_be(in, 16, 8);
    if (c.metadata == 0) return bad("metadata flag set with a zero metadata word");
  }
  return c;
}

}  // namespace vsw::ofproto
