// Subtable: the rules of one mask, updated in place by the writer while readers look up.
//
// What? Every rule whose match has this mask, as a hash table of the distinct masked
// values; each value's entry holds its best (highest-priority) rule, the others wait in a
// writer-only list. Readers find the entry a key hashes to, stage by stage (see
// classifier.h), and prove misses for wildcard tracking.
//
// Versions. Readers look up at the version of the snapshot they loaded. An entry is seen
// at version V when from <= V < until: the writer appends entries with from = the version
// the next publish() will have, and retires them by setting until to it, so a batch of
// changes appears at once and a lookup sees exactly one version. Changing an entry's best
// rule appends a new entry for the same value and retires the old one; an entry not yet
// visible to anyone (from = next) is changed in place. Since publish() does not wait for
// readers (see classifier.h), a reader may still look up at any version from `oldest`, the
// version of the oldest snapshot whose grace period has not passed, to the published one;
// the writer passes both versions (Versions) to every call that may drop entries.
//
// Storage. A Table holds the entries in an array filled in order (each entry's metadata
// and masked words in one cache line), the open-addressing slots that index them (tag and
// index in one atomic word, published with a release store after the entry is written),
// one hash set per lookup stage (partial hashes; they only grow, and a stale member only
// costs a probe) and a blocked Bloom filter over those sets that answers most stage misses
// without reading them. When the array is full or too many entries are dead, the writer
// builds a new Table from the live entries (and those a version >= oldest still sees),
// stores its pointer and hands the old one to the classifier's retire list, freed after a
// grace period; publish() also shrinks a table after many changes when it has more than
// twice the live entries' room or many dead entries (never one that appends just grew).
// Appends are O(1) amortized: a rebuild is O(entries) and comes after Θ(entries) appends,
// removals or changes.
//
// Proof sets. Per prefix index (ports, non-prefix address masks) the subtable keeps the
// sorted reduced values of its entries in a main array and a small delta (Sorted),
// replaced as a whole at publish(): pending entries are seen by no reader, so they need not
// be covered before then. The delta is merged, and the main array rebuilt from the
// entries readers may see (at any version >= oldest), once it outgrows max(64, main/16)
// values.
//
// Invariants. Values have no bits outside the mask. At most one entry per value has
// until = kForever (the live one). max_bound is at least the priority of every rule
// visible at any version a reader may use (raised on insert, lowered only by
// recompute_max()).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "classifier/classifier.h"
#include "classifier/flow_key.h"
#include "classifier/prefix_trie.h"

namespace vsw::classifier::detail {

using Version = std::uint64_t;
inline constexpr Version kForever = ~Version{0};

// The versions a writer call works with.
struct Versions {
  Version next;    // the version the next publish() will have
  Version oldest;  // the oldest version a reader may still look up at (<= published)
};

inline constexpr unsigned kTrieFields = 4;    // PrefixField kIpv4Src..kIpv6Dst have tries
inline constexpr std::uint8_t kNoPlen = 255;  // the mask on the field is not a prefix
inline constexpr std::uint64_t kSeed = 0x6a09e667f3bcc908ULL;

inline std::uint64_t mix(std::uint64_t h, std::uint64_t w) {
  h ^= w;
  h *= 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}
inline std::uint64_t finish(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 33);
}

// The words and bits of each PrefixField, most significant part first, and its width:
// derived from the fields it concatenates (flow_key.h's layout), never written by hand.
struct PrefixFieldInfo {
  std::uint8_t n_parts = 0;
  std::array<std::uint8_t, 2> word{};
  std::array<std::uint64_t, 2> bits{};  // contiguous within the word
  std::uint8_t width = 0;
};
// The concatenation of `fields`, most significant first. A field directly below the
// previous one in the same word extends that part; any other starts a new part.
constexpr PrefixFieldInfo make_prefix_field(std::initializer_list<Field> fields) {
  PrefixFieldInfo pi;
  for (const Field f : fields) {
    const FieldInfo& fi = field_info(f);
    const unsigned n = pi.n_parts;
    if (n > 0 && pi.word[n - 1] == fi.word &&
        std::countr_zero(pi.bits[n - 1]) == fi.shift + fi.width) {
      pi.bits[n - 1] |= fi.word_mask();
    } else {
      pi.word[n] = fi.word;  // a third part fails constant evaluation (out of bounds)
      pi.bits[n] = fi.word_mask();
      pi.n_parts = static_cast<std::uint8_t>(n + 1);
    }
    pi.width = static_cast<std::uint8_t>(pi.width + fi.width);
  }
  return pi;
}
inline constexpr std::array<PrefixFieldInfo, static_cast<std::size_t>(PrefixField::kCount)>
    kPrefixInfo = {{
        make_prefix_field({Field::kIpv4Src}), make_prefix_field({Field::kIpv4Dst}),
        make_prefix_field({Field::kIpv6SrcHi, Field::kIpv6SrcLo}),
        make_prefix_field({Field::kIpv6DstHi, Field::kIpv6DstLo}),
        make_prefix_field({Field::kTpSrc, Field::kTpDst}),  // one 32-bit field
    }};
static_assert(kPrefixInfo[0].width == 32 && kPrefixInfo[2].width == 128 &&
              kPrefixInfo[static_cast<std::size_t>(PrefixField::kPorts)].n_parts == 1 &&
              kPrefixInfo[static_cast<std::size_t>(PrefixField::kPorts)].width == 32);

// The top n bits of a contiguous mask m (all of m if it has no more).
constexpr std::uint64_t top_bits(std::uint64_t m, unsigned n) {
  return n >= 64 ? m : m & ~(m >> n);
}

// Trie field F's value of k, left-aligned (the constants fold: a shift or two).
template <unsigned F>
inline u128 trie_key_of(const FlowKey& k) {
  constexpr PrefixFieldInfo pi = kPrefixInfo[F];
  u128 v = 0;
  for (unsigned p = 0; p < pi.n_parts; ++p) {
    const std::uint64_t m = pi.bits[p];
    v = (v << std::popcount(m)) | ((k.w[pi.word[p]] & m) >> std::countr_zero(m));
  }
  return v << (128 - pi.width);
}
// A trie field's value of k, left-aligned.
inline u128 trie_key(const FlowKey& k, unsigned f) {
  static_assert(kTrieFields == 4);
  switch (f) {
    case 0:
      return trie_key_of<0>(k);
    case 1:
      return trie_key_of<1>(k);
    case 2:
      return trie_key_of<2>(k);
    default:
      return trie_key_of<3>(k);
  }
}
// ORs the first n bits of trie field F into wc.
template <unsigned F>
inline void unwildcard_prefix_of(FlowKey& wc, unsigned n) {
  constexpr PrefixFieldInfo pi = kPrefixInfo[F];
  for (unsigned p = 0; p < pi.n_parts; ++p) {
    wc.w[pi.word[p]] |= top_bits(pi.bits[p], n);
    if (p + 1 < pi.n_parts) n -= std::min<unsigned>(n, std::popcount(pi.bits[p]));
  }
}
// ORs the first n bits of trie field f into wc.
inline void unwildcard_prefix(FlowKey& wc, unsigned f, unsigned n) {
  static_assert(kTrieFields == 4);
  switch (f) {
    case 0:
      return unwildcard_prefix_of<0>(wc, n);
    case 1:
      return unwildcard_prefix_of<1>(wc, n);
    case 2:
      return unwildcard_prefix_of<2>(wc, n);
    default:
      return unwildcard_prefix_of<3>(wc, n);
  }
}

// What the writer unlinked while readers may still use it (tables, proof sets, subtables),
// freed by publish() after a grace period.
using Retired = std::vector<std::shared_ptr<const void>>;

class alignas(64) Subtable {
  struct Table;
  struct PrefixIndex;
  // What find() reads, in the first cache line (with the first three masks; the next
  // eight are in the second). The words with mask bits ("masked words", j = 0 ..
  // n_words_ - 1) are listed in stage order; the words a mask leaves zero cost nothing,
  // however wide the key.
  std::atomic<const Table*> table_{nullptr};
  std::uint8_t n_words_ = 0;  // masked words
  std::uint8_t n_sets_ = 0;   // stage sets probed: stages with mask bits - 1, if staged
  std::array<std::uint8_t, kStages - 1> stage_end_{};  // end of each stage but the last
  std::array<std::uint8_t, kWords> word_idx_{};        // masked word j's index in FlowKey::w
  std::array<std::uint64_t, kWords> word_mask_{};      // masked word j's mask

 public:
  Subtable(const FlowKey& mask, const Config& cfg);
  ~Subtable();
  Subtable(const Subtable&) = delete;
  Subtable& operator=(const Subtable&) = delete;

  // ---- Readers (any thread, inside an Epoch::ReadGuard) ----

  // The rule visible at version v whose value k matches, or null with *miss_end = the
  // number of words (a prefix of the stage-ordered mask words) whose bits prove the miss.
  const Hit* find(const FlowKey& k, Version v, unsigned* miss_end) const;
  // ORs the first `end` masked words' masks into wc.
  void unwildcard(FlowKey& wc, unsigned end) const {
    for (unsigned j = 0; j < end; ++j) wc.w[word_idx_[j]] |= word_mask_[j];
  }
  // Adds to wc the cheapest proof that no rule here matches k, given that the staged
  // lookup missed after miss_end words, and returns true. With `defer`, a proof other than
  // the stage bits is not applied: it returns false and its cost (bits not yet in wc).
  bool prove_miss(const FlowKey& k, unsigned miss_end, FlowKey& wc, std::uint32_t fields,
                  unsigned* defer = nullptr) const;
  [[nodiscard]] unsigned n_words() const { return n_words_; }
  // Prefix length of the mask on each trie field, or kNoPlen (also for an empty mask).
  [[nodiscard]] const std::array<std::uint8_t, kTrieFields>& plen() const { return plen_; }

  // ---- Writer ----

  // Changes become visible at version v.next; replaced tables go to *retired.
  std::error_code insert(const FlowKey& value, std::int32_t priority, std::uint64_t cookie,
                         const Versions& v, Retired* retired);
  std::optional<std::uint64_t> remove(const FlowKey& value, std::int32_t priority,
                                      const Versions& v, Retired* retired);
  // At publish() of version v.next: extends the proof sets with the values added since the
  // last publish, and shrinks a table left with much slack after many changes.
  void compact(const Versions& v, Retired* retired);
  // The exact maximum priority of the live rules (O(entries)); sets max_bound to it.
  void recompute_max();
  // Calls fn(value) for the value of every live entry (trie rebuilds).
  void for_each_live_value(const std::function<void(const FlowKey&)>& fn) const;

  std::size_t n_rules = 0;
  std::int32_t max_bound = std::numeric_limits<std::int32_t>::min();
  std::int32_t published_max = std::numeric_limits<std::int32_t>::min();  // in the order
  bool max_stale = false;     // max_bound may exceed the true maximum
  bool listed = false;        // in the classifier's changed list
  bool in_order = false;      // referenced by the published order
  bool moving = false;        // publish(): leaves or moves within the order
  std::uint64_t seq = 0;      // creation order: the last key of the order's sort
  std::size_t mask_hash = 0;  // FlowKeyHash of the mask (the classifier's set)
  [[nodiscard]] bool has_mask(const FlowKey& mask) const;
  [[nodiscard]] FlowKey mask() const;

  [[nodiscard]] std::size_t memory() const;

 private:
  // Per prefix index, the reduced values of the entries readers may see (a superset), sorted
  // and unique: a main array and a small delta. Immutable once published.
  struct Sorted {
    struct Part {
      const u128* main;
      std::uint32_t main_n, delta_n;
      const u128* delta;
    };
    std::vector<Part> parts;                                      // what prove_miss() reads
    std::vector<std::shared_ptr<const std::vector<u128>>> mains;  // shared across versions
    std::vector<std::vector<u128>> deltas;
  };
  std::array<std::uint8_t, kTrieFields> plen_{kNoPlen, kNoPlen, kNoPlen, kNoPlen};
  std::vector<PrefixIndex> prefixes_;           // ports and non-prefix address masks
  std::atomic<const Sorted*> sorted_{nullptr};  // null until the first publish()

  // Writer-only.
  std::unique_ptr<Table> owned_;                // the table table_ points to
  std::unique_ptr<const Sorted> sorted_owned_;  // what sorted_ points to
  std::vector<std::vector<u128>> pending_;      // per prefix index: values added since
  // By entry: the rules under its best one, priority-descending (allocated when needed).
  using Others = std::unordered_map<std::uint32_t, std::vector<Hit>>;
  std::unique_ptr<Others> more_;
  std::uint32_t live_ = 0;  // entries with until = kForever
  std::uint32_t ops_ = 0;   // appends and retirements since the last rebuild
  // Retired entries: dead_old_ are seen by no version >= oldest (the next rebuild drops
  // them); the others wait in dead_pending_, counted per until version, ascending.
  std::uint32_t dead_old_ = 0;
  std::vector<std::pair<Version, std::uint32_t>> dead_pending_;  // (a deque allocates)

  std::vector<Hit>* others(std::uint32_t e);
  std::vector<Hit> take_others(std::uint32_t e);  // and forget them
  void put_others(std::uint32_t e, std::vector<Hit> v);
  [[nodiscard]] std::uint64_t hash(const FlowKey& value) const;
  [[nodiscard]] std::uint64_t hash_words(const std::uint64_t* v) const;  // entry's words
  // Adds entry e (written, with hash h) to the stage sets, the filter and the slots.
  void index_entry(Table& t, std::uint32_t e, std::uint64_t h) const;
  [[nodiscard]] std::int64_t find_live(const FlowKey& value, std::uint64_t h) const;
  std::uint32_t append(const FlowKey& value, std::uint64_t h, const Hit& hit, Version from,
                       const Versions& v, Retired* retired);
  void retire_entry(std::uint32_t e, Version next);
  void roll_dead(Version oldest);         // pending retirements until <= oldest join dead_old_
  enum class Resize { kGrow, kCompact };  // capacity: 1.5x the kept entries, or 1/8 more
  void rebuild(Resize resize, const Versions& v, Retired* retired);
};

}  // namespace vsw::classifier::detail
