// Packets for the controllers: ACTION upcalls (what a USERSPACE action of output:CONTROLLER
// sends) reach the packet-in hook decoded and copied, are never translated as misses, and a
// malformed cookie or a full queue is counted, never blocking a handler. PacketInQueue: the
// bound, delivery on the io_context, nothing delivered after close().
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "harness.h"
#include "upcall/packet_in_queue.h"

using namespace vsw;
using namespace vsw::upcall;
using namespace vsw::upcall::test;
using namespace std::chrono_literals;

TEST_CASE("ACTION upcalls go to the packet-in hook, not to translation", "[upcall][packet_in]") {
  Rig rig;
  std::mutex mu;
  std::vector<ofproto::ControllerPacket> got;
  bool accept = true;
  rig.udpif->set_packet_in([&](ofproto::ControllerPacket&& p) {
    std::lock_guard lock(mu);
    if (!accept) return false;
    got.push_back(std::move(p));
    return true;
  });
  rig.start();
  const Mac a = host(1), b = host(2);
  const ofproto::ControllerCookie c{ofproto::PacketInReason::kNoMatch, 4, 0xffff, 0x77, 0x99};
  const auto cookie = ofproto::encode_controller_cookie(c);
  if (!rig.sender.send_action(rig.udpif->port_pid(2), 2, a, b, cookie, 5))
    SKIP("netlink unicast between sockets needs CAP_NET_ADMIN");
  REQUIRE(eventually([&] { return rig.udpif->counters().packet_ins == 1; }));
  {
    std::lock_guard lock(mu);
    REQUIRE(got.size() == 1);
    CHECK(got[0].cookie == c);
    CHECK(got[0].in_port == 2);
    CHECK(got[0].packet == frame(a, b, 5));
  }
  // Not a miss: nothing translated, executed or installed.
  Counters n = rig.udpif->counters();
  CHECK(n.upcalls == 0);
  CHECK(rig.dp->executed() == 0);
  CHECK(rig.dp->flows().empty());
  CHECK(rig.ofp.macs().stats().learned == 0);

  // A cookie that is not a controller cookie: counted, not handed over.
  const std::vector<std::uint8_t> junk{9, 9, 9};
  REQUIRE(rig.sender.send_action(rig.udpif->port_pid(1), 1, a, b, junk));
  REQUIRE(eventually([&] { return rig.udpif->counters().packet_in_bad_cookies == 1; }));
  // The hook refuses (a full queue): counted as dropped.
  {
    std::lock_guard lock(mu);
    accept = false;
  }
  REQUIRE(rig.sender.send_action(rig.udpif->port_pid(1), 1, a, b, cookie));
  REQUIRE(eventually([&] { return rig.udpif->counters().packet_ins_dropped == 1; }));
  // Misses still work beside them.
  rig.miss(1, a, kBroadcast);
  REQUIRE(eventually([&] { return rig.udpif->counters().upcalls == 1; }));
  n = rig.udpif->counters();
  CHECK(n.packet_ins == 1);
  CHECK(n.packet_ins_dropped == 1);
  CHECK(n.packet_in_bad_cookies == 1);
  std::lock_guard lock(mu);
  CHECK(got.size() == 1);
}

TEST_CASE("PacketInQueue: bounded, delivers on the io_context, nothing after close",
          "[upcall][packet_in]") {
  boost::asio::io_context io;
  std::vector<std::uint8_t> seen;
  auto q = PacketInQueue::create(
      io, [&](ofproto::ControllerPacket&& p) { seen.push_back(p.packet.at(0)); }, 3);
  const auto pkt = [](std::uint8_t n) {
    ofproto::ControllerPacket p;
    p.packet = {n};
    return p;
  };
  // Offered from other threads while nothing runs the io_context: 3 fit, the rest drop.
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0};
  for (std::uint8_t i = 0; i < 8; ++i)
    threads.emplace_back([&, i] { accepted += q->offer(pkt(i)) ? 1 : 0; });
  for (auto& t : threads) t.join();
  CHECK(accepted == 3);
  CHECK(q->dropped() == 5);
  CHECK(q->pending() == 3);
  CHECK(seen.empty());  // delivery happens on the io_context only
  io.run();
  CHECK(seen.size() == 3);
  CHECK(q->delivered() == 3);
  CHECK(q->pending() == 0);
  // Room again.
  io.restart();
  CHECK(q->offer(pkt(42)));
  io.run();
  CHECK(seen.back() == 42);
  // Posted before close, run after: not delivered. After close: refused.
  io.restart();
  CHECK(q->offer(pkt(43)));
  q->close();
  io.run();
  CHECK(seen.back() == 42);
  CHECK(!q->offer(pkt(44)));
  CHECK(q->dropped() == 6);
}
