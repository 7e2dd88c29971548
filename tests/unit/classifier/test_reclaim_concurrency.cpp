// Deferred reclamation (built with ThreadSanitizer by tests/suites/20-classifier-tsan,
// CTest label tsan): Epoch's non-blocking poll, and a writer that publishes while a reader
// sits inside a guard. publish() must never wait for the reader; what it retires must stay
// valid for the reader (TSan reports a free racing with the reader's loads) and its lookups
// must still see whole batches; once the reader leaves, reclaim() frees everything.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "classifier/classifier.h"
#include "classifier/epoch.h"
#include "test_util.h"

using namespace vsw::classifier;

namespace {

// Waits until pred() or the deadline; returns pred(). (Threads other than the test's own
// use no Catch2 assertions: they are not thread-safe.)
template <class Pred>
bool wait_until(Pred pred, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  return pred();
}

}  // namespace

TEST_CASE("epoch: poll() is false while a reader that entered before advance() is inside") {
  Epoch& e = Epoch::global();
  std::atomic<int> stage{0};  // 1: reader inside; 2: may leave; 3: left
  std::thread reader([&] {
    {
      const Epoch::ReadGuard guard;
      stage.store(1);
      (void)wait_until([&] { return stage.load() == 2; }, std::chrono::seconds(60));
    }
    stage.store(3);
  });
  REQUIRE(wait_until([&] { return stage.load() == 1; }, std::chrono::seconds(60)));
  const std::uint64_t t = e.advance();
  CHECK_FALSE(e.poll(t));
  CHECK_FALSE(e.poll(t));  // polling does not wait, and does not change the answer
  {
    // A guard entered after advance() does not hold the ticket back (this thread's own).
    const Epoch::ReadGuard mine;
    CHECK_FALSE(e.poll(t));  // still the reader
  }
  stage.store(2);
  REQUIRE(wait_until([&] { return stage.load() == 3; }, std::chrono::seconds(60)));
  CHECK(e.poll(t));
  reader.join();
  const std::uint64_t t2 = e.advance();
  CHECK(t2 > t);
  CHECK(e.poll(t2));  // nobody inside
  {
    const Epoch::ReadGuard mine;  // entered after advance(): the ticket has passed
    CHECK(e.poll(t2));
  }
}

TEST_CASE("publish inside the writer's own guard does not wait; reclaim frees after it") {
  Classifier cls;
  Match a;
  a.set_exact(Field::kInPort, 1);
  {
    const Epoch::ReadGuard guard;  // e.g. a thread that translates and also publishes
    for (std::int32_t p = 0; p < 50; ++p) {
      if (p > 0) REQUIRE(cls.remove(a, p - 1).has_value());
      REQUIRE_FALSE(cls.insert(a, p, static_cast<std::uint64_t>(p)));
      cls.publish();
      FlowKey k;
      k.set(Field::kInPort, 1);
      REQUIRE(cls.lookup(k)->cookie == static_cast<std::uint64_t>(p));
    }
    CHECK(cls.stats().retired > 0);
    CHECK(cls.reclaim() > 0);  // the batches wait for this very guard
  }
  CHECK(cls.reclaim() == 0);
  CHECK(cls.stats().retired == 0);
}

TEST_CASE("publish never waits for a reader inside a lookup; retired memory outlives it") {
  // A reader enters a guard and stays inside it while the writer publishes kGens batches:
  // each moves a generation of rules (test_util.h's family) and grows and empties a big
  // subtable, so tables are rebuilt, proof sets and tries replaced and subtables emptied,
  // all retired while the reader could still hold them. Inside its guard the reader keeps
  // looking up (nested guards) and checks every answer is rule i of a generation published
  // around the lookup. The writer must finish while the guard is held (a publish() that
  // waited would never return, and the test would time out instead); then the retired
  // batches must still wait, and go once the reader leaves.
  constexpr std::uint64_t kRules = 64, kGens = 200, kBig = 300;
  const std::uint64_t seed = vsw::classifier::test::seed();
  INFO("seed " << seed);
  Classifier cls;
  std::atomic<bool> inside{false}, writer_done{false};
  std::atomic<std::uint64_t> lookups{0}, bad{0};
  bool held_until_done = false;
  std::thread reader([&] {
    std::mt19937_64 rng(seed);
    const Epoch::ReadGuard guard;  // held across all the writer's publishes
    inside.store(true);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!writer_done.load() && std::chrono::steady_clock::now() < deadline) {
      const std::uint64_t i = rng() % kRules;
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
        bool may_miss = v1 < 2;
        for (std::uint64_t v = std::max<std::uint64_t>(v1, 2); !may_miss && v <= v2; ++v)
          may_miss = v - 2 >= kGens || !test::generation_rule(v - 2, i).matches(k);
        if (!may_miss) bad.fetch_add(1);
      } else if (h->cookie % kRules != i || h->cookie / kRules + 2 < v1 ||
                 h->cookie / kRules + 2 > v2) {
        bad.fetch_add(1);
      }
    }
    held_until_done = writer_done.load();
  });
  REQUIRE(wait_until([&] { return inside.load(); }, std::chrono::seconds(60)));
  const auto big = [](std::uint64_t j) {
    Match m;
    m.set_exact(Field::kInPort, 10);
    m.set_exact(Field::kIpv4Src, 0x0a000000U | j);
    m.set_prefix(Field::kTpSrc, j << 4, 12);  // a non-prefix proof set as well
    return m;
  };
  std::size_t max_retired = 0;
  for (std::uint64_t g = 0; g < kGens; ++g) {
    for (std::uint64_t i = 0; i < kRules; ++i) {
      if (g > 0) REQUIRE(cls.remove(test::generation_rule(g - 1, i), 100).has_value());
      REQUIRE_FALSE(cls.insert(test::generation_rule(g, i), 100, g * kRules + i));
    }
    // The big subtable fills on even generations and empties on odd ones.
    for (std::uint64_t j = 0; j < kBig; ++j) {
      if (g % 2 == 0)
        REQUIRE_FALSE(cls.insert(big(j), 5, j));
      else
        REQUIRE(cls.remove(big(j), 5).has_value());
    }
    REQUIRE(cls.publish() == g + 2);
    max_retired = std::max(max_retired, cls.stats().retired);
  }
  // Still inside: nothing retired since the reader entered can have been freed.
  const std::size_t waiting = cls.reclaim();
  writer_done.store(true);
  reader.join();
  std::printf(
      "reclaim: %llu lookups inside one guard over %llu publishes; %zu objects retired "
      "at most, %zu batches waiting when the writer finished\n",
      static_cast<unsigned long long>(lookups.load()), static_cast<unsigned long long>(kGens),
      max_retired, waiting);
  CHECK(held_until_done);  // the writer finished while the reader held its guard
  CHECK(waiting >= kGens);
  CHECK(max_retired > kGens);
  CHECK(bad.load() == 0);
  CHECK(lookups.load() > 0);
  CHECK(cls.reclaim() == 0);  // the reader has left
  CHECK(cls.stats().retired == 0);
  CHECK(cls.stats().rules == kRules);
}
