// Shared helpers of the ofproto tests: kernel-shaped random keys, random OpenFlow matches
// with their prerequisites, an independent reference matcher (OXM semantics written out
// per field over struct vsw_flow_key, not through key_map's table), and small builders
// (ports, keys, the datapath actions a text stands for, classifier matches from OXM fields).
#pragma once

#include <arpa/inet.h>
#include <linux/types.h>
#include <vsw.h>

#include <array>
#include <catch2/catch_test_macros.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dpif/flow_text.h"
#include "ofproto/key_map.h"
#include "ofproto/mac_learning.h"
#include "ofproto/ofproto.h"
#include "openflow/actions.h"
#include "openflow/oxm.h"

namespace vsw::ofproto::test {

using openflow::OxmField;
using openflow::OxmId;

inline std::uint64_t seed() {
  if (const char* s = std::getenv("VSW_SEED")) return std::strtoull(s, nullptr, 0);
  return 20261204;
}

inline Mac mac(std::uint64_t v) {
  Mac m;
  for (std::size_t i = m.size(); i-- > 0;) {
    m[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
  return m;
}

// A plain Ethernet key (eth_type 0x0800 with nothing else unless the caller fills it).
inline vsw_flow_key l2_key(std::uint32_t in_port, std::uint64_t src, std::uint64_t dst,
                           std::uint16_t tci = 0, std::uint16_t eth_type = 0x0800) {
  vsw_flow_key k{};
  k.in_port = in_port;
  const Mac s = mac(src), d = mac(dst);
  std::memcpy(k.eth_src, s.data(), 6);
  std::memcpy(k.eth_dst, d.data(), 6);
  k.vlan_tci = htons(tci);
  k.eth_type = htons(eth_type);
  return k;
}

inline std::uint16_t tagged(std::uint16_t vid, std::uint16_t pcp = 0) {
  return static_cast<std::uint16_t>(pcp << VSW_VLAN_PCP_SHIFT | VSW_VLAN_TAG_PRESENT | vid);
}

inline PortInfo trunk_port(std::uint32_t ofport, std::vector<std::uint16_t> trunks = {}) {
  PortInfo p;
  p.ofport = ofport;
  p.name = "p" + std::to_string(ofport);
  p.trunks = std::move(trunks);
  return p;
}

inline PortInfo access_port(std::uint32_t ofport, std::uint16_t tag) {
  PortInfo p = trunk_port(ofport);
  p.vlan_mode = VlanMode::kAccess;
  p.tag = tag;
  return p;
}

inline Ofproto::Options options(FailMode mode) {
  Ofproto::Options o;
  o.fail_mode = mode;
  return o;
}

inline std::string text(const dpif::Actions& a) {
  return dpif::format_actions(a);
}

// The datapath actions written as `actions`, in text()'s canonical form.
inline std::string want(std::string_view actions) {
  auto a = dpif::parse_actions(actions);
  REQUIRE(a);
  return text(*a);
}

// The classifier match of an OpenFlow match on fields.
inline classifier::Match match(std::vector<OxmField> fields) {
  openflow::Match m;
  m.fields = std::move(fields);
  auto r = from_oxm(m);
  REQUIRE(r);
  return *r;
}

// Kernel-shaped keys: fields a packet of that kind does not have are zero. Values come
// from small pools so that random rules match them often.
class KeyGen {
 public:
  explicit KeyGen(std::uint64_t seed) : rng_(seed) {}
  std::mt19937_64& rng() { return rng_; }
  std::uint64_t pick(std::initializer_list<std::uint64_t> v) {
    return *(v.begin() + rng_() % v.size());
  }
  bool coin(unsigned percent = 50) { return rng_() % 100 < percent; }

  std::uint64_t mac_value() {
    return pick({0x000000000001, 0x000000000002, 0x0000000000a3, 0x020000000004, 0xffffffffffff,
                 0x01005e000001, 0x333300000001, 0x0180c2000000, 0x00000000000b});
  }
  std::uint32_t ipv4() {
    return static_cast<std::uint32_t>(
        pick({0x0a000001, 0x0a000002, 0x0a0000ff, 0x0a010001, 0xc0a80001, 0x7f000001}));
  }

  vsw_flow_key key() {
    vsw_flow_key k{};
    k.in_port = static_cast<std::uint32_t>(pick({0, 1, 2, 3, 4, 5, 6, 7}));
    k.skb_mark = coin(10) ? static_cast<std::uint32_t>(pick({1, 0x100})) : 0;
    put_mac(k.eth_src, mac_value());
    put_mac(k.eth_dst, mac_value());
    if (coin(40))
      k.vlan_tci = htons(tagged(static_cast<std::uint16_t>(pick({0, 10, 20, 30, 4095})),
                                static_cast<std::uint16_t>(pick({0, 0, 3, 7}))));
    const auto kind = rng_() % 6;
    if (kind <= 2) {  // IPv4
      k.eth_type = htons(0x0800);
      k.ipv4_src = htonl(ipv4());
      k.ipv4_dst = htonl(ipv4());
      ip_common(k, pick({6, 17, 1, 47}));
      if (k.ip_proto == 1) icmp(k);
    } else if (kind == 3) {  // IPv6
      k.eth_type = htons(0x86dd);
      for (int i = 0; i < 16; ++i) {
        k.ipv6_src[i] = static_cast<std::uint8_t>(i == 15 ? pick({1, 2, 3}) : (i == 0 ? 0xfe : 0));
        k.ipv6_dst[i] = static_cast<std::uint8_t>(i == 15 ? pick({1, 2}) : (i < 2 ? 0x20 : 0));
      }
      k.ipv6_label = htonl(static_cast<std::uint32_t>(pick({0, 1, 0xfffff})));
      ip_common(k, pick({6, 17, 58}));
      if (k.ip_proto == 58) icmp(k);
    } else if (kind == 4) {  // ARP
      k.eth_type = htons(0x0806);
      k.arp_op = htons(static_cast<std::uint16_t>(pick({1, 2})));
      k.arp_spa = htonl(ipv4());
      k.arp_tpa = htonl(ipv4());
      put_mac(k.arp_sha, mac_value());
      put_mac(k.arp_tha, pick({0, 0x000000000001}));
    } else {  // something else
      k.eth_type = htons(static_cast<std::uint16_t>(pick({0x05ff, 0x88cc, 0x8100})));
    }
    return k;
  }

  // A key agreeing with `base` on every bit of `mask`, arbitrary (kernel-shaped) elsewhere.
  vsw_flow_key agreeing(const vsw_flow_key& base, const vsw_flow_key& mask) {
    vsw_flow_key k = key();
    auto* out = reinterpret_cast<std::uint8_t*>(&k);
    const auto* b = reinterpret_cast<const std::uint8_t*>(&base);
    const auto* m = reinterpret_cast<const std::uint8_t*>(&mask);
    for (std::size_t i = 0; i < sizeof k; ++i)
      out[i] = static_cast<std::uint8_t>((b[i] & m[i]) | (out[i] & ~m[i]));
    std::memset(k.pad, 0, sizeof k.pad);
    return k;
  }

  // A random OpenFlow match whose prerequisites hold (validate_match accepts it).
  openflow::Match match() {
    openflow::Match m;
    auto add = [&](OxmField f) { m.fields.push_back(f); };
    if (coin(30)) add(OxmField::exact(OxmId::kInPort, pick({1, 2, 3, openflow::port::kLocal})));
    if (coin(25)) add(mac_field(OxmId::kEthDst));
    if (coin(20)) add(mac_field(OxmId::kEthSrc));
    if (coin(20)) {
      const auto v = rng_() % 3;
      if (v == 0) add(OxmField::exact(OxmId::kVlanVid, 0));                // untagged
      if (v == 1) add(OxmField::masked(OxmId::kVlanVid, 0x1000, 0x1000));  // any tag
      if (v == 2) {
        add(OxmField::exact(OxmId::kVlanVid, 0x1000 | pick({0, 10, 20})));
        if (coin()) add(OxmField::exact(OxmId::kVlanPcp, pick({0, 3})));
      }
    }
    if (coin(5)) add(OxmField::exact(OxmId::kMetadata, pick({0, 1})));
    if (coin(5)) add(OxmField::exact(openflow::OxmId(int(OxmId::kReg0) + 3), 0));
    if (!coin(70)) return m;
    const std::uint64_t et = pick({0x0800, 0x0800, 0x86dd, 0x0806, 0x88cc});
    add(OxmField::exact(OxmId::kEthType, et));
    if (et == 0x0806) {
      if (coin()) add(OxmField::exact(OxmId::kArpOp, pick({1, 2})));
      if (coin()) add(OxmField::masked(OxmId::kArpSpa, ipv4(), prefix32(pick({8, 24, 32}))));
      if (coin(30)) add(OxmField::exact(OxmId::kArpTpa, ipv4()));
      if (coin(30)) add(mac_field(OxmId::kArpSha));
      if (coin(20)) add(OxmField::exact(OxmId::kArpTha, 0));
      return m;
    }
    if (et != 0x0800 && et != 0x86dd) return m;
    if (coin(20)) add(OxmField::exact(OxmId::kIpDscp, pick({0, 46})));
    if (coin(10)) add(OxmField::exact(OxmId::kIpEcn, pick({0, 1})));
    if (et == 0x0800) {
      if (coin()) add(OxmField::masked(OxmId::kIpv4Src, ipv4(), prefix32(pick({8, 16, 24, 32}))));
      if (coin(40)) add(OxmField::masked(OxmId::kIpv4Dst, ipv4(), prefix32(pick({24, 32}))));
    } else {
      if (coin()) add(ipv6_field(OxmId::kIpv6Src));
      if (coin(30)) add(ipv6_field(OxmId::kIpv6Dst));
      if (coin(20)) add(OxmField::masked(OxmId::kIpv6Flabel, pick({0, 1}), pick({0xfffff, 1})));
    }
    if (!coin(60)) return m;
    const std::uint64_t proto = et == 0x0800 ? pick({6, 17, 1}) : pick({6, 17, 58});
    add(OxmField::exact(OxmId::kIpProto, proto));
    if (proto == 6 || proto == 17) {
      const bool tcp = proto == 6;
      if (coin()) add(OxmField::exact(tcp ? OxmId::kTcpDst : OxmId::kUdpDst, port()));
      if (coin(30)) add(OxmField::exact(tcp ? OxmId::kTcpSrc : OxmId::kUdpSrc, port()));
    } else {
      const bool v4 = proto == 1;
      if (coin()) add(OxmField::exact(v4 ? OxmId::kIcmpv4Type : OxmId::kIcmpv6Type, pick({0, 8})));
      if (coin(30))
        add(OxmField::exact(v4 ? OxmId::kIcmpv4Code : OxmId::kIcmpv6Code, pick({0, 1})));
    }
    return m;
  }

  std::uint16_t port() { return static_cast<std::uint16_t>(pick({80, 443, 53, 1024})); }

 private:
  static void put_mac(std::uint8_t* p, std::uint64_t v) {
    const Mac m = mac(v);
    std::memcpy(p, m.data(), 6);
  }
  static std::uint64_t prefix32(std::uint64_t len) {
    return len == 0 ? 0 : (0xffffffffULL << (32 - len)) & 0xffffffffULL;
  }
  OxmField mac_field(OxmId id) {
    const std::uint64_t v = mac_value();
    if (coin(70)) return OxmField::exact(id, v);
    const std::uint64_t mask = pick({0x010000000000, 0xffffff000000, 0xffffffffff00});
    return OxmField::masked(id, v & mask, mask);
  }
  OxmField ipv6_field(OxmId id) {
    std::array<std::uint8_t, 16> v{}, m{};
    v[0] = id == OxmId::kIpv6Src ? 0xfe : 0x20;
    if (id == OxmId::kIpv6Dst) v[1] = 0x20;
    v[15] = static_cast<std::uint8_t>(pick({1, 2, 3}));
    const unsigned plen = static_cast<unsigned>(pick({16, 64, 120, 128}));
    for (unsigned b = 0; b < plen; ++b) m[b / 8] |= static_cast<std::uint8_t>(0x80 >> (b % 8));
    for (int i = 0; i < 16; ++i) v[i] &= m[i];
    if (plen == 128) return OxmField::exact_bytes(id, v);
    return OxmField::masked_bytes(id, v, m);
  }
  void ip_common(vsw_flow_key& k, std::uint64_t proto) {
    k.ip_proto = static_cast<std::uint8_t>(proto);
    k.ip_tos = static_cast<std::uint8_t>(pick({0, 46 << 2, 1, (46 << 2) | 1}));
    k.ip_ttl = static_cast<std::uint8_t>(pick({1, 2, 64, 255}));
    k.ip_frag = static_cast<std::uint8_t>(
        coin(10) ? pick({VSW_FRAG_ANY, VSW_FRAG_ANY | VSW_FRAG_LATER}) : 0);
    if ((proto == 6 || proto == 17) && !(k.ip_frag & VSW_FRAG_LATER)) {
      k.tp_src = htons(port());
      k.tp_dst = htons(port());
      if (proto == 6) k.tcp_flags = htons(static_cast<std::uint16_t>(pick({0x02, 0x10, 0x12})));
    }
  }
  void icmp(vsw_flow_key& k) {
    k.icmp_type = static_cast<std::uint8_t>(pick({0, 8}));
    k.icmp_code = static_cast<std::uint8_t>(pick({0, 1}));
  }

  std::mt19937_64 rng_;
};

// ---- the reference: OXM semantics written out per field over the kernel key ----

// The kernel key's bytes for an OXM field, in the OXM's big-endian layout and length.
inline std::vector<std::uint8_t> oxm_bytes_of(const vsw_flow_key& k, OxmId id) {
  std::vector<std::uint8_t> out(openflow::oxm_info(id).len);
  auto put = [&](std::uint64_t v) {
    for (std::size_t i = out.size(); i-- > 0;) {
      out[i] = static_cast<std::uint8_t>(v);
      v >>= 8;
    }
  };
  auto copy = [&](const void* p) { std::memcpy(out.data(), p, out.size()); };
  const std::uint16_t tci = ntohs(k.vlan_tci);
  switch (id) {
    case OxmId::kInPort:
      put(k.in_port == 0 ? openflow::port::kLocal : k.in_port);
      break;
    case OxmId::kMetadata:
      put(0);  // the pipeline starts with metadata 0
      break;
    case OxmId::kEthDst:
      copy(k.eth_dst);
      break;
    case OxmId::kEthSrc:
      copy(k.eth_src);
      break;
    case OxmId::kEthType:
      copy(&k.eth_type);
      break;
    case OxmId::kVlanVid:
      put(tci & 0x1fff);  // OFPVID_PRESENT (0x1000) | VID; 0 = no tag
      break;
    case OxmId::kVlanPcp:
      put(tci >> 13);
      break;
    case OxmId::kIpDscp:
      put(k.ip_tos >> 2);
      break;
    case OxmId::kIpEcn:
      put(k.ip_tos & 3);
      break;
    case OxmId::kIpProto:
      put(k.ip_proto);
      break;
    case OxmId::kIpv4Src:
      copy(&k.ipv4_src);
      break;
    case OxmId::kIpv4Dst:
      copy(&k.ipv4_dst);
      break;
    case OxmId::kTcpSrc:
    case OxmId::kUdpSrc:
    case OxmId::kSctpSrc:
      copy(&k.tp_src);
      break;
    case OxmId::kTcpDst:
    case OxmId::kUdpDst:
    case OxmId::kSctpDst:
      copy(&k.tp_dst);
      break;
    case OxmId::kIcmpv4Type:
    case OxmId::kIcmpv6Type:
      put(k.icmp_type);
      break;
    case OxmId::kIcmpv4Code:
    case OxmId::kIcmpv6Code:
      put(k.icmp_code);
      break;
    case OxmId::kArpOp:
      copy(&k.arp_op);
      break;
    case OxmId::kArpSpa:
      copy(&k.arp_spa);
      break;
    case OxmId::kArpTpa:
      copy(&k.arp_tpa);
      break;
    case OxmId::kArpSha:
      copy(k.arp_sha);
      break;
    case OxmId::kArpTha:
      copy(k.arp_tha);
      break;
    case OxmId::kIpv6Src:
      copy(k.ipv6_src);
      break;
    case OxmId::kIpv6Dst:
      copy(k.ipv6_dst);
      break;
    case OxmId::kIpv6Flabel:
      put(ntohl(k.ipv6_label) & 0xfffff);
      break;
    default:
      if (id >= OxmId::kReg0) put(0);  // registers start at 0
      break;
  }
  return out;
}

inline bool reference_matches(const openflow::Match& m, const vsw_flow_key& k) {
  for (const OxmField& f : m.fields) {
    const auto bytes = oxm_bytes_of(k, f.id);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      const std::uint8_t mask = f.has_mask ? f.mask[i] : 0xff;
      if ((bytes[i] & mask) != (f.value[i] & mask)) return false;
    }
  }
  return true;
}

}  // namespace vsw::ofproto::test
