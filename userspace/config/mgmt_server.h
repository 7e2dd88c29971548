// MgmtServer: vswd's management socket, where vsw-ctl's requests are served.
//
// What? A Unix stream socket (default /run/vsw/vswd.sock) speaking config/mgmt.proto with
// config/frame.h framing. The server owns the configuration (the Config in memory and the
// ConfigStore on disk): a modifying verb is checked and applied by config/model.h, saved
// by the store, and only then made current and handed to the daemon's Backend::apply().
// If any step before apply() fails, the reply carries the error and neither the file nor
// the configuration in memory has changed. A verb that changes nothing (set-fail-mode to
// the current mode) succeeds without saving or calling apply().
//
// Read verbs: list-br and list-ports come from the configuration; show starts from the
// configuration and asks Backend::status() for runtime state; fdb/show, upcall/show, trace
// and dump-flows are the Backend's (see the reply protos in mgmt.proto for which fields the server
// fills).
//
// The socket. start() creates the socket's directory when missing (mode 0755), refuses to
// start when another server is answering on the path (EADDRINUSE) or when the path is
// something other than a socket (EEXIST), and removes a stale socket file. The socket is
// bound under a temporary name, chmod'ed to 0600 and renamed into place, so it is never
// reachable with wider permissions. stop() (or the destructor) closes every connection and
// removes the socket file if it is still ours.
//
// Clients. Any number at once (up to kMaxSessions; more are closed at once): each
// connection is a coroutine; a client that connects and stays silent holds only its own
// connection. A connection may carry many requests, answered in order. A frame over 16 MiB
// or an unparsable request is answered with an error and the connection is closed.
//
// Concurrency. Every coroutine runs on one strand of the given io_context, so requests are
// handled one at a time and the Backend is never called concurrently by the server, even
// when several threads run the io_context. The Backend's methods run on that strand: they
// must not block for long (every client waits behind them). Call start(), stop() and
// config() from the io_context's thread before it runs or from the strand (strand()).
// Exceptions thrown by a Backend are caught and returned as "internal error" replies.
//
// Tests: tests/unit/config/test_server.cpp (a fake Backend, real sockets, every verb).
#pragma once

#include <sys/types.h>

#include <boost/asio.hpp>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "config/frame.h"
#include "config/mgmt.pb.h"
#include "config/store.h"
#include "config/vsw_config.pb.h"
#include "util/result.h"

namespace vsw::config {

// What the daemon implements so the management server can change and inspect the switch.
// Called only on the server's strand, one call at a time.
class Backend {
 public:
  virtual ~Backend() = default;
  // The configuration changed (already saved); make the switch match it. Runtime trouble
  // (an interface that does not exist yet) is not an error here: it shows up in status().
  virtual void apply(const Config& config) = 0;
  // Runtime state for `show`. `out` arrives filled from the configuration: one
  // BridgeStatus per bridge (config, local port, one PortStatus per configured port, one
  // ControllerStatus per target, in configuration order) and `daemon`. Fill in the runtime
  // fields (PortStatus attached/ifindex/dp_port/link_up/reason, DatapathStats,
  // ControllerStatus connected/state/role); do not add or remove entries.
  virtual void status(ShowReply& out) = 0;
  // The learned MAC table of `bridge` (which exists in the configuration). Add entries
  // with port (OpenFlow number, kOfppLocal for the local port), vlan, mac (format_mac())
  // and age_s; the server fills `bridge` and each entry's port_name. An error is passed
  // to the client.
  virtual vsw::Result<void> fdb(const std::string& bridge, FdbReply& out) = 0;
  // The upcall layer's state (handlers, revalidators, flows, limit, upcalls, counters).
  virtual void upcalls(UpcallReply& out) = 0;
  // trace: runs the packet `flow` describes through `bridge` (which exists in the
  // configuration) without sending it or changing anything; the server fills `bridge`. A
  // malformed flow or unknown port is an error passed to the client. Default: EOPNOTSUPP.
  virtual vsw::Result<void> trace(const std::string& bridge, const std::string& flow,
                                  TraceReply& out);
  // dump-flows: the OpenFlow rules of `bridge` with their counters; the server fills
  // `bridge`. Default: EOPNOTSUPP.
  virtual vsw::Result<void> dump_flows(const std::string& bridge, DumpFlowsReply& out);
};

class MgmtServer {
 public:
  static constexpr const char* kDefaultSocket = kDefaultSocketPath;
  static constexpr std::size_t kMaxSessions = 256;

  // `config` is the configuration `store` holds (ConfigStore::load()'s result) and the one
  // the daemon has already applied; the server does not call Backend::apply() for it.
  // `backend` must outlive the server.
  MgmtServer(boost::asio::io_context& io, std::filesystem::path socket_path, ConfigStore store,
             Config config, Backend& backend);
  MgmtServer(const MgmtServer&) = delete;
  MgmtServer& operator=(const MgmtServer&) = delete;
  ~MgmtServer();

  // Creates the socket and starts accepting (the io_context serves the clients).
  [[nodiscard]] Result<void> start();
  // Closes the listening socket and every connection; removes the socket file if ours.
  void stop();

  // The current configuration.
  const Config& config() const { return config_; }
  const std::filesystem::path& socket_path() const { return socket_path_; }
  boost::asio::strand<boost::asio::io_context::executor_type>& strand() { return strand_; }
  std::size_t sessions() const { return sessions_.size(); }

  // Serves one request (what a connection does with each frame); public for tests and for
  // the daemon's own use. Must run on the strand (or while the io_context is not running).
  Reply handle(const Request& request);

 private:
  using Socket = boost::asio::local::stream_protocol::socket;
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(std::shared_ptr<Socket> socket);
  Reply handle_unchecked(const Request& request);

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::filesystem::path socket_path_;
  ConfigStore store_;
  Config config_;
  Backend& backend_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::set<std::shared_ptr<Socket>> sessions_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool started_ = false;
  dev_t socket_dev_ = 0;  // identity of the socket file we created (for stop())
  ino_t socket_ino_ = 0;
};

}  // namespace vsw::config
