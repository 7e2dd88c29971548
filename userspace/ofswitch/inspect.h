// The management replies that look inside a bridge's OpenFlow switch: `vsw-ctl trace`
// (ofproto/trace.h) and `vsw-ctl dump-flows` (the rules with their counters, selected and
// filled exactly as a FLOW stats request for every table, flow_mod.h, and printed in
// ovs-ofctl's form, openflow/print_ofctl.h).
//
// A library of its own (vsw_ofswitch_inspect) so that vsw_ofswitch stays free of the
// management protocol; vswd's Bridge and the host tests of vsw-ctl use it.
//
// Threads: the OpenFlow writer's thread (the daemon's main thread): dump_flows_reply() reads
// the writer's view of the tables; trace_reply() translates like a handler, read-only.
#pragma once

#include <cstdint>
#include <string_view>

#include "config/mgmt.pb.h"
#include "ofproto/ofproto.h"
#include "util/result.h"

namespace vsw::ofswitch {

// Traces the packet `flow` describes through of (read-only) into out (all but `bridge`).
// EINVAL for a malformed flow, ENOENT for an in_port the bridge does not have.
[[nodiscard]] Result<void> trace_reply(ofproto::Ofproto& of, std::string_view flow,
                                       config::TraceReply& out);

// Every rule of every table, by table then priority, with counters and durations measured
// against now_ms (the tables' clock).
void dump_flows_reply(const ofproto::Tables& tables, std::int64_t now_ms,
                      config::DumpFlowsReply& out);

}  // namespace vsw::ofswitch
