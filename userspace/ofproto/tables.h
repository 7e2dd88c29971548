// The OpenFlow pipeline's 255 flow tables: one classifier each, plus the rules' storage.
//
// What? A Rule is one flow entry: table, match, priority, cookie, instructions, timeouts,
// flags and packet/byte counters. The writer (one thread: the daemon's control thread)
// adds, modifies and deletes rules with OpenFlow's semantics; handler threads look rules
// up while it does.
//
// Versions. Changes are staged: add/modify/remove change the writer's view at once but
// stay invisible to lookups until publish(), which makes every staged change of every
// table visible together. Translation must see one version of all tables (a packet must
// not meet table 0 before a change and table 1 after it), so publish() brackets its
// per-table publications with a sequence number (odd while publishing); a translation
// reads the number before and after its lookups and starts over if it changed
// (read_begin()/read_valid(), used by Ofproto::translate). Lookups never wait for the
// writer: they only find out afterwards that they must retry.
//
// Lifetime. The classifier stores a Rule's address as its cookie, so a lookup yields a
// Rule* without any lock. Rules removed or replaced are kept until a grace period has
// passed after the publish() that hid them (classifier::Epoch, retire.h; nothing waits:
// a later publish() or reclaim() frees them), so a Rule* found inside an Epoch::ReadGuard
// stays valid until the guard ends; RuleId (a shared_ptr) keeps one alive for longer,
// e.g. to credit its counters from datapath stats after it was deleted.
//
// Modify keeps a rule's counters (a new Rule object shares the old one's RuleCounters)
// unless OFPFF_RESET_COUNTS; add of an existing match and priority replaces the rule, also
// keeping counters unless OFPFF_RESET_COUNTS.
//
// Timeouts (as Open vSwitch 3.1). A rule with hard_timeout H is removed once more than H
// seconds passed since it was added or last modified (modified_ms: a MODIFY restarts it, and
// keeps created_ms, from which durations count); one with idle_timeout I once more than I
// seconds passed since its last packet (RuleCounters::used_ms, which starts at the rule's
// creation and is advanced by credit(): the revalidators credit traffic served from the
// kernel's cache with the time the kernel last used the megaflow). expire() does this, on
// the writer thread, about once a second (ofswitch::ConnMgr's timer); the removal is staged
// like a FLOW_MOD delete's, so the caller publishes it.
//
// Removal log. Rules that carry OFPFF_SEND_FLOW_REM and leave the tables through remove()
// (a FLOW_MOD delete: reason DELETE, or the reason given) or expire() (IDLE_TIMEOUT,
// HARD_TIMEOUT) are logged with their reason and time; take_removed() hands the log to
// whoever sends FLOW_REMOVED. A rule replaced by an add or a modify is not removed.
#pragma once

#include <atomic>
#include <bitset>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "classifier/classifier.h"
#include "classifier/flow_key.h"
#include "ofproto/clock.h"
#include "ofproto/retire.h"
#include "openflow/actions.h"
#include "openflow/messages.h"
#include "util/result.h"

namespace vsw::ofproto {

inline constexpr unsigned kNumTables = 255;                 // table ids 0..254
inline constexpr std::uint8_t kAllTables = 0xff;            // OFPTT_ALL
inline constexpr std::uint16_t kFlagSendFlowRem = 1 << 0;   // OFPFF_SEND_FLOW_REM
inline constexpr std::uint16_t kFlagCheckOverlap = 1 << 1;  // OFPFF_CHECK_OVERLAP
inline constexpr std::uint16_t kFlagResetCounts = 1 << 2;   // OFPFF_RESET_COUNTS

struct RuleCounters {
  std::atomic<std::uint64_t> packets{0};
  std::atomic<std::uint64_t> bytes{0};
  // The last packet credit() reported (Tables' clock), or when the counters were made.
  std::atomic<std::int64_t> used_ms{0};
};

// Why a rule left the tables (ofp_flow_removed_reason).
enum class RemovedReason : std::uint8_t {
  kIdleTimeout = 0,
  kHardTimeout = 1,
  kDelete = 2,
  kGroupDelete = 3,
};

// What a rule's instructions do, decoded once at insertion (OpenFlow runs them in this
// order, whatever their order in the message).
struct Program {
  const std::vector<openflow::Action>* apply = nullptr;  // apply_actions
  bool clear = false;                                    // clear_actions
  const std::vector<openflow::Action>* write = nullptr;  // write_actions
  bool write_metadata = false;
  std::uint64_t metadata = 0, metadata_mask = 0;
  int goto_table = -1;  // -1: end of pipeline
};

// A rule's instructions as the controller sent them and their Program, made once and
// shared by every rule with equal instructions (Tables interns them: 100,000 rules that all
// output to one port hold one RuleActions). Immutable, hence neither copied nor moved
// (program points into instructions).
struct RuleActions {
  explicit RuleActions(std::vector<openflow::Instruction> ins) : instructions(std::move(ins)) {}
  RuleActions(const RuleActions&) = delete;
  RuleActions& operator=(const RuleActions&) = delete;

  const std::vector<openflow::Instruction> instructions;
  Program program;       // points into instructions; set once, before the object is shared
  std::size_t hash = 0;  // of instructions (Tables' intern set), likewise
};

// A rule's classifier match as a rule keeps it: only the words its mask uses, each as a
// value and a mask (a whole classifier::Match is 352 bytes; a typical rule uses 2 to 4 of
// its 22 words). unpack() gives the whole Match back.
class PackedMatch {
 public:
  PackedMatch() = default;
  explicit PackedMatch(const classifier::Match& m);
  [[nodiscard]] classifier::Match unpack() const;
  [[nodiscard]] bool matches_all() const { return words_ == 0; }
  // Equal packed matches are equal Matches (both keep value & mask, normalized).
  [[nodiscard]] std::size_t hash() const noexcept;
  friend bool operator==(const PackedMatch& a, const PackedMatch& b) noexcept;

 private:
  std::uint32_t words_ = 0;                // bit i: word i has mask bits
  std::unique_ptr<std::uint64_t[]> data_;  // per such word, in order: value, mask
};
static_assert(classifier::kWords <= 32, "PackedMatch keeps a 32-bit word set");

// The match as the controller sent it (echoed by FLOW stats, FLOW_REMOVED and traces),
// kept as its fields back to back with only the bytes each field's length uses: 12 bytes
// for `ip,nw_dst=10.0.0.1`, where an openflow::Match holds 2 x 34 in a vector. unpack()
// gives an equal Match back (same fields, same order).
class PackedOxm {
 public:
  PackedOxm() = default;
  explicit PackedOxm(const openflow::Match& m);
  [[nodiscard]] openflow::Match unpack() const;

 private:
  // null: no fields. Else the field count (2 bytes), then per field its id, whether it has
  // a mask, its value and, if it has one, its mask.
  std::unique_ptr<std::uint8_t[]> data_;
};

class Rule : public std::enable_shared_from_this<Rule> {
 public:
  std::uint8_t table_id = 0;
  PackedMatch packed;  // the classifier match (normalized): see match()
  std::int32_t priority = 0;
  std::uint64_t cookie = 0;
  std::uint16_t idle_timeout = 0, hard_timeout = 0, flags = 0;
  std::int64_t created_ms = 0;   // Tables' clock at add (durations count from here)
  std::int64_t modified_ms = 0;  // at add or the last modify (the hard timeout's start)
  // Shared with every rule of equal instructions (see RuleActions); null only for the
  // counter-only rules of groups and table misses, which no lookup returns.
  std::shared_ptr<const RuleActions> actions;
  std::shared_ptr<RuleCounters> counters;  // shared by the versions of a modified rule
  // The table's matched count (Tables::counts), advanced by credit() too; null for the
  // counter-only rules of groups and table misses.
  std::shared_ptr<RuleCounters> table_matched;
  PackedOxm packed_oxm;  // the match as the controller sent it: see oxm()

  [[nodiscard]] classifier::Match match() const { return packed.unpack(); }
  // The match as the controller sent it (FLOW stats); empty: match all.
  [[nodiscard]] openflow::Match oxm() const { return packed_oxm.unpack(); }
  [[nodiscard]] const std::vector<openflow::Instruction>& instructions() const;
  // Adds datapath stats to the counters and the packets to the table's matched count (any
  // thread); used_ms: when the last of these packets was seen (Tables' clock; used_ms only
  // moves forward).
  void credit(std::uint64_t packets, std::uint64_t bytes, std::int64_t used_ms) const;
  // Whether an apply/write action list outputs to port (OFPP_ANY: always true).
  [[nodiscard]] bool outputs_to(std::uint32_t port) const;
  [[nodiscard]] bool uses_group(std::uint32_t group) const;
};
using RuleId = std::shared_ptr<const Rule>;

// A rule with OFPFF_SEND_FLOW_REM that left the tables (the removal log, see above).
struct RemovedRule {
  RuleId rule;
  RemovedReason reason = RemovedReason::kDelete;
  std::int64_t at_ms = 0;  // Tables' clock at removal
};

struct RuleSpec {
  std::uint8_t table_id = 0;
  classifier::Match match;
  std::int32_t priority = 0x8000;
  std::uint64_t cookie = 0;
  std::vector<openflow::Instruction> instructions;
  std::uint16_t idle_timeout = 0, hard_timeout = 0, flags = 0;
  openflow::Match oxm{};  // kept for FLOW stats (Rule::oxm)
};

// Which rules a modify or delete touches (OpenFlow's flow_mod selection).
struct RuleFilter {
  std::uint8_t table_id = kAllTables;
  classifier::Match match;  // strict: equal match; else rules at least as specific
  bool strict = false;
  std::int32_t priority = 0;  // strict only
  std::uint64_t cookie = 0, cookie_mask = 0;
  std::uint32_t out_port = openflow::port::kAny;
  std::uint32_t out_group = openflow::kGroupAny;
};

class Tables {
 public:
  explicit Tables(classifier::Config config = {}, Clock clock = {});
  ~Tables();
  Tables(const Tables&) = delete;
  Tables& operator=(const Tables&) = delete;

  // ---- Writer: one thread; changes are invisible to lookups until publish(). ----

  // Adds a rule, replacing one with the same table, match and priority. EINVAL for a bad
  // table id or instructions (duplicate type, goto_table not forward), EOPNOTSUPP for meter
  // or experimenter instructions, EEXIST with OFPFF_CHECK_OVERLAP when an overlapping rule
  // of the same priority exists.
  Result<RuleId> add(RuleSpec spec);
  // Replaces the instructions of every selected rule; returns how many. Resets counters if
  // reset_counts.
  Result<std::size_t> modify(const RuleFilter& filter,
                             const std::vector<openflow::Instruction>& instructions,
                             bool reset_counts = false);
  // Removes every selected rule; appends them to *removed when given. Those with
  // OFPFF_SEND_FLOW_REM go to the removal log with `reason`.
  std::size_t remove(const RuleFilter& filter, std::vector<RuleId>* removed = nullptr,
                     RemovedReason reason = RemovedReason::kDelete);
  // Removes every rule whose hard or idle timeout has passed at now_ms (see above; hard
  // first, as Open vSwitch); returns how many. Staged: publish() afterwards.
  std::size_t expire(std::int64_t now_ms);
  // Hands over the removal log (oldest first) and empties it.
  std::vector<RemovedRule> take_removed() { return std::exchange(removed_, {}); }
  [[nodiscard]] bool has_removed() const { return !removed_.empty(); }
  // The tables' clock (monotonic ms).
  [[nodiscard]] std::int64_t now() const { return clock_(); }
  // An OpenFlow flow_mod (add, modify[_strict], delete[_strict]); removed as above.
  Result<void> apply(const openflow::FlowMod& fm, std::vector<RuleId>* removed = nullptr);
  // The same with fm.match already converted (from_oxm(fm.match)), so that a caller that
  // checked the match converts it once.
  Result<void> apply(const openflow::FlowMod& fm, const classifier::Match& match,
                     std::vector<RuleId>* removed = nullptr);
  // Makes every staged change visible to lookups at once and returns the new version.
  // Never waits for readers: replaced and removed rules are freed by a later publish() or
  // reclaim() once no lookup can still see them.
  std::uint64_t publish();
  // Frees retired rules whose grace period has passed (call now and then, e.g. from a
  // timer, when publishes are rare). Returns how many retired rules remain.
  std::size_t reclaim();
  [[nodiscard]] bool has_staged() const { return staged_.any(); }
  // The writer's view (staged changes included), by table then priority (highest first).
  [[nodiscard]] std::vector<RuleId> rules(std::uint8_t table_id = kAllTables) const;
  // The writer's view of the rules a filter selects (FLOW and AGGREGATE stats), by table
  // then priority.
  [[nodiscard]] std::vector<RuleId> select(const RuleFilter& filter) const;
  [[nodiscard]] std::size_t size() const;

  // ---- Readers: any thread, lock-free. ----

  // Published version: 1 + the number of publish() calls that had staged changes.
  [[nodiscard]] std::uint64_t version() const { return seq_.load() / 2; }
  // A translation's consistency bracket: read_begin() before the first lookup (odd: a
  // publish is under way), read_valid(s) after the last one: true if every lookup in
  // between saw the same published version.
  [[nodiscard]] std::uint64_t read_begin() const { return seq_.load(std::memory_order_seq_cst); }
  [[nodiscard]] bool read_valid(std::uint64_t s) const {
    return (s & 1) == 0 && seq_.load(std::memory_order_seq_cst) == s;
  }
  // TABLE stats (OpenFlow 1.3 7.3.5.4), counted as Open vSwitch does: packets looked up in
  // the table, and of those, packets that matched a rule (a table-miss rule is a rule).
  // Both come from rule credits: a rule's credit() advances its table's matched count, and
  // translation appends miss_counter(t) (a counter-only rule, table_id kAllTables) to
  // XlateResult::rules when table t misses, so the handlers' and revalidators' crediting
  // of cached traffic counts here too.
  struct Counts {
    std::uint64_t lookups = 0, matched = 0;
  };
  [[nodiscard]] Counts counts(std::uint8_t table_id) const;
  [[nodiscard]] const RuleId& miss_counter(std::uint8_t table_id) const {
    return missed_[table_id];
  }
  // The highest-priority rule of table_id matching key (null: table miss); ORs into *wc the
  // bits consulted. Call inside an Epoch::ReadGuard; the Rule lives until the guard ends.
  const Rule* lookup(std::uint8_t table_id, const classifier::FlowKey& key,
                     classifier::FlowKey* wc) const;

 private:
  // The rules of a table by (match, priority): a set of the rules themselves, hashed and
  // compared on their packed matches (no 352-byte Match is unpacked to find a rule).
  struct RuleKey {
    const PackedMatch* packed;
    std::int32_t priority;
  };
  static RuleKey key_of(const RuleKey& k) { return k; }
  static RuleKey key_of(const std::shared_ptr<Rule>& r) { return RuleKey{&r->packed, r->priority}; }
  struct RuleKeyHash {
    using is_transparent = void;
    template <class K>
    std::size_t operator()(const K& k) const noexcept {
      const RuleKey x = key_of(k);
      return x.packed->hash() * 0x9e3779b97f4a7c15ULL + static_cast<std::uint32_t>(x.priority);
    }
  };
  struct RuleKeyEq {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
      const RuleKey x = key_of(a), y = key_of(b);
      return x.priority == y.priority && *x.packed == *y.packed;
    }
  };
  using RuleMap = std::unordered_set<std::shared_ptr<Rule>, RuleKeyHash, RuleKeyEq>;

  // The interned RuleActions, looked up by instructions. It holds strong references: an
  // entry only it holds (use_count() == 1: no rule, live or retired, has it) is dropped by
  // a sweep when the set has doubled since the last one. Only the writer copies these
  // pointers, so once the count is 1 no other thread can raise it. Lookups use an
  // ActionsKey: the instruction list and its hash, computed once per add or modify.
  struct ActionsKey {
    const std::vector<openflow::Instruction>* instructions;
    std::size_t hash;
  };
  struct ActionsHash {
    using is_transparent = void;
    static std::size_t of(const std::vector<openflow::Instruction>& ins) noexcept;
    std::size_t operator()(const ActionsKey& k) const noexcept { return k.hash; }
    std::size_t operator()(const std::shared_ptr<const RuleActions>& a) const noexcept {
      return a->hash;  // computed once: inserting, rehashing and sweeping hash no list
    }
  };
  struct ActionsEq {
    using is_transparent = void;
    static const std::vector<openflow::Instruction>& key(const ActionsKey& k) {
      return *k.instructions;
    }
    static const std::vector<openflow::Instruction>& key(
        const std::shared_ptr<const RuleActions>& a) {
      return a->instructions;
    }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
      return key(a) == key(b);
    }
  };
  using ActionsSet = std::unordered_set<std::shared_ptr<const RuleActions>, ActionsHash, ActionsEq>;

  // Marks table_id as having staged changes for the next publish().
  void stage(std::uint8_t table_id);
  Result<std::shared_ptr<Rule>> make_rule(RuleSpec& spec);
  // The interned RuleActions of ins (made if new); EINVAL/EOPNOTSUPP as add() says.
  Result<std::shared_ptr<const RuleActions>> intern(std::uint8_t table_id,
                                                    std::vector<openflow::Instruction> ins);
  template <class F>
  void for_selected(const RuleFilter& filter, F&& f) const;
  void retire(std::shared_ptr<Rule> r);
  void erase(std::shared_ptr<Rule> r, RemovedReason reason, std::int64_t now_ms);

  Clock clock_;
  std::vector<std::unique_ptr<classifier::Classifier>> cls_;  // kNumTables
  std::vector<RuleMap> rules_;                                // kNumTables, writer only
  ActionsSet actions_;                                        // writer only (see ActionsSet)
  std::size_t actions_sweep_at_ = 64;                         // sweep when this big
  RetireList retired_;                                        // freed after a grace period
  std::vector<RemovedRule> removed_;                          // the removal log
  std::atomic<std::uint64_t> seq_{2};                         // odd while publishing
  std::vector<std::shared_ptr<RuleCounters>> matched_;        // kNumTables (Counts)
  std::vector<RuleId> missed_;                                // kNumTables (Counts)
  // The tables with staged changes, as a set and as a list (publish() visits only those).
  std::bitset<kNumTables> staged_;
  std::vector<std::uint8_t> staged_ids_;
};

}  // namespace vsw::ofproto
