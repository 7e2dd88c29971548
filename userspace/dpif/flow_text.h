// Text form of datapath flows and actions, shared by vsw-dpctl, tests and daemon logs.
//
// The syntax follows ovs-dpctl (docs/dpctl.md is the user's reference):
//
//   in_port(1),skb_mark(0x1/0xff),eth(src=MAC[/MAC],dst=MAC[/MAC]),vlan(vid=5,pcp=0,dei=0),
//   eth_type(0x0800),ipv4(src=10.0.0.1/255.255.255.0,dst=..,proto=6,tos=0,ttl=64,frag=no),
//   ipv6(src=..,dst=..,label=..,proto=..,tclass=..,hlimit=..,frag=..),arp(sip=..,tip=..,
//   op=1,sha=..,tha=..),tcp(src=80,dst=1024),udp(..),sctp(..),icmp(type=8,code=0),
//   icmpv6(..),tcp_flags(0x02/0x02)
//
// Every field is optional and an omitted field is wildcarded; `field=value/mask` gives a
// partial mask (addresses also take a prefix length, `10.0.0.0/8`). Nothing is implied
// except the IP protocol: tcp()/udp()/sctp()/icmp()/icmpv6() match ip proto 6/17/132/1/58
// when proto is otherwise wildcarded. Generic groups print fields that no named group owns:
// ip(proto,tos,ttl,frag) when the EtherType is not matched, l4(src,dst) and
// l4icmp(type,code) when the protocol is not matched exactly, vlan(tci=V/M[,dei=N]) for
// unusual TCI masks and vlan(none) for "untagged". vlan(vid/pcp/dei..) and vlan() require a
// tag (the present bit, 0x1000 of the TCI); dei is the tag's DEI bit (key byte vlan_dei).
//
// Actions: a comma list of `N` (output to port N), `drop` (alone: the empty list),
// `userspace(pid=N[,cookie=0xHEX])`, `set(eth(src=..,dst=..),vlan(vid=..,pcp=..),
// ipv4(src=..,dst=..,tos=..,ttl=..),ipv6(src=..,dst=..,tclass=..,label=..,hlimit=..),
// arp(op=..,sha=..,tha=..,sip=..,tip=..),l4(src=..,dst=..))` (tcp/udp accepted for l4),
// `push_vlan(vid=N[,pcp=N])`, `pop_vlan`.
//
// Round trip: for every Match m, parse_match(format_match(m)) == m (after normalize), and
// the same for actions. Errors are one line quoting the refused text.
#pragma once

#include <string>
#include <string_view>

#include "dpif/flow.h"
#include "dpif/result.h"

namespace vsw::dpif {

[[nodiscard]] Result<Match> parse_match(std::string_view text);
[[nodiscard]] std::string format_match(const Match& match);

[[nodiscard]] Result<Actions> parse_actions(std::string_view text);
[[nodiscard]] std::string format_actions(const Actions& actions);

// "<flow>, packets:3, bytes:294, used:0.4s, actions:2" (used:never if never hit; a
// flags:0x012 part appears when TCP flags were seen).
[[nodiscard]] std::string format_flow_entry(const FlowEntry& entry);
// One JSON object on one line: {"flow":"..","packets":3,"bytes":294,"used_ms":400,
// "tcp_flags":18,"actions":".."} (used_ms is null if never hit).
[[nodiscard]] std::string format_flow_json(const FlowEntry& entry);

// Lower-level helpers, exported for tests and other parsers.
[[nodiscard]] Result<Mac> parse_mac(std::string_view text);
[[nodiscard]] std::string format_mac(const Mac& mac);
[[nodiscard]] std::string json_quote(std::string_view text);

}  // namespace vsw::dpif
