// The bridge: snapshots, fail mode, the consistent-translation loop. See ofproto.h.
#include "ofproto/ofproto.h"

#include <algorithm>
#include <thread>
#include <unordered_map>

#include "classifier/epoch.h"

namespace vsw::ofproto {
namespace {

// Attempts before a translation that keeps overlapping publishes gives up on stability.
constexpr unsigned kMaxAttempts = 100;

std::vector<openflow::Instruction> normal_instructions() {
  return {openflow::Instruction::apply({openflow::Action::output(openflow::port::kNormal)})};
}

// The VLAN role of a port, for deciding whether its MAC entries are still valid.
bool same_role(const PortInfo& a, const PortInfo& b) {
  return a.vlan_mode == b.vlan_mode && a.tag == b.tag && a.trunks == b.trunks;
}

}  // namespace

Ofproto::Ofproto(const Options& o)
    : tables_(o.classifier, o.clock),
      macs_(MacLearning::Options{o.mac_table_size, o.mac_aging_s, o.clock}),
      groups_(o.clock) {
  auto empty = PortTable::build({});
  ports_owned_ = std::make_shared<const PortTable>(std::move(*empty));
  ports_.store(ports_owned_.get());
  set_fail_mode(o.fail_mode);
}

Ofproto::~Ofproto() = default;

void Ofproto::publish_ports(std::shared_ptr<const PortTable> next) {
  ports_.store(next.get(), std::memory_order_release);
  ports_retired_.retire(std::move(ports_owned_));
  ports_retired_.seal();
  ports_retired_.reclaim();
  ports_owned_ = std::move(next);
}

bool Ofproto::set_port_config(std::uint32_t ofport, std::uint32_t config) {
  std::vector<PortInfo> ports = port_infos_;
  const auto it = std::find_if(ports.begin(), ports.end(),
                               [&](const PortInfo& p) { return p.ofport == ofport; });
  if (it == ports.end()) return false;
  it->config = config;
  auto built = PortTable::build(ports);
  if (!built) return false;  // cannot happen: the same list was built before
  publish_ports(std::make_shared<const PortTable>(std::move(*built)));
  port_infos_ = std::move(ports);
  return true;
}

Result<void> Ofproto::set_ports(std::vector<PortInfo> ports, std::vector<MacTag>* flushed) {
  // By ofport (unique in both lists): a bridge may have 1,000 ports, so no scan per port.
  std::unordered_map<std::uint32_t, const PortInfo*> old_by_ofport, new_by_ofport;
  for (const PortInfo& o : port_infos_) old_by_ofport.emplace(o.ofport, &o);
  for (PortInfo& p : ports) {
    const auto old = old_by_ofport.find(p.ofport);
    p.config = old != old_by_ofport.end() && old->second->name == p.name ? old->second->config : 0;
    new_by_ofport.emplace(p.ofport, &p);
  }
  auto built = PortTable::build(ports);
  if (!built) return built.error();
  publish_ports(std::make_shared<const PortTable>(std::move(*built)));
  // Entries learned on ports that are gone or changed VLANs would send frames wrong.
  for (const PortInfo& old : port_infos_) {
    const auto now = new_by_ofport.find(old.ofport);
    if (now != new_by_ofport.end() && same_role(old, *now->second)) continue;
    auto tags = macs_.flush_port(old.ofport);
    if (flushed) flushed->insert(flushed->end(), tags.begin(), tags.end());
  }
  port_infos_ = std::move(ports);
  return {};
}

void Ofproto::set_fail_mode(FailMode m) {
  fail_mode_ = m;
  update_implied_rule();
}

void Ofproto::set_controller_connected(bool connected) {
  controller_connected_ = connected;
  update_implied_rule();
}

void Ofproto::update_implied_rule() {
  const RuleFilter implied{0, classifier::Match{}, /*strict=*/true, /*priority=*/0};
  const auto catch_all = tables_.select(implied);
  const bool ours = !catch_all.empty() && catch_all[0]->instructions() == normal_instructions();
  if (fail_mode_ == FailMode::kStandalone && !controller_connected_) {
    if (catch_all.empty()) {
      auto r = tables_.add(RuleSpec{0, classifier::Match{}, 0, 0, normal_instructions()});
      (void)r;  // a valid rule into table 0: cannot fail
    }
  } else if (ours) {
    // Remove the implied rule only if it is still the NORMAL rule (not a controller's).
    tables_.remove(implied);
  }
  tables_.publish();
}

XlateResult Ofproto::translate(const vsw_flow_key& key, bool may_learn,
                               std::vector<MacTag>* changed, XlateObserver* observer) {
  return consistent(may_learn, changed, observer,
                    [&](const XlateContext& ctx) { return xlate(ctx, key); });
}

XlateResult Ofproto::translate_actions(const vsw_flow_key& key,
                                       const std::vector<openflow::Action>& actions, bool may_learn,
                                       std::vector<MacTag>* changed) {
  return consistent(may_learn, changed, nullptr,
                    [&](const XlateContext& ctx) { return xlate_actions(ctx, key, actions); });
}

template <class Run>
XlateResult Ofproto::consistent(bool may_learn, std::vector<MacTag>* changed,
                                XlateObserver* observer, const Run& run) {
  // MAC changes are real even when an attempt is retried: collect them across attempts.
  std::vector<MacTag> learned;
  XlateResult r;
  for (unsigned attempt = 1;; ++attempt) {
    const bool last = attempt >= kMaxAttempts;
    const std::uint64_t seq = tables_.read_begin();
    if ((seq & 1) && !last) {  // a publish is under way: let it finish
      std::this_thread::yield();
      continue;
    }
    {
      classifier::Epoch::ReadGuard guard;
      const PortTable* ports = ports_.load(std::memory_order_acquire);
      const GroupSnapshot* groups = groups_.snapshot();
      const XlateContext ctx{tables_,  *ports, macs_, may_learn, changed ? &learned : nullptr,
                             observer, groups};
      r = run(ctx);
    }
    if (tables_.read_valid(seq)) break;
    retries_.fetch_add(1, std::memory_order_relaxed);
    if (last) {
      r.stable = false;
      unstable_.fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  if (changed) {
    std::sort(learned.begin(), learned.end());
    learned.erase(std::unique(learned.begin(), learned.end()), learned.end());
    changed->insert(changed->end(), learned.begin(), learned.end());
  }
  return r;
}

void Ofproto::reclaim() {
  tables_.reclaim();
  ports_retired_.reclaim();
  groups_.reclaim();
}

Ofproto::Stats Ofproto::stats() const {
  return Stats{retries_.load(std::memory_order_relaxed), unstable_.load(std::memory_order_relaxed)};
}

}  // namespace vsw::ofproto
