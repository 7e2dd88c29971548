// The time source of ofproto: monotonic milliseconds, injectable so tests control aging.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace vsw::ofproto {

using Clock = std::function<std::int64_t()>;  // monotonic milliseconds

inline std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace vsw::ofproto
