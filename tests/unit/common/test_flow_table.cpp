// Unit tests for common/flow_table.c: the megaflow table and the microflow cache,
// checked against a linear scan over the same flows (the reference). Random cases
// use Catch2's seed: rerun one with --rng-seed N (the seed is printed on failure).
#include <arpa/inet.h>

#include <catch2/catch_get_random_seed.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <vector>

extern "C" {
#include "flow_table.h"
}

namespace {

constexpr size_t kKeyBytes = sizeof(vsw_flow_key);
constexpr size_t kPadOffset = offsetof(vsw_flow_key, pad);

struct Flow {
  vsw_mflow m{};  // must stay first: tests map vsw_mflow* back to Flow*
  vsw_flow_key key{};
  vsw_flow_key mask{};
  bool installed = false;
};

bool matches(const Flow& f, const vsw_flow_key& k) {
  const auto* a = reinterpret_cast<const uint8_t*>(&k);
  const auto* fk = reinterpret_cast<const uint8_t*>(&f.key);
  const auto* m = reinterpret_cast<const uint8_t*>(&f.mask);
  for (size_t i = 0; i < kKeyBytes; i++)
    if ((a[i] & m[i]) != (fk[i] & m[i])) return false;
  return true;
}

struct Rng {
  std::mt19937 gen;
  explicit Rng(uint32_t seed) : gen(seed) {}
  uint32_t below(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(gen); }
};

vsw_flow_key random_mask(Rng& r) {
  vsw_flow_key m{};
  auto* b = reinterpret_cast<uint8_t*>(&m);
  int n = 1 + r.below(3);
  for (int i = 0; i < n; i++) b[r.below(kPadOffset)] = 0xff;
  return m;
}

vsw_flow_key random_key(Rng& r) {
  vsw_flow_key k{};
  auto* b = reinterpret_cast<uint8_t*>(&k);
  for (size_t i = 0; i < kPadOffset; i++) b[i] = static_cast<uint8_t>(r.below(3));
  return k;
}

struct TableFixture {
  vsw_table t{};
  TableFixture() { vsw_table_init(&t); }
  ~TableFixture() { vsw_table_destroy(&t); }
};

vsw_flow_key exact_mask() {
  vsw_flow_key m;
  std::memset(&m, 0xff, sizeof(m));
  std::memset(m.pad, 0, sizeof(m.pad));
  return m;
}

// Whether some key matches both @f and an installed flow: they agree wherever both
// masks are set. Userspace installs only disjoint megaflows; random tests keep that.
bool overlaps_installed(const std::vector<std::unique_ptr<Flow>>& flows, const Flow& f) {
  const auto* b = reinterpret_cast<const uint8_t*>(&f.key);
  const auto* mb = reinterpret_cast<const uint8_t*>(&f.mask);
  for (const auto& g : flows) {
    if (!g->installed) continue;
    const auto* a = reinterpret_cast<const uint8_t*>(&g->key);
    const auto* ma = reinterpret_cast<const uint8_t*>(&g->mask);
    bool meet = true;
    for (size_t j = 0; j < kKeyBytes && meet; j++) meet = ((a[j] ^ b[j]) & ma[j] & mb[j]) == 0;
    if (meet) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("insert, lookup, find and duplicate", "[common]") {
  TableFixture fx;
  Flow f;
  f.key.eth_type = htons(0x0800);
  f.key.ipv4_dst = htonl(0x0a000001);
  f.key.tp_src = htons(1234);  // outside the mask: ignored
  f.mask.eth_type = 0xffff;
  f.mask.ipv4_dst = 0xffffffff;
  REQUIRE(vsw_table_insert(&fx.t, &f.m, &f.key, &f.mask) == 0);
  CHECK(f.m.key.key.tp_src == 0);

  vsw_flow_key pkt{};
  pkt.eth_type = htons(0x0800);
  pkt.ipv4_dst = htonl(0x0a000001);
  pkt.tp_src = htons(80);
  u32 probed = 0;
  CHECK(vsw_table_lookup(&fx.t, &pkt, &probed) == &f.m);
  CHECK(probed == 1);
  pkt.ipv4_dst = htonl(0x0a000002);
  CHECK(vsw_table_lookup(&fx.t, &pkt, &probed) == nullptr);

  CHECK(vsw_table_find(&fx.t, &f.key, &f.mask) == &f.m);
  vsw_flow_key other_mask = f.mask;
  other_mask.tp_src = 0xffff;
  CHECK(vsw_table_find(&fx.t, &f.key, &other_mask) == nullptr);

  Flow dup = f;
  CHECK(vsw_table_insert(&fx.t, &dup.m, &dup.key, &dup.mask) == -EEXIST);
  CHECK(fx.t.n_flows == 1);
  CHECK(vsw_table_n_masks(&fx.t) == 1);

  vsw_table_remove(&fx.t, &f.m);
  CHECK(fx.t.n_flows == 0);
  CHECK(vsw_table_n_masks(&fx.t) == 0);
  pkt.ipv4_dst = htonl(0x0a000001);
  CHECK(vsw_table_lookup(&fx.t, &pkt, &probed) == nullptr);
  CHECK(probed == 0);
}

TEST_CASE("an all-wildcard mask matches every packet", "[common]") {
  TableFixture fx;
  Flow f;
  REQUIRE(vsw_table_insert(&fx.t, &f.m, &f.key, &f.mask) == 0);
  Rng r(7);
  for (int i = 0; i < 100; i++) {
    vsw_flow_key k = random_key(r);
    u32 probed;
    CHECK(vsw_table_lookup(&fx.t, &k, &probed) == &f.m);
  }
  vsw_table_remove(&fx.t, &f.m);
}

TEST_CASE("differential: many masks vs linear scan, with deletes", "[common][random]") {
  const uint32_t seed = Catch::getSeed();
  INFO("seed " << seed << " (rerun with --rng-seed " << seed << ")");
  Rng r(seed);
  TableFixture fx;
  std::vector<vsw_flow_key> masks;
  for (int i = 0; i < 40; i++) masks.push_back(random_mask(r));
  std::vector<std::unique_ptr<Flow>> flows;
  for (int i = 0; i < 3000; i++) {
    auto f = std::make_unique<Flow>();
    f->key = random_key(r);
    f->mask = masks[r.below(masks.size())];
    int rc = vsw_table_insert(&fx.t, &f->m, &f->key, &f->mask);
    // -EEXIST exactly when an installed flow has the same mask and masked key.
    bool dup = false;
    for (auto& g : flows)
      if (g->installed && !std::memcmp(&g->mask, &f->mask, kKeyBytes) && matches(*g, f->key)) {
        vsw_flow_key a, b;
        vsw_key_mask(&a, &g->key, &g->mask);
        vsw_key_mask(&b, &f->key, &f->mask);
        if (!std::memcmp(&a, &b, kKeyBytes)) dup = true;
      }
    REQUIRE(rc == (dup ? -EEXIST : 0));
    f->installed = rc == 0;
    flows.push_back(std::move(f));
  }
  size_t installed = 0;
  for (auto& f : flows) installed += f->installed;
  REQUIRE(fx.t.n_flows == installed);

  auto check = [&](int rounds) {
    for (int i = 0; i < rounds; i++) {
      vsw_flow_key k = random_key(r);
      if (i % 2) {  // derive from a flow so that hits are common
        const Flow& f = *flows[r.below(flows.size())];
        vsw_flow_key noise = random_key(r);
        auto* kb = reinterpret_cast<uint8_t*>(&k);
        auto* nb = reinterpret_cast<uint8_t*>(&noise);
        auto* fb = reinterpret_cast<const uint8_t*>(&f.key);
        auto* mb = reinterpret_cast<const uint8_t*>(&f.mask);
        for (size_t j = 0; j < kKeyBytes; j++) kb[j] = (fb[j] & mb[j]) | (nb[j] & ~mb[j]);
      }
      std::set<const vsw_mflow*> expect;
      for (auto& f : flows)
        if (f->installed && matches(*f, k)) expect.insert(&f->m);
      u32 probed;
      const vsw_mflow* got = vsw_table_lookup(&fx.t, &k, &probed);
      if (expect.empty())
        REQUIRE(got == nullptr);
      else
        REQUIRE(expect.count(got) == 1);
      REQUIRE(probed <= vsw_table_n_masks(&fx.t));
    }
  };
  check(4000);

  for (auto& f : flows)
    if (f->installed && r.below(2)) {
      vsw_table_remove(&fx.t, &f->m);
      f->installed = false;
    }
  installed = 0;
  for (auto& f : flows) installed += f->installed;
  REQUIRE(fx.t.n_flows == installed);
  vsw_table_rebalance(&fx.t);
  check(4000);

  size_t flushed = 0;
  vsw_table_flush(
      &fx.t, [](vsw_mflow*, void* arg) { ++*static_cast<size_t*>(arg); }, &flushed);
  CHECK(flushed == installed);
  CHECK(fx.t.n_flows == 0);
  CHECK(vsw_table_n_masks(&fx.t) == 0);
}

TEST_CASE("subtables grow and shrink, lookups stay correct", "[common]") {
  TableFixture fx;
  const vsw_flow_key mask = exact_mask();
  std::vector<std::unique_ptr<Flow>> flows;
  for (uint32_t i = 0; i < 20000; i++) {
    auto f = std::make_unique<Flow>();
    f->key.ipv4_src = htonl(i);
    f->key.tp_src = htons(i & 0xffff);
    f->mask = mask;
    REQUIRE(vsw_table_insert(&fx.t, &f->m, &f->key, &f->mask) == 0);
    flows.push_back(std::move(f));
  }
  vsw_subtable* sub = flows[0]->m.sub;
  CHECK(sub->buckets->n_buckets >= 16384);
  for (auto& f : flows) {
    u32 probed;
    REQUIRE(vsw_table_lookup(&fx.t, &f->key, &probed) == &f->m);
  }
  for (size_t i = 0; i < flows.size(); i++)
    if (i % 100) vsw_table_remove(&fx.t, &flows[i]->m);
  CHECK(sub->buckets->n_buckets <= 1024);
  for (size_t i = 0; i < flows.size(); i++) {
    u32 probed;
    REQUIRE(vsw_table_lookup(&fx.t, &flows[i]->key, &probed) == (i % 100 ? nullptr : &flows[i]->m));
  }
  for (size_t i = 0; i < flows.size(); i += 100) vsw_table_remove(&fx.t, &flows[i]->m);
  CHECK(vsw_table_n_masks(&fx.t) == 0);
}

TEST_CASE("masks are reordered by hits", "[common]") {
  TableFixture fx;
  Flow a, b;
  a.key.eth_type = htons(0x0800);
  a.mask.eth_type = 0xffff;
  b.key.ipv4_dst = htonl(1);
  b.mask.ipv4_dst = 0xffffffff;
  REQUIRE(vsw_table_insert(&fx.t, &a.m, &a.key, &a.mask) == 0);
  REQUIRE(vsw_table_insert(&fx.t, &b.m, &b.key, &b.mask) == 0);
  vsw_flow_key pkt{};
  pkt.ipv4_dst = htonl(1);  // matches only b, the second mask
  u32 probed;
  for (int i = 0; i < 10; i++) CHECK(vsw_table_lookup(&fx.t, &pkt, &probed) == &b.m);
  CHECK(probed == 2);
  vsw_table_rebalance(&fx.t);
  CHECK(vsw_table_lookup(&fx.t, &pkt, &probed) == &b.m);
  CHECK(probed == 1);
  vsw_table_remove(&fx.t, &a.m);
  vsw_table_remove(&fx.t, &b.m);
}

TEST_CASE("microflow cache hits, detects collisions and is invalidated by removal", "[common]") {
  TableFixture fx;
  auto cache = std::make_unique<vsw_mfc>();
  std::memset(cache.get(), 0, sizeof(*cache));
  Flow f;
  f.key.eth_type = htons(0x86dd);
  f.mask.eth_type = 0xffff;
  REQUIRE(vsw_table_insert(&fx.t, &f.m, &f.key, &f.mask) == 0);
  vsw_flow_key pkt{};
  pkt.eth_type = htons(0x86dd);
  u32 probed;
  bool hit;
  CHECK(vsw_mfc_lookup(&fx.t, cache.get(), &pkt, 0x1234, &probed, &hit) == &f.m);
  CHECK(!hit);
  CHECK(vsw_mfc_lookup(&fx.t, cache.get(), &pkt, 0x1234, &probed, &hit) == &f.m);
  CHECK(hit);

  // Same skb hash, different packet: the masked compare rejects the entry.
  vsw_flow_key other{};
  other.eth_type = htons(0x0800);
  CHECK(vsw_mfc_lookup(&fx.t, cache.get(), &other, 0x1234, &probed, &hit) == nullptr);
  CHECK(!hit);

  // Hash 0 means "no hash": never cached.
  CHECK(vsw_mfc_lookup(&fx.t, cache.get(), &pkt, 0, &probed, &hit) == &f.m);
  CHECK(vsw_mfc_lookup(&fx.t, cache.get(), &pkt, 0, &probed, &hit) == &f.m);
  CHECK(!hit);

  // After removal the cached pointer must not be returned, even though the
  // entry still holds it.
  CHECK(vsw_mfc_lookup(&fx.t, cache.get(), &pkt, 0x1234, &probed, &hit) == &f.m);
  CHECK(hit);
  vsw_table_remove(&fx.t, &f.m);
  CHECK(vsw_mfc_lookup(&fx.t, cache.get(), &pkt, 0x1234, &probed, &hit) == nullptr);
  CHECK(!hit);

  // Reinstalled, the flow is found again through the table and re-cached.
  REQUIRE(vsw_table_insert(&fx.t, &f.m, &f.key, &f.mask) == 0);
  CHECK(vsw_mfc_lookup(&fx.t, cache.get(), &pkt, 0x1234, &probed, &hit) == &f.m);
  CHECK(!hit);
  CHECK(vsw_mfc_lookup(&fx.t, cache.get(), &pkt, 0x1234, &probed, &hit) == &f.m);
  CHECK(hit);
  vsw_table_remove(&fx.t, &f.m);
}

TEST_CASE("differential: microflow cache keyed by vsw_key_hash vs linear scan",
          "[common][random]") {
  // The cache must never return a flow the key does not match, nor a removed flow:
  // random flows over a few masks, lookups through one small-ish cache (so entries
  // collide and are overwritten), and removals and reinsertions between lookups.
  const uint32_t seed = Catch::getSeed();
  INFO("seed " << seed << " (rerun with --rng-seed " << seed << ")");
  Rng r(seed);
  TableFixture fx;
  auto cache = std::make_unique<vsw_mfc>();
  std::memset(cache.get(), 0, sizeof(*cache));
  std::vector<vsw_flow_key> masks;
  for (int i = 0; i < 6; i++) masks.push_back(random_mask(r));
  std::vector<std::unique_ptr<Flow>> flows;
  for (int i = 0; i < 400; i++) {
    auto f = std::make_unique<Flow>();
    f->key = random_key(r);
    f->mask = masks[r.below(masks.size())];
    // Keep megaflows disjoint, as userspace does: skip one that another flow overlaps.
    if (!overlaps_installed(flows, *f))
      f->installed = vsw_table_insert(&fx.t, &f->m, &f->key, &f->mask) == 0;
    flows.push_back(std::move(f));
  }
  size_t hits = 0;
  for (int round = 0; round < 20000; round++) {
    if (round % 50 == 0) {  // churn: remove or reinstall one flow
      Flow& f = *flows[r.below(flows.size())];
      if (f.installed) {
        vsw_table_remove(&fx.t, &f.m);
        f.installed = false;
      } else {
        if (!overlaps_installed(flows, f))
          f.installed = vsw_table_insert(&fx.t, &f.m, &f.key, &f.mask) == 0;
      }
    }
    // A key from a small pool, so that keys repeat and the cache hits.
    Rng kr(r.below(300));
    vsw_flow_key k = random_key(kr);
    const Flow& src = *flows[kr.below(flows.size())];
    auto* kb = reinterpret_cast<uint8_t*>(&k);
    const auto* fb = reinterpret_cast<const uint8_t*>(&src.key);
    const auto* mb = reinterpret_cast<const uint8_t*>(&src.mask);
    for (size_t j = 0; j < kKeyBytes; j++) kb[j] = (fb[j] & mb[j]) | (kb[j] & ~mb[j]);
    union vsw_key_words w;
    w.key = k;
    const u32 h = vsw_key_hash(&w, fx.t.seed);
    REQUIRE(h != 0);
    const vsw_mflow* expect = nullptr;
    for (auto& f : flows)
      if (f->installed && matches(*f, k)) expect = &f->m;
    u32 probed;
    bool hit;
    REQUIRE(vsw_mfc_lookup(&fx.t, cache.get(), &k, h, &probed, &hit) == expect);
    hits += hit;
  }
  CHECK(hits > 1000);  // the cache did serve
  for (auto& f : flows)
    if (f->installed) vsw_table_remove(&fx.t, &f->m);
}
