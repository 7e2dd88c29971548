// key_map: field values, coverage of every field both ways, from_oxm against a reference
// matcher written per field over the kernel key, and the megaflow contract of
// to_datapath_mask() on classifier lookups over random rules and kernel-shaped keys.
#include <catch2/catch_test_macros.hpp>

#include <cerrno>
#include <cstring>

#include "classifier/classifier.h"
#include "ofproto/key_map.h"
#include "test_util.h"

using namespace vsw::ofproto;
using namespace vsw::ofproto::test;
using vsw::classifier::Field;
using vsw::classifier::FlowKey;
using vsw::openflow::OxmField;
using vsw::openflow::OxmId;

TEST_CASE("to_classifier converts byte order, ports and subfields") {
  vsw_flow_key k = l2_key(0, 0x001122334455, 0xffffffffffff, tagged(10, 5), 0x0800);
  k.ipv4_src = htonl(0x0a000001);
  k.tp_dst = htons(80);
  k.ip_tos = (46 << 2) | 1;
  k.skb_mark = 7;
  std::memset(k.ipv6_src, 0, 16);
  k.ipv6_src[0] = 0xfe;
  k.ipv6_src[15] = 1;
  const FlowKey c = to_classifier(k);
  CHECK(c.get(Field::kInPort) == vsw::openflow::port::kLocal);
  CHECK(c.get(Field::kEthSrc) == 0x001122334455);
  CHECK(c.get(Field::kEthType) == 0x0800);
  CHECK(c.get(Field::kVlanVid) == 10);
  CHECK(c.get(Field::kVlanPcp) == 5);
  CHECK(c.get(Field::kVlanPresent) == 1);
  CHECK(c.get(Field::kIpv4Src) == 0x0a000001);
  CHECK(c.get(Field::kTpDst) == 80);
  CHECK(c.get(Field::kIpDscp) == 46);
  CHECK(c.get(Field::kIpEcn) == 1);
  CHECK(c.get(Field::kSkbMark) == 7);
  CHECK(c.get(Field::kIpv6SrcHi) == 0xfe00000000000000ULL);
  CHECK(c.get(Field::kIpv6SrcLo) == 1);
  CHECK(c.get(Field::kMetadata) == 0);

  k.in_port = 5;
  CHECK(to_classifier(k).get(Field::kInPort) == 5);
}

TEST_CASE("every classifier field maps to the kernel key and back") {
  // All kernel bits set: every field that has a kernel counterpart is all ones.
  vsw_flow_key ones;
  std::memset(&ones, 0xff, sizeof ones);
  std::memset(ones.pad, 0, sizeof ones.pad);
  ones.vlan_dei = 0;                 // OpenFlow has no DEI field: megaflows leave it wildcarded
  ones.ipv6_label = htonl(0xfffff);  // 20 bits; the kernel never sets the others
  const FlowKey c = to_classifier(ones);
  for (std::size_t i = 0; i < vsw::classifier::kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    const auto& fi = vsw::classifier::field_info(f);
    INFO(fi.name);
    const bool pipeline_only = f == Field::kMetadata ||
                               (i >= std::size_t(Field::kReg0) && i <= std::size_t(Field::kReg15));
    CHECK(c.get(f) == (pipeline_only ? 0 : vsw::classifier::low_bits(fi.width)));
  }
  // All classifier bits set: the whole kernel key (but padding) is in the mask.
  FlowKey all;
  for (std::size_t i = 0; i < vsw::classifier::kFieldCount; ++i)
    all.set(static_cast<Field>(i), ~0ULL);
  const vsw_flow_key m = to_datapath_mask(all);
  for (std::size_t i = 0; i < sizeof m; ++i) {
    INFO("byte " << i);
    CHECK(reinterpret_cast<const std::uint8_t*>(&m)[i] ==
          reinterpret_cast<const std::uint8_t*>(&ones)[i]);
  }
  // Pipeline-only bits never reach the datapath.
  FlowKey md;
  md.set(Field::kMetadata, ~0ULL);
  md.set(Field::kReg0, ~0ULL);
  CHECK(mask_is_zero(to_datapath_mask(md)));
  // One bit of in_port makes the whole port exact (the numbering differs).
  FlowKey port_bit;
  port_bit.set(Field::kInPort, 1);
  CHECK(to_datapath_mask(port_bit).in_port == 0xffffffffU);
}

TEST_CASE("from_oxm refuses what it cannot map and what OpenFlow forbids") {
  vsw::openflow::Match m;
  m.fields.push_back(OxmField::exact(OxmId::kMplsLabel, 5));
  m.fields.insert(m.fields.begin(), OxmField::exact(OxmId::kEthType, 0x8847));
  auto r = from_oxm(m);
  REQUIRE(!r);
  CHECK(r.error().code == std::errc::operation_not_supported);
  CHECK(r.error().message.find("mpls_label") != std::string::npos);

  vsw::openflow::Match dup;
  dup.fields = {OxmField::exact(OxmId::kInPort, 1), OxmField::exact(OxmId::kInPort, 2)};
  CHECK(from_oxm(dup).error().code == std::errc::invalid_argument);

  vsw::openflow::Match prereq;
  prereq.fields = {OxmField::exact(OxmId::kTcpDst, 80)};
  CHECK(from_oxm(prereq).error().code == std::errc::invalid_argument);

  CHECK(oxm_supported(OxmId::kIcmpv6Code));
  CHECK(!oxm_supported(OxmId::kPbbIsid));
}

TEST_CASE("set_oxm writes kernel fields in their byte order") {
  vsw_flow_key k{};
  REQUIRE(set_oxm(k, OxmField::exact(OxmId::kEthDst, 0x0a0b0c0d0e0f)));
  REQUIRE(set_oxm(k, OxmField::exact(OxmId::kIpv4Src, 0xc0a80001)));
  REQUIRE(set_oxm(k, OxmField::exact(OxmId::kUdpDst, 4789)));
  REQUIRE(set_oxm(k, OxmField::exact(OxmId::kIpDscp, 46)));
  const std::uint8_t want_mac[6] = {0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
  CHECK(std::memcmp(k.eth_dst, want_mac, 6) == 0);
  CHECK(ntohl(k.ipv4_src) == 0xc0a80001);
  CHECK(ntohs(k.tp_dst) == 4789);
  CHECK(k.ip_tos == 46 << 2);
  CHECK(set_oxm(k, OxmField::exact(OxmId::kMetadata, 1)).error().code ==
        std::errc::operation_not_supported);
}

TEST_CASE("from_oxm matches kernel keys exactly as the OXM reference does") {
  KeyGen gen(seed());
  std::size_t positives = 0, total = 0;
  for (int i = 0; i < 400; ++i) {
    const vsw::openflow::Match om = gen.match();
    REQUIRE(!vsw::openflow::validate_match(om));
    auto cm = from_oxm(om);
    REQUIRE(cm);
    for (int j = 0; j < 200; ++j) {
      const vsw_flow_key k = gen.key();
      const bool want = reference_matches(om, k);
      INFO("match #" << i << " " << vsw::classifier::to_string(*cm));
      REQUIRE(cm->matches(to_classifier(k)) == want);
      positives += want;
      ++total;
    }
  }
  CHECK(positives > total / 50);  // the test means something
}

TEST_CASE("classifier wildcards become megaflow masks that keep the contract") {
  // Random rule sets in a real classifier; for each kernel-shaped key, the best rule by a
  // linear scan with the reference matcher must equal the classifier's answer, and every
  // key agreeing with it on the datapath mask must get the same best rule.
  KeyGen gen(seed() + 1);
  for (int round = 0; round < 6; ++round) {
    vsw::classifier::Classifier cls;
    std::vector<vsw::openflow::Match> rules;
    const int n = 20 + static_cast<int>(gen.rng()() % 200);
    for (int i = 0; i < n; ++i) {
      rules.push_back(gen.match());
      auto cm = from_oxm(rules.back());
      REQUIRE(cm);
      REQUIRE(!cls.insert(*cm, /*priority=*/i, /*cookie=*/static_cast<std::uint64_t>(i)));
    }
    cls.publish();
    auto best = [&](const vsw_flow_key& k) -> int {
      for (int i = n - 1; i >= 0; --i)
        if (reference_matches(rules[static_cast<std::size_t>(i)], k)) return i;
      return -1;
    };
    for (int j = 0; j < 500; ++j) {
      const vsw_flow_key k = gen.key();
      FlowKey wc;
      const auto hit = cls.lookup(to_classifier(k), &wc);
      const int want = best(k);
      REQUIRE((hit ? static_cast<int>(hit->cookie) : -1) == want);
      const vsw::dpif::Match mf = megaflow(k, wc);
      for (int v = 0; v < 8; ++v) {
        const vsw_flow_key k2 = gen.agreeing(k, mf.mask);
        INFO("round " << round << " key " << j << " variant " << v);
        REQUIRE(best(k2) == want);
      }
    }
  }
}
