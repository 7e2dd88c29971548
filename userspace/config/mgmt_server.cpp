// MgmtServer (see mgmt_server.h): accept loop and one coroutine per connection, all on one
// strand; handle() is the synchronous core that tests call directly.
#include "config/mgmt_server.h"

#include <google/protobuf/util/message_differencer.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <cerrno>
#include <exception>
#include <map>

#include "config/frame.h"
#include "config/model.h"

namespace vsw::config {
namespace asio = boost::asio;
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

Reply error_reply(const Error& e) {
  Reply r;
  r.set_error(e.message.empty() ? e.code.message() : e.message);
  r.set_errno_value(e.code.value() != 0 ? e.code.value() : EINVAL);
  return r;
}

Error from_boost(const boost::system::error_code& ec, const std::string& what) {
  return make_error(ec.value() != 0 ? ec.value() : EIO, what + ": " + ec.message());
}

// True when something accepts connections on `path`.
bool someone_listens(asio::io_context& io, const std::filesystem::path& path) {
  asio::local::stream_protocol::socket probe(io);
  boost::system::error_code ec;
  probe.connect(asio::local::stream_protocol::endpoint(path.string()), ec);
  return !ec;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

MgmtServer::MgmtServer(asio::io_context& io, std::filesystem::path socket_path, ConfigStore store,
                       Config config, Backend& backend)
    : io_(io),
      strand_(asio::make_strand(io)),
      socket_path_(std::move(socket_path)),
      store_(std::move(store)),
      config_(std::move(config)),
      backend_(backend),
      acceptor_(strand_) {}

MgmtServer::~MgmtServer() {
  stop();
}

Result<void> MgmtServer::start() {
  if (started_) return make_error(EALREADY, "the management server is already started");
  const std::string path = socket_path_.string();
  const std::string tmp = path + ".new";
  if (tmp.size() >= sizeof(sockaddr_un::sun_path))
    return make_error(ENAMETOOLONG, "socket path " + path + " is too long");

  std::error_code fec;
  if (socket_path_.has_parent_path()) {
    std::filesystem::create_directories(socket_path_.parent_path(), fec);
    if (fec)
      return make_error(fec.value(), "cannot create " + socket_path_.parent_path().string() + ": " +
                                         fec.message());
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return make_error(EEXIST, path + " exists and is not a socket; not replacing it");
    if (someone_listens(io_, socket_path_))
      return make_error(EADDRINUSE, "another vswd is already serving " + path);
    ::unlink(path.c_str());  // stale, from a daemon that did not stop cleanly
  }
  ::unlink(tmp.c_str());

  boost::system::error_code ec;
  acceptor_.open(asio::local::stream_protocol(), ec);
  if (ec) return from_boost(ec, "cannot create the management socket");
  auto fail = [&](int err, const std::string& what) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    ::unlink(tmp.c_str());
    return make_error(err, what);
  };
  acceptor_.bind(asio::local::stream_protocol::endpoint(tmp), ec);
  if (ec) return fail(ec.value(), "cannot bind " + tmp + ": " + ec.message());
  if (::chmod(tmp.c_str(), 0600) != 0) return fail(errno, "cannot chmod " + tmp);
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec.value(), "cannot listen on " + tmp + ": " + ec.message());
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return fail(errno, "cannot rename " + tmp + " to " + path);
  if (::lstat(path.c_str(), &st) == 0) {
    socket_dev_ = st.st_dev;
    socket_ino_ = st.st_ino;
  }
  started_ = true;
  asio::co_spawn(strand_, accept_loop(), asio::detached);
  return {};
}

void MgmtServer::stop() {
  if (!*alive_) return;
  *alive_ = false;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (const auto& s : sessions_) s->close(ignored);
  sessions_.clear();
  if (started_) {
    // Remove the socket file only if it is still the one we created.
    struct stat st {};
    if (::lstat(socket_path_.c_str(), &st) == 0 && st.st_dev == socket_dev_ &&
        st.st_ino == socket_ino_)
      ::unlink(socket_path_.c_str());
  }
}

asio::awaitable<void> MgmtServer::accept_loop() {
  auto alive = alive_;
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
    if (!*alive) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // EMFILE and friends: wait a little instead of spinning, then keep listening.
      asio::steady_timer pause(strand_, std::chrono::milliseconds(100));
      co_await pause.async_wait(kTuple);
      if (!*alive) co_return;
      continue;
    }
    if (sessions_.size() >= kMaxSessions) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    auto s = std::make_shared<Socket>(std::move(socket));
    sessions_.insert(s);
    asio::co_spawn(strand_, session(s), asio::detached);
  }
}

asio::awaitable<void> MgmtServer::session(std::shared_ptr<Socket> socket) {
  auto alive = alive_;
  try {
    for (;;) {
      std::array<std::uint8_t, kFrameHeader> header{};
      auto [ec, n] = co_await asio::async_read(*socket, asio::buffer(header), kTuple);
      if (ec || !*alive) break;
      const std::uint32_t len = decode_length(header);
      Reply reply;
      bool close_after = false;
      if (len > kMaxMessage) {
        reply = error_reply(make_error(
            EMSGSIZE, "request of " + std::to_string(len) + " bytes exceeds the 16 MiB limit"));
        close_after = true;
      } else {
        std::string body(len, '\0');
        auto [ec2, n2] = co_await asio::async_read(*socket, asio::buffer(body), kTuple);
        if (ec2 || !*alive) break;
        Request request;
        if (!request.ParseFromString(body)) {
          reply = error_reply(make_error(EPROTO, "unparsable request"));
          close_after = true;
        } else {
          reply = handle(request);
        }
      }
      auto framed = encode_frame(reply);
      if (!framed) framed = encode_frame(error_reply(framed.error()));
      if (!framed) break;
      auto [ec3, n3] = co_await asio::async_write(*socket, asio::buffer(*framed), kTuple);
      if (ec3 || !*alive || close_after) break;
    }
  } catch (const std::exception&) {
    // Nothing may escape into io_context::run(); the connection is dropped.
  }
  if (*alive) {
    boost::system::error_code ignored;
    socket->close(ignored);
    sessions_.erase(socket);
  }
}

Result<void> Backend::trace(const std::string&, const std::string&, TraceReply&) {
  return make_error(EOPNOTSUPP, "trace is not supported by this daemon");
}

Result<void> Backend::dump_flows(const std::string&, DumpFlowsReply&) {
  return make_error(EOPNOTSUPP, "dump-flows is not supported by this daemon");
}

Reply MgmtServer::handle(const Request& request) {
  try {
    return handle_unchecked(request);
  } catch (const std::exception& e) {
    return error_reply(make_error(EIO, std::string("internal error: ") + e.what()));
  } catch (...) {
    return error_reply(make_error(EIO, "internal error"));
  }
}

Reply MgmtServer::handle_unchecked(const Request& request) {
  if (auto ok = check_request(request); !ok) return error_reply(ok.error());

  if (is_modifying(request)) {
    auto next = apply(config_, request);
    if (!next) return error_reply(next.error());
    if (google::protobuf::util::MessageDifferencer::Equals(*next, config_)) return Reply{};
    if (auto saved = store_.save(*next); !saved)
      return error_reply(make_error(saved.error().code.value(),
                                    "cannot save the configuration: " + saved.error().to_string()));
    config_ = std::move(*next);
    backend_.apply(config_);
    return Reply{};
  }

  Reply reply;
  switch (request.verb_case()) {
    case Request::kListBridges: {
      std::vector<std::string> names;
      for (const auto& b : config_.bridges()) names.push_back(b.name());
      for (auto& n : sorted(std::move(names))) reply.mutable_names()->add_names(std::move(n));
      break;
    }
    case Request::kListPorts: {
      const Bridge* b = find_bridge(config_, request.list_ports().bridge());
      if (!b)
        return error_reply(
            make_error(ENOENT, "no bridge named '" + request.list_ports().bridge() + "'"));
      std::vector<std::string> names;
      for (const auto& p : b->ports()) names.push_back(p.name());
      auto* out = reply.mutable_names();
      for (auto& n : sorted(std::move(names))) out->add_names(std::move(n));
      break;
    }
    case Request::kShow: {
      ShowReply& show = *reply.mutable_show();
      *show.mutable_daemon() = resolve_daemon(config_.daemon());
      for (const auto& b : config_.bridges()) {
        BridgeStatus& bs = *show.add_bridges();
        *bs.mutable_config() = b;
        bs.mutable_local()->set_name(b.name());
        for (const auto& p : b.ports()) {
          PortStatus& ps = *bs.add_ports();
          ps.set_name(p.name());
          ps.set_ofport(p.ofport());
        }
        for (const auto& c : b.controllers()) bs.add_controllers()->set_target(c.target());
      }
      backend_.status(show);
      break;
    }
    case Request::kFdbShow: {
      const std::string& name = request.fdb_show().bridge();
      const Bridge* b = find_bridge(config_, name);
      if (!b) return error_reply(make_error(ENOENT, "no bridge named '" + name + "'"));
      FdbReply& fdb = *reply.mutable_fdb();
      if (auto ok = backend_.fdb(name, fdb); !ok) return error_reply(ok.error());
      fdb.set_bridge(name);
      std::map<std::uint32_t, std::string> port_names{{kOfppLocal, b->name()}};
      for (const auto& p : b->ports()) port_names[p.ofport()] = p.name();
      for (auto& e : *fdb.mutable_entries()) {
        auto it = port_names.find(e.port());
        e.set_port_name(it == port_names.end() ? std::string() : it->second);
      }
      break;
    }
    case Request::kUpcallShow:
      backend_.upcalls(*reply.mutable_upcall());
      break;
    case Request::kTrace: {
      const std::string& name = request.trace().bridge();
      if (!find_bridge(config_, name))
        return error_reply(make_error(ENOENT, "no bridge named '" + name + "'"));
      TraceReply& trace = *reply.mutable_trace();
      if (auto ok = backend_.trace(name, request.trace().flow(), trace); !ok)
        return error_reply(ok.error());
      trace.set_bridge(name);
      break;
    }
    case Request::kDumpFlows: {
      const std::string& name = request.dump_flows().bridge();
      if (!find_bridge(config_, name))
        return error_reply(make_error(ENOENT, "no bridge named '" + name + "'"));
      DumpFlowsReply& flows = *reply.mutable_flows();
      if (auto ok = backend_.dump_flows(name, flows); !ok) return error_reply(ok.error());
      flows.set_bridge(name);
      break;
    }
    default:
      return error_reply(make_error(EINVAL, "unknown request"));
  }
  return reply;
}

}  // namespace vsw::config
