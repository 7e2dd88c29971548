// ofp_bench --round-trip [N] [simple]: vswd's cost per FLOW_MOD + BARRIER round trip, on
// the host.
//
// `ovs-ofctl -O OpenFlow13 add-flows` sends each FLOW_MOD followed by a BARRIER_REQUEST and
// waits for the BARRIER_REPLY (bench/vswd/flow-mod.sh measures that in a VM). Here the same
// conversation runs against the real ConnMgr/Agent/Ofproto on an io_context thread (a
// punix: service socket, as vswd's bridge has) from a blocking client on the main thread,
// with N (default 100,000) of ofp_bench's NSX-like FLOW_MODs (or, with `simple`, flow-mod.sh's
// rules: priority=100,ip,nw_dst=10.X.Y.Z,actions=output:2), so each change can be measured
// without a VM, in instructions too (valgrind --tool=callgrind with a small N). The two
// threads hand every message to each other: pin the process to one CPU (taskset -c 0) for
// rates that do not depend on how fast an idle CPU wakes up.
// Printed: round trips per second (wall clock and per CPU second of the whole process, both
// sides), the rules installed, and heap bytes per rule (mallinfo2 in use after minus before:
// the tables' memory, the rerunnable form of docs/benchmarks.md's per-rule figure).
// Not here: vswd's Udpif (no datapath); its rules_changed hook only counts publishes.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "ofswitch/agent.h"
#include "ofswitch/connmgr.h"
#include "openflow/codec.h"
#include "samples.h"

namespace asio = boost::asio;
using namespace vsw;
using namespace vsw::openflow;

namespace {

double cpu_seconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  auto sec = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return sec(r.ru_utime) + sec(r.ru_stime);
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "ofp_bench: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

void write_all(int fd, const Bytes& b) {
  for (size_t off = 0; off < b.size();) {
    const ssize_t n = ::write(fd, b.data() + off, b.size() - off);
    if (n <= 0) die("write");
    off += size_t(n);
  }
}

// Reads one message (header, then the rest) into buf; returns its type.
MsgType read_msg(int fd, Bytes& buf) {
  auto read_n = [fd](uint8_t* p, size_t len) {
    for (size_t off = 0; off < len;) {
      const ssize_t n = ::read(fd, p + off, len - off);
      if (n <= 0) die("read");
      off += size_t(n);
    }
  };
  buf.resize(kHeaderLen);
  read_n(buf.data(), kHeaderLen);
  const auto h = peek_header(buf);
  if (!h || h->length < kHeaderLen) die("bad header");
  buf.resize(h->length);
  read_n(buf.data() + kHeaderLen, h->length - kHeaderLen);
  return MsgType(buf[1]);
}

}  // namespace

namespace {
// flow-mod.sh's rule i: priority=100,ip,nw_dst=10.X.Y.Z,actions=output:2.
FlowMod simple_flow_mod(uint32_t i) {
  FlowMod f;
  f.priority = 100;
  f.match.fields = {OxmField::exact(OxmId::kEthType, 0x0800),
                    OxmField::exact(OxmId::kIpv4Dst, 0x0a000000 | (i & 0xffffff))};
  f.instructions = {Instruction::apply({Action::output(2, 0)})};
  return f;
}
}  // namespace

int round_trip_main(uint32_t n, bool simple) {
  // Every wire message first, so the heap figure counts the switch's memory only.
  std::vector<Bytes> mods(n);
  for (uint32_t i = 0; i < n; ++i)
    mods[i] = encode(
        Message{kVersion13, 2 * i + 2, simple ? simple_flow_mod(i) : testing::nsx_flow_mod(i)});
  const Bytes hello = encode(Message{kVersion13, 1, Hello{}});

  asio::io_context io;
  ofproto::Ofproto::Options oo;
  oo.fail_mode = ofproto::FailMode::kSecure;
  ofproto::Ofproto of(oo);
  std::vector<ofproto::PortInfo> ports(49);
  ports[0].ofport = port::kLocal;
  ports[0].name = "br0";
  for (uint32_t p = 1; p < ports.size(); ++p) {
    ports[p].ofport = p;
    ports[p].name = "eth" + std::to_string(p);
  }
  if (!of.set_ports(ports)) die("set_ports");
  std::atomic<uint64_t> publishes{0};
  ofswitch::Agent::Hooks hooks;
  hooks.rules_changed = [&] { ++publishes; };
  ofswitch::Agent agent(of, "br0", hooks);
  auto mgr = std::make_unique<ofswitch::ConnMgr>(io, agent, [](bool) {});
  const std::string path = "/tmp/vsw-ofp-bench-" + std::to_string(getpid()) + ".sock";
  if (auto ec = mgr->set_service(path)) {
    std::fprintf(stderr, "ofp_bench: %s: %s\n", path.c_str(), ec.message().c_str());
    return 1;
  }
  std::thread thread([&io] {
    auto guard = asio::make_work_guard(io);
    io.run();
  });

  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) die(path.c_str());
  Bytes buf;
  write_all(fd, hello);
  if (read_msg(fd, buf) != MsgType::kHello) die("no HELLO");

  const size_t heap0 = mallinfo2().uordblks;
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t errors = 0;
  for (uint32_t i = 0; i < n; ++i) {
    write_all(fd, mods[i]);
    write_all(fd, encode(Message{kVersion13, 2 * i + 3, BarrierRequest{}}));
    for (;;) {  // an error for the FLOW_MOD comes before the barrier's reply
      const MsgType t = read_msg(fd, buf);
      if (t == MsgType::kBarrierReply) break;
      if (t == MsgType::kError && errors++ == 0)
        std::fprintf(stderr, "ofp_bench: FLOW_MOD %u refused\n", i);
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  ::close(fd);
  size_t rules = 0, heap1 = 0;
  std::promise<void> done;
  asio::post(io, [&] {
    agent.flush();
    rules = of.tables().size();
    heap1 = mallinfo2().uordblks;
    mgr.reset();
    done.set_value();
  });
  done.get_future().get();
  io.stop();
  thread.join();
  ::unlink(path.c_str());

  std::printf(
      "%u FLOW_MOD + BARRIER round trips (%s) over punix, ConnMgr/Agent/"
      "Ofproto on an io_context thread, no datapath\n",
      n, simple ? "flow-mod.sh's rules" : "NSX-like flows");
  std::printf(
      "round trips/s: %.0f wall clock, %.0f per CPU second (both sides); %.1f us CPU each\n",
      n / wall, n / cpu, cpu / n * 1e6);
  std::printf("rules installed: %zu, refused: %llu, publishes: %llu\n", rules,
              static_cast<unsigned long long>(errors),
              static_cast<unsigned long long>(publishes.load()));
  std::printf("heap in use per rule: %.0f bytes (mallinfo2, after minus before)\n",
              rules ? double(heap1 - heap0) / double(rules) : 0.0);
  return rules == n && errors == 0 ? 0 : 1;
}
