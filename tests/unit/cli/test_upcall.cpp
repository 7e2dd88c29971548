// Upcalls: parse_upcall on hand-built messages (good, truncated, wrong key size, missing
// parts, random damage), the channel's batching and counting over a socketpair, and the
// real netlink socket: its port id, EAGAIN, upcalls sent to it by another netlink socket
// (needs CAP_NET_ADMIN, skipped otherwise) and ENOBUFS when its queue overflows.
#include <linux/genetlink.h>
#include <sys/socket.h>

#include <catch2/catch_test_macros.hpp>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dpif/netlink_message.h"
#include "dpif/upcall_channel.h"
#include "dpif/vsw_messages.h"

using namespace vsw::dpif;

namespace {

constexpr std::uint16_t kFamily = 0x1d;  // any id: the channel does not check it

std::vector<std::uint8_t> frame(std::size_t size, std::uint8_t seed) {
  std::vector<std::uint8_t> p(size);
  for (std::size_t i = 0; i < size; ++i) p[i] = static_cast<std::uint8_t>(seed + i);
  return p;
}

struct Spec {
  std::uint8_t cmd = VSW_PACKET_CMD_MISS;
  int ifindex = 12;
  std::uint32_t in_port = 4;
  bool with_in_port = true;
  std::size_t key_size = sizeof(vsw_flow_key);
  bool with_key = true;
  std::vector<std::uint8_t> packet = frame(60, 1);
  bool with_packet = true;
  std::vector<std::uint8_t> userdata;
};

// What the kernel's upcall_one() builds (kernel/upcall.c): KEY, IN_PORT, USERDATA, PACKET.
Request build(const Spec& s) {
  Request req = vsw_request(kFamily, s.cmd, 0, s.ifindex);
  if (s.with_key) {
    std::vector<std::uint8_t> key(s.key_size, 0);
    vsw_flow_key k{};
    k.in_port = s.in_port + 100;  // differs from IN_PORT so tests can tell which was used
    k.eth_type = 0x0008;
    std::memcpy(key.data(), &k, std::min(sizeof k, key.size()));
    req.put(VSW_PACKET_ATTR_KEY, key.data(), key.size());
  }
  if (s.with_in_port) req.put_u32(VSW_PACKET_ATTR_IN_PORT, s.in_port);
  if (!s.userdata.empty()) req.put(VSW_PACKET_ATTR_USERDATA, s.userdata);
  if (s.with_packet) req.put(VSW_PACKET_ATTR_PACKET, s.packet);
  return req;
}

std::vector<std::uint8_t> bytes_of(const Request& r) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(r.nlh());
  return {p, p + r.size()};
}

const nlmsghdr* as_nlh(const std::vector<std::uint8_t>& b) {
  return reinterpret_cast<const nlmsghdr*>(b.data());
}

struct Pair {
  UpcallChannel ch;
  UniqueFd peer;
};

Pair socket_pair(std::size_t batch) {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  int big = 1 << 20;
  ::setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  ::setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  UpcallChannelOptions o;
  o.batch = batch;
  return {UpcallChannel::adopt(UniqueFd(sv[0]), 4242, o), UniqueFd(sv[1])};
}

void send_bytes(const UniqueFd& fd, const void* p, std::size_t n) {
  REQUIRE(::send(fd.get(), p, n, 0) == static_cast<ssize_t>(n));
}
void send_req(const UniqueFd& fd, const Request& r) {
  send_bytes(fd, r.nlh(), r.size());
}

}  // namespace

// ---- parse_upcall ----------------------------------------------------------------------------
TEST_CASE("a miss upcall parses, its packet pointing into the message", "[upcall]") {
  Spec s;
  Request req = build(s);
  Upcall up;
  auto r = parse_upcall(req.nlh(), up);
  REQUIRE(r.ok());
  CHECK(up.cmd == VSW_PACKET_CMD_MISS);
  CHECK(up.dp_ifindex == 12);
  CHECK(up.in_port == 4u);
  CHECK(up.key.in_port == 104u);
  CHECK(up.key.eth_type == 0x0008);
  REQUIRE(up.packet.size() == 60);
  CHECK(std::memcmp(up.packet.data(), s.packet.data(), 60) == 0);
  const auto* base = reinterpret_cast<const std::uint8_t*>(req.nlh());
  CHECK(up.packet.data() > base);
  CHECK(up.packet.data() + up.packet.size() <= base + req.size());
  CHECK(up.userdata.empty());
}

TEST_CASE("an action upcall carries its cookie; IN_PORT defaults to the key's", "[upcall]") {
  Spec s;
  s.cmd = VSW_PACKET_CMD_ACTION;
  s.userdata = {0xde, 0xad, 0xbe, 0xef, 0x01};
  s.with_in_port = false;
  Request req = build(s);
  Upcall up;
  REQUIRE(parse_upcall(req.nlh(), up).ok());
  CHECK(up.cmd == VSW_PACKET_CMD_ACTION);
  CHECK(std::vector<std::uint8_t>(up.userdata.begin(), up.userdata.end()) == s.userdata);
  CHECK(up.in_port == up.key.in_port);
}

TEST_CASE("a 9000-byte and a 64 KiB packet upcall parse", "[upcall]") {
  for (std::size_t size : {std::size_t{9000}, Request::kMaxAttrPayload}) {
    Spec s;
    s.packet = frame(size, 9);
    Request req = build(s);
    REQUIRE(req.check().ok());
    REQUIRE(req.size() <= UpcallChannel::kSlotSize);
    Upcall up;
    REQUIRE(parse_upcall(req.nlh(), up).ok());
    CHECK(up.packet.size() == size);
  }
}

TEST_CASE("unknown attributes are ignored", "[upcall]") {
  Request req = build(Spec{});
  req.put_u64(__VSW_PACKET_ATTR_MAX + 5, 1);
  Upcall up;
  CHECK(parse_upcall(req.nlh(), up).ok());
}

TEST_CASE("malformed upcalls are refused with a reason", "[upcall]") {
  auto refused = [](const Spec& s) {
    Request req = build(s);
    Upcall up;
    auto r = parse_upcall(req.nlh(), up);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code.value() == EBADMSG);
    return r.error().message;
  };
  Spec wrong_key;
  wrong_key.key_size = sizeof(vsw_flow_key) - 8;
  CHECK(refused(wrong_key).find("key") != std::string::npos);
  Spec long_key;
  long_key.key_size = sizeof(vsw_flow_key) + 8;
  CHECK(refused(long_key).find("key") != std::string::npos);
  Spec no_key;
  no_key.with_key = false;
  CHECK(refused(no_key).find("no key") != std::string::npos);
  Spec no_packet;
  no_packet.with_packet = false;
  CHECK(refused(no_packet).find("no packet") != std::string::npos);
  Spec execute;
  execute.cmd = VSW_PACKET_CMD_EXECUTE;
  CHECK(refused(execute).find("command") != std::string::npos);

  Request bad_port = vsw_request(kFamily, VSW_PACKET_CMD_MISS, 0, 1);
  bad_port.put_u16(VSW_PACKET_ATTR_IN_PORT, 1);
  Upcall up;
  CHECK_FALSE(parse_upcall(bad_port.nlh(), up).ok());
}

TEST_CASE("truncated upcalls are refused", "[upcall]") {
  Spec s;
  s.packet = frame(1000, 3);
  const auto good = bytes_of(build(s));
  Upcall up;
  // Cut anywhere: the message's own length says less than its attributes need.
  for (std::size_t cut = 1; cut < good.size(); cut += 37) {
    auto b = good;
    b.resize(good.size() - cut);
    auto* nlh = reinterpret_cast<nlmsghdr*>(b.data());
    if (b.size() < NLMSG_HDRLEN) continue;
    nlh->nlmsg_len = static_cast<std::uint32_t>(b.size());
    INFO("cut " << cut);
    CHECK_FALSE(parse_upcall(nlh, up).ok());
  }
  // Headers only.
  auto hdr = good;
  reinterpret_cast<nlmsghdr*>(hdr.data())->nlmsg_len = NLMSG_HDRLEN + 2;
  CHECK_FALSE(parse_upcall(as_nlh(hdr), up).ok());
  // A control message.
  auto ctl = good;
  reinterpret_cast<nlmsghdr*>(ctl.data())->nlmsg_type = NLMSG_ERROR;
  CHECK_FALSE(parse_upcall(as_nlh(ctl), up).ok());
}

TEST_CASE("random damage never crashes the parser", "[upcall]") {
  std::mt19937 rng(20261204);
  Spec s;
  s.userdata = {1, 2, 3};
  const auto good = bytes_of(build(s));
  Upcall up;
  int ok = 0;
  for (int i = 0; i < 20000; ++i) {
    auto b = good;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
    auto* nlh = reinterpret_cast<nlmsghdr*>(b.data());
    if (nlh->nlmsg_len > b.size()) nlh->nlmsg_len = static_cast<std::uint32_t>(b.size());
    if (parse_upcall(nlh, up).ok()) {
      ++ok;
      const auto* base = b.data();
      CHECK(up.packet.data() >= base);
      CHECK(up.packet.data() + up.packet.size() <= base + b.size());
      CHECK(up.userdata.data() + up.userdata.size() <= base + b.size());
    }
  }
  CHECK(ok > 0);  // many flips land in the packet bytes and leave a valid upcall
}

// ---- the channel over a socketpair ---------------------------------------------------------
TEST_CASE("receive: batches of at most max, 0 when empty", "[upcall][channel]") {
  auto [ch, peer] = socket_pair(4);
  CHECK(ch.port_id() == 4242u);
  std::vector<Upcall> out;
  auto none = ch.receive(out);
  REQUIRE(none.ok());
  CHECK(*none == 0);

  for (int i = 0; i < 10; ++i) {
    Spec s;
    s.in_port = static_cast<std::uint32_t>(i);
    s.packet = frame(64 + i, static_cast<std::uint8_t>(i));
    send_req(peer, build(s));
  }
  std::vector<std::uint32_t> ports;
  for (std::size_t want : {4u, 4u, 2u, 0u}) {
    auto n = ch.receive(out, 64);  // more than the channel's 4 slots: clamped
    REQUIRE(n.ok());
    CHECK(*n == want);
    REQUIRE(out.size() == want);
    for (const Upcall& up : out) {
      CHECK(up.packet.size() == 64 + up.in_port);
      CHECK(up.packet[0] == static_cast<std::uint8_t>(up.in_port));
      ports.push_back(up.in_port);
    }
  }
  CHECK(ports == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(ch.malformed() == 0u);

  send_req(peer, build(Spec{}));
  auto one = ch.receive(out, 1);
  REQUIRE(one.ok());
  CHECK(*one == 1);
}

TEST_CASE("receive: several messages in one datagram", "[upcall][channel]") {
  auto [ch, peer] = socket_pair(8);
  std::vector<std::uint8_t> dgram;
  for (std::uint32_t p : {1u, 2u, 3u}) {
    Spec s;
    s.in_port = p;
    auto b = bytes_of(build(s));
    dgram.insert(dgram.end(), b.begin(), b.end());
  }
  send_bytes(peer, dgram.data(), dgram.size());
  std::vector<Upcall> out;
  auto n = ch.receive(out);
  REQUIRE(n.ok());
  REQUIRE(*n == 3);
  CHECK(out[0].in_port == 1u);
  CHECK(out[2].in_port == 3u);
}

TEST_CASE("receive: malformed datagrams are skipped and counted", "[upcall][channel]") {
  auto [ch, peer] = socket_pair(8);
  Spec wrong;
  wrong.key_size = 96;
  send_req(peer, build(wrong));  // wrong key size
  const std::uint8_t junk[7] = {1, 2, 3, 4, 5, 6, 7};
  send_bytes(peer, junk, sizeof junk);  // shorter than a header
  auto cut = bytes_of(build(Spec{}));
  cut.resize(cut.size() - 20);
  send_bytes(peer, cut.data(), cut.size());                    // nlmsg_len > datagram
  const auto huge = frame(UpcallChannel::kSlotSize + 100, 0);  // bigger than a slot
  send_bytes(peer, huge.data(), huge.size());
  send_req(peer, build(Spec{}));  // and one good upcall

  std::vector<Upcall> out;
  auto n = ch.receive(out, 2);  // the first batch is all malformed: it reads on
  REQUIRE(n.ok());
  CHECK(*n == 1);
  CHECK(ch.malformed() == 4u);
  auto again = ch.receive(out);
  REQUIRE(again.ok());
  CHECK(*again == 0);
}

TEST_CASE("receive: random datagrams never crash", "[upcall][channel]") {
  auto [ch, peer] = socket_pair(16);
  std::mt19937 rng(7);
  const auto good = bytes_of(build(Spec{}));
  std::vector<Upcall> out;
  std::uint64_t received = 0;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 16; ++i) {
      auto b = good;
      if (rng() % 2) b.resize(rng() % (b.size() + 1));
      for (int f = 0; f < 4; ++f)
        if (!b.empty()) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
      if (b.empty()) b.push_back(0);
      send_bytes(peer, b.data(), b.size());
    }
    for (;;) {
      auto n = ch.receive(out);
      REQUIRE(n.ok());
      if (*n == 0) break;
      received += *n;
    }
  }
  CHECK(received + ch.malformed() >= 200u * 16u);
}

TEST_CASE("a moved channel keeps its buffer and counters", "[upcall][channel]") {
  auto [ch, peer] = socket_pair(4);
  send_bytes(peer, "x", 1);
  send_req(peer, build(Spec{}));
  std::vector<Upcall> out;
  REQUIRE(*ch.receive(out) == 1);
  UpcallChannel moved = std::move(ch);
  CHECK(moved.malformed() == 1u);
  CHECK(moved.port_id() == 4242u);
  send_req(peer, build(Spec{}));
  auto n = moved.receive(out);
  REQUIRE(n.ok());
  CHECK(*n == 1);
}

// ---- the real netlink socket ---------------------------------------------------------------
TEST_CASE("open: a non-blocking netlink socket with a port id", "[upcall][netlink]") {
  auto ch = UpcallChannel::open();
  REQUIRE(ch.ok());
  CHECK(ch->fd() >= 0);
  CHECK(ch->port_id() != 0u);
  auto other = UpcallChannel::open();
  REQUIRE(other.ok());
  CHECK(other->port_id() != ch->port_id());
  std::vector<Upcall> out;
  auto n = ch->receive(out);
  REQUIRE(n.ok());
  CHECK(*n == 0);
}

TEST_CASE("upcalls sent over netlink arrive in batches", "[upcall][netlink]") {
  UpcallChannelOptions o;
  o.batch = 8;
  auto ch = UpcallChannel::open(o);
  REQUIRE(ch.ok());
  UniqueFd sender(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
  REQUIRE(sender);
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  to.nl_pid = ch->port_id();
  for (std::uint32_t i = 0; i < 20; ++i) {
    Spec s;
    s.in_port = i;
    s.packet = frame(i == 7 ? 9000 : 100, static_cast<std::uint8_t>(i));
    Request req = build(s);
    if (::sendto(sender.get(), req.nlh(), req.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof to) < 0) {
      if (errno == EPERM) SKIP("netlink unicast between sockets needs CAP_NET_ADMIN");
      FAIL("sendto: " << std::strerror(errno));
    }
  }
  std::vector<Upcall> out;
  std::vector<std::uint32_t> ports;
  for (std::size_t want : {8u, 8u, 4u, 0u}) {
    auto n = ch->receive(out);
    REQUIRE(n.ok());
    CHECK(*n == want);
    for (const Upcall& up : out) {
      ports.push_back(up.in_port);
      CHECK(up.packet.size() == (up.in_port == 7 ? 9000u : 100u));
    }
  }
  CHECK(ports.size() == 20);
  CHECK(ch->malformed() == 0u);
  CHECK(ch->enobufs() == 0u);
}

TEST_CASE("a full receive queue is counted as ENOBUFS, not an error", "[upcall][netlink]") {
  UpcallChannelOptions o;
  o.rcvbuf = 1;  // the kernel's minimum
  auto ch = UpcallChannel::open(o);
  REQUIRE(ch.ok());
  // Make the kernel answer many requests into the channel's small queue: its replies
  // overflow it, which the kernel reports as ENOBUFS (as it does for dropped upcalls).
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (std::uint32_t i = 0; i < 200; ++i) {
    Request req(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
    req.put_strz(CTRL_ATTR_FAMILY_NAME, "nlctrl");
    req.nlh()->nlmsg_seq = i + 1;
    REQUIRE(::sendto(ch->fd(), req.nlh(), req.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                     sizeof kernel) == static_cast<ssize_t>(req.size()));
  }
  std::vector<Upcall> out;
  auto n = ch->receive(out);
  REQUIRE(n.ok());
  CHECK(*n == 0);  // nlctrl replies are not upcalls
  CHECK(ch->enobufs() >= 1u);
  CHECK(ch->malformed() >= 1u);
}
