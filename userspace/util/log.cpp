// Logging (see log.h).
#include "util/log.h"

#include <syslog.h>

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>

namespace vsw::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<bool> g_syslog{false};
thread_local std::string t_name = "main";
const char* const kNames[] = {"error", "warn", "info", "debug"};

void vwrite(Level level, const char* fmt, va_list ap) {
  char msg[1024];
  std::vsnprintf(msg, sizeof msg, fmt, ap);  // NOLINT(clang-analyzer-valist.Uninitialized)
  const int l = static_cast<int>(level);
  if (g_syslog) {
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    syslog(prio[l], "%s|%s|%s", t_name.c_str(), kNames[l], msg);
    return;
  }
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch())
                      .count() %
                  1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03dZ|%s|%s|%s\n", ts, static_cast<int>(ms), t_name.c_str(),
               kNames[l], msg);
}
}  // namespace

void init(Level level, bool use_syslog, const char* ident) {
  g_level = static_cast<int>(level);
  g_syslog = use_syslog;
  if (use_syslog) openlog(ident, LOG_PID, LOG_DAEMON);
}

bool parse_level(const std::string& word, Level& out) {
  for (int i = 0; i < 4; ++i) {
    if (word == kNames[i]) {
      out = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

void set_thread_name(const std::string& name) {
  t_name = name;
}

void write(Level level, const char* fmt, ...) {
  if (static_cast<int>(level) > g_level) return;
  va_list ap;
  va_start(ap, fmt);
  vwrite(level, fmt, ap);
  va_end(ap);
}

void rate_limited(Level level, const char* key, const char* fmt, ...) {
  if (static_cast<int>(level) > g_level) return;
  struct Bucket {
    std::chrono::steady_clock::time_point start;
    int shown = 0;
    long suppressed = 0;
  };
  static std::mutex mu;
  static std::map<std::string, Bucket> buckets;
  long suppressed = 0;
  {
    std::lock_guard lock(mu);
    Bucket& b = buckets[key];
    const auto now = std::chrono::steady_clock::now();
    if (now - b.start > std::chrono::seconds(5)) {
      suppressed = b.suppressed;
      b = Bucket{now, 0, 0};
    }
    if (b.shown >= 5) {
      ++b.suppressed;
      return;
    }
    ++b.shown;
  }
  if (suppressed) write(level, "(%ld similar messages suppressed)", suppressed);
  va_list ap;
  va_start(ap, fmt);
  vwrite(level, fmt, ap);
  va_end(ap);
}

}  // namespace vsw::log
