// The OpenFlow classifier: tuple space search with staged lookup, prefix tracking and
// wildcard tracking, lock-free readers and versioned publication of rule batches.
//
// What? A set of rules, each a Match (value/mask over a FlowKey), a priority and a
// cookie. lookup(key) answers: which rule of highest priority matches key? Rules of equal
// priority that overlap may both match; the answer is then one of them, always the same
// one for the same published version.
//
// Goals. (1) Fast lookups. (2) Wildcard tracking: lookup(key, &wc) also returns the bits
// of key the answer depended on, with the guarantee (the megaflow contract) that every
// key' with (key' & wc) == (key & wc) gets the same answer. The daemon installs the
// megaflow key & wc in the kernel, so the fewer bits wc holds, the fewer megaflows and
// upcalls. (3) Readers (upcall handler threads) never lock or wait while one writer
// changes rules; a batch of changes becomes visible at once.
//
// Basic design (what would still be correct without the optimizations below). Tuple
// space search: rules are grouped into subtables by mask; each subtable is a hash table
// of the masked values (subtable.h). A lookup hashes key & mask in every subtable and keeps
// the best hit; wc is the union of the masks of all subtables visited.
//
// Optimizations, each switchable in Config so the benchmark can show what it buys:
// - Priority order with early exit (always on). Subtables are visited in order of the
//   highest priority they hold; once a hit has priority >= the next subtable's maximum,
//   no later subtable can improve it and the lookup stops without un-wildcarding anything
//   more. Cost: keeping the order at publication.
// - Staged lookup (Config::staged). The hash of a subtable is computed stage by stage
//   (metadata, L2, L3, L4; see flow_key.h) and, after each stage but the last, looked up
//   in a set of the partial hashes of the subtable's rules. A miss at stage s proves that
//   no rule matches any key agreeing on the mask bits of stages 0..s, so only those bits
//   are un-wildcarded, e.g. a packet of another in_port does not un-wildcard L4 ports. A
//   small Bloom filter over the sets answers most misses from cache. Cost: one hash set
//   per stage and 8 filter bits per entry per subtable, a filter probe per stage.
// - Prefix tries (Config::prefix_fields, IPv4/IPv6 source and destination; see
//   prefix_trie.h). One trie per field over the prefixes of every subtable whose mask on
//   the field is a prefix. One walk per field gives the matching prefix lengths and how
//   many leading bits that answer depends on; a subtable whose length is not among them
//   cannot match and is skipped without hashing, un-wildcarding only those leading bits
//   (Open vSwitch's prefix tracking). Subtables are bucketed by their length on the first
//   active field and grouped by their length on the second, so a whole bucket or group is
//   rejected with one bit test; buckets are opened in priority order only when the merge
//   of the surviving groups reaches them. Cost: 24 bytes per trie node; two walks per
//   lookup; insert() adds a rule's prefix in place, and publish() rebuilds a trie once its
//   removed prefixes or in-place growth pile up.
// - Port and non-prefix proofs (also Config::prefix_fields). A subtable keeps, for the
//   transport ports (tp_src:tp_dst as one 32-bit field) and for address fields whose mask
//   is not a prefix, the sorted set of its rules' values reduced to its mask bits. When
//   the subtable misses, the longest common prefix d of the key's reduced value with the
//   set (a sorted neighbour attains it) gives a proof: if the value is absent, its first
//   d+1 mask bits alone prove the miss. Per missed subtable the lookup takes the proof
//   (stage bits or one field's bits) that adds the fewest bits to wc, choosing once the
//   trie bits are known. A rule on tp_dst=80 thus un-wildcards only the top byte of a
//   packet's port 443 (Open vSwitch's ports trie). Cost: 16 bytes per distinct value and
//   a binary search per missed subtable, only when wc is asked for.
//
// Invariants.
// - Every lookup sees exactly the rules of one published version (see Concurrency).
// - A subtable's live entries hold one entry per distinct masked value, with its best
//   rule (lower-priority rules with the same value can never win, and wait aside).
// - In the published order, a subtable's recorded maximum priority is >= the priority of
//   every rule it shows at that version (raised at once, lowered lazily).
// - A trie and a subtable's proof sets hold a superset of what the published rules need:
//   extra prefixes or values only cost a visit or a bit of precision, never correctness.
// - No two rules have the same match and priority (insert() rejects the duplicate).
// - Match values have no bits outside their masks (insert() normalizes).
//
// Concurrency. One writer thread calls insert/remove/replace/publish/reclaim (the caller
// serializes writers); any number of reader threads call lookup() without locks, inside an
// Epoch::ReadGuard. Changes are applied in place, but versioned: each subtable entry is
// visible to the versions [from, until), insert() appends entries visible from the next
// version and remove() ends them there, so they stay invisible until publish(). publish()
// makes the batch visible at once: it brings the proof sets and, when a subtable appeared,
// emptied or raised its maximum, the order up to date, stores one new Snapshot pointer
// (version + order) and bumps version(). Publishing after every rule costs O(1) amortized
// for the subtable and trie, plus O(subtables) when the order changes.
//
// Deferred reclamation: publish() never waits for readers, so a control thread never
// blocks on a handler. What the writer unlinked (the old snapshot, old tables of rebuilt
// subtables, replaced proof sets, emptied subtables, old tries and orders) is retired as a
// batch with a grace-period ticket (Epoch::advance()) and freed by a later publish() or
// reclaim() once Epoch::poll() says every reader that could hold it has left. Until then
// readers may still look up at the retired snapshots' versions, so the writer keeps every
// subtable entry that some version from the oldest retired snapshot's on can see (a
// rebuild drops only entries older than that). A reader stuck inside a lookup thus delays
// only the freeing of memory, never the writer; reclaim_all() is the blocking form.
//
// Tests. tests/unit/classifier/ checks lookups against LinearClassifier
// (tests/support/classifier/linear.h), a trivial scan, on seeded random rule sets over
// every field (published in batches and after every change) and on ClassBench sets
// (tests/data/classbench); it checks the megaflow contract on every lookup; TSan-built
// tests run readers against a writer publishing batches and single changes, and against a
// writer that publishes while a reader stays inside a guard.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include "classifier/flow_key.h"

namespace vsw::classifier {

// Fields with prefix tracking (bit i of Config::prefix_fields enables field i).
enum class PrefixField : std::uint8_t { kIpv4Src, kIpv4Dst, kIpv6Src, kIpv6Dst, kPorts, kCount };
inline constexpr std::uint32_t kAllPrefixFields =
    (1U << static_cast<unsigned>(PrefixField::kCount)) - 1;

struct Config {
  bool staged = true;                              // staged lookup (else one hash per subtable)
  std::uint32_t prefix_fields = kAllPrefixFields;  // prefix tracking per PrefixField
};

// What a lookup returns: the winning rule's priority and cookie.
struct Hit {
  std::int32_t priority;
  std::uint64_t cookie;
  friend bool operator==(const Hit&, const Hit&) = default;
};

struct Stats {
  std::size_t rules = 0;         // rules inserted and not removed (published or not)
  std::size_t subtables = 0;     // subtables in the published snapshot
  std::size_t memory_bytes = 0;  // estimate: writer state + published snapshot
  std::size_t retired = 0;       // retired objects waiting for their grace period
};

class Snapshot;
class PrefixTrie;
namespace detail {
class Subtable;
struct Versions;
}  // namespace detail

struct FlowKeyHash {
  std::size_t operator()(const FlowKey& k) const noexcept;
};

class Classifier {
 public:
  explicit Classifier(Config config = {});
  ~Classifier();  // no reader may be inside lookup()
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // ---- Writer: one thread at a time (the caller excludes concurrent writers). ----

  // Adds a rule, invisible to lookups until publish(). Fails with errc::file_exists if a
  // rule with the same match and priority exists.
  [[nodiscard]] std::error_code insert(const Match& match, std::int32_t priority,
                                       std::uint64_t cookie);
  // Adds or replaces the rule with this match and priority; returns the old cookie if any.
  std::optional<std::uint64_t> replace(const Match& match, std::int32_t priority,
                                       std::uint64_t cookie);
  // Removes the rule with this match and priority (until publish(), lookups still see it).
  // Returns its cookie, or nothing if there is no such rule.
  std::optional<std::uint64_t> remove(const Match& match, std::int32_t priority);
  // Makes every change since the last publish() visible to lookups at once and returns the
  // new version. Never waits: what only readers of older versions can reach is retired and
  // freed by a later publish() or reclaim() after its grace period (see above).
  std::uint64_t publish();
  // Frees the retired memory whose grace period has passed, retiring what was unlinked
  // since the last publish(); never waits. Returns the number of batches still waiting.
  std::size_t reclaim();
  // Waits until every retired batch's grace period has passed and frees it all (shutdown,
  // tests, memory measurements). Blocks while a reader is in a lookup that began before the
  // call; must not be called while this thread is inside a ReadGuard.
  void reclaim_all();
  [[nodiscard]] Stats stats() const;

  // ---- Readers: any number of threads, concurrently with the writer, lock-free. ----

  // The highest-priority visible rule matching key. If wc is not null, ORs into *wc the
  // bits of key the answer depended on (the megaflow contract above).
  [[nodiscard]] std::optional<Hit> lookup(const FlowKey& key, FlowKey* wc = nullptr) const;
  // The published version (number of publish() calls that changed something, plus 1).
  [[nodiscard]] std::uint64_t version() const;

 private:
  struct TrieState {
    std::shared_ptr<PrefixTrie> trie;  // null while no subtable has a prefix on the field
    std::size_t built = 0;             // prefixes at the last rebuild
    std::size_t added = 0;             // added in place since
    std::size_t stale = 0;             // removed since (still in the trie)
    bool rebuild = false;              // publish() must build a new trie
  };
  Config config_;
  // Writer-only state.
  // The subtables, found by mask (each subtable knows its own).
  struct SubtableHash {
    using is_transparent = void;
    std::size_t operator()(const FlowKey& mask) const noexcept;
    std::size_t operator()(const std::unique_ptr<detail::Subtable>& s) const noexcept;
  };
  struct SubtableEq {
    using is_transparent = void;
    bool operator()(const std::unique_ptr<detail::Subtable>& a,
                    const std::unique_ptr<detail::Subtable>& b) const noexcept {
      return a == b;
    }
    bool operator()(const FlowKey& m, const std::unique_ptr<detail::Subtable>& s) const noexcept;
    bool operator()(const std::unique_ptr<detail::Subtable>& s, const FlowKey& m) const noexcept {
      return (*this)(m, s);
    }
  };
  std::unordered_set<std::unique_ptr<detail::Subtable>, SubtableHash, SubtableEq> subtables_;
  std::vector<detail::Subtable*> changed_;            // changed since the last publish
  detail::Subtable* last_ = nullptr;                  // the last one used
  std::array<TrieState, 4> tries_;                    // ipv4_src, ipv4_dst, ipv6_src, ipv6_dst
  std::vector<std::shared_ptr<const void>> retired_;  // unlinked since the last retire()
  // Retired batches, oldest first: freed once Epoch::poll(ticket); until then readers may
  // look up at `version` (that of the snapshot the batch retired, or the published one).
  struct Limbo {
    std::uint64_t ticket;
    std::uint64_t version;
    std::vector<std::shared_ptr<const void>> items;
  };
  std::deque<Limbo> limbo_;
  std::size_t n_rules_ = 0;
  std::uint64_t next_seq_ = 0;             // numbers subtables in creation order
  std::shared_ptr<const Snapshot> owned_;  // keeps the published snapshot alive
  detail::Subtable* writer_subtable(const FlowKey& mask);
  // The next version and the oldest one a reader may still look up at.
  [[nodiscard]] detail::Versions versions() const;
  // Moves retired_ (and `old`, a replaced snapshot) into a new limbo batch.
  void retire(std::shared_ptr<const Snapshot> old);
  void free_passed();  // frees the limbo batches whose grace period has passed
  void note_change(detail::Subtable& st);
  void rebuild_trie(unsigned f);
  // Read by all readers.
  std::atomic<const Snapshot*> current_{nullptr};
};

}  // namespace vsw::classifier
