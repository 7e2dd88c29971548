// ControllerCookie: what a datapath USERSPACE action carries for output:CONTROLLER, so that
// the ACTION upcall it produces can become an OpenFlow PACKET_IN without translating the
// packet again.
//
// What? Translation turns output:CONTROLLER[:max_len] into USERSPACE(pid 0, cookie). Every
// packet that runs that action (a missed packet executed by a handler, or any later packet
// of the installed megaflow, from the kernel alone) comes back as a VSW_PACKET_CMD_ACTION
// upcall whose USERDATA is the cookie. The cookie holds everything the PACKET_IN needs that
// the packet and its ingress port do not: the reason, the table and cookie of the rule that
// sent it, max_len and the pipeline's metadata at that point (registers are not reported).
//
// Encoding (this is the only place that knows it), 16 or 24 bytes, big-endian:
//   0  version (kControllerCookieVersion = 1; anything else is refused)
//   1  reason: 0 NO_MATCH, 1 ACTION, 2 INVALID_TTL
//   2  table id
//   3  flags: bit 0 = the metadata word follows; other bits must be 0
//   4  max_len (u16)
//   6  2 bytes, must be 0
//   8  the rule's cookie (u64)
//  16  metadata (u64), only when flag bit 0 is set (metadata was non-zero)
// Well below VSW_MAX_COOKIE (64). A megaflow's actions, cookie included, are a function of
// the megaflow's key: the metadata is derived from the rules the consulted bits selected.
//
// Tests: tests/unit/ofproto/test_controller_cookie.cpp (round trip, every malformed form).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "util/result.h"

namespace vsw::ofproto {

// OpenFlow 1.3 ofp_packet_in_reason.
enum class PacketInReason : std::uint8_t { kNoMatch = 0, kAction = 1, kInvalidTtl = 2 };

inline constexpr std::uint8_t kControllerCookieVersion = 1;

struct ControllerCookie {
  PacketInReason reason = PacketInReason::kAction;
  std::uint8_t table_id = 0;
  std::uint16_t max_len = 0xffff;  // OFPCML_NO_BUFFER: the whole packet
  std::uint64_t rule_cookie = 0;
  std::uint64_t metadata = 0;
  friend bool operator==(const ControllerCookie&, const ControllerCookie&) = default;
};

// A packet on its way to the controllers: an ACTION upcall with its decoded cookie, copied
// off the handler's receive buffer (upcall/packet_in_queue.h carries it to the bridge).
struct ControllerPacket {
  ControllerCookie cookie;
  std::uint32_t in_port = 0;  // datapath port number (0: the bridge's local port)
  std::vector<std::uint8_t> packet;
};

[[nodiscard]] std::vector<std::uint8_t> encode_controller_cookie(const ControllerCookie& c);
// EBADMSG with a sentence saying what is wrong: wrong length or version, unknown reason,
// unknown flag bits, non-zero reserved bytes.
[[nodiscard]] Result<ControllerCookie> decode_controller_cookie(std::span<const std::uint8_t> in);

}  // namespace vsw::ofproto
