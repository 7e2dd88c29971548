// Open vSwitch's text forms of matches, actions and flow stats. See print_ofctl.h.
//
// The match printer first gathers each OXM field (value, mask) by id, then walks the fields
// in the order Open vSwitch's match_format() prints them, with its names and shorthands.
#include "openflow/print_ofctl.h"

#include <arpa/inet.h>

#include <array>
#include <bit>
#include <cstdio>
#include <cstring>

namespace vsw::openflow {
namespace {

std::string hex(std::uint64_t v) {  // C's %#x: "0" for zero, else "0x.."
  if (v == 0) return "0";
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string hex_fixed(std::uint64_t v, int width) {  // "0x%0*x"
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*llx", width, static_cast<unsigned long long>(v));
  return buf;
}

std::string mac_text(const std::uint8_t* p) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4],
                p[5]);
  return buf;
}

std::string ipv4_text(const std::uint8_t* p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
  return buf;
}

// The number of leading 1-bits if the mask is a prefix (1s then 0s), else -1.
int prefix_len(const std::uint8_t* mask, std::size_t n) {
  int bits = 0;
  std::size_t i = 0;
  for (; i < n && mask[i] == 0xff; ++i) bits += 8;
  if (i == n) return bits;
  const std::uint8_t b = mask[i];
  const int ones = std::countl_one(b);
  if (static_cast<std::uint8_t>(b << ones) != 0) return -1;
  bits += ones;
  for (++i; i < n; ++i)
    if (mask[i] != 0) return -1;
  return bits;
}

// The fields of a match by id; absent fields have a null entry.
class Fields {
 public:
  explicit Fields(const Match& m) {
    for (const OxmField& f : m.fields) by_id_[static_cast<std::size_t>(f.id)] = &f;
  }
  [[nodiscard]] const OxmField* get(OxmId id) const { return by_id_[static_cast<std::size_t>(id)]; }
  [[nodiscard]] bool has(OxmId id) const { return get(id) != nullptr; }
  [[nodiscard]] std::uint64_t value(OxmId id) const {
    const OxmField* f = get(id);
    return f ? f->value_u64() : 0;
  }
  // The mask as an integer: all ones of the field's width when exact, 0 when absent.
  [[nodiscard]] std::uint64_t mask(OxmId id) const {
    const OxmField* f = get(id);
    if (!f) return 0;
    if (f->has_mask) return f->mask_u64();
    const unsigned len = oxm_info(id).len;
    return len >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (len * 8)) - 1;
  }

 private:
  std::array<const OxmField*, static_cast<std::size_t>(OxmId::kCount)> by_id_{};
};

class MatchPrinter {
 public:
  MatchPrinter(const Match& m, std::string& out) : f_(m), out_(out) {}

  void print(std::int32_t priority) {
    if (priority != kDefaultPriority) put("priority=" + std::to_string(priority));
    const bool has_type = f_.has(OxmId::kEthType);
    const std::uint64_t type = f_.value(OxmId::kEthType);
    const bool has_proto = f_.has(OxmId::kIpProto);
    const std::uint64_t proto = f_.value(OxmId::kIpProto);
    bool skip_type = false, skip_proto = false;
    if (has_type) {
      skip_type = true;
      if (type == 0x0800 || type == 0x86dd) {
        const bool v6 = type == 0x86dd;
        const char* name = v6 ? "ipv6" : "ip";
        if (has_proto) {
          skip_proto = true;
          if (proto == (v6 ? 58U : 1U))
            name = v6 ? "icmp6" : "icmp";
          else if (proto == 6)
            name = v6 ? "tcp6" : "tcp";
          else if (proto == 17)
            name = v6 ? "udp6" : "udp";
          else if (proto == 132)
            name = v6 ? "sctp6" : "sctp";
          else
            skip_proto = false;
        }
        put(name);
      } else if (type == 0x0806) {
        put("arp");
      } else if (type == 0x8035) {
        put("rarp");
      } else if (type == 0x8847) {
        put("mpls");
      } else if (type == 0x8848) {
        put("mplsm");
      } else {
        skip_type = false;
      }
    }
    for (unsigned r = 0; r < 16; ++r) {
      const auto id = static_cast<OxmId>(static_cast<unsigned>(OxmId::kReg0) + r);
      if (f_.has(id)) uint_masked("reg" + std::to_string(r), id);
    }
    if (f_.has(OxmId::kTunnelId)) uint_masked("tun_id", OxmId::kTunnelId);
    if (f_.has(OxmId::kMetadata)) uint_masked("metadata", OxmId::kMetadata);
    if (f_.has(OxmId::kInPort))
      put("in_port=" + ofctl_port(static_cast<std::uint32_t>(f_.value(OxmId::kInPort))));
    if (f_.has(OxmId::kInPhyPort))
      put("in_phy_port=" + ofctl_port(static_cast<std::uint32_t>(f_.value(OxmId::kInPhyPort))));
    vlan();
    eth(OxmId::kEthSrc, "dl_src");
    eth(OxmId::kEthDst, "dl_dst");
    if (!skip_type && has_type) put("dl_type=" + hex_fixed(type, 4));
    if (type == 0x86dd) {
      ip_masked(OxmId::kIpv6Src, "ipv6_src");
      ip_masked(OxmId::kIpv6Dst, "ipv6_dst");
      if (f_.has(OxmId::kIpv6Flabel)) {
        std::string s = "ipv6_label=" + hex_fixed(f_.value(OxmId::kIpv6Flabel), 5);
        if (f_.get(OxmId::kIpv6Flabel)->has_mask)
          s += "/" + hex_fixed(f_.mask(OxmId::kIpv6Flabel), 5);
        put(s);
      }
    } else if (type == 0x0806 || type == 0x8035) {
      ip_masked(OxmId::kArpSpa, "arp_spa");
      ip_masked(OxmId::kArpTpa, "arp_tpa");
    } else {
      ip_masked(OxmId::kIpv4Src, "nw_src");
      ip_masked(OxmId::kIpv4Dst, "nw_dst");
    }
    if (!skip_proto && has_proto) put("nw_proto=" + std::to_string(proto));
    if (f_.has(OxmId::kArpOp)) put("arp_op=" + std::to_string(f_.value(OxmId::kArpOp)));
    eth(OxmId::kArpSha, "arp_sha");
    eth(OxmId::kArpTha, "arp_tha");
    if (f_.has(OxmId::kIpDscp)) put("nw_tos=" + std::to_string(f_.value(OxmId::kIpDscp) << 2));
    if (f_.has(OxmId::kIpEcn)) put("nw_ecn=" + std::to_string(f_.value(OxmId::kIpEcn)));
    if (f_.has(OxmId::kMplsLabel)) put("mpls_label=" + std::to_string(f_.value(OxmId::kMplsLabel)));
    if (f_.has(OxmId::kMplsTc)) put("mpls_tc=" + std::to_string(f_.value(OxmId::kMplsTc)));
    if (f_.has(OxmId::kMplsBos)) put("mpls_bos=" + std::to_string(f_.value(OxmId::kMplsBos)));
    if (type == 0x0800 && proto == 1) {
      be16(OxmId::kIcmpv4Type, "icmp_type");
      be16(OxmId::kIcmpv4Code, "icmp_code");
    } else if (type == 0x86dd && proto == 58) {
      be16(OxmId::kIcmpv6Type, "icmp_type");
      be16(OxmId::kIcmpv6Code, "icmp_code");
      ip_masked(OxmId::kIpv6NdTarget, "nd_target");
      eth(OxmId::kIpv6NdSll, "nd_sll");
      eth(OxmId::kIpv6NdTll, "nd_tll");
    } else {
      for (OxmId id : {OxmId::kTcpSrc, OxmId::kUdpSrc, OxmId::kSctpSrc}) be16(id, "tp_src");
      for (OxmId id : {OxmId::kTcpDst, OxmId::kUdpDst, OxmId::kSctpDst}) be16(id, "tp_dst");
    }
    // Fields Open vSwitch cannot express in OpenFlow 1.3 text: the spec's names.
    if (f_.has(OxmId::kPbbIsid)) uint_masked("pbb_isid", OxmId::kPbbIsid);
    if (f_.has(OxmId::kIpv6Exthdr)) uint_masked("ipv6_exthdr", OxmId::kIpv6Exthdr);
  }

 private:
  void put(const std::string& s) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += s;
  }
  void uint_masked(const std::string& name, OxmId id) {
    std::string s = name + "=" + hex(f_.value(id));
    if (f_.get(id)->has_mask) s += "/" + hex(f_.mask(id));
    put(s);
  }
  void be16(OxmId id, const char* name) {
    if (!f_.has(id)) return;
    if (f_.get(id)->has_mask && f_.mask(id) != 0xffff)
      put(std::string(name) + "=" + hex(f_.value(id)) + "/" + hex(f_.mask(id)));
    else
      put(std::string(name) + "=" + std::to_string(f_.value(id)));
  }
  void eth(OxmId id, const char* name) {
    const OxmField* f = f_.get(id);
    if (!f) return;
    std::string s = std::string(name) + "=" + mac_text(f->value.data());
    static constexpr std::uint8_t kExact[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (f->has_mask && std::memcmp(f->mask.data(), kExact, 6) != 0)
      s += "/" + mac_text(f->mask.data());
    put(s);
  }
  void ip_masked(OxmId id, const char* name) {
    const OxmField* f = f_.get(id);
    if (!f) return;
    const bool v6 = oxm_info(id).format == OxmFormat::kIpv6;
    const std::size_t n = v6 ? 16 : 4;
    std::string s =
        std::string(name) + "=" + (v6 ? ipv6_text(f->value.data()) : ipv4_text(f->value.data()));
    if (f->has_mask) {
      const int len = prefix_len(f->mask.data(), n);
      if (len < 0)
        s += "/" + (v6 ? ipv6_text(f->mask.data()) : ipv4_text(f->mask.data()));
      else if (len != static_cast<int>(n * 8))
        s += "/" + std::to_string(len);
    }
    put(s);
  }
  // OpenFlow 1.3's vlan_vid/vlan_pcp as Open vSwitch's vlan_tci view (CFI = tag present).
  void vlan() {
    if (!f_.has(OxmId::kVlanVid) && !f_.has(OxmId::kVlanPcp)) return;
    std::uint16_t tci = 0, mask = 0;
    if (f_.has(OxmId::kVlanVid)) {
      tci = static_cast<std::uint16_t>(f_.value(OxmId::kVlanVid) & 0x1fff);
      mask = static_cast<std::uint16_t>(f_.mask(OxmId::kVlanVid) & 0x1fff);
    }
    if (f_.has(OxmId::kVlanPcp)) {
      tci = static_cast<std::uint16_t>(tci | (f_.value(OxmId::kVlanPcp) & 7) << 13 | 0x1000);
      mask = static_cast<std::uint16_t>(mask | 0xf000);
    }
    const std::uint16_t vid_mask = mask & 0x0fff, pcp_mask = mask & 0xe000, cfi = mask & 0x1000;
    if (cfi && (tci & 0x1000) && (!vid_mask || vid_mask == 0x0fff) &&
        (!pcp_mask || pcp_mask == 0xe000) && (vid_mask || pcp_mask)) {
      if (vid_mask) put("dl_vlan=" + std::to_string(tci & 0x0fff));
      if (pcp_mask) put("dl_vlan_pcp=" + std::to_string(tci >> 13));
    } else if (mask == 0xffff) {
      put("vlan_tci=" + hex_fixed(tci, 4));
    } else {
      put("vlan_tci=" + hex_fixed(tci, 4) + "/" + hex_fixed(mask, 4));
    }
  }

  Fields f_;
  std::string& out_;
  bool first_ = true;
};

// Open vSwitch's names for set_field targets (meta-flow.h), where they differ from the spec.
const char* set_field_name(OxmId id) {
  switch (id) {
    case OxmId::kIpv4Src:
      return "ip_src";
    case OxmId::kIpv4Dst:
      return "ip_dst";
    case OxmId::kIpProto:
      return "nw_proto";
    case OxmId::kIpEcn:
      return "nw_ecn";
    case OxmId::kIpv6Flabel:
      return "ipv6_label";
    case OxmId::kIcmpv4Type:
      return "icmp_type";
    case OxmId::kIcmpv4Code:
      return "icmp_code";
    case OxmId::kIpv6NdTarget:
      return "nd_target";
    case OxmId::kIpv6NdSll:
      return "nd_sll";
    case OxmId::kIpv6NdTll:
      return "nd_tll";
    case OxmId::kTunnelId:
      return "tun_id";
    default:
      return oxm_info(id).name;
  }
}

std::string set_field_value(const OxmField& f) {
  const OxmInfo& info = oxm_info(f.id);
  switch (info.format) {
    case OxmFormat::kMac:
      return mac_text(f.value.data());
    case OxmFormat::kIpv4:
      return ipv4_text(f.value.data());
    case OxmFormat::kIpv6:
      return ipv6_text(f.value.data());
    case OxmFormat::kDec:
      if (f.id == OxmId::kInPort) return ofctl_port(static_cast<std::uint32_t>(f.value_u64()));
      return std::to_string(f.value_u64());
    case OxmFormat::kHex:
      if (f.id == OxmId::kEthType) return hex_fixed(f.value_u64(), 4);
      return hex(f.value_u64());
  }
  return {};
}

}  // namespace

std::string ofctl_port(std::uint32_t p) {
  switch (p) {
    case port::kInPort:
      return "IN_PORT";
    case port::kTable:
      return "TABLE";
    case port::kNormal:
      return "NORMAL";
    case port::kFlood:
      return "FLOOD";
    case port::kAll:
      return "ALL";
    case port::kController:
      return "CONTROLLER";
    case port::kLocal:
      return "LOCAL";
    case port::kAny:
      return "ANY";
    default:
      return std::to_string(p);
  }
}

std::string ipv6_text(const std::uint8_t* addr16) {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(AF_INET6, addr16, buf, sizeof buf)) return "?";
  return buf;
}

std::string ofctl_match(const Match& m, std::int32_t priority) {
  std::string out;
  MatchPrinter(m, out).print(priority);
  return out;
}

std::string ofctl_action(const Action& a) {
  switch (a.type) {
    case ActionType::kOutput:
      if (a.arg == port::kController) return "CONTROLLER:" + std::to_string(a.max_len);
      if (a.arg < port::kMax) return "output:" + std::to_string(a.arg);
      return ofctl_port(a.arg);
    case ActionType::kCopyTtlOut:
      return "copy_ttl_out";
    case ActionType::kCopyTtlIn:
      return "copy_ttl_in";
    case ActionType::kSetMplsTtl:
      return "set_mpls_ttl(" + std::to_string(a.arg) + ")";
    case ActionType::kDecMplsTtl:
      return "dec_mpls_ttl";
    case ActionType::kPushVlan:
      return "push_vlan:" + hex(a.arg);
    case ActionType::kPopVlan:
      return "pop_vlan";
    case ActionType::kPushMpls:
      return "push_mpls:" + hex_fixed(a.arg, 4);
    case ActionType::kPopMpls:
      return "pop_mpls:" + hex_fixed(a.arg, 4);
    case ActionType::kSetQueue:
      return "set_queue:" + std::to_string(a.arg);
    case ActionType::kGroup:
      return "group:" + std::to_string(a.arg);
    case ActionType::kSetNwTtl:
      return "mod_nw_ttl:" + std::to_string(a.arg);
    case ActionType::kDecNwTtl:
      return "dec_ttl";
    case ActionType::kSetField:
      return "set_field:" + set_field_value(a.field) + "->" + set_field_name(a.field.id);
    case ActionType::kPushPbb:
      return "push_pbb:" + hex_fixed(a.arg, 4);
    case ActionType::kPopPbb:
      return "pop_pbb";
    case ActionType::kExperimenter:
      return "experimenter:" + hex(a.experimenter);
  }
  return "unknown";
}

std::string ofctl_actions(const std::vector<Action>& acts) {
  if (acts.empty()) return "drop";
  std::string out;
  for (const Action& a : acts) {
    if (!out.empty()) out += ',';
    out += ofctl_action(a);
  }
  return out;
}

std::string ofctl_instructions(const std::vector<Instruction>& ins) {
  static constexpr InstructionType kOrder[] = {
      InstructionType::kMeter,         InstructionType::kApplyActions,
      InstructionType::kClearActions,  InstructionType::kWriteActions,
      InstructionType::kWriteMetadata, InstructionType::kGotoTable,
      InstructionType::kExperimenter};
  std::string out;
  const auto add = [&](const std::string& s) {
    if (s.empty()) return;
    if (!out.empty()) out += ',';
    out += s;
  };
  for (InstructionType t : kOrder) {
    for (const Instruction& i : ins) {
      if (i.type != t) continue;
      switch (t) {
        case InstructionType::kMeter:
          add("meter:" + std::to_string(i.meter_id));
          break;
        case InstructionType::kApplyActions:
          if (!i.actions.empty()) add(ofctl_actions(i.actions));
          break;
        case InstructionType::kClearActions:
          add("clear_actions");
          break;
        case InstructionType::kWriteActions:
          add("write_actions(" + (i.actions.empty() ? std::string() : ofctl_actions(i.actions)) +
              ")");
          break;
        case InstructionType::kWriteMetadata:
          add("write_metadata:" + hex(i.metadata) +
              (i.mask == ~std::uint64_t{0} ? std::string() : "/" + hex(i.mask)));
          break;
        case InstructionType::kGotoTable:
          add("goto_table:" + std::to_string(i.table_id));
          break;
        case InstructionType::kExperimenter:
          add("experimenter:" + hex(i.experimenter));
          break;
      }
    }
  }
  return out.empty() ? "drop" : out;
}

std::string ofctl_duration(std::uint32_t sec, std::uint32_t nsec) {
  std::string s = std::to_string(sec);
  if (nsec == 0) return s;
  char buf[16];
  if (nsec % 1'000'000 == 0) {
    std::snprintf(buf, sizeof buf, ".%03u", nsec / 1'000'000);
  } else {
    std::snprintf(buf, sizeof buf, ".%09u", nsec);
    for (std::size_t n = std::strlen(buf); n > 1 && buf[n - 1] == '0'; --n) buf[n - 1] = '\0';
  }
  return s + buf;
}

std::string ofctl_flow_stats(const FlowStats& fs) {
  std::string s = " cookie=" + hex_fixed(fs.cookie, 1) +
                  ", duration=" + ofctl_duration(fs.duration_sec, fs.duration_nsec) +
                  "s, table=" + std::to_string(fs.table_id) +
                  ", n_packets=" + std::to_string(fs.packet_count) +
                  ", n_bytes=" + std::to_string(fs.byte_count) + ", ";
  if (fs.idle_timeout) s += "idle_timeout=" + std::to_string(fs.idle_timeout) + ", ";
  if (fs.hard_timeout) s += "hard_timeout=" + std::to_string(fs.hard_timeout) + ", ";
  static constexpr std::pair<std::uint16_t, const char*> kFlags[] = {{1, "send_flow_rem "},
                                                                     {2, "check_overlap "},
                                                                     {4, "reset_counts "},
                                                                     {8, "no_packet_counts "},
                                                                     {16, "no_byte_counts "}};
  for (const auto& [bit, name] : kFlags)
    if (fs.flags & bit) s += name;
  const std::string match = ofctl_match(fs.match, fs.priority);
  if (!match.empty()) s += match + " ";
  s += "actions=" + ofctl_instructions(fs.instructions);
  return s;
}

}  // namespace vsw::openflow
