// vsw-dpctl top (see dpctl_top.h): rates, sorting, the table, and the terminal loop.
#include "cli/dpctl_top.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <ostream>
#include <thread>
#include <unordered_map>

#include "dpif/flow_text.h"

namespace vsw::cli {
namespace top {

using Clock = Environment::Clock;

namespace {

constexpr double kMinInterval = 0.1;
constexpr double kMaxInterval = 3600;
constexpr std::size_t kMaxLimit = 1000000;

std::string quote(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// The identity of a flow across dumps: its key and mask bytes.
std::string flow_id(const dpif::Match& m) {
  std::string id(reinterpret_cast<const char*>(&m.key), sizeof m.key);
  id.append(reinterpret_cast<const char*>(&m.mask), sizeof m.mask);
  return id;
}

// Counters only grow while the thing they count lives; a smaller value means it was
// cleared or re-created since, so it is counted from zero.
std::uint64_t delta(std::uint64_t before, std::uint64_t now) {
  return now >= before ? now - before : now;
}

std::string fixed1(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string pad_left(const std::string& s, std::size_t w) {
  return s.size() >= w ? s : std::string(w - s.size(), ' ') + s;
}

}  // namespace

Result<Options> parse_options(const std::vector<std::string>& args,
                              const std::map<std::string, std::string>& options) {
  Options o;
  if (args.size() != 1) return make_error(EINVAL, "name one datapath");
  o.dp = args[0];
  for (const auto& [name, value] : options) {
    const char* b = value.data();
    const char* e = value.data() + value.size();
    if (name == "--once") {
      o.once = true;
    } else if (name == "--interval") {
      double secs = 0;
      auto [p, ec] = std::from_chars(b, e, secs);
      if (value.empty() || ec != std::errc() || p != e || !std::isfinite(secs) ||
          secs < kMinInterval || secs > kMaxInterval)
        return make_error(EINVAL, "bad interval " + quote(value) + " (want seconds, 0.1 to 3600)");
      o.interval = std::chrono::milliseconds(std::llround(secs * 1000));
    } else if (name == "--sort") {
      if (value == "packets")
        o.sort = SortKey::kPackets;
      else if (value == "bytes")
        o.sort = SortKey::kBytes;
      else
        return make_error(EINVAL, "bad sort key " + quote(value) + " (want packets or bytes)");
    } else if (name == "--limit") {
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(b, e, n);
      if (value.empty() || ec != std::errc() || p != e || n == 0 || n > kMaxLimit)
        return make_error(EINVAL, "bad limit " + quote(value) + " (want 1 to 1000000)");
      o.limit = n;
    } else {
      return make_error(EINVAL, "unknown option " + quote(name));
    }
  }
  return o;
}

Result<Snapshot> take_snapshot(dpif::Dpif& d, std::string_view dp,
                               const std::function<Clock::time_point()>& now) {
  Snapshot s;
  s.when = now();
  auto info = d.dp_get(dp);
  if (!info) return info.error();
  s.stats = info->stats;
  auto r = d.flow_dump(dp, [&](const dpif::FlowEntry& e) { s.flows.push_back(e); });
  if (!r) return r.error();
  return s;
}

Table compute(const Snapshot& prev, const Snapshot& cur, SortKey sort, std::size_t limit) {
  Table t;
  t.seconds = std::chrono::duration<double>(cur.when - prev.when).count();
  t.flows = cur.flows.size();
  const double secs = t.seconds;
  auto rate = [secs](std::uint64_t n) { return secs > 0 ? static_cast<double>(n) / secs : 0.0; };
  t.hit_per_s = rate(delta(prev.stats.n_hit, cur.stats.n_hit));
  t.missed_per_s = rate(delta(prev.stats.n_missed, cur.stats.n_missed));
  t.lost_per_s = rate(delta(prev.stats.n_lost, cur.stats.n_lost));

  std::unordered_map<std::string, const dpif::FlowEntry*> before;
  before.reserve(prev.flows.size());
  for (const auto& f : prev.flows) before.emplace(flow_id(f.match), &f);

  struct Rated {
    std::size_t index;  // in cur.flows: dump order, the last tie-break
    double pps, bps;
  };
  std::vector<Rated> rated;
  rated.reserve(cur.flows.size());
  for (std::size_t i = 0; i < cur.flows.size(); ++i) {
    const auto& f = cur.flows[i];
    std::uint64_t p0 = 0, b0 = 0;
    if (auto it = before.find(flow_id(f.match)); it != before.end()) {
      p0 = it->second->packets;
      b0 = it->second->bytes;
    }
    // A flow whose packet counter went backwards was cleared: count both from zero.
    const bool reset = f.packets < p0 || f.bytes < b0;
    const double pps = rate(reset ? f.packets : f.packets - p0);
    const double bps = rate(reset ? f.bytes : f.bytes - b0);
    t.packets_per_s += pps;
    t.bytes_per_s += bps;
    rated.push_back({i, pps, bps});
  }

  const bool by_bytes = sort == SortKey::kBytes;
  auto before_in_order = [&](const Rated& a, const Rated& b) {
    const double a1 = by_bytes ? a.bps : a.pps, b1 = by_bytes ? b.bps : b.pps;
    if (a1 != b1) return a1 > b1;
    const double a2 = by_bytes ? a.pps : a.bps, b2 = by_bytes ? b.pps : b.bps;
    if (a2 != b2) return a2 > b2;
    const auto& fa = cur.flows[a.index];
    const auto& fb = cur.flows[b.index];
    const std::uint64_t ta = by_bytes ? fa.bytes : fa.packets;
    const std::uint64_t tb = by_bytes ? fb.bytes : fb.packets;
    if (ta != tb) return ta > tb;
    return a.index < b.index;
  };
  const std::size_t n = std::min(limit, rated.size());
  std::partial_sort(rated.begin(), rated.begin() + static_cast<std::ptrdiff_t>(n), rated.end(),
                    before_in_order);
  t.rows.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    t.rows.push_back({cur.flows[rated[i].index], rated[i].pps, rated[i].bps});
  return t;
}

std::string format_table(const Options& o, const Table& t, std::size_t width) {
  const char* key = o.sort == SortKey::kBytes ? "bytes/s" : "packets/s";
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f", t.seconds);
  std::string s = o.dp + ": " + std::to_string(t.flows) + (t.flows == 1 ? " flow" : " flows");
  if (t.rows.size() < t.flows) s += ", the " + std::to_string(t.rows.size()) + " busiest shown";
  s += ", sorted by " + std::string(key) + ", rates over " + secs + " s\n";
  s += "lookups/s: hit:" + fixed1(t.hit_per_s) + " missed:" + fixed1(t.missed_per_s) +
       " lost:" + fixed1(t.lost_per_s) + "  all flows: packets/s:" + fixed1(t.packets_per_s) +
       " bytes/s:" + fixed1(t.bytes_per_s) + "\n\n";
  s += pad_left("packets/s", 11) + pad_left("bytes/s", 14) + pad_left("packets", 13) +
       pad_left("bytes", 15) + "  flow\n";
  for (const auto& r : t.rows) {
    std::string line = pad_left(fixed1(r.packets_per_s), 11) + pad_left(fixed1(r.bytes_per_s), 14) +
                       pad_left(std::to_string(r.flow.packets), 13) +
                       pad_left(std::to_string(r.flow.bytes), 15) + "  " +
                       dpif::format_match(r.flow.match) +
                       ", actions:" + dpif::format_actions(r.flow.actions);
    if (width > 0 && line.size() > width) line.resize(width);
    s += line + "\n";
  }
  return s;
}

}  // namespace top

namespace {

// The interactive terminal for the life of one `top`: stdin (when a terminal) without
// line buffering and echo, so a single q is read at once; SIGINT and SIGTERM blocked
// except while waiting (ppoll), so a signal can neither be lost between a check and the
// wait nor kill the process with the terminal left changed. The destructor puts back the
// terminal mode, the signal mask and the handlers.
class Terminal {
 public:
  Terminal() {
    stop_ = 0;
    struct sigaction sa {};
    sa.sa_handler = [](int) { stop_ = 1; };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old_mask_);
    wait_mask_ = old_mask_;
    sigdelset(&wait_mask_, SIGINT);
    sigdelset(&wait_mask_, SIGTERM);
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old_tty_) == 0) {
      termios raw = old_tty_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      tty_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
  }
  ~Terminal() {
    if (tty_) tcsetattr(STDIN_FILENO, TCSANOW, &old_tty_);
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Waits `d`; false when q was typed, stdin hung up, or SIGINT/SIGTERM arrived.
  bool wait(Environment::Clock::duration d) {
    const auto deadline = Environment::Clock::now() + d;
    for (;;) {
      if (stop_) return false;
      const auto left = deadline - Environment::Clock::now();
      if (left <= Environment::Clock::duration::zero()) return true;
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
      pollfd fd{STDIN_FILENO, POLLIN, 0};
      const int n = ppoll(&fd, tty_ ? 1 : 0, &ts, &wait_mask_);
      if (n < 0 && errno != EINTR) return true;  // cannot wait well: go on redrawing
      if (n > 0 && (fd.revents & (POLLHUP | POLLERR | POLLNVAL))) return false;
      if (n > 0 && (fd.revents & POLLIN)) {
        char buf[64];
        const ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
        if (got > 0 && std::memchr(buf, 'q', static_cast<std::size_t>(got))) return false;
      }
    }
  }

  // Columns of the terminal on stdout, 0 when unknown.
  static std::size_t width() {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 0;
  }

 private:
  static inline volatile std::sig_atomic_t stop_ = 0;
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  sigset_t old_mask_{};
  sigset_t wait_mask_{};
  termios old_tty_{};
  bool tty_ = false;
};

constexpr const char* kClearScreen = "\x1b[H\x1b[2J";

}  // namespace

int cmd_top(Context& c, const std::vector<std::string>& args) {
  if (c.json) return c.fail(kExitUsage, "option '--json' is not an option of top");
  auto o = top::parse_options(args, c.options);
  if (!o) return c.fail(kExitUsage, o.error().message);
  auto* d = c.dpif();
  if (!d) return kExitFailed;

  std::function<Environment::Clock::time_point()> now = c.env.now;
  if (!now) now = [] { return Environment::Clock::now(); };
  // The real interactive view owns the terminal until it returns; tests bring a wait.
  std::optional<Terminal> term;
  std::function<bool(Environment::Clock::duration)> wait = c.env.wait;
  if (!wait && !o->once) {
    term.emplace();
    wait = [&term](Environment::Clock::duration dur) { return term->wait(dur); };
  } else if (!wait) {
    wait = [](Environment::Clock::duration dur) {
      std::this_thread::sleep_for(dur);
      return true;
    };
  }
  const auto interval = std::chrono::duration_cast<Environment::Clock::duration>(o->interval);

  auto prev = top::take_snapshot(*d, o->dp, now);
  if (!prev) return c.fail(prev.error());
  auto& out = c.out();
  if (!o->once) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", std::chrono::duration<double>(o->interval).count());
    const std::size_t n = prev->flows.size();
    out << kClearScreen << o->dp << ": " << n << (n == 1 ? " flow" : " flows")
        << "; first rates in " << secs << " s (q or Ctrl-C quits)\n"
        << std::flush;
  }
  for (;;) {
    if (!wait(interval)) return kExitOk;
    auto cur = top::take_snapshot(*d, o->dp, now);
    if (!cur) return c.fail(cur.error());
    const top::Table t = top::compute(*prev, *cur, o->sort, o->limit);
    if (o->once) {
      out << top::format_table(*o, t);
      return kExitOk;
    }
    out << kClearScreen << top::format_table(*o, t, term ? Terminal::width() : 0)
        << "(q or Ctrl-C quits)\n"
        << std::flush;
    prev = std::move(cur);
  }
}

}  // namespace vsw::cli
