// Logging for the daemon: printf-style messages with a level, to stderr (default) or
// syslog, each line tagged with the calling thread's name ("main", "handler0", ...).
//
// rate_limited() keeps a noisy message (a MAC moving back and forth, a kernel refusal
// repeated for every packet) to at most a few lines per interval per key, and reports how
// many it suppressed, so the log stays readable under a storm.
#pragma once

#include <string>

namespace vsw::log {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// Settings: messages above `level` are dropped; syslog(3) instead of stderr if asked.
void init(Level level, bool use_syslog, const char* ident = "vswd");
// "error", "warn", "info", "debug" -> level; false for anything else.
bool parse_level(const std::string& word, Level& out);
void set_thread_name(const std::string& name);

void write(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// At most 5 lines per key every 5 s; the next line after a quiet spell says how many
// were suppressed.
void rate_limited(Level level, const char* key, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

// With no arguments the message is printed as it is (never read as a format).
#define VSW_LOG_FN(name, lvl)                                                \
  template <class... A>                                                      \
  void name(const char* fmt, A... a) {                                       \
    if constexpr (sizeof...(A) == 0)                                         \
      write(lvl, "%s", fmt);                                                 \
    else                                                                     \
      write(lvl, fmt, a...); /* NOLINT(cppcoreguidelines-pro-type-vararg) */ \
  }
VSW_LOG_FN(error, Level::kError)
VSW_LOG_FN(warn, Level::kWarn)
VSW_LOG_FN(info, Level::kInfo)
VSW_LOG_FN(debug, Level::kDebug)
#undef VSW_LOG_FN

}  // namespace vsw::log
