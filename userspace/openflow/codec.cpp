// Decoder and encoder visitors over the layouts in messages.h, and the message-level codec.
#include "openflow/codec.h"

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

namespace vsw::openflow {
namespace {

template <class E>
constexpr bool kSelfLen = requires {
  E::kLenOffset;
};
template <class E>
constexpr bool excludes_pad() {
  if constexpr (requires { E::kLenExcludesPad; }) return E::kLenExcludesPad;
  return false;
}
template <class E>
constexpr ErrType elem_err_type() {
  if constexpr (requires { E::kErrType; }) return E::kErrType;
  return ErrType::kBadRequest;
}
template <class E>
constexpr uint16_t elem_err_code() {
  if constexpr (requires { E::kErrCode; }) return E::kErrCode;
  return code::kBadLen;
}

template <class E>
void decode_element(Reader& r, E& e);
template <class MP>
void decode_multipart(Reader& r, MP& mp);
template <class MP>
void encode_multipart(Writer& w, const MP& mp);

struct Dec {
  Reader& r;
  void operator()(const char*, uint8_t& x) { x = r.u8(); }
  void operator()(const char*, uint16_t& x) { x = r.u16(); }
  void operator()(const char*, uint32_t& x) { x = r.u32(); }
  void operator()(const char*, uint64_t& x) { x = r.u64(); }
  void operator()(const char*, Mac& m) {
    ByteSpan b = r.bytes(6);
    if (b.size() == 6) std::copy(b.begin(), b.end(), m.begin());
  }
  template <size_t N>
  void operator()(const char*, std::array<uint32_t, N>& a) {
    for (auto& x : a) x = r.u32();
  }
  void pad(size_t n) { r.skip(n); }
  template <class MP>
  void multipart(MP& mp) {
    decode_multipart(r, mp);
  }
  void len16() { r.skip(2); }
  void check(bool ok, ErrType t, uint16_t c) {
    if (!ok) r.fail(t, c);
  }
  void str(const char*, std::string& s, size_t width) {
    // NUL-terminated on the wire; a name filling the whole field loses its last byte, as
    // the encoder always writes the terminator.
    ByteSpan b = r.bytes(width);
    if (!b.empty()) b = b.first(width - 1);
    auto end = std::find(b.begin(), b.end(), uint8_t(0));
    s.assign(b.begin(), end);
  }
  void operator()(const char*, Match& m) { decode_match(r, m); }
  void operator()(const char*, std::vector<Action>& a) {
    Reader s = r.sub(r.left(), ErrType::kBadAction, code::kActBadLen);
    decode_actions(s, a);
    r.absorb(s);
  }
  void operator()(const char*, std::vector<Instruction>& in) {
    Reader s = r.sub(r.left(), ErrType::kBadInstruction, code::kInstBadLen);
    decode_instructions(s, in);
    r.absorb(s);
  }
  void prefixed_actions(const char*, std::vector<Action>& a) {
    uint16_t len = r.u16();
    r.skip(6);
    if (!r.need(len)) return;
    Reader s = r.sub(len, ErrType::kBadAction, code::kActBadLen);
    decode_actions(s, a);
    r.absorb(s);
  }
  void operator()(const char*, Bytes& b) {
    ByteSpan s = r.rest();
    b.assign(s.begin(), s.end());
  }
  void operator()(const char*, std::vector<uint32_t>& v) {
    v.clear();
    while (r.left() >= 4) v.push_back(r.u32());
    if (r.left()) r.fail_short();
  }
  template <class E>
  void operator()(const char*, std::vector<E>& list) {
    list.clear();
    if constexpr (requires { E::kMinWireLen; }) list.reserve(r.left() / E::kMinWireLen);
    while (r.left() && !r.failed()) {
      list.emplace_back();
      decode_element(r, list.back());
    }
  }
  template <class T>
  requires std::is_class_v<T>
  void operator()(const char*, T& t) { T::fields(t, *this); }
};

template <class E>
void decode_element(Reader& r, E& e) {
  if constexpr (kSelfLen<E>) {
    constexpr ErrType et = elem_err_type<E>();
    constexpr uint16_t ec = elem_err_code<E>();
    auto len = r.peek16(E::kLenOffset);
    if (!len || *len < E::kLenOffset + 2 || *len > r.left()) return r.fail(et, ec);
    size_t padded = excludes_pad<E>() ? round8(*len) : *len;
    if (padded > r.left()) return r.fail(et, ec);
    Reader sub = r.sub(*len, et, ec);
    r.skip(padded - *len);
    Dec d{sub};
    E::fields(e, d);
    if (!sub.failed() && sub.left()) sub.fail(et, ec);
    r.absorb(sub);
  } else {
    Dec d{r};
    E::fields(e, d);
  }
}

template <class E>
void encode_element(Writer& w, const E& e);

struct Enc {
  Writer& w;
  size_t len_pos = 0;
  void operator()(const char*, uint8_t x) { w.u8(x); }
  void operator()(const char*, uint16_t x) { w.u16(x); }
  void operator()(const char*, uint32_t x) { w.u32(x); }
  void operator()(const char*, uint64_t x) { w.u64(x); }
  void operator()(const char*, const Mac& m) { w.bytes(m); }
  template <size_t N>
  void operator()(const char*, const std::array<uint32_t, N>& a) {
    for (auto x : a) w.u32(x);
  }
  void pad(size_t n) { w.pad(n); }
  template <class MP>
  void multipart(const MP& mp) {
    encode_multipart(w, mp);
  }
  void len16() {
    len_pos = w.size();
    w.u16(0);
  }
  void check(bool, ErrType, uint16_t) {}
  void str(const char*, const std::string& s, size_t width) { w.str(s, width); }
  void operator()(const char*, const Match& m) { encode_match(w, m); }
  void operator()(const char*, const std::vector<Action>& a) { encode_actions(w, a); }
  void operator()(const char*, const std::vector<Instruction>& in) { encode_instructions(w, in); }
  void prefixed_actions(const char*, const std::vector<Action>& a) {
    size_t pos = w.size();
    w.u16(0);
    w.pad(6);
    encode_actions(w, a);
    w.patch16(pos, uint16_t(w.size() - pos - 8));
  }
  void operator()(const char*, const Bytes& b) { w.bytes(b); }
  void operator()(const char*, const std::vector<uint32_t>& v) {
    for (auto x : v) w.u32(x);
  }
  template <class E>
  void operator()(const char*, const std::vector<E>& list) {
    for (const auto& e : list) encode_element(w, e);
  }
  template <class T>
  requires std::is_class_v<T>
  void operator()(const char*, const T& t) { T::fields(t, *this); }
};

template <class E>
void encode_element(Writer& w, const E& e) {
  size_t start = w.size();
  Enc enc{w};
  E::fields(e, enc);
  if constexpr (kSelfLen<E>) {
    enc.w.patch16(enc.len_pos, uint16_t(w.size() - start));
    if constexpr (excludes_pad<E>()) w.pad_to8(start);
  }
}

// Dispatch tables: decode alternative I of a variant.
template <class Var, size_t I>
void decode_alt(Reader& r, Var& v) {
  auto& x = v.template emplace<I>();
  Dec d{r};
  std::remove_reference_t<decltype(x)>::fields(x, d);
}
template <class Var, size_t... I>
constexpr auto make_decoders(std::index_sequence<I...>) {
  return std::array<void (*)(Reader&, Var&), sizeof...(I)>{&decode_alt<Var, I>...};
}
template <class Var>
void decode_variant(Reader& r, Var& v, size_t index) {
  static constexpr auto table =
      make_decoders<Var>(std::make_index_sequence<std::variant_size_v<Var>>{});
  table[index](r, v);
}

std::optional<size_t> mp_index(uint16_t wire) {
  if (wire <= 13) return wire;
  if (wire == 0xffff) return 14;
  return std::nullopt;
}

template <class MP>
void decode_multipart(Reader& r, MP& mp) {
  uint16_t type = r.u16();
  mp.flags = r.u16();
  r.skip(4);
  if (r.failed()) return;
  auto idx = mp_index(type);
  if (!idx) return r.fail(ErrType::kBadRequest, code::kBadMultipart);
  decode_variant(r, mp.body, *idx);
}

template <class MP>
void encode_multipart(Writer& w, const MP& mp) {
  w.u16(multipart_wire_type(mp.body.index()));
  w.u16(mp.flags);
  w.pad(4);
  std::visit(
      [&](const auto& b) {
        Enc e{w};
        std::remove_cvref_t<decltype(b)>::fields(b, e);
      },
      mp.body);
}

constexpr const char* kMsgNames[] = {"HELLO",
                                     "ERROR",
                                     "ECHO_REQUEST",
                                     "ECHO_REPLY",
                                     "EXPERIMENTER",
                                     "FEATURES_REQUEST",
                                     "FEATURES_REPLY",
                                     "GET_CONFIG_REQUEST",
                                     "GET_CONFIG_REPLY",
                                     "SET_CONFIG",
                                     "PACKET_IN",
                                     "FLOW_REMOVED",
                                     "PORT_STATUS",
                                     "PACKET_OUT",
                                     "FLOW_MOD",
                                     "GROUP_MOD",
                                     "PORT_MOD",
                                     "TABLE_MOD",
                                     "MULTIPART_REQUEST",
                                     "MULTIPART_REPLY",
                                     "BARRIER_REQUEST",
                                     "BARRIER_REPLY",
                                     "QUEUE_GET_CONFIG_REQUEST",
                                     "QUEUE_GET_CONFIG_REPLY",
                                     "ROLE_REQUEST",
                                     "ROLE_REPLY",
                                     "GET_ASYNC_REQUEST",
                                     "GET_ASYNC_REPLY",
                                     "SET_ASYNC",
                                     "METER_MOD"};
static_assert(std::size(kMsgNames) == size_t(MsgType::kCount));
constexpr const char* kMpNames[] = {"DESC",           "FLOW",      "AGGREGATE",    "TABLE",
                                    "PORT_STATS",     "QUEUE",     "GROUP",        "GROUP_DESC",
                                    "GROUP_FEATURES", "METER",     "METER_CONFIG", "METER_FEATURES",
                                    "TABLE_FEATURES", "PORT_DESC", "EXPERIMENTER"};

}  // namespace

const char* message_type_name(MsgType t) {
  return size_t(t) < std::size(kMsgNames) ? kMsgNames[size_t(t)] : "UNKNOWN";
}
const char* multipart_type_name(size_t index) {
  return index < std::size(kMpNames) ? kMpNames[index] : "UNKNOWN";
}
uint16_t multipart_wire_type(size_t index) {
  return index == 14 ? 0xffff : uint16_t(index);
}

std::optional<Header> peek_header(ByteSpan b) {
  if (b.size() < kHeaderLen) return std::nullopt;
  Reader r(b);
  Header h;
  h.version = r.u8();
  h.type = r.u8();
  h.length = r.u16();
  h.xid = r.u32();
  return h;
}

Result<Message> decode(ByteSpan msg) {
  auto fail = [&](OfError e) {
    size_t n = std::min(msg.size(), kErrorDataMax);
    e.data.assign(msg.begin(), msg.begin() + long(n));
    return e;
  };
  auto h = peek_header(msg);
  if (!h || h->length != msg.size() || h->length < kHeaderLen)
    return fail(make_error(ErrType::kBadRequest, code::kBadLen));
  if (h->version != kVersion13 && h->type != 0)
    return fail(make_error(ErrType::kBadRequest, code::kBadVersion));
  if (h->type >= size_t(MsgType::kCount))
    return fail(make_error(ErrType::kBadRequest, code::kBadType));
  Message m;
  m.version = h->version;
  m.xid = h->xid;
  Reader r(msg.subspan(kHeaderLen));
  decode_variant(r, m.body, h->type);
  if (!r.failed() && r.left()) r.fail(ErrType::kBadRequest, code::kBadLen);
  if (r.failed()) return fail(*r.error());
  return m;
}

void encode_into(Bytes& out, const Message& m) {
  size_t start = out.size();
  Writer w(out);
  w.u8(m.version);
  w.u8(uint8_t(m.body.index()));
  w.u16(0);
  w.u32(m.xid);
  std::visit(
      [&](const auto& b) {
        Enc e{w};
        std::remove_cvref_t<decltype(b)>::fields(b, e);
      },
      m.body);
  w.patch16(start + 2, uint16_t(out.size() - start));
}

Bytes encode(const Message& m) {
  Bytes out;
  out.reserve(64);
  encode_into(out, m);
  return out;
}

std::vector<Bytes> encode_multipart_reply(uint32_t xid, const MpReplyBody& reply, size_t max_len) {
  std::vector<Bytes> out;
  std::visit(
      [&](const auto& body) {
        using T = std::remove_cvref_t<decltype(body)>;
        if constexpr (requires { typename T::Entry; }) {
          auto start_msg = [&] {
            out.emplace_back();
            Writer w(out.back());
            w.u8(kVersion13);
            w.u8(uint8_t(MsgType::kMultipartReply));
            w.u16(0);
            w.u32(xid);
            w.u16(multipart_wire_type(reply.index()));
            w.u16(0);
            w.pad(4);
          };
          start_msg();
          Bytes entry;
          size_t in_msg = 0;
          for (const auto& e : body.entries) {
            entry.clear();
            Writer ew(entry);
            encode_element(ew, e);
            if (in_msg && out.back().size() + entry.size() > max_len) {
              Writer(out.back()).patch16(10, kMpReplyMore);
              start_msg();
              in_msg = 0;
            }
            out.back().insert(out.back().end(), entry.begin(), entry.end());
            ++in_msg;
          }
          for (auto& m : out) Writer(m).patch16(2, uint16_t(m.size()));
        } else {
          out.push_back(encode(Message{kVersion13, xid, MultipartReply{0, reply}}));
        }
      },
      reply);
  return out;
}

Message error_reply(const OfError& e, uint32_t xid) {
  Error err;
  err.type = e.type;
  err.code = e.code;
  err.data.assign(e.data.begin(), e.data.begin() + long(std::min(e.data.size(), kErrorDataMax)));
  return Message{kVersion13, xid, std::move(err)};
}

Message make_hello(uint32_t xid) {
  Hello h;
  h.elements.push_back(HelloElement{1, {1u << kVersion13}, {}});
  return Message{kVersion13, xid, std::move(h)};
}

Result<uint8_t> negotiate_version(const Message& peer) {
  const auto* h = std::get_if<Hello>(&peer.body);
  if (h) {
    for (const auto& el : h->elements) {
      if (el.type != 1) continue;
      if (!el.bitmaps.empty() && (el.bitmaps[0] & (1u << kVersion13))) return kVersion13;
      return make_error(ErrType::kHelloFailed, code::kHelloIncompatible);
    }
  }
  if (peer.version >= kVersion13) return kVersion13;
  return make_error(ErrType::kHelloFailed, code::kHelloIncompatible);
}

}  // namespace vsw::openflow
