// See classifier.h for the design. This file: the published order of subtables (buckets
// and groups by prefix length, the lookup that merges them in priority order), and the
// writer side: publish() and the trie upkeep. Subtables are in subtable.cpp.
#include "classifier/classifier.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <numeric>

#include "classifier/epoch.h"
#include "classifier/prefix_trie.h"
#include "classifier/subtable.h"

namespace vsw::classifier {

using detail::kNoPlen;
using detail::kTrieFields;
using detail::Subtable;
using detail::trie_key;
using detail::unwildcard_prefix;
using detail::Version;

std::size_t FlowKeyHash::operator()(const FlowKey& k) const noexcept {
  // A sum of independent products (they overlap in the pipeline), then one mix.
  std::uint64_t h = detail::kSeed;
  for (std::size_t i = 0; i < kWords; ++i) h += k.w[i] * (0x9e3779b97f4a7c15ULL + 2 * i);
  return detail::finish(h);
}

// The subtables of one published version in lookup order, with the tries that filter
// them. Immutable once published; consecutive versions share it until a subtable appears,
// goes, or raises its maximum priority, or a trie is rebuilt.
class Order {
 public:
  struct Ref {
    std::int32_t max_priority;
    std::array<std::uint8_t, kTrieFields> plen;  // copy of sub->plen(), for a cache-friendly scan
    const Subtable* sub;
  };
  std::vector<Ref> order;                                            // see build_buckets()
  std::array<std::shared_ptr<const PrefixTrie>, kTrieFields> tries;  // null: field unused
  std::vector<std::uint8_t> active;  // trie fields that some subtable can be skipped on

  // Subtables are bucketed by their prefix length on the first active trie field and,
  // within a bucket, grouped by their length on the second; the tries accept or reject a
  // whole bucket or group with one bit test. order is sorted by (bucket, group, priority).
  struct Group {
    std::uint8_t plen;          // on active[1]; kNoPlen if fewer than two fields are active
    std::int32_t max_priority;  // of its first subtable
    std::uint32_t begin, end;   // range of order
  };
  // Number of set bits of m below bit i.
  static std::uint32_t rank(std::uint64_t m, int i) {
    return static_cast<std::uint32_t>(std::popcount(m & ((1ULL << i) - 1)));
  }
  struct Bucket {
    std::uint8_t plen;                           // on active[0]; kNoPlen if no field is active
    std::int32_t max_priority;                   // over its groups
    std::uint32_t group_begin, group_end;        // range of groups, by ascending length
    std::array<std::uint64_t, 4> group_present;  // bit p: a group has length p

    // The proof bits (min(depth, p)) of the longest length p whose group the second
    // field's matching lengths `pass` reject although its priority reaches proof_min; at
    // most `known` if that is no more.
    [[nodiscard]] unsigned rejection_bits(const std::vector<Group>& groups,
                                          const std::array<std::uint64_t, 4>& pass,
                                          std::int64_t proof_min, unsigned depth,
                                          unsigned known) const {
      if (max_priority < proof_min) return known;  // no group of it qualifies
      std::uint32_t end = group_end;
      for (int w = 3; w >= 0; --w) {
        const std::uint64_t present = group_present[w];
        const std::uint32_t base = end - static_cast<std::uint32_t>(std::popcount(present));
        for (std::uint64_t rej = present & ~pass[w]; rej != 0;) {
          const int top = 63 - std::countl_zero(rej);
          const unsigned bits = std::min(depth, static_cast<unsigned>(w) * 64 + top);
          if (bits <= known) return known;  // shorter lengths prove no more
          if (groups[base + rank(present, top)].max_priority >= proof_min) return bits;
          rej &= ~(1ULL << top);
        }
        end = base;
      }
      return known;
    }
  };
  std::vector<Bucket> buckets;  // at most 130
  std::vector<Group> groups;
  std::array<std::uint64_t, 4> bucket_present{};  // bit p: a bucket has length p
  std::array<std::uint8_t, 256> bucket_index{};   // its index in buckets
  // Buckets ranked by descending maximum priority (ties: ascending length): the rank of the
  // bucket of length p, and the bucket at each rank (at most 130 buckets).
  std::array<std::uint8_t, 256> bucket_rank{};
  std::array<std::uint8_t, 192> bucket_at_rank{};

  [[nodiscard]] std::uint8_t key0(const Ref& r) const {
    return active.empty() ? kNoPlen : r.plen[active[0]];
  }
  [[nodiscard]] std::uint8_t key1(const Ref& r) const {
    return active.size() < 2 ? kNoPlen : r.plen[active[1]];
  }
  // The order's sort: by bucket, then group, then descending maximum priority, then age.
  [[nodiscard]] auto before() const {
    return [this](const Ref& a, const Ref& b) {
      if (key0(a) != key0(b)) return key0(a) < key0(b);
      if (key1(a) != key1(b)) return key1(a) < key1(b);
      if (a.max_priority != b.max_priority) return a.max_priority > b.max_priority;
      return a.sub->seq < b.sub->seq;
    };
  }
  // Buckets and groups over `order`, which is sorted by before().
  void build_buckets() {
    for (std::uint32_t i = 0; i < order.size(); ++i) {
      const bool new_bucket = buckets.empty() || buckets.back().plen != key0(order[i]);
      if (new_bucket) {
        buckets.push_back({key0(order[i]),
                           order[i].max_priority,
                           static_cast<std::uint32_t>(groups.size()),
                           0,
                           {}});
      }
      if (new_bucket || groups.back().plen != key1(order[i])) {
        const unsigned p = key1(order[i]);
        groups.push_back({key1(order[i]), order[i].max_priority, i, i});
        buckets.back().group_present[p >> 6] |= 1ULL << (p & 63);
      }
      groups.back().end = i + 1;
      buckets.back().group_end = static_cast<std::uint32_t>(groups.size());
      buckets.back().max_priority = std::max(buckets.back().max_priority, order[i].max_priority);
    }
    std::vector<std::uint8_t> by_priority(buckets.size());
    std::iota(by_priority.begin(), by_priority.end(), std::uint8_t{0});
    std::stable_sort(by_priority.begin(), by_priority.end(), [&](std::uint8_t a, std::uint8_t b) {
      return buckets[a].max_priority > buckets[b].max_priority;
    });
    for (std::size_t r = 0; r < by_priority.size(); ++r) {
      const std::uint8_t i = by_priority[r];
      const unsigned p = buckets[i].plen;
      bucket_present[p >> 6] |= 1ULL << (p & 63);
      bucket_index[p] = i;
      bucket_rank[p] = static_cast<std::uint8_t>(r);
      bucket_at_rank[r] = i;
    }
  }

  struct Cursor {
    std::uint32_t pos, end;
    std::int32_t top;  // max_priority at pos
  };
  // Per-thread candidate list: no allocation once warm.
  static std::vector<Cursor>& cursors() {
    thread_local std::vector<Cursor> v(256);
    return v;
  }

  // A subtable that missed, with the staged-lookup bits that prove it.
  struct Missed {
    const Subtable* sub;
    unsigned miss_end;
  };
  // Chooses the missed subtables' proofs. Their stage bits often overlap (say, ip_proto for
  // a packet of another protocol), so paying them once can beat a cheaper-looking port
  // proof per subtable: first the subtables whose best proof is their stage bits take it;
  // then the others take either all their stage bits or each its best proof given what wc
  // holds by then, whichever adds fewer bits.
  static void prove_misses(const FlowKey& key, Missed* missed, std::size_t n, FlowKey& wc,
                           std::uint32_t fields) {
    std::size_t n_deferred = 0;
    for (std::size_t i = 0; i < n; ++i) {
      unsigned cost = 0;
      if (!missed[i].sub->prove_miss(key, missed[i].miss_end, wc, fields, &cost))
        missed[n_deferred++] = missed[i];
    }
    if (n_deferred == 0) return;
    FlowKey stage = wc;
    for (std::size_t i = 0; i < n_deferred; ++i)
      missed[i].sub->unwildcard(stage, missed[i].miss_end);
    for (std::size_t i = 0; i < n_deferred; ++i)
      missed[i].sub->prove_miss(key, missed[i].miss_end, wc, fields);
    if (stage.popcount() < wc.popcount()) wc = stage;
  }

  std::optional<Hit> lookup(const FlowKey& key, FlowKey* wc, const Config& cfg, Version v) const {
    // Per active trie field: the prefix lengths that match (pm[f], bit p; bit kNoPlen is
    // always set) and the leading bits a rejection depends on: a subtable whose length p
    // on a field does not match is rejected, and min(bits, p) bits prove it.
    std::array<std::array<std::uint64_t, 4>, kTrieFields + 1> pm;
    pm[kTrieFields] = {~0ULL, ~0ULL, ~0ULL, ~0ULL};  // "no field": everything passes
    std::array<unsigned, kTrieFields + 1> depth{};
    std::size_t ai = 0;
    if (active.size() >= 2) {  // the first two walks overlap their cache misses
      const unsigned f = active[0], g = active[1];
      PrefixTrie::Plens pf, pg;
      PrefixTrie::lookup_pair(*tries[f], trie_key(key, f), &pf, &depth[f], *tries[g],
                              trie_key(key, g), &pg, &depth[g]);
      pm[f] = {pf[0], pf[1], pf[2], 1ULL << 63};
      pm[g] = {pg[0], pg[1], pg[2], 1ULL << 63};
      ai = 2;
    }
    for (; ai < active.size(); ++ai) {
      const unsigned f = active[ai];
      PrefixTrie::Plens plens;
      tries[f]->lookup(trie_key(key, f), &plens, &depth[f]);
      pm[f] = {plens[0], plens[1], plens[2], 1ULL << 63};
    }
    static_assert(kNoPlen == 255);
    const auto pass = [&](unsigned f, unsigned p) {
      return ((pm[f][p >> 6] >> (p & 63)) & 1) != 0;
    };
    const auto proof_bits = [&](unsigned f, unsigned p) { return std::min(depth[f], p); };
    const std::size_t n_active = active.size();
    const unsigned f0 = n_active > 0 ? active[0] : kTrieFields;
    const unsigned f1 = n_active > 1 ? active[1] : kTrieFields;

    // The buckets the first field passes, as a set of priority ranks: taking the lowest
    // rank first visits them by descending maximum priority. The groups of a bucket that the
    // second field passes become cursors into order only once the merge below reaches the
    // bucket's priority: most buckets are never opened. A bucket's groups are in ascending
    // length order, so the passing ones are the set bits of its length map masked by the
    // second field's matching lengths, found by rank.
    std::array<std::uint64_t, 3> unopened_ranks{};
    for (unsigned w = 0; w < 4; ++w) {
      for (std::uint64_t bits = bucket_present[w] & pm[f0][w]; bits != 0; bits &= bits - 1) {
        const unsigned r = bucket_rank[w * 64 + std::countr_zero(bits)];
        unopened_ranks[r >> 6] |= 1ULL << (r & 63);
      }
    }
    // The passing bucket of lowest rank not yet opened, or nullptr.
    const auto next_unopened = [&]() -> const Bucket* {
      for (unsigned w = 0; w < 3; ++w)
        if (unopened_ranks[w] != 0)
          return &buckets[bucket_at_rank[w * 64 + std::countr_zero(unopened_ranks[w])]];
      return nullptr;
    };
    const Bucket* next_open = next_unopened();
    std::vector<Cursor>& cv = cursors();
    Cursor* cand = cv.data();
    std::size_t n_cand = 0, cap = cv.size();
    const auto open_bucket = [&](const Bucket& b) {
      std::uint32_t base = b.group_begin;
      for (unsigned w1 = 0; w1 < 4; ++w1) {
        const std::uint64_t present = b.group_present[w1];
        for (std::uint64_t g = present & pm[f1][w1]; g != 0; g &= g - 1) {
          const Group& gr = groups[base + rank(present, std::countr_zero(g))];
          if (n_cand == cap) {
            cv.resize(cap * 2);
            cand = cv.data();
            cap = cv.size();
          }
          cand[n_cand++] = {gr.begin, gr.end, gr.max_priority};
        }
        base += static_cast<std::uint32_t>(std::popcount(present));
      }
    };

    const Hit* best = nullptr;
    std::int64_t best_prio = std::numeric_limits<std::int64_t>::min();
    std::array<unsigned, kTrieFields + 1> need{};  // leading bits the rejections depend on
    // Subtables that missed, with the staged-lookup bits that prove it. Their proofs are
    // chosen at the end, once the trie bits are in wc, so that bits needed anyway count
    // as free.
    Missed missed[64];  // NOLINT(cppcoreguidelines-avoid-c-arrays): left uninitialized
    std::size_t n_missed = 0;
    // Visits one subtable: further active fields first (IPv6 with IPv4; on rejection keep
    // the proof that adds the fewest bits), then the staged hash lookup.
    const auto visit = [&](const Ref& r) {
      unsigned reject = kTrieFields, reject_bits = 0, reject_cost = ~0U;
      for (std::size_t i = 2; i < n_active; ++i) {
        const unsigned f = active[i];
        const unsigned p = r.plen[f];
        if (pass(f, p)) continue;
        const unsigned b = proof_bits(f, p);
        const unsigned cost = b > need[f] ? b - need[f] : 0;
        if (cost < reject_cost) {
          reject = f;
          reject_bits = b;
          reject_cost = cost;
        }
      }
      if (reject != kTrieFields) {
        need[reject] = std::max(need[reject], reject_bits);
        return;
      }
      const Subtable* sub = r.sub;
      unsigned miss_end = 0;
      const Hit* h = sub->find(key, v, &miss_end);
      if (h != nullptr) {
        if (wc) sub->unwildcard(*wc, sub->n_words());
        if (h->priority > best_prio) {
          best = h;
          best_prio = h->priority;
        }
      } else if (wc) {
        if (n_missed < std::size(missed))
          missed[n_missed++] = {sub, miss_end};
        else
          sub->prove_miss(key, miss_end, *wc, cfg.prefix_fields);
      }
    };
    // Merge the cursors in priority order, opening buckets as their turn comes, and stop
    // as soon as nothing left can beat the best hit.
    constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
    for (;;) {
      // The cursor with the highest next priority, and the runner-up's: keep taking from
      // the first while it stays strictly ahead (no rescan per subtable).
      std::size_t pick = 0;
      std::int64_t runner = kNone;
      for (std::size_t i = 1; i < n_cand; ++i) {
        if (cand[i].top > cand[pick].top) {
          runner = cand[pick].top;
          pick = i;
        } else {
          runner = std::max<std::int64_t>(runner, cand[i].top);
        }
      }
      const std::int64_t top = n_cand != 0 ? cand[pick].top : kNone;
      const std::int64_t unopened = next_open != nullptr ? next_open->max_priority : kNone;
      if (unopened > top) {
        if (unopened <= best_prio) break;
        open_bucket(*next_open);
        const unsigned r = bucket_rank[next_open->plen];
        unopened_ranks[r >> 6] &= ~(1ULL << (r & 63));
        next_open = next_unopened();
        continue;
      }
      if (top <= best_prio) break;
      runner = std::max(runner, unopened);
      for (;;) {
        visit(order[cand[pick].pos++]);
        if (cand[pick].pos == cand[pick].end) {  // exhausted: drop it, keeping the order
          for (std::size_t i = pick + 1; i < n_cand; ++i) cand[i - 1] = cand[i];
          --n_cand;
          break;
        }
        cand[pick].top = order[cand[pick].pos].max_priority;
        if (cand[pick].top <= runner || cand[pick].top <= best_prio) break;
      }
    }
    if (wc != nullptr && n_active != 0) {
      // Rejected buckets and groups that a plain priority-ordered scan would have reached
      // (top priority >= the answer's: a superset of what it visits) need their proof. Equal
      // tops count: a key agreeing on wc might visit such a group before the answer's
      // subtable and find another rule of the same priority.
      const std::int64_t proof_min = best_prio;
      // First field: the proof bits grow with the length, so the longest rejected length
      // whose bucket qualifies decides; scan from the longest down.
      for (int w = 3; w >= 0 && need[f0] == 0; --w) {
        for (std::uint64_t bits = bucket_present[w] & ~pm[f0][w]; bits != 0;) {
          const unsigned top_bit = 63 - static_cast<unsigned>(std::countl_zero(bits));
          const unsigned p = static_cast<unsigned>(w) * 64 + top_bit;
          if (buckets[bucket_index[p]].max_priority >= proof_min) {
            need[f0] = proof_bits(f0, p);
            break;
          }
          bits &= ~(1ULL << top_bit);
        }
      }
      // Second field, within the passing buckets: likewise the longest qualifying rejected
      // length decides, and nothing can need more than depth[f1] bits.
      for (unsigned w = 0; w < 4 && n_active > 1 && need[f1] < depth[f1]; ++w) {
        for (std::uint64_t bits = bucket_present[w] & pm[f0][w]; bits != 0; bits &= bits - 1) {
          const Bucket& b = buckets[bucket_index[w * 64 + std::countr_zero(bits)]];
          need[f1] =
              std::max(need[f1], b.rejection_bits(groups, pm[f1], proof_min, depth[f1], need[f1]));
          if (need[f1] >= depth[f1]) break;
        }
      }
      for (std::uint8_t f : active) unwildcard_prefix(*wc, f, need[f]);
    }
    if (n_missed != 0) prove_misses(key, missed, n_missed, *wc, cfg.prefix_fields);
    if (best == nullptr) return std::nullopt;
    return *best;
  }
};

// One published version: what a reader loads with one atomic load.
class Snapshot {
 public:
  Version version = 1;
  std::shared_ptr<const Order> order = std::make_shared<const Order>();
};

// ---------------------------------------------------------------------------------------
// Classifier.

Classifier::Classifier(Config config) : config_(config) {
  owned_ = std::make_shared<const Snapshot>();
  current_.store(owned_.get());
}

Classifier::~Classifier() = default;

std::size_t Classifier::SubtableHash::operator()(const FlowKey& mask) const noexcept {
  return FlowKeyHash{}(mask);
}
std::size_t Classifier::SubtableHash::operator()(
    const std::unique_ptr<Subtable>& s) const noexcept {
  return s->mask_hash;
}
bool Classifier::SubtableEq::operator()(const FlowKey& m,
                                        const std::unique_ptr<Subtable>& s) const noexcept {
  return s->has_mask(m);
}

detail::Versions Classifier::versions() const {
  const Version published = owned_->version;
  return {published + 1, limbo_.empty() ? published : limbo_.front().version};
}

void Classifier::retire(std::shared_ptr<const Snapshot> old) {
  if (retired_.empty() && !old) return;
  Epoch& epoch = Epoch::global();
  const std::uint64_t ticket = epoch.advance();
  if (epoch.poll(ticket)) {
    // The common case: no reader is inside a lookup. This batch and every older one (their
    // tickets are smaller) can go now, without a trip through the limbo.
    limbo_.clear();
    old.reset();
    retired_.clear();  // keeps its storage for the next batch
    return;
  }
  Limbo batch{ticket, owned_->version, std::move(retired_)};
  retired_ = {};
  if (old) {
    batch.version = old->version;  // its readers may still be looking up
    batch.items.push_back(std::move(old));
  }
  limbo_.push_back(std::move(batch));
}

void Classifier::free_passed() {
  // Tickets increase along the list, and poll(t) implies poll(t') for t' < t: stop at the
  // first batch still waiting.
  while (!limbo_.empty() && Epoch::global().poll(limbo_.front().ticket)) limbo_.pop_front();
}

std::size_t Classifier::reclaim() {
  retire(nullptr);
  free_passed();
  return limbo_.size();
}

void Classifier::reclaim_all() {
  retire(nullptr);
  if (limbo_.empty()) return;
  Epoch::global().synchronize();  // after every ticket: all of them have passed
  limbo_.clear();
}

Subtable* Classifier::writer_subtable(const FlowKey& mask) {
  // Consecutive flow_mods often share a mask: try the last subtable before hashing.
  if (last_ != nullptr && last_->has_mask(mask)) return last_;
  auto it = subtables_.find(mask);
  if (it == subtables_.end()) return nullptr;
  last_ = it->get();
  return last_;
}

void Classifier::note_change(Subtable& st) {
  if (st.listed) return;
  st.listed = true;
  changed_.push_back(&st);
}

std::error_code Classifier::insert(const Match& match, std::int32_t priority,
                                   std::uint64_t cookie) {
  Match m = match;
  m.normalize();
  Subtable* found = writer_subtable(m.mask);
  if (found == nullptr) {
    auto st = std::make_unique<Subtable>(m.mask, config_);
    st->mask_hash = FlowKeyHash{}(m.mask);
    st->seq = next_seq_++;
    found = st.get();
    subtables_.insert(std::move(st));
    last_ = found;
  }
  Subtable& st = *found;
  if (std::error_code ec = st.insert(m.value, priority, cookie, versions(), &retired_)) return ec;
  ++n_rules_;
  note_change(st);
  // Tries may hold more prefixes than the visible rules have, never fewer: add in place
  // now, before publish() makes the rule visible (readers tolerate the superset), unless
  // publish() will rebuild the trie anyway.
  for (unsigned f = 0; f < kTrieFields; ++f) {
    if (st.plen()[f] == kNoPlen) continue;
    TrieState& ts = tries_[f];
    if (!ts.trie || ts.rebuild) {
      ts.rebuild = true;
      continue;
    }
    ts.trie->add(trie_key(m.value, f), st.plen()[f]);
    // Added blocks lie outside the compact layout: rebuild once there are as many as were
    // built (the trie doubled), so a growing table pays about two builds per prefix.
    if (++ts.added > std::max<std::size_t>(64, ts.built)) ts.rebuild = true;
  }
  return {};
}

std::optional<std::uint64_t> Classifier::replace(const Match& match, std::int32_t priority,
                                                 std::uint64_t cookie) {
  std::optional<std::uint64_t> old = remove(match, priority);
  (void)insert(match, priority, cookie);  // cannot be a duplicate: just removed
  return old;
}

std::optional<std::uint64_t> Classifier::remove(const Match& match, std::int32_t priority) {
  Match m = match;
  m.normalize();
  Subtable* found = writer_subtable(m.mask);
  if (found == nullptr) return std::nullopt;
  Subtable& st = *found;
  const std::optional<std::uint64_t> cookie = st.remove(m.value, priority, versions(), &retired_);
  if (!cookie) return std::nullopt;
  --n_rules_;
  note_change(st);
  for (unsigned f = 0; f < kTrieFields; ++f)
    if (st.plen()[f] != kNoPlen) {
      // Left in the trie (a superset is safe) until it is rebuilt.
      TrieState& ts = tries_[f];
      if (++ts.stale > std::max<std::size_t>(64, ts.built / 2)) ts.rebuild = true;
    }
  return cookie;
}

// Rebuilds trie f from the live rules of every subtable with a prefix mask on it.
void Classifier::rebuild_trie(unsigned f) {
  TrieState& ts = tries_[f];
  auto t = std::make_shared<PrefixTrie>(detail::kPrefixInfo[f].width);
  std::size_t n = 0;
  for (const auto& st : subtables_) {
    const unsigned plen = st->plen()[f];
    if (plen == kNoPlen || st->n_rules == 0) continue;
    st->for_each_live_value([&](const FlowKey& v) {
      t->insert(trie_key(v, f), plen);  // values are already masked
      ++n;
    });
  }
  t->build();
  ts.trie = n == 0 ? nullptr : std::move(t);
  ts.built = n;
  ts.added = 0;
  ts.stale = 0;
  ts.rebuild = false;
}

std::uint64_t Classifier::publish() {
  const std::shared_ptr<const Order>& cur = owned_->order;
  if (changed_.empty()) return owned_->version;
  free_passed();  // the fewer versions readers may still use, the more compact() can drop
  const detail::Versions vs = versions();
  const Version next = vs.next;
  // Subtables that leave the order (emptied) or take a new place in it (new, or a raised
  // maximum). Bounds left high by removals only cost early exits; they are refreshed when
  // many are stale or the order is rebuilt from scratch.
  std::vector<Subtable*> empty, moved;
  std::size_t stale_max = 0;
  for (Subtable* st : changed_) {
    st->listed = false;
    if (st->n_rules == 0) {
      empty.push_back(st);
      st->moving = true;
      continue;
    }
    st->compact(vs, &retired_);
    if (!st->in_order || st->max_bound > st->published_max) {
      moved.push_back(st);
      st->moving = true;
    }
    if (st->max_stale) ++stale_max;
  }
  bool full = stale_max > cur->order.size() / 8;
  bool new_order = full || !empty.empty() || !moved.empty();
  for (unsigned f = 0; f < kTrieFields; ++f) {
    TrieState& ts = tries_[f];
    // Replaced blocks (garbage) are rebuilt away once they are 7/8 of the trie: nodes are
    // small, and sequential prefixes make a copy per added child.
    if (ts.trie &&
        ts.trie->garbage_bytes() > std::max(std::size_t{64} * 1024, ts.trie->memory() * 7 / 8))
      ts.rebuild = true;
    if (ts.rebuild) {
      rebuild_trie(f);
      new_order = true;
    }
  }
  auto snap = std::make_shared<Snapshot>();
  snap->version = next;
  if (!new_order) {
    snap->order = cur;
  } else {
    auto order = std::make_shared<Order>();
    for (unsigned f = 0; f < kTrieFields; ++f) {
      order->tries[f] = tries_[f].trie;
      if (order->tries[f]) order->active.push_back(static_cast<std::uint8_t>(f));
    }
    full = full || order->active != cur->active;  // the sort keys changed
    const auto ref = [](Subtable& st) {
      st.in_order = true;
      st.published_max = st.max_bound;
      return Order::Ref{st.max_bound, st.plen(), &st};
    };
    if (full) {
      order->order.reserve(subtables_.size());
      for (const auto& st : subtables_) {
        if (st->n_rules == 0) continue;
        if (st->max_stale) st->recompute_max();
        order->order.push_back(ref(*st));
      }
      std::sort(order->order.begin(), order->order.end(), order->before());
    } else {
      // The published order without the subtables that move, merged with them.
      std::vector<Order::Ref> in;
      in.reserve(moved.size());
      for (Subtable* st : moved) in.push_back(ref(*st));
      std::sort(in.begin(), in.end(), order->before());
      order->order.reserve(cur->order.size() + in.size());
      auto it = in.begin();
      for (const Order::Ref& r : cur->order) {
        if (r.sub->moving) continue;
        while (it != in.end() && order->before()(*it, r)) order->order.push_back(*it++);
        order->order.push_back(r);
      }
      order->order.insert(order->order.end(), it, in.end());
    }
    order->build_buckets();
    snap->order = std::move(order);
  }
  for (Subtable* st : changed_) st->moving = false;
  changed_.clear();
  // Emptied subtables leave the writer's map now and are freed after the grace period.
  for (Subtable* st : empty) {
    if (last_ == st) last_ = nullptr;
    auto node = subtables_.extract(subtables_.find(st->mask()));
    retired_.push_back(std::shared_ptr<const Subtable>(std::move(node.value())));
  }
  std::shared_ptr<const Snapshot> old = std::move(owned_);
  owned_ = std::move(snap);
  current_.store(owned_.get());
  // The old snapshot and what was unlinked before the store wait for readers that may
  // still hold them; earlier batches whose grace period has passed are freed. No waiting.
  retire(std::move(old));
  free_passed();
  return owned_->version;
}

Stats Classifier::stats() const {
  Stats st;
  st.rules = n_rules_;
  st.subtables = owned_->order->order.size();
  st.retired = retired_.size();
  for (const Limbo& l : limbo_) st.retired += l.items.size();
  st.memory_bytes = sizeof(*this) + subtables_.bucket_count() * sizeof(void*) +
                    owned_->order->order.capacity() * sizeof(Order::Ref);
  for (const auto& s : subtables_) st.memory_bytes += 3 * sizeof(void*) + s->memory();
  for (const auto& t : tries_)
    if (t.trie) st.memory_bytes += t.trie->memory();
  return st;
}

std::optional<Hit> Classifier::lookup(const FlowKey& key, FlowKey* wc) const {
  Epoch::ReadGuard guard;
  const Snapshot* s = current_.load();
  return s->order->lookup(key, wc, config_, s->version);
}

std::uint64_t Classifier::version() const {
  Epoch::ReadGuard guard;
  return current_.load()->version;
}

}  // namespace vsw::classifier
