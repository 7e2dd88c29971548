// The test rig shared by the ofswitch tests: the usual bridge (secure fail mode, ports
// LOCAL "br0", 1 "eth1", 2 "eth2"), the agent's replies to one request captured and
// decoded, an io_context run on a thread with work posted to it, a blocking raw OpenFlow
// peer on a unix socket path (a punix: target or the service socket), per-process socket
// paths, and a shell command's status and output (for Debian's ovs-ofctl).
#pragma once

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <cstdio>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "ofswitch/agent.h"
#include "ofswitch/connmgr.h"
#include "openflow/codec.h"

namespace vsw::ofswitch::test {

namespace asio = boost::asio;

inline ofproto::Ofproto::Options secure_options() {
  ofproto::Ofproto::Options o;
  o.fail_mode = ofproto::FailMode::kSecure;  // no fail-open rule in the tables
  return o;
}

// LOCAL "br0", 1 "eth1" and 2 "eth2", all up.
inline std::vector<ofproto::PortInfo> three_ports() {
  std::vector<ofproto::PortInfo> p(3);
  p[0].ofport = openflow::port::kLocal;
  p[0].name = "br0";
  p[1].ofport = 1;
  p[1].name = "eth1";
  p[2].ofport = 2;
  p[2].name = "eth2";
  return p;
}

// Hands body to the agent as a request of session's; returns the replies, decoded.
inline std::vector<openflow::Message> handle(Agent& agent, Session& session, openflow::Body body,
                                             uint32_t xid = 9) {
  std::vector<openflow::Message> out;
  agent.handle(session, openflow::Message{openflow::kVersion13, xid, std::move(body)},
               [&](openflow::Bytes b) {
                 auto m = openflow::decode(b);
                 REQUIRE(m.ok());
                 out.push_back(m.value());
               });
  return out;
}

// The body of the single MULTIPART reply in r.
template <class Reply>
Reply multipart_body(const std::vector<openflow::Message>& r) {
  REQUIRE(r.size() == 1);
  return std::get<Reply>(std::get<openflow::MultipartReply>(r[0].body).body);
}

// The (type, code) of the single error in r; (0xffff, 0) if r is not one error.
inline std::pair<uint16_t, uint16_t> error_code(const std::vector<openflow::Message>& r) {
  if (r.size() != 1 || r[0].type() != openflow::MsgType::kError) return {0xffff, 0};
  const auto& e = std::get<openflow::Error>(r[0].body);
  return {e.type, e.code};
}

// Runs io on a thread of its own until io.stop().
inline std::thread run_io(asio::io_context& io) {
  return std::thread([&io] {
    auto guard = asio::make_work_guard(io);
    io.run();
  });
}

// Runs f on io's thread and waits for it.
template <class F>
auto on_io(asio::io_context& io, F f) -> decltype(f()) {
  std::packaged_task<decltype(f())()> task(std::move(f));
  auto fut = task.get_future();
  asio::post(io, [&task] { task(); });
  return fut.get();
}

// A unix socket path of this process's.
inline std::string tmp_sock(const char* tag) {
  return "/tmp/vsw-ofswitch-" + std::to_string(getpid()) + "-" + tag + ".sock";
}

// A blocking raw peer on a unix socket path; reads time out after 3 s.
struct RawPeer {
  asio::io_context io;
  openflow::Socket sock{io};
  explicit RawPeer(const std::string& path) {
    sock.connect(
        asio::generic::stream_protocol::endpoint(asio::local::stream_protocol::endpoint(path)));
    timeval tv{3, 0};
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void write(const openflow::Bytes& b) { asio::write(sock, asio::buffer(b)); }
  // The next message; none on a timeout, a closed socket or an undecodable message.
  std::optional<openflow::Message> read() {
    openflow::Bytes b(8);
    boost::system::error_code ec;
    asio::read(sock, asio::buffer(b), ec);
    if (ec) return std::nullopt;
    b.resize(openflow::peek_header(b)->length);
    asio::read(sock, asio::buffer(b.data() + 8, b.size() - 8), ec);
    if (ec) return std::nullopt;
    auto r = openflow::decode(b);
    if (!r.ok()) return std::nullopt;
    return r.value();
  }
  // The next message's error (type, code); (0xffff, 0xffff) if it is not an error.
  std::pair<uint16_t, uint16_t> error() {
    auto m = read();
    if (!m || m->type() != openflow::MsgType::kError) return {0xffff, 0xffff};
    const auto& e = std::get<openflow::Error>(m->body);
    return {e.type, e.code};
  }
};

struct Run {
  int status = -1;
  std::string out;
};

// Runs cmd in a shell; its exit status and output (stdout and stderr).
inline Run sh(const std::string& cmd) {
  Run r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace vsw::ofswitch::test
