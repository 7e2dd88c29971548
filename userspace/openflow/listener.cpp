// See listener.h.
#include "openflow/listener.h"

#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <charconv>

namespace vsw::openflow {
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

bool parse_port(std::string_view s, uint16_t& port) {
  unsigned v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v > 65535) return false;
  port = uint16_t(v);
  return true;
}

std::error_code invalid() {
  return std::make_error_code(std::errc::invalid_argument);
}

}  // namespace

std::error_code parse_target(std::string_view s, Target& t) {
  t = Target{};
  if (s.starts_with("punix:")) {
    t.kind = Target::Kind::kPunix;
    t.path = std::string(s.substr(6));
    return t.path.empty() ? invalid() : std::error_code{};
  }
  if (s.starts_with("ptcp:")) {
    t.kind = Target::Kind::kPtcp;
    t.host = "0.0.0.0";
    std::string_view rest = s.substr(5);
    auto colon = rest.find(':');
    std::string_view port = rest.substr(0, colon);
    if (!port.empty() && !parse_port(port, t.port)) return invalid();
    if (colon != std::string_view::npos) t.host = std::string(rest.substr(colon + 1));
  } else if (s.starts_with("tcp:")) {
    t.kind = Target::Kind::kTcp;
    std::string_view rest = s.substr(4);
    auto colon = rest.find(':');
    t.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos && !parse_port(rest.substr(colon + 1), t.port))
      return invalid();
    if (t.host.empty()) return invalid();
  } else {
    return invalid();
  }
  boost::system::error_code ec;
  asio::ip::make_address(t.host, ec);
  return ec ? invalid() : std::error_code{};
}

Listener::Listener(asio::io_context& io, ConnectionFactory factory)
    : io_(io), factory_(std::move(factory)), acceptor_(io) {}

Listener::~Listener() {
  close();
}

std::error_code Listener::open(std::string_view target) {
  Target t;
  if (auto ec = parse_target(target, t)) return ec;
  boost::system::error_code ec;
  if (t.kind == Target::Kind::kPtcp) {
    asio::ip::tcp::endpoint ep(asio::ip::make_address(t.host), t.port);
    asio::generic::stream_protocol::endpoint gep(ep);
    acceptor_.open(gep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(gep, ec);
  } else if (t.kind == Target::Kind::kPunix) {
    ::unlink(t.path.c_str());
    asio::local::stream_protocol::endpoint ep(t.path);
    asio::generic::stream_protocol::endpoint gep(ep);
    acceptor_.open(gep.protocol(), ec);
    // Create the socket file with 0600 from the start (no window with wider permissions).
    mode_t old = ::umask(0177);
    if (!ec) acceptor_.bind(gep, ec);
    ::umask(old);
    if (!ec && ::chmod(t.path.c_str(), 0600) != 0)
      ec = std::error_code(errno, std::generic_category());
    if (!ec) unix_path_ = t.path;
  } else {
    return invalid();
  }
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return ec;
  }
  auto alive = alive_;
  asio::co_spawn(
      io_, [this, alive]() -> asio::awaitable<void> { co_await accept_loop(); }, asio::detached);
  return {};
}

asio::awaitable<void> Listener::accept_loop() {
  auto alive = alive_;
  while (*alive && acceptor_.is_open()) {
    auto [ec, sock] = co_await acceptor_.async_accept(kTuple);
    if (!*alive) break;
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      continue;  // e.g. EMFILE: keep listening
    }
    auto conn = factory_(std::move(sock));
    if (conn) conn->start();
  }
}

void Listener::close() {
  *alive_ = false;
  boost::system::error_code ec;
  acceptor_.close(ec);
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
  unix_path_.clear();
}

uint16_t Listener::port() const {
  boost::system::error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  if (ec || ep.data()->sa_family != AF_INET) return 0;
  return ntohs(reinterpret_cast<const sockaddr_in*>(ep.data())->sin_port);
}

Connector::Connector(asio::io_context& io, ConnectionFactory factory, Backoff backoff)
    : io_(io), factory_(std::move(factory)), backoff_(backoff), timer_(io) {}

Connector::~Connector() {
  // stop() throws only if Asio fails to cancel the timer; a destructor must not let it out.
  try {
    stop();
  } catch (...) {
  }
}

std::error_code Connector::start(std::string_view target) {
  Target t;
  if (auto ec = parse_target(target, t)) return ec;
  if (t.kind != Target::Kind::kTcp) return invalid();
  asio::ip::tcp::endpoint ep(asio::ip::make_address(t.host), t.port);
  asio::co_spawn(
      io_, [this, ep]() -> asio::awaitable<void> { co_await run(ep); }, asio::detached);
  return {};
}

void Connector::stop() {
  *alive_ = false;
  timer_.cancel();
  if (current_) current_->close();
  current_.reset();
}

asio::awaitable<void> Connector::run(asio::ip::tcp::endpoint ep) {
  auto alive = alive_;
  auto delay = backoff_.min;
  while (*alive) {
    ++attempts_;
    Socket sock(io_);
    asio::generic::stream_protocol::endpoint gep(ep);
    auto [ec] = co_await sock.async_connect(gep, kTuple);
    if (!*alive) co_return;
    if (!ec) {
      ++connects_;
      delay = backoff_.min;
      current_ = factory_(std::move(sock));
      if (current_) {
        auto conn = current_;
        conn->start();
        co_await conn->wait_closed();
        if (!*alive) co_return;
        current_.reset();
      }
    }
    timer_.expires_after(delay);
    co_await timer_.async_wait(kTuple);
    delay = std::min(delay * 2, backoff_.max);
  }
}

}  // namespace vsw::openflow
