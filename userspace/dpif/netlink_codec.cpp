// Action and key attribute codec (see netlink_codec.h).
#include "dpif/netlink_codec.h"

#include <arpa/inet.h>

#include <cerrno>

namespace vsw::dpif {

void put_actions(Request& req, std::uint16_t type, const Actions& actions) {
  const std::size_t list = req.nest_start(type);
  for (const Action& a : actions) {
    if (const auto* o = std::get_if<OutputAction>(&a)) {
      req.put_u32(VSW_ACTION_ATTR_OUTPUT, o->port);
    } else if (const auto* u = std::get_if<UserspaceAction>(&a)) {
      const std::size_t n = req.nest_start(VSW_ACTION_ATTR_USERSPACE);
      req.put_u32(VSW_USERSPACE_ATTR_PID, u->pid);
      if (!u->cookie.empty()) req.put(VSW_USERSPACE_ATTR_COOKIE, u->cookie);
      req.nest_end(n);
    } else if (const auto* s = std::get_if<SetAction>(&a)) {
      const std::size_t n = req.nest_start(VSW_ACTION_ATTR_SET);
      if (s->eth_src) req.put(VSW_SET_ATTR_ETH_SRC, *s->eth_src);
      if (s->eth_dst) req.put(VSW_SET_ATTR_ETH_DST, *s->eth_dst);
      if (s->ipv4_src) req.put_u32(VSW_SET_ATTR_IPV4_SRC, *s->ipv4_src);
      if (s->ipv4_dst) req.put_u32(VSW_SET_ATTR_IPV4_DST, *s->ipv4_dst);
      if (s->ipv4_tos) req.put_u8(VSW_SET_ATTR_IPV4_TOS, *s->ipv4_tos);
      if (s->ipv4_ttl) req.put_u8(VSW_SET_ATTR_IPV4_TTL, *s->ipv4_ttl);
      if (s->l4_src) req.put_u16(VSW_SET_ATTR_L4_SRC, htons(*s->l4_src));
      if (s->l4_dst) req.put_u16(VSW_SET_ATTR_L4_DST, htons(*s->l4_dst));
      if (s->vlan_vid) req.put_u16(VSW_SET_ATTR_VLAN_VID, *s->vlan_vid);
      if (s->vlan_pcp) req.put_u8(VSW_SET_ATTR_VLAN_PCP, *s->vlan_pcp);
      if (s->ipv6_src) req.put(VSW_SET_ATTR_IPV6_SRC, *s->ipv6_src);
      if (s->ipv6_dst) req.put(VSW_SET_ATTR_IPV6_DST, *s->ipv6_dst);
      if (s->ipv6_tclass) req.put_u8(VSW_SET_ATTR_IPV6_TCLASS, *s->ipv6_tclass);
      if (s->ipv6_label) req.put_u32(VSW_SET_ATTR_IPV6_LABEL, htonl(*s->ipv6_label));
      if (s->ipv6_hlimit) req.put_u8(VSW_SET_ATTR_IPV6_HLIMIT, *s->ipv6_hlimit);
      if (s->arp_op) req.put_u16(VSW_SET_ATTR_ARP_OP, htons(*s->arp_op));
      if (s->arp_sha) req.put(VSW_SET_ATTR_ARP_SHA, *s->arp_sha);
      if (s->arp_tha) req.put(VSW_SET_ATTR_ARP_THA, *s->arp_tha);
      if (s->arp_spa) req.put_u32(VSW_SET_ATTR_ARP_SPA, *s->arp_spa);
      if (s->arp_tpa) req.put_u32(VSW_SET_ATTR_ARP_TPA, *s->arp_tpa);
      req.nest_end(n);
    } else if (const auto* p = std::get_if<PushVlanAction>(&a)) {
      const std::size_t n = req.nest_start(VSW_ACTION_ATTR_PUSH_VLAN);
      req.put_u16(VSW_VLAN_ATTR_VID, p->vid);
      req.put_u8(VSW_VLAN_ATTR_PCP, p->pcp);
      req.nest_end(n);
    } else {
      req.put_flag(VSW_ACTION_ATTR_POP_VLAN);
    }
  }
  req.nest_end(list);
}

namespace {
Error malformed(const char* what) {
  return make_error(EPROTO, std::string("malformed ") + what + " attribute from the kernel");
}
}  // namespace

Result<Actions> parse_actions_attr(const nlattr* list) {
  Actions out;
  for (const nlattr* a : nested(list)) {
    const std::uint16_t type = mnl_attr_get_type(a);
    switch (type) {
      case VSW_ACTION_ATTR_OUTPUT:
        if (mnl_attr_validate(a, MNL_TYPE_U32) < 0) return malformed("output");
        out.emplace_back(OutputAction{mnl_attr_get_u32(a)});
        break;
      case VSW_ACTION_ATTR_USERSPACE: {
        UserspaceAction u;
        for (const nlattr* f : nested(a)) {
          if (mnl_attr_get_type(f) == VSW_USERSPACE_ATTR_PID) {
            if (mnl_attr_validate(f, MNL_TYPE_U32) < 0) return malformed("userspace pid");
            u.pid = mnl_attr_get_u32(f);
          } else if (mnl_attr_get_type(f) == VSW_USERSPACE_ATTR_COOKIE) {
            const auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(f));
            u.cookie.assign(p, p + mnl_attr_get_payload_len(f));
          }
        }
        out.emplace_back(std::move(u));
        break;
      }
      case VSW_ACTION_ATTR_SET: {
        SetAction s;
        for (const nlattr* f : nested(a)) {
          const auto len = mnl_attr_get_payload_len(f);
          const void* p = mnl_attr_get_payload(f);
          const auto type = mnl_attr_get_type(f);
          switch (type) {
            case VSW_SET_ATTR_ETH_SRC:
            case VSW_SET_ATTR_ETH_DST:
            case VSW_SET_ATTR_ARP_SHA:
            case VSW_SET_ATTR_ARP_THA: {
              if (len != 6) return malformed("set mac");
              Mac m;
              std::memcpy(m.data(), p, 6);
              (type == VSW_SET_ATTR_ETH_SRC   ? s.eth_src
               : type == VSW_SET_ATTR_ETH_DST ? s.eth_dst
               : type == VSW_SET_ATTR_ARP_SHA ? s.arp_sha
                                              : s.arp_tha) = m;
              break;
            }
            case VSW_SET_ATTR_IPV6_SRC:
            case VSW_SET_ATTR_IPV6_DST: {
              if (len != 16) return malformed("set ipv6");
              Ipv6 a;
              std::memcpy(a.data(), p, 16);
              (type == VSW_SET_ATTR_IPV6_SRC ? s.ipv6_src : s.ipv6_dst) = a;
              break;
            }
            case VSW_SET_ATTR_VLAN_VID:
            case VSW_SET_ATTR_ARP_OP:
              if (len != 2) return malformed("set");
              if (type == VSW_SET_ATTR_VLAN_VID)
                s.vlan_vid = mnl_attr_get_u16(f);
              else
                s.arp_op = ntohs(mnl_attr_get_u16(f));
              break;
            case VSW_SET_ATTR_VLAN_PCP:
            case VSW_SET_ATTR_IPV6_TCLASS:
            case VSW_SET_ATTR_IPV6_HLIMIT:
              if (len != 1) return malformed("set");
              (type == VSW_SET_ATTR_VLAN_PCP      ? s.vlan_pcp
               : type == VSW_SET_ATTR_IPV6_TCLASS ? s.ipv6_tclass
                                                  : s.ipv6_hlimit) = mnl_attr_get_u8(f);
              break;
            case VSW_SET_ATTR_IPV6_LABEL:
              if (len != 4) return malformed("set ipv6");
              s.ipv6_label = ntohl(mnl_attr_get_u32(f));
              break;
            case VSW_SET_ATTR_ARP_SPA:
            case VSW_SET_ATTR_ARP_TPA:
              if (len != 4) return malformed("set arp");
              (type == VSW_SET_ATTR_ARP_SPA ? s.arp_spa : s.arp_tpa) = mnl_attr_get_u32(f);
              break;
            case VSW_SET_ATTR_IPV4_SRC:
            case VSW_SET_ATTR_IPV4_DST:
              if (len != 4) return malformed("set ipv4");
              (mnl_attr_get_type(f) == VSW_SET_ATTR_IPV4_SRC ? s.ipv4_src : s.ipv4_dst) =
                  mnl_attr_get_u32(f);
              break;
            case VSW_SET_ATTR_IPV4_TOS:
            case VSW_SET_ATTR_IPV4_TTL:
              if (len != 1) return malformed("set ipv4");
              (mnl_attr_get_type(f) == VSW_SET_ATTR_IPV4_TOS ? s.ipv4_tos : s.ipv4_ttl) =
                  mnl_attr_get_u8(f);
              break;
            case VSW_SET_ATTR_L4_SRC:
            case VSW_SET_ATTR_L4_DST:
              if (len != 2) return malformed("set l4");
              (mnl_attr_get_type(f) == VSW_SET_ATTR_L4_SRC ? s.l4_src : s.l4_dst) =
                  ntohs(mnl_attr_get_u16(f));
              break;
            default:
              return malformed("set");
          }
        }
        out.emplace_back(s);
        break;
      }
      case VSW_ACTION_ATTR_PUSH_VLAN: {
        PushVlanAction p;
        for (const nlattr* f : nested(a)) {
          if (mnl_attr_get_type(f) == VSW_VLAN_ATTR_VID && mnl_attr_get_payload_len(f) == 2)
            p.vid = mnl_attr_get_u16(f);
          else if (mnl_attr_get_type(f) == VSW_VLAN_ATTR_PCP && mnl_attr_get_payload_len(f) == 1)
            p.pcp = mnl_attr_get_u8(f);
        }
        out.emplace_back(p);
        break;
      }
      case VSW_ACTION_ATTR_POP_VLAN:
        out.emplace_back(PopVlanAction{});
        break;
      default:
        return malformed("action");
    }
  }
  return out;
}

Result<vsw_flow_key> parse_key_attr(const nlattr* attr) {
  if (mnl_attr_get_payload_len(attr) != sizeof(vsw_flow_key))
    return make_error(
        EPROTO, "the kernel's flow key is " + std::to_string(mnl_attr_get_payload_len(attr)) +
                    " bytes, this program was built for " + std::to_string(sizeof(vsw_flow_key)));
  vsw_flow_key k;
  std::memcpy(&k, mnl_attr_get_payload(attr), sizeof k);
  return k;
}

}  // namespace vsw::dpif
