// PrefixTrie against its definition (ref_lookup, a brute-force scan of the prefix set), and
// add() against build(): a trie grown in place must answer exactly like one built from the
// same set. Seeded; reproduce a failure with --rng-seed N (or VSW_SEED=N).
#include <catch2/catch_test_macros.hpp>

#include <cstdio>
#include <utility>
#include <vector>

#include "classifier/prefix_trie.h"
#include "prefix_trie_ref.h"
#include "test_util.h"

using namespace vsw::classifier;
using vsw::classifier::test::TrieGen;
using vsw::classifier::test::TriePrefix;

namespace {

u128 v4(std::uint32_t a) {
  return u128{a} << 96;
}

constexpr std::size_t kNode = 24;  // bytes per trie node

PrefixTrie built(unsigned width, const std::vector<TriePrefix>& set) {
  PrefixTrie t(width);
  for (const auto& p : set) t.insert(p.value, p.len);
  t.build();
  return t;
}

// Keys to compare on: random ones, and for a sample of the prefixes, keys near them.
std::vector<u128> keys_for(TrieGen& gen, const std::vector<TriePrefix>& set, std::size_t n) {
  std::vector<u128> keys;
  for (std::size_t i = 0; i < n; ++i) keys.push_back(gen.random_key());
  for (std::size_t i = 0; i < n && !set.empty(); ++i) {
    const TriePrefix& p = set[gen.rng()() % set.size()];
    keys.push_back(gen.key_near(p));
    keys.push_back(p.value);
  }
  return keys;
}

// Number of keys on which a and b differ (plens or bits).
std::size_t differences(const PrefixTrie& a, const PrefixTrie& b, const std::vector<u128>& keys) {
  std::size_t bad = 0;
  for (u128 k : keys) {
    PrefixTrie::Plens pa, pb;
    unsigned ba = 0, bb = 0;
    a.lookup(k, &pa, &ba);
    b.lookup(k, &pb, &bb);
    if (pa != pb || ba != bb) ++bad;
  }
  return bad;
}

// Number of keys on which t differs from the brute force over set.
std::size_t differences_from_ref(const PrefixTrie& t, unsigned width,
                                 const std::vector<TriePrefix>& set,
                                 const std::vector<u128>& keys) {
  std::size_t bad = 0;
  for (u128 k : keys) {
    PrefixTrie::Plens pt, pr;
    unsigned bt = 0, br = 0;
    t.lookup(k, &pt, &bt);
    vsw::classifier::test::ref_lookup(set, width, k, &pr, &br);
    if (pt != pr || bt != br) ++bad;
  }
  return bad;
}

}  // namespace

TEST_CASE("prefix trie: built trie answers as the brute-force definition") {
  const std::uint64_t seed = vsw::classifier::test::seed();
  for (unsigned width : {32U, 128U}) {
    for (int round = 0; round < 6; ++round) {
      INFO("seed " << seed << " width " << width << " round " << round);
      TrieGen gen(seed * 131 + width * 7ULL + static_cast<unsigned>(round), width);
      const auto set = gen.prefixes(static_cast<std::size_t>(1) << (2 * round));  // 1..1024
      const PrefixTrie t = built(width, set);
      const auto keys = keys_for(gen, set, 400);
      CHECK(differences_from_ref(t, width, set, keys) == 0);
    }
  }
}

TEST_CASE("prefix trie: lookup_pair() answers as two lookup() calls") {
  const std::uint64_t seed = vsw::classifier::test::seed();
  // Two IPv4 tries (the lock-step walk, walks of unequal depth), and mixed widths (the
  // fallback); each trie in turn grown by add() (so tails get expanded) and built.
  for (auto [wa, wb] : {std::pair{32U, 32U}, std::pair{32U, 128U}, std::pair{128U, 32U}}) {
    for (int round = 0; round < 4; ++round) {
      INFO("seed " << seed << " widths " << wa << "," << wb << " round " << round);
      TrieGen ga(seed * 31 + wa + static_cast<unsigned>(round), wa);
      TrieGen gb(seed * 37 + wb + static_cast<unsigned>(round) * 5ULL, wb);
      const auto sa = ga.prefixes(static_cast<std::size_t>(1) << (3 * round));  // 1..512
      const auto sb = gb.prefixes(static_cast<std::size_t>(3) << (2 * round));  // 3..192
      const PrefixTrie a = built(wa, sa);
      PrefixTrie b(wb);
      for (const auto& p : sb) b.add(p.value, p.len);
      const auto ka = keys_for(ga, sa, 300), kb = keys_for(gb, sb, 300);
      std::size_t bad = 0;
      for (std::size_t i = 0; i < ka.size(); ++i) {
        const u128 x = ka[i], y = kb[(i * 7) % kb.size()];
        PrefixTrie::Plens pa, pb, qa, qb;
        unsigned ba = 0, bb = 0, ca = 0, cb = 0;
        PrefixTrie::lookup_pair(a, x, &pa, &ba, b, y, &pb, &bb);
        a.lookup(x, &qa, &ca);
        b.lookup(y, &qb, &cb);
        if (pa != qa || ba != ca || pb != qb || bb != cb) ++bad;
      }
      CHECK(bad == 0);
      CHECK(differences_from_ref(b, wb, sb, kb) == 0);
    }
  }
}

TEST_CASE("prefix trie: add() one at a time answers exactly as build() of the same set") {
  const std::uint64_t seed = vsw::classifier::test::seed();
  std::printf("prefix trie incremental: seed %llu (rerun with --rng-seed %llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  for (unsigned width : {32U, 128U}) {
    for (int round = 0; round < 4; ++round) {
      for (bool from_built : {false, true}) {
        INFO("seed " << seed << " width " << width << " round " << round << " from_built "
                     << from_built);
        TrieGen gen(seed * 977 + width * 3ULL + static_cast<unsigned>(round) * 2ULL + from_built,
                    width);
        const auto set = gen.prefixes(round == 0 ? 40 : 600);
        // From a built trie with the first half (or from an empty one), add the rest.
        const std::size_t start = from_built ? set.size() / 2 : 0;
        PrefixTrie t = built(width, {set.begin(), set.begin() + static_cast<long>(start)});
        CHECK(t.empty() == (start == 0));
        for (std::size_t i = start; i < set.size(); ++i) {
          t.add(set[i].value, set[i].len);
          // Checkpoints: against build() and the brute force of the set so far.
          if ((i + 1) % 97 == 0 || i + 1 == set.size() || i < start + 8) {
            const std::vector<TriePrefix> so_far(set.begin(),
                                                 set.begin() + static_cast<long>(i) + 1);
            const auto keys = keys_for(gen, so_far, 150);
            REQUIRE(differences(t, built(width, so_far), keys) == 0);
            REQUIRE(differences_from_ref(t, width, so_far, keys) == 0);
          }
        }
        CHECK_FALSE(t.empty());
        // The full set, on many keys.
        const auto keys = keys_for(gen, set, 3000);
        CHECK(differences(t, built(width, set), keys) == 0);
        // Adding prefixes already present changes nothing, not even memory.
        const std::size_t mem = t.memory(), garbage = t.garbage_bytes();
        for (std::size_t i = 0; i < set.size(); i += 3) t.add(set[i].value, set[i].len);
        CHECK(t.memory() == mem);
        CHECK(t.garbage_bytes() == garbage);
        CHECK(differences(t, built(width, set), keys) == 0);
      }
    }
  }
}

TEST_CASE("prefix trie: empty trie, bits past the length, zero and full lengths") {
  PrefixTrie t(32);
  CHECK(t.empty());
  CHECK(t.memory() == 0);
  PrefixTrie::Plens plens{1, 1, 1};
  unsigned bits = 99;
  t.lookup(v4(0x0a000001), &plens, &bits);
  CHECK(plens == PrefixTrie::Plens{});
  CHECK(bits == 0);

  // add() ignores bits past the length.
  t.add(v4(0x0a0000ff), 8);
  t.lookup(v4(0x0a000001), &plens, &bits);
  CHECK(plens == PrefixTrie::Plens{1ULL << 8, 0, 0});
  CHECK(bits == 8);  // 10/8 agrees on 8 bits and goes no further
  t.lookup(v4(0x0b000001), &plens, &bits);
  CHECK(plens == PrefixTrie::Plens{});
  CHECK(bits == 8);  // differs from 10/8 at bit 7: 8 bits tell it apart

  t.add(0, 0);
  t.add(v4(0x0a000001), 32);
  t.lookup(v4(0x0a000001), &plens, &bits);
  CHECK(plens == PrefixTrie::Plens{(1ULL << 0) | (1ULL << 8) | (1ULL << 32), 0, 0});
  CHECK(bits == 32);
  t.lookup(v4(0x0a000003), &plens, &bits);
  CHECK(plens == PrefixTrie::Plens{(1ULL << 0) | (1ULL << 8), 0, 0});
  CHECK(bits == 31);

  PrefixTrie w(128);
  w.add(~u128{0}, 128);
  w.lookup(~u128{0}, &plens, &bits);
  CHECK(plens == PrefixTrie::Plens{0, 0, 1ULL << 0});
  CHECK(bits == 128);

  // Moving leaves the source empty and the target answering as before.
  PrefixTrie moved(std::move(t));
  CHECK(t.empty());  // NOLINT(bugprone-use-after-move): moved-from is specified empty
  CHECK(t.memory() == 0);
  moved.lookup(v4(0x0a000001), &plens, &bits);
  CHECK(bits == 32);
  // Move assignment replaces the target's contents (its old nodes are freed).
  w = std::move(moved);
  CHECK(moved.empty());  // NOLINT(bugprone-use-after-move): moved-from is specified empty
  w.lookup(v4(0x0a000003), &plens, &bits);
  CHECK(plens == PrefixTrie::Plens{(1ULL << 0) | (1ULL << 8), 0, 0});
  CHECK(bits == 31);
  w.add(v4(0x0a000003), 32);  // still growable after the move
  w.lookup(v4(0x0a000003), &plens, &bits);
  CHECK(plens == PrefixTrie::Plens{(1ULL << 0) | (1ULL << 8) | (1ULL << 32), 0, 0});
}

TEST_CASE("prefix trie: replaced blocks are counted as garbage and in memory()") {
  PrefixTrie t(32);
  t.insert(v4(0x0a000000), 8);
  t.insert(v4(0x0b000000), 8);
  t.build();
  // Root, its child for nibble 0, and that node's children for nibbles a and b (tails:
  // each holds one prefix).
  CHECK(t.memory() == 4 * kNode);
  CHECK(t.garbage_bytes() == 0);

  // 12/8 needs a third child next to a and b: the block of two is copied and replaced.
  t.add(v4(0x0c000000), 8);
  CHECK(t.garbage_bytes() == 2 * kNode);
  const std::size_t after_first = t.memory();
  CHECK(after_first >= 4 * kNode + 3 * kNode);  // the built nodes (now partly garbage) plus 3 new
  // 13/8: the block of three is replaced.
  t.add(v4(0x0d000000), 8);
  CHECK(t.garbage_bytes() == 5 * kNode);
  // 12.16/16 goes below the tail for 12, which becomes a node with a tail child: the block
  // of four holding that tail is replaced.
  t.add(v4(0x0c100000), 16);
  CHECK(t.garbage_bytes() == 9 * kNode);
  // Already present (in a tail): nothing.
  t.add(v4(0x0a000000), 8);
  CHECK(t.garbage_bytes() == 9 * kNode);
  CHECK(t.memory() >= 4 * kNode + t.garbage_bytes());
  CHECK(t.memory() == after_first);  // all fit into the first chunk

  // A rebuild compacts: no garbage, exactly the live nodes (root, 0, the tails a, b and d,
  // c, and its tail c.1).
  PrefixTrie r(32);
  for (std::uint32_t a : {0x0a000000U, 0x0b000000U, 0x0c000000U, 0x0d000000U}) r.insert(v4(a), 8);
  r.insert(v4(0x0c100000), 16);
  r.build();
  CHECK(r.garbage_bytes() == 0);
  CHECK(r.memory() == 7 * kNode);

  // And the grown trie answers like the rebuilt one.
  for (std::uint32_t a : {0x0a000001U, 0x0c100001U, 0x0c200000U, 0x0e000000U, 0x00000000U}) {
    PrefixTrie::Plens p1, p2;
    unsigned b1 = 0, b2 = 0;
    t.lookup(v4(a), &p1, &b1);
    r.lookup(v4(a), &p2, &b2);
    CHECK(p1 == p2);
    CHECK(b1 == b2);
  }
}
