// Text and JSON forms of messages, for logs, tests and vsw-ofp-print.
//
// Text: one line, "FLOW_MOD xid=0x2: cookie=0x5 ... match=eth_type=0x800,ip_proto=6,tcp_dst=80
// instructions=set_field:10.1.1.1->ipv4_dst,output:2,goto_table:4". Matches and actions read
// like ovs-ofctl's ("output:2", "set_field:V->field", "goto_table:4") but fields keep the
// OpenFlow spec's names (ipv4_src rather than nw_src).
// JSON: one object per message: {"type":"FLOW_MOD","xid":2,...,"match":{"ipv4_src":
// {"value":"10.0.0.0","mask":"255.0.0.0"}},"instructions":[...]}. Field names are those of
// the spec's structures; OXM names are the spec's, lower case.
// Both are generated from the same layouts as the codec (messages.h), so every field shows.
#pragma once

#include <string>

#include "openflow/codec.h"

namespace vsw::openflow {

void append_text(std::string& out, const Message& m);
void append_json(std::string& out, const Message& m);
std::string to_text(const Message& m);
std::string to_json(const Message& m);

// "error type=BAD_REQUEST code=BAD_LEN" and {"error":{"type":"BAD_REQUEST","code":"BAD_LEN"}}
std::string error_text(const OfError& e);
std::string error_json(const OfError& e);

}  // namespace vsw::openflow
