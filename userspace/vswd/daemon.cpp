// Daemon (see daemon.h).
#include "vswd/daemon.h"

#include <set>
#include <thread>

#include "config/model.h"
#include "util/log.h"

namespace vsw::vswd {

namespace {
BridgeSettings settings_for(const config::Config& c, const config::Bridge& b) {
  const config::BridgeLimits l = config::resolve_bridge(b, c.daemon());
  BridgeSettings s;
  s.flow_limit = l.flow_limit;
  s.idle_timeout_ms = l.idle_timeout_ms;
  s.mac_aging_s = l.mac_aging_s;
  s.mac_table_size = l.mac_table_size;
  s.n_handlers = config::resolve_daemon(c.daemon()).n_handlers();
  s.n_revalidators = config::resolve_daemon(c.daemon()).n_revalidators();
  return s;
}
}  // namespace

Daemon::~Daemon() {
  shutdown();
}

void Daemon::apply(const config::Config& config) {
  std::set<std::string> wanted;
  for (const config::Bridge& b : config.bridges()) {
    wanted.insert(b.name());
    BridgeSettings s = settings_for(config, b);
    s.service_dir = service_dir_;
    n_handlers_ = s.n_handlers ? s.n_handlers : std::max(1U, std::thread::hardware_concurrency());
    auto it = bridges_.find(b.name());
    if (it != bridges_.end()) {
      it->second->configure(b, s);
      continue;
    }
    auto br = std::make_unique<Bridge>(b.name(), io_, control_, links_, factory_);
    if (auto r = br->open(b, s); !r) {
      log::error("%s: cannot open the bridge: %s", b.name().c_str(), r.error().to_string().c_str());
      continue;
    }
    bridges_.emplace(b.name(), std::move(br));
  }
  for (auto it = bridges_.begin(); it != bridges_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    it->second->destroy();
    it = bridges_.erase(it);
  }
}

void Daemon::status(config::ShowReply& out) {
  for (auto& bs : *out.mutable_bridges()) {
    auto it = bridges_.find(bs.config().name());
    if (it != bridges_.end()) it->second->status(bs);
  }
}

Result<Bridge*> Daemon::running(const std::string& bridge) {
  auto it = bridges_.find(bridge);
  if (it == bridges_.end())
    return make_error(ENOENT, "no bridge named '" + bridge + "' is running");
  return it->second.get();
}

Result<void> Daemon::fdb(const std::string& bridge, config::FdbReply& out) {
  auto br = running(bridge);
  if (!br) return br.error();
  (*br)->fdb(out);
  return {};
}

Result<void> Daemon::trace(const std::string& bridge, const std::string& flow,
                           config::TraceReply& out) {
  auto br = running(bridge);
  if (!br) return br.error();
  return (*br)->trace(flow, out);
}

Result<void> Daemon::dump_flows(const std::string& bridge, config::DumpFlowsReply& out) {
  auto br = running(bridge);
  if (!br) return br.error();
  (*br)->dump_flows(out);
  return {};
}

void Daemon::upcalls(config::UpcallReply& out) {
  std::uint64_t lost = 0;
  upcall::Counters sum;
  std::uint64_t pins_sent = 0, pins_congested = 0;
  ofproto::MacLearning::Stats macs;
  std::uint64_t reconciles = 0;
  for (auto& [name, br] : bridges_) {
    reconciles += br->reconciles();
    const auto mc = br->mac_stats();
    macs.entries += mc.entries;
    macs.learned += mc.learned;
    macs.moved += mc.moved;
    macs.evicted += mc.evicted;
    macs.expired += mc.expired;
    upcall::Counters c = br->counters();
    sum.upcalls += c.upcalls;
    sum.installs += c.installs;
    sum.install_failures += c.install_failures;
    sum.skipped_stale += c.skipped_stale;
    sum.limit_hits += c.limit_hits;
    sum.execute_failures += c.execute_failures;
    sum.enobufs += c.enobufs;
    sum.revalidated += c.revalidated;
    sum.modified += c.modified;
    sum.deleted_idle += c.deleted_idle;
    sum.deleted_wrong += c.deleted_wrong;
    sum.adopted += c.adopted;
    sum.packet_ins += c.packet_ins;
    sum.packet_ins_dropped += c.packet_ins_dropped;
    sum.packet_in_bad_cookies += c.packet_in_bad_cookies;
    pins_sent += br->packet_ins_sent();
    pins_congested += br->packet_ins_congested();
    sum.limit_shrinks += c.limit_shrinks;
    sum.limit_grows += c.limit_grows;
    sum.dumps += c.dumps;
    sum.flow_limit += c.flow_limit;
    sum.flows += c.flows;
    sum.handlers += c.handlers;
    sum.revalidators += c.revalidators;
    sum.helper_tasks += c.helper_tasks;
    sum.per_cpu = sum.per_cpu || c.per_cpu;
    if (sum.handler_upcalls.size() < c.handler_upcalls.size())
      sum.handler_upcalls.resize(c.handler_upcalls.size());
    for (std::size_t i = 0; i < c.handler_upcalls.size(); ++i)
      sum.handler_upcalls[i] += c.handler_upcalls[i];
    if (sum.handler_stolen.size() < c.handler_stolen.size())
      sum.handler_stolen.resize(c.handler_stolen.size());
    for (std::size_t i = 0; i < c.handler_stolen.size(); ++i)
      sum.handler_stolen[i] += c.handler_stolen[i];
    auto dp = control_.dp_get(name);
    if (dp) lost += dp->stats.n_lost;
  }
  out.set_handlers(sum.handlers);
  out.set_revalidators(sum.revalidators);
  out.set_flows(sum.flows);
  out.set_flow_limit(sum.flow_limit);
  out.set_upcalls_handled(sum.upcalls);
  out.set_upcalls_lost(lost);
  auto& m = *out.mutable_counters();
  m["installs"] = sum.installs;
  m["install_failures"] = sum.install_failures;
  m["skipped_stale"] = sum.skipped_stale;
  m["revalidator_helper_tasks"] = sum.helper_tasks;
  m["flow_limit_hits"] = sum.limit_hits;
  m["flow_limit_shrinks"] = sum.limit_shrinks;
  m["flow_limit_grows"] = sum.limit_grows;
  m["execute_failures"] = sum.execute_failures;
  m["receive_overruns"] = sum.enobufs;
  m["revalidated"] = sum.revalidated;
  m["modified"] = sum.modified;
  m["deleted_idle"] = sum.deleted_idle;
  m["deleted_wrong"] = sum.deleted_wrong;
  m["adopted"] = sum.adopted;
  m["packet_ins"] = sum.packet_ins;
  m["packet_ins_dropped"] = sum.packet_ins_dropped;
  m["packet_in_bad_cookies"] = sum.packet_in_bad_cookies;
  m["packet_ins_sent"] = pins_sent;
  m["packet_ins_congested"] = pins_congested;
  m["dumps"] = sum.dumps;
  m["per_cpu_dispatch"] = sum.per_cpu ? 1 : 0;
  m["mac_entries"] = macs.entries;
  m["mac_learned"] = macs.learned;
  m["mac_moves"] = macs.moved;
  m["mac_evictions"] = macs.evicted;
  m["mac_expired"] = macs.expired;
  m["link_reconciles"] = link_reconciles_;
  m["link_resyncs"] = links_.resyncs();
  m["port_reconciles"] = reconciles;
  for (std::size_t i = 0; i < sum.handler_upcalls.size(); ++i)
    m["handler" + std::to_string(i) + "_upcalls"] = sum.handler_upcalls[i];
  for (std::size_t i = 0; i < sum.handler_stolen.size(); ++i)
    m["handler" + std::to_string(i) + "_stolen"] = sum.handler_stolen[i];
}

void Daemon::links_changed(const LinkNames& changed) {
  for (auto& [name, br] : bridges_)
    if (br->uses(changed)) {
      br->links_changed(changed);
      ++link_reconciles_;
    }
}

void Daemon::reconcile_all() {
  for (auto& [name, br] : bridges_) br->reconcile();
}

void Daemon::shutdown() {
  bridges_.clear();
}

}  // namespace vsw::vswd
