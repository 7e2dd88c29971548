// upcall_bench: pushes N misses through a real Udpif (handler threads, revalidator, real
// netlink sockets) over a real Ofproto, with a datapath that only encodes what it is asked.
//
// What it measures. Every miss comes from a new source MAC to one learned sink MAC, as in
// bench/vswd's flow-setup storm (NORMAL's megaflow matches the source MAC, so every miss
// is a new megaflow), and all misses go to handler 0's socket, as per-CPU dispatch sends a
// storm from one CPU. The program prints misses/s (wall clock: noisy on a shared host) and
// the handlers' counters. Under callgrind it gives the stable number, instructions per
// miss in the handler threads:
//
//   valgrind --tool=callgrind --toggle-collect='*Udpif::Handler::drain*'
//            build/bench/upcall/upcall_bench --misses 20000
//   (one command line; Ir of the run / misses; callgrind_annotate for the hot spots)
//
// --memory measures what userspace keeps per megaflow: heap in use (mallinfo2) and RSS
// before the first miss and after N megaflows are installed, divided by the ukeys held.
// The flow limit starts at N so every miss installs.
//
// The datapath (BenchDpif). operate() builds each request exactly as NetlinkDpif does
// (dpif/vsw_messages.h), so the encoding cost is in the profile, then drops it: there is
// no kernel. It keeps no flows (its memory would blur --memory), so its flow_dump() fails
// with ENOTSUP: the revalidator then skips its dump pass (no idle deletion, no forgetting
// of ukeys whose flow it did not see), but still re-translates the flows that MAC-table
// changes (learning, eviction) make dirty, as in vswd.
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <malloc.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dpif/dpif.h"
#include "dpif/netlink_message.h"
#include "dpif/unique_fd.h"
#include "dpif/vsw_messages.h"
#include "ofproto/ofproto.h"
#include "upcall/udpif.h"
#include "util/log.h"

namespace {

using namespace vsw;
using Clock = std::chrono::steady_clock;

constexpr const char* kDp = "br0";
constexpr std::uint32_t kSinkPort = 3;
constexpr dpif::Mac kSink = {0x02, 0, 0, 0, 0, 0xee};

struct Totals {
  std::atomic<std::uint64_t> executes{0}, puts{0}, others{0}, bytes{0};
};

// See the top of the file.
class BenchDpif final : public dpif::Dpif {
 public:
  explicit BenchDpif(Totals& t) : t_(t) {}

  Result<dpif::DatapathInfo> dp_create(std::string_view name) override { return info(name); }
  Result<void> dp_delete(std::string_view /*name*/) override { return {}; }
  Result<dpif::DatapathInfo> dp_get(std::string_view name) override { return info(name); }
  Result<std::vector<dpif::DatapathInfo>> dp_list() override {
    return std::vector<dpif::DatapathInfo>{info(kDp)};
  }
  Result<void> dp_set_upcall_pid(std::string_view /*dp*/, std::uint32_t /*pid*/) override {
    return {};
  }
  Result<void> dp_set_upcall_pids(std::string_view /*dp*/,
                                  std::span<const std::uint32_t> /*pids*/) override {
    return {};
  }
  Result<dpif::PortInfo> port_add(std::string_view /*dp*/, std::string_view iface,
                                  std::optional<std::uint32_t> port_no,
                                  std::uint32_t upcall_pid) override {
    dpif::PortInfo p;
    p.name = iface;
    p.port_no = port_no.value_or(1);
    p.upcall_pid = upcall_pid;
    return p;
  }
  Result<void> port_del(std::string_view /*dp*/, std::string_view /*iface*/) override { return {}; }
  Result<std::vector<dpif::PortInfo>> port_list(std::string_view /*dp*/) override {
    return std::vector<dpif::PortInfo>{};
  }
  Result<void> port_set_upcall_pid(std::string_view /*dp*/, std::uint32_t /*port_no*/,
                                   std::uint32_t /*pid*/) override {
    return {};
  }
  Result<void> flow_put(std::string_view /*dp*/, const dpif::Match& match,
                        const dpif::Actions& actions, dpif::FlowPut mode,
                        bool clear_stats) override {
    count(dpif::flow_put_request(kFamily, kIfindex, match, actions, mode, clear_stats), t_.puts);
    return {};
  }
  Result<dpif::FlowEntry> flow_get(std::string_view /*dp*/, const dpif::Match& /*m*/) override {
    return make_error(ENOENT, "the benchmark datapath keeps no flows");
  }
  Result<dpif::FlowEntry> flow_del(std::string_view /*dp*/, const dpif::Match& match) override {
    count(dpif::flow_del_request(kFamily, kIfindex, match), t_.others);
    return dpif::FlowEntry{};
  }
  Result<void> flow_flush(std::string_view /*dp*/) override { return {}; }
  Result<void> flow_dump(std::string_view /*dp*/,
                         const std::function<void(const dpif::FlowEntry&)>& /*each*/) override {
    return make_error(ENOTSUP, "the benchmark datapath keeps no flows");
  }
  Result<void> execute(std::string_view /*dp*/, const vsw_flow_key& key,
                       std::span<const std::uint8_t> packet,
                       const dpif::Actions& actions) override {
    count(dpif::execute_request(kFamily, kIfindex, key, packet, actions), t_.executes);
    return {};
  }
  Result<void> operate(std::string_view /*dp*/, std::span<dpif::Op> ops) override {
    for (dpif::Op& op : ops) {
      op.error.reset();
      if (const auto* put = std::get_if<dpif::FlowPutOp>(&op.op)) {
        count(dpif::flow_put_request(kFamily, kIfindex, put->match, put->actions, put->mode,
                                     put->clear_stats),
              t_.puts);
      } else if (const auto* del = std::get_if<dpif::FlowDelOp>(&op.op)) {
        count(dpif::flow_del_request(kFamily, kIfindex, del->match), t_.others);
      } else {
        const auto& ex = std::get<dpif::ExecuteOp>(op.op);
        count(dpif::execute_request(kFamily, kIfindex, ex.key, ex.packet, ex.actions), t_.executes);
      }
    }
    return {};
  }

 private:
  static constexpr std::uint16_t kFamily = 0x20;
  static constexpr int kIfindex = 7;
  static dpif::DatapathInfo info(std::string_view name) {
    dpif::DatapathInfo d;
    d.name = name;
    d.ifindex = kIfindex;
    d.key_size = sizeof(vsw_flow_key);
    return d;
  }
  void count(const dpif::Request& req, std::atomic<std::uint64_t>& what) {
    t_.bytes.fetch_add(req.size(), std::memory_order_relaxed);
    what.fetch_add(1, std::memory_order_relaxed);
  }
  Totals& t_;
};

// Sends VSW_PACKET_CMD_MISS messages to a handler's socket as the kernel does (needs
// CAP_NET_ADMIN for netlink unicast between user sockets). The message is built once; each
// miss rewrites the source MAC in the key and in the packet.
class MissSender {
 public:
  MissSender() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC)) {}

  bool build() {
    if (!fd_) return false;
    dpif::Request req = dpif::vsw_request(0x1d, VSW_PACKET_CMD_MISS, 0, 100);
    vsw_flow_key key{};
    key.in_port = 1;
    std::memcpy(key.eth_dst, kSink.data(), 6);
    key.eth_type = htons(0x0800);
    key.ip_proto = 17;
    key.ip_ttl = 64;
    key.ipv4_src = htonl(0x0a000001);
    key.ipv4_dst = htonl(0x0a000002);
    key.tp_src = htons(1234);
    key.tp_dst = htons(5678);
    req.put(VSW_PACKET_ATTR_KEY, &key, sizeof key);
    req.put_u32(VSW_PACKET_ATTR_IN_PORT, 1);
    std::vector<std::uint8_t> frame(60, 0);
    std::memcpy(frame.data(), kSink.data(), 6);
    frame[12] = 0x08;
    req.put(VSW_PACKET_ATTR_PACKET, frame);
    msg_.assign(reinterpret_cast<const std::uint8_t*>(req.nlh()),
                reinterpret_cast<const std::uint8_t*>(req.nlh()) + req.size());
    // Where the two source MACs sit: find the key and the packet by their contents.
    key_src_ = find(&key, sizeof key) + offsetof(vsw_flow_key, eth_src);
    pkt_src_ = find(frame.data(), frame.size()) + 6;
    return key_src_ >= offsetof(vsw_flow_key, eth_src) && pkt_src_ >= 6;
  }

  // The i-th source MAC: 02:xx:xx:xx:xx:xx from i (never the sink's).
  static dpif::Mac source(std::uint64_t i) {
    return {0x02,
            0x10,
            static_cast<std::uint8_t>(i >> 24),
            static_cast<std::uint8_t>(i >> 16),
            static_cast<std::uint8_t>(i >> 8),
            static_cast<std::uint8_t>(i)};
  }

  bool send(std::uint32_t port_id, std::uint64_t i) {
    const dpif::Mac src = source(i);
    std::memcpy(msg_.data() + key_src_, src.data(), 6);
    std::memcpy(msg_.data() + pkt_src_, src.data(), 6);
    sockaddr_nl to{};
    to.nl_family = AF_NETLINK;
    to.nl_pid = port_id;
    return ::sendto(fd_.get(), msg_.data(), msg_.size(), 0, reinterpret_cast<sockaddr*>(&to),
                    sizeof to) == static_cast<ssize_t>(msg_.size());
  }

 private:
  std::size_t find(const void* what, std::size_t n) const {
    for (std::size_t i = 0; i + n <= msg_.size(); ++i)
      if (std::memcmp(msg_.data() + i, what, n) == 0) return i;
    return 0;
  }
  dpif::UniqueFd fd_;
  std::vector<std::uint8_t> msg_;
  std::size_t key_src_ = 0, pkt_src_ = 0;
};

struct Memory {
  std::size_t heap = 0;  // bytes malloc has handed out and not got back
  std::size_t rss = 0;   // resident set, bytes
};

Memory memory_now() {
  Memory m;
  const struct mallinfo2 mi = ::mallinfo2();
  m.heap = mi.uordblks + mi.hblkhd;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long size = 0, resident = 0;
    if (std::fscanf(f, "%lu %lu", &size, &resident) == 2)
      m.rss = resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::fclose(f);
  }
  return m;
}

void usage() {
  std::fprintf(stderr,
               "usage: upcall_bench [--misses N] [--handlers N] [--window N] [--mac-table N] "
               "[--memory]\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t misses = 100'000;
  unsigned handlers = 2;
  std::uint64_t window = 512;  // misses in flight at most (the socket queue is finite)
  std::size_t mac_table = 8192;
  bool memory = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> unsigned long long {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return std::strtoull(argv[++i], nullptr, 10);
    };
    if (a == "--misses") {
      misses = next();
    } else if (a == "--handlers") {
      handlers = static_cast<unsigned>(next());
    } else if (a == "--window") {
      window = next();
    } else if (a == "--mac-table") {
      mac_table = next();
    } else if (a == "--memory") {
      memory = true;
    } else {
      usage();
      return 2;
    }
  }
  log::init(log::Level::kError, false, "upcall_bench");

  ofproto::Ofproto::Options oo;
  oo.mac_table_size = mac_table;
  ofproto::Ofproto ofp(oo);
  std::vector<ofproto::PortInfo> ports;
  for (std::uint32_t p = 1; p <= 3; ++p) {
    ofproto::PortInfo info;
    info.ofport = p;
    info.name = "p" + std::to_string(p);
    ports.push_back(info);
  }
  if (!ofp.set_ports(ports)) {
    std::fprintf(stderr, "upcall_bench: cannot set the ports\n");
    return 1;
  }
  (void)ofp.macs().learn(0, kSink, kSinkPort);

  Totals totals;
  upcall::Options uo;
  uo.n_handlers = handlers;
  uo.flow_limit = static_cast<std::uint32_t>(std::max<std::uint64_t>(misses, 1000) + 1000);
  uo.initial_flow_limit = uo.flow_limit;
  uo.idle_ms = 600'000;
  upcall::Udpif udpif(
      kDp, ofp,
      [&totals]() -> Result<std::unique_ptr<dpif::Dpif>> {
        return std::unique_ptr<dpif::Dpif>(std::make_unique<BenchDpif>(totals));
      },
      uo);
  udpif.set_ports({VSW_PORT_LOCAL, 1, 2, 3});

  MissSender sender;
  if (!sender.build()) {
    std::fprintf(stderr, "upcall_bench: cannot open a netlink socket\n");
    return 1;
  }
  if (auto r = udpif.start(); !r) {
    std::fprintf(stderr, "upcall_bench: %s\n", r.error().to_string().c_str());
    return 1;
  }
  const std::uint32_t pid = udpif.port_pid(0);

  (void)::malloc_trim(0);
  const Memory before = memory_now();
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0; i < misses; ++i) {
    while (i - totals.executes.load(std::memory_order_relaxed) >= window) std::this_thread::yield();
    if (!sender.send(pid, i)) {
      if (errno == EPERM) {
        std::fprintf(stderr, "upcall_bench: netlink unicast between sockets needs root\n");
        return 1;
      }
      --i;  // ENOBUFS/EAGAIN: the queue is full; wait and resend
      std::this_thread::yield();
    }
  }
  while (totals.executes.load() < misses) std::this_thread::yield();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const upcall::Counters c = udpif.counters();
  const Memory after = memory_now();

  std::printf("misses %llu in %.3f s: %.0f misses/s (wall clock)\n",
              static_cast<unsigned long long>(misses), secs, static_cast<double>(misses) / secs);
  std::printf("installs %llu, skipped_stale %llu, limit_hits %llu, ukeys %llu, enobufs %llu\n",
              static_cast<unsigned long long>(c.installs),
              static_cast<unsigned long long>(c.skipped_stale),
              static_cast<unsigned long long>(c.limit_hits),
              static_cast<unsigned long long>(c.flows), static_cast<unsigned long long>(c.enobufs));
  for (std::size_t h = 0; h < c.handler_upcalls.size(); ++h)
    std::printf("handler%zu: %llu misses (%llu from other handlers' sockets)\n", h,
                static_cast<unsigned long long>(c.handler_upcalls[h]),
                static_cast<unsigned long long>(c.handler_stolen[h]));
  std::printf("datapath requests: %llu executes, %llu puts, %llu others, %.1f bytes/miss\n",
              static_cast<unsigned long long>(totals.executes.load()),
              static_cast<unsigned long long>(totals.puts.load()),
              static_cast<unsigned long long>(totals.others.load()),
              static_cast<double>(totals.bytes.load()) / static_cast<double>(misses));
  if (memory) {
    const double n = static_cast<double>(std::max<std::uint64_t>(c.flows, 1));
    const auto delta = [](std::size_t a, std::size_t b) {
      return static_cast<double>(a) - static_cast<double>(b);
    };
    std::printf(
        "memory: heap %zu -> %zu bytes (%.0f bytes/megaflow), RSS %zu -> %zu kB "
        "(%.0f bytes/megaflow), %llu megaflows\n",
        before.heap, after.heap, delta(after.heap, before.heap) / n, before.rss / 1024,
        after.rss / 1024, delta(after.rss, before.rss) / n,
        static_cast<unsigned long long>(c.flows));
  }
  udpif.stop();
  return 0;
}
