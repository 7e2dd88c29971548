// LinkMonitor (userspace/vswd/links.h) on real rtnetlink events: its index follows links
// made, renamed, set up and deleted, the callback names every link an event touched, and
// events lost to a full socket buffer are recovered by re-reading the links.
#include <sched.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "vswd/links.h"

using vsw::vswd::LinkMonitor;
using vsw::vswd::LinkNames;
using namespace std::chrono_literals;

namespace {

// This test process moves to a new, empty network namespace (only lo): the links it makes
// are its own and vanish with it.
void own_netns() {
  if (::unshare(CLONE_NEWNET) != 0) {
    if (errno == EPERM) SKIP("a network namespace of its own needs CAP_SYS_ADMIN");
    FAIL("unshare(CLONE_NEWNET) failed");
  }
}

void sh(const std::string& cmd) {
  INFO(cmd);
  REQUIRE(std::system((cmd + " >/dev/null").c_str()) == 0);
}

// Runs the io_context until pred() holds; false after 5 s.
bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred) {
  for (int i = 0; i < 100; ++i) {
    if (pred()) return true;
    io.restart();
    io.run_for(50ms);
  }
  return pred();
}

struct Monitor {
  boost::asio::io_context io;
  LinkNames seen;  // every name the callback was given
  std::unique_ptr<LinkMonitor> m;
  explicit Monitor(int event_buffer = LinkMonitor::kEventBuffer) {
    auto r = LinkMonitor::open(
        io, [this](const LinkNames& changed) { seen.insert(changed.begin(), changed.end()); },
        event_buffer);
    REQUIRE(r);
    m = std::move(*r);
  }
};

}  // namespace

TEST_CASE("links: the index follows links made, renamed, set up and deleted", "[vswd][links]") {
  own_netns();
  Monitor mon;
  LinkMonitor& m = *mon.m;
  CHECK(m.find("lo"));  // read at open
  CHECK_FALSE(m.find("va"));

  sh("ip link add va type veth peer name vb");
  REQUIRE(run_until(mon.io, [&] { return m.find("va") && m.find("vb"); }));
  CHECK(mon.seen.contains("va"));
  CHECK(mon.seen.contains("vb"));
  CHECK_FALSE(mon.seen.contains("lo"));  // nothing happened to it
  const int ifindex = m.find("va")->ifindex;
  CHECK(ifindex > 0);
  CHECK_FALSE(m.find("va")->up);

  // A rename: the old name is gone, the new one has the same ifindex, both were named.
  mon.seen.clear();
  sh("ip link set va name vc");
  REQUIRE(run_until(mon.io, [&] { return m.find("vc").has_value(); }));
  CHECK_FALSE(m.find("va"));
  CHECK(m.find("vc")->ifindex == ifindex);
  CHECK(mon.seen.contains("va"));
  CHECK(mon.seen.contains("vc"));

  sh("ip link set vc address 02:00:00:00:0c:01 up");
  REQUIRE(run_until(mon.io, [&] { return m.find("vc")->up; }));
  CHECK(m.find("vc")->mac == std::array<std::uint8_t, 6>{2, 0, 0, 0, 0x0c, 1});

  mon.seen.clear();
  sh("ip link del vc");
  REQUIRE(run_until(mon.io, [&] { return !m.find("vc") && !m.find("vb"); }));
  CHECK(mon.seen.contains("vc"));
  CHECK(mon.seen.contains("vb"));
  CHECK(m.resyncs() == 0);
}

TEST_CASE("links: events lost to a full socket buffer are recovered by re-reading every link",
          "[vswd][links]") {
  own_netns();
  Monitor mon(4096);  // a few messages' worth
  LinkMonitor& m = *mon.m;
  // 200 veth pairs while nothing reads the events: the socket overflows.
  constexpr int kPairs = 200;
  char path[] = "/tmp/vsw-links-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  std::string batch;
  for (int i = 0; i < kPairs; ++i)
    batch += "link add x" + std::to_string(i) + " type veth peer name y" + std::to_string(i) + "\n";
  REQUIRE(::write(fd, batch.data(), batch.size()) == static_cast<ssize_t>(batch.size()));
  ::close(fd);
  sh(std::string("ip -batch ") + path);
  std::remove(path);
  const auto all_there = [&] {
    for (int i = 0; i < kPairs; ++i)
      if (!m.find("x" + std::to_string(i)) || !m.find("y" + std::to_string(i))) return false;
    return true;
  };
  REQUIRE(run_until(mon.io, all_there));
  CHECK(m.resyncs() >= 1);
  for (int i = 0; i < kPairs; ++i) CHECK(mon.seen.contains("y" + std::to_string(i)));

  // The same after the resync: a deletion still shows.
  sh("ip link del x7");
  REQUIRE(run_until(mon.io, [&] { return !m.find("x7") && !m.find("y7"); }));
}
