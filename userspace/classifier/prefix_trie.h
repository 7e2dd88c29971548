// PrefixTrie: which prefix lengths of one address field can match a key, and how many of
// the key's bits that answer depends on. Built in one batch, or grown in place one prefix at
// a time while readers walk it without locks.
//
// What? The set of (prefix, length) pairs of every rule whose mask on one field (IPv4 or
// IPv6 source or destination) is a prefix. lookup(key) answers, in one walk: the set of
// lengths L such that some stored prefix of length L matches key (match_plens), and the
// depth d at which the key's path leaves the trie (the longest l such that some stored
// prefix of length >= l agrees with the key's first l bits), returned as the number of
// leading bits that answer depends on: d + 1, or just d when no stored prefix that agrees
// on d bits is longer than d (capped at the width).
//
// Why? The classifier skips every subtable whose prefix length on the field is not in
// match_plens: no rule there can match. The skip depends only on the key's first
// min(bits, P) bits (P = the subtable's prefix length): a key agreeing on them leaves
// the trie at the same place, or shares the same P-bit prefix. So the skip costs a bit
// test and un-wildcards only that many bits (Open vSwitch's prefix tries).
//
// Goals. (1) A fast lookup: it is on the classifier's hot path, up to two walks per packet.
// (2) Publishing one rule must not cost O(all rules): add() puts one prefix into the trie
// that readers are using, in O(width/4).
//
// Basic design. A multibit trie with 4-bit strides. A node at depth D has, for each of the
// 16 values c of the key's bits D..D+3, one info byte:
//   bits 0-3  lengths D+j (0 <= j < 4) of stored prefixes ending in the node that match c;
//   bits 4-6  ext: the most bits (0..4) of c that some stored prefix through the node
//             agrees with (a prefix of length D+j agrees with at most its j bits);
//   bit 7     longer: some prefix that agrees on ext bits is longer than D+ext;
// plus a map of which c have a child at depth D+4, the children being contiguous (a
// "block", in chunk order). A walk ORs the lengths of each node into plens; where the key's
// chunk has no child it stops with bits = D + ext + longer. Values are left-aligned
// 128-bit integers (an IPv4 address sits in the top 32 bits).
//
// Optimization: no leaves for full-width prefixes. The last level (depth width-4) has no
// children; there ext = 4 at c says exactly that a full-width prefix matches c, so the walk
// adds length `width` itself. (A /32 would otherwise cost a node and one more node visit.)
//
// Optimization: tails. A child whose subtree would hold a single prefix is one node, a
// tail, holding that prefix's value and length: the walk ends there with one comparison
// (length `len` matches when the key agrees on len bits; else bits = agreed bits + 1, as the
// chain of nodes would answer). Real rule sets have many long prefixes that diverge from all
// others early (acl1_100k: most of 99k distinct /32 sources), whose chains were most of the
// nodes and the deepest, cache-missing visits. add() meeting a tail replaces it (in a copy of
// its block) with the subtree of its prefix and the new one.
//
// Optimization: lookup_pair() walks two IPv4 tries in lock step so that the CPU overlaps
// their cache misses (the two walks are independent chains of dependent loads).
//
// Optimization: build() lays the nodes out breadth-first in one array (children of a node
// adjacent, levels in order): the best cache behaviour for a walk. It sorts and
// de-duplicates the prefixes, then fills each node from the contiguous range of prefixes
// below it, 16 info bytes at once with vector operations.
//
// Optimization: add() grows the trie in place, so the classifier need not rebuild it at
// each publication. It folds the prefix into the info bytes of the nodes on its path
// (at most width/4 + 1), and, where the path needs a child that does not exist (or meets a
// tail), copies that node's children block into fresh storage with the new child (a tail)
// inserted (or the tail replaced by the subtree of two prefixes), and only then makes them
// reachable by one atomic store of the node's link. The old block becomes garbage
// (garbage_bytes()), kept until the trie is destroyed: a reader may still be inside it.
// Cost: at most 16 nodes copied per add(), plus the nodes of a two-prefix subtree (at most
// width/4 + 1); blocks added later live outside the breadth-first array (slightly
// worse locality), and a node that gains k children one by one leaves k(k-1)/2 nodes of
// garbage. The classifier never removes: a superset of the published prefixes gives valid
// (if less precise) answers, so it rebuilds a NEW trie with build() once removed prefixes
// or garbage pile up.
//
// Invariants.
// - The answers depend only on the set of prefixes (the layout does not: tails and blocks
//   differ between build() and add()). Below the tails, a node exists iff some prefix goes
//   through it, an info byte is a commutative, idempotent fold over the prefixes (ends: OR;
//   ext: max; longer: OR over the prefixes reaching that max). So after any sequence of
//   add() calls, lookup() gives exactly what insert()+build() of the same set gives
//   (checked by the tests), only the layout differs.
// - Above the last level, a node with no child for c has ext <= 3 at c (ext = 4 means a
//   prefix goes through c, which makes a child), so a walk that stops at depth D answers
//   bits <= D + 4. (While add() is linking a new child the node may already show ext = 4;
//   that is why only the last level reads ext = 4 as a matching length.)
// - A tail is immutable: add() replaces it, never changes it. It holds one prefix, at least
//   as long as its depth; the root is never a tail.
// - Links hold a 16-bit child map (bits 0-15) and the child block's address (bits 16-63;
//   user-space addresses fit in 48 bits, checked at allocation); 0 for a node without
//   children; (len + 1) << 16 with an empty map for a tail, whose info bytes hold the
//   value. Node storage never moves or shrinks while the trie lives (build()'s array is
//   never resized after build(); add() takes blocks from chunks that are never reallocated).
//
// Concurrency. One writer calls insert(), build(), add() (the caller serializes them);
// build() must run before the trie is shared (the classifier builds into a new object).
// Any number of readers call lookup() concurrently with add(). Readers load links with
// acquire and info bytes relaxed; the writer stores them with release and relaxed atomic
// stores (all plain moves on x86-64), and fills new blocks before the release store that
// publishes them. Memory a reader may hold is freed only by the destructor (or build(), or
// a move assignment), which the classifier calls after a grace period.
// Why a concurrent lookup stays valid: every field a reader loads only grows, one field at a
// time, so whatever mix of old and new fields a walk sees is at least as informative as S0,
// the set the trie held when the lookup began, and still only tells the truth about S_now.
// - Lengths ending here (bits 0-3): an OR over the prefixes; add() only sets bits, and each
//   set bit is the length of a stored prefix that matches c.
// - Agreeing bits (ext): a max over the prefixes; it never drops.
// - Longer (bit 7): an OR over the prefixes that reach the max. A new prefix agreeing on
//   fewer than ext bits changes nothing; on exactly ext bits it can only set the bit; on
//   more, ext grows by e >= 1 and longer may drop from 1 to 0. So ext + longer, the bits a
//   walk stopping here answers, never drops.
// - Child maps only gain bits. A block is replaced by a copy holding the same nodes plus one,
//   or the same nodes with a tail replaced by a subtree holding its prefix and one more;
//   the old block is no longer updated, but a reader only reaches it through a link loaded
//   after the lookup began, so it already held every update of S0.
// - A block is filled before the release store that links it, and the reader's acquire load
//   of that link makes the filling visible: no walk sees a half-made node.
// Hence the guarantee: a lookup running concurrently with add() calls returns an answer valid
// for S0 (every length of a prefix of S0 that matches key is in plens, and bits >= the bits
// S0 gives). Along S0's path it finds the same children; where S0's walk stops at depth D
// (ext <= 3 there, so S0's bits <= D + 4), it either stops too, with ext + longer at least
// S0's, or finds a newer child and stops at depth >= D + 4. Extra lengths and bits come only
// from prefixes added meanwhile: a superset, which the classifier tolerates as it does for
// removals.
// Once add() has returned and a reader synchronizes with the writer (e.g. through the
// classifier's snapshot pointer, or any release/acquire pair), its lookups see the prefix.
//
// Cost: 24 bytes per node; a walk is at most width/4 + 1 node visits, the same code for
// built and grown tries.
//
// Tests. tests/unit/classifier/test_prefix_trie.cpp checks lookup() against a brute-force
// scan of the prefix set (prefix_trie_ref.h), and add() (from empty and from a built trie)
// against build(); test_prefix_trie_concurrency.cpp (under ThreadSanitizer) checks every
// lookup that overlapped an add() against the brute force over the prefixes added before
// and after it.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace vsw::classifier {

using u128 = unsigned __int128;

// The number of leading bits a and b share (128 if equal).
inline unsigned lcp(u128 a, u128 b) {
  const u128 x = a ^ b;
  if (x == 0) return 128;
  const auto hi = static_cast<std::uint64_t>(x >> 64);
  return static_cast<unsigned>(hi != 0 ? std::countl_zero(hi)
                                       : 64 + std::countl_zero(static_cast<std::uint64_t>(x)));
}

class PrefixTrie {
 public:
  // Lengths are 0..128; bit L of Plens is set when length L matches.
  using Plens = std::array<std::uint64_t, 3>;

  explicit PrefixTrie(unsigned width = 32) : width_(width) {}
  PrefixTrie(const PrefixTrie&) = delete;
  PrefixTrie& operator=(const PrefixTrie&) = delete;
  // Moving is for a trie no reader uses; the source is left empty.
  PrefixTrie(PrefixTrie&& other) noexcept;
  PrefixTrie& operator=(PrefixTrie&& other) noexcept;
  ~PrefixTrie();

  // --- Writer only, before the trie is shared (no concurrent reader). ---
  // Adds prefix `value` (left-aligned, bits past len zero) for the next build().
  void insert(u128 value, unsigned len) { pending_.push_back({value, len}); }
  // Replaces the whole trie with the prefixes given to insert() since the last build(), in
  // the compact breadth-first layout. An empty trie answers no lengths and 0 bits.
  void build();

  // --- Writer only (one thread at a time); readers may run lookup() meanwhile. ---
  // Adds prefix `value` of `len` bits (bits past len are ignored) in place: O(width/4)
  // node updates and at most one children block (<= 16 nodes) copied. Works on an empty or
  // a built trie; adding a prefix already present changes nothing.
  void add(u128 value, unsigned len);
  // True when the trie holds no prefix.
  [[nodiscard]] bool empty() const { return !nonempty_; }
  // Bytes of node storage held: live nodes, garbage and unused chunk tails.
  [[nodiscard]] std::size_t memory() const;
  // Bytes of the blocks add() replaced (still held, since readers may be inside them).
  [[nodiscard]] std::size_t garbage_bytes() const { return garbage_nodes_ * sizeof(Node); }

  // --- Readers: any number of threads, concurrently with add(). *bits: see above. ---
  void lookup(u128 key, Plens* plens, unsigned* bits) const;
  // a.lookup(ka, pa, ba) and b.lookup(kb, pb, bb), the two walks in lock step so that their
  // cache misses overlap (when both are at most 60 bits wide; else one after the other).
  static void lookup_pair(const PrefixTrie& a, u128 ka, Plens* pa, unsigned* ba,
                          const PrefixTrie& b, u128 kb, Plens* pb, unsigned* bb);

 private:
  struct Node {
    // Chunk c: bits 0-3 lengths D+j ending here that match c; 4-6 ext; 7 longer.
    std::array<std::uint8_t, 16> info{};
    // Bits 0-15: which chunks have a child; 16-63: address of the first child.
    std::uint64_t link = 0;
  };
  static_assert(sizeof(Node) == 24);
  static unsigned chunk(u128 v, unsigned depth) {
    return depth >= 128 ? 0 : static_cast<unsigned>(v >> (124 - depth)) & 0xf;
  }
  static std::uint64_t make_link(unsigned map, const Node* first);
  static Node* link_first(std::uint64_t link) {
    // NOLINTNEXTLINE(performance-no-int-to-ptr,*-reinterpret-cast): a packed address
    return reinterpret_cast<Node*>(link >> 16);
  }
  static void fold(Node& node, unsigned c, unsigned j, unsigned rest);
  // A tail: a node standing for a whole subtree that holds one prefix. Its info bytes hold
  // the prefix's value, its link (len + 1) << 16 (no child map: a node without children
  // has link 0, a node with children has a non-zero map).
  static bool is_tail(std::uint64_t link) { return (link & 0xffff) == 0 && link != 0; }
  static void make_tail(Node& n, u128 value, unsigned len);
  // value with the bits past len cleared.
  static u128 masked(u128 value, unsigned len) {
    return len == 0 ? 0 : value & (~u128{0} << (128 - len));
  }
  static std::uint64_t tail64(const Node& n, std::uint64_t link, std::uint64_t key, unsigned* bits);
  static std::uint64_t walk64(const Node* node, std::uint64_t k, unsigned d, std::uint64_t p,
                              unsigned width, unsigned* bits);
  Node* allocate(std::size_t n);  // n <= 16 contiguous nodes from the chunks
  void clear();

  struct Prefix {
    u128 value;
    unsigned len;
  };
  void fill(Node& n, unsigned depth, const Prefix* ps, std::size_t np);

  // Fixed at construction.
  unsigned width_;
  // Readers and writer: the root (its fields are loaded and stored atomically).
  Node root_;
  // Writer only.
  bool nonempty_ = false;
  std::vector<Prefix> pending_;  // insert()ed, for the next build()
  std::vector<Node> built_;      // build()'s nodes below the root, breadth-first; never resized
  // add()'s blocks: chunks that never move. NOLINTNEXTLINE(*-avoid-c-arrays)
  std::vector<std::unique_ptr<Node[]>> chunks_;
  std::size_t chunk_used_ = 0;     // nodes handed out from chunks_.back()
  std::size_t chunk_cap_ = 0;      // size of chunks_.back()
  std::size_t chunk_nodes_ = 0;    // total size of chunks_
  std::size_t garbage_nodes_ = 0;  // nodes in replaced blocks
};

}  // namespace vsw::classifier
