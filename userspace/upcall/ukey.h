// Ukeys: what userspace remembers about each megaflow it installed in the kernel.
//
// What? One Ukey per megaflow (keyed by its dpif::Match): the actions it was installed
// with, the MAC-table tags its translation read, the rules it matched (to credit their
// counters), and the stats last seen in a dump (to compute deltas and idleness).
//
// Why? Handlers use the table to install a megaflow once even when a burst of misses
// for it arrives on several threads; revalidators use it to find which megaflows a
// forwarding change can make wrong (by tag: the flows whose translation looked up a MAC
// that moved, aged out or was learned) without re-translating every flow.
//
// Concurrency. One mutex guards the map and the tag index; a Ukey's mutable fields are
// touched by the revalidator only, except `state`, which the installing handler sets.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dpif/flow.h"
#include "ofproto/ofproto.h"

namespace vsw::upcall {

struct MatchHash {
  std::size_t operator()(const dpif::Match& m) const noexcept;
};

struct Ukey {
  enum class State : std::uint8_t { kInstalling, kInstalled };

  dpif::Match match;
  dpif::Actions actions;
  std::vector<ofproto::MacTag> tags;
  std::vector<ofproto::RuleId> rules;
  std::atomic<State> state{State::kInstalling};
  std::atomic<bool> dirty{false};  // must be re-translated (a tag or rule changed)
  // Revalidator-only fields.
  std::uint64_t packets = 0, bytes = 0;  // stats at the last dump
  std::uint64_t created_ms = 0;          // steady clock
  std::uint64_t seen_dump = 0;           // the last dump pass that found it in the kernel
};
using UkeyPtr = std::shared_ptr<Ukey>;

class UkeyTable {
 public:
  // Adds uk unless a ukey with the same match exists; false then.
  bool insert(const UkeyPtr& uk);
  [[nodiscard]] UkeyPtr find(const dpif::Match& m) const;
  void erase(const dpif::Match& m);
  // Replaces the translation facts of an existing ukey (actions, tags, rules), keeping
  // the tag index in step.
  void update(const UkeyPtr& uk, dpif::Actions actions, std::vector<ofproto::MacTag> tags,
              std::vector<ofproto::RuleId> rules);
  // Marks dirty every ukey that carries one of tags; returns how many.
  std::size_t mark_tagged(const std::vector<ofproto::MacTag>& tags);
  // Marks every ukey dirty.
  void mark_all();
  // Takes the queue of ukeys marked dirty since the last call (their `dirty` flag stays
  // set: the caller clears it when it re-translates them).
  [[nodiscard]] std::vector<UkeyPtr> take_dirty();
  // Queues uk again (it could not be handled yet, e.g. still being installed).
  void requeue(const UkeyPtr& uk);
  [[nodiscard]] std::vector<UkeyPtr> all() const;
  [[nodiscard]] std::size_t size() const;

 private:
  void index(const UkeyPtr& uk);
  void unindex(const Ukey& uk);

  mutable std::mutex mu_;
  std::unordered_map<dpif::Match, UkeyPtr, MatchHash> map_;
  std::unordered_map<ofproto::MacTag, std::unordered_set<Ukey*>, ofproto::MacTagHash> by_tag_;
  std::vector<UkeyPtr> dirty_;
};

}  // namespace vsw::upcall
