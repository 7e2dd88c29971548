// The reference for PrefixTrie: a brute-force scan of a prefix list, and seeded generators
// of clustered prefixes (so that paths share nodes and blocks grow) and of keys near them.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "classifier/prefix_trie.h"

namespace vsw::classifier::test {

struct TriePrefix {
  u128 value;  // left-aligned, zero past len
  unsigned len;
};

// Value v with only its first len bits kept.
inline u128 keep_bits(u128 v, unsigned len) {
  return len == 0 ? 0 : len >= 128 ? v : v & ~((~u128{0}) >> len);
}

// Leading bits a and b share (128 when equal).
inline unsigned lcp128(u128 a, u128 b) {
  const u128 x = a ^ b;
  const auto hi = static_cast<std::uint64_t>(x >> 64), lo = static_cast<std::uint64_t>(x);
  if (hi != 0) return static_cast<unsigned>(std::countl_zero(hi));
  return 64 + static_cast<unsigned>(std::countl_zero(lo));
}

// What PrefixTrie::lookup must answer for the prefix set `set`, by definition: every length
// of a prefix that key matches, and d + 1 (or d when no prefix agreeing on d bits is longer
// than d), d being the most bits some prefix of length >= d agrees with key on; at most width.
inline void ref_lookup(std::span<const TriePrefix> set, unsigned width, u128 key,
                       PrefixTrie::Plens* plens, unsigned* bits) {
  *plens = {};
  unsigned d = 0;
  bool longer = false;
  for (const TriePrefix& p : set) {
    const unsigned a = std::min(p.len, lcp128(key, p.value));
    if (a == p.len) (*plens)[p.len >> 6] |= std::uint64_t{1} << (p.len & 63);
    if (a > d) {
      d = a;
      longer = p.len > a;
    } else if (a == d && p.len > a) {
      longer = true;
    }
  }
  *bits = std::min(d + (longer ? 1U : 0U), width);
}

// Prefixes of a `width`-bit field (left-aligned in 128 bits) in a few clusters.
class TrieGen {
 public:
  TrieGen(std::uint64_t seed, unsigned width) : rng_(seed), width_(width) {
    for (auto& b : bases_) b = keep_bits((u128{rng_()} << 64) | rng_(), width_);
  }
  std::mt19937_64& rng() { return rng_; }

  // Lengths 0..width, weighted towards the ends and multiples of 4 (node boundaries).
  unsigned random_len() {
    switch (rng_() % 6) {
      case 0:
        return width_;
      case 1:
        return static_cast<unsigned>(rng_() % 3);
      case 2:
        return static_cast<unsigned>(rng_() % (width_ / 4 + 1)) * 4;
      default:
        return static_cast<unsigned>(rng_() % (width_ + 1));
    }
  }
  // A value near one of the bases: its first bits, then random ones from a random depth.
  u128 near_value() {
    const u128 base = bases_[rng_() % bases_.size()];
    const unsigned keep = static_cast<unsigned>(rng_() % (width_ + 1));
    const u128 noise = keep_bits((u128{rng_()} << 64) | rng_(), width_);
    return keep_bits(base, keep) | (noise & ~keep_bits(~u128{0}, keep));
  }
  TriePrefix prefix() {
    const unsigned len = random_len();
    return {keep_bits(near_value(), len), len};
  }
  std::vector<TriePrefix> prefixes(std::size_t n) {
    std::vector<TriePrefix> v;
    v.reserve(n);
    for (std::size_t i = 0; i < n; ++i) v.push_back(prefix());
    return v;
  }
  // A key near p: p's bits, random bits after them, sometimes one bit flipped.
  u128 key_near(const TriePrefix& p) {
    u128 k = p.value | (near_value() & ~keep_bits(~u128{0}, p.len));
    if (rng_() % 3 == 0) k ^= (u128{1} << 127) >> (rng_() % width_);
    return keep_bits(k, width_);
  }
  u128 random_key() {
    return rng_() % 2 ? near_value() : keep_bits((u128{rng_()} << 64) | rng_(), width_);
  }

 private:
  std::mt19937_64 rng_;
  unsigned width_;
  std::array<u128, 6> bases_{};
};

}  // namespace vsw::classifier::test
