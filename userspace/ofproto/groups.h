// The bridge's OpenFlow 1.3 group table: groups by id, each a type and a list of buckets.
//
// What? A Group is ALL (every bucket runs, each on its own copy of the packet), SELECT (one
// live bucket chosen by a hash of the flow, weighted), INDIRECT (its one bucket) or
// FAST_FAILOVER (the first live bucket). A bucket has a weight (SELECT), a watch_port and
// watch_group (liveness) and an action list. GROUP_MOD's checks and errors live in
// ofswitch/group_mod.h; this is only the store. Translation (xlate.h) runs the buckets.
//
// Versions. The writer (the tables' writer thread) changes its own view (add, replace,
// remove) and publish() makes the whole table visible to translations at once as an
// immutable GroupSnapshot behind an atomic pointer, like PortTable: a translation loads it
// once inside its classifier::Epoch::ReadGuard and sees one version for its whole run.
// Old snapshots and groups are freed by a later publish() or reclaim() once no reader can
// hold them (RetireList). A group is never changed in place: a modify is a new Group.
//
// Counters. Each group and each bucket carries a Rule that belongs to no table
// (table_id kAllTables, empty match) used only as a counter: translation appends the
// group's and the chosen buckets' counter rules to XlateResult::rules, so the revalidators
// credit them with the datapath's flow stats exactly like the rules a packet matched, and
// GROUP stats include traffic served from the kernel cache. A modify keeps the group's
// counter and its buckets' counters by position (a bucket's counter follows its index).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "ofproto/clock.h"
#include "ofproto/retire.h"
#include "ofproto/tables.h"
#include "openflow/actions.h"

namespace vsw::ofproto {

enum class GroupType : std::uint8_t { kAll = 0, kSelect = 1, kIndirect = 2, kFastFailover = 3 };

struct GroupBucket {
  std::uint16_t weight = 0;
  std::uint32_t watch_port = openflow::port::kAny;
  std::uint32_t watch_group = openflow::kGroupAny;
  std::vector<openflow::Action> actions;
  std::shared_ptr<const Rule> counter;  // packets/bytes through this bucket
};

struct Group {
  std::uint32_t id = 0;
  GroupType type = GroupType::kAll;
  std::vector<GroupBucket> buckets;
  std::shared_ptr<const Rule> counter;  // packets/bytes through the group
  std::int64_t created_ms = 0;          // the table's clock at add (kept by modify)
};
using GroupPtr = std::shared_ptr<const Group>;

// What translation reads: an immutable id -> group map.
class GroupSnapshot {
 public:
  [[nodiscard]] const Group* find(std::uint32_t id) const {
    auto it = groups_.find(id);
    return it == groups_.end() ? nullptr : it->second.get();
  }
  [[nodiscard]] std::size_t size() const { return groups_.size(); }

 private:
  friend class GroupTable;
  std::unordered_map<std::uint32_t, GroupPtr> groups_;
};

// A counter entry for a group or bucket (see "Counters" above).
std::shared_ptr<const Rule> make_counter_rule();

class GroupTable {
 public:
  explicit GroupTable(Clock clock = {});
  ~GroupTable();
  GroupTable(const GroupTable&) = delete;
  GroupTable& operator=(const GroupTable&) = delete;

  // ---- Writer thread. Changes are invisible to translations until publish(). ----

  // Adds a new group (created_ms and counters filled in here); false if the id exists.
  bool add(Group g);
  // Replaces an existing group, keeping its creation time and counters (buckets' by
  // position); false if there is none.
  bool replace(Group g);
  // Removes one group (returns whether it existed), or every group (OFPG_ALL).
  bool remove(std::uint32_t id);
  void clear();
  // Makes the writer's view visible to translations.
  void publish();
  // Frees old snapshots no translation can still see.
  void reclaim();

  // The writer's view, by id.
  [[nodiscard]] const Group* find(std::uint32_t id) const;
  [[nodiscard]] bool contains(std::uint32_t id) const { return groups_.count(id) != 0; }
  [[nodiscard]] const std::map<std::uint32_t, GroupPtr>& all() const { return groups_; }
  [[nodiscard]] std::size_t size() const { return groups_.size(); }
  [[nodiscard]] std::int64_t now_ms() const { return clock_(); }

  // ---- Any thread, inside a classifier::Epoch::ReadGuard. ----
  [[nodiscard]] const GroupSnapshot* snapshot() const {
    return published_.load(std::memory_order_acquire);
  }

 private:
  Clock clock_;
  std::map<std::uint32_t, GroupPtr> groups_;    // writer's view
  std::shared_ptr<const GroupSnapshot> owned_;  // what published_ points to
  std::atomic<const GroupSnapshot*> published_{nullptr};
  RetireList retired_;
};

}  // namespace vsw::ofproto
