// extract_key(): the flow key of an Ethernet frame, computed in userspace exactly as vsw.ko's
// kernel/flow.c (vsw_flow_extract) computes it.
//
// What? Userspace needs a packet's key when the packet did not come from the kernel with
// one: an OpenFlow PACKET_OUT (the controller sends bytes), tests, tools. The answer must
// be the kernel's key field for field, or translation would decide for a packet the kernel
// sees differently (a SET action the kernel refuses, a rule that matches in userspace and
// not in the datapath).
//
// The rules, mirrored from kernel/flow.c (read it side by side; keep them in step):
//  - A frame shorter than 14 bytes has only in_port. The walk stops at the first header
//    that is truncated or malformed: the fields before it are set, the rest stay zero.
//  - VLAN: see TagMode. An in-frame 802.1Q tag whose 4 bytes are missing leaves
//    eth_type 0x8100 and nothing else. vlan_tci is the tag's TCI with
//    VSW_VLAN_TAG_PRESENT set (the kernel ORs it into the DEI bit's place) and vlan_dei the
//    tag's DEI bit. Only one tag is read: a second tag's type becomes eth_type.
//  - eth_type below 0x0600 (an 802.3 length) becomes 0x05ff.
//  - IPv4: version 4 and IHL >= 5 (else only eth_type); tot_len is not checked, so L4 is
//    read at IHL*4 wherever that falls. MF or an offset sets VSW_FRAG_ANY; an offset also
//    VSW_FRAG_LATER and stops before L4.
//  - IPv6: version 6; label, traffic class, hop limit; then up to 8 extension headers
//    (hop-by-hop, routing, destination options, fragment). A fragment header sets
//    VSW_FRAG_ANY, and with a nonzero offset VSW_FRAG_LATER and ends the walk (its next
//    header is ip_proto). A truncated extension header ends the walk with that header's
//    type as ip_proto. L4 is read unless a later fragment, or all 8 iterations consumed
//    headers.
//  - L4 by ip_proto: TCP (20 bytes, data offset >= 5: ports and the low 12 bits of the
//    offset/flags word), UDP (8 bytes), SCTP (12 bytes: ports), ICMP (2 bytes: type and
//    code; only inside IPv4), ICMPv6 (2 bytes; inside IPv4 too, as the kernel does).
//  - ARP (0x0806): 28 bytes, Ethernet/IPv4 hardware and protocol with lengths 6 and 4
//    (else only eth_type): op, sha, spa, tha, tpa.
//  - skb_mark is 0 (userspace frames carry none); padding is zero.
//
// Reads only inside `frame`; never allocates. Tests: tests/unit/dpif/test_packet_key.cpp
// (hand-built frames of every kind; every truncation of each, under ASan and UBSan).
#pragma once

#include <linux/types.h>
#include <vsw.h>

#include <cstdint>
#include <span>

namespace vsw::dpif {

// Where the kernel found the frame's outer VLAN tag, which decides how it is parsed.
enum class TagMode : std::uint8_t {
  // Received on a netdev port (and what a MISS upcall's KEY describes): the stack moved an
  // outer 802.1Q or 802.1ad tag into skb metadata before vsw saw the frame, and the upcall
  // writes it back into PACKET. Such a tag gives vlan_tci, its encapsulated type eth_type;
  // no second tag is read. (The stack drops tagged frames under 20 bytes before vsw.)
  kReceived,
  // PACKET_EXECUTE (and a PACKET_OUT's frame): the tag stays in the frame, and only an
  // 802.1Q (0x8100) tag is read; an 802.1ad type is eth_type.
  kExecuted,
};

// The key of `frame` (from its Ethernet header) arriving on datapath port in_port.
[[nodiscard]] vsw_flow_key extract_key(std::span<const std::uint8_t> frame, std::uint32_t in_port,
                                       TagMode mode = TagMode::kReceived);

}  // namespace vsw::dpif
