// Translation: one packet key through the OpenFlow pipeline to datapath actions and the
// megaflow they are valid for.
//
// What? xlate() starts at table 0 with the packet as the kernel extracted it and walks the
// tables: each lookup's rule runs its instructions in OpenFlow's order (apply_actions,
// clear_actions, write_actions, write_metadata, goto_table); a table miss drops; at the
// end of the pipeline the action set runs (in the action set's fixed order). Actions act
// on a logical copy of the packet (`flow`); datapath actions are emitted lazily: before
// each output, the differences between the logical packet and what the datapath packet
// looks like so far are committed as one SET action and VLAN pop/push, then the OUTPUT.
//
// Supported actions: output to a port, IN_PORT, ALL, FLOOD, LOCAL, NORMAL, CONTROLLER (a
// USERSPACE action whose cookie carries the PACKET_IN's reason, table, rule cookie, max_len
// and metadata, controller_cookie.h); push_vlan
// (0x8100, on an untagged packet) and pop_vlan; set_field on eth_src, eth_dst, ipv4_src,
// ipv4_dst, ip_dscp, ip_ecn (IPv4), tcp/udp ports, vlan_vid, vlan_pcp; set_nw_ttl and
// dec_nw_ttl (IPv4; a packet whose TTL runs out goes no further, but to the controllers
// with reason INVALID_TTL). A set_field whose
// header the packet lacks does nothing (as in Open vSwitch). group (groups.h): ALL and
// INDIRECT run every bucket, SELECT the live bucket of highest weighted score for a hash of
// the flow (Open vSwitch's default selection: rendezvous hashing of eth_src, eth_dst,
// eth_type, vlan_tci, IPv4/IPv6 addresses, ip_proto and TCP/UDP/SCTP ports, all of which
// go into the megaflow; the choice is stable while the bucket set is), FAST_FAILOVER the
// first live bucket (watch_port up, or watch_group with a live bucket). Each bucket runs on
// a copy of the packet as it was before the group, and the actions after the group see
// that packet again (the bucket's rewrites are undone in the datapath where it committed
// them). A group that does not exist ends that action list (as in Open vSwitch); chains
// deeper than 32 groups drop. Liveness reads only the port table and groups, no key bits:
// a port or group change revalidates every megaflow. Anything else (queues, MPLS, ...)
// drops the packet, with a reason.
// output:TABLE is valid only in a PACKET_OUT's action list (xlate_actions()).
//
// The megaflow. Every decision adds the key bits it read to the mask: each lookup's
// classifier wildcards, in_port (always), eth_type/ip_proto where a rewrite depends on the
// header being there, ip_ttl for dec_nw_ttl, vlan_tci for any VLAN action, and NORMAL's
// bits (normal.h). Bits read after a rewrite are over-approximated by the same bits of the
// received key, which only narrows the megaflow. So every key that agrees with the key on
// the mask translates to the same actions (given the same tables, ports and MAC table),
// which is the condition for installing it.
//
// Watching. XlateContext::observer (null for handlers and revalidators) sees each table's
// lookup, NORMAL's decision, the action set and the final packet: that is how `vsw-ctl
// trace` reports a translation (trace.h) without a second implementation of the pipeline.
#pragma once

#include <linux/types.h>
#include <vsw.h>

#include <optional>
#include <string>
#include <vector>

#include "dpif/flow.h"
#include "ofproto/groups.h"
#include "ofproto/mac_learning.h"
#include "ofproto/ports.h"
#include "ofproto/tables.h"

namespace vsw::ofproto {

struct XlateResult {
  dpif::Actions actions;     // datapath actions (empty = drop)
  dpif::Match megaflow;      // key & consulted mask (normalized)
  std::vector<MacTag> tags;  // MAC-table entries the decision read (hit or absent)
  // Rules matched, in pipeline order, for stats attribution; also counter-only rules
  // (table_id kAllTables): groups' and buckets' (groups.h) and a missed table's
  // (Tables::miss_counter). Credit them all alike.
  std::vector<RuleId> rules;
  std::optional<MacLearnRef> learns;  // what NORMAL learns from these packets (first NORMAL)
  std::string reason;  // why the packet is dropped, when not simply by a rule's choice
  bool stable = true;  // false: the tables kept changing; execute, do not install
};

struct NormalDecision;

// Watches one translation step by step (vsw-ctl trace, ofproto/trace.h). Null on the fast
// path: each hook costs one branch when nobody watches. Called on the translating thread,
// inside the translation's Epoch::ReadGuard: a Rule* is valid only during the call. A
// translation retried after a table publish starts over with begin().
class XlateObserver {
 public:
  virtual ~XlateObserver() = default;
  virtual void begin(const vsw_flow_key& key) = 0;
  // The lookup in table_id found rule (null: a table miss, which ends the pipeline).
  virtual void table(std::uint8_t table_id, const Rule* rule) = 0;
  // At the end of the pipeline: the action set about to run, in execution order.
  virtual void action_set(const std::vector<openflow::Action>& actions) = 0;
  // output:NORMAL decided (outputs, VLAN, drop reason).
  virtual void normal(const NormalDecision& decision) = 0;
  // The packet as the pipeline left it (after every rewrite).
  virtual void end(const vsw_flow_key& flow) = 0;
};

// What one translation reads and may change.
struct XlateContext {
  const Tables& tables;
  const PortTable& ports;
  MacLearning& macs;
  bool may_learn = true;
  std::vector<MacTag>* changed = nullptr;  // MAC entries learned new/moved/evicted
  XlateObserver* observer = nullptr;       // null except when tracing
  const GroupSnapshot* groups = nullptr;   // the published group table (null: no groups)
};

// One pass over the pipeline. Call inside a classifier::Epoch::ReadGuard, bracketed by
// Tables::read_begin()/read_valid() (Ofproto::translate does both).
XlateResult xlate(const XlateContext& ctx, const vsw_flow_key& key);

// A PACKET_OUT: runs `actions` (an apply-actions list) on the packet instead of starting
// at table 0. output:TABLE (refused anywhere else) runs the pipeline from table 0, with a
// fresh action set, on the packet as the actions before it left it; later actions see the
// packet as the pipeline left it. key.in_port may be kNoInPort (in_port CONTROLLER or ANY:
// IN_PORT outputs nothing, FLOOD and ALL every up port, NORMAL treats the packet as from a
// trunk carrying every VLAN and learns nothing). The megaflow is computed but means
// nothing: a packet-out installs no flow. Same calling rules as xlate().
XlateResult xlate_actions(const XlateContext& ctx, const vsw_flow_key& key,
                          const std::vector<openflow::Action>& actions);

}  // namespace vsw::ofproto
