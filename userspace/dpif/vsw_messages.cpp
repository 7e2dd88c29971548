// vsw request builders and reply parsers (see vsw_messages.h). Parsers work one nesting
// level at a time, like wg's ipc-linux.h.
#include "dpif/vsw_messages.h"

#include <cerrno>
#include <cstring>

#include "dpif/netlink_codec.h"

namespace vsw::dpif {

Request vsw_request(std::uint16_t family, std::uint8_t cmd, std::uint16_t flags, int dp_ifindex) {
  Request req(family, cmd, VSW_PROTO_VERSION, flags);
  vsw_header h{};
  h.dp_ifindex = dp_ifindex;
  std::memcpy(req.put_extra(sizeof h), &h, sizeof h);
  return req;
}

Request dp_set_request(std::uint16_t family, std::string_view dp,
                       std::optional<std::uint32_t> upcall_pid,
                       std::optional<std::span<const std::uint32_t>> per_cpu_pids) {
  Request req = vsw_request(family, VSW_DP_CMD_SET, 0, 0);
  req.put_strz(VSW_DP_ATTR_NAME, dp);
  if (upcall_pid) req.put_u32(VSW_DP_ATTR_UPCALL_PID, *upcall_pid);
  if (per_cpu_pids)
    req.put(VSW_DP_ATTR_PER_CPU_PIDS, per_cpu_pids->data(), per_cpu_pids->size_bytes());
  return req;
}

Request port_set_request(std::uint16_t family, int dp_ifindex, std::uint32_t port_no,
                         std::uint32_t upcall_pid) {
  Request req = vsw_request(family, VSW_VPORT_CMD_SET, 0, dp_ifindex);
  req.put_u32(VSW_VPORT_ATTR_PORT_NO, port_no);
  req.put_u32(VSW_VPORT_ATTR_UPCALL_PID, upcall_pid);
  return req;
}

void put_match(Request& req, const Match& match) {
  Match m = match;
  m.normalize();
  req.put(VSW_FLOW_ATTR_KEY, &m.key, sizeof m.key);
  req.put(VSW_FLOW_ATTR_MASK, &m.mask, sizeof m.mask);
}

Request flow_put_request(std::uint16_t family, int dp_ifindex, const Match& match,
                         const Actions& actions, FlowPut mode, bool clear_stats) {
  const bool create = mode == FlowPut::kCreate;
  Request req = vsw_request(family, create ? VSW_FLOW_CMD_NEW : VSW_FLOW_CMD_SET, 0, dp_ifindex);
  put_match(req, match);
  put_actions(req, VSW_FLOW_ATTR_ACTIONS, actions);
  if (!create && clear_stats) req.put_flag(VSW_FLOW_ATTR_CLEAR);
  return req;
}

Request flow_del_request(std::uint16_t family, int dp_ifindex, const Match& match) {
  Request req = vsw_request(family, VSW_FLOW_CMD_DEL, NLM_F_ECHO, dp_ifindex);
  put_match(req, match);
  return req;
}

Request execute_request(std::uint16_t family, int dp_ifindex, const vsw_flow_key& key,
                        std::span<const std::uint8_t> packet, const Actions& actions) {
  Request req = vsw_request(family, VSW_PACKET_CMD_EXECUTE, 0, dp_ifindex);
  req.put(VSW_PACKET_ATTR_PACKET, packet);
  req.put(VSW_PACKET_ATTR_KEY, &key, sizeof key);
  put_actions(req, VSW_PACKET_ATTR_ACTIONS, actions);
  return req;
}

// ---- replies ---------------------------------------------------------------------------------
int reply_ifindex(const nlmsghdr* nlh) {
  vsw_header h{};
  if (mnl_nlmsg_get_payload_len(nlh) >= kVswAttrOffset)
    std::memcpy(&h, static_cast<const char*>(mnl_nlmsg_get_payload(nlh)) + sizeof(genlmsghdr),
                sizeof h);
  return h.dp_ifindex;
}

Result<DatapathInfo> parse_dp_reply(const nlmsghdr* nlh) {
  DatapathInfo info;
  info.ifindex = reply_ifindex(nlh);
  for (const nlattr* a : msg_attrs(nlh, kVswAttrOffset)) {
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
      case VSW_DP_ATTR_FEATURES:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) info.features = mnl_attr_get_u32(a);
        break;
      case VSW_DP_ATTR_MAX_FLOWS:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) info.max_flows = mnl_attr_get_u32(a);
        break;
      case VSW_DP_ATTR_MAX_MASKS:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) info.max_masks = mnl_attr_get_u32(a);
        break;
      case VSW_DP_ATTR_PER_CPU_PIDS: {
        const std::size_t len = mnl_attr_get_payload_len(a);
        if (len % sizeof(std::uint32_t) != 0)
          return make_error(EPROTO, "malformed per-CPU pids attribute from the kernel");
        info.per_cpu_pids.resize(len / sizeof(std::uint32_t));
        if (len) std::memcpy(info.per_cpu_pids.data(), mnl_attr_get_payload(a), len);
        break;
      }
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

Result<PortInfo> parse_port_reply(const nlmsghdr* nlh) {
  PortInfo p;
  for (const nlattr* a : msg_attrs(nlh, kVswAttrOffset)) {
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

Result<FlowEntry> parse_flow_reply(const nlmsghdr* nlh) {
  FlowEntry e;
  bool have_key = false, have_mask = false;
  for (const nlattr* a : msg_attrs(nlh, kVswAttrOffset)) {
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

}  // namespace vsw::dpif
