// MgmtServer over real Unix sockets with a fake Backend: every verb, the socket's mode,
// concurrent clients, malformed frames, persistence and refusal semantics.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <cstring>

#include "config/frame.h"
#include "config/mgmt_client.h"
#include "support.h"

using namespace vsw::config;
using namespace vsw::config::test;
using Catch::Matchers::ContainsSubstring;

namespace {

Reply call(const RunningServer& s, const Request& r) {
  auto client = MgmtClient::connect(s.socket().string(), std::chrono::seconds(5));
  REQUIRE(client.ok());
  auto reply = client->call(r);
  if (!reply) FAIL(reply.error().to_string());
  return *reply;
}

void ok(const RunningServer& s, const Request& r) {
  INFO(r.ShortDebugString());
  auto reply = call(s, r);
  CHECK(reply.error() == "");
}

Request verb(void (*set)(Request&)) {
  Request r;
  set(r);
  return r;
}

// A raw connected socket, for speaking broken protocol.
int raw_connect(const std::filesystem::path& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Reads one framed Reply from a raw socket.
Reply raw_reply(int fd) {
  std::array<std::uint8_t, 4> h{};
  REQUIRE(::recv(fd, h.data(), 4, MSG_WAITALL) == 4);
  std::string body(decode_length(h), '\0');
  REQUIRE(::recv(fd, body.data(), body.size(), MSG_WAITALL) == static_cast<ssize_t>(body.size()));
  Reply r;
  REQUIRE(r.ParseFromString(body));
  return r;
}

}  // namespace

TEST_CASE("server: every verb over the socket", "[server]") {
  TempDir dir;
  RunningServer s(dir.path());
  ConfigStore store(s.state());

  ok(s, add_br("br0", {kv("datapath-id", "00000000000000b0")}));
  ok(s, add_br("br1", {kv("fail-mode", "secure")}));
  CHECK(s.backend().applies() == 2);
  CHECK(s.backend().last().bridges_size() == 2);

  auto list = call(s, verb([](Request& r) { r.mutable_list_bridges(); }));
  REQUIRE(list.has_names());
  CHECK(std::vector<std::string>(list.names().names().begin(), list.names().names().end()) ==
        std::vector<std::string>{"br0", "br1"});

  ok(s, add_port("br0", "eth1"));
  ok(s, add_port("br0", "eth0", {kv("tag", "10")}));
  ok(s, add_port("br0", "tap0", {kv("trunks", "10,20")}));
  ok(s, add_port("br1", "eth2"));
  Request lp;
  lp.mutable_list_ports()->set_bridge("br0");
  auto ports = call(s, lp);
  CHECK(std::vector<std::string>(ports.names().names().begin(), ports.names().names().end()) ==
        std::vector<std::string>{"eth0", "eth1", "tap0"});  // sorted

  ok(s, set_port("eth1", {kv("ofport", "7")}));
  ok(s, set_fail_mode("br0", "secure"));
  ok(s, set_bridge("br0", {kv("mac-aging", "60")}));
  ok(s, set_controller("br0", {"tcp:127.0.0.1:6653"}));

  // Every change is on disk, and the daemon saw the same configuration.
  auto disk = store.load();
  REQUIRE(disk.ok());
  CHECK(disk->SerializeAsString() == s.backend().last().SerializeAsString());
  CHECK(s.on_strand([](MgmtServer& m) { return m.config().SerializeAsString(); }) ==
        disk->SerializeAsString());

  // show: configuration from the server, runtime from the backend.
  auto show = call(s, verb([](Request& r) { r.mutable_show(); }));
  REQUIRE(show.has_show());
  const auto& sh = show.show();
  CHECK(sh.daemon().flow_limit() == kDefaultFlowLimit);
  REQUIRE(sh.bridges_size() == 2);
  const auto& b0 = sh.bridges(0);
  CHECK(b0.config().name() == "br0");
  CHECK(b0.config().fail_mode() == Bridge::SECURE);
  CHECK(b0.local().name() == "br0");
  CHECK(b0.datapath().present());
  CHECK(b0.datapath().hit() == 100);
  REQUIRE(b0.ports_size() == 3);
  CHECK(b0.ports(0).name() == "eth1");
  CHECK(b0.ports(0).ofport() == 7);
  CHECK(b0.ports(0).attached());
  CHECK(b0.ports(0).dp_port() == 7);
  CHECK(b0.ports(2).name() == "tap0");
  CHECK_FALSE(b0.ports(2).attached());
  CHECK(b0.ports(2).reason() == "no such interface");
  REQUIRE(b0.controllers_size() == 1);
  CHECK(b0.controllers(0).target() == "tcp:127.0.0.1:6653");
  CHECK(b0.controllers(0).state() == "connecting");

  // fdb/show: port names filled in by the server.
  Request fdb;
  fdb.mutable_fdb_show()->set_bridge("br0");
  auto f = call(s, fdb);
  REQUIRE(f.has_fdb());
  CHECK(f.fdb().bridge() == "br0");
  REQUIRE(f.fdb().entries_size() == 2);
  CHECK(f.fdb().entries(0).mac() == "02:00:00:00:00:01");
  CHECK(f.fdb().entries(1).port_name() == "br0");  // the local port
  fdb.mutable_fdb_show()->set_bridge("br9");
  CHECK_THAT(call(s, fdb).error(), ContainsSubstring("no bridge named 'br9'"));

  auto up = call(s, verb([](Request& r) { r.mutable_upcall_show(); }));
  REQUIRE(up.has_upcall());
  CHECK(up.upcall().handlers() == 2);
  CHECK(up.upcall().counters().at("batches") == 77);

  ok(s, del_controller("br0"));
  ok(s, del_port("", "eth2"));
  ok(s, del_port("br0", "tap0"));
  ok(s, del_br("br1"));
  disk = store.load();
  REQUIRE(disk.ok());
  REQUIRE(disk->bridges_size() == 1);
  CHECK(disk->bridges(0).ports_size() == 2);
  CHECK(disk->bridges(0).controllers_size() == 0);
}

TEST_CASE("server: a refused change leaves memory, file and switch unchanged", "[server]") {
  TempDir dir;
  RunningServer s(dir.path());
  ok(s, add_br("br0"));
  ok(s, add_port("br0", "eth0"));
  const std::string file = read_file(s.state() / "config.json");
  const int applies = s.backend().applies();

  auto r = call(s, add_port("br0", "eth1", {kv("ofport", "1")}));
  CHECK_THAT(r.error(), ContainsSubstring("ofport 1 is already used by eth0"));
  CHECK(r.errno_value() == EEXIST);
  r = call(s, add_br("br0"));
  CHECK(r.errno_value() == EEXIST);
  r = call(s, set_port("eth0", {kv("tag", "9999")}));
  CHECK(r.errno_value() == EINVAL);
  r = call(s, Request{});
  CHECK_THAT(r.error(), ContainsSubstring("names no verb"));

  CHECK(read_file(s.state() / "config.json") == file);
  CHECK(s.backend().applies() == applies);

  // A change to the same value saves nothing and does not bother the daemon.
  ok(s, set_fail_mode("br0", "standalone"));
  CHECK(s.backend().applies() == applies);
}

TEST_CASE("server: a failed save is an error and changes nothing", "[server]") {
  TempDir dir;
  // The state "directory" is a regular file: every save fails.
  write_file(dir.path() / "state", "not a directory");
  RunningServer s(dir.path());
  auto r = call(s, add_br("br0"));
  CHECK_THAT(r.error(), ContainsSubstring("cannot save the configuration"));
  CHECK(s.backend().applies() == 0);
  CHECK(s.on_strand([](MgmtServer& m) { return m.config().bridges_size(); }) == 0);
}

TEST_CASE("server: backend exceptions become error replies", "[server]") {
  TempDir dir;
  RunningServer s(dir.path());
  s.backend().set_throw_on_apply(true);
  auto r = call(s, add_br("br0"));
  CHECK_THAT(r.error(), ContainsSubstring("internal error: backend exploded"));
  s.backend().set_throw_on_apply(false);
  ok(s, add_br("br1"));  // still serving
  Request fdb;
  fdb.mutable_fdb_show()->set_bridge("br1");
  CHECK(call(s, fdb).error().empty());
}

TEST_CASE("server: the socket is 0600 in a created directory; stop removes it", "[server]") {
  TempDir dir;
  std::filesystem::path sock;
  {
    RunningServer s(dir.path());
    sock = s.socket();
    struct stat st {};
    REQUIRE(::lstat(sock.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(std::filesystem::is_directory(sock.parent_path()));
    CHECK_FALSE(std::filesystem::exists(sock.string() + ".new"));
  }
  CHECK_FALSE(std::filesystem::exists(sock));
}

TEST_CASE("server: a second client is served while the first sits idle", "[server]") {
  TempDir dir;
  RunningServer s(dir.path());
  // Client A connects and says nothing; client B connects and sends half a header.
  int a = raw_connect(s.socket());
  int b = raw_connect(s.socket());
  REQUIRE(::send(b, "\0\0", 2, MSG_NOSIGNAL) == 2);
  // Client C gets its answers meanwhile, over one connection with several requests.
  auto c = MgmtClient::connect(s.socket().string(), std::chrono::seconds(5));
  REQUIRE(c.ok());
  for (int i = 0; i < 3; ++i) {
    auto r = c->call(add_br("br" + std::to_string(i)));
    REQUIRE(r.ok());
    CHECK(r->error().empty());
  }
  CHECK(s.on_strand([](MgmtServer& m) { return m.sessions(); }) == 3);
  // A, still connected, is served when it finally speaks.
  Request list;
  list.mutable_list_bridges();
  auto framed = encode_frame(list);
  REQUIRE(framed.ok());
  REQUIRE(::send(a, framed->data(), framed->size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(framed->size()));
  CHECK(raw_reply(a).names().names_size() == 3);
  ::close(a);
  ::close(b);
}

TEST_CASE("server: oversized and unparsable frames are refused, then closed", "[server]") {
  TempDir dir;
  RunningServer s(dir.path());
  {
    int fd = raw_connect(s.socket());
    const unsigned char big[4] = {0x01, 0x00, 0x00, 0x01};  // 16 MiB + 1
    REQUIRE(::send(fd, big, 4, MSG_NOSIGNAL) == 4);
    auto r = raw_reply(fd);
    CHECK_THAT(r.error(), ContainsSubstring("exceeds the 16 MiB limit"));
    char byte;
    CHECK(::recv(fd, &byte, 1, 0) == 0);  // closed
    ::close(fd);
  }
  {
    int fd = raw_connect(s.socket());
    const unsigned char junk[] = {0, 0, 0, 3, 0xff, 0xff, 0xff};
    REQUIRE(::send(fd, junk, sizeof junk, MSG_NOSIGNAL) == sizeof junk);
    auto r = raw_reply(fd);
    CHECK_THAT(r.error(), ContainsSubstring("unparsable request"));
    ::close(fd);
  }
  // The server is fine afterwards.
  ok(s, add_br("br0"));
}

TEST_CASE("server: start refuses a live socket and a non-socket, replaces a stale one",
          "[server]") {
  TempDir dir;
  boost::asio::io_context io;
  FakeBackend backend;
  {
    RunningServer live(dir.path());
    MgmtServer second(io, live.socket(), ConfigStore(dir.path() / "s2"), Config{}, backend);
    auto r = second.start();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code.value() == EADDRINUSE);
    CHECK_THAT(r.error().message, ContainsSubstring("another vswd"));
  }
  // A stale socket file (its server is gone without removing it) is replaced.
  const auto stale = dir.path() / "stale.sock";
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, stale.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    ::close(fd);
  }
  {
    MgmtServer m(io, stale, ConfigStore(dir.path() / "s3"), Config{}, backend);
    CHECK(m.start().ok());
  }
  // Anything else in the way is left alone.
  const auto file = dir.path() / "file.sock";
  write_file(file, "keep me");
  MgmtServer m(io, file, ConfigStore(dir.path() / "s4"), Config{}, backend);
  auto r = m.start();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code.value() == EEXIST);
  CHECK(read_file(file) == "keep me");
}

TEST_CASE("server: the client reports a missing daemon plainly", "[server]") {
  TempDir dir;
  auto c = MgmtClient::connect((dir.path() / "none.sock").string());
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().message ==
        "cannot reach vswd at " + (dir.path() / "none.sock").string() + " (is it running?)");
}

TEST_CASE("server: restored configuration is served after a restart", "[server]") {
  TempDir dir;
  {
    RunningServer s(dir.path());
    ok(s, add_br("br0"));
    ok(s, add_port("br0", "eth0", {kv("tag", "5")}));
  }
  auto loaded = ConfigStore(dir.path() / "state").load();
  REQUIRE(loaded.ok());
  RunningServer s(dir.path(), *loaded);
  Request lp;
  lp.mutable_list_ports()->set_bridge("br0");
  CHECK(call(s, lp).names().names(0) == "eth0");
  CHECK(s.backend().applies() == 0);  // the daemon applies the loaded config itself
}

TEST_CASE("server: the largest MAC table fits in one reply frame", "[server]") {
  // kMacTableSizeRange.max entries, each as large as an entry gets.
  FdbReply fdb;
  fdb.set_bridge(std::string(kMaxNameLen, 'b'));
  for (std::uint32_t i = 0; i < kMacTableSizeRange.max; ++i) {
    auto* e = fdb.add_entries();
    e->set_port(kOfppLocal);
    e->set_port_name(std::string(kMaxNameLen, 'p'));
    e->set_vlan(kMaxVlan);
    e->set_mac("ff:ff:ff:ff:ff:ff");
    e->set_age_s(kMacAgingRange.max);
  }
  Reply r;
  *r.mutable_fdb() = std::move(fdb);
  CHECK(r.ByteSizeLong() < kMaxMessage);
  CHECK(encode_frame(r).ok());
}
