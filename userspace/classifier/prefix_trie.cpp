// See prefix_trie.h.
#include "classifier/prefix_trie.h"

#include <algorithm>
#include <bit>

namespace vsw::classifier {
namespace {

// Number of leading bits two 4-bit chunks share.
unsigned lcp4(unsigned a, unsigned b) {
  const unsigned x = (a ^ b) & 0xf;
  return x == 0 ? 4 : static_cast<unsigned>(std::countl_zero(x)) - 28;
}

}  // namespace

PrefixTrie::PrefixTrie(unsigned width) : width_(width) {
  nodes_.emplace_back();
}

void PrefixTrie::insert(u128 value, unsigned len) {
  ++n_prefixes_;
  std::size_t n = 0;
  for (unsigned depth = 0;; depth += 4) {
    const unsigned c = chunk(value, depth);
    const unsigned j = std::min(len - depth, 4U);  // bits of this prefix inside the node
    for (unsigned o = 0; o < 16; ++o) {
      const unsigned agree = std::min(j, lcp4(c, o));
      nodes_[n].ext[o] = static_cast<std::uint8_t>(std::max<unsigned>(nodes_[n].ext[o], agree));
      if (j < 4 && agree == j) nodes_[n].ends[o] |= static_cast<std::uint8_t>(1U << j);
    }
    if (j < 4 || depth + 4 > width_) return;
    if (nodes_[n].child[c] == 0) {
      nodes_.emplace_back();
      nodes_[n].child[c] = static_cast<std::uint32_t>(nodes_.size());
    }
    n = nodes_[n].child[c] - 1;
  }
}

void PrefixTrie::lookup(u128 key, Plens* plens, unsigned* depth) const {
  *plens = {};
  std::size_t n = 0;
  for (unsigned d = 0;; d += 4) {
    const Node& node = nodes_[n];
    const unsigned c = chunk(key, d);
    std::uint64_t e = node.ends[c];
    while (e != 0) {
      const unsigned len = d + static_cast<unsigned>(std::countr_zero(e));
      (*plens)[len >> 6] |= 1ULL << (len & 63);
      e &= e - 1;
    }
    if (node.child[c] == 0) {
      *depth = std::min(d + node.ext[c], width_);
      return;
    }
    n = node.child[c] - 1;
  }
}

}  // namespace vsw::classifier
