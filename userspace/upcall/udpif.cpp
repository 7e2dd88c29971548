// Udpif: handler threads and the revalidator (see udpif.h).
#include "upcall/udpif.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <chrono>
#include <unordered_set>

#include "dpif/upcall_channel.h"
#include "util/log.h"

namespace vsw::upcall {

namespace {
constexpr std::size_t kBatch = 64;
constexpr auto kRevalidatePeriod = std::chrono::milliseconds(500);
constexpr std::uint64_t kDumpEveryMs = 1000;
constexpr std::uint32_t kOverLimitIdleMs = 100;
constexpr int kHandlerNice = 10;

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}
}  // namespace

// ---- handlers -----------------------------------------------------------------------------
class Udpif::Handler {
 public:
  Handler(Udpif& u, unsigned index, dpif::UpcallChannel ch, std::unique_ptr<dpif::Dpif> dp)
      : u_(u), index_(index), ch_(std::move(ch)), dpif_(std::move(dp)), sd_(io_) {}
  ~Handler() { stop(); }

  Result<void> start() {
    const int fd = ::dup(ch_.fd());
    if (fd < 0) return make_error(errno, "cannot duplicate the upcall socket");
    boost::system::error_code ec;
    sd_.assign(fd, ec);
    if (ec) {
      ::close(fd);
      return make_error(ec.value(), "cannot watch the upcall socket: " + ec.message());
    }
    arm();
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
  [[nodiscard]] std::uint32_t port_id() const { return ch_.port_id(); }
  [[nodiscard]] std::uint64_t enobufs() const { return ch_.enobufs(); }
  [[nodiscard]] std::uint64_t served() const { return served_.load(std::memory_order_relaxed); }

 private:
  void arm() {
    sd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                   [this](const boost::system::error_code& ec) {
                     if (ec) return;
                     drain();
                     arm();
                   });
  }
  // Serves batches until the socket is empty (bounded, so the io_context stays responsive).
  void drain() {
    for (int round = 0; round < 16; ++round) {
      ups_.clear();
      auto n = ch_.receive(ups_, kBatch);
      if (!n) {
        log::warn("handler %u: receive failed: %s", index_, n.error().to_string().c_str());
        return;
      }
      if (*n == 0) return;
      process();
    }
  }
  void process();

  Udpif& u_;
  unsigned index_;
  dpif::UpcallChannel ch_;
  std::unique_ptr<dpif::Dpif> dpif_;
  boost::asio::io_context io_;
  boost::asio::posix::stream_descriptor sd_;
  std::thread thread_;
  std::vector<dpif::Upcall> ups_;
  std::vector<dpif::Op> ops_;
  std::vector<UkeyPtr> claimed_;  // parallel to the FlowPut ops in ops_
  std::atomic<std::uint64_t> served_{0};
};

void Udpif::Handler::process() {
  ops_.clear();
  claimed_.clear();
  std::vector<ofproto::MacTag> changed;
  const std::uint64_t t = now_ms();
  std::unordered_set<dpif::Match, MatchHash> in_batch;
  for (const dpif::Upcall& up : ups_) {
    if (up.cmd != VSW_PACKET_CMD_MISS) continue;
    u_.c_.upcalls.fetch_add(1, std::memory_order_relaxed);
    served_.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t seq = u_.changes_.seq();
    changed.clear();
    ofproto::XlateResult x = u_.ofp_.translate(up.key, true, &changed);
    // What this translation learned does not make it stale; a change by anyone else to
    // what it read does.
    const std::uint64_t own = changed.empty() ? 0 : u_.note_changed(changed);

    if (x.stable && !in_batch.contains(x.megaflow)) {
      in_batch.insert(x.megaflow);
      if (u_.ukeys_.size() >= u_.flow_limit_.load()) {
        u_.c_.limit_hits.fetch_add(1, std::memory_order_relaxed);
      } else {
        auto uk = std::make_shared<Ukey>();
        uk->match = x.megaflow;
        uk->actions = x.actions;
        uk->tags = x.tags;
        uk->rules = x.rules;
        uk->created_ms = t;
        if (u_.ukeys_.insert(uk)) {
          if (u_.changes_.touched_since(seq, uk->tags, own)) {
            // What the translation read changed meanwhile: the answer may be stale. (A
            // change that came before the insert above could not mark this ukey dirty.)
            u_.ukeys_.erase(uk->match);
            u_.c_.skipped_stale.fetch_add(1, std::memory_order_relaxed);
          } else {
            ops_.push_back({dpif::FlowPutOp{x.megaflow, x.actions, dpif::FlowPut::kCreate}, {}});
            claimed_.push_back(uk);
          }
        }
      }
    }
    ops_.push_back({dpif::ExecuteOp{up.key, up.packet, std::move(x.actions)}, {}});
  }
  if (ops_.empty()) return;
  auto r = dpif_->operate(u_.dp_, ops_);
  if (!r) log::warn("handler %u: %s", index_, r.error().to_string().c_str());
  std::size_t ci = 0;
  for (dpif::Op& op : ops_) {
    if (std::holds_alternative<dpif::FlowPutOp>(op.op)) {
      const UkeyPtr& uk = claimed_[ci++];
      if (!r || (op.error && op.error->code.value() != EEXIST)) {
        u_.c_.install_failures.fetch_add(1, std::memory_order_relaxed);
        u_.ukeys_.erase(uk->match);
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
}

// ---- Udpif --------------------------------------------------------------------------------
Udpif::Udpif(std::string dp, ofproto::Ofproto& ofp, DpifFactory factory, Options options)
    : dp_(std::move(dp)),
      ofp_(ofp),
      factory_(std::move(factory)),
      options_(options),
      flow_limit_(std::min<std::uint32_t>(options.flow_limit, 10'000)),
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
  for (auto& h : handlers_)
    if (auto r = h->start(); !r) return r.error();
  {
    std::lock_guard lock(mu_);
    stop_ = false;
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

void Udpif::revalidate_all() {
  changes_.add({});
  ukeys_.mark_all();
  {
    std::lock_guard lock(mu_);
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
  c.upcalls = c_.upcalls;
  c.installs = c_.installs;
  c.install_failures = c_.install_failures;
  c.skipped_stale = c_.skipped_stale;
  c.limit_hits = c_.limit_hits;
  c.execute_failures = c_.execute_failures;
  for (const auto& h : handlers_) {
    c.enobufs += h->enobufs();
    c.handler_upcalls.push_back(h->served());
  }
  c.revalidated = c_.revalidated;
  c.modified = c_.modified;
  c.deleted_idle = c_.deleted_idle;
  c.deleted_wrong = c_.deleted_wrong;
  c.adopted = c_.adopted;
  c.limit_shrinks = c_.limit_shrinks;
  c.limit_grows = c_.limit_grows;
  c.dumps = c_.dumps;
  c.last_dump_ms = c_.last_dump_ms;
  c.flow_limit = flow_limit_;
  c.flows = ukeys_.size();
  c.handlers = static_cast<unsigned>(handlers_.size());
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
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kRevalidatePeriod, [this] { return wake_ || stop_; });
      if (stop_) return;
      wake_ = false;
    }
    std::vector<ofproto::MacTag> expired = ofp_.macs().expire();
    if (!expired.empty()) note_changed(expired);
    log_moves();
    revalidate_dirty(dp);
    if (now_ms() - last_dump >= kDumpEveryMs) {
      last_dump = now_ms();
      dump_pass(dp);
      revalidate_dirty(dp);
    }
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

// Re-translates every dirty ukey; fixes or deletes kernel flows whose answer changed.
void Udpif::revalidate_dirty(dpif::Dpif& dp) {
  std::vector<UkeyPtr> dirty = ukeys_.take_dirty();
  if (dirty.empty()) return;
  std::vector<dpif::Op> ops;
  std::vector<UkeyPtr> op_ukeys;
  const auto live = live_ports();
  for (const UkeyPtr& uk : dirty) {
    // Erased since it was queued (install failed or skipped as stale, idle, deleted):
    // nothing to fix, and one never installed would be requeued forever.
    if (ukeys_.find(uk->match) != uk) continue;
    if (uk->state.load() == Ukey::State::kInstalling) {
      ukeys_.requeue(uk);  // its FLOW_NEW is in flight; look again next pass
      continue;
    }
    uk->dirty = false;
    c_.revalidated.fetch_add(1, std::memory_order_relaxed);
    if (!port_live(*live, uk->match)) {
      // Its input port is gone: no packet can use it any more.
      ops.push_back({dpif::FlowDelOp{uk->match, {}}, {}});
      op_ukeys.push_back(uk);
      ukeys_.erase(uk->match);
      c_.deleted_wrong.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    ofproto::XlateResult x = ofp_.translate(uk->match.key, false, nullptr);
    if (!x.stable) {
      ukeys_.requeue(uk);  // the tables kept changing; try again next pass
      continue;
    }
    if (x.megaflow == uk->match) {
      if (x.actions == uk->actions) {
        ukeys_.update(uk, std::move(x.actions), std::move(x.tags), std::move(x.rules));
        continue;
      }
      ops.push_back({dpif::FlowPutOp{uk->match, x.actions, dpif::FlowPut::kModify}, {}});
      op_ukeys.push_back(uk);
      ukeys_.update(uk, std::move(x.actions), std::move(x.tags), std::move(x.rules));
      c_.modified.fetch_add(1, std::memory_order_relaxed);
    } else {
      // A different megaflow now: delete; the next miss installs the right one.
      ops.push_back({dpif::FlowDelOp{uk->match, {}}, {}});
      op_ukeys.push_back(uk);
      ukeys_.erase(uk->match);
      c_.deleted_wrong.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (ops.empty()) return;
  auto r = dp.operate(dp_, ops);
  if (!r) log::warn("%s: revalidation failed: %s", dp_.c_str(), r.error().to_string().c_str());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (!ops[i].error) continue;
    if (std::holds_alternative<dpif::FlowPutOp>(ops[i].op)) {
      // The flow is gone (deleted by someone else): forget it too.
      ukeys_.erase(op_ukeys[i]->match);
    }
  }
}

void Udpif::dump_pass(dpif::Dpif& dp) {
  const std::uint64_t start = now_ms();
  const std::uint64_t pass = ++dump_seq_;
  std::vector<dpif::FlowEntry> unknown;
  std::vector<dpif::Op> dels;
  const std::uint32_t limit = flow_limit_;
  std::uint64_t n_flows = 0;
  std::vector<ofproto::MacTag> changed;
  const auto live = live_ports();
  auto r = dp.flow_dump(dp_, [&](const dpif::FlowEntry& f) {
    ++n_flows;
    if (!port_live(*live, f.match)) {
      dels.push_back({dpif::FlowDelOp{f.match, {}}, {}});
      ukeys_.erase(f.match);
      c_.deleted_wrong.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    UkeyPtr uk = ukeys_.find(f.match);
    if (!uk) {
      unknown.push_back(f);
      return;
    }
    uk->seen_dump = pass;
    const std::uint64_t dpk = f.packets >= uk->packets ? f.packets - uk->packets : f.packets;
    const std::uint64_t dby = f.bytes >= uk->bytes ? f.bytes - uk->bytes : f.bytes;
    uk->packets = f.packets;
    uk->bytes = f.bytes;
    if (dpk)
      for (const ofproto::RuleId& rule : uk->rules) rule->credit(dpk, dby, ofp_.macs().now_ms());
    const std::uint32_t idle = n_flows > limit ? kOverLimitIdleMs : idle_ms_.load();
    // A ukey a handler created after the dump began is new, not 2^64 ms old.
    const std::uint64_t age = start > uk->created_ms ? start - uk->created_ms : 0;
    const bool idle_out = f.used_ms ? *f.used_ms >= idle : age >= idle;
    if (idle_out) {
      dels.push_back({dpif::FlowDelOp{f.match, {}}, {}});
      ukeys_.erase(f.match);
      c_.deleted_idle.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (dpk) {
      // Traffic in the kernel keeps its source MAC learned.
      changed.clear();
      (void)ofp_.translate(f.match.key, true, &changed);
      if (!changed.empty()) note_changed(changed);
    }
  });
  if (!r) {
    log::warn("%s: flow dump failed: %s", dp_.c_str(), r.error().to_string().c_str());
    return;
  }
  // Flows without a ukey (an earlier vswd installed them): learn from all of them first,
  // so the MAC table is as it was, then keep those whose translation still agrees.
  for (const auto& f : unknown) (void)ofp_.translate(f.match.key, true, nullptr);
  for (const auto& f : unknown) {
    ofproto::XlateResult x = ofp_.translate(f.match.key, false, nullptr);
    if (x.stable && x.megaflow == f.match && x.actions == f.actions) {
      auto uk = std::make_shared<Ukey>();
      uk->match = f.match;
      uk->actions = std::move(x.actions);
      uk->tags = std::move(x.tags);
      uk->rules = std::move(x.rules);
      uk->created_ms = start;
      uk->packets = f.packets;
      uk->bytes = f.bytes;
      uk->seen_dump = pass;
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
    if (uk->state.load() == Ukey::State::kInstalled && uk->seen_dump != pass &&
        start > uk->created_ms + kDumpEveryMs)
      ukeys_.erase(uk->match);
  if (!dels.empty()) {
    auto d = dp.operate(dp_, dels);
    if (!d) log::warn("%s: flow delete failed: %s", dp_.c_str(), d.error().to_string().c_str());
  }

  // Adapt the flow limit to the dump's duration (Open vSwitch's rule).
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
    lim += 1000;
    c_.limit_grows.fetch_add(1, std::memory_order_relaxed);
  }
  flow_limit_ = std::clamp<std::uint32_t>(lim, std::min<std::uint32_t>(1000, ceiling), ceiling);
}

}  // namespace vsw::upcall
