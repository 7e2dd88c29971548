// Connections on a real io_context: framing across split and glued writes, HELLO
// negotiation, echo, errors for refused messages, the inactivity probe, xid tracking,
// punix permissions, and the active connector's backoff. The switch side runs on a
// background thread; the test drives a plain blocking socket as the peer.
#include <sys/socket.h>
#include <sys/stat.h>

#include <catch2/catch_test_macros.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "openflow/listener.h"
#include "openflow/print.h"

using namespace vsw::openflow;
using namespace std::chrono_literals;

namespace {

std::string tmp_sock();

struct Server {
  asio::io_context io;
  std::unique_ptr<Listener> listener;
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Message> got;  // messages handed to the owner
  std::vector<std::shared_ptr<Connection>> conns;
  int closed = 0;
  ConnectionOptions options;

  explicit Server(ConnectionOptions o = {}) : options(o) {
    listener = std::make_unique<Listener>(io, [this](Socket s) {
      auto c = Connection::create(
          std::move(s), options,
          [this](Connection&, Message& m) {
            std::lock_guard l(mu);
            got.push_back(m);
            cv.notify_all();
          },
          [this](Connection&) {
            std::lock_guard l(mu);
            ++closed;
            cv.notify_all();
          });
      std::lock_guard l(mu);
      conns.push_back(c);
      return c;
    });
  }
  void run() {
    thread = std::thread([this] {
      auto guard = asio::make_work_guard(io);
      io.run();
    });
  }
  // Listens on a fresh punix: socket and runs; the socket's path.
  std::string serve_unix() {
    std::string path = tmp_sock();
    REQUIRE(!listener->open("punix:" + path));
    run();
    return path;
  }
  ~Server() {
    asio::post(io, [this] {
      for (auto& c : conns) c->close();
      listener->close();
      io.stop();
    });
    if (thread.joinable()) thread.join();
  }
  bool wait_for(size_t n, std::chrono::milliseconds t = 2000ms) {
    std::unique_lock l(mu);
    return cv.wait_for(l, t, [&] { return got.size() >= n; });
  }
  bool wait_closed(int n, std::chrono::milliseconds t = 2000ms) {
    std::unique_lock l(mu);
    return cv.wait_for(l, t, [&] { return closed >= n; });
  }
};

// A blocking peer on a Unix or TCP socket with a receive timeout.
struct Peer {
  asio::io_context io;
  Socket sock{io};
  explicit Peer(const asio::generic::stream_protocol::endpoint& ep) {
    sock.connect(ep);
    timeval tv{2, 0};
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void write(const Bytes& b) { asio::write(sock, asio::buffer(b)); }
  // Reads one message; nullopt on EOF/timeout.
  std::optional<Message> read() {
    Bytes b(8);
    boost::system::error_code ec;
    asio::read(sock, asio::buffer(b), ec);
    if (ec) return std::nullopt;
    auto h = peek_header(b);
    b.resize(h->length);
    asio::read(sock, asio::buffer(b.data() + 8, b.size() - 8), ec);
    if (ec) return std::nullopt;
    auto r = decode(b);
    if (!r.ok()) return std::nullopt;
    return r.value();
  }
  bool eof() {
    uint8_t c;
    boost::system::error_code ec;
    sock.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof;
  }
};

std::string tmp_sock() {
  return "/tmp/vsw-of-test-" + std::to_string(getpid()) + "-" + std::to_string(std::rand()) +
         ".sock";
}

asio::generic::stream_protocol::endpoint unix_ep(const std::string& p) {
  return asio::generic::stream_protocol::endpoint(asio::local::stream_protocol::endpoint(p));
}

Message flow_mod(uint32_t xid) {
  FlowMod f;
  f.priority = uint16_t(xid);
  f.instructions = {Instruction::apply({Action::output(xid)})};
  return Message{kVersion13, xid, f};
}

}  // namespace

TEST_CASE("openflow: punix listener: mode 0600, HELLO, framing across split and glued writes",
          "[openflow][connection]") {
  Server s;
  std::string path = tmp_sock();
  REQUIRE(!s.listener->open("punix:" + path));
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  s.run();
  Peer p(unix_ep(path));
  auto hello = p.read();
  REQUIRE(hello);
  CHECK(hello->type() == MsgType::kHello);
  CHECK(negotiate_version(*hello).ok());
  p.write(encode(make_hello(1)));
  // One message a byte at a time, then two glued together in one write.
  Bytes one = encode(flow_mod(10));
  for (uint8_t b : one) p.write(Bytes{b});
  Bytes two = encode(flow_mod(11));
  Bytes three = encode(flow_mod(12));
  two.insert(two.end(), three.begin(), three.end());
  p.write(two);
  REQUIRE(s.wait_for(3));
  std::lock_guard l(s.mu);
  CHECK(s.got[0] == flow_mod(10));
  CHECK(s.got[1] == flow_mod(11));
  CHECK(s.got[2] == flow_mod(12));
  CHECK(s.conns[0]->negotiated());
}

TEST_CASE("openflow: echo is answered, refused messages get the codec's error, connection stays up",
          "[openflow][connection]") {
  Server s;
  REQUIRE(!s.listener->open("ptcp:0:127.0.0.1"));
  uint16_t port = s.listener->port();
  REQUIRE(port != 0);
  s.run();
  Peer p(asio::generic::stream_protocol::endpoint(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)));
  REQUIRE(p.read());  // HELLO
  p.write(encode(make_hello(1)));
  p.write(encode(Message{kVersion13, 9, EchoRequest{{1, 2, 3}}}));
  auto r = p.read();
  REQUIRE(r);
  CHECK(r->xid == 9);
  CHECK(std::get<EchoReply>(r->body).data == Bytes{1, 2, 3});
  // A FLOW_MOD whose match has an unknown OXM field.
  Bytes bad = encode(flow_mod(5));
  const size_t m = 8 + 40;  // the match follows the 40-byte fixed part
  bad[m + 2] = 0;
  bad[m + 3] = 12;  // match length 12: one OXM of field 99 with a 4-byte value
  bad[m + 4] = 0x80;
  bad[m + 5] = 0;
  bad[m + 6] = uint8_t(99 << 1);
  bad[m + 7] = 4;
  bad.insert(bad.begin() + m + 8, 8, 0);  // value + padding
  bad[2] = uint8_t(bad.size() >> 8);
  bad[3] = uint8_t(bad.size());
  p.write(bad);
  auto e = p.read();
  REQUIRE(e);
  REQUIRE(e->type() == MsgType::kError);
  CHECK(e->xid == 5);
  auto& err = std::get<Error>(e->body);
  CHECK(err.type == uint16_t(ErrType::kBadMatch));
  CHECK(err.code == code::kMatchBadField);
  CHECK(err.data == Bytes(bad.begin(), bad.begin() + 64));
  p.write(encode(Message{kVersion13, 10, EchoRequest{}}));
  auto r2 = p.read();
  REQUIRE(r2);
  CHECK(r2->xid == 10);
}

TEST_CASE("openflow: HELLO without 1.3 is refused with HELLO_FAILED and the connection closed",
          "[openflow][connection]") {
  Server s;
  Peer p(unix_ep(s.serve_unix()));
  REQUIRE(p.read());
  p.write(encode(Message{1, 3, Hello{}}));  // OpenFlow 1.0 only
  auto e = p.read();
  REQUIRE(e);
  REQUIRE(e->type() == MsgType::kError);
  CHECK(std::get<Error>(e->body).type == uint16_t(ErrType::kHelloFailed));
  CHECK(p.eof());
  CHECK(s.wait_closed(1));
}

TEST_CASE("openflow: inactivity probe: echo after an idle interval, disconnect after another",
          "[openflow][connection]") {
  Server s(ConnectionOptions{100ms});
  Peer p(unix_ep(s.serve_unix()));
  REQUIRE(p.read());
  p.write(encode(make_hello(1)));
  auto start = std::chrono::steady_clock::now();
  auto probe = p.read();
  REQUIRE(probe);
  CHECK(probe->type() == MsgType::kEchoRequest);
  auto probed = std::chrono::steady_clock::now() - start;
  CHECK(probed >= 90ms);
  CHECK(probed < 1000ms);
  // Stay silent: the switch gives up one interval later.
  CHECK(p.eof());
  CHECK(std::chrono::steady_clock::now() - start < 2000ms);
  CHECK(s.wait_closed(1));
}

TEST_CASE("openflow: xid tracking: replies go to the request's callback, not the owner",
          "[openflow][connection]") {
  Server s;
  Peer p(unix_ep(s.serve_unix()));
  REQUIRE(p.read());
  p.write(encode(make_hello(1)));
  std::mutex mu;
  std::vector<MsgType> replies;
  REQUIRE(s.wait_for(0));
  for (int i = 0; i < 100 && s.conns.empty(); ++i) std::this_thread::sleep_for(10ms);
  asio::post(s.io, [&] {
    s.conns[0]->send_request(Message{kVersion13, 0, BarrierRequest{}}, [&](const Message& m) {
      std::lock_guard l(mu);
      replies.push_back(m.type());
    });
  });
  auto req = p.read();
  REQUIRE(req);
  REQUIRE(req->type() == MsgType::kBarrierRequest);
  p.write(encode(Message{kVersion13, req->xid, BarrierReply{}}));
  p.write(encode(Message{kVersion13, req->xid + 1000, BarrierReply{}}));  // unsolicited
  REQUIRE(s.wait_for(1));
  std::lock_guard l(mu);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0] == MsgType::kBarrierReply);
  std::lock_guard l2(s.mu);
  CHECK(s.got.size() == 1);
  CHECK(s.got[0].xid == req->xid + 1000);
}

TEST_CASE("openflow: targets parse; the connector backs off exponentially and then connects",
          "[openflow][connection]") {
  Target t;
  CHECK(!parse_target("ptcp:", t));
  CHECK(t.port == 6653);
  CHECK(!parse_target("ptcp:6000:127.0.0.1", t));
  CHECK((t.port == 6000 && t.host == "127.0.0.1"));
  CHECK(!parse_target("tcp:10.0.0.1", t));
  CHECK((t.port == 6653 && t.host == "10.0.0.1"));
  CHECK(parse_target("tcp:", t));
  CHECK(parse_target("ptcp:99999", t));
  CHECK(parse_target("udp:1.2.3.4", t));

  // Find a free port, then leave it closed so connects are refused.
  uint16_t port;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  asio::io_context io;
  Connector c(
      io, [](Socket) { return std::shared_ptr<Connection>(); }, Backoff{20ms, 80ms});
  REQUIRE(!c.start("tcp:127.0.0.1:" + std::to_string(port)));
  io.run_for(430ms);
  // Attempts at ~0, 20, 60, 140, 220, 300, 380 ms: 20, 40, then capped at 80.
  CHECK(c.attempts() >= 5);
  CHECK(c.attempts() <= 8);
  CHECK(c.connects() == 0);
  c.stop();

  // Now with a listener there: one connection, negotiated on both sides.
  asio::io_context io2;
  std::vector<std::shared_ptr<Connection>> server_side;
  Listener l(io2, [&](Socket s) {
    auto conn = Connection::create(std::move(s), {}, {});
    server_side.push_back(conn);
    return conn;
  });
  REQUIRE(!l.open("ptcp:0:127.0.0.1"));
  std::shared_ptr<Connection> client;
  Connector c2(io2, [&](Socket s) {
    client = Connection::create(std::move(s), {}, {});
    return client;
  });
  REQUIRE(!c2.start("tcp:127.0.0.1:" + std::to_string(l.port())));
  for (int i = 0; i < 100 && !(client && client->negotiated() && !server_side.empty() &&
                               server_side[0]->negotiated());
       ++i)
    io2.run_for(10ms);
  CHECK(c2.connects() == 1);
  REQUIRE(client);
  CHECK(client->negotiated());
  REQUIRE(server_side.size() == 1);
  CHECK(server_side[0]->negotiated());
  c2.stop();
  l.close();
  for (auto& sc : server_side) sc->close();
  io2.run_for(20ms);
}

TEST_CASE("openflow: many connections on one io_context; a stalled peer blocks no one",
          "[openflow][connection]") {
  Server s;
  const std::string path = s.serve_unix();
  // A peer that connects and never reads nor writes: its HELLO sits unread.
  Peer stalled(unix_ep(path));
  std::vector<std::unique_ptr<Peer>> peers;
  for (int i = 0; i < 20; ++i) peers.push_back(std::make_unique<Peer>(unix_ep(path)));
  for (auto& p : peers) {
    REQUIRE(p->read());  // HELLO
    p->write(encode(make_hello(1)));
  }
  for (size_t i = 0; i < peers.size(); ++i)
    peers[i]->write(encode(Message{kVersion13, uint32_t(100 + i), EchoRequest{}}));
  for (size_t i = 0; i < peers.size(); ++i) {
    auto r = peers[i]->read();
    REQUIRE(r);
    CHECK(r->type() == MsgType::kEchoReply);
    CHECK(r->xid == 100 + i);
  }
  for (size_t i = 0; i < peers.size(); ++i) peers[i]->write(encode(flow_mod(uint32_t(i + 1))));
  REQUIRE(s.wait_for(peers.size()));
  std::lock_guard l(s.mu);
  CHECK(s.conns.size() == peers.size() + 1);
}

// The reader takes whatever the socket holds (up to 128 KiB) and dispatches every complete
// message in it: 2,000 FLOW_MODs in one write (more than one read's worth, so messages are
// split across reads) all arrive, in order; after a refused HELLO nothing glued behind it
// is dispatched.
TEST_CASE("openflow: a burst in one write is dispatched whole and in order, across reads",
          "[openflow][connection]") {
  Server s;
  Peer p(unix_ep(s.serve_unix()));
  REQUIRE(p.read());
  Bytes burst = encode(make_hello(1));
  for (uint32_t x = 100; x < 2100; ++x) encode_into(burst, flow_mod(x));
  REQUIRE(burst.size() > 2 * 65536);
  p.write(burst);
  REQUIRE(s.wait_for(2000));
  std::lock_guard l(s.mu);
  REQUIRE(s.got.size() == 2000);
  for (uint32_t x = 100; x < 2100; ++x) CHECK(s.got[x - 100] == flow_mod(x));
}

TEST_CASE("openflow: nothing glued behind a refused HELLO is dispatched",
          "[openflow][connection]") {
  Server s;
  Peer p(unix_ep(s.serve_unix()));
  REQUIRE(p.read());
  Bytes b = encode(Message{1, 3, Hello{}});  // OpenFlow 1.0 only
  encode_into(b, flow_mod(7));
  p.write(b);
  auto e = p.read();
  REQUIRE(e);
  REQUIRE(e->type() == MsgType::kError);
  CHECK(std::get<Error>(e->body).type == uint16_t(ErrType::kHelloFailed));
  CHECK(p.eof());
  CHECK(s.wait_closed(1));
  std::lock_guard l(s.mu);
  CHECK(s.got.empty());
}

// Replies to a read are written by the reader at once (one non-blocking gathered write);
// what the socket does not take then is left to the writer. 5,000 ECHO_REQUESTs of 1 KiB
// each, sent while the peer reads nothing, give 5 MB of replies, far more than a Unix
// socket buffers: every reply still arrives whole, in order, after the peer starts reading.
TEST_CASE("openflow: replies beyond the socket buffer arrive whole and in order",
          "[openflow][connection]") {
  Server s;
  Peer p(unix_ep(s.serve_unix()));
  REQUIRE(p.read());
  Bytes burst = encode(make_hello(1));
  const auto payload = [](uint32_t x) { return Bytes(1024, static_cast<uint8_t>(x)); };
  for (uint32_t x = 1; x <= 5000; ++x)
    encode_into(burst, Message{kVersion13, x, EchoRequest{payload(x)}});
  std::thread writer([&] { p.write(burst); });
  writer.join();  // the switch keeps reading while its replies wait
  for (uint32_t x = 1; x <= 5000; ++x) {
    auto r = p.read();
    REQUIRE(r);
    REQUIRE(r->type() == MsgType::kEchoReply);
    REQUIRE(r->xid == x);
    REQUIRE(std::get<EchoReply>(r->body).data == payload(x));
  }
}
