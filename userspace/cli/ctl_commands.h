// vsw-ctl: the command layer, separate from main() so tests can drive it with a fake
// transport (or a real MgmtServer on a temporary socket) and capture its output.
//
// Verbs are looked up in one table (name, argument synopsis, one-line help, argument
// counts, allowed output options, handler); `help` is generated from that table. Each
// handler turns its words into a config::Request; before anything is sent, the request is
// checked with config::check_request(), the daemon's own rules, so bad input is reported
// even when vswd is not running.
//
// Options (anywhere on the line): --socket PATH (default: $VSW_SOCKET, else
// /run/vsw/vswd.sock), --timeout SECS (default 30; 0 waits forever), --json (show,
// fdb/show, upcall/show, trace, dump-flows), --dot (show), -h/--help.
//
// Output: `show` is a tree for people, `show --json` is protobuf's JSON mapping of
// ShowReply for scripts (every field printed), `show --dot` is a Graphviz digraph. Errors
// are one line on stderr, "vsw-ctl: VERB: message" ("vsw-ctl: cannot reach vswd at PATH
// (is it running?)" when there is no daemon). Exit codes: 0 success, 1 vswd refused or
// could not be reached, 2 bad command line (checked locally).
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "config/mgmt.pb.h"
#include "util/result.h"

namespace vsw::cli::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr std::chrono::seconds kDefaultTimeout{30};

// Sends one request to the daemon at `socket` and returns its reply.
using CallFn = std::function<Result<config::Reply>(
    const std::string& socket, std::chrono::milliseconds timeout, const config::Request&)>;

// The real transport: one MgmtClient connection per call.
CallFn socket_call();

class Context;

struct Verb {
  const char* name;
  const char* args;  // synopsis, e.g. "BR IFACE [KEY=VALUE]..."
  const char* help;  // one line
  int min_args;
  int max_args;      // -1: unlimited
  unsigned options;  // kJsonOption | kDotOption: output options this verb accepts
  int (*run)(Context& c, const std::vector<std::string>& args);
};
inline constexpr unsigned kJsonOption = 1;
inline constexpr unsigned kDotOption = 2;

const std::vector<Verb>& verbs();

class Context {
 public:
  Context(CallFn call, std::ostream& out, std::ostream& err)
      : call_(std::move(call)), out_(out), err_(err) {}

  // Checks `request` locally and sends it. True when vswd accepted it (`reply` holds the
  // payload); false after printing the error, with the exit code in `code`.
  bool send(const config::Request& request, config::Reply& reply, int& code);
  std::ostream& out() { return out_; }
  // Prints "vsw-ctl: VERB: message" and returns `code`.
  int fail(int code, const std::string& message);

  std::string verb;
  std::string socket;
  std::chrono::milliseconds timeout = kDefaultTimeout;
  bool json = false;
  bool dot = false;

 private:
  CallFn call_;
  std::ostream& out_;
  std::ostream& err_;
};

// The whole command line minus argv[0]. `default_socket` is $VSW_SOCKET or the built-in
// default (main() decides). Returns the exit code; never throws.
int run(const std::vector<std::string>& argv, const std::string& default_socket, const CallFn& call,
        std::ostream& out, std::ostream& err);

}  // namespace vsw::cli::ctl
