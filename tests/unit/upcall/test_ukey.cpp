// UkeyTable on its own: one claim per megaflow, the tag index kept in step with insert,
// update and erase, and the dirty queue (each ukey queued once until re-translated).
#include <catch2/catch_test_macros.hpp>
#include <memory>
#include <vector>

#include "upcall/ukey.h"

using namespace vsw;
using namespace vsw::upcall;

namespace {

ofproto::MacTag tag(std::uint8_t n, std::uint16_t vlan = 0) {
  return ofproto::MacTag{vlan, {0x02, 0, 0, 0, 0, n}};
}

UkeyPtr ukey(std::uint32_t in_port, std::vector<ofproto::MacTag> tags) {
  auto uk = std::make_shared<Ukey>();
  uk->match.key.in_port = in_port;
  uk->match.mask.in_port = 0xffffffff;
  uk->tags = std::move(tags);
  return uk;
}

std::vector<Ukey*> raw(const std::vector<UkeyPtr>& v) {
  std::vector<Ukey*> out;
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
  CHECK(t.find(second->match) == first);
  CHECK(t.find(ukey(2, {})->match) == nullptr);
  // The loser's tags were not indexed.
  CHECK(t.mark_tagged({tag(2)}) == 0);
  t.erase(first->match);
  CHECK(t.size() == 0);
  CHECK(t.find(first->match) == nullptr);
  CHECK(t.insert(second));
}

TEST_CASE("mark_tagged queues exactly the ukeys carrying a tag, each once", "[upcall][ukey]") {
  UkeyTable t;
  auto ab = ukey(1, {tag(0xa), tag(0xb)});
  auto b = ukey(2, {tag(0xb)});
  auto c = ukey(3, {tag(0xc)});
  REQUIRE(t.insert(ab));
  REQUIRE(t.insert(b));
  REQUIRE(t.insert(c));

  CHECK(t.mark_tagged({tag(0xa)}) == 1);
  CHECK(ab->dirty);
  CHECK_FALSE(b->dirty);
  // Already queued: not queued twice, even through another tag.
  CHECK(t.mark_tagged({tag(0xa), tag(0xb)}) == 1);
  CHECK(t.mark_tagged({tag(0xb, 5)}) == 0);  // same MAC, other VLAN
  auto dirty = t.take_dirty();
  CHECK(raw(dirty) == std::vector<Ukey*>{ab.get(), b.get()});
  CHECK(t.take_dirty().empty());

  // Still flagged until the revalidator clears the flag: marks are not queued again.
  CHECK(t.mark_tagged({tag(0xb)}) == 0);
  ab->dirty = false;
  b->dirty = false;
  CHECK(t.mark_tagged({tag(0xb)}) == 2);
}

TEST_CASE("update moves a ukey in the tag index; erase takes it out", "[upcall][ukey]") {
  UkeyTable t;
  auto uk = ukey(1, {tag(1)});
  REQUIRE(t.insert(uk));
  t.update(uk, {dpif::OutputAction{2}}, {tag(2)}, {});
  CHECK(uk->actions == dpif::Actions{dpif::OutputAction{2}});
  CHECK(t.mark_tagged({tag(1)}) == 0);
  CHECK(t.mark_tagged({tag(2)}) == 1);
  (void)t.take_dirty();
  uk->dirty = false;

  t.erase(uk->match);
  CHECK(t.mark_tagged({tag(2)}) == 0);
  // Updating a ukey no longer in the table must not index it again.
  t.update(uk, {}, {tag(3)}, {});
  CHECK(t.mark_tagged({tag(3)}) == 0);
  CHECK(t.take_dirty().empty());
}

TEST_CASE("mark_all queues every ukey not already queued; requeue queues again", "[upcall][ukey]") {
  UkeyTable t;
  auto a = ukey(1, {tag(1)});
  auto b = ukey(2, {});
  REQUIRE(t.insert(a));
  REQUIRE(t.insert(b));
  CHECK(t.mark_tagged({tag(1)}) == 1);
  t.mark_all();
  auto dirty = t.take_dirty();
  CHECK(dirty.size() == 2);  // a once, b once
  CHECK(a->dirty);
  CHECK(b->dirty);
  t.requeue(a);
  CHECK(raw(t.take_dirty()) == std::vector<Ukey*>{a.get()});
  CHECK(t.all().size() == 2);
}

TEST_CASE("MatchHash follows Match equality", "[upcall][ukey]") {
  MatchHash h;
  auto x = ukey(7, {})->match;
  auto y = ukey(7, {})->match;
  CHECK(x == y);
  CHECK(h(x) == h(y));
  auto z = ukey(8, {})->match;
  CHECK_FALSE(x == z);
  CHECK(h(x) != h(z));  // not required in general, but these two must not collide
  // The last word of the key counts too (arp_op and padding).
  auto w = x;
  w.mask.arp_op = 0xffff;
  w.key.arp_op = 1;
  CHECK(h(w) != h(x));
}
