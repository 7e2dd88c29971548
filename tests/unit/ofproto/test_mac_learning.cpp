// MAC learning: learn/refresh/move results, aging with an injected clock, eviction from the
// port holding the most entries (with second chance for refreshed entries), flushes, dump,
// and many threads learning at once (run under TSan by the tsan label).
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <thread>

#include "ofproto/mac_learning.h"
#include "test_util.h"

using namespace vsw::ofproto;
using vsw::ofproto::test::mac;
using Learned = MacLearning::Learned;

namespace {

struct FakeClock {
  std::int64_t now = 1'000'000;
  Clock fn() {
    return [this] { return now; };
  }
};

}  // namespace

TEST_CASE("learn reports new, refreshed and moved entries") {
  MacLearning ml;
  auto r = ml.learn(10, mac(1), 1);
  CHECK(r.what == Learned::kNew);
  CHECK(!r.evicted);
  CHECK(ml.lookup(10, mac(1)) == 1U);
  CHECK(!ml.lookup(20, mac(1)));  // per VLAN
  CHECK(ml.learn(10, mac(1), 1).what == Learned::kRefreshed);
  r = ml.learn(10, mac(1), 2);
  CHECK(r.what == Learned::kMoved);
  CHECK(r.old_port == 1);
  CHECK(ml.lookup(10, mac(1)) == 2U);
  const auto s = ml.stats();
  CHECK(s.entries == 1);
  CHECK(s.learned == 1);
  CHECK(s.moved == 1);
  CHECK(s.capacity == 8192);
  CHECK(s.aging_s == 300);
  const auto moves = ml.take_moves();
  REQUIRE(moves.size() == 1);
  CHECK(moves[0].tag == MacTag{10, mac(1)});
  CHECK(moves[0].from == 1);
  CHECK(moves[0].to == 2);
  CHECK(ml.take_moves().empty());
}

TEST_CASE("entries age out after aging_s without frames") {
  FakeClock clock;
  MacLearning ml({.capacity = 100, .aging_s = 300, .clock = clock.fn()});
  ml.learn(1, mac(1), 1);
  ml.learn(1, mac(2), 1);
  clock.now += 200'000;
  ml.learn(1, mac(2), 1);  // refreshed at 200 s
  clock.now += 99'999;     // 299.999 s after the first
  CHECK(ml.expire().empty());
  clock.now += 1;  // 300 s
  const auto gone = ml.expire();
  REQUIRE(gone.size() == 1);
  CHECK(gone[0] == MacTag{1, mac(1)});
  CHECK(!ml.lookup(1, mac(1)));
  CHECK(ml.lookup(1, mac(2)) == 1U);
  const auto dump = ml.dump();
  REQUIRE(dump.size() == 1);
  CHECK(dump[0].age_ms == 100'000);
  ml.set_aging(60);
  clock.now += 60'000;  // 160 s since the refresh
  CHECK(ml.expire().size() == 1);
  CHECK(ml.stats().expired == 2);
}

TEST_CASE("a full table evicts from the port holding the most entries") {
  FakeClock clock;
  MacLearning ml({.capacity = 5, .aging_s = 300, .clock = clock.fn()});
  for (std::uint64_t i = 1; i <= 3; ++i) {
    ml.learn(0, mac(i), 1);  // port 1: three entries, mac 1 oldest
    clock.now += 10;
  }
  ml.learn(0, mac(11), 2);
  ml.learn(0, mac(12), 2);  // port 2: two; table full
  clock.now += 10;
  ml.learn(0, mac(1), 1);  // mac 1 refreshed: gets a second chance
  auto r = ml.learn(0, mac(21), 3);
  CHECK(r.what == Learned::kNew);
  REQUIRE(r.evicted);
  CHECK(*r.evicted == MacTag{0, mac(2)});  // port 1's least recently seen
  CHECK(ml.lookup(0, mac(1)) == 1U);
  // Now ports 1 and 2 hold two each: the lower port number loses, oldest first (mac 3).
  r = ml.learn(0, mac(22), 3);
  REQUIRE(r.evicted);
  CHECK(*r.evicted == MacTag{0, mac(3)});
  CHECK(ml.stats().evicted == 2);
  CHECK(ml.stats().entries == 5);
}

TEST_CASE("capacity changes, flushes and dump") {
  MacLearning ml({.capacity = 10, .aging_s = 300, .clock = {}});
  for (std::uint64_t i = 0; i < 6; ++i)
    ml.learn(static_cast<std::uint16_t>(i % 2), mac(i), i < 4 ? 1 : 2);
  auto evicted = ml.set_capacity(4);
  CHECK(evicted.size() == 2);
  CHECK(ml.stats().entries == 4);
  const auto d = ml.dump();
  REQUIRE(d.size() == 4);
  CHECK(std::is_sorted(d.begin(), d.end(),
                       [](const auto& a, const auto& b) { return a.tag < b.tag; }));
  const auto p2 = ml.flush_port(2);
  CHECK(p2.size() == 2);
  CHECK(ml.stats().entries == 2);
  CHECK(ml.flush().size() == 2);
  CHECK(ml.stats().entries == 0);
  MacLearning none({.capacity = 0, .aging_s = 300, .clock = {}});
  CHECK(none.learn(1, mac(1), 1).what == Learned::kNotLearned);
}

TEST_CASE("MacTag packs VLAN and MAC") {
  const MacTag t{4095, mac(0x0102030405ff)};
  CHECK(MacTag::unpack(t.packed()) == t);
  CHECK(MacTagHash{}(t) != MacTagHash{}(MacTag{4094, t.mac}));
}

TEST_CASE("threads learn, move and look up concurrently", "[tsan]") {
  MacLearning ml({.capacity = 256, .aging_s = 300, .clock = {}});
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 4; ++t) {
    threads.emplace_back([&ml, t] {
      for (std::uint64_t i = 0; i < 20000; ++i) {
        const auto m = mac(i % 500);
        ml.learn(static_cast<std::uint16_t>(i % 3), m, 1 + (t + i / 1000) % 4);
        (void)ml.lookup(static_cast<std::uint16_t>(i % 3), m);
        if (i % 5000 == 0) (void)ml.expire();
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ml.stats().entries <= 256);
  CHECK(ml.dump().size() == ml.stats().entries);
}
