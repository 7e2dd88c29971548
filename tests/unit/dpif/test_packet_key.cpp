// extract_key() against hand-built frames: one case per header kind and per rule of
// kernel/flow.c (packet_key.h lists them), each with the key the kernel extracts; then every
// truncation of every case, each prefix in a heap buffer of exactly its size, so the ASan
// build of this test (tests/unit/dpif/CMakeLists.txt) catches any read past the frame.
#include <arpa/inet.h>

#include <catch2/catch_test_macros.hpp>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "dpif/packet_key.h"

using vsw::dpif::extract_key;
using vsw::dpif::TagMode;

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint8_t kDst[6] = {0x02, 0, 0, 0, 0, 0x0b};
constexpr std::uint8_t kSrc[6] = {0x02, 0, 0, 0, 0, 0x0a};

void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32(Bytes& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}
void put(Bytes& b, const Bytes& more) {
  b.insert(b.end(), more.begin(), more.end());
}

// Ethernet header; tags are (TPID, TCI) pairs written after the source MAC.
Bytes eth(std::uint16_t type, std::vector<std::pair<std::uint16_t, std::uint16_t>> tags = {}) {
  Bytes b(kDst, kDst + 6);
  b.insert(b.end(), kSrc, kSrc + 6);
  for (auto [tpid, tci] : tags) {
    put16(b, tpid);
    put16(b, tci);
  }
  put16(b, type);
  return b;
}

Bytes ipv4(std::uint8_t proto, std::uint16_t frag_off = 0, std::uint8_t ihl = 5,
           std::uint8_t version = 4) {
  Bytes b{static_cast<std::uint8_t>(version << 4 | ihl), 0xb8};  // tos: DSCP 46
  put16(b, 0);                                                   // tot_len: not read
  put16(b, 0x1234);
  put16(b, frag_off);
  b.push_back(64);  // ttl
  b.push_back(proto);
  put16(b, 0);
  put32(b, 0x0a000001);
  put32(b, 0x0a000002);
  for (unsigned i = 5; i < ihl; ++i) put32(b, 0x01010101);  // options (NOPs)
  return b;
}

Bytes ipv6(std::uint8_t next, std::uint8_t tclass = 0xa5, std::uint32_t label = 0xbcdef) {
  Bytes b;
  put32(b, 6U << 28 | std::uint32_t{tclass} << 20 | label);
  put16(b, 0);  // payload length: not read
  b.push_back(next);
  b.push_back(255);  // hop limit
  for (int i = 0; i < 16; ++i) b.push_back(static_cast<std::uint8_t>(0x20 + i));
  for (int i = 0; i < 16; ++i) b.push_back(static_cast<std::uint8_t>(0x40 + i));
  return b;
}

// An IPv6 extension header of (len8 + 1) * 8 bytes.
Bytes ext(std::uint8_t next, std::uint8_t len8 = 0) {
  Bytes b{next, len8};
  b.resize((len8 + 1U) * 8U, 0);
  return b;
}

Bytes frag6(std::uint8_t next, std::uint16_t offset_and_flags) {
  Bytes b{next, 0};
  put16(b, offset_and_flags);
  put32(b, 0xcafe);
  return b;
}

Bytes tcp(std::uint16_t flags, std::uint8_t doff = 5) {
  Bytes b;
  put16(b, 34567);
  put16(b, 80);
  put32(b, 1);
  put32(b, 0);
  put16(b, static_cast<std::uint16_t>(doff << 12 | flags));
  put16(b, 1024);
  put32(b, 0);
  return b;
}

Bytes udp() {
  Bytes b;
  put16(b, 5353);
  put16(b, 53);
  put16(b, 8);
  put16(b, 0);
  return b;
}

Bytes sctp() {
  Bytes b;
  put16(b, 2905);
  put16(b, 2906);
  put32(b, 0xdeadbeef);
  put32(b, 0);
  return b;
}

Bytes arp(std::uint16_t op, std::uint8_t hln = 6) {
  Bytes b;
  put16(b, 1);
  put16(b, 0x0800);
  b.push_back(hln);
  b.push_back(4);
  put16(b, op);
  b.insert(b.end(), kSrc, kSrc + 6);
  put32(b, 0x0a000001);
  b.insert(b.end(), 6, 0);
  put32(b, 0x0a000002);
  return b;
}

// The key of a frame with the test MACs, before the fields a case sets.
vsw_flow_key base(std::uint16_t eth_type, std::uint16_t tci = 0) {
  vsw_flow_key k{};
  k.in_port = 3;
  std::memcpy(k.eth_dst, kDst, 6);
  std::memcpy(k.eth_src, kSrc, 6);
  k.eth_type = htons(eth_type);
  k.vlan_tci = htons(tci);
  return k;
}
void v4(vsw_flow_key& k, std::uint8_t proto) {
  k.ip_proto = proto;
  k.ip_tos = 0xb8;
  k.ip_ttl = 64;
  k.ipv4_src = htonl(0x0a000001);
  k.ipv4_dst = htonl(0x0a000002);
}
void v6(vsw_flow_key& k, std::uint8_t proto) {
  k.ip_proto = proto;
  k.ip_tos = 0xa5;
  k.ip_ttl = 255;
  k.ipv6_label = htonl(0xbcdef);
  for (int i = 0; i < 16; ++i) {
    k.ipv6_src[i] = static_cast<std::uint8_t>(0x20 + i);
    k.ipv6_dst[i] = static_cast<std::uint8_t>(0x40 + i);
  }
}
void ports(vsw_flow_key& k, std::uint16_t src, std::uint16_t dst) {
  k.tp_src = htons(src);
  k.tp_dst = htons(dst);
}

struct Case {
  std::string what;
  Bytes frame;
  TagMode mode;
  vsw_flow_key want;
};

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes b;
  for (const Bytes& p : parts) put(b, p);
  return b;
}

std::vector<Case> cases() {
  std::vector<Case> cs;
  const auto add = [&](std::string what, Bytes frame, const std::function<void(vsw_flow_key&)>& f,
                       std::uint16_t type, std::uint16_t tci = 0,
                       TagMode mode = TagMode::kReceived) {
    vsw_flow_key k = base(type, tci);
    if (f) f(k);
    cs.push_back({std::move(what), std::move(frame), mode, k});
  };
  constexpr std::uint16_t kTag = VSW_VLAN_TAG_PRESENT;

  add("unknown ethertype: L2 only", cat({eth(0x88cc), Bytes(30, 0xee)}), nullptr, 0x88cc);
  add("802.3 length becomes 0x05ff", cat({eth(0x0040), Bytes(64, 0)}), nullptr, 0x05ff);
  add(
      "ARP request", cat({eth(0x0806), arp(1)}),
      [](vsw_flow_key& k) {
        k.arp_op = htons(1);
        std::memcpy(k.arp_sha, kSrc, 6);
        k.arp_spa = htonl(0x0a000001);
        k.arp_tpa = htonl(0x0a000002);
      },
      0x0806);
  add("ARP with a hardware length other than 6: eth_type only",
      cat({eth(0x0806), arp(1, 8), Bytes(4, 0)}), nullptr, 0x0806);
  add(
      "IPv4 TCP SYN|ACK with NS and a reserved bit",
      cat({eth(0x0800), ipv4(6), tcp(0x0112 | 0x0200)}),
      [](vsw_flow_key& k) {
        v4(k, 6);
        ports(k, 34567, 80);
        k.tcp_flags = htons(0x0312);
      },
      0x0800);
  add(
      "IPv4 TCP with data offset 4: no L4", cat({eth(0x0800), ipv4(6), tcp(0x02, 4)}),
      [](vsw_flow_key& k) { v4(k, 6); }, 0x0800);
  add(
      "IPv4 with options, UDP", cat({eth(0x0800), ipv4(17, 0, 7), udp()}),
      [](vsw_flow_key& k) {
        v4(k, 17);
        ports(k, 5353, 53);
      },
      0x0800);
  add(
      "IPv4 SCTP", cat({eth(0x0800), ipv4(132), sctp()}),
      [](vsw_flow_key& k) {
        v4(k, 132);
        ports(k, 2905, 2906);
      },
      0x0800);
  add(
      "IPv4 ICMP echo", cat({eth(0x0800), ipv4(1), Bytes{8, 0, 0, 0, 0, 1, 0, 1}}),
      [](vsw_flow_key& k) {
        v4(k, 1);
        k.icmp_type = 8;
      },
      0x0800);
  add(
      "ICMPv6 type/code read inside IPv4 too", cat({eth(0x0800), ipv4(58), Bytes{135, 3}}),
      [](vsw_flow_key& k) {
        v4(k, 58);
        k.icmp_type = 135;
        k.icmp_code = 3;
      },
      0x0800);
  add(
      "IPv4 first fragment (MF): L4 read", cat({eth(0x0800), ipv4(17, 0x2000), udp()}),
      [](vsw_flow_key& k) {
        v4(k, 17);
        k.ip_frag = VSW_FRAG_ANY;
        ports(k, 5353, 53);
      },
      0x0800);
  add(
      "IPv4 later fragment: no L4", cat({eth(0x0800), ipv4(17, 0x0010), udp()}),
      [](vsw_flow_key& k) {
        v4(k, 17);
        k.ip_frag = VSW_FRAG_ANY | VSW_FRAG_LATER;
      },
      0x0800);
  add(
      "IPv4 DF only is not a fragment", cat({eth(0x0800), ipv4(17, 0x4000), udp()}),
      [](vsw_flow_key& k) {
        v4(k, 17);
        ports(k, 5353, 53);
      },
      0x0800);
  add("IPv4 IHL 4: eth_type only", cat({eth(0x0800), ipv4(17, 0, 4), udp()}), nullptr, 0x0800);
  add("IPv4 version 6 in an IPv4 frame: eth_type only",
      cat({eth(0x0800), ipv4(17, 0, 5, 6), udp()}), nullptr, 0x0800);
  add(
      "IPv6 TCP FIN", cat({eth(0x86dd), ipv6(6), tcp(0x01)}),
      [](vsw_flow_key& k) {
        v6(k, 6);
        ports(k, 34567, 80);
        k.tcp_flags = htons(0x01);
      },
      0x86dd);
  add(
      "IPv6 ICMPv6 neighbour solicitation", cat({eth(0x86dd), ipv6(58), Bytes{135, 0, 0, 0}}),
      [](vsw_flow_key& k) {
        v6(k, 58);
        k.icmp_type = 135;
      },
      0x86dd);
  add(
      "ICMP (v4) inside IPv6: ip_proto only", cat({eth(0x86dd), ipv6(1), Bytes{8, 0, 0, 0}}),
      [](vsw_flow_key& k) { v6(k, 1); }, 0x86dd);
  add(
      "IPv6 hop-by-hop, routing (24 bytes), destination options, UDP",
      cat({eth(0x86dd), ipv6(0), ext(43), ext(60, 2), ext(17), udp()}),
      [](vsw_flow_key& k) {
        v6(k, 17);
        ports(k, 5353, 53);
      },
      0x86dd);
  add(
      "IPv6 first fragment: L4 read", cat({eth(0x86dd), ipv6(44), frag6(17, 0x0001), udp()}),
      [](vsw_flow_key& k) {
        v6(k, 17);
        k.ip_frag = VSW_FRAG_ANY;
        ports(k, 5353, 53);
      },
      0x86dd);
  add(
      "IPv6 later fragment: the walk stops, its next header is ip_proto",
      cat({eth(0x86dd), ipv6(0), ext(44), frag6(60, 0x0008), ext(17), udp()}),
      [](vsw_flow_key& k) {
        v6(k, 60);
        k.ip_frag = VSW_FRAG_ANY | VSW_FRAG_LATER;
      },
      0x86dd);
  {
    // IPv6, n destination-options headers (the last announcing TCP), a TCP SYN.
    const auto chain = [](int n) {
      Bytes b = cat({eth(0x86dd), ipv6(60)});
      for (int i = 1; i < n; ++i) put(b, ext(60));
      put(b, ext(6));
      put(b, tcp(0x02));
      return b;
    };
    const Bytes seven = chain(7), eight = chain(8);
    add(
        "IPv6 with 7 extension headers: L4 read", seven,
        [](vsw_flow_key& k) {
          v6(k, 6);
          ports(k, 34567, 80);
          k.tcp_flags = htons(0x02);
        },
        0x86dd);
    add(
        "IPv6 with 8 extension headers: ip_proto, no L4", eight, [](vsw_flow_key& k) { v6(k, 6); },
        0x86dd);
  }
  add("IPv6 version 4 in an IPv6 frame: eth_type only", cat({eth(0x86dd), ipv4(6), Bytes(40, 0)}),
      nullptr, 0x86dd);
  for (const TagMode m : {TagMode::kReceived, TagMode::kExecuted}) {
    const std::string mode = m == TagMode::kReceived ? " (received)" : " (executed)";
    add(
        "802.1Q VID 10 PCP 5, UDP" + mode, cat({eth(0x0800, {{0x8100, 0xa00a}}), ipv4(17), udp()}),
        [](vsw_flow_key& k) {
          v4(k, 17);
          ports(k, 5353, 53);
        },
        0x0800, 0xa00a | kTag, m);
    add(
        "802.1Q with DEI set: present bit in its place, DEI in vlan_dei" + mode,
        cat({eth(0x0806, {{0x8100, 0x1005}}), Bytes(28, 0)}),
        [](vsw_flow_key& k) { k.vlan_dei = 1; }, 0x0806, 0x1005 | kTag, m);
    add("priority tag (VID 0), 802.3 inside" + mode,
        cat({eth(0x0020, {{0x8100, 0x2000}}), Bytes(40, 0)}), nullptr, 0x05ff, 0x2000 | kTag, m);
    add("802.1Q inside 802.1Q: one tag read" + mode,
        cat({eth(0x0800, {{0x8100, 20}, {0x8100, 30}}), ipv4(17), udp()}), nullptr, 0x8100,
        20 | kTag, m);
  }
  add("802.1ad outer tag, received: the S-tag is the tag",
      cat({eth(0x0800, {{0x88a8, 100}, {0x8100, 30}}), ipv4(17), udp()}), nullptr, 0x8100,
      100 | kTag);
  add(
      "802.1ad alone, received", cat({eth(0x0800, {{0x88a8, 100}}), ipv4(17), udp()}),
      [](vsw_flow_key& k) {
        v4(k, 17);
        ports(k, 5353, 53);
      },
      0x0800, 100 | kTag);
  add("802.1ad, executed: its type is eth_type",
      cat({eth(0x0800, {{0x88a8, 100}}), ipv4(17), udp()}), nullptr, 0x88a8, 0, TagMode::kExecuted);
  {
    Bytes f = eth(0x8100);
    f.push_back(0x00);
    f.push_back(0x0a);
    add("802.1Q tag cut short: eth_type 0x8100 only", f, nullptr, 0x8100, 0, TagMode::kExecuted);
    add("802.1Q tag cut short, received: eth_type 0x8100 only", f, nullptr, 0x8100);
  }
  {
    vsw_flow_key k{};
    k.in_port = 3;
    cs.push_back({"13 bytes: in_port only", Bytes(13, 0xff), TagMode::kReceived, k});
    cs.push_back({"empty frame: in_port only", Bytes{}, TagMode::kReceived, k});
  }
  return cs;
}

std::string hex(const vsw_flow_key& k) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  const auto* p = reinterpret_cast<const std::uint8_t*>(&k);
  for (std::size_t i = 0; i < sizeof k; ++i) {
    if (i && i % 8 == 0) s += ' ';
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

}  // namespace

TEST_CASE("extract_key gives the kernel's key for each kind of frame", "[packet_key]") {
  for (const Case& c : cases()) {
    INFO(c.what);
    const vsw_flow_key got = extract_key(c.frame, 3, c.mode);
    CHECK(hex(got) == hex(c.want));
  }
}

TEST_CASE("extract_key on every truncation reads only the frame", "[packet_key]") {
  std::size_t prefixes = 0;
  for (const Case& c : cases()) {
    INFO(c.what);
    for (std::size_t len = 0; len <= c.frame.size(); ++len) {
      INFO("length " << len);
      // A heap buffer of exactly len bytes: ASan reports any read past it.
      const Bytes prefix(c.frame.begin(), c.frame.begin() + static_cast<long>(len));
      const vsw_flow_key k = extract_key(prefix, 3, c.mode);
      ++prefixes;
      CHECK(k.in_port == 3);
      CHECK(k.skb_mark == 0);
      CHECK(k.pad[0] == 0);
      if (len < 14) {
        vsw_flow_key only{};
        only.in_port = 3;
        CHECK(hex(k) == hex(only));
      } else {
        CHECK(std::memcmp(k.eth_dst, kDst, 6) == 0);
      }
      // A prefix that still holds every header the full frame's key came from gives it.
      if (len == c.frame.size()) CHECK(hex(k) == hex(c.want));
    }
  }
  CHECK(prefixes > 2000);
}
