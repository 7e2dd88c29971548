// Bridge (see bridge.h).
#include "vswd/bridge.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <set>
#include <unordered_map>
#include <utility>

#include "ofswitch/inspect.h"
#include "openflow/actions.h"
#include "util/log.h"

namespace vsw::vswd {

namespace {
ofproto::PortInfo port_info(const config::Port& p, bool up,
                            const std::array<std::uint8_t, 6>& mac) {
  ofproto::PortInfo pi;
  pi.ofport = p.ofport();
  pi.name = p.name();
  pi.vlan_mode = p.vlan_mode() == config::Port::ACCESS ? ofproto::VlanMode::kAccess
                                                       : ofproto::VlanMode::kTrunk;
  pi.tag = static_cast<std::uint16_t>(p.tag());
  for (std::uint32_t v : p.trunks()) pi.trunks.push_back(static_cast<std::uint16_t>(v));
  pi.up = up;
  pi.hw_addr = mac;
  return pi;
}

std::string mac_text(const std::array<std::uint8_t, 6>& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return buf;
}
}  // namespace

Bridge::Bridge(std::string name, boost::asio::io_context& io, dpif::Dpif& control,
               const LinkMonitor& links, upcall::Udpif::DpifFactory factory)
    : name_(std::move(name)),
      io_(io),
      control_(control),
      links_(links),
      factory_(std::move(factory)) {}

Bridge::~Bridge() {
  if (packet_ins_) packet_ins_->close();  // packets still posted are not delivered
  connmgr_.reset();                       // closes the OpenFlow connections before the threads stop
  if (udpif_) udpif_->stop();
}

void Bridge::configure_openflow() {
  if (!agent_ || !connmgr_) return;  // not opened
  agent_->set_datapath_id(cfg_.has_datapath_id() ? cfg_.datapath_id()
                                                 : ofswitch::derived_datapath_id(name_));
  std::vector<std::string> targets;
  for (const config::Controller& c : cfg_.controllers()) targets.push_back(c.target());
  connmgr_->set_targets(targets);
}

Result<void> Bridge::open(const config::Bridge& cfg, const BridgeSettings& s) {
  auto existing = control_.dp_get(name_);
  if (existing) {
    log::info("%s: reusing the existing datapath (its %llu flows stay cached)", name_.c_str(),
              static_cast<unsigned long long>(existing->stats.n_flows));
  } else if (existing.error().code.value() == ENODEV || existing.error().code.value() == ENOENT) {
    auto created = control_.dp_create(name_);
    if (!created) return created.error();
    log::info("%s: created datapath", name_.c_str());
  } else {
    return existing.error();
  }
  ofproto::Ofproto::Options o;
  o.mac_table_size = s.mac_table_size;
  o.mac_aging_s = s.mac_aging_s;
  o.fail_mode = cfg.fail_mode() == config::Bridge::SECURE ? ofproto::FailMode::kSecure
                                                          : ofproto::FailMode::kStandalone;
  ofproto_ = std::make_unique<ofproto::Ofproto>(o);
  set_config(cfg);
  settings_ = s;
  upcall::Options uo;
  uo.n_handlers = s.n_handlers;
  uo.n_revalidators = s.n_revalidators;
  uo.flow_limit = s.flow_limit;
  uo.idle_ms = s.idle_timeout_ms;
  udpif_ = std::make_unique<upcall::Udpif>(name_, *ofproto_, factory_, uo);
  // Packets for the controllers: from the handlers to this thread, bounded (dropped and
  // counted when full), then to every connection that wants them.
  packet_ins_ = upcall::PacketInQueue::create(io_, [this](ofproto::ControllerPacket&& p) {
    if (connmgr_) connmgr_->packet_in(p);
  });
  udpif_->set_packet_in(
      [q = packet_ins_](ofproto::ControllerPacket&& p) { return q->offer(std::move(p)); });
  // Ports first (so the MAC table and port set are right), then the threads.
  reconcile();
  if (auto r = udpif_->start(); !r) return r.error();
  reconcile();  // now with the handlers' upcall pids
  ofswitch::Agent::Hooks hooks;
  hooks.rules_changed = [this] { udpif_->revalidate_all(); };
  // PACKET_OUT: this thread owns control_, the daemon's datapath channel for such calls.
  hooks.execute = [this](const vsw_flow_key& key, const dpif::Actions& actions,
                         std::span<const std::uint8_t> packet) {
    return control_.execute(name_, key, packet, actions);
  };
  hooks.macs_changed = [this](const std::vector<ofproto::MacTag>& tags) {
    udpif_->revalidate_tags(tags);
  };
  attached_since_[openflow::port::kLocal] = ofproto::steady_ms();
  hooks.port_stats = [this] {
    std::vector<ofswitch::PortCounters> out;
    auto ports = control_.port_list(name_);
    if (!ports) return out;
    for (const dpif::PortInfo& p : *ports) {
      const std::uint32_t ofport = p.port_no == VSW_PORT_LOCAL ? openflow::port::kLocal : p.port_no;
      if (ofport != openflow::port::kLocal && !attached_.contains(p.port_no)) continue;
      out.push_back({ofport, p.stats, attached_since_[ofport]});
    }
    return out;
  };
  // PORT_MOD's PORT_DOWN turns the interface down, as Open vSwitch does; the link event
  // that follows updates the port's state like any other.
  hooks.set_link = [this](const ofproto::PortInfo& p, bool up) {
    return links_.set_up(p.name, up);
  };
  agent_ = std::make_unique<ofswitch::Agent>(*ofproto_, name_, std::move(hooks));
  if (auto dp = control_.dp_get(name_)) agent_->set_datapath_features(dp->features);
  connmgr_ = std::make_unique<ofswitch::ConnMgr>(io_, *agent_, [this](bool connected) {
    log::info("%s: %s", name_.c_str(),
              connected ? "a controller connected" : "no controller connected any more");
    ofproto_->set_controller_connected(connected);
    udpif_->revalidate_all();
  });
  if (!s.service_dir.empty()) {
    const std::string path = s.service_dir + "/" + name_ + ".mgmt";
    if (auto ec = connmgr_->set_service(path))
      log::warn("%s: no OpenFlow service socket %s: %s", name_.c_str(), path.c_str(),
                ec.message().c_str());
  }
  configure_openflow();
  return {};
}

void Bridge::configure(const config::Bridge& cfg, const BridgeSettings& s) {
  const bool mode_changed = cfg.fail_mode() != cfg_.fail_mode();
  set_config(cfg);
  if (s.mac_aging_s != settings_.mac_aging_s) ofproto_->macs().set_aging(s.mac_aging_s);
  if (s.mac_table_size != settings_.mac_table_size) {
    auto evicted = ofproto_->macs().set_capacity(s.mac_table_size);
    if (!evicted.empty()) udpif_->revalidate_tags(evicted);
  }
  if (s.flow_limit != settings_.flow_limit || s.idle_timeout_ms != settings_.idle_timeout_ms)
    udpif_->set_limits(s.flow_limit, s.idle_timeout_ms);
  settings_ = s;
  if (mode_changed) {
    ofproto_->set_fail_mode(cfg.fail_mode() == config::Bridge::SECURE
                                ? ofproto::FailMode::kSecure
                                : ofproto::FailMode::kStandalone);
    udpif_->revalidate_all();
  }
  configure_openflow();
  update_ports();
}

void Bridge::set_config(const config::Bridge& cfg) {
  cfg_ = cfg;
  link_names_.clear();
  link_names_.insert(name_);
  for (const config::Port& p : cfg_.ports()) link_names_.insert(p.name());
}

bool Bridge::uses(const LinkNames& names) const {
  const auto in = [](const auto& set) {
    return [&set](const std::string& n) { return set.contains(n); };
  };
  // Walks the smaller set: an event batch names a few links, a bridge may have 1,000 ports.
  if (names.size() > link_names_.size()) return std::ranges::any_of(link_names_, in(names));
  return std::ranges::any_of(names, in(link_names_));
}

void Bridge::reconcile() {
  ++reconciles_;
  auto kports = control_.port_list(name_);
  if (!kports) {
    log::warn("%s: cannot list datapath ports: %s", name_.c_str(),
              kports.error().to_string().c_str());
    return;
  }
  std::map<std::uint32_t, dpif::PortInfo> by_no;
  for (auto& p : *kports) by_no[p.port_no] = p;

  std::set<std::uint32_t> wanted;
  why_detached_.clear();
  for (const config::Port& p : cfg_.ports()) {
    wanted.insert(p.ofport());
    auto it = by_no.find(p.ofport());
    if (it != by_no.end() && it->second.name != p.name()) {
      // Another interface sits on this number (config changed): detach it.
      (void)control_.port_del(name_, it->second.name);
      by_no.erase(it);
      it = by_no.end();
    }
    if (it == by_no.end()) {
      if (attach(p)) by_no[p.ofport()].name = p.name();
    } else if (const std::uint32_t pid = upcall_pid(p.ofport());
               pid && it->second.upcall_pid != pid) {
      (void)control_.port_set_upcall_pid(name_, p.ofport(), pid);
    }
  }
  for (auto it = by_no.begin(); it != by_no.end();) {
    const auto& [no, p] = *it;
    if (no == VSW_PORT_LOCAL || wanted.contains(no)) {
      ++it;
      continue;
    }
    if (auto r = control_.port_del(name_, p.name); r)
      log::info("%s: detached %s (not configured)", name_.c_str(), p.name.c_str());
    it = by_no.erase(it);
  }

  std::vector<std::uint32_t> attached;
  for (const auto& [no, p] : by_no)
    if (no != VSW_PORT_LOCAL) attached.push_back(no);
  publish_ports(attached);
}

std::uint32_t Bridge::upcall_pid(std::uint32_t ofport) const {
  return udpif_ ? udpif_->port_pid(ofport) : 0;  // 0 while no handler runs
}

void Bridge::update_ports() {
  // What the datapath holds is known from the last reconcile and the link events since
  // (attached_); only the ports this change touched go to the kernel, so a new port is
  // one port_add, not a dump of every datapath port. An ofport that now names another
  // interface than the one attached there is detached first.
  std::unordered_map<std::uint32_t, const config::Port*> wanted;
  wanted.reserve(static_cast<std::size_t>(cfg_.ports_size()));
  for (const config::Port& p : cfg_.ports()) wanted.emplace(p.ofport(), &p);
  std::vector<std::uint32_t> attached;
  attached.reserve(wanted.size());
  for (const auto& [no, name] : attached_) {
    auto w = wanted.find(no);
    if (w != wanted.end() && w->second->name() == name) {
      attached.push_back(no);
      continue;
    }
    if (auto r = control_.port_del(name_, name);
        !r && r.error().code.value() != ENODEV && r.error().code.value() != ENOENT) {
      // Not what the datapath holds after all: let the whole reconcile sort it out.
      reconcile();
      return;
    }
    log::info("%s: detached %s (not configured)", name_.c_str(), name.c_str());
  }
  why_detached_.clear();
  for (const config::Port& p : cfg_.ports()) {
    auto a = attached_.find(p.ofport());
    if (a != attached_.end() && a->second == p.name()) continue;
    if (!attach(p)) continue;
    attached.push_back(p.ofport());
  }
  publish_ports(attached);
}

bool Bridge::attach(const config::Port& p) {
  if (!links_.find(p.name())) {
    why_detached_[p.name()] = "no such interface";
    return false;
  }
  auto added = control_.port_add(name_, p.name(), p.ofport(), upcall_pid(p.ofport()));
  if (!added) {
    why_detached_[p.name()] = added.error().to_string();
    log::rate_limited(log::Level::kWarn, "port-add", "%s: cannot attach %s: %s", name_.c_str(),
                      p.name().c_str(), added.error().to_string().c_str());
    return false;
  }
  log::info("%s: attached %s as port %u", name_.c_str(), p.name().c_str(), p.ofport());
  return true;
}

void Bridge::links_changed(const LinkNames& names) {
  // When every named port is attached and its interface still there, only link states
  // (up, MAC) can have changed: the ports are published again without a datapath dump
  // (the common case: attaching a port changes its interface's flags). Anything else
  // (an interface appeared, went, or was renamed) needs the whole reconcile.
  for (const config::Port& p : cfg_.ports()) {
    if (!names.contains(p.name())) continue;
    auto a = attached_.find(p.ofport());
    if (a == attached_.end() || a->second != p.name() || !links_.find(p.name())) {
      reconcile();
      return;
    }
  }
  std::vector<std::uint32_t> attached;
  attached.reserve(attached_.size());
  for (const auto& [no, name] : attached_) attached.push_back(no);
  publish_ports(attached);
}

void Bridge::publish_ports(const std::vector<std::uint32_t>& attached) {
  // The ports NORMAL may use: attached and up, plus the bridge's local port.
  std::vector<std::uint32_t> live{VSW_PORT_LOCAL};
  live.insert(live.end(), attached.begin(), attached.end());
  if (udpif_) udpif_->set_ports(live);
  const std::set<std::uint32_t> is_attached(attached.begin(), attached.end());
  std::vector<ofproto::PortInfo> ports;
  const std::map<std::uint32_t, std::string> before = std::move(attached_);
  attached_.clear();
  const std::int64_t now = ofproto::steady_ms();
  for (const config::Port& p : cfg_.ports()) {
    if (!is_attached.contains(p.ofport())) continue;
    auto link = links_.find(p.name());
    const bool up = link && link->up;
    attached_[p.ofport()] = p.name();
    if (auto b = before.find(p.ofport()); b == before.end() || b->second != p.name())
      attached_since_[p.ofport()] = now;
    const std::array<std::uint8_t, 6> mac = link ? link->mac : std::array<std::uint8_t, 6>{};
    ports.push_back(port_info(p, up, mac));
  }
  auto local = links_.find(name_);
  ofproto::PortInfo lp;
  lp.ofport = openflow::port::kLocal;
  lp.name = name_;
  lp.vlan_mode = ofproto::VlanMode::kAccess;
  lp.tag = 0;
  lp.up = local && local->up;
  if (local) lp.hw_addr = local->mac;
  ports.push_back(lp);
  if (!ports_set_ || ports != ports_) {
    ports_set_ = true;
    ports_ = ports;
    if (auto r = ofproto_->set_ports(std::move(ports)); !r)
      log::error("%s: port list refused: %s", name_.c_str(), r.error().to_string().c_str());
    if (udpif_) udpif_->revalidate_all();
    if (connmgr_) connmgr_->ports_changed();  // PORT_STATUS ADD, DELETE, MODIFY (link up/down)
  }
  ofproto_->reclaim();  // frees retired rules and port lists no translation can see
}

void Bridge::destroy() {
  if (packet_ins_) packet_ins_->close();
  connmgr_.reset();
  if (udpif_) udpif_->stop();
  udpif_.reset();
  if (auto r = control_.dp_delete(name_); !r)
    log::warn("%s: cannot delete the datapath: %s", name_.c_str(), r.error().to_string().c_str());
  else
    log::info("%s: deleted datapath", name_.c_str());
}

void Bridge::status(config::BridgeStatus& out) {
  auto kports = control_.port_list(name_);
  std::map<std::string, dpif::PortInfo> by_name;
  if (kports)
    for (auto& p : *kports) by_name[p.name] = p;
  auto fill = [&](config::PortStatus& ps, const std::string& name) {
    auto link = links_.find(name);
    ps.set_ifindex(link ? static_cast<std::uint32_t>(link->ifindex) : 0);
    ps.set_link_up(link && link->up);
    auto it = by_name.find(name);
    ps.set_attached(it != by_name.end());
    if (it != by_name.end()) ps.set_dp_port(it->second.port_no);
    auto why = why_detached_.find(name);
    if (it == by_name.end() && why != why_detached_.end()) ps.set_reason(why->second);
  };
  fill(*out.mutable_local(), name_);
  if (connmgr_) {
    const auto targets = connmgr_->status();
    for (auto& cs : *out.mutable_controllers()) {
      for (const auto& t : targets) {
        if (t.target != cs.target()) continue;
        cs.set_connected(t.connected);
        cs.set_state(t.state);
        cs.set_role(t.role);
      }
    }
  }
  for (auto& ps : *out.mutable_ports()) fill(ps, ps.name());
  auto dp = control_.dp_get(name_);
  auto* st = out.mutable_datapath();
  st->set_present(dp.ok());
  if (dp) {
    st->set_hit(dp->stats.n_hit);
    st->set_missed(dp->stats.n_missed);
    st->set_lost(dp->stats.n_lost);
    st->set_flows(dp->stats.n_flows);
    st->set_masks(dp->stats.n_masks);
  }
}

void Bridge::fdb(config::FdbReply& out) {
  for (const auto& e : ofproto_->macs().dump()) {
    auto* fe = out.add_entries();
    fe->set_port(e.port);
    fe->set_vlan(e.tag.vlan);
    fe->set_mac(mac_text(e.tag.mac));
    fe->set_age_s(static_cast<std::uint32_t>(e.age_ms / 1000));
  }
}

Result<void> Bridge::trace(const std::string& flow, config::TraceReply& out) {
  if (agent_) agent_->flush();  // rule changes still staged apply to this packet too
  return ofswitch::trace_reply(*ofproto_, flow, out);
}

void Bridge::dump_flows(config::DumpFlowsReply& out) {
  if (agent_) agent_->flush();  // as for a FLOW stats request
  ofswitch::dump_flows_reply(ofproto_->tables(), ofproto::steady_ms(), out);
}

upcall::Counters Bridge::counters() const {
  return udpif_ ? udpif_->counters() : upcall::Counters{};
}

std::uint64_t Bridge::packet_ins_sent() const {
  return agent_ ? agent_->packet_ins_sent() : 0;
}

std::uint64_t Bridge::packet_ins_congested() const {
  return connmgr_ ? connmgr_->packet_ins_congested() : 0;
}

ofproto::MacLearning::Stats Bridge::mac_stats() const {
  return ofproto_ ? ofproto_->macs().stats() : ofproto::MacLearning::Stats{};
}

}  // namespace vsw::vswd
