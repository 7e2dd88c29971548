// Tracing: what the bridge would do with a described packet, table by table (vsw-ctl trace,
// like Open vSwitch's ofproto/trace).
//
// What? trace() runs a packet key through the same translation the upcall handlers use
// (Ofproto::translate) with an XlateObserver attached, and returns what it saw: for each
// table the rule that matched (table, cookie, priority, match and instructions in
// ovs-ofctl's text form) or the table miss, NORMAL's decisions, the action set run at the
// end, the packet as the pipeline left it, the datapath actions and the megaflow (key and
// mask) the handler would install for it.
//
// Read-only. A trace sends nothing and changes nothing: it translates with may_learn =
// false (NORMAL looks the MAC table up but learns nothing), credits no rule counters and
// installs no flow. Its megaflow is the one a real translation of the same packet installs
// (the megaflow does not depend on learning; tests/unit/ofproto/test_trace.cpp checks it).
//
// The packet. parse_trace_flow() takes vsw-dpctl's flow syntax (dpif/flow_text.h) where
// every value describes the packet (fields left out are zero), plus `in_port=PORT` naming
// the OpenFlow port by number, by name or as LOCAL (dpctl's `in_port(N)`, a datapath port
// number, works too). The EtherType may be left out when the fields say it: ipv4(...) or
// tcp()/udp()/... give 0x0800, ipv6(...) 0x86dd, arp(...) 0x0806.
//
// Threads: trace() may run on any thread, like Ofproto::translate (vswd calls it on the
// main thread while handlers translate).
#pragma once

#include <linux/types.h>
#include <vsw.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ofproto/ofproto.h"
#include "ofproto/ports.h"
#include "ofproto/xlate.h"
#include "util/result.h"

namespace vsw::ofproto {

// One table visited.
struct TraceStep {
  std::uint8_t table_id = 0;
  bool matched = false;  // false: table miss (the pipeline ends, the packet is dropped)
  // The matched rule (when matched):
  std::uint64_t cookie = 0;
  std::int32_t priority = 0;
  std::string match;               // ovs-ofctl form without priority, "" for a catch-all
  std::string instructions;        // ovs-ofctl form, e.g. "output:2,goto_table:1"
  std::vector<std::string> notes;  // what happened inside, e.g. NORMAL's decision
};

struct Trace {
  std::string flow;              // the packet, in vsw-dpctl's syntax
  std::vector<TraceStep> steps;  // in pipeline order
  bool action_set_ran = false;   // the pipeline ended on a rule without goto_table
  std::string action_set;        // what ran then (ovs-ofctl form; "drop" when empty)
  std::vector<std::string> action_set_notes;
  std::string final_flow;  // the packet after the pipeline's rewrites; "" when unchanged
  XlateResult result;      // datapath actions, megaflow, drop reason, stable
};

// The packet described by `text` (see above) arriving on one of `ports`. EINVAL with a
// one-line message quoting the refused text; ENOENT for a port the bridge does not have.
[[nodiscard]] Result<vsw_flow_key> parse_trace_flow(std::string_view text,
                                                    std::span<const PortInfo> ports);

// Traces key through of's pipeline (read-only, see above).
[[nodiscard]] Trace trace(Ofproto& of, const vsw_flow_key& key);

// The fields a packet of key's kind has (Ethernet, VLAN, its L3 and L4 headers), in
// vsw-dpctl's syntax: how a trace names the packet it ran.
[[nodiscard]] std::string packet_text(const vsw_flow_key& key);

}  // namespace vsw::ofproto
