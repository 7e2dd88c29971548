// GROUP_MOD and the GROUP, GROUP_DESC and GROUP_FEATURES replies between OpenFlow messages
// and ofproto's group table (ofproto/groups.h).
//
// apply_group_mod() checks a decoded GROUP_MOD in Open vSwitch 3.1's order (lib/ofp-group.c
// decoding, then ofproto.c) and answers a refusal with the spec's error; a refused
// GROUP_MOD changes nothing:
//  1. per bucket: its actions as FLOW_MOD checks them (BAD_ACTION/...; a group action in a
//     bucket may name any group: chaining is allowed and checked at translation), then a
//     watch_port that is no port (0xff00..0xfffffeff): BAD_WATCH;
//  2. DELETE with buckets: INVALID_GROUP (OpenFlow 1.3.5);
//  3. type: INDIRECT without exactly one bucket (add/modify): INVALID_GROUP; type > 3:
//     BAD_TYPE;
//  4. command not ADD, MODIFY, DELETE or Open vSwitch's ADD_OR_MOD (0x8000): BAD_COMMAND;
//  5. per bucket: a weight outside SELECT: INVALID_GROUP; a watch in ALL or INDIRECT:
//     WATCH_UNSUPPORTED; FAST_FAILOVER without a watch: INVALID_GROUP;
//  6. ADD of an existing id: GROUP_EXISTS; more than kMaxGroups of the type: OUT_OF_GROUPS;
//     an id above OFPG_MAX (0xffffff00): INVALID_GROUP. MODIFY of a missing id:
//     UNKNOWN_GROUP. DELETE of a missing id: nothing, no error.
// Deleting a group (one, or OFPG_ALL) stages the removal of every rule whose apply or write
// actions name it, as Open vSwitch does. The caller publishes the groups, then the tables.
#pragma once

#include <cstdint>
#include <optional>

#include "ofproto/ofproto.h"
#include "openflow/errors.h"
#include "openflow/messages.h"

namespace vsw::ofswitch {

// Groups of each type a bridge holds at most (GROUP_FEATURES max_groups).
inline constexpr std::uint32_t kMaxGroups = 65536;

// nullopt when applied (groups staged in of.groups(), rule removals in of.tables()), else
// the error to send (data not filled).
std::optional<openflow::OfError> apply_group_mod(ofproto::Ofproto& of,
                                                 const openflow::GroupMod& gm);

// GROUP stats of one group or OFPG_ALL (a missing group: no entry, as in Open vSwitch):
// ref_count is the number of rules naming the group, counters include kernel-cached
// traffic (credited by the revalidators), durations against the group table's clock.
openflow::GroupStatsReply group_stats(const ofproto::Ofproto& of, std::uint32_t group_id);
openflow::GroupDescReply group_desc(const ofproto::GroupTable& groups);
openflow::GroupFeaturesReply group_features();

}  // namespace vsw::ofswitch
