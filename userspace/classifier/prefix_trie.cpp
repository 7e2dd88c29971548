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
  nodes_.clear();
  if (pending_.empty()) return;
  // Breadth-first over ranges of the sorted prefixes: the prefixes below a node share its
  // first `depth` bits and are contiguous, and so are those below each of its children
  // (sorted values group by the next 4 bits). Reading the prefixes in order keeps this
  // cache-friendly; children are allocated together, so they are contiguous.
  struct Item {
    std::uint32_t begin, end;  // range of pending_
    unsigned depth;
    std::uint32_t node;
  };
  std::vector<Item> queue{{0, static_cast<std::uint32_t>(pending_.size()), 0, 0}};
  nodes_.emplace_back();
  for (std::size_t qi = 0; qi < queue.size(); ++qi) {
    const Item it = queue[qi];
    const unsigned depth = it.depth;
    V16 ends{}, ext{}, longer{};
    std::uint16_t through = 0, has = 0;
    std::array<std::uint32_t, 16> cb{}, ce{};
    for (std::uint32_t i = it.begin; i < it.end; ++i) {
      const Prefix& p = pending_[i];
      if (p.len < depth) continue;  // ended in the parent; sorted in among its siblings
      const unsigned c = chunk(p.value, depth);
      const unsigned j = std::min(p.len - depth, 4U);  // bits of this prefix inside the node
      const bool thr = j == 4 && p.len > depth + 4;
      // A prefix passing through chunk c beyond the child changes nothing once one has.
      if (!thr || ((through >> c) & 1) == 0) {
        if (thr) through |= static_cast<std::uint16_t>(1U << c);
        // All 16 chunks o at once: agree = min(j, lcp(c, o)); the prefix goes on past the
        // agreement if its length exceeds depth + agree. Comparisons give 0xff or 0.
        const V16 agree = kAgree[c][j];
        const V16 beyond = (agree < static_cast<std::uint8_t>(p.len - depth)) & 1;
        const V16 gt = agree > ext;
        const V16 eq = agree == ext;
        ext = (gt & agree) | (~gt & ext);
        longer = (gt & beyond) | (~gt & (longer | (eq & beyond)));
        if (j < 4)
          ends |= (agree == static_cast<std::uint8_t>(j)) & static_cast<std::uint8_t>(1U << j);
      }
      if (j == 4 && depth + 4 <= width_) {
        if (((has >> c) & 1) == 0) cb[c] = i;
        ce[c] = i + 1;
        has |= static_cast<std::uint16_t>(1U << c);
      }
    }
    Node& out = nodes_[it.node];
    for (unsigned c = 0; c < 16; ++c)
      out.info[c] = static_cast<std::uint8_t>(ends[c] | (ext[c] << 4) | (longer[c] << 7));
    out.children = has;
    out.first = static_cast<std::uint32_t>(nodes_.size());
    for (unsigned c = 0; c < 16; ++c) {
      if (((has >> c) & 1) == 0) continue;
      queue.push_back({cb[c], ce[c], depth + 4, static_cast<std::uint32_t>(nodes_.size())});
      nodes_.emplace_back();
    }
  }
  nodes_.shrink_to_fit();
  pending_.clear();
  pending_.shrink_to_fit();
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
