// NetlinkDpif implementation (see dpif_netlink.h). Each method builds its request with
// vsw_messages.h, lets NetlinkSocket run it, and parses the replies.
#include "dpif/dpif_netlink.h"

#include <cerrno>
#include <cstring>

#include "dpif/vsw_messages.h"

namespace vsw::dpif {

namespace {

bool is_enodev(const Error& e) {
  return e.code.value() == ENODEV;
}

// A callback that keeps the one object a request answers with.
template <class T>
NetlinkSocket::Callback keep(std::optional<T>& slot, Result<T> (*parse)(const nlmsghdr*)) {
  return [&slot, parse](const nlmsghdr* nlh) -> Result<void> {
    auto v = parse(nlh);
    if (!v) return v.error();
    slot = std::move(*v);
    return {};
  };
}

}  // namespace

Result<std::unique_ptr<NetlinkDpif>> NetlinkDpif::open() {
  auto sock = NetlinkSocket::open();
  if (!sock) return sock.error();
  std::uint16_t ids[4];
  const char* names[4] = {VSW_DATAPATH_FAMILY, VSW_VPORT_FAMILY, VSW_FLOW_FAMILY,
                          VSW_PACKET_FAMILY};
  for (int i = 0; i < 4; ++i) {
    auto id = sock->resolve_family(names[i]);
    if (!id) {
      if (id.error().code.value() == ENOENT)
        return make_error(ENOENT, std::string("the vsw kernel module is not loaded (no '") +
                                      names[i] + "' generic netlink family)");
      return id.error();
    }
    ids[i] = *id;
  }
  return std::unique_ptr<NetlinkDpif>(
      new NetlinkDpif(std::move(*sock), ids[0], ids[1], ids[2], ids[3]));
}

// ---- the datapath ifindex cache -------------------------------------------------------------
Result<int> NetlinkDpif::resolve(std::string_view dp, bool* cached) {
  if (auto it = ifindex_.find(dp); it != ifindex_.end()) {
    if (cached) *cached = true;
    return it->second;
  }
  if (cached) *cached = false;
  auto info = dp_get(dp);  // caches it
  if (!info) return info.error();
  return info->ifindex;
}

void NetlinkDpif::forget(std::string_view dp) {
  if (auto it = ifindex_.find(dp); it != ifindex_.end()) ifindex_.erase(it);
}

template <class F>
auto NetlinkDpif::with_dp(std::string_view dp, F&& f) -> decltype(f(0)) {
  bool cached = false;
  auto ifindex = resolve(dp, &cached);
  if (!ifindex) return ifindex.error();
  auto r = f(*ifindex);
  if (r.ok() || !is_enodev(r.error())) return r;
  forget(dp);
  if (!cached) return r;
  ifindex = resolve(dp);
  if (!ifindex) return ifindex.error();
  return f(*ifindex);
}

// ---- datapaths ----------------------------------------------------------------------------
Result<DatapathInfo> NetlinkDpif::dp_create(std::string_view name) {
  Request req = vsw_request(dp_family_, VSW_DP_CMD_NEW, NLM_F_ECHO, 0);
  req.put_strz(VSW_DP_ATTR_NAME, name);
  std::optional<DatapathInfo> info;
  auto r = sock_.transact(req, keep(info, parse_dp_reply));
  if (!r) return r.error();
  if (!info) return dp_get(name);
  ifindex_[std::string(name)] = info->ifindex;
  return *info;
}

Result<void> NetlinkDpif::dp_delete(std::string_view name) {
  forget(name);
  Request req = vsw_request(dp_family_, VSW_DP_CMD_DEL, 0, 0);
  req.put_strz(VSW_DP_ATTR_NAME, name);
  return sock_.transact(req);
}

Result<DatapathInfo> NetlinkDpif::dp_get(std::string_view name) {
  Request req = vsw_request(dp_family_, VSW_DP_CMD_GET, 0, 0);
  req.put_strz(VSW_DP_ATTR_NAME, name);
  std::optional<DatapathInfo> info;
  auto r = sock_.transact(req, keep(info, parse_dp_reply));
  if (!r) {
    if (is_enodev(r.error())) forget(name);
    return r.error();
  }
  if (!info) return make_error(EPROTO, "no reply to the datapath query");
  if (info->key_size != sizeof(vsw_flow_key))
    return make_error(EPROTO, "datapath '" + info->name + "' uses a " +
                                  std::to_string(info->key_size) +
                                  "-byte flow key but this program was built for " +
                                  std::to_string(sizeof(vsw_flow_key)) +
                                  " bytes: rebuild vsw-dpctl and vsw.ko from the same tree");
  if (info->version != VSW_PROTO_VERSION)
    return make_error(EPROTO, "datapath '" + info->name + "' speaks protocol version " +
                                  std::to_string(info->version) + ", this program version " +
                                  std::to_string(VSW_PROTO_VERSION));
  ifindex_[std::string(name)] = info->ifindex;
  return *info;
}

Result<std::vector<DatapathInfo>> NetlinkDpif::dp_list() {
  Request req = vsw_request(dp_family_, VSW_DP_CMD_GET, NLM_F_DUMP, 0);
  std::vector<DatapathInfo> out;
  auto r = sock_.transact(req, [&](const nlmsghdr* nlh) -> Result<void> {
    auto d = parse_dp_reply(nlh);
    if (!d) return d.error();
    out.push_back(std::move(*d));
    return {};
  });
  if (!r) return r.error();
  return out;
}

Result<void> NetlinkDpif::dp_set_upcall_pid(std::string_view dp, std::uint32_t pid) {
  Request req = dp_set_request(dp_family_, dp, pid, std::nullopt);
  return sock_.transact(req);
}

Result<void> NetlinkDpif::dp_set_upcall_pids(std::string_view dp,
                                             std::span<const std::uint32_t> pids) {
  // Strict validation would refuse an attribute the kernel does not know: ask first.
  auto info = dp_get(dp);
  if (!info) return info.error();
  if (!(info->features & VSW_DP_F_PER_CPU_UPCALLS)) {
    if (pids.empty()) return {};  // already off
    return make_error(ENOTSUP, "the vsw module does not support per-CPU upcall dispatch");
  }
  Request req = dp_set_request(dp_family_, dp, std::nullopt, pids);
  return sock_.transact(req);
}

// ---- ports ---------------------------------------------------------------------------------
Result<PortInfo> NetlinkDpif::port_add(std::string_view dp, std::string_view iface,
                                       std::optional<std::uint32_t> port_no,
                                       std::uint32_t upcall_pid) {
  return with_dp(dp, [&](int ifindex) -> Result<PortInfo> {
    Request req = vsw_request(vport_family_, VSW_VPORT_CMD_NEW, NLM_F_ECHO, ifindex);
    req.put_strz(VSW_VPORT_ATTR_NAME, iface);
    req.put_u32(VSW_VPORT_ATTR_TYPE, VSW_VPORT_TYPE_NETDEV);
    if (port_no) req.put_u32(VSW_VPORT_ATTR_PORT_NO, *port_no);
    if (upcall_pid) req.put_u32(VSW_VPORT_ATTR_UPCALL_PID, upcall_pid);
    std::optional<PortInfo> port;
    auto r = sock_.transact(req, keep(port, parse_port_reply));
    if (!r) return r.error();
    if (!port) {
      PortInfo p;
      p.name = std::string(iface);
      p.port_no = port_no.value_or(0);
      return p;
    }
    return *port;
  });
}

Result<void> NetlinkDpif::port_del(std::string_view dp, std::string_view iface) {
  return with_dp(dp, [&](int ifindex) -> Result<void> {
    Request req = vsw_request(vport_family_, VSW_VPORT_CMD_DEL, 0, ifindex);
    req.put_strz(VSW_VPORT_ATTR_NAME, iface);
    return sock_.transact(req);
  });
}

Result<std::vector<PortInfo>> NetlinkDpif::port_list(std::string_view dp) {
  return with_dp(dp, [&](int ifindex) -> Result<std::vector<PortInfo>> {
    Request req = vsw_request(vport_family_, VSW_VPORT_CMD_GET, NLM_F_DUMP, ifindex);
    std::vector<PortInfo> out;
    auto r = sock_.transact(req, [&](const nlmsghdr* nlh) -> Result<void> {
      auto p = parse_port_reply(nlh);
      if (!p) return p.error();
      out.push_back(std::move(*p));
      return {};
    });
    if (!r) return r.error();
    return out;
  });
}

Result<void> NetlinkDpif::port_set_upcall_pid(std::string_view dp, std::uint32_t port_no,
                                              std::uint32_t pid) {
  return with_dp(dp, [&](int ifindex) -> Result<void> {
    Request req = port_set_request(vport_family_, ifindex, port_no, pid);
    return sock_.transact(req);
  });
}

// ---- flows ---------------------------------------------------------------------------------
Result<void> NetlinkDpif::flow_request(Request& req, FlowEntry* out) {
  std::optional<FlowEntry> flow;
  auto r = out ? sock_.transact(req, keep(flow, parse_flow_reply)) : sock_.transact(req);
  if (!r) return r;
  if (out) {
    if (!flow) return make_error(EPROTO, "no flow in the kernel's reply");
    *out = std::move(*flow);
  }
  return {};
}

Result<void> NetlinkDpif::flow_put(std::string_view dp, const Match& match, const Actions& actions,
                                   FlowPut mode, bool clear_stats) {
  return with_dp(dp, [&](int ifindex) -> Result<void> {
    Request req = flow_put_request(flow_family_, ifindex, match, actions, mode, clear_stats);
    return flow_request(req, nullptr);
  });
}

Result<FlowEntry> NetlinkDpif::flow_get(std::string_view dp, const Match& match) {
  return with_dp(dp, [&](int ifindex) -> Result<FlowEntry> {
    Request req = vsw_request(flow_family_, VSW_FLOW_CMD_GET, 0, ifindex);
    put_match(req, match);
    FlowEntry e;
    auto r = flow_request(req, &e);
    if (!r) return r.error();
    return e;
  });
}

Result<FlowEntry> NetlinkDpif::flow_del(std::string_view dp, const Match& match) {
  return with_dp(dp, [&](int ifindex) -> Result<FlowEntry> {
    Request req = flow_del_request(flow_family_, ifindex, match);
    FlowEntry e;
    auto r = flow_request(req, &e);
    if (!r) return r.error();
    return e;
  });
}

Result<void> NetlinkDpif::flow_flush(std::string_view dp) {
  return with_dp(dp, [&](int ifindex) -> Result<void> {
    Request req = vsw_request(flow_family_, VSW_FLOW_CMD_DEL, 0, ifindex);
    return flow_request(req, nullptr);
  });
}

Result<void> NetlinkDpif::flow_dump(std::string_view dp,
                                    const std::function<void(const FlowEntry&)>& each) {
  // A dump that cannot start reports ENODEV in NLMSG_DONE before any flow: safe to retry.
  return with_dp(dp, [&](int ifindex) -> Result<void> {
    Request req = vsw_request(flow_family_, VSW_FLOW_CMD_GET, NLM_F_DUMP, ifindex);
    return sock_.transact(req, [&](const nlmsghdr* nlh) -> Result<void> {
      auto e = parse_flow_reply(nlh);
      if (!e) return e.error();
      each(*e);
      return {};
    });
  });
}

// ---- packets -------------------------------------------------------------------------------
Result<void> NetlinkDpif::execute(std::string_view dp, const vsw_flow_key& key,
                                  std::span<const std::uint8_t> packet, const Actions& actions) {
  return with_dp(dp, [&](int ifindex) -> Result<void> {
    Request req = execute_request(packet_family_, ifindex, key, packet, actions);
    return sock_.transact(req);
  });
}

// ---- batches -------------------------------------------------------------------------------
Result<void> NetlinkDpif::run_ops(int ifindex, std::span<Op> ops,
                                  const std::vector<std::size_t>& which) {
  std::vector<Request> reqs;
  std::vector<NetlinkSocket::Exchange> batch;
  reqs.reserve(which.size());  // the exchanges point into it: no reallocation
  batch.reserve(which.size());
  for (std::size_t i : which) {
    Op& op = ops[i];
    NetlinkSocket::Callback on_reply;
    if (auto* put = std::get_if<FlowPutOp>(&op.op)) {
      reqs.push_back(flow_put_request(flow_family_, ifindex, put->match, put->actions, put->mode,
                                      put->clear_stats));
    } else if (auto* del = std::get_if<FlowDelOp>(&op.op)) {
      del->stats.reset();
      reqs.push_back(flow_del_request(flow_family_, ifindex, del->match));
      on_reply = keep(del->stats, parse_flow_reply);
    } else {
      const auto& ex = std::get<ExecuteOp>(op.op);
      reqs.push_back(execute_request(packet_family_, ifindex, ex.key, ex.packet, ex.actions));
    }
    batch.push_back({&reqs.back(), std::move(on_reply), std::nullopt});
  }
  auto r = sock_.transact_batch(batch);
  for (std::size_t k = 0; k < which.size(); ++k) ops[which[k]].error = batch[k].error;
  return r;
}

Result<void> NetlinkDpif::operate(std::string_view dp, std::span<Op> ops) {
  for (Op& op : ops) op.error.reset();
  if (ops.empty()) return {};
  auto fail_all = [&](const std::vector<std::size_t>& which, const Error& e) {
    for (std::size_t i : which) ops[i].error = e;
  };
  std::vector<std::size_t> which(ops.size());
  for (std::size_t i = 0; i < ops.size(); ++i) which[i] = i;

  bool cached = false;
  auto ifindex = resolve(dp, &cached);
  if (!ifindex) {
    if (!is_enodev(ifindex.error())) return ifindex.error();
    fail_all(which, ifindex.error());
    return {};
  }
  if (auto r = run_ops(*ifindex, ops, which); !r) return r;

  // ENODEV: the datapath behind the ifindex is gone; nothing ran for those ops.
  std::vector<std::size_t> again;
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (ops[i].error && is_enodev(*ops[i].error)) again.push_back(i);
  if (again.empty()) return {};
  forget(dp);
  if (!cached) return {};
  ifindex = resolve(dp);
  if (!ifindex) {
    if (!is_enodev(ifindex.error())) return ifindex.error();
    fail_all(again, ifindex.error());
    return {};
  }
  return run_ops(*ifindex, ops, again);
}

}  // namespace vsw::dpif
