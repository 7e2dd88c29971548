// NetlinkDpif implementation (see dpif_netlink.h). Each method builds one request with the
// vsw_header naming the datapath, lets NetlinkSocket run it, and parses replies one
// nesting level at a time.
#include "dpif/dpif_netlink.h"

#include <cerrno>
#include <cstring>

#include "dpif/netlink_codec.h"

namespace vsw::dpif {

namespace {

constexpr std::size_t kAttrOffset = sizeof(genlmsghdr) + sizeof(vsw_header);

int header_ifindex(const nlmsghdr* nlh) {
  vsw_header h{};
  if (mnl_nlmsg_get_payload_len(nlh) >= kAttrOffset)
    std::memcpy(&h, static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + sizeof(genlmsghdr),
                sizeof h);
  return h.dp_ifindex;
}

void put_header(Request& req, int dp_ifindex) {
  auto* h = static_cast<vsw_header*>(req.put_extra(sizeof(vsw_header)));
  h->dp_ifindex = dp_ifindex;
}

std::string name_of(std::string_view s) {
  return std::string(s);
}

Result<DatapathInfo> parse_dp(const nlmsghdr* nlh) {
  DatapathInfo info;
  info.ifindex = header_ifindex(nlh);
  for (const nlattr* a : msg_attrs(nlh, kAttrOffset)) {
    switch (mnl_attr_get_type(a)) {
      case VSW_DP_ATTR_NAME:
        if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) info.name = mnl_attr_get_str(a);
        break;
      case VSW_DP_ATTR_UPCALL_PID:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) info.upcall_pid = mnl_attr_get_u32(a);
        break;
      case VSW_DP_ATTR_VERSION:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) info.version = mnl_attr_get_u32(a);
        break;
      case VSW_DP_ATTR_KEY_SIZE:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) info.key_size = mnl_attr_get_u32(a);
        break;
      case VSW_DP_ATTR_STATS:
        if (mnl_attr_get_payload_len(a) >= sizeof info.stats)
          std::memcpy(&info.stats, mnl_attr_get_payload(a), sizeof info.stats);
        break;
      default:
        break;
    }
  }
  return info;
}

Result<PortInfo> parse_port(const nlmsghdr* nlh) {
  PortInfo p;
  for (const nlattr* a : msg_attrs(nlh, kAttrOffset)) {
    switch (mnl_attr_get_type(a)) {
      case VSW_VPORT_ATTR_PORT_NO:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) p.port_no = mnl_attr_get_u32(a);
        break;
      case VSW_VPORT_ATTR_TYPE:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) p.type = mnl_attr_get_u32(a);
        break;
      case VSW_VPORT_ATTR_NAME:
        if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) p.name = mnl_attr_get_str(a);
        break;
      case VSW_VPORT_ATTR_UPCALL_PID:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) p.upcall_pid = mnl_attr_get_u32(a);
        break;
      case VSW_VPORT_ATTR_IFINDEX:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) p.ifindex = mnl_attr_get_u32(a);
        break;
      case VSW_VPORT_ATTR_STATS:
        if (mnl_attr_get_payload_len(a) >= sizeof p.stats)
          std::memcpy(&p.stats, mnl_attr_get_payload(a), sizeof p.stats);
        break;
      default:
        break;
    }
  }
  return p;
}

Result<FlowEntry> parse_flow(const nlmsghdr* nlh) {
  FlowEntry e;
  bool have_key = false, have_mask = false;
  for (const nlattr* a : msg_attrs(nlh, kAttrOffset)) {
    switch (mnl_attr_get_type(a)) {
      case VSW_FLOW_ATTR_KEY: {
        auto k = parse_key_attr(a);
        if (!k) return k.error();
        e.match.key = *k;
        have_key = true;
        break;
      }
      case VSW_FLOW_ATTR_MASK: {
        auto k = parse_key_attr(a);
        if (!k) return k.error();
        e.match.mask = *k;
        have_mask = true;
        break;
      }
      case VSW_FLOW_ATTR_ACTIONS: {
        auto acts = parse_actions_attr(a);
        if (!acts) return acts.error();
        e.actions = std::move(*acts);
        break;
      }
      case VSW_FLOW_ATTR_STATS: {
        vsw_flow_stats st{};
        if (mnl_attr_get_payload_len(a) >= sizeof st) {
          std::memcpy(&st, mnl_attr_get_payload(a), sizeof st);
          e.packets = st.n_packets;
          e.bytes = st.n_bytes;
        }
        break;
      }
      case VSW_FLOW_ATTR_TCP_FLAGS:
        if (mnl_attr_validate(a, MNL_TYPE_U16) == 0) e.tcp_flags = mnl_attr_get_u16(a);
        break;
      case VSW_FLOW_ATTR_USED:
        if (mnl_attr_validate(a, MNL_TYPE_U64) == 0) e.used_ms = mnl_attr_get_u64(a);
        break;
      case VSW_FLOW_ATTR_ID:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) e.id = mnl_attr_get_u32(a);
        break;
      default:
        break;
    }
  }
  if (!have_key) return make_error(EPROTO, "flow reply without a key");
  if (!have_mask) std::memset(&e.match.mask, 0xff, sizeof e.match.mask);
  e.match.normalize();
  return e;
}

void put_match(nlmsghdr* nlh, const Match& match) {
  Match m = match;
  m.normalize();
  mnl_attr_put(nlh, VSW_FLOW_ATTR_KEY, sizeof m.key, &m.key);
  mnl_attr_put(nlh, VSW_FLOW_ATTR_MASK, sizeof m.mask, &m.mask);
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

// ---- datapaths ----------------------------------------------------------------------------
Result<DatapathInfo> NetlinkDpif::dp_create(std::string_view name) {
  Request req(dp_family_, VSW_DP_CMD_NEW, VSW_PROTO_VERSION, NLM_F_ECHO);
  put_header(req, 0);
  mnl_attr_put_strz(req.nlh(), VSW_DP_ATTR_NAME, name_of(name).c_str());
  std::optional<DatapathInfo> info;
  auto r = sock_.transact(req, [&](const nlmsghdr* nlh) -> Result<void> {
    auto d = parse_dp(nlh);
    if (!d) return d.error();
    info = std::move(*d);
    return {};
  });
  if (!r) return r.error();
  if (!info) return dp_get(name);
  return *info;
}

Result<void> NetlinkDpif::dp_delete(std::string_view name) {
  Request req(dp_family_, VSW_DP_CMD_DEL, VSW_PROTO_VERSION, 0);
  put_header(req, 0);
  mnl_attr_put_strz(req.nlh(), VSW_DP_ATTR_NAME, name_of(name).c_str());
  return sock_.transact(req);
}

Result<DatapathInfo> NetlinkDpif::dp_get(std::string_view name) {
  Request req(dp_family_, VSW_DP_CMD_GET, VSW_PROTO_VERSION, 0);
  put_header(req, 0);
  mnl_attr_put_strz(req.nlh(), VSW_DP_ATTR_NAME, name_of(name).c_str());
  std::optional<DatapathInfo> info;
  auto r = sock_.transact(req, [&](const nlmsghdr* nlh) -> Result<void> {
    auto d = parse_dp(nlh);
    if (!d) return d.error();
    info = std::move(*d);
    return {};
  });
  if (!r) return r.error();
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
  return *info;
}

Result<std::vector<DatapathInfo>> NetlinkDpif::dp_list() {
  Request req(dp_family_, VSW_DP_CMD_GET, VSW_PROTO_VERSION, NLM_F_DUMP);
  put_header(req, 0);
  std::vector<DatapathInfo> out;
  auto r = sock_.transact(req, [&](const nlmsghdr* nlh) -> Result<void> {
    auto d = parse_dp(nlh);
    if (!d) return d.error();
    out.push_back(std::move(*d));
    return {};
  });
  if (!r) return r.error();
  return out;
}

Result<int> NetlinkDpif::resolve(std::string_view dp) {
  auto info = dp_get(dp);
  if (!info) return info.error();
  return info->ifindex;
}

// ---- ports ---------------------------------------------------------------------------------
Result<PortInfo> NetlinkDpif::port_add(std::string_view dp, std::string_view iface,
                                       std::optional<std::uint32_t> port_no,
                                       std::uint32_t upcall_pid) {
  auto ifindex = resolve(dp);
  if (!ifindex) return ifindex.error();
  Request req(vport_family_, VSW_VPORT_CMD_NEW, VSW_PROTO_VERSION, NLM_F_ECHO);
  put_header(req, *ifindex);
  mnl_attr_put_strz(req.nlh(), VSW_VPORT_ATTR_NAME, name_of(iface).c_str());
  mnl_attr_put_u32(req.nlh(), VSW_VPORT_ATTR_TYPE, VSW_VPORT_TYPE_NETDEV);
  if (port_no) mnl_attr_put_u32(req.nlh(), VSW_VPORT_ATTR_PORT_NO, *port_no);
  if (upcall_pid) mnl_attr_put_u32(req.nlh(), VSW_VPORT_ATTR_UPCALL_PID, upcall_pid);
  std::optional<PortInfo> port;
  auto r = sock_.transact(req, [&](const nlmsghdr* nlh) -> Result<void> {
    auto p = parse_port(nlh);
    if (!p) return p.error();
    port = std::move(*p);
    return {};
  });
  if (!r) return r.error();
  if (!port) {
    PortInfo p;
    p.name = name_of(iface);
    p.port_no = port_no.value_or(0);
    return p;
  }
  return *port;
}

Result<void> NetlinkDpif::port_del(std::string_view dp, std::string_view iface) {
  auto ifindex = resolve(dp);
  if (!ifindex) return ifindex.error();
  Request req(vport_family_, VSW_VPORT_CMD_DEL, VSW_PROTO_VERSION, 0);
  put_header(req, *ifindex);
  mnl_attr_put_strz(req.nlh(), VSW_VPORT_ATTR_NAME, name_of(iface).c_str());
  return sock_.transact(req);
}

Result<std::vector<PortInfo>> NetlinkDpif::port_list(std::string_view dp) {
  auto ifindex = resolve(dp);
  if (!ifindex) return ifindex.error();
  Request req(vport_family_, VSW_VPORT_CMD_GET, VSW_PROTO_VERSION, NLM_F_DUMP);
  put_header(req, *ifindex);
  std::vector<PortInfo> out;
  auto r = sock_.transact(req, [&](const nlmsghdr* nlh) -> Result<void> {
    auto p = parse_port(nlh);
    if (!p) return p.error();
    out.push_back(std::move(*p));
    return {};
  });
  if (!r) return r.error();
  return out;
}

// ---- flows ---------------------------------------------------------------------------------
Result<void> NetlinkDpif::flow_request(std::string_view dp, std::uint8_t cmd, std::uint16_t flags,
                                       const Match* match, const Actions* actions, bool clear,
                                       FlowEntry* out) {
  auto ifindex = resolve(dp);
  if (!ifindex) return ifindex.error();
  Request req(flow_family_, cmd, VSW_PROTO_VERSION, flags);
  put_header(req, *ifindex);
  if (match) put_match(req.nlh(), *match);
  if (actions) put_actions(req.nlh(), VSW_FLOW_ATTR_ACTIONS, *actions);
  if (clear) mnl_attr_put(req.nlh(), VSW_FLOW_ATTR_CLEAR, 0, nullptr);
  bool got = false;
  auto r = sock_.transact(req, [&](const nlmsghdr* nlh) -> Result<void> {
    if (!out) return {};
    auto e = parse_flow(nlh);
    if (!e) return e.error();
    *out = std::move(*e);
    got = true;
    return {};
  });
  if (!r) return r;
  if (out && !got) return make_error(EPROTO, "no flow in the kernel's reply");
  return {};
}

Result<void> NetlinkDpif::flow_put(std::string_view dp, const Match& match, const Actions& actions,
                                   FlowPut mode, bool clear_stats) {
  if (mode == FlowPut::kCreate)
    return flow_request(dp, VSW_FLOW_CMD_NEW, 0, &match, &actions, false, nullptr);
  return flow_request(dp, VSW_FLOW_CMD_SET, 0, &match, &actions, clear_stats, nullptr);
}

Result<FlowEntry> NetlinkDpif::flow_get(std::string_view dp, const Match& match) {
  FlowEntry e;
  auto r = flow_request(dp, VSW_FLOW_CMD_GET, 0, &match, nullptr, false, &e);
  if (!r) return r.error();
  return e;
}

Result<FlowEntry> NetlinkDpif::flow_del(std::string_view dp, const Match& match) {
  FlowEntry e;
  auto r = flow_request(dp, VSW_FLOW_CMD_DEL, NLM_F_ECHO, &match, nullptr, false, &e);
  if (!r) return r.error();
  return e;
}

Result<void> NetlinkDpif::flow_flush(std::string_view dp) {
  return flow_request(dp, VSW_FLOW_CMD_DEL, 0, nullptr, nullptr, false, nullptr);
}

Result<void> NetlinkDpif::flow_dump(std::string_view dp,
                                    const std::function<void(const FlowEntry&)>& each) {
  auto ifindex = resolve(dp);
  if (!ifindex) return ifindex.error();
  Request req(flow_family_, VSW_FLOW_CMD_GET, VSW_PROTO_VERSION, NLM_F_DUMP);
  put_header(req, *ifindex);
  return sock_.transact(req, [&](const nlmsghdr* nlh) -> Result<void> {
    auto e = parse_flow(nlh);
    if (!e) return e.error();
    each(*e);
    return {};
  });
}

// ---- packets -------------------------------------------------------------------------------
Result<void> NetlinkDpif::execute(std::string_view dp, const vsw_flow_key& key,
                                  const std::vector<std::uint8_t>& packet, const Actions& actions) {
  auto ifindex = resolve(dp);
  if (!ifindex) return ifindex.error();
  Request req(packet_family_, VSW_PACKET_CMD_EXECUTE, VSW_PROTO_VERSION, 0);
  put_header(req, *ifindex);
  mnl_attr_put(req.nlh(), VSW_PACKET_ATTR_PACKET, packet.size(), packet.data());
  mnl_attr_put(req.nlh(), VSW_PACKET_ATTR_KEY, sizeof key, &key);
  put_actions(req.nlh(), VSW_PACKET_ATTR_ACTIONS, actions);
  return sock_.transact(req);
}

}  // namespace vsw::dpif
