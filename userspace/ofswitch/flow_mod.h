// FLOW_MOD and FLOW/AGGREGATE stats between OpenFlow messages and ofproto's tables.
//
// apply_flow_mod() checks a decoded FLOW_MOD the way OpenFlow 1.3 asks a switch to and
// answers each refusal with the spec's error (the OfError the controller gets in an
// OFPT_ERROR): command, table id, flags and buffer id (FLOW_MOD_FAILED / BAD_REQUEST), the
// match (BAD_MATCH: the codec's own checks, then fields the classifier cannot match), the
// instructions (BAD_INSTRUCTION: duplicates, goto_table not forward, meters) and their
// actions (BAD_ACTION: output ports the datapath cannot have, groups that do not
// exist). Only then does it stage the change in the tables (Tables::apply); a refused
// FLOW_MOD changes nothing. Publishing is the caller's business (Agent batches it).
//
// flow_stats()/aggregate_stats() select rules like a non-strict delete (table, match,
// cookie/mask, out_port, out_group) from the writer's view of the tables.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ofproto/groups.h"
#include "ofproto/tables.h"
#include "openflow/errors.h"
#include "openflow/messages.h"

namespace vsw::ofswitch {

// Highest datapath/OpenFlow port number a port can have (vsw-ctl: ofport 1..1023).
inline constexpr std::uint32_t kMaxPort = 1023;

// The BAD_ACTION checks of an action list (FLOW_MOD instructions, PACKET_OUT): output ports
// the datapath cannot have (TABLE only in a PACKET_OUT), groups not in `groups` (the
// writer's view; null: every group action is refused), experimenter actions.
std::optional<openflow::OfError> check_actions(const std::vector<openflow::Action>& actions,
                                               bool packet_out,
                                               const ofproto::GroupTable* groups = nullptr);

// What the loaded vsw.ko can do for set_field (VSW_DP_F_* of its FEATURES). Without
// VSW_DP_F_SET_EXT the datapath's SET has no IPv6 or ARP fields, so set_field of ipv6_src,
// ipv6_dst, ipv6_flabel, arp_op, arp_spa, arp_tpa, arp_sha or arp_tha is refused with
// BAD_ACTION/BAD_SET_ARGUMENT, the error Open vSwitch gives for a set_field its datapath lacks
// (ofproto-dpif.c check_actions), instead of every megaflow install failing later. (In-place
// VLAN, IPv6 traffic class and hop limit rewrites also need it; they depend on the packet, so
// they are not refused here.)
inline constexpr std::uint32_t kAllDpFeatures = ~0U;
std::optional<openflow::OfError> check_datapath_support(
    const std::vector<openflow::Action>& actions, std::uint32_t dp_features);

// Stages fm in tables; nullopt when done, else the error to send (data not filled). Group
// actions must name a group of `groups` (BAD_ACTION/BAD_OUT_GROUP otherwise); the actions
// must be ones the datapath can perform (check_datapath_support, checked last).
std::optional<openflow::OfError> apply_flow_mod(ofproto::Tables& tables,
                                                const openflow::FlowMod& fm,
                                                const ofproto::GroupTable* groups = nullptr,
                                                std::uint32_t dp_features = kAllDpFeatures);

// Rule durations are measured against now_ms on the tables' clock.
std::vector<openflow::FlowStats> flow_stats(const ofproto::Tables& tables,
                                            const openflow::FlowStatsRequest& req,
                                            std::int64_t now_ms, openflow::OfError* error);
openflow::AggregateStatsReply aggregate_stats(const ofproto::Tables& tables,
                                              const openflow::AggregateStatsRequest& req,
                                              openflow::OfError* error);

}  // namespace vsw::ofswitch
