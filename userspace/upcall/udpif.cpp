// Udpif: handler threads and the revalidator (see udpif.h).
#include "upcall/udpif.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <chrono>

#include "dpif/unique_fd.h"
#include "dpif/upcall_channel.h"
#include "util/log.h"

namespace vsw::upcall {

namespace {
// What a ukey keeps of a translation's learning (port 0: it learns nothing).
ofproto::MacLearnRef learns_of(const ofproto::XlateResult& x) {
  return x.learns.value_or(ofproto::MacLearnRef{});
}

constexpr std::size_t kBatch = 64;
constexpr auto kRevalidatePeriod = std::chrono::milliseconds(500);
constexpr std::uint64_t kDumpEveryMs = 1000;
// How often the revalidator ages out MAC entries (their aging time is in seconds).
constexpr std::uint64_t kExpireEveryMs = 500;
constexpr std::uint32_t kOverLimitIdleMs = 100;
// The dump duration the flow limit grows toward (see dump_pass()).
constexpr std::uint64_t kGrowTargetMs = 500;
// How the revalidators share work: dirty ukeys per task, dumped flows per task.
constexpr std::size_t kRevalChunk = 256;
constexpr std::size_t kDumpBatch = 256;
constexpr int kHandlerNice = 10;
// Ukeys erased since the last malloc_trim() that make the revalidator trim again: freed
// ukeys leave holes in the heap that glibc returns to the OS only when asked. It also
// trims once erasing stops, whatever the number (the tail of an expiry, a flush).
constexpr std::uint64_t kTrimAfterDeletes = 10'000;
// How many other handlers' sockets each handler also serves (bounds the wake-ups per miss).
constexpr unsigned kMaxPeers = 7;

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}
}  // namespace

// ---- handlers -----------------------------------------------------------------------------
// A handler serves its own channel and steals from up to kMaxPeers others (see udpif.h):
// each source is a channel with its own receive buffer over the socket (a dup()ed
// descriptor for a peer's), and an Asio descriptor that waits for it to become readable.
class Udpif::Handler {
 public:
  Handler(Udpif& u, unsigned index, dpif::UpcallChannel ch, std::unique_ptr<dpif::Dpif> dp)
      : u_(u), index_(index), own_pid_(ch.port_id()), dpif_(std::move(dp)) {
    sources_.push_back(std::make_unique<Source>(std::move(ch), io_, true));
  }
  ~Handler() { stop(); }
  Handler(const Handler&) = delete;
  Handler& operator=(const Handler&) = delete;

  // Also serves `peer`'s channel (before start()).
  Result<void> add_peer(const Handler& peer) {
    dpif::UniqueFd fd(::fcntl(peer.sources_.front()->ch.fd(), F_DUPFD_CLOEXEC, 0));
    if (!fd) return make_error(errno, "cannot duplicate a peer's upcall socket");
    sources_.push_back(std::make_unique<Source>(
        dpif::UpcallChannel::adopt(std::move(fd), peer.own_pid_, {.batch = kBatch, .rcvbuf = 0}),
        io_, false));
    return {};
  }

  Result<void> start() {
    for (auto& src : sources_) {
      const int fd = ::fcntl(src->ch.fd(), F_DUPFD_CLOEXEC, 0);
      if (fd < 0) return make_error(errno, "cannot duplicate the upcall socket");
      boost::system::error_code ec;
      src->sd.assign(fd, ec);
      if (ec) {
        ::close(fd);
        return make_error(ec.value(), "cannot watch the upcall socket: " + ec.message());
      }
      arm(*src);
    }
    thread_ = std::thread([this] {
      log::set_thread_name("handler" + std::to_string(index_));
      // Bulk work: the control thread (management socket) must stay responsive under a
      // miss storm, so handlers run at a lower priority.
      (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kHandlerNice);
      io_.run();
    });
    return {};
  }
  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] std::uint32_t port_id() const { return own_pid_; }
  // ENOBUFS is reported to whichever reader of a socket comes first: sum every source.
  [[nodiscard]] std::uint64_t enobufs() const {
    std::uint64_t n = 0;
    for (const auto& src : sources_) n += src->ch.enobufs();
    return n;
  }
  [[nodiscard]] std::uint64_t served() const { return served_.load(std::memory_order_acquire); }
  [[nodiscard]] std::uint64_t stolen() const { return stolen_.load(std::memory_order_relaxed); }

 private:
  struct Source {
    Source(dpif::UpcallChannel c, boost::asio::io_context& io, bool is_own)
        : ch(std::move(c)), sd(io), own(is_own) {}
    dpif::UpcallChannel ch;
    boost::asio::posix::stream_descriptor sd;
    bool own;
  };

  void arm(Source& src) {
    src.sd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this, &src](const boost::system::error_code& ec) {
                        if (ec) return;
                        drain(src);
                        arm(src);
                      });
  }
  // Serves batches until the socket is empty (bounded, so the io_context stays responsive
  // and the other sources get their turn). Another handler may empty a shared socket
  // first: its wake-up then finds nothing, which costs one recvmmsg.
  void drain(Source& src) {
    for (int round = 0; round < 16; ++round) {
      auto n = src.ch.receive(ups_, kBatch);
      if (!n) {
        log::warn("handler %u: receive failed: %s", index_, n.error().to_string().c_str());
        return;
      }
      if (*n == 0) return;
      process(!src.own);
    }
  }
  // Serves the batch in ups_ (from_peer: received on another handler's socket).
  void process(bool from_peer);
  template <class OpT>
  OpT& op_slot(std::size_t i);
  UkeyPtr recheck(const UkeyPtr& uk, const vsw_flow_key& key, std::uint64_t created_ms,
                  std::size_t limit);

  Udpif& u_;
  unsigned index_;
  std::uint32_t own_pid_;
  std::unique_ptr<dpif::Dpif> dpif_;
  boost::asio::io_context io_;
  std::vector<std::unique_ptr<Source>> sources_;  // [0]: the handler's own channel
  std::thread thread_;
  std::vector<dpif::Upcall> ups_;
  std::vector<dpif::Op> ops_;     // the batch's first n ops; the rest are kept for reuse
  std::vector<UkeyPtr> claimed_;  // parallel to the FlowPut ops in ops_
  std::vector<ofproto::MacTag> changed_;
  std::atomic<std::uint64_t> served_{0};
  std::atomic<std::uint64_t> stolen_{0};  // of served_: received on a peer's socket
};

// The Op in slot i of ops_, made an OpT if it is not one already. Slots keep their type
// from batch to batch as long as the pattern of puts and executes repeats (under a storm,
// put + execute per miss), so their action vectors keep their capacity: no allocation.
template <class OpT>
OpT& Udpif::Handler::op_slot(std::size_t i) {
  if (i == ops_.size()) ops_.emplace_back();
  dpif::Op& op = ops_[i];
  op.error.reset();
  if (auto* o = std::get_if<OpT>(&op.op)) return *o;
  return op.op.emplace<OpT>();
}

void Udpif::Handler::process(bool from_peer) {
  claimed_.clear();
  std::size_t n_ops = 0;
  const std::uint64_t t = now_ms();
  std::uint64_t misses = 0;
  for (const dpif::Upcall& up : ups_) {
    if (up.cmd == VSW_PACKET_CMD_ACTION) {
      u_.packet_in(up);
      continue;
    }
    if (up.cmd != VSW_PACKET_CMD_MISS) continue;
    ++misses;
    const std::uint64_t seq = u_.changes_.seq();
    changed_.clear();
    ofproto::XlateResult x = u_.ofp_.translate(up.key, true, &changed_);
    // The missed packet counts to its rules (and is their last use), as later ones in the
    // kernel's cache will through the dump.
    if (!x.rules.empty()) {
      const std::int64_t now = u_.ofp_.tables().now();
      for (const ofproto::RuleId& rule : x.rules) rule->credit(1, up.packet.size(), now);
    }
    // What this translation learned does not make it stale; a change by anyone else to
    // what it read does.
    const std::uint64_t own = changed_.empty() ? 0 : u_.note_changed(changed_);

    if (x.stable) {
      // Checked without the lock first (cheap, nearly always right), then exactly by the
      // claim, so that handlers claiming at once never take the table past the limit.
      const std::size_t limit = u_.flow_limit_.load(std::memory_order_relaxed);
      UkeyPtr uk;
      if (u_.ukeys_.size() < limit)
        uk = u_.ukeys_.claim(x.megaflow, x.actions, x.tags, x.rules, t, learns_of(x), limit);
      // A claim fails when the megaflow has a ukey already (installed, or claimed by an
      // earlier miss of this batch or by another handler) or when the table is full.
      if (!uk) {
        if (u_.ukeys_.size() >= limit) u_.c_.limit_hits.fetch_add(1, std::memory_order_relaxed);
      } else if (u_.changes_.touched_since(seq, x.tags, own) &&
                 !(uk = recheck(uk, up.key, t, limit))) {
        // What the translation read changed meanwhile: the answer may be stale. (A
        // change that came before the claim above could not mark this ukey dirty.)
        u_.c_.skipped_stale.fetch_add(1, std::memory_order_relaxed);
      } else {
        auto& put = op_slot<dpif::FlowPutOp>(n_ops++);
        put.match = x.megaflow;
        put.actions = uk->actions();
        put.mode = dpif::FlowPut::kCreate;
        put.clear_stats = false;
        claimed_.push_back(std::move(uk));
      }
    }
    auto& ex = op_slot<dpif::ExecuteOp>(n_ops++);
    ex.key = up.key;
    ex.packet = up.packet;
    ex.actions = std::move(x.actions);
  }
  if (n_ops == 0) return;  // no miss in the batch
  const std::span<dpif::Op> ops(ops_.data(), n_ops);
  auto r = dpif_->operate(u_.dp_, ops);
  if (!r) log::warn("handler %u: %s", index_, r.error().to_string().c_str());
  std::size_t ci = 0;
  for (dpif::Op& op : ops) {
    if (std::holds_alternative<dpif::FlowPutOp>(op.op)) {
      const UkeyPtr& uk = claimed_[ci++];
      if (!r || (op.error && op.error->code.value() != EEXIST)) {
        u_.c_.install_failures.fetch_add(1, std::memory_order_relaxed);
        u_.ukeys_.erase(*uk);
        if (op.error)
          log::rate_limited(log::Level::kWarn, "install", "cannot install a megaflow: %s",
                            op.error->to_string().c_str());
      } else {
        uk->state = Ukey::State::kInstalled;
        u_.c_.installs.fetch_add(1, std::memory_order_relaxed);
      }
    } else if (op.error) {
      u_.c_.execute_failures.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // Counted once the batch is done: a reader that sees these misses counted (acquire)
  // sees the install counters of their batch too.
  if (from_peer) stolen_.fetch_add(misses, std::memory_order_relaxed);
  u_.c_.upcalls.fetch_add(misses, std::memory_order_release);
  served_.fetch_add(misses, std::memory_order_release);
}

// A claimed ukey whose translation may be stale (something it read changed, or so many
// changes came meanwhile that the log no longer says which: a handler preempted while the
// others learn a storm of sources). Translates again without learning and gives back the
// ukey to install, or nothing (the claim is dropped) unless the fresh answer is the same
// megaflow and actions and nothing it read changed since. The claim is replaced by a new
// one with the fresh facts rather than updated: the claimed ukey is already in the table,
// where a dump may be reading its rules and learns, which only the revalidator may change.
// The new claim is made before that last check, so a later change marks it dirty, as for a
// first claim.
UkeyPtr Udpif::Handler::recheck(const UkeyPtr& uk, const vsw_flow_key& key,
                                std::uint64_t created_ms, std::size_t limit) {
  const std::uint64_t seq = u_.changes_.seq();
  ofproto::XlateResult y = u_.ofp_.translate(key, false, nullptr);
  u_.ukeys_.erase(*uk);
  if (!y.stable || !uk->has_match(y.megaflow) || y.actions != uk->actions()) return nullptr;
  UkeyPtr fresh =
      u_.ukeys_.claim(y.megaflow, y.actions, y.tags, y.rules, created_ms, learns_of(y), limit);
  if (fresh && u_.changes_.touched_since(seq, y.tags)) {
    u_.ukeys_.erase(*fresh);
    return nullptr;
  }
  return fresh;
}

void Udpif::packet_in(const dpif::Upcall& up) {
  auto cookie = ofproto::decode_controller_cookie(up.userdata);
  if (!cookie) {
    c_.packet_in_bad_cookies.fetch_add(1, std::memory_order_relaxed);
    log::rate_limited(log::Level::kWarn, "bad-cookie", "%s: ACTION upcall ignored: %s", dp_.c_str(),
                      cookie.error().message.c_str());
    return;
  }
  ofproto::ControllerPacket p{*cookie, up.in_port, {up.packet.begin(), up.packet.end()}};
  if (!packet_in_ || !packet_in_(std::move(p))) {
    c_.packet_ins_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  c_.packet_ins.fetch_add(1, std::memory_order_relaxed);
}

// ---- Udpif --------------------------------------------------------------------------------
Udpif::Udpif(std::string dp, ofproto::Ofproto& ofp, DpifFactory factory, Options options)
    : dp_(std::move(dp)),
      ofp_(ofp),
      factory_(std::move(factory)),
      options_(options),
      flow_limit_(std::min(options.flow_limit, options.initial_flow_limit)),
      limit_ceiling_(options.flow_limit),
      idle_ms_(options.idle_ms) {}

Udpif::~Udpif() {
  stop();
}

Result<void> Udpif::start() {
  unsigned n = options_.n_handlers;
  if (n == 0) n = std::max(1U, std::thread::hardware_concurrency());
  auto control = factory_();
  if (!control) return control.error();
  std::vector<std::uint32_t> pids;
  for (unsigned i = 0; i < n; ++i) {
    auto ch = dpif::UpcallChannel::open();
    if (!ch) return ch.error();
    auto d = factory_();
    if (!d) return d.error();
    handlers_.push_back(std::make_unique<Handler>(*this, i, std::move(*ch), std::move(*d)));
    pids.push_back(handlers_.back()->port_id());
  }
  // Per-CPU dispatch when the kernel has it: CPU c goes to handler c % n.
  const unsigned cpus = std::max(1U, std::thread::hardware_concurrency());
  std::vector<std::uint32_t> per_cpu(cpus);
  for (unsigned c = 0; c < cpus; ++c) per_cpu[c] = pids[c % n];
  auto pc = (*control)->dp_set_upcall_pids(dp_, per_cpu);
  per_cpu_ = pc.ok();
  if (!pc && pc.error().code.value() != ENOTSUP)
    log::warn("%s: per-CPU upcall dispatch refused (%s); dispatching per port", dp_.c_str(),
              pc.error().to_string().c_str());
  if (auto r = (*control)->dp_set_upcall_pid(dp_, pids[0]); !r) return r.error();
  // Work stealing: handler i also serves the sockets of the next min(n - 1, kMaxPeers)
  // handlers, so a storm from one CPU is not left to one thread.
  const unsigned peers = std::min(n - 1, kMaxPeers);
  for (unsigned i = 0; i < n; ++i)
    for (unsigned k = 1; k <= peers; ++k)
      if (auto r = handlers_[i]->add_peer(*handlers_[(i + k) % n]); !r) return r.error();
  for (auto& h : handlers_)
    if (auto r = h->start(); !r) return r.error();
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  unsigned nr = options_.n_revalidators;
  if (nr == 0) nr = std::max(1U, std::thread::hardware_concurrency()) / 4 + 1;
  {
    std::lock_guard lock(tasks_mu_);
    tasks_stop_ = false;
  }
  for (unsigned i = 1; i < nr; ++i) {
    auto d = factory_();
    if (!d) return d.error();
    helpers_.emplace_back([this, i, dp = std::move(*d)] { helper_main(i, *dp); });
  }
  revalidator_ = std::thread([this] { revalidator_main(); });
  return {};
}

void Udpif::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (revalidator_.joinable()) revalidator_.join();
  {
    std::lock_guard lock(tasks_mu_);
    tasks_stop_ = true;
  }
  tasks_cv_.notify_all();
  for (auto& t : helpers_) t.join();
  helpers_.clear();
  for (auto& h : handlers_) h->stop();
  handlers_.clear();
}

std::uint32_t Udpif::port_pid(std::uint32_t port_no) const {
  if (handlers_.empty()) return 0;
  return handlers_[port_no % handlers_.size()]->port_id();
}

std::uint64_t Udpif::note_changed(const std::vector<ofproto::MacTag>& changed) {
  const std::uint64_t seq = changes_.add(changed);
  if (ukeys_.mark_tagged(changed) == 0) return seq;
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_one();
  return seq;
}

void Udpif::revalidate_tags(const std::vector<ofproto::MacTag>& tags) {
  if (tags.empty()) return;  // an empty list would mean "everything" to the change log
  note_changed(tags);
}

// Called per table publish (a burst of FLOW_MOD + BARRIER publishes each one), so it only
// records the change and leaves the O(ukeys) marking to the revalidator, once per wake for
// however many publishes came. With nothing cached it does not wake the revalidator: a ukey
// claimed meanwhile either saw the change in the log (and was re-checked) or is marked by
// the revalidator's next periodic wake-up, within kRevalidatePeriod.
void Udpif::revalidate_all() {
  changes_.add({});
  all_dirty_.store(true, std::memory_order_release);
  if (ukeys_.size() == 0) return;
  {
    std::lock_guard lock(mu_);
    if (wake_) return;  // woken already, not yet running: it will see all_dirty_
    wake_ = true;
  }
  cv_.notify_one();
}

void Udpif::set_ports(const std::vector<std::uint32_t>& dp_ports) {
  auto set = std::make_shared<PortSet>(VSW_MAX_PORTS, false);
  for (std::uint32_t p : dp_ports)
    if (p < VSW_MAX_PORTS) (*set)[p] = true;
  std::lock_guard lock(ports_mu_);
  live_ = std::move(set);
}

std::shared_ptr<const Udpif::PortSet> Udpif::live_ports() const {
  std::lock_guard lock(ports_mu_);
  return live_;
}

namespace {
bool port_live(const std::vector<bool>& live, const dpif::Match& m) {
  return m.key.in_port < live.size() && live[m.key.in_port];
}
}  // namespace

void Udpif::set_limits(std::uint32_t flow_limit, std::uint32_t idle_ms) {
  limit_ceiling_ = flow_limit;
  if (flow_limit_ > flow_limit) flow_limit_ = flow_limit;
  idle_ms_ = idle_ms;
}

Counters Udpif::counters() const {
  Counters c;
  c.upcalls = c_.upcalls.load(std::memory_order_acquire);
  c.installs = c_.installs;
  c.install_failures = c_.install_failures;
  c.skipped_stale = c_.skipped_stale;
  c.limit_hits = c_.limit_hits;
  c.execute_failures = c_.execute_failures;
  for (const auto& h : handlers_) {
    c.enobufs += h->enobufs();
    c.handler_upcalls.push_back(h->served());
    c.handler_stolen.push_back(h->stolen());
  }
  c.revalidated = c_.revalidated;
  c.modified = c_.modified;
  c.deleted_idle = c_.deleted_idle;
  c.deleted_wrong = c_.deleted_wrong;
  c.adopted = c_.adopted;
  c.packet_ins = c_.packet_ins;
  c.packet_ins_dropped = c_.packet_ins_dropped;
  c.packet_in_bad_cookies = c_.packet_in_bad_cookies;
  c.limit_shrinks = c_.limit_shrinks;
  c.limit_grows = c_.limit_grows;
  c.dumps = c_.dumps;
  c.last_dump_ms = c_.last_dump_ms;
  c.flow_limit = flow_limit_;
  c.flows = ukeys_.size();
  c.handlers = static_cast<unsigned>(handlers_.size());
  c.revalidators = static_cast<unsigned>(helpers_.size()) + (revalidator_.joinable() ? 1 : 0);
  c.helper_tasks = c_.helper_tasks;
  c.per_cpu = per_cpu_;
  return c;
}

// ---- revalidator --------------------------------------------------------------------------
void Udpif::revalidator_main() {
  log::set_thread_name("revalidator");
  auto d = factory_();
  if (!d) {
    log::error("%s: revalidator cannot open the datapath: %s", dp_.c_str(),
               d.error().to_string().c_str());
    return;
  }
  dpif::Dpif& dp = **d;
  std::uint64_t last_dump = 0;
  std::uint64_t last_expire = 0;
  std::uint64_t last_trim = 0;    // ukeys_.erased() at the last malloc_trim()
  std::uint64_t erased_seen = 0;  // ukeys_.erased() at the previous wake-up
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kRevalidatePeriod, [this] { return wake_ || stop_; });
      if (stop_) return;
      wake_ = false;
    }
    if (all_dirty_.exchange(false, std::memory_order_acq_rel)) ukeys_.mark_all();
    // MAC aging has its own period, not every wake-up (publishes can wake it often).
    if (now_ms() - last_expire >= kExpireEveryMs) {
      last_expire = now_ms();
      std::vector<ofproto::MacTag> expired = ofp_.macs().expire();
      if (!expired.empty()) note_changed(expired);
    }
    log_moves();
    revalidate_dirty(dp);
    if (now_ms() - last_dump >= kDumpEveryMs) {
      last_dump = now_ms();
      dump_pass(dp);
      revalidate_dirty(dp);
    }
    // Every erased ukey counts (idle, wrong, vanished from the kernel, failed installs):
    // trim after many, and once when the erasing has stopped for a wake-up.
    const std::uint64_t erased = ukeys_.erased();
    if (erased - last_trim >= kTrimAfterDeletes || (erased != last_trim && erased == erased_seen)) {
      last_trim = erased;
      (void)::malloc_trim(0);
    }
    erased_seen = erased;
  }
}

// MAC moves are counted by the MAC table; the moving MACs are logged here, rate-limited.
void Udpif::log_moves() {
  for (const auto& m : ofp_.macs().take_moves()) {
    const auto& a = m.tag.mac;
    log::rate_limited(log::Level::kInfo, "mac-move",
                      "%s: MAC %02x:%02x:%02x:%02x:%02x:%02x on VLAN %u moved from port %u to "
                      "port %u",
                      dp_.c_str(), a[0], a[1], a[2], a[3], a[4], a[5], m.tag.vlan, m.from, m.to);
  }
}

// ---- the revalidators' shared work ----------------------------------------------------
void Udpif::helper_main(unsigned i, dpif::Dpif& dp) {
  log::set_thread_name("revalidator" + std::to_string(i));
  for (;;) {
    Task task;
    {
      std::unique_lock lock(tasks_mu_);
      tasks_cv_.wait(lock, [this] { return tasks_stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and nothing left
      task = std::move(tasks_.front());
      tasks_.pop_front();
      ++tasks_running_;
    }
    task(dp);
    c_.helper_tasks.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(tasks_mu_);
      --tasks_running_;
    }
    tasks_done_cv_.notify_all();
  }
}

void Udpif::submit(Task task, dpif::Dpif& dp) {
  if (helpers_.empty()) {
    task(dp);
    return;
  }
  {
    std::lock_guard lock(tasks_mu_);
    tasks_.push_back(std::move(task));
  }
  tasks_cv_.notify_one();
}

void Udpif::finish_tasks(dpif::Dpif& dp) {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(tasks_mu_);
      if (tasks_.empty()) {
        tasks_done_cv_.wait(lock, [this] { return tasks_running_ == 0; });
        return;
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task(dp);
  }
}

// Re-translates every dirty ukey, in chunks shared with the helper revalidators.
void Udpif::revalidate_dirty(dpif::Dpif& dp) {
  const std::vector<UkeyPtr> dirty = ukeys_.take_dirty();
  const std::span<const UkeyPtr> all(dirty);
  for (std::size_t i = 0; i < all.size(); i += kRevalChunk) {
    const auto chunk = all.subspan(i, std::min(kRevalChunk, all.size() - i));
    submit([this, chunk](dpif::Dpif& d) { revalidate_ukeys(d, chunk); }, dp);
  }
  finish_tasks(dp);
}

// Re-translates ukeys; fixes or deletes kernel flows whose answer changed.
void Udpif::revalidate_ukeys(dpif::Dpif& dp, std::span<const UkeyPtr> dirty) {
  std::vector<dpif::Op> ops;
  std::vector<UkeyPtr> op_ukeys;
  const auto live = live_ports();
  for (const UkeyPtr& uk : dirty) {
    // Erased since it was queued (install failed or skipped as stale, idle, deleted):
    // nothing to fix, and one never installed would be requeued forever.
    if (!ukeys_.holds(*uk)) continue;
    if (uk->state.load() == Ukey::State::kInstalling) {
      ukeys_.requeue(uk);  // its FLOW_NEW is in flight; look again next pass
      continue;
    }
    uk->dirty = false;
    c_.revalidated.fetch_add(1, std::memory_order_relaxed);
    const dpif::Match match = uk->match();
    if (!port_live(*live, match)) {
      // Its input port is gone: no packet can use it any more.
      ops.push_back({dpif::FlowDelOp{match, {}}, {}});
      op_ukeys.push_back(uk);
      ukeys_.erase(*uk);
      c_.deleted_wrong.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    ofproto::XlateResult x = ofp_.translate(match.key, false, nullptr);
    if (!x.stable) {
      ukeys_.requeue(uk);  // the tables kept changing; try again next pass
      continue;
    }
    if (x.megaflow == match) {
      if (x.actions == uk->actions()) {
        ukeys_.update(uk, x.actions, x.tags, x.rules, learns_of(x));
        continue;
      }
      ops.push_back({dpif::FlowPutOp{match, x.actions, dpif::FlowPut::kModify}, {}});
      op_ukeys.push_back(uk);
      ukeys_.update(uk, x.actions, x.tags, x.rules, learns_of(x));
      c_.modified.fetch_add(1, std::memory_order_relaxed);
    } else {
      // A different megaflow now: delete; the next miss installs the right one.
      ops.push_back({dpif::FlowDelOp{match, {}}, {}});
      op_ukeys.push_back(uk);
      ukeys_.erase(*uk);
      c_.deleted_wrong.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (ops.empty()) return;
  auto r = dp.operate(dp_, ops);
  if (!r) log::warn("%s: revalidation failed: %s", dp_.c_str(), r.error().to_string().c_str());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (!ops[i].error) {
      if (const auto* del = std::get_if<dpif::FlowDelOp>(&ops[i].op))
        credit_final(*op_ukeys[i], *del);
      continue;
    }
    if (std::holds_alternative<dpif::FlowPutOp>(ops[i].op)) {
      // The flow is gone (deleted by someone else): forget it too.
      ukeys_.erase(*op_ukeys[i]);
    }
  }
}

void Udpif::credit_final(Ukey& uk, const dpif::FlowDelOp& del) {
  if (!del.stats || del.stats->packets <= uk.packets) return;
  const std::uint64_t dpk = del.stats->packets - uk.packets;
  const std::uint64_t dby = del.stats->bytes >= uk.bytes ? del.stats->bytes - uk.bytes : 0;
  uk.packets = del.stats->packets;
  uk.bytes = del.stats->bytes;
  const std::int64_t now = ofp_.tables().now();
  const std::int64_t used =
      del.stats->used_ms
          ? now - static_cast<std::int64_t>(std::min<std::uint64_t>(*del.stats->used_ms, 1U << 30))
          : now;
  for (const ofproto::RuleId& rule : uk.rules()) rule->credit(dpk, dby, used);
}

// One dump pass's shared facts; the batches' tasks read them and file unknown flows here.
struct Udpif::DumpPass {
  std::uint64_t start = 0, seq = 0;
  std::uint32_t limit = 0;
  std::shared_ptr<const PortSet> live;
  std::mutex mu;  // guards unknown
  std::vector<dpif::FlowEntry> unknown;
};

// The dump's verdict on some flows (n_before: how many the dump returned before them):
// stats credited, learning replayed, deletions (idle, or from a port that is gone)
// appended to dels; flows without a ukey filed in pass.unknown for the leader.
void Udpif::dump_flows(DumpPass& pass, std::span<const dpif::FlowEntry> flows,
                       std::uint64_t n_before, std::vector<dpif::Op>& dels) {
  std::vector<ofproto::MacTag> changed;
  std::vector<dpif::FlowEntry> unknown;
  std::uint64_t n_flows = n_before;
  for (const dpif::FlowEntry& f : flows) {
    ++n_flows;
    if (!port_live(*pass.live, f.match)) {
      dels.push_back({dpif::FlowDelOp{f.match, {}}, {}});
      ukeys_.erase(f.match);
      c_.deleted_wrong.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    UkeyPtr uk = ukeys_.find(f.match);
    if (!uk) {
      unknown.push_back(f);
      continue;
    }
    uk->seen_dump = pass.seq;
    const std::uint64_t dpk = f.packets >= uk->packets ? f.packets - uk->packets : f.packets;
    const std::uint64_t dby = f.bytes >= uk->bytes ? f.bytes - uk->bytes : f.bytes;
    uk->packets = f.packets;
    uk->bytes = f.bytes;
    if (dpk) {
      // The rules' idle timeouts count from the kernel's last use of the megaflow.
      const std::int64_t now = ofp_.tables().now();
      const std::int64_t used =
          f.used_ms ? now - static_cast<std::int64_t>(std::min<std::uint64_t>(*f.used_ms, 1U << 30))
                    : now;
      for (const ofproto::RuleId& rule : uk->rules()) rule->credit(dpk, dby, used);
    }
    const std::uint32_t idle = n_flows > pass.limit ? kOverLimitIdleMs : idle_ms_.load();
    // A ukey a handler created after the dump began is new, not 2^64 ms old.
    const std::uint64_t age = pass.start > uk->created_ms ? pass.start - uk->created_ms : 0;
    const bool idle_out = f.used_ms ? *f.used_ms >= idle : age >= idle;
    if (idle_out) {
      dels.push_back({dpif::FlowDelOp{f.match, {}}, {}});
      ukeys_.erase(f.match);
      c_.deleted_idle.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (dpk && uk->learns().port) {
      // Traffic in the kernel keeps its source MAC learned, and a MAC that moved back to
      // this flow's port is seen: NORMAL's learning replayed, without a translation.
      const ofproto::MacLearnRef& l = uk->learns();
      const auto lr = ofp_.macs().learn(l.tag.vlan, l.tag.mac, l.port);
      changed.clear();
      if (lr.what == ofproto::MacLearning::Learned::kNew ||
          lr.what == ofproto::MacLearning::Learned::kMoved)
        changed.push_back(l.tag);
      if (lr.evicted) changed.push_back(*lr.evicted);
      if (!changed.empty()) note_changed(changed);
    }
  }
  if (!unknown.empty()) {
    std::lock_guard lock(pass.mu);
    for (auto& f : unknown) pass.unknown.push_back(std::move(f));
  }
}

void Udpif::dump_pass(dpif::Dpif& dp) {
  DumpPass pass;
  pass.start = now_ms();
  pass.seq = ++dump_seq_;
  pass.limit = flow_limit_;
  pass.live = live_ports();
  const std::uint64_t start = pass.start;
  std::uint64_t n_flows = 0;
  std::vector<dpif::Op> dels;
  // With helpers, the dumped flows go to them in batches while the dump streams in (the
  // leader's own socket is busy with the dump); alone, the leader takes each flow as it
  // comes and deletes after the dump.
  std::vector<dpif::FlowEntry> batch;
  std::uint64_t batch_start = 0;
  const auto hand_out = [&] {
    if (batch.empty()) return;
    submit(
        [this, &pass, flows = std::move(batch), n = batch_start](dpif::Dpif& d) {
          std::vector<dpif::Op> ops;
          dump_flows(pass, flows, n, ops);
          if (ops.empty()) return;
          auto r = d.operate(dp_, ops);
          if (!r)
            log::warn("%s: flow delete failed: %s", dp_.c_str(), r.error().to_string().c_str());
        },
        dp);
    batch = {};
  };
  auto r = dp.flow_dump(dp_, [&](const dpif::FlowEntry& f) {
    if (helpers_.empty()) {
      dump_flows(pass, std::span(&f, 1), n_flows++, dels);
      return;
    }
    if (batch.empty()) batch_start = n_flows;
    batch.push_back(f);
    ++n_flows;
    if (batch.size() == kDumpBatch) hand_out();
  });
  hand_out();
  finish_tasks(dp);
  if (!r) {
    log::warn("%s: flow dump failed: %s", dp_.c_str(), r.error().to_string().c_str());
    return;
  }
  // Flows without a ukey (an earlier vswd installed them): learn from all of them first,
  // so the MAC table is as it was, then keep those whose translation still agrees.
  for (const auto& f : pass.unknown) (void)ofp_.translate(f.match.key, true, nullptr);
  for (const auto& f : pass.unknown) {
    ofproto::XlateResult x = ofp_.translate(f.match.key, false, nullptr);
    if (x.stable && x.megaflow == f.match && x.actions == f.actions) {
      UkeyPtr uk = Ukey::make(f.match, x.actions, x.tags, x.rules, learns_of(x));
      uk->created_ms = start;
      uk->packets = f.packets;
      uk->bytes = f.bytes;
      uk->seen_dump = pass.seq;
      uk->state = Ukey::State::kInstalled;
      // Insert fails when a handler claimed this megaflow meanwhile (its FLOW_NEW met
      // this flow: EEXIST); its ukey, translated the same, tracks the flow now.
      if (ukeys_.insert(uk)) c_.adopted.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    dels.push_back({dpif::FlowDelOp{f.match, {}}, {}});
    c_.deleted_wrong.fetch_add(1, std::memory_order_relaxed);
  }
  // Ukeys whose kernel flow vanished (deleted by hand, or a failed install): forget.
  for (const UkeyPtr& uk : ukeys_.all())
    if (uk->state.load() == Ukey::State::kInstalled && uk->seen_dump != pass.seq &&
        start > uk->created_ms + kDumpEveryMs)
      ukeys_.erase(*uk);
  if (!dels.empty()) {
    auto d = dp.operate(dp_, dels);
    if (!d) log::warn("%s: flow delete failed: %s", dp_.c_str(), d.error().to_string().c_str());
  }

  // Adapt the flow limit to the dump's duration (Open vSwitch's rule, growing faster).
  const std::uint64_t took = now_ms() - start;
  c_.last_dump_ms = took;
  c_.dumps.fetch_add(1, std::memory_order_relaxed);
  std::uint32_t lim = flow_limit_;
  const std::uint32_t ceiling = limit_ceiling_;
  if (took > 2000) {
    lim = static_cast<std::uint32_t>(lim / (took / 1000.0));
    c_.limit_shrinks.fetch_add(1, std::memory_order_relaxed);
  } else if (took > 1300) {
    lim = lim * 3 / 4;
    c_.limit_shrinks.fetch_add(1, std::memory_order_relaxed);
  } else if (took < 1000 && n_flows > lim / 2 && lim < ceiling) {
    // Open vSwitch adds 1,000 per such dump, so a storm of new flows meets the limit for
    // minutes. Grow instead toward what a half-second dump would cover at this dump's
    // pace, at most doubling per dump (the rules above shrink it if dumps fall behind).
    const std::uint64_t pace = n_flows * kGrowTargetMs / std::max<std::uint64_t>(took, 1);
    lim = static_cast<std::uint32_t>(
        std::max<std::uint64_t>(lim + 1000ULL, std::min<std::uint64_t>(2ULL * lim, pace)));
    c_.limit_grows.fetch_add(1, std::memory_order_relaxed);
  }
  flow_limit_ = std::clamp<std::uint32_t>(lim, std::min<std::uint32_t>(1000, ceiling), ceiling);
}

}  // namespace vsw::upcall
