// See prefix_trie.h.
#include "classifier/prefix_trie.h"

#include <algorithm>
#include <bit>

namespace vsw::classifier {
namespace {

// Number of leading bits two 4-bit chunks share.
constexpr unsigned lcp4(unsigned a, unsigned b) {
  const unsigned x = (a ^ b) & 0xf;
  return x == 0 ? 4 : static_cast<unsigned>(std::countl_zero(x)) - 28;
}
constexpr auto kLcp4 = [] {
  std::array<std::array<std::uint8_t, 16>, 16> t{};
  for (unsigned a = 0; a < 16; ++a)
    for (unsigned b = 0; b < 16; ++b) t[a][b] = static_cast<std::uint8_t>(lcp4(a, b));
  return t;
}();

}  // namespace

void PrefixTrie::build() {
  std::sort(pending_.begin(), pending_.end(), [](const Prefix& a, const Prefix& b) {
    return a.value != b.value ? a.value < b.value : a.len < b.len;
  });
  pending_.erase(std::unique(pending_.begin(), pending_.end(),
                             [](const Prefix& a, const Prefix& b) {
                               return a.value == b.value && a.len == b.len;
                             }),
                 pending_.end());
  // Scratch trie with explicit children.
  struct Scratch {
    std::array<std::uint32_t, 16> child{};  // index + 1; 0 = none
    std::array<std::uint8_t, 16> ends{};
    std::array<std::uint8_t, 16> ext{};
    std::array<std::uint8_t, 16> longer{};  // a prefix agreeing on ext bits goes on past them
    std::uint16_t through = 0;  // chunk c: a prefix longer than D+4 already went through c
  };
  std::vector<Scratch> t(1);
  for (const Prefix& p : pending_) {
    std::size_t n = 0;
    for (unsigned depth = 0;; depth += 4) {
      const unsigned c = chunk(p.value, depth);
      const unsigned j = std::min(p.len - depth, 4U);  // bits of this prefix inside the node
      // A prefix passing through chunk c beyond the child changes nothing once one has.
      const bool through = j == 4 && p.len > depth + 4;
      if (through && ((t[n].through >> c) & 1) != 0) {
        n = t[n].child[c] - 1;
        continue;
      }
      if (through) t[n].through |= static_cast<std::uint16_t>(1U << c);
      Scratch& node = t[n];
      const std::uint8_t end_bit = j < 4 ? static_cast<std::uint8_t>(1U << j) : 0;
      for (unsigned o = 0; o < 16; ++o) {  // branch-free, so the compiler can vectorize it
        const std::uint8_t agree =
            std::min<std::uint8_t>(static_cast<std::uint8_t>(j), kLcp4[c][o]);
        const auto beyond = static_cast<std::uint8_t>(p.len > depth + agree);
        const std::uint8_t ext = node.ext[o];
        const auto gt = static_cast<std::uint8_t>(agree > ext);
        const auto eq = static_cast<std::uint8_t>(agree == ext);
        node.ext[o] = gt ? agree : ext;
        node.longer[o] = gt ? beyond : static_cast<std::uint8_t>(node.longer[o] | (eq & beyond));
        node.ends[o] |= agree == j ? end_bit : 0;
      }
      if (j < 4 || depth + 4 > width_) break;
      if (t[n].child[c] == 0) {
        t.emplace_back();
        t[n].child[c] = static_cast<std::uint32_t>(t.size());
      }
      n = t[n].child[c] - 1;
    }
  }
  pending_.clear();
  pending_.shrink_to_fit();
  // Pack breadth-first so that each node's children are contiguous.
  nodes_.assign(t.size(), Node{});
  std::vector<std::uint32_t> queue{0};  // scratch index of packed node i
  queue.reserve(t.size());
  for (std::size_t i = 0; i < queue.size(); ++i) {
    const Scratch& s = t[queue[i]];
    Node& out = nodes_[i];
    out.first = static_cast<std::uint32_t>(queue.size());
    for (unsigned c = 0; c < 16; ++c) {
      out.info[c] = static_cast<std::uint8_t>(s.ends[c] | (s.ext[c] << 4) | (s.longer[c] << 7));
      if (s.child[c] != 0) {
        out.children |= static_cast<std::uint16_t>(1U << c);
        queue.push_back(s.child[c] - 1);
      }
    }
  }
}

void PrefixTrie::lookup(u128 key, Plens* plens, unsigned* depth) const {
  *plens = {};
  if (nodes_.empty()) {
    *depth = 0;
    return;
  }
  std::size_t n = 0;
  if (width_ <= 60) {
    // IPv4: 64-bit arithmetic; depths stay below 64, so every length is in plens[0].
    const auto k = static_cast<std::uint64_t>(key >> 64);
    std::uint64_t p = 0;
    for (unsigned d = 0;; d += 4) {
      const Node& node = nodes_[n];
      const unsigned c = static_cast<unsigned>(k >> (60 - d)) & 0xf;
      const unsigned info = node.info[c];
      p |= std::uint64_t{info & 0xfU} << d;  // lengths d..d+3 ending here
      if (((node.children >> c) & 1) == 0) {
        (*plens)[0] = p;
        *depth = std::min(d + ((info >> 4) & 7) + (info >> 7), width_);
        return;
      }
      n = node.first + static_cast<unsigned>(std::popcount(node.children & ((1U << c) - 1)));
    }
  }
  for (unsigned d = 0;; d += 4) {
    const Node& node = nodes_[n];
    const unsigned c = chunk(key, d);
    const unsigned info = node.info[c];
    (*plens)[d >> 6] |= std::uint64_t{info & 0xfU} << (d & 63);
    if (((node.children >> c) & 1) == 0) {
      // The path ends after ext bits; the next bit matters only if a stored prefix that
      // agrees so far goes on (Open vSwitch's leaf rule).
      *depth = std::min(d + ((info >> 4) & 7) + (info >> 7), width_);
      return;
    }
    n = node.first + static_cast<unsigned>(std::popcount(node.children & ((1U << c) - 1)));
  }
}

}  // namespace vsw::classifier
