// The FlowKey layout (derived from flow_key.h's one table), subfields, the readable form,
// the classifier matching each field of the kernel key, and a check that every field of
// struct vsw_flow_key (netlink-proto/vsw.h) has a classifier field as wide: adding a
// kernel field without one fails here.
#include <catch2/catch_test_macros.hpp>

#include <linux/types.h>
#include <vsw.h>

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "classifier/classifier.h"
#include "classifier/flow_key.h"

using namespace vsw::classifier;

TEST_CASE("flow key layout: fields inside their words, no overlaps, stages in word order") {
  std::array<std::uint64_t, kWords> used{};
  std::set<std::string> names;
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    const FieldInfo& fi = field_info(f);
    INFO(fi.name);
    CHECK(names.insert(fi.name).second);
    REQUIRE(fi.word < kWords);
    REQUIRE(fi.width >= 1);
    REQUIRE(fi.shift + fi.width <= 64);
    // The word lies in the field's stage.
    const auto s = static_cast<std::size_t>(fi.stage);
    CHECK(fi.word >= kStageBegin[s]);
    CHECK(fi.word < kStageBegin[s + 1]);
    if (is_subfield(f)) {
      const FieldInfo& p = field_info(fi.parent);
      CHECK_FALSE(is_subfield(fi.parent));
      CHECK(p.word == fi.word);
      CHECK((fi.word_mask() & ~p.word_mask()) == 0);
    } else {
      CHECK((used[fi.word] & fi.word_mask()) == 0);  // primary fields never overlap
      used[fi.word] |= fi.word_mask();
    }
  }
  // Stages partition the words; every word holds some field.
  CHECK(kStageBegin[0] == 0);
  CHECK(kStageBegin[kStages] == kWords);
  for (std::size_t s = 0; s < kStages; ++s) CHECK(kStageBegin[s] < kStageBegin[s + 1]);
  for (std::size_t w = 0; w < kWords; ++w) CHECK(used[w] != 0);
  // The layout's rows are the primary fields, each once.
  CHECK(layout::kLayout.size() + layout::kSubfields.size() == kFieldCount);
}

TEST_CASE("subfields are views of their parent's bits") {
  FlowKey k;
  k.set(Field::kVlanTci, 0xb005);  // PCP 5, present, VID 5
  CHECK(k.get(Field::kVlanPcp) == 5);
  CHECK(k.get(Field::kVlanPresent) == 1);
  CHECK(k.get(Field::kVlanVid) == 5);
  k.set(Field::kVlanVid, 0xfff);
  CHECK(k.get(Field::kVlanTci) == 0xbfff);
  k.set(Field::kVlanPresent, 0);
  k.set(Field::kVlanPcp, 0);
  CHECK(k.get(Field::kVlanTci) == 0x0fff);
  k.set(Field::kIpTos, 0xb9);  // DSCP 46 (EF), ECN 1
  CHECK(k.get(Field::kIpDscp) == 46);
  CHECK(k.get(Field::kIpEcn) == 1);
  k.set(Field::kIpEcn, 3);
  CHECK(k.get(Field::kIpTos) == 0xbb);
  // Setting a subfield never spills into neighbours.
  k.set(Field::kIpProto, 0xff);
  k.set(Field::kIpTtl, 0xff);
  k.set(Field::kIpDscp, ~0ULL);
  CHECK(k.get(Field::kIpTos) == 0xff);
  CHECK(k.get(Field::kIpProto) == 0xff);
  CHECK(k.get(Field::kIpTtl) == 0xff);
  // A mask of a subfield is the parent's bits.
  CHECK(FlowKey::field_mask(Field::kVlanPcp).get(Field::kVlanTci) == 0xe000);
  CHECK(FlowKey::field_mask(Field::kIpDscp).get(Field::kIpTos) == 0xfc);
}

TEST_CASE("to_string shows fields in layout order and subfield masks by name") {
  Match m;
  m.set_exact(Field::kEthType, 0x0806);
  m.set_exact(Field::kVlanVid, 5);
  m.set_exact(Field::kArpOp, 1);
  m.set_prefix(Field::kArpTpa, 0x0a000000, 8);
  m.set_exact(Field::kIcmpType, 8);
  CHECK(to_string(m) ==
        "eth_type=0x806,vlan_vid=0x5,arp_tpa=0xa000000/0xff000000,arp_op=0x1,icmp_type=0x8");
  Match t;
  t.set_masked(Field::kVlanTci, 0x1005, 0x1fff);  // VID and present: no single subfield
  t.set_exact(Field::kIpDscp, 46);
  CHECK(to_string(t) == "vlan_tci=0x1005/0x1fff,ip_dscp=0x2e");
  FlowKey k;
  k.set(Field::kSkbMark, 7);
  k.set(Field::kVlanTci, 0x1005);
  CHECK(to_string(k) == "skb_mark=0x7,vlan_tci=0x1005");
}

namespace {

// A member of struct vsw_flow_key and the classifier fields that hold it, most
// significant first (IPv6 addresses: two), with the bits of the member they use.
struct KernelField {
  const char* member;
  std::size_t offset, size;
  std::vector<Field> fields;
  unsigned bits;  // bits of the member that carry the field (<= 8 * size)
};

#define KF(m, bits, ...)                                                         \
  KernelField {                                                                  \
#m, offsetof(vsw_flow_key, m), sizeof(vsw_flow_key::m), {__VA_ARGS__ }, bits \
  }

const std::vector<KernelField>& kernel_fields() {
  static const std::vector<KernelField> v = {
      KF(in_port, 32, Field::kInPort),
      KF(skb_mark, 32, Field::kSkbMark),
      KF(eth_src, 48, Field::kEthSrc),
      KF(eth_dst, 48, Field::kEthDst),
      KF(eth_type, 16, Field::kEthType),
      KF(vlan_tci, 16, Field::kVlanTci),
      KF(ip_proto, 8, Field::kIpProto),
      KF(ip_tos, 8, Field::kIpTos),
      KF(ip_ttl, 8, Field::kIpTtl),
      KF(ip_frag, 8, Field::kIpFrag),
      KF(ipv6_label, 20, Field::kIpv6Label),  // low 20 bits
      KF(ipv4_src, 32, Field::kIpv4Src),
      KF(ipv4_dst, 32, Field::kIpv4Dst),
      KF(ipv6_src, 128, Field::kIpv6SrcHi, Field::kIpv6SrcLo),
      KF(ipv6_dst, 128, Field::kIpv6DstHi, Field::kIpv6DstLo),
      KF(tp_src, 16, Field::kTpSrc),
      KF(tp_dst, 16, Field::kTpDst),
      KF(tcp_flags, 16, Field::kTcpFlags),  // the kernel uses the low 12
      KF(icmp_type, 8, Field::kIcmpType),
      KF(icmp_code, 8, Field::kIcmpCode),
      KF(arp_spa, 32, Field::kArpSpa),
      KF(arp_tpa, 32, Field::kArpTpa),
      KF(arp_sha, 48, Field::kArpSha),
      KF(arp_tha, 48, Field::kArpTha),
      KF(arp_op, 16, Field::kArpOp),
      KF(vlan_dei, 0),  // OpenFlow has no DEI field: nothing to classify
      KF(pad, 0),
  };
  return v;
}
#undef KF

}  // namespace

TEST_CASE("every field of struct vsw_flow_key has a classifier field as wide") {
  std::size_t end = 0;
  for (const KernelField& kf : kernel_fields()) {
    INFO(kf.member);
    // The list covers the struct in order, member after member: a new kernel field that
    // has no row here leaves a gap (or a missing tail) and fails.
    CHECK(kf.offset == end);
    end = kf.offset + kf.size;
    unsigned width = 0;
    for (Field f : kf.fields) {
      CHECK_FALSE(is_subfield(f));
      width += field_info(f).width;
    }
    CHECK(width == kf.bits);
    CHECK(kf.bits <= 8 * kf.size);
  }
  CHECK(end == sizeof(vsw_flow_key));
  // VLAN TCI subfields sit where the kernel puts them.
  CHECK(FlowKey::field_mask(Field::kVlanVid).get(Field::kVlanTci) == VSW_VLAN_VID_MASK);
  CHECK(FlowKey::field_mask(Field::kVlanPresent).get(Field::kVlanTci) == VSW_VLAN_TAG_PRESENT);
  CHECK(field_info(Field::kVlanPcp).shift - field_info(Field::kVlanTci).shift ==
        VSW_VLAN_PCP_SHIFT);
}

TEST_CASE("the classifier matches each field, un-wildcarding only that field on a miss") {
  // One rule per field: an exact match on a non-zero value. A key with that value hits
  // and un-wildcards exactly the field; a key one bit away misses and, since the rule
  // has no other bits, needs only the field's bits too (with prefix tracking, maybe fewer).
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    INFO(field_info(f).name);
    const std::uint64_t v = 1ULL << (field_info(f).width - 1) | 1;
    Match m;
    m.set_exact(f, v);
    Classifier cls;
    REQUIRE_FALSE(cls.insert(m, 1, i));
    cls.publish();
    FlowKey k;
    k.set(f, v);
    FlowKey wc;
    const auto h = cls.lookup(k, &wc);
    REQUIRE(h.has_value());
    CHECK(h->cookie == i);
    CHECK(wc == m.mask);
    k.set(f, v ^ (field_info(f).width > 1 ? 2 : 1));
    wc = {};
    CHECK_FALSE(cls.lookup(k, &wc).has_value());
    CHECK((wc & m.mask) == wc);  // nothing outside the field
    CHECK(wc.popcount() >= 1);
  }
}

TEST_CASE("ARP and ICMP rules: earlier stages prove misses without their bits") {
  Classifier cls(Config{.staged = true, .prefix_fields = 0});
  Match arp, icmp;
  arp.set_exact(Field::kInPort, 1);
  arp.set_exact(Field::kEthType, 0x0806);
  arp.set_exact(Field::kArpOp, 1);
  arp.set_exact(Field::kArpTpa, 0x0a000001);
  icmp.set_exact(Field::kEthType, 0x0800);
  icmp.set_exact(Field::kIpProto, 1);
  icmp.set_exact(Field::kIcmpType, 8);
  icmp.set_exact(Field::kIcmpCode, 0);
  REQUIRE_FALSE(cls.insert(arp, 10, 1));
  REQUIRE_FALSE(cls.insert(icmp, 5, 2));
  cls.publish();

  FlowKey k;  // an ARP request for 10.0.0.1 on port 1
  k.set(Field::kInPort, 1);
  k.set(Field::kEthType, 0x0806);
  k.set(Field::kArpOp, 1);
  k.set(Field::kArpTpa, 0x0a000001);
  k.set(Field::kArpSpa, 0x0a000002);
  FlowKey wc;
  CHECK(cls.lookup(k, &wc)->cookie == 1);
  CHECK(wc.get(Field::kArpSpa) == 0);
  // From port 2: the metadata stage proves the ARP rule's miss, eth_type the ICMP one's.
  k.set(Field::kInPort, 2);
  wc = {};
  CHECK_FALSE(cls.lookup(k, &wc).has_value());
  CHECK(wc.get(Field::kArpTpa) == 0);
  CHECK(wc.get(Field::kArpOp) == 0);
  CHECK(wc.get(Field::kIpProto) == 0);
  // A TCP packet: the ICMP rule misses at L3 (ip_proto), its L4 bits stay wildcarded.
  FlowKey t;
  t.set(Field::kEthType, 0x0800);
  t.set(Field::kIpProto, 6);
  t.set(Field::kIcmpType, 8);  // (a kernel key has 0 here; the point is the wildcard)
  wc = {};
  CHECK_FALSE(cls.lookup(t, &wc).has_value());
  CHECK(wc.get(Field::kIpProto) == 0xff);
  CHECK(wc.get(Field::kIcmpType) == 0);
  CHECK(wc.get(Field::kIcmpCode) == 0);
  // An echo request hits.
  t.set(Field::kIpProto, 1);
  wc = {};
  CHECK(cls.lookup(t, &wc)->cookie == 2);
  CHECK(wc.get(Field::kIcmpType) == 0xff);
}
