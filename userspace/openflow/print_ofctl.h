// Open vSwitch's text forms of flows: what `ovs-ofctl -O OpenFlow13 dump-flows` prints, so
// that vsw's own views (vsw-ctl dump-flows, vsw-ctl trace) read the same to an OVS user.
//
// Matches use OVS's field names and shorthands, in OVS's order: "priority=100,tcp,in_port=1,
// dl_vlan=10,dl_src=..,nw_src=10.0.0.0/8,tp_dst=80" (priority left out when it is the default
// 32768; ip/tcp/udp/sctp/icmp/arp and their IPv6 forms for eth_type plus ip_proto; IPv4 and
// IPv6 prefix masks as /N, other masks written out; IPv6 addresses in RFC 5952 form).
// Actions: "output:2", "NORMAL", "CONTROLLER:128", "LOCAL", "set_field:10.0.0.1->ip_dst",
// "push_vlan:0x8100", "dec_ttl", "mod_nw_ttl:9", "write_actions(output:3)",
// "write_metadata:0x1/0xff", "goto_table:1"; no instructions at all is "drop".
// A flow stats entry: " cookie=0x0, duration=1.234s, table=0, n_packets=0, n_bytes=0,
// priority=100,tcp,tp_dst=80 actions=drop".
//
// Checked against Debian's ovs-ofctl (tests/unit/openflow/ofctl_text_test.cpp prints FLOW
// stats replies with `ovs-ofctl ofp-print` and compares line by line).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "openflow/actions.h"
#include "openflow/messages.h"
#include "openflow/oxm.h"

namespace vsw::openflow {

inline constexpr std::int32_t kDefaultPriority = 0x8000;

// "LOCAL", "CONTROLLER", "IN_PORT", "ANY", ... or the number.
std::string ofctl_port(std::uint32_t port);
// RFC 5952: "fd00::1".
std::string ipv6_text(const std::uint8_t* addr16);
// The match, with "priority=N," first unless priority is kDefaultPriority (pass it to omit).
std::string ofctl_match(const Match& m, std::int32_t priority = kDefaultPriority);
std::string ofctl_action(const Action& a);
// Comma-separated; empty list: "drop".
std::string ofctl_actions(const std::vector<Action>& acts);
// In OpenFlow's execution order (meter, apply, clear, write, write_metadata, goto), as OVS
// prints them; no instructions: "drop".
std::string ofctl_instructions(const std::vector<Instruction>& ins);
// "1.234s"
std::string ofctl_duration(std::uint32_t sec, std::uint32_t nsec);
// One dump-flows line, with its leading space, without a newline.
std::string ofctl_flow_stats(const FlowStats& fs);

}  // namespace vsw::openflow
