// FakeDpif implementation (see dpif_fake.h).
#include "dpif/dpif_fake.h"

#include <algorithm>
#include <cerrno>

namespace vsw::dpif {

Result<FakeDpif::Dp*> FakeDpif::find(std::string_view name) {
  auto it = dps_.find(name);
  if (it == dps_.end()) return make_error(ENODEV, "no datapath named '" + std::string(name) + "'");
  return &it->second;
}

FlowEntry* FakeDpif::find_flow(Dp& dp, const Match& match) {
  Match m = match;
  m.normalize();
  for (auto& f : dp.flows)
    if (f.match == m) return &f;
  return nullptr;
}

Result<DatapathInfo> FakeDpif::dp_create(std::string_view name) {
  if (dps_.count(name)) return make_error(EEXIST, "a device with this name exists");
  Dp dp;
  dp.info.name = std::string(name);
  dp.info.ifindex = next_ifindex_++;
  dp.info.version = VSW_PROTO_VERSION;
  dp.info.key_size = sizeof(vsw_flow_key);
  dp.info.features = features;
  dp.info.max_flows = max_flows;
  dp.info.max_masks = max_masks;
  PortInfo local;
  local.name = dp.info.name;
  local.type = VSW_VPORT_TYPE_INTERNAL;
  local.ifindex = static_cast<std::uint32_t>(dp.info.ifindex);
  dp.ports[0] = local;
  auto info = dp.info;
  dps_.emplace(std::string(name), std::move(dp));
  return info;
}

Result<void> FakeDpif::dp_delete(std::string_view name) {
  auto dp = find(name);
  if (!dp) return dp.error();
  dps_.erase(dps_.find(name));
  return {};
}

Result<DatapathInfo> FakeDpif::dp_get(std::string_view name) {
  auto dp = find(name);
  if (!dp) return dp.error();
  DatapathInfo info = (*dp)->info;
  info.stats.n_flows = (*dp)->flows.size();
  return info;
}

Result<std::vector<DatapathInfo>> FakeDpif::dp_list() {
  std::vector<DatapathInfo> out;
  for (auto& [name, dp] : dps_) out.push_back(*dp_get(name));
  return out;
}

Result<void> FakeDpif::dp_set_upcall_pid(std::string_view dpname, std::uint32_t pid) {
  auto dp = find(dpname);
  if (!dp) return dp.error();
  (*dp)->info.upcall_pid = pid;
  (*dp)->ports[VSW_PORT_LOCAL].upcall_pid = pid;
  return {};
}

Result<void> FakeDpif::dp_set_upcall_pids(std::string_view dpname,
                                          std::span<const std::uint32_t> pids) {
  auto dp = find(dpname);
  if (!dp) return dp.error();
  DatapathInfo& info = (*dp)->info;
  if (!(info.features & VSW_DP_F_PER_CPU_UPCALLS)) {
    if (pids.empty()) return {};
    return make_error(ENOTSUP, "the vsw module does not support per-CPU upcall dispatch");
  }
  for (std::uint32_t pid : pids)
    if (pid == 0) return make_error(EINVAL, "per-CPU pids: pid 0 is not a socket");
  info.per_cpu_pids.assign(pids.begin(), pids.end());
  return {};
}

Result<PortInfo> FakeDpif::port_add(std::string_view dpname, std::string_view iface,
                                    std::optional<std::uint32_t> port_no,
                                    std::uint32_t upcall_pid) {
  auto dp = find(dpname);
  if (!dp) return dp.error();
  auto& ports = (*dp)->ports;
  for (auto& [n, p] : ports)
    if (p.name == iface) return make_error(EBUSY, "device is already attached");
  std::uint32_t no = 1;
  if (port_no) {
    if (ports.count(*port_no)) return make_error(EEXIST, "port number in use");
    no = *port_no;
  } else {
    while (ports.count(no)) ++no;
  }
  PortInfo p;
  p.port_no = no;
  p.name = std::string(iface);
  p.type = VSW_VPORT_TYPE_NETDEV;
  p.upcall_pid = upcall_pid;
  p.ifindex = static_cast<std::uint32_t>(next_ifindex_++);
  ports[no] = p;
  return p;
}

Result<void> FakeDpif::port_del(std::string_view dpname, std::string_view iface) {
  auto dp = find(dpname);
  if (!dp) return dp.error();
  auto& ports = (*dp)->ports;
  for (auto it = ports.begin(); it != ports.end(); ++it) {
    if (it->second.name != iface) continue;
    if (it->first == VSW_PORT_LOCAL)
      return make_error(EINVAL, "port 0 cannot be deleted; delete the datapath");
    ports.erase(it);
    return {};
  }
  return make_error(ENOENT, "no such port");
}

Result<std::vector<PortInfo>> FakeDpif::port_list(std::string_view dpname) {
  auto dp = find(dpname);
  if (!dp) return dp.error();
  std::vector<PortInfo> out;
  for (auto& [n, p] : (*dp)->ports) out.push_back(p);
  return out;
}

Result<void> FakeDpif::port_set_upcall_pid(std::string_view dpname, std::uint32_t port_no,
                                           std::uint32_t pid) {
  auto dp = find(dpname);
  if (!dp) return dp.error();
  auto it = (*dp)->ports.find(port_no);
  if (it == (*dp)->ports.end()) return make_error(ENOENT, "no such port");
  it->second.upcall_pid = pid;
  if (port_no == VSW_PORT_LOCAL) (*dp)->info.upcall_pid = pid;
  return {};
}

Result<void> FakeDpif::flow_put(std::string_view dpname, const Match& match, const Actions& actions,
                                FlowPut mode, bool clear_stats) {
  auto dp = find(dpname);
  if (!dp) return dp.error();
  FlowEntry* f = find_flow(**dp, match);
  if (mode == FlowPut::kCreate) {
    if (f) return make_error(EEXIST, "flow exists");
    FlowEntry e;
    e.match = match;
    e.match.normalize();
    e.actions = actions;
    e.id = (*dp)->next_id++;
    (*dp)->flows.push_back(std::move(e));
    return {};
  }
  if (!f) return make_error(ENOENT, "no such flow");
  f->actions = actions;
  if (clear_stats) {
    f->packets = f->bytes = 0;
    f->used_ms.reset();
    f->tcp_flags = 0;
  }
  return {};
}

Result<FlowEntry> FakeDpif::flow_get(std::string_view dpname, const Match& match) {
  auto dp = find(dpname);
  if (!dp) return dp.error();
  FlowEntry* f = find_flow(**dp, match);
  if (!f) return make_error(ENOENT, "no such flow");
  return *f;
}

Result<FlowEntry> FakeDpif::flow_del(std::string_view dpname, const Match& match) {
  auto dp = find(dpname);
  if (!dp) return dp.error();
  FlowEntry* f = find_flow(**dp, match);
  if (!f) return make_error(ENOENT, "no such flow");
  FlowEntry copy = *f;
  auto& flows = (*dp)->flows;
  flows.erase(flows.begin() + (f - flows.data()));
  return copy;
}

Result<void> FakeDpif::flow_flush(std::string_view dpname) {
  auto dp = find(dpname);
  if (!dp) return dp.error();
  (*dp)->flows.clear();
  return {};
}

Result<void> FakeDpif::flow_dump(std::string_view dpname,
                                 const std::function<void(const FlowEntry&)>& each) {
  auto dp = find(dpname);
  if (!dp) return dp.error();
  for (const auto& f : (*dp)->flows) each(f);
  return {};
}

Result<void> FakeDpif::execute(std::string_view dpname, const vsw_flow_key& key,
                               std::span<const std::uint8_t> packet, const Actions& actions) {
  auto dp = find(dpname);
  if (!dp) return dp.error();
  if (packet.size() < 14) return make_error(EINVAL, "packet shorter than an Ethernet header");
  if (key.in_port >= VSW_MAX_PORTS) return make_error(EINVAL, "key in_port out of range");
  executions.push_back({std::string(dpname), key, {packet.begin(), packet.end()}, actions});
  ++executed;
  return {};
}

Result<void> FakeDpif::operate(std::string_view dpname, std::span<Op> ops) {
  ++operate_calls;
  for (Op& op : ops) op.error.reset();
  if (operate_error) {
    for (Op& op : ops) op.error = *operate_error;
    return *operate_error;
  }
  for (Op& op : ops) {
    Result<void> r;
    if (auto* put = std::get_if<FlowPutOp>(&op.op)) {
      r = flow_put(dpname, put->match, put->actions, put->mode, put->clear_stats);
    } else if (auto* del = std::get_if<FlowDelOp>(&op.op)) {
      del->stats.reset();
      auto e = flow_del(dpname, del->match);
      if (e)
        del->stats = std::move(*e);
      else
        r = e.error();
    } else {
      const auto& ex = std::get<ExecuteOp>(op.op);
      r = execute(dpname, ex.key, ex.packet, ex.actions);
    }
    if (!r) op.error = r.error();
  }
  return {};
}

bool FakeDpif::hit(std::string_view dpname, const Match& match, std::uint64_t packets,
                   std::uint64_t bytes) {
  auto dp = find(dpname);
  if (!dp) return false;
  FlowEntry* f = find_flow(**dp, match);
  if (!f) return false;
  f->packets += packets;
  f->bytes += bytes;
  f->used_ms = 100;
  return true;
}

}  // namespace vsw::dpif
