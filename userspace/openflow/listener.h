// Where connections come from: passive listeners and an active connector.
//
//   ptcp:[PORT][:IP]  listen on TCP (default port 6653, default IP 0.0.0.0; port 0 picks a
//                     free one, see port())
//   punix:PATH        listen on a Unix socket, created with mode 0600 (a stale file at PATH
//                     is replaced)
//   tcp:IP[:PORT]     connect out; on failure or disconnect retry after 1 s, doubling up to
//                     8 s (Backoff), reset to the minimum after a successful connection
//
// Each accepted or established socket becomes a started Connection handed to the owner's
// callback; any number of them run on the same io_context. Errors in setting up are
// std::error_code (errno values in generic_category, or invalid_argument for a bad target).
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "openflow/connection.h"

namespace vsw::openflow {

using NewConnectionFn = std::function<void(std::shared_ptr<Connection>)>;

// Makes the Connection for a fresh socket; the owner sets callbacks through this hook.
using ConnectionFactory = std::function<std::shared_ptr<Connection>(Socket)>;

class Listener {
 public:
  Listener(asio::io_context& io, ConnectionFactory factory);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener();

  // Binds and starts accepting.
  [[nodiscard]] std::error_code open(std::string_view target);
  void close();
  uint16_t port() const;  // bound TCP port (0 for Unix)

 private:
  asio::awaitable<void> accept_loop();

  asio::io_context& io_;
  ConnectionFactory factory_;
  asio::basic_socket_acceptor<asio::generic::stream_protocol> acceptor_;
  std::string unix_path_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

struct Backoff {
  std::chrono::milliseconds min{1000};
  std::chrono::milliseconds max{8000};
};

class Connector {
 public:
  Connector(asio::io_context& io, ConnectionFactory factory, Backoff backoff = {});
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;
  ~Connector();

  [[nodiscard]] std::error_code start(std::string_view target);
  void stop();
  int attempts() const { return attempts_; }
  int connects() const { return connects_; }

 private:
  asio::awaitable<void> run(asio::ip::tcp::endpoint ep);

  asio::io_context& io_;
  ConnectionFactory factory_;
  Backoff backoff_;
  asio::steady_timer timer_;
  std::shared_ptr<Connection> current_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  int attempts_ = 0;
  int connects_ = 0;
};

// Parses "ptcp:", "punix:" and "tcp:" targets (exposed for tests).
struct Target {
  enum class Kind { kPtcp, kPunix, kTcp } kind;
  std::string host;  // IP for ptcp/tcp
  uint16_t port = 6653;
  std::string path;  // punix
};
[[nodiscard]] std::error_code parse_target(std::string_view s, Target& out);

}  // namespace vsw::openflow
