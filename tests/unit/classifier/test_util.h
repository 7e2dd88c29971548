// Random rule sets and keys for the classifier tests, from a seeded generator.
#pragma once

#include <catch2/catch_get_random_seed.hpp>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#include "classifier/classbench.h"
#include "classifier/classifier.h"

namespace vsw::classifier::test {

// The seed: VSW_SEED from the environment, else Catch2's (--rng-seed N fixes it).
inline std::uint64_t seed() {
  if (const char* s = std::getenv("VSW_SEED")) return std::strtoull(s, nullptr, 0);
  return Catch::getSeed();
}

// Rules built from a few mask templates and small value pools, so that masks repeat,
// rules overlap and keys drawn near rules hit them.
class RuleGen {
 public:
  explicit RuleGen(std::uint64_t seed) : rng_(seed) {
    for (auto& a : v4_) a = static_cast<std::uint32_t>(rng_());
    for (auto& a : v6_) a = rng_();
    for (auto& p : ports_) p = static_cast<std::uint16_t>(rng_() % 2048);
  }
  std::mt19937_64& rng() { return rng_; }

  Match random_mask() {
    Match m;
    auto coin = [&](int pct) { return static_cast<int>(rng_() % 100) < pct; };
    if (coin(20)) m.mask.set(Field::kInPort, ~0ULL);
    if (coin(10)) m.mask.set(Field::kMetadata, rng_() & rng_());
    if (coin(10)) m.mask.set(Field::kReg0, rng_() & 0xff);
    if (coin(10)) m.mask.set(Field::kVlanTci, 0x0fff);
    const bool v6 = coin(20);
    if (coin(85)) m.mask.set(Field::kEthType, 0xffff);
    if (coin(10)) m.mask.set(Field::kEthDst, 0xffffffffffffULL);
    if (!v6) {
      if (coin(60)) m.set_prefix(Field::kIpv4Src, 0, plen(32));
      if (coin(60)) m.set_prefix(Field::kIpv4Dst, 0, plen(32));
      if (coin(5)) m.mask.set(Field::kIpv4Dst, rng_() & 0xffffffff);  // arbitrary mask
    } else {
      const unsigned s = plen(128), d = plen(128);
      m.mask.set(Field::kIpv6SrcHi, s >= 64 ? ~0ULL : s == 0 ? 0 : ~0ULL << (64 - s));
      m.mask.set(Field::kIpv6SrcLo, s <= 64 ? 0 : s == 128 ? ~0ULL : ~0ULL << (128 - s));
      if (coin(50)) m.mask.set(Field::kIpv6DstHi, d >= 64 ? ~0ULL : d == 0 ? 0 : ~0ULL << (64 - d));
    }
    if (coin(60)) m.mask.set(Field::kIpProto, 0xff);
    if (coin(5)) m.mask.set(Field::kIpTos, 0xfc);
    if (coin(40)) m.set_prefix(Field::kTpDst, 0, plen(16));
    if (coin(25)) m.set_prefix(Field::kTpSrc, 0, plen(16));
    if (coin(5)) m.mask.set(Field::kTpSrc, rng_() & 0xffff);  // arbitrary mask
    // The fields added with the kernel key (subfields, ARP, ICMP, marks and flags), in
    // every stage, so that all words of the key take part.
    if (coin(8)) m.mask.set(Field::kSkbMark, rng_() % 2 ? 0xffffffff : rng_() & 0xff);
    if (coin(6)) m.set_exact(Field::kVlanPresent, 0);
    if (coin(6)) m.set_exact(Field::kVlanPcp, 0);
    if (coin(4)) m.set_exact(Field::kVlanVid, 0);
    if (coin(5)) m.set_exact(Field::kIpDscp, 0);
    if (coin(5)) m.set_exact(Field::kIpEcn, 0);
    if (coin(3)) m.set_exact(Field::kIpv6Label, 0);
    if (coin(10)) {  // ARP
      m.set_exact(Field::kArpOp, 0);
      if (coin(60)) m.set_prefix(Field::kArpSpa, 0, plen(32));
      if (coin(60)) m.set_prefix(Field::kArpTpa, 0, plen(32));
      if (coin(20)) m.set_exact(Field::kArpSha, 0);
      if (coin(20)) m.mask.set(Field::kArpTha, rng_() & 0xffffffffffffULL);
    }
    if (coin(8)) m.set_exact(Field::kIcmpType, 0);
    if (coin(5)) m.set_exact(Field::kIcmpCode, 0);
    if (coin(5)) m.mask.set(Field::kTcpFlags, rng_() & 0x0fff);
    return m;
  }

  // A match with the mask of `tmpl` and values from the pools.
  Match fill(const Match& tmpl) {
    FlowKey v = random_key();
    Match m{v, tmpl.mask};
    m.normalize();
    return m;
  }

  FlowKey random_key() {
    FlowKey k;
    k.set(Field::kInPort, rng_() % 4);
    k.set(Field::kMetadata, rng_() % 2 ? 0 : rng_());
    k.set(Field::kReg0, rng_() % 8);
    k.set(Field::kVlanTci, rng_() % 3);
    k.set(Field::kEthDst, rng_() % 3);
    k.set(Field::kEthType, rng_() % 4 ? 0x0800 : 0x86dd);
    k.set(Field::kIpv4Src, near(v4_[rng_() % v4_.size()]));
    k.set(Field::kIpv4Dst, near(v4_[rng_() % v4_.size()]));
    k.set(Field::kIpv6SrcHi, v6_[rng_() % v6_.size()]);
    k.set(Field::kIpv6SrcLo, v6_[rng_() % v6_.size()] ^ (rng_() % 4));
    k.set(Field::kIpv6DstHi, v6_[rng_() % v6_.size()]);
    k.set(Field::kIpProto, rng_() % 3 ? 6 : 17);
    k.set(Field::kIpTos, rng_() % 4);
    k.set(Field::kTpSrc, ports_[rng_() % ports_.size()] ^ (rng_() % 8));
    k.set(Field::kTpDst, ports_[rng_() % ports_.size()] ^ (rng_() % 8));
    k.set(Field::kSkbMark, rng_() % 3);
    k.set(Field::kVlanPresent, rng_() % 2);
    k.set(Field::kVlanPcp, rng_() % 3);
    k.set(Field::kIpDscp, rng_() % 3);
    k.set(Field::kIpEcn, rng_() % 2);
    k.set(Field::kIpv6Label, rng_() % 3);
    k.set(Field::kArpOp, 1 + rng_() % 2);
    k.set(Field::kArpSpa, near(v4_[rng_() % v4_.size()]));
    k.set(Field::kArpTpa, near(v4_[rng_() % v4_.size()]));
    k.set(Field::kArpSha, rng_() % 3);
    k.set(Field::kArpTha, rng_() % 3);
    k.set(Field::kIcmpType, rng_() % 4);
    k.set(Field::kIcmpCode, rng_() % 2);
    k.set(Field::kTcpFlags, rng_() % 4);
    return k;
  }

  // A key that matches m, sometimes disturbed by one bit.
  FlowKey key_near(const Match& m) {
    FlowKey k = random_key();
    for (std::size_t i = 0; i < kWords; ++i) k.w[i] = (k.w[i] & ~m.mask.w[i]) | m.value.w[i];
    if (rng_() % 3 == 0) {
      const Field f = static_cast<Field>(rng_() % static_cast<unsigned>(Field::kCount));
      k.set(f, k.get(f) ^ (1ULL << (rng_() % field_info(f).width)));
    }
    return k;
  }

 private:
  unsigned plen(unsigned width) {
    switch (rng_() % 4) {
      case 0:
        return 0;
      case 1:
        return width;
      default:
        return static_cast<unsigned>(rng_() % (width + 1));
    }
  }
  std::uint32_t near(std::uint32_t a) { return a ^ static_cast<std::uint32_t>(rng_() % 256); }

  std::mt19937_64 rng_;
  std::array<std::uint32_t, 12> v4_{};
  std::array<std::uint64_t, 6> v6_{};
  std::array<std::uint16_t, 10> ports_{};
};

// Rule i of "generation" gen for the concurrency tests: in_port i % 4, a destination prefix
// whose length varies with gen (so subtables and trie prefixes come and go), and an exact
// tp_dst on odd i.
inline Match generation_rule(std::uint64_t gen, std::uint64_t i) {
  Match m;
  m.set_exact(Field::kInPort, i % 4);
  m.set_prefix(Field::kIpv4Dst, (i << 24) | ((gen % 7) << 16),
               8 + static_cast<unsigned>(gen % 7) * 2);
  if (i % 2) m.set_exact(Field::kTpDst, 1000 + i);
  return m;
}

}  // namespace vsw::classifier::test
