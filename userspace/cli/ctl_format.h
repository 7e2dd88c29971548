// vsw-ctl's printers: the replies of show, fdb/show, upcall/show, trace and dump-flows as text
// for people, as
// JSON for scripts, and `show` as a Graphviz graph. Pure functions of the reply protos.
#pragma once

#include <google/protobuf/message.h>

#include <iosfwd>
#include <string>

#include "config/mgmt.pb.h"
#include "util/result.h"

namespace vsw::cli::ctl {

// An ovs-vsctl-like tree: daemon options, then per bridge its settings, datapath counters,
// controllers and ports (with their VLAN configuration and attachment state).
void print_show(const config::ShowReply& show, std::ostream& out);
// digraph: one cluster per bridge; bridge, local port, ports (labelled with ofport and
// VLANs, filled with one colour per access VLAN, dashed when detached) and controllers.
void print_show_dot(const config::ShowReply& show, std::ostream& out);
// Protobuf's JSON mapping, proto field names, every field printed, ends with a newline.
[[nodiscard]] Result<std::string> to_json(const google::protobuf::Message& message);
// " port  VLAN  MAC                Age  Interface" table, like ovs-appctl fdb/show.
void print_fdb(const config::FdbReply& fdb, std::ostream& out);
void print_upcalls(const config::UpcallReply& upcalls, std::ostream& out);
// Like ovs-appctl ofproto/trace: "Flow: ...", a "bridge(\"BR\")" section with one entry
// per table ("  0. tcp,tp_dst=80, priority 100, cookie 0x5" then its actions, or
// "No match."), then "Final flow:", "Megaflow:", "Datapath actions:" (and "Drop reason:").
void print_trace(const config::TraceReply& trace, std::ostream& out);
// One line per rule, as ovs-ofctl -O OpenFlow13 dump-flows prints it.
void print_flows(const config::DumpFlowsReply& flows, std::ostream& out);
// Quotes a string for DOT ("..." with \" and \\ escaped).
[[nodiscard]] std::string dot_quote(const std::string& s);

}  // namespace vsw::cli::ctl
