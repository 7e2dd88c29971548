// UkeyTable on its own: one claim per megaflow, the tag index kept in step with insert,
// update and erase, and the dirty queue (each ukey queued once until re-translated); the
// compact Ukey gives back the Match it was made from; interned values are shared and freed.
#include <catch2/catch_test_macros.hpp>
#include <cstring>
#include <random>
#include <vector>

#include "upcall/ukey.h"

using namespace vsw;
using namespace vsw::upcall;

namespace {

ofproto::MacTag tag(std::uint8_t n, std::uint16_t vlan = 0) {
  return ofproto::MacTag{vlan, {0x02, 0, 0, 0, 0, n}};
}

dpif::Match match_on_port(std::uint32_t in_port) {
  dpif::Match m;
  m.key.in_port = in_port;
  m.mask.in_port = 0xffffffff;
  return m;
}

UkeyPtr ukey(std::uint32_t in_port, const std::vector<ofproto::MacTag>& tags,
             const dpif::Actions& actions = {}) {
  return Ukey::make(match_on_port(in_port), actions, tags, {});
}

std::vector<Ukey*> raw(const std::vector<UkeyPtr>& v) {
  std::vector<Ukey*> out;
  out.reserve(v.size());
  for (const auto& p : v) out.push_back(p.get());
  return out;
}

}  // namespace

TEST_CASE("a megaflow is claimed once", "[upcall][ukey]") {
  UkeyTable t;
  auto first = ukey(1, {tag(1)});
  auto second = ukey(1, {tag(2)});
  CHECK(t.insert(first));
  CHECK_FALSE(t.insert(second));
  CHECK(t.size() == 1);
  CHECK(t.find(second->match()) == first);
  CHECK(t.holds(*first));
  CHECK_FALSE(t.holds(*second));
  CHECK(t.find(match_on_port(2)) == nullptr);
  // The loser's tags were not indexed.
  CHECK(t.mark_tagged(std::vector{tag(2)}) == 0);
  CHECK(t.erased() == 0);
  t.erase(first->match());
  CHECK(t.size() == 0);
  CHECK(t.erased() == 1);
  CHECK(t.find(first->match()) == nullptr);
  CHECK(t.indexed_tags() == 0);
  CHECK(t.insert(second));
  // Erasing by ukey erases only that ukey.
  t.erase(*first);
  CHECK(t.holds(*second));
  CHECK(t.erased() == 1);  // erasing what the table does not hold counts nothing
  t.erase(*second);
  CHECK(t.size() == 0);
  CHECK(t.erased() == 2);
}

TEST_CASE("claim makes a ukey only for a megaflow not yet held", "[upcall][ukey]") {
  UkeyTable t;
  const dpif::Actions out2{dpif::OutputAction{2}};
  const std::vector tags{tag(1), tag(2)};
  UkeyPtr uk = t.claim(match_on_port(1), out2, tags, {}, 42);
  REQUIRE(uk);
  CHECK(uk->created_ms == 42);
  CHECK(uk->actions() == out2);
  CHECK(uk->tags() == tags);
  CHECK(uk->state.load() == Ukey::State::kInstalling);
  CHECK(t.find(match_on_port(1)) == uk);
  CHECK_FALSE(t.claim(match_on_port(1), out2, tags, {}, 43));
  CHECK(t.size() == 1);
  CHECK(t.mark_tagged(std::vector{tag(2)}) == 1);
}

TEST_CASE("mark_tagged queues exactly the ukeys carrying a tag, each once", "[upcall][ukey]") {
  UkeyTable t;
  auto ab = ukey(1, {tag(0xa), tag(0xb)});
  auto b = ukey(2, {tag(0xb)});
  auto c = ukey(3, {tag(0xc)});
  REQUIRE(t.insert(ab));
  REQUIRE(t.insert(b));
  REQUIRE(t.insert(c));

  CHECK(t.mark_tagged(std::vector{tag(0xa)}) == 1);
  CHECK(ab->dirty);
  CHECK_FALSE(b->dirty);
  // Already queued: not queued twice, even through another tag.
  CHECK(t.mark_tagged(std::vector{tag(0xa), tag(0xb)}) == 1);
  CHECK(t.mark_tagged(std::vector{tag(0xb, 5)}) == 0);  // same MAC, other VLAN
  auto dirty = t.take_dirty();
  CHECK(raw(dirty) == std::vector<Ukey*>{ab.get(), b.get()});
  CHECK(t.take_dirty().empty());

  // Still flagged until the revalidator clears the flag: marks are not queued again.
  CHECK(t.mark_tagged(std::vector{tag(0xb)}) == 0);
  ab->dirty = false;
  b->dirty = false;
  CHECK(t.mark_tagged(std::vector{tag(0xb)}) == 2);
}

TEST_CASE("update moves a ukey in the tag index; erase takes it out", "[upcall][ukey]") {
  UkeyTable t;
  auto uk = ukey(1, {tag(1)});
  REQUIRE(t.insert(uk));
  t.update(uk, {dpif::OutputAction{2}}, std::vector{tag(2)}, {});
  CHECK(uk->actions() == dpif::Actions{dpif::OutputAction{2}});
  CHECK(t.mark_tagged(std::vector{tag(1)}) == 0);
  CHECK(t.mark_tagged(std::vector{tag(2)}) == 1);
  (void)t.take_dirty();
  uk->dirty = false;

  t.erase(uk->match());
  CHECK(t.mark_tagged(std::vector{tag(2)}) == 0);
  // Updating a ukey no longer in the table must not index it again.
  t.update(uk, {}, std::vector{tag(3)}, {});
  CHECK(t.mark_tagged(std::vector{tag(3)}) == 0);
  CHECK(t.take_dirty().empty());
  CHECK(t.indexed_tags() == 0);
}

TEST_CASE("mark_all queues every ukey not already queued; requeue queues again", "[upcall][ukey]") {
  UkeyTable t;
  auto a = ukey(1, {tag(1)});
  auto b = ukey(2, {});
  REQUIRE(t.insert(a));
  REQUIRE(t.insert(b));
  CHECK(t.mark_tagged(std::vector{tag(1)}) == 1);
  t.mark_all();
  auto dirty = t.take_dirty();
  CHECK(dirty.size() == 2);  // a once, b once
  CHECK(a->dirty);
  CHECK(b->dirty);
  t.requeue(a);
  CHECK(raw(t.take_dirty()) == std::vector<Ukey*>{a.get()});
  CHECK(t.all().size() == 2);
}

// The tag index against a plain reference, through random inserts, updates and erases:
// the intrusive lists must stay exactly "the ukeys in the table carrying the tag".
TEST_CASE("the tag index agrees with a reference under random changes", "[upcall][ukey]") {
  std::mt19937 rng(12345);
  UkeyTable t;
  constexpr std::uint32_t kKeys = 64;
  constexpr std::uint8_t kTags = 8;
  std::vector<UkeyPtr> made(kKeys);
  std::vector<std::vector<ofproto::MacTag>> ref(kKeys);  // tags of ukeys in the table
  auto random_tags = [&] {
    std::vector<ofproto::MacTag> tags;
    const auto n = rng() % 5;  // 0..4: inline and heap-held tag lists
    for (std::uint32_t i = 0; i < n; ++i)
      tags.push_back(tag(static_cast<std::uint8_t>(rng() % kTags)));
    return tags;
  };
  for (int step = 0; step < 5000; ++step) {
    const std::uint32_t k = rng() % kKeys;
    switch (rng() % 3) {
      case 0: {  // claim (or lose to the ukey already there)
        auto tags = random_tags();
        UkeyPtr uk = t.claim(match_on_port(k + 1), {}, tags, {}, 0);
        CHECK(static_cast<bool>(uk) == !made[k]);
        if (uk) {
          made[k] = uk;
          ref[k] = tags;
        }
        break;
      }
      case 1:  // update
        if (made[k]) {
          auto tags = random_tags();
          t.update(made[k], {}, tags, {});
          ref[k] = tags;
        }
        break;
      default:  // erase
        if (made[k]) {
          t.erase(*made[k]);
          made[k] = nullptr;
          ref[k].clear();
        }
        break;
    }
    if (step % 50 != 0) continue;
    for (std::uint8_t g = 0; g < kTags; ++g) {
      std::size_t expect = 0;
      for (std::uint32_t i = 0; i < kKeys; ++i) {
        if (!made[i]) continue;
        for (const auto& x : ref[i])
          if (x == tag(g)) {
            ++expect;
            break;
          }
      }
      CHECK(t.mark_tagged(std::vector{tag(g)}) == expect);
      for (const auto& uk : t.take_dirty()) uk->dirty = false;
    }
  }
}

TEST_CASE("a ukey gives back its match; the table finds it by any equal match", "[upcall][ukey]") {
  std::mt19937 rng(7);
  UkeyTable t;
  std::vector<dpif::Match> matches;
  for (int i = 0; i < 200; ++i) {
    dpif::Match m;
    auto* mk = reinterpret_cast<unsigned char*>(&m.mask);
    auto* kk = reinterpret_cast<unsigned char*>(&m.key);
    // Random mask bytes over random words (padding excluded), random key under it.
    for (std::size_t b = 0; b < offsetof(vsw_flow_key, pad); ++b) {
      if (rng() % 4 == 0) mk[b] = static_cast<unsigned char>(rng());
      kk[b] = static_cast<unsigned char>(rng()) & mk[b];
    }
    matches.push_back(m);
    UkeyPtr uk = Ukey::make(m, {}, {}, {});
    CHECK(uk->match() == m);
    CHECK(uk->has_match(m));
    CHECK(uk->hash() == MatchHash{}(m));
    if (t.find(m)) continue;  // a repeat of an earlier random match
    REQUIRE(t.insert(uk));
  }
  for (const auto& m : matches) {
    const UkeyPtr uk = t.find(m);
    REQUIRE(uk);
    CHECK(uk->match() == m);
    dpif::Match other = m;
    other.key.in_port ^= other.mask.in_port ? 1 : 0;  // differs only where matched
    if (other.mask.in_port) CHECK_FALSE(uk->has_match(other));
  }
}

TEST_CASE("equal masks, actions and rule lists are shared and freed with the last ukey",
          "[upcall][ukey]") {
  const auto masks = Interned<Mask>::pool_size();
  const auto actions = Interned<dpif::Actions>::pool_size();
  const dpif::Actions out7{dpif::OutputAction{7}, dpif::PushVlanAction{10, 0}};
  {
    std::vector<UkeyPtr> ukeys;
    for (std::uint32_t p = 1; p <= 100; ++p) {
      dpif::Match m = match_on_port(p);
      m.mask.eth_type = 0xffff;  // a mask no other test uses
      ukeys.push_back(Ukey::make(m, out7, {}, {}));
    }
    CHECK(Interned<Mask>::pool_size() == masks + 1);
    CHECK(Interned<dpif::Actions>::pool_size() == actions + 1);
    CHECK(ukeys[0]->actions() == out7);
    CHECK(&ukeys[0]->actions() == &ukeys[99]->actions());  // one copy
    const auto copy = Interned<dpif::Actions>::intern(out7);
    CHECK(&*copy == &ukeys[5]->actions());
  }
  CHECK(Interned<Mask>::pool_size() == masks);
  CHECK(Interned<dpif::Actions>::pool_size() == actions);
}

TEST_CASE("MatchHash follows Match equality", "[upcall][ukey]") {
  MatchHash h;
  auto x = match_on_port(7);
  auto y = match_on_port(7);
  CHECK(x == y);
  CHECK(h(x) == h(y));
  auto z = match_on_port(8);
  CHECK_FALSE(x == z);
  CHECK(h(x) != h(z));  // not required in general, but these two must not collide
  // The last word of the key counts too (arp_op and padding).
  auto w = x;
  w.mask.arp_op = 0xffff;
  w.key.arp_op = 1;
  CHECK(h(w) != h(x));
}
