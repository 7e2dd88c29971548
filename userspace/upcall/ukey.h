// Ukeys: what userspace remembers about each megaflow it installed in the kernel.
//
// What? One Ukey per megaflow (identified by its dpif::Match): the actions it was
// installed with, the MAC-table tags its translation read, the rules it matched (to credit
// their counters), and the stats last seen in a dump (to compute deltas and idleness).
//
// Why? Handlers use the table to install a megaflow once even when a burst of misses
// for it arrives on several threads; revalidators use it to find which megaflows a
// forwarding change can make wrong (by tag: the flows whose translation looked up a MAC
// that moved, aged out or was learned) without re-translating every flow.
//
// Memory. A bridge caches up to 200,000 megaflows, so a ukey is small: vswd's heap grows
// by 198 bytes per NORMAL megaflow, all indexes included (1,033 bytes with a full Match, a
// map node holding a second copy of it, three vectors and a hash set per tag; measured
// with `upcall_bench --memory`, see bench/upcall/).
//  - One allocation per ukey: the Ukey, followed by its key's 64-bit words that the mask
//    does not wildcard entirely (3 of 13 for NORMAL's megaflows); the rest of the key is
//    zero by the Match invariant.
//  - The mask, the action list and the rule list are interned (Interned<T>): ukeys with
//    equal ones share one immutable copy, counted. NORMAL's megaflows share one mask, one
//    rule list and a handful of action lists.
//  - One tag inline (NORMAL reads one: the destination's entry), and what NORMAL learns
//    from the flow's packets (a MacLearnRef, 12 bytes).
//  - The table is an open-addressing set of pointers; the tag index maps a tag to an
//    intrusive list threaded through the ukeys' tag slots (no node per pair).
//
// Concurrency. One mutex guards the table, the tag index (and the tag slots' links) and
// the dirty queue; interning has its own per-type mutex, never taken while waiting for the
// table's. A Ukey's mutable fields are touched by the revalidator only, except `state`,
// which the installing handler sets, and `dirty`. Ukeys are counted references
// (UkeyPtr): one erased from the table lives on while a thread still holds it.
#pragma once

#include <atomic>
#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "dpif/flow.h"
#include "ofproto/ofproto.h"

namespace vsw::upcall {

// ---- interning --------------------------------------------------------------------------
// A counted reference to an immutable T held once per process in T's pool: interning a
// value equal to one already held returns a reference to the held one. Two Interned of
// the same type are equal exactly when their values are. The last reference frees the
// value. Thread-safe. T must have a hash: std::size_t intern_hash(const T&).
template <class T>
class Interned {
 public:
  Interned() = default;
  [[nodiscard]] static Interned intern(const T& value);
  Interned(const Interned& o) noexcept;
  Interned(Interned&& o) noexcept : n_(std::exchange(o.n_, nullptr)) {}
  Interned& operator=(Interned o) noexcept {
    std::swap(n_, o.n_);
    return *this;
  }
  ~Interned();

  [[nodiscard]] const T& operator*() const { return n_->value; }
  [[nodiscard]] const T* operator->() const { return &n_->value; }
  explicit operator bool() const { return n_ != nullptr; }
  friend bool operator==(const Interned& a, const Interned& b) { return a.n_ == b.n_; }
  // How many distinct values the pool holds now (tests, benchmarks).
  [[nodiscard]] static std::size_t pool_size();

  struct Node {
    std::atomic<std::uint32_t> refs{1};
    std::size_t hash = 0;
    T value;
  };

 private:
  explicit Interned(Node* n) : n_(n) {}
  Node* n_ = nullptr;
};

// A megaflow mask and which of its 64-bit words are not all zero (bit i: word i).
struct Mask {
  vsw_flow_key bits{};
  std::uint16_t words = 0;
  friend bool operator==(const Mask& a, const Mask& b);
};
using RuleList = std::vector<ofproto::RuleId>;

std::size_t intern_hash(const Mask& m);
std::size_t intern_hash(const dpif::Actions& a);
std::size_t intern_hash(const RuleList& r);

extern template class Interned<Mask>;
extern template class Interned<dpif::Actions>;
extern template class Interned<RuleList>;

// ---- ukeys ------------------------------------------------------------------------------
// The hash UkeyTable files a megaflow under (a Ukey caches its own).
struct MatchHash {
  std::size_t operator()(const dpif::Match& m) const noexcept;
};

class Ukey;
using UkeyPtr = boost::intrusive_ptr<Ukey>;

class Ukey {
 public:
  enum class State : std::uint8_t { kInstalling, kInstalled };

  // A ukey for the (normalized) megaflow m with the facts of its translation; not in any
  // table yet.
  [[nodiscard]] static UkeyPtr make(const dpif::Match& m, const dpif::Actions& actions,
                                    std::span<const ofproto::MacTag> tags, const RuleList& rules,
                                    const ofproto::MacLearnRef& learns = {});
  Ukey(const Ukey&) = delete;
  Ukey& operator=(const Ukey&) = delete;

  // The megaflow, rebuilt from the compact key and the shared mask.
  [[nodiscard]] dpif::Match match() const;
  // Whether m is this ukey's megaflow (without rebuilding it).
  [[nodiscard]] bool has_match(const dpif::Match& m) const;
  [[nodiscard]] bool same_match(const Ukey& o) const;
  [[nodiscard]] std::size_t hash() const { return hash_; }
  [[nodiscard]] const dpif::Actions& actions() const { return *actions_; }
  [[nodiscard]] const RuleList& rules() const { return *rules_; }
  [[nodiscard]] std::size_t n_tags() const { return n_tags_; }
  [[nodiscard]] const ofproto::MacTag& tag(std::size_t i) const { return slot(i).tag; }
  [[nodiscard]] std::vector<ofproto::MacTag> tags() const;
  // What NORMAL learns from its packets (port 0: nothing), replayed by the revalidator.
  [[nodiscard]] const ofproto::MacLearnRef& learns() const { return learns_; }

  std::atomic<State> state{State::kInstalling};
  std::atomic<bool> dirty{false};  // must be re-translated (a tag or rule changed)
  // Revalidator-only fields.
  std::uint64_t packets = 0, bytes = 0;  // stats at the last dump
  std::uint64_t created_ms = 0;          // steady clock
  std::uint64_t seen_dump = 0;           // the last dump pass that found it in the kernel

 private:
  friend class UkeyTable;
  friend void intrusive_ptr_add_ref(Ukey* uk) noexcept;
  friend void intrusive_ptr_release(Ukey* uk) noexcept;

  // One tag and its links in the tag index's list of the ukeys carrying it (a link names
  // a ukey and which of its slots).
  struct TagSlot {
    ofproto::MacTag tag;
    Ukey* prev = nullptr;
    Ukey* next = nullptr;
    std::uint32_t prev_slot = 0, next_slot = 0;
  };
  static constexpr std::size_t kInlineTags = 1;

  Ukey() = default;
  ~Ukey() = default;
  void set_tags(std::span<const ofproto::MacTag> tags);
  [[nodiscard]] TagSlot& slot(std::size_t i) { return more_ ? more_[i] : inline_[i]; }
  [[nodiscard]] const TagSlot& slot(std::size_t i) const { return more_ ? more_[i] : inline_[i]; }
  // The key words the mask keeps, in word order, stored right after the object.
  [[nodiscard]] std::uint64_t* words() { return reinterpret_cast<std::uint64_t*>(this + 1); }
  [[nodiscard]] const std::uint64_t* words() const {
    return reinterpret_cast<const std::uint64_t*>(this + 1);
  }

  std::atomic<std::uint32_t> refs_{0};
  std::uint32_t n_tags_ = 0;
  std::size_t hash_ = 0;
  Interned<Mask> mask_;
  Interned<dpif::Actions> actions_;
  Interned<RuleList> rules_;
  ofproto::MacLearnRef learns_;
  TagSlot inline_[kInlineTags];
  std::unique_ptr<TagSlot[]> more_;  // all the tags when there are more than kInlineTags
};

void intrusive_ptr_add_ref(Ukey* uk) noexcept;
void intrusive_ptr_release(Ukey* uk) noexcept;

class UkeyTable {
 public:
  UkeyTable();
  ~UkeyTable();
  UkeyTable(const UkeyTable&) = delete;
  UkeyTable& operator=(const UkeyTable&) = delete;

  // A handler's claim: makes and inserts a ukey for m with these facts unless one with
  // the same match exists (then nullptr, and nothing is allocated) or the table already
  // holds `limit` ukeys (then nullptr too).
  [[nodiscard]] UkeyPtr claim(const dpif::Match& m, const dpif::Actions& actions,
                              std::span<const ofproto::MacTag> tags, const RuleList& rules,
                              std::uint64_t created_ms, const ofproto::MacLearnRef& learns = {},
                              std::size_t limit = SIZE_MAX);
  // Adds uk unless a ukey with the same match exists or the table holds `limit`; false then.
  bool insert(const UkeyPtr& uk, std::size_t limit = SIZE_MAX);
  [[nodiscard]] UkeyPtr find(const dpif::Match& m) const;
  // Whether uk itself is in the table (not erased, not a claim that lost).
  [[nodiscard]] bool holds(const Ukey& uk) const;
  void erase(const dpif::Match& m);
  // Erases uk if it is the one in the table.
  void erase(const Ukey& uk);
  // Replaces the translation facts of a ukey (actions, tags, rules), keeping the tag index
  // in step when it is in the table. Revalidator only: a dump reads the facts unlocked.
  void update(const UkeyPtr& uk, const dpif::Actions& actions,
              std::span<const ofproto::MacTag> tags, const RuleList& rules,
              const ofproto::MacLearnRef& learns = {});
  // Marks dirty every ukey that carries one of tags; returns how many.
  std::size_t mark_tagged(std::span<const ofproto::MacTag> tags);
  // Marks every ukey dirty.
  void mark_all();
  // Takes the queue of ukeys marked dirty since the last call (their `dirty` flag stays
  // set: the caller clears it when it re-translates them).
  [[nodiscard]] std::vector<UkeyPtr> take_dirty();
  // Queues uk again (it could not be handled yet, e.g. still being installed).
  void requeue(const UkeyPtr& uk);
  [[nodiscard]] std::vector<UkeyPtr> all() const;
  // Without the lock (handlers check it against the flow limit for every miss).
  [[nodiscard]] std::size_t size() const { return size_.load(std::memory_order_relaxed); }
  // How many ukeys were ever erased, for whatever reason (the revalidator trims the heap
  // after many; deletions it counts itself miss flows flushed by hand or failed installs).
  [[nodiscard]] std::uint64_t erased() const { return erased_.load(std::memory_order_relaxed); }
  // How many tags the index holds (tests: the index is kept in step).
  [[nodiscard]] std::size_t indexed_tags() const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(const UkeyPtr& uk) const noexcept { return uk->hash(); }
    std::size_t operator()(const dpif::Match& m) const noexcept { return MatchHash{}(m); }
    std::size_t operator()(const Ukey* uk) const noexcept { return uk->hash(); }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(const UkeyPtr& a, const UkeyPtr& b) const noexcept { return a->same_match(*b); }
    bool operator()(const UkeyPtr& a, const dpif::Match& m) const noexcept {
      return a->has_match(m);
    }
    bool operator()(const dpif::Match& m, const UkeyPtr& a) const noexcept {
      return a->has_match(m);
    }
    bool operator()(const UkeyPtr& a, const Ukey* b) const noexcept { return a.get() == b; }
    bool operator()(const Ukey* b, const UkeyPtr& a) const noexcept { return a.get() == b; }
  };
  struct Head {
    Ukey* uk = nullptr;
    std::uint32_t slot = 0;
  };
  void index(Ukey& uk);
  void unindex(Ukey& uk);
  void erase_locked(const UkeyPtr& uk);
  [[nodiscard]] bool holds_locked(const Ukey& uk) const;

  mutable std::mutex mu_;
  boost::unordered_flat_set<UkeyPtr, Hash, Eq> set_;
  boost::unordered_flat_map<ofproto::MacTag, Head, ofproto::MacTagHash> by_tag_;
  std::vector<UkeyPtr> dirty_;
  std::atomic<std::size_t> size_{0};
  std::atomic<std::uint64_t> erased_{0};
};

}  // namespace vsw::upcall
