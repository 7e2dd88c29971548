// The group table's store and its published snapshots. See groups.h.
#include "ofproto/groups.h"

#include <utility>

namespace vsw::ofproto {

std::shared_ptr<const Rule> make_counter_rule() {
  auto r = std::make_shared<Rule>();
  r->table_id = kAllTables;  // in no table
  r->counters = std::make_shared<RuleCounters>();
  return r;
}

GroupTable::GroupTable(Clock clock) : clock_(clock ? std::move(clock) : Clock(steady_ms)) {
  owned_ = std::make_shared<const GroupSnapshot>();
  published_.store(owned_.get(), std::memory_order_release);
}

GroupTable::~GroupTable() = default;

bool GroupTable::add(Group g) {
  if (groups_.count(g.id)) return false;
  g.created_ms = clock_();
  g.counter = make_counter_rule();
  for (GroupBucket& b : g.buckets) b.counter = make_counter_rule();
  const std::uint32_t id = g.id;
  groups_.emplace(id, std::make_shared<const Group>(std::move(g)));
  return true;
}

bool GroupTable::replace(Group g) {
  auto it = groups_.find(g.id);
  if (it == groups_.end()) return false;
  const Group& old = *it->second;
  g.created_ms = old.created_ms;
  g.counter = old.counter;
  for (std::size_t i = 0; i < g.buckets.size(); ++i)
    g.buckets[i].counter = i < old.buckets.size() ? old.buckets[i].counter : make_counter_rule();
  it->second = std::make_shared<const Group>(std::move(g));
  return true;
}

bool GroupTable::remove(std::uint32_t id) {
  return groups_.erase(id) != 0;
}

void GroupTable::clear() {
  groups_.clear();
}

const Group* GroupTable::find(std::uint32_t id) const {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second.get();
}

void GroupTable::publish() {
  auto next = std::make_shared<GroupSnapshot>();
  next->groups_.reserve(groups_.size());
  for (const auto& [id, g] : groups_) next->groups_.emplace(id, g);
  std::shared_ptr<const GroupSnapshot> snap = std::move(next);
  published_.store(snap.get(), std::memory_order_release);
  // The old snapshot (and through it any group no longer in the table) lives until no
  // translation that loaded it can still run.
  retired_.retire(std::move(owned_));
  retired_.seal();
  retired_.reclaim();
  owned_ = std::move(snap);
}

void GroupTable::reclaim() {
  retired_.reclaim();
}

}  // namespace vsw::ofproto
