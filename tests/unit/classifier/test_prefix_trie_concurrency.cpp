// PrefixTrie::add() under concurrent lookups (built with ThreadSanitizer by
// tests/suites/20-classifier-tsan, CTest label tsan). In each round one writer adds prefixes
// to a fresh trie (empty, or built with some of them) as fast as it can, and after each
// add() publishes how many it has added (release); two readers look up keys near the
// prefixes (added or still to come), reading the count (acquire) before and after each
// lookup, and record what they saw. Afterwards every lookup that overlapped an add() (and a
// sample of the others) is checked against a brute force: with n read before and m after,
// the answer must be valid for the first n prefixes (every matching length among them in
// plens, bits at least theirs) and may only reflect prefixes up to the one being added when
// m was read (plens within those of the first m + 1, bits at most theirs).
#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <cstdio>
#include <span>
#include <thread>
#include <vector>

#include "classifier/prefix_trie.h"
#include "prefix_trie_ref.h"
#include "test_util.h"

using namespace vsw::classifier;
using vsw::classifier::test::ref_lookup;
using vsw::classifier::test::TrieGen;
using vsw::classifier::test::TriePrefix;

namespace {

bool subset(const PrefixTrie::Plens& a, const PrefixTrie::Plens& b) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] & ~b[i]) != 0) return false;
  return true;
}

struct Seen {  // one lookup as a reader saw it
  u128 key;
  std::size_t n, m;  // prefixes added before and after the lookup
  PrefixTrie::Plens plens;
  unsigned bits;
};

struct Outcome {
  std::uint64_t lookups = 0, checked = 0, overlapped = 0, too_little = 0, too_much = 0;
  std::uint64_t final_wrong = 0, garbage_rounds = 0;
};

// Brute force over the first n and the first m + 1 prefixes in one pass.
void check(const std::vector<TriePrefix>& set, unsigned width, const Seen& s, Outcome& out) {
  PrefixTrie::Plens lo, hi;
  unsigned lo_bits = 0, hi_bits = 0;
  ref_lookup(std::span(set).first(s.n), width, s.key, &lo, &lo_bits);
  ref_lookup(std::span(set).first(std::min(s.m + 1, set.size())), width, s.key, &hi, &hi_bits);
  if (!subset(lo, s.plens) || s.bits < lo_bits) ++out.too_little;
  if (!subset(s.plens, hi) || s.bits > hi_bits) ++out.too_much;
  ++out.checked;
}

void round(unsigned width, std::size_t n_prefixes, std::size_t n_prebuilt, std::uint64_t seed,
           Outcome& out) {
  TrieGen gen(seed, width);
  const std::vector<TriePrefix> set = gen.prefixes(n_prefixes);
  PrefixTrie trie(width);
  for (std::size_t i = 0; i < n_prebuilt; ++i) trie.insert(set[i].value, set[i].len);
  trie.build();
  std::atomic<std::size_t> added{n_prebuilt};  // prefixes [0, added) are in the trie
  std::atomic<unsigned> ready{0};              // readers that have started looking up
  std::atomic<bool> stop{false};
  constexpr std::size_t kMaxSeen = 40000;  // per reader and round
  std::array<std::vector<Seen>, 2> seen;
  std::array<std::uint64_t, 2> lookups{};
  std::atomic<std::uint64_t> progress{0};  // lookups done by all readers
  std::vector<std::thread> readers;
  for (unsigned r = 0; r < seen.size(); ++r) {
    readers.emplace_back([&, r] {
      // Keys near the prefixes (added or still to come) and random ones, drawn beforehand
      // so that the loop below is mostly lookups.
      TrieGen kg(seed * 7 + r + 1, width);
      std::vector<u128> keys(4096);
      for (std::size_t i = 0; i < keys.size(); ++i)
        keys[i] = i % 4 == 0 ? kg.random_key() : kg.key_near(set[kg.rng()() % set.size()]);
      seen[r].reserve(kMaxSeen);
      ready.fetch_add(1);
      std::size_t last = n_prebuilt, since = 0;  // lookups since `added` last changed
      for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed);) {
        // At most a few lookups per add(): while the writer has not moved on, leave it the
        // CPU (the two cores are shared with the writer and other work).
        const std::size_t now = added.load(std::memory_order_relaxed);
        if (now != last) {
          last = now;
          since = 0;
        } else if (++since > 32) {
          std::this_thread::yield();
          continue;
        }
        ++i;
        const u128 key = keys[i % keys.size()];
        const std::size_t n = added.load(std::memory_order_acquire);
        PrefixTrie::Plens plens;
        unsigned bits = 0;
        trie.lookup(key, &plens, &bits);
        const std::size_t m = added.load(std::memory_order_acquire);
        // Keep every lookup that overlapped an add(), and a sample of the others.
        if ((m != n || i % 1024 == 0) && seen[r].size() < kMaxSeen)
          seen[r].push_back({key, n, m, plens, bits});
        ++lookups[r];
        progress.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  while (ready.load() < readers.size()) std::this_thread::yield();
  for (std::size_t i = n_prebuilt; i < set.size(); ++i) {
    // Pace the writer at about one add() per two lookups, so that the adds spread over many
    // lookups instead of finishing before the readers get going. (The target is taken
    // before the count moves: readers do a few lookups per new count, then wait.)
    const std::uint64_t until = progress.load(std::memory_order_relaxed) + 2;
    trie.add(set[i].value, set[i].len);
    added.store(i + 1, std::memory_order_release);
    for (int spin = 0; progress.load(std::memory_order_relaxed) < until; ++spin)
      if (spin > 100) std::this_thread::yield();
  }
  stop = true;
  for (auto& t : readers) t.join();
  for (unsigned r = 0; r < seen.size(); ++r) {
    out.lookups += lookups[r];
    for (const Seen& s : seen[r]) {
      if (s.m != s.n) ++out.overlapped;
      check(set, width, s, out);
    }
  }
  // After the last add(), the trie answers exactly as the brute force of the whole set.
  for (int i = 0; i < 500; ++i) {
    const u128 key = i % 2 ? gen.random_key() : gen.key_near(set[gen.rng()() % set.size()]);
    PrefixTrie::Plens p, q;
    unsigned b = 0, c = 0;
    trie.lookup(key, &p, &b);
    ref_lookup(set, width, key, &q, &c);
    if (p != q || b != c) ++out.final_wrong;
  }
  if (trie.garbage_bytes() > 0) ++out.garbage_rounds;  // blocks were replaced under readers
}

}  // namespace

TEST_CASE("prefix trie: lookups during add() are valid for the set they started with") {
  const std::uint64_t seed = vsw::classifier::test::seed();
  struct Case {
    unsigned width;
    std::size_t n, prebuilt;
  };
  constexpr int kRounds = 20;
  std::uint64_t overlapped = 0;
  for (const Case& c : {Case{32, 1000, 0}, Case{128, 800, 200}}) {
    INFO("seed " << seed << " width " << c.width);
    Outcome o;
    // Overlap depends on scheduling (an optimized build can finish a round before a reader
    // gets going): run more rounds, up to 10x, until some lookup did run during an add().
    int rounds = 0;
    for (; rounds < kRounds || (o.overlapped == 0 && rounds < 10 * kRounds); ++rounds)
      round(c.width, c.n, c.prebuilt, seed * 1000 + c.width + static_cast<unsigned>(rounds), o);
    std::printf(
        "prefix trie concurrency: width %u seed %llu: %llu lookups, %llu checked, %llu during an "
        "add()\n",
        c.width, static_cast<unsigned long long>(seed), static_cast<unsigned long long>(o.lookups),
        static_cast<unsigned long long>(o.checked), static_cast<unsigned long long>(o.overlapped));
    CHECK(o.too_little == 0);
    CHECK(o.too_much == 0);
    CHECK(o.final_wrong == 0);
    CHECK(o.garbage_rounds == static_cast<std::uint64_t>(rounds));
    CHECK(o.checked > 0);
    overlapped += o.overlapped;
  }
  CHECK(overlapped > 0);  // some lookups did run during an add()
}
