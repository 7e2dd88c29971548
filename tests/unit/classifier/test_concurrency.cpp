// Readers hammer lookups while a writer inserts, removes and publishes batches. Built with
// ThreadSanitizer by tests/suites/20-classifier-tsan (CTest label tsan).
//
// Each batch moves a "generation" of rules: the writer removes generation g - 1 and adds
// generation g with one publish, so a reader must always see exactly one generation whole:
// every probe key of a lookup-consistent snapshot returns cookies of a single generation,
// and misses only if that generation has no matching rule.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "classifier/classifier.h"
#include "classifier/linear.h"
#include "test_util.h"

using namespace vsw::classifier;

namespace {

constexpr std::uint64_t kRulesPerGen = 64;

// The generation family (in_port 0-3): test_util.h.
Match gen_rule(std::uint64_t gen, std::uint64_t i) {
  return test::generation_rule(gen, i);
}

}  // namespace

TEST_CASE("readers see whole batches while a writer publishes") {
  Classifier cls;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> bad{0}, lookups{0};
  const std::uint64_t n_gens = 300;
  const unsigned n_readers = 3;
  const std::uint64_t seed = vsw::classifier::test::seed();
  std::vector<std::thread> readers;
  for (unsigned r = 0; r < n_readers; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng(seed + r);
      while (!stop.load(std::memory_order_relaxed)) {
        const std::uint64_t i = rng() % kRulesPerGen;
        FlowKey k;
        k.set(Field::kInPort, i % 4);
        k.set(Field::kIpv4Dst, (i << 24) | (rng() & 0xffffff));
        k.set(Field::kTpDst, 1000 + i);
        FlowKey wc;
        const std::uint64_t v1 = cls.version();
        const auto h = cls.lookup(k, &wc);
        const std::uint64_t v2 = cls.version();
        lookups.fetch_add(1, std::memory_order_relaxed);
        if (!h) {
          // A miss only if rule i of a generation the lookup may have seen (version - 2)
          // does not match the key: a half-applied batch can show neither generation.
          bool may_miss = v1 < 2;
          for (std::uint64_t v = std::max<std::uint64_t>(v1, 2); !may_miss && v <= v2; ++v)
            may_miss = v - 2 >= n_gens || !gen_rule(v - 2, i).matches(k);
          if (!may_miss) bad.fetch_add(1);
          continue;
        }
        // A hit's cookie is gen * kRulesPerGen + i and the generation on show is version-2.
        const std::uint64_t gen = h->cookie / kRulesPerGen;
        if (h->cookie % kRulesPerGen != i || gen + 2 < v1 || gen + 2 > v2) bad.fetch_add(1);
      }
    });
  }
  // Generation g is published as version g + 2 (version 1 is the empty classifier).
  for (std::uint64_t g = 0; g < n_gens; ++g) {
    for (std::uint64_t i = 0; i < kRulesPerGen; ++i) {
      if (g > 0) REQUIRE(cls.remove(gen_rule(g - 1, i), 100).has_value());
      REQUIRE_FALSE(cls.insert(gen_rule(g, i), 100, g * kRulesPerGen + i));
    }
    REQUIRE(cls.publish() == g + 2);
  }
  stop = true;
  for (auto& t : readers) t.join();
  INFO("lookups " << lookups.load());
  CHECK(bad.load() == 0);
  CHECK(lookups.load() > 0);
  CHECK(cls.stats().rules == kRulesPerGen);
}

TEST_CASE("concurrent readers agree with a linear scan on a stable rule set") {
  // Readers of one published version while the writer churns unrelated rules (other
  // in_port) in and out: answers for in_port 9 must never change.
  const std::uint64_t seed = vsw::classifier::test::seed();
  vsw::classifier::test::RuleGen gen(seed);
  Classifier cls;
  LinearClassifier lin;
  std::vector<Match> masks;
  for (int i = 0; i < 10; ++i) masks.push_back(gen.random_mask());
  for (std::uint64_t i = 0; i < 300; ++i) {
    Match m = gen.fill(masks[i % masks.size()]);
    m.set_exact(Field::kInPort, 9);
    if (!cls.insert(m, static_cast<std::int32_t>(i), i))
      lin.insert(m, static_cast<std::int32_t>(i), i);
  }
  cls.publish();
  lin.sort();
  std::vector<FlowKey> keys;
  std::vector<std::optional<Hit>> want;
  for (int i = 0; i < 200; ++i) {
    FlowKey k = gen.random_key();
    k.set(Field::kInPort, 9);
    keys.push_back(k);
    want.push_back(lin.lookup(k));
  }
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        for (std::size_t i = 0; i < keys.size(); ++i) {
          const auto h = cls.lookup(keys[i]);
          if (h.has_value() != want[i].has_value() || (h && h->cookie != want[i]->cookie))
            bad.fetch_add(1);
        }
      }
    });
  }
  for (int round = 0; round < 100; ++round) {
    std::vector<std::pair<Match, std::int32_t>> added;
    for (int i = 0; i < 50; ++i) {
      Match m = gen.fill(masks[static_cast<std::size_t>(i) % masks.size()]);
      m.set_exact(Field::kInPort, 5);
      if (!cls.insert(m, 1000 + i, 99999)) added.emplace_back(m, 1000 + i);
    }
    cls.publish();
    for (const auto& [m, prio] : added) REQUIRE(cls.remove(m, prio).has_value());
    cls.publish();
  }
  stop = true;
  for (auto& t : readers) t.join();
  CHECK(bad.load() == 0);
}
