// vsw-ctl's printers: the replies of show, fdb/show and upcall/show as text for people, as
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
// Quotes a string for DOT ("..." with \" and \\ escaped).
[[nodiscard]] std::string dot_quote(const std::string& s);

}  // namespace vsw::cli::ctl
