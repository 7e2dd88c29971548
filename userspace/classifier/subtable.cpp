// See subtable.h. This file: the Table layout, the reader's find and miss proofs, and the
// writer's in-place appends, retirements and rebuilds.
#include "classifier/subtable.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <new>

namespace vsw::classifier::detail {
namespace {

// Values a subtable's sorted sets keep apart from the main array before merging them in.
constexpr std::size_t kMaxDelta = 64;

std::size_t table_size(std::size_t n) {
  return std::bit_ceil(std::max<std::size_t>(2 * n, 4));
}

// The bits of v selected by m, packed, most significant first (a software pext).
inline std::uint64_t extract(std::uint64_t v, std::uint64_t m) {
  if (m == 0) return 0;
  const int low = std::countr_zero(m);
  const std::uint64_t run = m >> low;
  if ((run & (run + 1)) == 0) return (v & m) >> low;  // contiguous mask: the common case
  // One step per run of contiguous mask bits, from the least significant: each run's bits
  // go right above those of the runs below it.
  std::uint64_t out = 0;
  unsigned pos = 0;
  while (m != 0) {
    const int lo = std::countr_zero(m);
    const int len = std::countr_one(m >> lo);  // lo + len <= 64
    const std::uint64_t ones = len == 64 ? ~0ULL : (1ULL << len) - 1;
    out |= ((v >> lo) & ones) << pos;
    pos += static_cast<unsigned>(len);
    m &= ~(ones << lo);
  }
  return out;
}
// The k most significant set bits of m.
inline std::uint64_t first_bits(std::uint64_t m, unsigned k) {
  while (static_cast<unsigned>(std::popcount(m)) > k) m &= m - 1;
  return m;
}

// Open addressing over partial hashes (| 1, so 0 means empty).
bool set_contains(const std::atomic<std::uint64_t>* set, std::uint64_t mask, std::uint64_t f) {
  f |= 1;
  for (std::size_t i = f & mask;; i = (i + 1) & mask) {
    const std::uint64_t x = set[i].load(std::memory_order_relaxed);
    if (x == f) return true;
    if (x == 0) return false;
  }
}
void set_insert(std::atomic<std::uint64_t>* set, std::uint64_t mask, std::uint64_t f) {
  f |= 1;
  for (std::size_t i = f & mask;; i = (i + 1) & mask) {
    const std::uint64_t x = set[i].load(std::memory_order_relaxed);
    if (x == f) return;
    if (x == 0) {
      set[i].store(f, std::memory_order_relaxed);
      return;
    }
  }
}

// The blocked Bloom filter's bits and word for a stage-set member f.
inline std::uint64_t bloom_bits(std::uint64_t f) {
  return (1ULL << (f >> 58)) | (1ULL << ((f >> 52) & 63));
}
inline std::size_t bloom_word(std::uint64_t f, std::uint64_t mask) {
  return (f >> 20) & mask;
}

}  // namespace

// A field on which misses can be proved from the sorted set of the entries' values reduced
// to the subtable's mask bits on it: the transport ports, and address fields whose mask is
// not a prefix (those with a prefix mask use the classifier's tries).
struct Subtable::PrefixIndex {
  PrefixField field;
  std::uint8_t n_bits;                  // mask bits of the field in this subtable
  std::array<std::uint64_t, 2> mask{};  // the subtable's mask on the field's parts
  std::array<std::uint8_t, 2> pos{};    // each part's word among the entry's value words

  [[nodiscard]] u128 reduce(const std::uint64_t* w0, const std::uint64_t* w1) const {
    const PrefixFieldInfo& pi = kPrefixInfo[static_cast<std::size_t>(field)];
    u128 out = 0;
    const std::array<const std::uint64_t*, 2> w = {w0, w1};
    for (unsigned p = 0; p < w.size() && p < pi.n_parts; ++p) {
      const int n = std::popcount(mask[p]);
      if (n == 0) continue;
      out = (n == 64 ? out << 64 : out << n) | extract(*w[p], mask[p]);
    }
    return out << (128 - n_bits);
  }
  [[nodiscard]] u128 reduce_key(const FlowKey& k) const {
    const PrefixFieldInfo& pi = kPrefixInfo[static_cast<std::size_t>(field)];
    return reduce(&k.w[pi.word[0]], &k.w[pi.word[1]]);
  }
  [[nodiscard]] u128 reduce_entry(const std::uint64_t* v) const {
    return reduce(&v[pos[0]], &v[pos[1]]);
  }
};

struct alignas(64) Subtable::Table {
  struct Meta {
    Hit hit;
    Version from;                // first version that sees the entry
    std::atomic<Version> until;  // first version that no longer does
    // Whether a reader at some version >= oldest may see the entry (the writer asks;
    // readers of older versions are gone).
    [[nodiscard]] bool seen_after(Version oldest) const {
      const Version u = until.load(std::memory_order_relaxed);
      return u > oldest && from < u;
    }
  };
  struct Free {
    void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  using Word = std::atomic<std::uint64_t>;
  // What find() reads on its common paths, in the first cache line. The arrays share one
  // allocation, `block`: the entries, then the slots, the stage sets and the Bloom filter.
  std::uint64_t slot_mask = 0;   // slots and stage sets have slot_mask + 1 words
  std::uint64_t bloom_mask = 0;  // words - 1
  Word* slots = nullptr;         // (tag << 32) | (entry + 1); 0 = empty
  // A blocked Bloom filter (a byte per entry, two bits in one word) over the stage sets'
  // members: small enough to stay in cache, it rejects most stage misses without reading
  // the sets, which are then read only to tell where a final miss begins.
  Word* bloom = nullptr;
  // The entries, `stride` bytes each: the Meta, then the n_words masked words, so that a
  // hit reads one cache line (64 bytes for the common 4 words).
  std::byte* entries = nullptr;
  std::size_t stride = 0;
  std::array<Word*, kStages - 1> stage_sets{};
  std::uint32_t capacity = 0;  // entries
  std::uint32_t used = 0;      // entries written (writer)
  std::size_t bytes = 0;       // of block
  std::unique_ptr<std::byte[], Free> block;

  Table(std::uint32_t cap, unsigned n_words, unsigned n_sets)
      : slot_mask(table_size(cap) - 1),
        stride(sizeof(Meta) + std::size_t{8} * n_words),
        capacity(cap) {
    static_assert(offsetof(Table, stride) < 64, "find()'s fields share the first cache line");
    if (n_sets != 0) bloom_mask = std::bit_ceil(std::max<std::size_t>(std::size_t{cap} / 8, 1)) - 1;
    const std::size_t n_slots = slot_mask + 1;
    const std::size_t n_words_total = n_slots * (1 + n_sets) + (n_sets != 0 ? bloom_mask + 1 : 0);
    bytes = stride * cap + n_words_total * sizeof(Word);
    block.reset(static_cast<std::byte*>(::operator new[](bytes, std::align_val_t{64})));
    entries = block.get();
    for (std::uint32_t e = 0; e < cap; ++e) new (&entries[stride * e]) Meta{};
    auto* words = reinterpret_cast<Word*>(entries + stride * cap);
    for (std::size_t i = 0; i < n_words_total; ++i) new (&words[i]) Word(0);
    slots = words;
    for (unsigned st = 0; st < n_sets; ++st) stage_sets[st] = words + n_slots * (1 + st);
    if (n_sets != 0) bloom = words + n_slots * (1 + n_sets);
  }
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  ~Table() {
    for (std::uint32_t e = 0; e < capacity; ++e) meta(e).~Meta();
  }
  // The writer's accessors (non-const: they hand out mutable entries).
  Meta& meta(std::size_t e) {  // NOLINT(readability-make-member-function-const)
    return *std::launder(reinterpret_cast<Meta*>(&entries[stride * e]));
  }
  [[nodiscard]] const Meta& meta(std::size_t e) const {
    return *std::launder(reinterpret_cast<const Meta*>(&entries[stride * e]));
  }
  std::uint64_t* vals(std::size_t e) {  // NOLINT(readability-make-member-function-const)
    return reinterpret_cast<std::uint64_t*>(&entries[stride * e + sizeof(Meta)]);
  }
  [[nodiscard]] const std::uint64_t* vals(std::size_t e) const {
    return reinterpret_cast<const std::uint64_t*>(&entries[stride * e + sizeof(Meta)]);
  }
  [[nodiscard]] std::size_t memory() const { return sizeof(*this) + bytes; }
};

Subtable::Subtable(const FlowKey& mask, const Config& cfg) {
  unsigned n_stages = 0;
  for (std::size_t s = 0; s < kStages; ++s) {
    bool any = false;
    for (std::size_t i = kStageBegin[s]; i < kStageBegin[s + 1]; ++i) {
      if (mask.w[i] == 0) continue;
      word_idx_[n_words_] = static_cast<std::uint8_t>(i);
      word_mask_[n_words_] = mask.w[i];
      ++n_words_;
      any = true;
    }
    if (any && n_stages < kStages - 1) stage_end_[n_stages] = n_words_;
    if (any) ++n_stages;
  }
  // Staged lookup probes a set after each stage but the last.
  n_sets_ = static_cast<std::uint8_t>(cfg.staged && n_stages > 1 ? n_stages - 1 : 0);
  const auto word_pos = [&](unsigned word) {
    for (unsigned i = 0; i < n_words_; ++i)
      if (word_idx_[i] == word) return static_cast<std::uint8_t>(i);
    return std::uint8_t{0};  // not masked: the part's mask is zero and never read
  };
  for (unsigned f = 0; f < static_cast<unsigned>(PrefixField::kCount); ++f) {
    if (!(cfg.prefix_fields & (1U << f))) continue;
    const PrefixFieldInfo& pi = kPrefixInfo[f];
    PrefixIndex p{static_cast<PrefixField>(f), 0, {}, {}};
    unsigned nb = 0;
    for (unsigned part = 0; part < pi.n_parts; ++part) {
      p.mask[part] = mask.w[pi.word[part]] & pi.bits[part];
      p.pos[part] = word_pos(pi.word[part]);
      nb += std::popcount(p.mask[part]);
    }
    if (nb == 0) continue;
    p.n_bits = static_cast<std::uint8_t>(nb);
    if (f < kTrieFields) {
      // A prefix mask (the field's top nb bits, across its parts) is left to the tries.
      unsigned width = 0;
      u128 m = 0;
      for (unsigned part = 0; part < pi.n_parts; ++part) {
        const unsigned w = std::popcount(pi.bits[part]);
        width += w;
        m = (m << w) | extract(p.mask[part], pi.bits[part]);
      }
      m <<= 128 - width;
      if (m == ~u128{0} << (128 - nb)) {
        plen_[f] = static_cast<std::uint8_t>(nb);
        continue;
      }
    }
    prefixes_.push_back(p);
  }
  owned_ = std::make_unique<Table>(1, n_words_, n_sets_);
  pending_.resize(prefixes_.size());
  table_.store(owned_.get(), std::memory_order_release);
}

Subtable::~Subtable() = default;

bool Subtable::has_mask(const FlowKey& mask) const {
  // Our words first: most other masks differ there already.
  for (unsigned j = 0; j < n_words_; ++j)
    if (mask.w[word_idx_[j]] != word_mask_[j]) return false;
  unsigned nonzero = 0;  // and no other word may have bits
  for (const std::uint64_t w : mask.w) nonzero += w != 0 ? 1 : 0;
  return nonzero == n_words_;
}

FlowKey Subtable::mask() const {
  FlowKey m;
  for (unsigned j = 0; j < n_words_; ++j) m.w[word_idx_[j]] = word_mask_[j];
  return m;
}
static_assert(sizeof(std::atomic<const void*>) + 2 + (kStages - 1) + kWords <= 40,
              "find()'s fields and three masks share the first cache line");

// ---------------------------------------------------------------------------------------
// Readers.

const Hit* Subtable::find(const FlowKey& k, Version v, unsigned* miss_end) const {
  const Table* t = table_.load(std::memory_order_acquire);
  std::uint64_t h = kSeed;
  unsigned wi = 0;
  const auto next_word = [&] { h = mix(h, k.w[word_idx_[wi]] & word_mask_[wi]); };
  std::array<std::uint64_t, kStages - 1> partial{};
  for (unsigned s = 0; s < n_sets_; ++s) {
    for (; wi < stage_end_[s]; ++wi) next_word();
    const std::uint64_t f = finish(h);
    partial[s] = f;
    const std::uint64_t b = bloom_bits(f);
    if ((t->bloom[bloom_word(f, t->bloom_mask)].load(std::memory_order_relaxed) & b) != b) {
      *miss_end = wi;  // no entry agrees with k on the stages so far
      return nullptr;
    }
  }
  for (; wi < n_words_; ++wi) next_word();
  const std::uint64_t f = finish(h);
  const std::uint64_t tag = f >> 32;
  for (std::size_t i = f & t->slot_mask;; i = (i + 1) & t->slot_mask) {
    const std::uint64_t sl = t->slots[i].load(std::memory_order_acquire);
    if (sl == 0) break;
    if ((sl >> 32) != tag) continue;
    const std::size_t e = static_cast<std::uint32_t>(sl) - 1;
    const std::uint64_t* val = t->vals(e);
    bool eq = true;
    for (unsigned j = 0; j < n_words_; ++j) eq &= (k.w[word_idx_[j]] & word_mask_[j]) == val[j];
    if (!eq) continue;
    const Table::Meta& m = t->meta(e);
    if (m.from <= v && v < m.until.load(std::memory_order_relaxed)) return &m.hit;
  }
  // A miss: the exact stage sets tell the earliest stage that already proves it.
  for (unsigned s = 0; s < n_sets_; ++s) {
    if (!set_contains(t->stage_sets[s], t->slot_mask, partial[s])) {
      *miss_end = stage_end_[s];
      return nullptr;
    }
  }
  *miss_end = n_words_;
  return nullptr;
}

bool Subtable::prove_miss(const FlowKey& k, unsigned miss_end, FlowKey& wc, std::uint32_t fields,
                          unsigned* defer) const {
  unsigned best_cost = 0;
  for (unsigned j = 0; j < miss_end; ++j)
    best_cost += std::popcount(word_mask_[j] & ~wc.w[word_idx_[j]]);
  if (best_cost == 0) return true;
  const Sorted* so = sorted_.load(std::memory_order_acquire);
  const PrefixIndex* best = nullptr;
  const std::size_t n_prefixes = so == nullptr ? 0 : prefixes_.size();
  std::array<std::uint64_t, 2> best_bits{};
  for (std::size_t pi_idx = 0; pi_idx < n_prefixes; ++pi_idx) {
    const PrefixIndex& p = prefixes_[pi_idx];
    if (!(fields & (1U << static_cast<unsigned>(p.field)))) continue;
    // The values of the entries visible to any reader (and maybe more: a superset proves
    // as well) in two sorted arrays; a sorted neighbour has the longest common prefix.
    const u128 x = p.reduce_key(k);
    unsigned d = 0;
    bool present = false;
    const auto search = [&](const u128* begin, const u128* end) {
      const u128* it = std::lower_bound(begin, end, x);
      if (it != end) {
        present |= *it == x;
        d = std::max(d, lcp(x, *it));
      }
      if (it != begin) d = std::max(d, lcp(x, *(it - 1)));
    };
    const Sorted::Part& part = so->parts[pi_idx];
    search(part.main, part.main + part.main_n);
    if (part.delta_n != 0) search(part.delta, part.delta + part.delta_n);
    if (present) continue;  // this field proves nothing
    unsigned k_bits = std::min<unsigned>(d + 1, p.n_bits);
    const PrefixFieldInfo& pi = kPrefixInfo[static_cast<std::size_t>(p.field)];
    std::array<std::uint64_t, 2> bits{};
    unsigned cost = 0;
    for (unsigned part = 0; part < pi.n_parts; ++part) {
      const unsigned n = std::popcount(p.mask[part]);
      bits[part] = first_bits(p.mask[part], std::min(n, k_bits));
      k_bits -= std::min(n, k_bits);
      cost += std::popcount(bits[part] & ~wc.w[pi.word[part]]);
    }
    if (cost < best_cost) {
      best_cost = cost;
      best = &p;
      best_bits = bits;
    }
  }
  if (best == nullptr) {
    unwildcard(wc, miss_end);
    return true;
  }
  if (defer != nullptr) {
    *defer = best_cost;
    return false;
  }
  const PrefixFieldInfo& pi = kPrefixInfo[static_cast<std::size_t>(best->field)];
  for (unsigned part = 0; part < pi.n_parts; ++part) wc.w[pi.word[part]] |= best_bits[part];
  return true;
}

// ---------------------------------------------------------------------------------------
// Writer.

std::uint64_t Subtable::hash(const FlowKey& value) const {
  std::array<std::uint64_t, kWords> v{};
  for (unsigned i = 0; i < n_words_; ++i) v[i] = value.w[word_idx_[i]];
  return hash_words(v.data());
}

std::uint64_t Subtable::hash_words(const std::uint64_t* v) const {
  std::uint64_t h = kSeed;
  for (unsigned i = 0; i < n_words_; ++i) h = mix(h, v[i]);
  return finish(h);
}

void Subtable::index_entry(Table& t, std::uint32_t e, std::uint64_t h) const {
  // The same hash chain as find(): the stage sets and the filter get each stage's partial
  // hash, then the slot is published (release: the entry is written before).
  const std::uint64_t* v = t.vals(e);
  std::uint64_t ph = kSeed;
  unsigned wi = 0;
  for (unsigned s = 0; s < n_sets_; ++s) {
    for (; wi < stage_end_[s]; ++wi) ph = mix(ph, v[wi]);
    const std::uint64_t f = finish(ph);
    set_insert(t.stage_sets[s], t.slot_mask, f);
    t.bloom[bloom_word(f, t.bloom_mask)].fetch_or(bloom_bits(f), std::memory_order_relaxed);
  }
  for (std::size_t i = h & t.slot_mask;; i = (i + 1) & t.slot_mask) {
    if (t.slots[i].load(std::memory_order_relaxed) == 0) {
      t.slots[i].store(((h >> 32) << 32) | (e + 1), std::memory_order_release);
      return;
    }
  }
}

std::int64_t Subtable::find_live(const FlowKey& value, std::uint64_t h) const {
  const Table& t = *owned_;
  const std::uint64_t tag = h >> 32;
  for (std::size_t i = h & t.slot_mask;; i = (i + 1) & t.slot_mask) {
    const std::uint64_t sl = t.slots[i].load(std::memory_order_relaxed);
    if (sl == 0) return -1;
    if ((sl >> 32) != tag) continue;
    const std::size_t e = static_cast<std::uint32_t>(sl) - 1;
    if (t.meta(e).until.load(std::memory_order_relaxed) != kForever) continue;
    bool eq = true;
    for (unsigned j = 0; j < n_words_; ++j) eq &= t.vals(e)[j] == value.w[word_idx_[j]];
    if (eq) return static_cast<std::int64_t>(e);
  }
}

std::uint32_t Subtable::append(const FlowKey& value, std::uint64_t h, const Hit& hit, Version from,
                               const Versions& v, Retired* retired) {
  // (A replacement entry repeats a value the sorted sets hold already; adding it is harmless.)
  {
    const Table& t = *owned_;
    if (t.used == t.capacity) rebuild(Resize::kGrow, v, retired);
  }
  Table& t = *owned_;
  const std::uint32_t e = t.used++;
  for (unsigned j = 0; j < n_words_; ++j) t.vals(e)[j] = value.w[word_idx_[j]];
  t.meta(e).hit = hit;
  t.meta(e).from = from;
  t.meta(e).until.store(kForever, std::memory_order_relaxed);
  index_entry(t, e, h);
  ++live_;
  ++ops_;
  return e;
}

void Subtable::roll_dead(Version oldest) {
  // Retirements no reader's version sees any more become droppable.
  if (dead_pending_.empty() || dead_pending_.front().first > oldest) return;
  auto it = dead_pending_.begin();
  for (; it != dead_pending_.end() && it->first <= oldest; ++it) dead_old_ += it->second;
  dead_pending_.erase(dead_pending_.begin(), it);
}

void Subtable::retire_entry(std::uint32_t e, Version next) {
  owned_->meta(e).until.store(next, std::memory_order_relaxed);
  if (dead_pending_.empty() || dead_pending_.back().first != next)
    dead_pending_.emplace_back(next, 0);
  ++dead_pending_.back().second;
  --live_;
  ++ops_;
}

void Subtable::rebuild(Resize resize, const Versions& v, Retired* retired) {
  const Table& old = *owned_;
  const Version oldest = v.oldest;  // readers may be looking at any version from it on
  std::uint32_t n_kept = 0;
  for (std::uint32_t e = 0; e < old.used; ++e) n_kept += old.meta(e).seen_after(oldest) ? 1 : 0;
  std::size_t capacity = 0;
  switch (resize) {
    case Resize::kGrow:
      capacity = std::max<std::size_t>(2, std::size_t{n_kept} + n_kept / 2);
      break;
    case Resize::kCompact:
      capacity = n_kept + n_kept / 8 + 1;
      break;
  }
  auto t = std::make_unique<Table>(static_cast<std::uint32_t>(capacity), n_words_, n_sets_);
  Others more;
  for (std::uint32_t e = 0; e < old.used; ++e) {
    const Table::Meta& m = old.meta(e);
    if (!m.seen_after(oldest)) continue;
    const Version until = m.until.load(std::memory_order_relaxed);
    const std::uint32_t n = t->used++;
    std::uint64_t* val = t->vals(n);
    std::copy_n(old.vals(e), n_words_, val);
    t->meta(n).hit = m.hit;
    t->meta(n).from = m.from;
    t->meta(n).until.store(until, std::memory_order_relaxed);
    if (std::vector<Hit>* o = others(e)) more.emplace(n, std::move(*o));
    index_entry(*t, n, hash_words(val));
  }
  more_.reset();
  if (!more.empty()) more_ = std::make_unique<Others>(std::move(more));
  // The dead entries kept are those some version >= oldest sees: pending, by version.
  dead_old_ = 0;
  std::vector<Version> untils;
  for (std::uint32_t e = 0; e < t->used; ++e) {
    const Version u = t->meta(e).until.load(std::memory_order_relaxed);
    if (u != kForever) untils.push_back(u);
  }
  std::sort(untils.begin(), untils.end());
  dead_pending_.clear();
  for (const Version u : untils) {
    if (dead_pending_.empty() || dead_pending_.back().first != u) dead_pending_.emplace_back(u, 0);
    ++dead_pending_.back().second;
  }
  table_.store(t.get(), std::memory_order_release);
  retired->push_back(std::shared_ptr<const Table>(std::move(owned_)));
  owned_ = std::move(t);
  ops_ = 0;  // the new table holds no dead entries a reader cannot see
}

std::vector<Hit>* Subtable::others(std::uint32_t e) {
  if (!more_) return nullptr;
  auto it = more_->find(e);
  return it == more_->end() ? nullptr : &it->second;
}

std::vector<Hit> Subtable::take_others(std::uint32_t e) {
  std::vector<Hit> v;
  if (!more_) return v;
  auto it = more_->find(e);
  if (it == more_->end()) return v;
  v = std::move(it->second);
  more_->erase(it);
  if (more_->empty()) more_.reset();
  return v;
}

void Subtable::put_others(std::uint32_t e, std::vector<Hit> v) {
  if (v.empty()) return;
  if (!more_) more_ = std::make_unique<Others>();
  (*more_)[e] = std::move(v);
}

std::error_code Subtable::insert(const FlowKey& value, std::int32_t priority, std::uint64_t cookie,
                                 const Versions& v, Retired* retired) {
  const Version next = v.next;
  const std::uint64_t h = hash(value);
  const std::int64_t found = find_live(value, h);
  const Hit add{priority, cookie};
  if (found < 0) {
    append(value, h, add, next, v, retired);
    for (std::size_t p = 0; p < prefixes_.size(); ++p)
      pending_[p].push_back(prefixes_[p].reduce_key(value));
  } else {
    const auto e = static_cast<std::uint32_t>(found);
    Table::Meta& m = owned_->meta(e);
    if (m.hit.priority == priority) return std::make_error_code(std::errc::file_exists);
    if (const std::vector<Hit>* o = others(e)) {
      for (const Hit& x : *o)
        if (x.priority == priority) return std::make_error_code(std::errc::file_exists);
    }
    std::vector<Hit> o = take_others(e);
    if (priority > m.hit.priority) {
      // A new best rule: the old best joins the others.
      o.insert(o.begin(), m.hit);
      if (m.from == next) {
        m.hit = add;  // not visible to anyone yet: change in place
        put_others(e, std::move(o));
      } else {
        retire_entry(e, next);
        put_others(append(value, h, add, next, v, retired), std::move(o));
      }
    } else {
      o.insert(
          std::find_if(o.begin(), o.end(), [&](const Hit& x) { return x.priority < priority; }),
          add);
      put_others(e, std::move(o));
    }
  }
  ++n_rules;
  max_bound = std::max(max_bound, priority);
  return {};
}

std::optional<std::uint64_t> Subtable::remove(const FlowKey& value, std::int32_t priority,
                                              const Versions& v, Retired* retired) {
  const Version next = v.next;
  const std::uint64_t h = hash(value);
  const std::int64_t found = find_live(value, h);
  if (found < 0) return std::nullopt;
  const auto e = static_cast<std::uint32_t>(found);
  Table::Meta& m = owned_->meta(e);
  std::uint64_t cookie = 0;
  if (m.hit.priority == priority) {
    cookie = m.hit.cookie;
    std::vector<Hit> o = take_others(e);
    if (o.empty()) {
      retire_entry(e, next);
    } else {
      const Hit promoted = o.front();
      o.erase(o.begin());
      if (m.from == next) {
        m.hit = promoted;
        put_others(e, std::move(o));
      } else {
        retire_entry(e, next);
        put_others(append(value, h, promoted, next, v, retired), std::move(o));
      }
    }
  } else {
    std::vector<Hit>* o = others(e);
    if (o == nullptr) return std::nullopt;
    auto x =
        std::find_if(o->begin(), o->end(), [&](const Hit& r) { return r.priority == priority; });
    if (x == o->end()) return std::nullopt;
    cookie = x->cookie;
    o->erase(x);
    if (o->empty()) (void)take_others(e);
  }
  --n_rules;
  if (priority == max_bound) max_stale = true;
  roll_dead(v.oldest);
  if (dead_old_ > std::max<std::uint32_t>(16, live_)) rebuild(Resize::kGrow, v, retired);
  return cookie;
}

void Subtable::compact(const Versions& v, Retired* retired) {
  // Shrinking is O(entries), so only after Θ(entries) changes since the last rebuild, and
  // only when the table is much larger than a grow would make it (after removals) or
  // holds many dead entries: a table just grown by appends is left alone.
  const Table& cur = *owned_;
  if (ops_ >= live_ / 8 + 4 &&
      (cur.capacity > 2 * std::size_t{live_} + 16 || cur.used - live_ > live_ / 4 + 4))
    rebuild(Resize::kCompact, v, retired);
  if (pending_.empty() || pending_[0].empty()) return;
  const Table& t = *owned_;
  // The values added since the last publish join the delta, or, once that is large, the
  // main array is rebuilt from the entries any reader may see (dropping retired values).
  const Sorted* old = sorted_owned_.get();
  auto so = std::make_unique<Sorted>();
  for (std::size_t p = 0; p < prefixes_.size(); ++p) {
    std::vector<u128>& add = pending_[p];
    std::sort(add.begin(), add.end());
    std::vector<u128> delta;
    if (old != nullptr) {
      delta.reserve(old->deltas[p].size() + add.size());
      std::merge(old->deltas[p].begin(), old->deltas[p].end(), add.begin(), add.end(),
                 std::back_inserter(delta));
    } else {
      delta = std::move(add);
    }
    add.clear();
    delta.erase(std::unique(delta.begin(), delta.end()), delta.end());
    const std::size_t main_n = old != nullptr ? old->mains[p]->size() : 0;
    if (old == nullptr || delta.size() > std::max(kMaxDelta, main_n / 16)) {
      std::vector<u128> main;
      main.reserve(live_ + t.used / 8);
      for (std::uint32_t e = 0; e < t.used; ++e) {
        if (t.meta(e).seen_after(v.oldest)) main.push_back(prefixes_[p].reduce_entry(t.vals(e)));
      }
      std::sort(main.begin(), main.end());
      main.erase(std::unique(main.begin(), main.end()), main.end());
      main.shrink_to_fit();
      so->mains.push_back(std::make_shared<const std::vector<u128>>(std::move(main)));
      so->deltas.emplace_back();
    } else {
      delta.shrink_to_fit();
      so->mains.push_back(old->mains[p]);
      so->deltas.push_back(std::move(delta));
    }
  }
  for (std::size_t p = 0; p < prefixes_.size(); ++p) {
    const auto& m = *so->mains[p];
    const auto& d = so->deltas[p];
    so->parts.push_back({m.data(), static_cast<std::uint32_t>(m.size()),
                         static_cast<std::uint32_t>(d.size()), d.data()});
  }
  sorted_.store(so.get(), std::memory_order_release);
  if (sorted_owned_) retired->push_back(std::shared_ptr<const Sorted>(std::move(sorted_owned_)));
  sorted_owned_ = std::move(so);
}

void Subtable::recompute_max() {
  const Table& t = *owned_;
  max_bound = std::numeric_limits<std::int32_t>::min();
  for (std::uint32_t e = 0; e < t.used; ++e) {
    if (t.meta(e).until.load(std::memory_order_relaxed) == kForever)
      max_bound = std::max(max_bound, t.meta(e).hit.priority);
  }
  max_stale = false;
}

void Subtable::for_each_live_value(const std::function<void(const FlowKey&)>& fn) const {
  const Table& t = *owned_;
  FlowKey k;
  for (std::uint32_t e = 0; e < t.used; ++e) {
    if (t.meta(e).until.load(std::memory_order_relaxed) != kForever) continue;
    for (unsigned j = 0; j < n_words_; ++j) k.w[word_idx_[j]] = t.vals(e)[j];
    fn(k);
  }
}

std::size_t Subtable::memory() const {
  std::size_t n = sizeof(*this) + prefixes_.capacity() * sizeof(PrefixIndex) + owned_->memory();
  if (more_) {
    n += sizeof(Others) + more_->bucket_count() * sizeof(void*);
    for (const auto& [e, v] : *more_) n += 48 + v.capacity() * sizeof(Hit);
  }
  if (sorted_owned_) {
    n += sizeof(Sorted) + sorted_owned_->parts.capacity() * sizeof(Sorted::Part);
    for (const auto& m : sorted_owned_->mains) n += 56 + m->capacity() * sizeof(u128);
    for (const auto& d : sorted_owned_->deltas)
      n += sizeof(std::vector<u128>) + d.capacity() * sizeof(u128);
  }
  for (const auto& v : pending_) n += sizeof(std::vector<u128>) + v.capacity() * sizeof(u128);
  return n;
}

}  // namespace vsw::classifier::detail
