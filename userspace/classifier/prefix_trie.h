// PrefixTrie: which prefix lengths of one address field can match a key, and how many of
// the key's bits that answer depends on.
//
// What? The set of (prefix, length) pairs of every rule whose mask on one field (IPv4 or
// IPv6 source or destination) is a prefix. lookup(key) answers, in one walk: the set of
// lengths L such that some stored prefix of length L matches key (match_plens), and the
// depth d at which the key's path leaves the trie (the longest l such that some stored
// prefix of length >= l agrees with the key's first l bits).
//
// Why? The classifier skips every subtable whose prefix length on the field is not in
// match_plens: no rule there can match. The skip depends only on the key's first
// min(d + 1, P) bits (P = the subtable's prefix length): a key agreeing on them leaves
// the trie at the same place, or shares the same P-bit prefix. So the skip costs a bit
// test and un-wildcards only that many bits (Open vSwitch's prefix tries).
//
// Design. A multibit trie with 4-bit strides, immutable once built (the classifier
// rebuilds it when it publishes a snapshot whose rules on this field changed). A node at
// depth D has, for each of the 16 values c of the key's bits D..D+3: the lengths D+j
// (0 <= j < 4) of stored prefixes ending in the node that match c; the deepest j such
// that some stored prefix agrees with c on j bits; and the child at depth D+4. Values are
// left-aligned 128-bit integers (an IPv4 address sits in the top 32 bits).
//
// Cost: 98 bytes per node; a walk is at most width/4 + 1 node visits.
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

  explicit PrefixTrie(unsigned width = 32);
  // Builder (before any lookup): adds prefix `value` (left-aligned, bits past len zero).
  void insert(u128 value, unsigned len);
  [[nodiscard]] bool empty() const { return n_prefixes_ == 0; }

  // Readers: any number of threads, on a built trie.
  void lookup(u128 key, Plens* plens, unsigned* depth) const;
  [[nodiscard]] std::size_t memory() const { return nodes_.capacity() * sizeof(Node); }

 private:
  struct Node {
    std::array<std::uint32_t, 16> child{};  // node index + 1 at depth D+4; 0 = none
    std::array<std::uint8_t, 16> ends{};    // bit j: a prefix of length D+j matches c
    std::array<std::uint8_t, 16> ext{};     // deepest agreeing bits within the node
  };
  static unsigned chunk(u128 v, unsigned depth) {
    return depth >= 128 ? 0 : static_cast<unsigned>(v >> (124 - depth)) & 0xf;
  }
  unsigned width_;
  std::size_t n_prefixes_ = 0;
  std::vector<Node> nodes_;  // nodes_[0] is the root
};

}  // namespace vsw::classifier
