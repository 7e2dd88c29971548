// Text helpers shared by every userspace folder.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace vsw {

// `s` with every control character written as \xNN, so that text taken from input (a user's
// argument, a file's bytes) keeps an error message on one line.
inline std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const unsigned char ch : s) {
    if (ch < 0x20 || ch == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", ch);
      out += hex;
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out;
}

}  // namespace vsw
