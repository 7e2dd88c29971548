// Framing of the management protocol (config/mgmt.proto): a 4-byte big-endian length, then
// that many bytes of a serialized Request or Reply. Lengths above kMaxMessage are refused by
// both sides (the daemon closes the connection; the client reports a protocol error).
#pragma once

#include <google/protobuf/message_lite.h>

#include <array>
#include <cstdint>
#include <string>

#include "util/result.h"

namespace vsw::config {

// Where vswd listens unless told otherwise (vswd --socket, vsw-ctl --socket / $VSW_SOCKET).
inline constexpr const char* kDefaultSocketPath = "/run/vsw/vswd.sock";

inline constexpr std::uint32_t kMaxMessage = 16u << 20;  // 16 MiB
inline constexpr std::size_t kFrameHeader = 4;

// The length prefix followed by the message; EMSGSIZE when the message exceeds kMaxMessage.
[[nodiscard]] Result<std::string> encode_frame(const google::protobuf::MessageLite& message);

[[nodiscard]] inline std::uint32_t decode_length(const std::array<std::uint8_t, 4>& h) {
  return (std::uint32_t{h[0]} << 24) | (std::uint32_t{h[1]} << 16) | (std::uint32_t{h[2]} << 8) |
         std::uint32_t{h[3]};
}

}  // namespace vsw::config
