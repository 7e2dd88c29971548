// GROUP_MOD checks and group replies. See group_mod.h.
#include "ofswitch/group_mod.h"

#include <algorithm>
#include <array>

#include "ofswitch/flow_mod.h"

namespace vsw::ofswitch {
namespace {

using openflow::ActionType;
using openflow::ErrType;
using openflow::OfError;

// OpenFlow 1.3.5 7.4.4 ofp_group_mod_failed_code.
constexpr std::uint16_t kGmfcGroupExists = 0, kGmfcInvalidGroup = 1, kGmfcOutOfGroups = 3,
                        kGmfcWatchUnsupported = 6, kGmfcUnknownGroup = 8, kGmfcBadType = 10,
                        kGmfcBadCommand = 11, kGmfcBadWatch = 13;
constexpr std::uint16_t kCmdAdd = 0, kCmdModify = 1, kCmdDelete = 2, kCmdAddOrMod = 0x8000;
constexpr std::uint32_t kGroupMax = 0xffffff00;  // OFPG_MAX
// Open vSwitch maps OpenFlow 1.1+ ports to 16 bits: 0xff00..0xfffffeff are no port.
constexpr std::uint32_t kOfp10PortMax = 0xff00;
// OFPGFC_SELECT_WEIGHT | SELECT_LIVENESS | CHAINING (no CHAINING_CHECKS: loops are cut at
// translation, as in Open vSwitch).
constexpr std::uint32_t kCapabilities = 1 | 2 | 4;

OfError err(ErrType t, std::uint16_t c) {
  return openflow::make_error(t, c);
}

OfError gmf(std::uint16_t c) {
  return err(ErrType::kGroupModFailed, c);
}

bool has_liveness(const openflow::Bucket& b) {
  return b.watch_port != openflow::port::kAny || b.watch_group != openflow::kGroupAny;
}

// What a bucket's actions may be: FLOW_MOD's checks, but any group id (chaining).
std::optional<OfError> check_bucket_actions(const std::vector<openflow::Action>& actions) {
  std::vector<openflow::Action> rest;
  for (const openflow::Action& a : actions)
    if (a.type != ActionType::kGroup) rest.push_back(a);
  return check_actions(rest, /*packet_out=*/false);
}

void fill_duration(openflow::GroupStats& s, std::int64_t age_ms) {
  age_ms = std::max<std::int64_t>(age_ms, 0);
  s.duration_sec = static_cast<std::uint32_t>(age_ms / 1000);
  s.duration_nsec = static_cast<std::uint32_t>(age_ms % 1000) * 1'000'000U;
}

std::uint64_t packets(const ofproto::Rule& r) {
  return r.counters->packets.load(std::memory_order_relaxed);
}
std::uint64_t bytes(const ofproto::Rule& r) {
  return r.counters->bytes.load(std::memory_order_relaxed);
}

// Stages the removal of every rule naming group `id` (Open vSwitch deletes them too, with
// FLOW_REMOVED reason GROUP_DELETE).
void remove_rules_of(ofproto::Tables& tables, std::uint32_t id) {
  ofproto::RuleFilter f;
  f.out_group = id;
  tables.remove(f, nullptr, ofproto::RemovedReason::kGroupDelete);
}

ofproto::Group to_group(const openflow::GroupMod& gm) {
  ofproto::Group g;
  g.id = gm.group_id;
  g.type = static_cast<ofproto::GroupType>(gm.type);
  for (const openflow::Bucket& b : gm.buckets) {
    ofproto::GroupBucket gb;
    gb.weight = b.weight;
    gb.watch_port = b.watch_port;
    gb.watch_group = b.watch_group;
    gb.actions = b.actions;
    g.buckets.push_back(std::move(gb));
  }
  return g;
}

}  // namespace

std::optional<OfError> apply_group_mod(ofproto::Ofproto& of, const openflow::GroupMod& gm) {
  // 1. Decoding: each bucket's actions, then its watch port.
  for (const openflow::Bucket& b : gm.buckets) {
    if (auto e = check_bucket_actions(b.actions)) return e;
    if (b.watch_port >= kOfp10PortMax && b.watch_port < openflow::port::kMax)
      return gmf(kGmfcBadWatch);
  }
  // 2. OpenFlow 1.3.5: a DELETE carries no buckets.
  if (gm.command == kCmdDelete && !gm.buckets.empty()) return gmf(kGmfcInvalidGroup);
  // 3. The type.
  const auto type = static_cast<ofproto::GroupType>(gm.type);
  if (gm.type > static_cast<std::uint8_t>(ofproto::GroupType::kFastFailover))
    return gmf(kGmfcBadType);
  if (type == ofproto::GroupType::kIndirect && gm.command != kCmdDelete && gm.buckets.size() != 1)
    return gmf(kGmfcInvalidGroup);
  // 4. The command.
  if (gm.command != kCmdAdd && gm.command != kCmdModify && gm.command != kCmdDelete &&
      gm.command != kCmdAddOrMod)
    return gmf(kGmfcBadCommand);
  // 5. The buckets against the type.
  for (const openflow::Bucket& b : gm.buckets) {
    if (b.weight && type != ofproto::GroupType::kSelect) return gmf(kGmfcInvalidGroup);
    switch (type) {
      case ofproto::GroupType::kAll:
      case ofproto::GroupType::kIndirect:
        if (has_liveness(b)) return gmf(kGmfcWatchUnsupported);
        break;
      case ofproto::GroupType::kSelect:
        break;
      case ofproto::GroupType::kFastFailover:
        if (!has_liveness(b)) return gmf(kGmfcInvalidGroup);
        break;
    }
  }
  // 6. Against the table.
  ofproto::GroupTable& groups = of.groups();
  if (gm.command == kCmdDelete) {
    if (gm.group_id == openflow::kGroupAll) {
      for (const auto& [id, g] : groups.all()) remove_rules_of(of.tables(), id);
      groups.clear();
    } else if (groups.remove(gm.group_id)) {
      remove_rules_of(of.tables(), gm.group_id);
    }
    return std::nullopt;
  }
  const bool exists = groups.contains(gm.group_id);
  if (gm.command == kCmdModify && !exists) return gmf(kGmfcUnknownGroup);
  if (gm.command == kCmdAdd && exists) return gmf(kGmfcGroupExists);
  const ofproto::Group* old = groups.find(gm.group_id);
  if (!old || old->type != type) {
    const auto n = static_cast<std::uint32_t>(
        std::count_if(groups.all().begin(), groups.all().end(),
                      [&](const auto& kv) { return kv.second->type == type; }));
    if (n >= kMaxGroups) return gmf(kGmfcOutOfGroups);
  }
  if (gm.group_id > kGroupMax) return gmf(kGmfcInvalidGroup);
  if (exists)
    groups.replace(to_group(gm));
  else
    groups.add(to_group(gm));
  return std::nullopt;
}

openflow::GroupStatsReply group_stats(const ofproto::Ofproto& of, std::uint32_t group_id) {
  openflow::GroupStatsReply out;
  const std::int64_t now = of.groups().now_ms();
  for (const auto& [id, g] : of.groups().all()) {
    if (group_id != openflow::kGroupAll && group_id != id) continue;
    openflow::GroupStats s;
    s.group_id = id;
    ofproto::RuleFilter f;
    f.out_group = id;
    s.ref_count = static_cast<std::uint32_t>(of.tables().select(f).size());
    s.packet_count = packets(*g->counter);
    s.byte_count = bytes(*g->counter);
    fill_duration(s, now - g->created_ms);
    for (const ofproto::GroupBucket& b : g->buckets)
      s.bucket_stats.push_back({packets(*b.counter), bytes(*b.counter)});
    out.entries.push_back(std::move(s));
  }
  return out;
}

openflow::GroupDescReply group_desc(const ofproto::GroupTable& groups) {
  openflow::GroupDescReply out;
  for (const auto& [id, g] : groups.all()) {
    openflow::GroupDesc d;
    d.type = static_cast<std::uint8_t>(g->type);
    d.group_id = id;
    for (const ofproto::GroupBucket& b : g->buckets) {
      openflow::Bucket ob;
      ob.weight = b.weight;
      ob.watch_port = b.watch_port;
      ob.watch_group = b.watch_group;
      ob.actions = b.actions;
      d.buckets.push_back(std::move(ob));
    }
    out.entries.push_back(std::move(d));
  }
  return out;
}

openflow::GroupFeaturesReply group_features() {
  openflow::GroupFeaturesReply f;
  f.types = 0xf;  // ALL, SELECT, INDIRECT, FAST_FAILOVER
  f.capabilities = kCapabilities;
  // The actions translation performs, in every type's buckets.
  std::uint32_t actions = 0;
  for (const ActionType a :
       {ActionType::kOutput, ActionType::kPushVlan, ActionType::kPopVlan, ActionType::kGroup,
        ActionType::kSetNwTtl, ActionType::kDecNwTtl, ActionType::kSetField})
    actions |= 1U << static_cast<unsigned>(a);
  for (std::size_t i = 0; i < 4; ++i) {
    f.max_groups[i] = kMaxGroups;
    f.actions[i] = actions;
  }
  return f;
}

}  // namespace vsw::ofswitch
