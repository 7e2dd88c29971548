// vsw-dpctl: the command layer, separate from main() so tests can drive it with a fake
// Dpif and capture its output.
//
// Verbs are looked up in one table (name, handler, argument synopsis, one-line help,
// the options only that verb takes); `help` is generated from that table. Output
// conventions: `show` and `dump-flows` are for people, `show --json` and `dump-flows
// --json` are for scripts (one JSON object per line). Every error is one line on stderr:
// "vsw-dpctl: VERB: message". Exit codes: 0 success, 1 the datapath refused or failed (the
// kernel's message is shown), 2 bad command line input.
//
// The outside world `top` depends on (a clock and a way to wait) comes in through
// Environment, so tests can step time and change counters between two dumps.
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dpif/dpif.h"

namespace vsw::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Opens the datapath interface on first use (so `help` works without the module).
using DpifFactory = std::function<dpif::Result<std::shared_ptr<dpif::Dpif>>()>;

struct Verb {
  const char* name;
  const char* args;  // synopsis, e.g. "DP IFACE[,port_no=N]..."
  const char* help;  // one line
  int min_args;
  int max_args;  // -1: unlimited
  int (*run)(class Context&, const std::vector<std::string>& args);
  // Options of this verb alone, space-separated; a trailing '=' marks one that takes a
  // value ("--once --limit="), given as `--limit N` or `--limit=N`.
  const char* options = "";
};

// What `top` needs from outside the process. Empty members mean the real thing: the
// steady clock, and a wait that sleeps (--once) or, on a terminal, also returns early
// when q is typed or SIGINT arrives.
struct Environment {
  using Clock = std::chrono::steady_clock;
  std::function<Clock::time_point()> now;
  // Waits about `d`; false means stop (the user asked to quit).
  std::function<bool(Clock::duration d)> wait;
};

class Context {
 public:
  Context(DpifFactory factory, std::ostream& out, std::ostream& err, Environment env = {})
      : env(std::move(env)), factory_(std::move(factory)), out_(out), err_(err) {}

  // The opened Dpif, or nullptr after printing why it could not be opened.
  dpif::Dpif* dpif();
  std::ostream& out() { return out_; }
  // Prints "vsw-dpctl: VERB: message" and returns the exit code given.
  int fail(int code, const std::string& message);
  int fail(const dpif::Error& error) { return fail(kExitFailed, error.to_string()); }

  std::string verb;
  bool json = false;   // --json
  bool clear = false;  // --clear (mod-flow)
  // The verb's own options as given (Verb::options): name -> value ("" for a flag).
  std::map<std::string, std::string> options;
  Environment env;

 private:
  DpifFactory factory_;
  std::shared_ptr<dpif::Dpif> dpif_;
  std::ostream& out_;
  std::ostream& err_;
};

const std::vector<Verb>& verbs();

// The whole command line minus argv[0]. Returns the exit code.
int run(const std::vector<std::string>& argv, const DpifFactory& factory, std::ostream& out,
        std::ostream& err, const Environment& env = {});

// "IFACE[,port_no=N]" -> name and optional port number; an error quotes the bad text.
struct IfaceSpec {
  std::string name;
  std::optional<std::uint32_t> port_no;
};
dpif::Result<IfaceSpec> parse_iface_spec(std::string_view text);

}  // namespace vsw::cli
