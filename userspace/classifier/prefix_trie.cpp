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
// 16 bytes operated on element-wise (GCC/Clang vector extension): one node's 16 chunks.
using V16 = std::uint8_t __attribute__((vector_size(16)));

// kAgree[c][j][o] = min(j, lcp4(c, o)): how many of the first j bits of chunk c chunk o shares.
const auto kAgree = [] {
  std::array<std::array<V16, 5>, 16> t{};
  for (unsigned c = 0; c < 16; ++c)
    for (unsigned j = 0; j <= 4; ++j)
      for (unsigned o = 0; o < 16; ++o)
        t[c][j][o] = static_cast<std::uint8_t>(std::min(j, lcp4(c, o)));
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
    V16 ends{};                             // bit j: a prefix of length D+j matches the chunk
    V16 ext{};                              // most bits some prefix agrees with the chunk on
    V16 longer{};                           // 1: a prefix agreeing on ext bits goes on past them
    std::array<std::uint32_t, 16> child{};  // index + 1; 0 = none
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
      // All 16 chunks o at once: agree = min(j, lcp(c, o)); the prefix goes on past the
      // agreement if its length exceeds depth + agree. Comparisons give 0xff or 0.
      Scratch& node = t[n];
      const V16 agree = kAgree[c][j];
      const V16 beyond = (agree < static_cast<std::uint8_t>(p.len - depth)) & 1;
      const V16 gt = agree > node.ext;
      const V16 eq = agree == node.ext;
      node.ext = (gt & agree) | (~gt & node.ext);
      node.longer = (gt & beyond) | (~gt & (node.longer | (eq & beyond)));
      if (j < 4) {
        node.ends |= (agree == static_cast<std::uint8_t>(j)) & static_cast<std::uint8_t>(1U << j);
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
