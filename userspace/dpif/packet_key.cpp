// Userspace key extraction, kernel/flow.c line for line. See packet_key.h.
#include "dpif/packet_key.h"

#include <arpa/inet.h>

#include <cstring>

namespace vsw::dpif {
namespace {

constexpr std::size_t kEthHlen = 14, kVlanHlen = 4;
constexpr std::uint16_t kEthIpv4 = 0x0800, kEthIpv6 = 0x86dd, kEthArp = 0x0806, kEth8021q = 0x8100,
                        kEth8021ad = 0x88a8, kEth8023Min = 0x0600, kEth8023 = 0x05ff;
constexpr std::uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoSctp = 132,
                       kProtoIcmpv6 = 58;
constexpr std::uint8_t kNextHop = 0, kNextRouting = 43, kNextFragment = 44, kNextDest = 60;
constexpr unsigned kMaxExtHeaders = 8;

// The frame with skb_header_pointer()'s contract: `len` bytes at `off`, or null.
class Frame {
 public:
  explicit Frame(std::span<const std::uint8_t> f) : f_(f) {}
  [[nodiscard]] const std::uint8_t* at(std::size_t off, std::size_t len) const {
    if (off > f_.size() || len > f_.size() - off) return nullptr;
    return f_.data() + off;
  }

 private:
  std::span<const std::uint8_t> f_;
};

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

void extract_l4(const Frame& f, std::size_t off, vsw_flow_key& key) {
  switch (key.ip_proto) {
    case kProtoTcp: {
      const std::uint8_t* th = f.at(off, 20);
      if (!th || (th[12] >> 4) < 5) return;
      std::memcpy(&key.tp_src, th, 2);
      std::memcpy(&key.tp_dst, th + 2, 2);
      key.tcp_flags = htons(be16(th + 12) & 0x0fff);
      return;
    }
    case kProtoUdp:
    case kProtoSctp: {  // ports first; the kernel wants the whole 8- or 12-byte header
      const std::uint8_t* h = f.at(off, key.ip_proto == kProtoUdp ? 8 : 12);
      if (!h) return;
      std::memcpy(&key.tp_src, h, 2);
      std::memcpy(&key.tp_dst, h + 2, 2);
      return;
    }
    case kProtoIcmp:
      if (key.eth_type != htons(kEthIpv4)) return;
      [[fallthrough]];
    case kProtoIcmpv6: {
      const std::uint8_t* ih = f.at(off, 2);
      if (!ih) return;
      key.icmp_type = ih[0];
      key.icmp_code = ih[1];
      return;
    }
    default:
      return;
  }
}

void extract_ipv4(const Frame& f, std::size_t off, vsw_flow_key& key) {
  const std::uint8_t* iph = f.at(off, 20);
  if (!iph) return;
  const std::size_t ihl = static_cast<std::size_t>(iph[0] & 0x0fU) * 4;
  if ((iph[0] >> 4) != 4 || ihl < 20) return;
  std::memcpy(&key.ipv4_src, iph + 12, 4);
  std::memcpy(&key.ipv4_dst, iph + 16, 4);
  key.ip_proto = iph[9];
  key.ip_tos = iph[1];
  key.ip_ttl = iph[8];
  const std::uint16_t frag_off = be16(iph + 6);
  if (frag_off & 0x3fff) key.ip_frag = VSW_FRAG_ANY;  // IP_MF | IP_OFFSET
  if (frag_off & 0x1fff) {                            // IP_OFFSET
    key.ip_frag |= VSW_FRAG_LATER;
    return;
  }
  extract_l4(f, off + ihl, key);
}

void extract_ipv6(const Frame& f, std::size_t off, vsw_flow_key& key) {
  const std::uint8_t* ip6 = f.at(off, 40);
  if (!ip6 || (ip6[0] >> 4) != 6) return;
  std::memcpy(key.ipv6_src, ip6 + 8, 16);
  std::memcpy(key.ipv6_dst, ip6 + 24, 16);
  const std::uint8_t label[4] = {0, static_cast<std::uint8_t>(ip6[1] & 0x0f), ip6[2], ip6[3]};
  std::memcpy(&key.ipv6_label, label, 4);
  key.ip_tos = static_cast<std::uint8_t>(be16(ip6) >> 4);
  key.ip_ttl = ip6[7];
  std::uint8_t nexthdr = ip6[6];
  off += 40;
  unsigned i = 0;
  for (; i < kMaxExtHeaders; ++i) {
    if (nexthdr == kNextFragment) {
      const std::uint8_t* fh = f.at(off, 8);
      if (!fh) break;
      key.ip_frag = VSW_FRAG_ANY;
      nexthdr = fh[0];
      off += 8;
      if (be16(fh + 2) & 0xfff8) {  // IP6_OFFSET: past it is payload, not headers
        key.ip_frag |= VSW_FRAG_LATER;
        break;
      }
      continue;
    }
    if (nexthdr != kNextHop && nexthdr != kNextRouting && nexthdr != kNextDest) break;
    const std::uint8_t* oh = f.at(off, 2);
    if (!oh) break;
    nexthdr = oh[0];
    off += (static_cast<std::size_t>(oh[1]) + 1) * 8;
  }
  key.ip_proto = nexthdr;
  if (!(key.ip_frag & VSW_FRAG_LATER) && i < kMaxExtHeaders) extract_l4(f, off, key);
}

void extract_arp(const Frame& f, std::size_t off, vsw_flow_key& key) {
  const std::uint8_t* arp = f.at(off, 28);
  if (!arp || be16(arp) != 1 /* ARPHRD_ETHER */ || be16(arp + 2) != kEthIpv4 || arp[4] != 6 ||
      arp[5] != 4)
    return;
  std::memcpy(&key.arp_op, arp + 6, 2);
  std::memcpy(key.arp_sha, arp + 8, 6);
  std::memcpy(&key.arp_spa, arp + 14, 4);
  std::memcpy(key.arp_tha, arp + 18, 6);
  std::memcpy(&key.arp_tpa, arp + 24, 4);
}

// The tag present bit in the DEI place of vlan_tci, DEI in vlan_dei (kernel: vsw_key_set_tag).
void set_tag(vsw_flow_key& key, std::uint16_t tci) {
  key.vlan_tci = htons(tci | VSW_VLAN_TAG_PRESENT);
  key.vlan_dei = (tci & VSW_VLAN_TAG_PRESENT) ? 1 : 0;
}

}  // namespace

vsw_flow_key extract_key(std::span<const std::uint8_t> frame, std::uint32_t in_port, TagMode mode) {
  vsw_flow_key key{};
  key.in_port = in_port;
  const Frame f(frame);
  const std::uint8_t* eth = f.at(0, kEthHlen);
  if (!eth) return key;
  std::memcpy(key.eth_dst, eth, 6);
  std::memcpy(key.eth_src, eth + 6, 6);
  std::size_t off = kEthHlen;
  std::uint16_t proto = be16(eth + 12);
  const std::uint8_t* vh = f.at(off, kVlanHlen);
  if (mode == TagMode::kReceived && (proto == kEth8021q || proto == kEth8021ad) && vh) {
    // The tag the stack took into skb metadata: the kernel sees the frame without it.
    set_tag(key, be16(vh));
    proto = be16(vh + 2);
    off += kVlanHlen;
  } else if (proto == kEth8021q) {
    if (!vh) {
      key.eth_type = htons(proto);
      return key;
    }
    set_tag(key, be16(vh));
    proto = be16(vh + 2);
    off += kVlanHlen;
  }
  if (proto < kEth8023Min) proto = kEth8023;
  key.eth_type = htons(proto);
  if (proto == kEthIpv4)
    extract_ipv4(f, off, key);
  else if (proto == kEthIpv6)
    extract_ipv6(f, off, key);
  else if (proto == kEthArp)
    extract_arp(f, off, key);
  return key;
}

}  // namespace vsw::dpif
