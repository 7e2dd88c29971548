// PrefixTrie: which prefix lengths of one address field can match a key, and how many of
// the key's bits that answer depends on.
//
// What? The set of (prefix, length) pairs of every rule whose mask on one field (IPv4 or
// IPv6 source or destination) is a prefix. lookup(key) answers, in one walk: the set of
// lengths L such that some stored prefix of length L matches key (match_plens), and the
// depth d at which the key's path leaves the trie (the longest l such that some stored
// prefix of length >= l agrees with the key's first l bits), returned as the number of
// leading bits that answer depends on: d + 1, or just d when no stored prefix that agrees
// on d bits is longer than d.
//
// Why? The classifier skips every subtable whose prefix length on the field is not in
// match_plens: no rule there can match. The skip depends only on the key's first
// min(bits, P) bits (P = the subtable's prefix length): a key agreeing on them leaves
// the trie at the same place, or shares the same P-bit prefix. So the skip costs a bit
// test and un-wildcards only that many bits (Open vSwitch's prefix tries).
//
// Design. A multibit trie with 4-bit strides, immutable once built (the classifier
// rebuilds it for each published snapshot). A node at depth D has, for each of the 16
// values c of the key's bits D..D+3, one byte: the lengths D+j (0 <= j < 4) of stored
// prefixes ending in the node that match c (low 4 bits), and the deepest j <= 4 such that
// some stored prefix agrees with c on j bits (high bits); plus a 16-bit map of which c have
// a child at depth D+4, children being stored contiguously (breadth-first order). Values
// are left-aligned 128-bit integers (an IPv4 address sits in the top 32 bits).
//
// Cost: 24 bytes per node; building sorts and de-duplicates the prefixes, then fills the
// nodes breadth-first from contiguous ranges of them; a walk is at most width/4 + 1 node
// visits.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace vsw::classifier {

using u128 = unsigned __int128;

class PrefixTrie {
 public:
  // Lengths are 0..128; bit L of Plens is set when length L matches.
  using Plens = std::array<std::uint64_t, 3>;

  explicit PrefixTrie(unsigned width = 32) : width_(width) {}
  // Builder: adds prefix `value` (left-aligned, bits past len zero); build() packs the trie.
  // Lookups are valid only after build().
  void insert(u128 value, unsigned len) { pending_.push_back({value, len}); }
  void build();
  [[nodiscard]] bool empty() const { return nodes_.empty(); }

  // Readers: any number of threads, on a built trie. *bits: see above.
  void lookup(u128 key, Plens* plens, unsigned* bits) const;
  [[nodiscard]] std::size_t memory() const { return nodes_.capacity() * sizeof(Node); }

 private:
  struct Node {
    std::array<std::uint8_t, 16>
        info{};                  // 0-3: lengths D+j ending here; 4-6: agreeing bits; 7: longer
    std::uint16_t children = 0;  // bit c: a child for chunk c
    std::uint32_t first = 0;     // index of the first child
  };
  static unsigned chunk(u128 v, unsigned depth) {
    return depth >= 128 ? 0 : static_cast<unsigned>(v >> (124 - depth)) & 0xf;
  }
  struct Prefix {
    u128 value;
    unsigned len;
  };
  unsigned width_;
  std::vector<Prefix> pending_;  // builder only
  std::vector<Node> nodes_;      // nodes_[0] is the root
};

}  // namespace vsw::classifier
