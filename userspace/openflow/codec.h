// Message-level codec: bytes <-> Message, framing helpers, multipart splitting.
//
// decode() takes exactly one message (header + body) and never trusts a length: every
// refusal is the OfError a switch would send back, with up to 64 bytes of the message in its
// data. encode() produces what decode() accepts. encode_multipart_reply() splits a list reply
// into as many OFPT_MULTIPART_REPLY messages as needed to stay within 65535 bytes each, all
// but the last flagged OFPMPF_REPLY_MORE.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "openflow/messages.h"

namespace vsw::openflow {

inline constexpr size_t kHeaderLen = 8;
inline constexpr size_t kMaxMessageLen = 65535;

struct Header {
  uint8_t version = 0;
  uint8_t type = 0;
  uint16_t length = 0;
  uint32_t xid = 0;
};
// Reads a header from the first 8 bytes; nullopt if fewer are given.
std::optional<Header> peek_header(ByteSpan b);

[[nodiscard]] Result<Message> decode(ByteSpan msg);
void encode_into(Bytes& out, const Message& m);
[[nodiscard]] Bytes encode(const Message& m);

// Splits `reply` (a list body; other bodies give a single message) into messages of at most
// `max_len` bytes.
[[nodiscard]] std::vector<Bytes> encode_multipart_reply(uint32_t xid, const MpReplyBody& reply,
                                                        size_t max_len = kMaxMessageLen);

// The OFPT_ERROR reply to a refused message (data = up to 64 bytes of it).
Message error_reply(const OfError& e, uint32_t xid);

// HELLO helpers: our HELLO advertises 1.3 only; negotiate() picks 1.3 or refuses with
// HELLO_FAILED/INCOMPATIBLE, following spec 6.3.1 (bitmap if present, else header version).
Message make_hello(uint32_t xid);
[[nodiscard]] Result<uint8_t> negotiate_version(const Message& peer_hello);

}  // namespace vsw::openflow
