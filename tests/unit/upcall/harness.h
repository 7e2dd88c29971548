// The rig the upcall tests drive a real Udpif with: one in-memory datapath shared by all
// of its threads, a real Ofproto, and a netlink socket that plays the kernel's part.
//
// Why a shared datapath? Udpif asks its DpifFactory for one Dpif per thread (each handler
// and the revalidator need their own socket). FakeDpif keeps its state per instance and is
// not thread-safe, so SharedDatapath holds ONE FakeDpif behind a mutex and the factory
// hands out ForwardingDpif objects that lock it and forward every call. The test reads
// the same FakeDpif (flows, executions) under the same lock.
//
// What the wrapper adds to the fake:
//  - used_ms: FakeDpif::hit() stores a constant 100 ms (it has no clock). SharedDatapath::
//    hit() records when the test hit the flow, and flow_dump() reports the real time since
//    then, as the kernel does; flows never hit report no used_ms.
//  - gates: a test can stop the revalidator's next flow dump just before it reads the
//    flows (before_dump) or just after (after_dump), do something (install a flow through
//    a handler), and let the dump go on; or stop the next operate() of the first thread
//    that calls it among some (before_operate, for the Dpifs numbered gate_first..
//    gate_last: the factory numbers them in the order Udpif::start() asks, see
//    Rig::handler_dpif; gated_dpif then says whose stopped). The datapath lock is not held
//    while stopped.
//
// Upcalls reach the handlers for real: UpcallSender sends VSW_PACKET_CMD_MISS messages
// (vsw_header, KEY, IN_PORT, PACKET, as kernel/upcall.c builds them) from its own
// NETLINK_GENERIC socket to a handler channel's port id (needs CAP_NET_ADMIN; the tests
// skip without it). No vsw.ko is involved.
#pragma once

#include <linux/types.h>
#include <vsw.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dpif/dpif.h"
#include "dpif/dpif_fake.h"
#include "dpif/unique_fd.h"
#include "ofproto/ofproto.h"
#include "upcall/udpif.h"

namespace vsw::upcall::test {

inline constexpr const char* kDp = "br0";

// ---- the shared datapath -------------------------------------------------------------------
// A one-shot rendezvous between the revalidator (wait_here) and the test (reached/release).
class Gate {
 public:
  void arm();
  // Revalidator side: if armed, disarm, say so and wait (at most 10 s) for release().
  void pass();
  // pass() in two steps: disarm if armed (true then: the caller must wait_release()).
  bool claim();
  void wait_release();
  // Test side.
  [[nodiscard]] bool wait_reached(std::chrono::milliseconds timeout);
  void release();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false, reached_ = false, released_ = false;
};

class SharedDatapath {
 public:
  SharedDatapath();

  // Runs f(fake) under the datapath lock.
  template <class F>
  auto with(F&& f) {
    std::lock_guard lock(mu_);
    return f(fake_);
  }

  // The flows as a dump would report them (used_ms rewritten, see the top).
  std::vector<dpif::FlowEntry> flows();
  std::optional<dpif::FlowEntry> flow(const dpif::Match& m);
  int executed();
  std::vector<dpif::FakeDpif::Execution> executions();
  // Packets hit a flow now (false if there is no such flow).
  bool hit(const dpif::Match& m, std::uint64_t packets = 1, std::uint64_t bytes = 60);

  Gate before_dump, after_dump;
  Gate before_operate;
  std::atomic<int> gate_first{-1}, gate_last{-1};
  std::atomic<int> gated_dpif{-1};
  std::atomic<int> next_dpif{0};  // the number the factory gives the next ForwardingDpif

  // ---- for ForwardingDpif
  std::mutex& mu() { return mu_; }
  dpif::FakeDpif& fake() { return fake_; }
  // Rewrites e.used_ms from the recorded hit times. Lock held.
  void fix_used(dpif::FlowEntry& e) const;

 private:
  std::mutex mu_;
  dpif::FakeDpif fake_;
  std::vector<std::pair<dpif::Match, std::chrono::steady_clock::time_point>> last_hit_;
};

// A Dpif for one thread: every call locks the shared datapath and forwards to its fake.
class ForwardingDpif final : public dpif::Dpif {
 public:
  ForwardingDpif(std::shared_ptr<SharedDatapath> d, int number)
      : d_(std::move(d)), number_(number) {}

  Result<dpif::DatapathInfo> dp_create(std::string_view name) override;
  Result<void> dp_delete(std::string_view name) override;
  Result<dpif::DatapathInfo> dp_get(std::string_view name) override;
  Result<std::vector<dpif::DatapathInfo>> dp_list() override;
  Result<void> dp_set_upcall_pid(std::string_view dp, std::uint32_t pid) override;
  Result<void> dp_set_upcall_pids(std::string_view dp,
                                  std::span<const std::uint32_t> pids) override;
  Result<dpif::PortInfo> port_add(std::string_view dp, std::string_view iface,
                                  std::optional<std::uint32_t> port_no,
                                  std::uint32_t upcall_pid) override;
  Result<void> port_del(std::string_view dp, std::string_view iface) override;
  Result<std::vector<dpif::PortInfo>> port_list(std::string_view dp) override;
  Result<void> port_set_upcall_pid(std::string_view dp, std::uint32_t port_no,
                                   std::uint32_t pid) override;
  Result<void> flow_put(std::string_view dp, const dpif::Match& match, const dpif::Actions& actions,
                        dpif::FlowPut mode, bool clear_stats) override;
  Result<dpif::FlowEntry> flow_get(std::string_view dp, const dpif::Match& match) override;
  Result<dpif::FlowEntry> flow_del(std::string_view dp, const dpif::Match& match) override;
  Result<void> flow_flush(std::string_view dp) override;
  Result<void> flow_dump(std::string_view dp,
                         const std::function<void(const dpif::FlowEntry&)>& each) override;
  Result<void> execute(std::string_view dp, const vsw_flow_key& key,
                       std::span<const std::uint8_t> packet, const dpif::Actions& actions) override;
  Result<void> operate(std::string_view dp, std::span<dpif::Op> ops) override;

 private:
  std::shared_ptr<SharedDatapath> d_;
  int number_;
};

// ---- packets --------------------------------------------------------------------------------
using Mac = std::array<std::uint8_t, 6>;
inline constexpr Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
// 02:00:00:00:00:nn (locally administered unicast).
Mac host(std::uint8_t n);
// 02:00:00:00:01:nn: hosts nobody ever sends from.
Mac nobody(std::uint8_t n);

// The key the kernel would extract from frame(): untagged IPv4 over Ethernet.
vsw_flow_key key_of(std::uint32_t in_port, const Mac& src, const Mac& dst);
// A 60-byte frame; `tag` goes into the payload so executions can be told apart.
std::vector<std::uint8_t> frame(const Mac& src, const Mac& dst, std::uint8_t tag = 0);

// Sends misses to a handler's channel over netlink, as the kernel does.
class UpcallSender {
 public:
  UpcallSender();
  // false when the kernel refuses user-to-user netlink unicast (no CAP_NET_ADMIN).
  bool send(std::uint32_t port_id, std::uint32_t in_port, const Mac& src, const Mac& dst,
            std::uint8_t tag = 0);
  // An ACTION upcall (a USERSPACE action ran) carrying `cookie` as its USERDATA.
  bool send_action(std::uint32_t port_id, std::uint32_t in_port, const Mac& src, const Mac& dst,
                   std::span<const std::uint8_t> cookie, std::uint8_t tag = 0);

 private:
  bool send_upcall(std::uint32_t port_id, std::uint32_t in_port, const Mac& src, const Mac& dst,
                   std::uint8_t tag, std::optional<std::span<const std::uint8_t>> cookie);
  dpif::UniqueFd fd_;
};

// ---- the rig --------------------------------------------------------------------------------
// Datapath "br0" with ports 1..3 (in the fake, in the Ofproto: standalone fail mode,
// trunks carrying every VLAN, and in the Udpif's live port set) and a Udpif over it (not
// started: tests may pre-install flows, pre-learn MACs or set limits first).
struct Rig {
  explicit Rig(Options options = defaults());
  ~Rig();
  static Options defaults();

  // Starts the Udpif (REQUIREs success).
  void start();
  // Sends a miss to the handler that serves in_port; SKIPs the test without privilege.
  void miss(std::uint32_t in_port, const Mac& src, const Mac& dst, std::uint8_t tag = 0);
  // Teaches the MAC table (vlan 0) without an upcall.
  void learn(const Mac& mac, std::uint32_t ofport);
  // The number of handler i's Dpif (Udpif::start() makes the control Dpif first, then one
  // per handler in order; the revalidator's comes later).
  static int handler_dpif(unsigned i) { return 1 + static_cast<int>(i); }
  // The megaflow a translation gives now (may_learn = false).
  dpif::Match megaflow(std::uint32_t in_port, const Mac& src, const Mac& dst);

  std::shared_ptr<SharedDatapath> dp = std::make_shared<SharedDatapath>();
  ofproto::Ofproto ofp;
  std::unique_ptr<Udpif> udpif;
  UpcallSender sender;
};

std::vector<ofproto::PortInfo> ports(std::initializer_list<std::uint32_t> ofports);

// Polls pred every few ms until it holds or the deadline passes; returns pred's last value.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds deadline = std::chrono::milliseconds(1000));

dpif::Actions outputs(std::initializer_list<std::uint32_t> ports);
// True when any action outputs to port.
bool outputs_to(const dpif::Actions& actions, std::uint32_t port);
std::string describe(const std::vector<dpif::FlowEntry>& flows);

}  // namespace vsw::upcall::test
