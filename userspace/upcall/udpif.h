// Udpif: the upcall machinery of one bridge's datapath — handler threads that turn
// misses into megaflows, and a revalidator thread that keeps the installed megaflows
// right, fresh and within the flow limit.
//
// Handlers. Each handler thread owns an UpcallChannel (its own netlink socket, whose port
// id the kernel sends misses to) and a Dpif socket, and runs a Boost.Asio io_context that
// waits for its channel to become readable. It then receives a batch of misses,
// translates each through the bridge's Ofproto (learning source MACs), and sends one
// batched operation: a FLOW_NEW for each megaflow not yet installed (a UkeyTable entry is
// claimed first, so a burst of misses for one megaflow installs it once) and an EXECUTE
// for every packet. Misses are spread over handlers per CPU when the kernel supports
// per-CPU dispatch (VSW_DP_F_PER_CPU_UPCALLS), else per ingress port.
//
// Work stealing. Per-CPU dispatch sends every miss from one CPU to one socket, so a storm
// from one CPU would be served by one thread while the others idle. Each handler therefore
// also waits on the sockets of the next min(n - 1, 7) handlers (through channels of its
// own over dup()ed descriptors, each with its own receive buffer): every datagram reaches
// exactly one reader, so whoever is free serves it. The claim in the UkeyTable already
// makes two handlers translating misses of one megaflow install it once. The price: a
// miss wakes up to 8 handlers (one reads it, the others find the socket empty), and two
// packets of one flow queued on one socket may be executed out of order while its
// megaflow is being set up (as with Open vSwitch's shared per-port sockets before per-CPU
// dispatch). Counters: handler_upcalls[i] is what thread i served from any socket,
// handler_stolen[i] the part of it that came from other handlers' sockets.
//
// A translation that raced with a forwarding change must not install a stale megaflow:
// a handler reads the revalidation sequence before translating, and if it changed by the
// time the ukey is claimed, the packet is executed but the megaflow is not installed.
//
// Revalidators. n_revalidators threads (default CPUs / 4 + 1, as Open vSwitch): one leader
// and helpers. The leader wakes when forwarding state changes (tags marked dirty, or
// revalidate_all(): every ukey marked dirty by the leader, once per wake-up however many
// publishes came, and no wake-up when nothing is cached) and at least every 500 ms, when it
// also ages MAC entries. Dirty ukeys are re-translated (without learning) and their
// kernel flows modified or deleted when the answer changed; this keeps the "within one
// second" promise (a flow deleted this way credits its last counters to its old rules).
// Every second it dumps the kernel's flows: it credits stats to rules (with the kernel's
// last-use time, from which the rules' idle timeouts count), re-learns the source MAC of
// flows that saw packets (so busy MACs do not age out while their traffic stays in the
// kernel), deletes flows idle longer than the idle timeout (or 100 ms when above the flow
// limit), adopts flows it has no ukey for (left by an earlier
// vswd) when their re-translation agrees and deletes them otherwise, and adapts the
// flow limit to how long the dump took, as Open vSwitch does. The helpers share the work:
// the leader hands them the dirty ukeys in chunks and the dumped flows in batches as the
// dump streams in (each helper has its own netlink socket for its deletes and fixes);
// with one revalidator the leader does it all itself. After every 10,000 erased ukeys
// (deleted, expired, or vanished from the kernel), and once more when erasing stops, it
// calls malloc_trim() so that the memory of a storm's flows goes back to the OS.
//
// Packets for the controllers. output:CONTROLLER translates to a USERSPACE action
// (ofproto/controller_cookie.h), so such packets come back as ACTION upcalls: when a
// handler executes a missed packet, and from the kernel alone for every later packet of the
// installed megaflow. Handlers never translate an ACTION upcall: they decode its cookie,
// copy the packet and offer it to the packet-in hook (set_packet_in(); the bridge's
// bounded PacketInQueue to the OpenFlow thread), which never blocks. Counters: packet_ins
// (handed over), packet_ins_dropped (the hook refused: queue full, or no hook),
// packet_in_bad_cookies (a cookie that is not a controller cookie).
//
// Per miss, a handler allocates only the ukey of a new megaflow (one block, see ukey.h):
// the batch's ops are reused slot by slot, masks, action and rule lists are interned, and
// the flow limit is checked without a lock first (the claim checks it again, exactly).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "dpif/dpif.h"
#include "dpif/upcall_channel.h"
#include "ofproto/controller_cookie.h"
#include "ofproto/ofproto.h"
#include "upcall/change_log.h"
#include "upcall/ukey.h"
#include "util/result.h"

namespace vsw::upcall {

struct Options {
  unsigned n_handlers = 0;                    // 0: one per CPU
  unsigned n_revalidators = 0;                // 0: CPUs / 4 + 1 (as Open vSwitch)
  std::uint32_t flow_limit = 200'000;         // the ceiling the adaptive limit moves under
  std::uint32_t initial_flow_limit = 10'000;  // where the adaptive limit starts (capped by
                                              // flow_limit); benchmarks start it high
  std::uint32_t idle_ms = 10'000;
};

struct Counters {
  std::uint64_t upcalls = 0;           // misses handled (counted when their batch is done)
  std::uint64_t installs = 0;          // megaflows installed by handlers
  std::uint64_t install_failures = 0;  // FLOW_NEW refused (other than "exists")
  std::uint64_t skipped_stale = 0;     // not installed: forwarding changed meanwhile
  std::uint64_t limit_hits = 0;        // not installed: at the flow limit
  std::uint64_t execute_failures = 0;
  std::uint64_t enobufs = 0;      // receive queue overruns seen by handlers
  std::uint64_t revalidated = 0;  // ukeys re-translated
  std::uint64_t modified = 0;     // kernel flows whose actions were fixed
  std::uint64_t deleted_idle = 0;
  std::uint64_t deleted_wrong = 0;          // deleted because their translation changed
  std::uint64_t adopted = 0;                // kernel flows kept from an earlier vswd
  std::uint64_t packet_ins = 0;             // ACTION upcalls handed to the packet-in hook
  std::uint64_t packet_ins_dropped = 0;     // refused by the hook (queue full) or no hook
  std::uint64_t packet_in_bad_cookies = 0;  // ACTION upcalls without a controller cookie
  std::uint64_t limit_shrinks = 0, limit_grows = 0;
  std::uint64_t dumps = 0;
  std::uint64_t last_dump_ms = 0;  // duration of the last dump pass
  std::uint32_t flow_limit = 0;    // current adaptive limit
  std::uint64_t flows = 0;         // ukeys now
  unsigned handlers = 0;
  unsigned revalidators = 0;
  std::uint64_t helper_tasks = 0;              // dump batches and dirty chunks the helpers ran
  std::vector<std::uint64_t> handler_upcalls;  // misses served, per handler thread
  std::vector<std::uint64_t> handler_stolen;   // of those, taken from another's socket
  bool per_cpu = false;                        // per-CPU dispatch in use
};

class Udpif {
 public:
  // Makes a Dpif for one thread (each thread needs its own netlink socket).
  using DpifFactory = std::function<Result<std::unique_ptr<dpif::Dpif>>()>;
  // Takes a packet for the controllers, on a handler thread; must not block. False: dropped.
  using PacketInFn = std::function<bool(ofproto::ControllerPacket&&)>;

  Udpif(std::string dp, ofproto::Ofproto& ofp, DpifFactory factory, Options options);
  ~Udpif();
  Udpif(const Udpif&) = delete;
  Udpif& operator=(const Udpif&) = delete;

  // Where ACTION upcalls of output:CONTROLLER go (before start()).
  void set_packet_in(PacketInFn fn) { packet_in_ = std::move(fn); }
  // Opens the channels, tells the kernel where to send misses, starts the threads.
  Result<void> start();
  void stop();

  // The upcall pid a port should get (per-port dispatch; also the per-CPU fallback).
  [[nodiscard]] std::uint32_t port_pid(std::uint32_t port_no) const;

  // Forwarding state changed: re-translate the flows that read these MAC entries.
  void revalidate_tags(const std::vector<ofproto::MacTag>& tags);
  // Rules or ports changed: re-translate every flow.
  void revalidate_all();
  // The datapath ports that exist now (port 0 included). Flows from a port not in the set
  // are deleted by the revalidator, not re-translated.
  void set_ports(const std::vector<std::uint32_t>& dp_ports);
  // Changes the idle timeout and flow-limit ceiling.
  void set_limits(std::uint32_t flow_limit, std::uint32_t idle_ms);

  [[nodiscard]] Counters counters() const;

 private:
  class Handler;
  friend class Handler;
  struct DumpPass;
  using Task = std::function<void(dpif::Dpif&)>;
  void revalidator_main();
  void helper_main(unsigned i, dpif::Dpif& dp);
  // The leader hands tasks to the helper revalidators (or runs them itself when there are
  // none); finish_tasks() runs queued tasks until none is left or running.
  void submit(Task task, dpif::Dpif& dp);
  void finish_tasks(dpif::Dpif& dp);
  void revalidate_dirty(dpif::Dpif& dp);
  void revalidate_ukeys(dpif::Dpif& dp, std::span<const UkeyPtr> dirty);
  // A deleted flow's last counters (what the delete reported beyond the last dump) go to
  // its rules, so a removed rule's FLOW_REMOVED counts its cached traffic to the end.
  void credit_final(Ukey& uk, const dpif::FlowDelOp& del);
  void dump_pass(dpif::Dpif& dp);
  void dump_flows(DumpPass& pass, std::span<const dpif::FlowEntry> flows, std::uint64_t n_before,
                  std::vector<dpif::Op>& dels);
  // Records a change of forwarding state (returning its sequence number) and queues the
  // ukeys carrying these tags.
  std::uint64_t note_changed(const std::vector<ofproto::MacTag>& changed);
  void log_moves();
  // An ACTION upcall (handler thread): decode, copy, hand to packet_in_.
  void packet_in(const dpif::Upcall& up);

  std::string dp_;
  ofproto::Ofproto& ofp_;
  DpifFactory factory_;
  PacketInFn packet_in_;
  Options options_;
  UkeyTable ukeys_;
  std::vector<std::unique_ptr<Handler>> handlers_;
  std::thread revalidator_;           // the leader: dumps, expires, adapts the limit
  std::vector<std::thread> helpers_;  // n_revalidators - 1 more, running its tasks
  std::mutex tasks_mu_;
  std::condition_variable tasks_cv_, tasks_done_cv_;
  std::deque<Task> tasks_;
  unsigned tasks_running_ = 0;
  bool tasks_stop_ = false;

  std::mutex mu_;  // guards wake_/stop_ for the revalidator's condition variable
  std::condition_variable cv_;
  bool wake_ = false, stop_ = false;
  // revalidate_all() was called: the revalidator marks every ukey dirty on its next pass.
  std::atomic<bool> all_dirty_{false};

  using PortSet = std::vector<bool>;
  [[nodiscard]] std::shared_ptr<const PortSet> live_ports() const;
  mutable std::mutex ports_mu_;
  std::shared_ptr<const PortSet> live_ = std::make_shared<PortSet>();

  ChangeLog changes_;  // what changed, for handlers to tell whether it concerns them
  std::atomic<std::uint32_t> flow_limit_;
  std::atomic<std::uint32_t> limit_ceiling_;
  std::atomic<std::uint32_t> idle_ms_;
  bool per_cpu_ = false;
  std::uint64_t dump_seq_ = 0;

  struct AtomicCounters {
    std::atomic<std::uint64_t> upcalls{0}, installs{0}, install_failures{0}, skipped_stale{0},
        limit_hits{0}, execute_failures{0}, revalidated{0}, modified{0}, deleted_idle{0},
        deleted_wrong{0}, adopted{0}, limit_shrinks{0}, limit_grows{0}, dumps{0}, last_dump_ms{0},
        helper_tasks{0}, packet_ins{0}, packet_ins_dropped{0}, packet_in_bad_cookies{0};
  };
  AtomicCounters c_;
};

}  // namespace vsw::upcall
