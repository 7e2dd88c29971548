// OXM field table, TLV codec, match validation and text form. See oxm.h.
#include "openflow/oxm.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bitset>
#include <charconv>
#include <cstdio>

namespace vsw::openflow {
namespace {

using F = OxmFormat;
constexpr OxmInfo kBasic[40] = {
    {"in_port", kOxmClassBasic, 0, 4, false, 0, F::kDec},
    {"in_phy_port", kOxmClassBasic, 1, 4, false, 0, F::kDec},
    {"metadata", kOxmClassBasic, 2, 8, true, 0, F::kHex},
    {"eth_dst", kOxmClassBasic, 3, 6, true, 0, F::kMac},
    {"eth_src", kOxmClassBasic, 4, 6, true, 0, F::kMac},
    {"eth_type", kOxmClassBasic, 5, 2, false, 0, F::kHex},
    {"vlan_vid", kOxmClassBasic, 6, 2, true, 13, F::kDec},
    {"vlan_pcp", kOxmClassBasic, 7, 1, false, 3, F::kDec},
    {"ip_dscp", kOxmClassBasic, 8, 1, false, 6, F::kDec},
    {"ip_ecn", kOxmClassBasic, 9, 1, false, 2, F::kDec},
    {"ip_proto", kOxmClassBasic, 10, 1, false, 0, F::kDec},
    {"ipv4_src", kOxmClassBasic, 11, 4, true, 0, F::kIpv4},
    {"ipv4_dst", kOxmClassBasic, 12, 4, true, 0, F::kIpv4},
    {"tcp_src", kOxmClassBasic, 13, 2, false, 0, F::kDec},
    {"tcp_dst", kOxmClassBasic, 14, 2, false, 0, F::kDec},
    {"udp_src", kOxmClassBasic, 15, 2, false, 0, F::kDec},
    {"udp_dst", kOxmClassBasic, 16, 2, false, 0, F::kDec},
    {"sctp_src", kOxmClassBasic, 17, 2, false, 0, F::kDec},
    {"sctp_dst", kOxmClassBasic, 18, 2, false, 0, F::kDec},
    {"icmpv4_type", kOxmClassBasic, 19, 1, false, 0, F::kDec},
    {"icmpv4_code", kOxmClassBasic, 20, 1, false, 0, F::kDec},
    {"arp_op", kOxmClassBasic, 21, 2, false, 0, F::kDec},
    {"arp_spa", kOxmClassBasic, 22, 4, true, 0, F::kIpv4},
    {"arp_tpa", kOxmClassBasic, 23, 4, true, 0, F::kIpv4},
    {"arp_sha", kOxmClassBasic, 24, 6, true, 0, F::kMac},
    {"arp_tha", kOxmClassBasic, 25, 6, true, 0, F::kMac},
    {"ipv6_src", kOxmClassBasic, 26, 16, true, 0, F::kIpv6},
    {"ipv6_dst", kOxmClassBasic, 27, 16, true, 0, F::kIpv6},
    {"ipv6_flabel", kOxmClassBasic, 28, 4, true, 20, F::kHex},
    {"icmpv6_type", kOxmClassBasic, 29, 1, false, 0, F::kDec},
    {"icmpv6_code", kOxmClassBasic, 30, 1, false, 0, F::kDec},
    {"ipv6_nd_target", kOxmClassBasic, 31, 16, false, 0, F::kIpv6},
    {"ipv6_nd_sll", kOxmClassBasic, 32, 6, false, 0, F::kMac},
    {"ipv6_nd_tll", kOxmClassBasic, 33, 6, false, 0, F::kMac},
    {"mpls_label", kOxmClassBasic, 34, 4, false, 20, F::kDec},
    {"mpls_tc", kOxmClassBasic, 35, 1, false, 3, F::kDec},
    {"mpls_bos", kOxmClassBasic, 36, 1, false, 1, F::kDec},
    {"pbb_isid", kOxmClassBasic, 37, 3, true, 0, F::kHex},
    {"tunnel_id", kOxmClassBasic, 38, 8, true, 0, F::kHex},
    {"ipv6_exthdr", kOxmClassBasic, 39, 2, true, 9, F::kHex},
};

constexpr const char* kRegNames[16] = {"reg0",  "reg1",  "reg2",  "reg3", "reg4",  "reg5",
                                       "reg6",  "reg7",  "reg8",  "reg9", "reg10", "reg11",
                                       "reg12", "reg13", "reg14", "reg15"};

struct Table {
  OxmInfo all[size_t(OxmId::kCount)];
  constexpr Table() : all{} {
    for (int i = 0; i < 40; ++i) all[i] = kBasic[i];
    for (int i = 0; i < 16; ++i)
      all[40 + i] = OxmInfo{kRegNames[i], kOxmClassNxm1, uint8_t(i), 4, true, 0, F::kHex};
  }
};
constexpr Table kTable;

uint64_t be_u64(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = v << 8 | p[i];
  return v;
}
void put_be(uint8_t* p, size_t n, uint64_t v) {
  for (size_t i = n; i-- > 0;) {
    p[i] = uint8_t(v);
    v >>= 8;
  }
}

}  // namespace

const OxmInfo& oxm_info(OxmId id) {
  return kTable.all[size_t(id)];
}

std::optional<OxmId> oxm_lookup(uint16_t oxm_class, uint8_t field) {
  if (oxm_class == kOxmClassBasic && field < 40) return OxmId(field);
  if (oxm_class == kOxmClassNxm1 && field < 16) return OxmId(40 + field);
  return std::nullopt;
}

std::optional<OxmId> oxm_by_name(std::string_view name) {
  for (size_t i = 0; i < size_t(OxmId::kCount); ++i)
    if (name == kTable.all[i].name) return OxmId(i);
  return std::nullopt;
}

uint64_t OxmField::value_u64() const {
  return be_u64(value.data(), std::min<size_t>(len(), 8));
}
uint64_t OxmField::mask_u64() const {
  return be_u64(mask.data(), std::min<size_t>(len(), 8));
}

OxmField OxmField::exact(OxmId id, uint64_t v) {
  OxmField f;
  f.id = id;
  put_be(f.value.data(), f.len(), v);
  return f;
}
OxmField OxmField::masked(OxmId id, uint64_t v, uint64_t m) {
  OxmField f = exact(id, v);
  f.has_mask = true;
  put_be(f.mask.data(), f.len(), m);
  return f;
}
OxmField OxmField::exact_bytes(OxmId id, ByteSpan v) {
  OxmField f;
  f.id = id;
  std::copy_n(v.begin(), std::min<size_t>(v.size(), f.len()), f.value.begin());
  return f;
}
OxmField OxmField::masked_bytes(OxmId id, ByteSpan v, ByteSpan m) {
  OxmField f = exact_bytes(id, v);
  f.has_mask = true;
  std::copy_n(m.begin(), std::min<size_t>(m.size(), f.len()), f.mask.begin());
  return f;
}
bool OxmField::operator==(const OxmField& o) const {
  size_t n = len();
  return id == o.id && has_mask == o.has_mask &&
         std::equal(value.begin(), value.begin() + long(n), o.value.begin()) &&
         (!has_mask || std::equal(mask.begin(), mask.begin() + long(n), o.mask.begin()));
}

const OxmField* Match::find(OxmId id) const {
  for (const auto& f : fields)
    if (f.id == id) return &f;
  return nullptr;
}

size_t oxm_wire_len(const OxmField& f) {
  return 4 + size_t(f.len()) * (f.has_mask ? 2 : 1);
}

void decode_oxm(Reader& r, OxmField& f, bool in_set_field) {
  ErrType et = in_set_field ? ErrType::kBadAction : ErrType::kBadMatch;
  uint16_t len_code = in_set_field ? code::kActBadSetLen : code::kMatchBadLen;
  uint16_t cls = r.u16();
  uint8_t fh = r.u8();
  uint8_t len = r.u8();
  if (r.failed()) return;
  auto id = oxm_lookup(cls, uint8_t(fh >> 1));
  if (!id) {
    r.fail(et, in_set_field ? code::kActBadSetType : code::kMatchBadField);
    return;
  }
  const OxmInfo& info = oxm_info(*id);
  f.id = *id;
  f.has_mask = fh & 1;
  if (len != info.len * (f.has_mask ? 2 : 1) || r.left() < len) {
    r.fail(et, len_code);
    return;
  }
  if (f.has_mask && (in_set_field || !info.maskable)) {
    r.fail(et, in_set_field ? code::kActBadSetArgument : code::kMatchBadMask);
    return;
  }
  ByteSpan v = r.bytes(info.len);
  std::copy(v.begin(), v.end(), f.value.begin());
  if (f.has_mask) {
    ByteSpan m = r.bytes(info.len);
    std::copy(m.begin(), m.end(), f.mask.begin());
    for (size_t i = 0; i < info.len; ++i)
      if (f.value[i] & ~f.mask[i])
        return r.fail(et, in_set_field ? code::kActBadSetArgument : code::kMatchBadWildcards);
  }
  if (info.bits) {
    uint64_t limit = (uint64_t(1) << info.bits) - 1;
    if (f.value_u64() > limit || (f.has_mask && f.mask_u64() > limit))
      r.fail(et, in_set_field ? code::kActBadSetArgument : code::kMatchBadValue);
  }
}

void encode_oxm(Writer& w, const OxmField& f) {
  const OxmInfo& info = oxm_info(f.id);
  w.u16(info.oxm_class);
  w.u8(uint8_t(info.field << 1 | (f.has_mask ? 1 : 0)));
  w.u8(uint8_t(info.len * (f.has_mask ? 2 : 1)));
  w.bytes(ByteSpan(f.value.data(), info.len));
  if (f.has_mask) w.bytes(ByteSpan(f.mask.data(), info.len));
}

void decode_match(Reader& r, Match& m) {
  uint16_t type = r.u16();
  uint16_t len = r.u16();
  if (r.failed()) return;
  if (type != 1) return r.fail(ErrType::kBadMatch, code::kMatchBadType);
  if (len < 4 || round8(len) - 4 > r.left()) return r.fail(ErrType::kBadMatch, code::kMatchBadLen);
  Reader body = r.sub(len - 4u, ErrType::kBadMatch, code::kMatchBadLen);
  r.skip(round8(len) - len);
  m.fields.clear();
  m.fields.reserve(body.left() / 5);  // at least 5 bytes per OXM: one allocation
  while (body.left() && !body.failed()) {
    m.fields.emplace_back();
    decode_oxm(body, m.fields.back(), false);
  }
  r.absorb(body);
  if (r.failed()) return;
  if (auto e = validate_match(m)) r.fail(*e);
}

void encode_match(Writer& w, const Match& m) {
  size_t start = w.size();
  w.u16(1);
  w.u16(0);
  for (const auto& f : m.fields) encode_oxm(w, f);
  w.patch16(start + 2, uint16_t(w.size() - start));
  w.pad_to8(start);
}

std::optional<OfError> validate_match(const Match& m) {
  // One pass for duplicates and the fields other fields depend on, one for prerequisites.
  std::bitset<size_t(OxmId::kCount)> seen;
  const OxmField* by_id[4] = {};  // eth_type, ip_proto, icmpv6_type, vlan_vid
  for (const auto& f : m.fields) {
    if (seen[size_t(f.id)]) return make_error(ErrType::kBadMatch, code::kMatchDupField);
    seen[size_t(f.id)] = true;
    switch (f.id) {
      case OxmId::kEthType:
        by_id[0] = &f;
        break;
      case OxmId::kIpProto:
        by_id[1] = &f;
        break;
      case OxmId::kIcmpv6Type:
        by_id[2] = &f;
        break;
      case OxmId::kVlanVid:
        by_id[3] = &f;
        break;
      default:
        break;
    }
  }
  auto exact = [&](int i) -> std::optional<uint64_t> {
    if (!by_id[i] || by_id[i]->has_mask) return std::nullopt;
    return by_id[i]->value_u64();
  };
  auto eth = exact(0);
  auto proto = exact(1);
  auto icmp6 = exact(2);
  bool ip4 = eth == 0x0800, ip6 = eth == 0x86dd;
  for (const auto& f : m.fields) {
    bool ok = true;
    switch (f.id) {
      case OxmId::kInPhyPort:
        ok = seen[size_t(OxmId::kInPort)];
        break;
      case OxmId::kVlanPcp:
        ok = by_id[3] && (by_id[3]->value_u64() & kVidPresent);
        break;
      case OxmId::kIpDscp:
      case OxmId::kIpEcn:
      case OxmId::kIpProto:
        ok = ip4 || ip6;
        break;
      case OxmId::kIpv4Src:
      case OxmId::kIpv4Dst:
        ok = ip4;
        break;
      case OxmId::kTcpSrc:
      case OxmId::kTcpDst:
        ok = proto == 6;
        break;
      case OxmId::kUdpSrc:
      case OxmId::kUdpDst:
        ok = proto == 17;
        break;
      case OxmId::kSctpSrc:
      case OxmId::kSctpDst:
        ok = proto == 132;
        break;
      case OxmId::kIcmpv4Type:
      case OxmId::kIcmpv4Code:
        ok = ip4 && proto == 1;
        break;
      case OxmId::kArpOp:
      case OxmId::kArpSpa:
      case OxmId::kArpTpa:
      case OxmId::kArpSha:
      case OxmId::kArpTha:
        ok = eth == 0x0806;
        break;
      case OxmId::kIpv6Src:
      case OxmId::kIpv6Dst:
      case OxmId::kIpv6Flabel:
      case OxmId::kIpv6Exthdr:
        ok = ip6;
        break;
      case OxmId::kIcmpv6Type:
      case OxmId::kIcmpv6Code:
        ok = ip6 && proto == 58;
        break;
      case OxmId::kIpv6NdTarget:
        ok = icmp6 == 135 || icmp6 == 136;
        break;
      case OxmId::kIpv6NdSll:
        ok = icmp6 == 135;
        break;
      case OxmId::kIpv6NdTll:
        ok = icmp6 == 136;
        break;
      case OxmId::kMplsLabel:
      case OxmId::kMplsTc:
      case OxmId::kMplsBos:
        ok = eth == 0x8847 || eth == 0x8848;
        break;
      case OxmId::kPbbIsid:
        ok = eth == 0x88e7;
        break;
      default:
        break;
    }
    if (!ok) return make_error(ErrType::kBadMatch, code::kMatchBadPrereq);
  }
  return std::nullopt;
}

namespace {
void append_u64(std::string& out, uint64_t v, bool hex) {
  char buf[24];
  if (hex) {
    out += "0x";
    auto r = std::to_chars(buf, buf + sizeof buf, v, 16);
    out.append(buf, size_t(r.ptr - buf));
  } else {
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, size_t(r.ptr - buf));
  }
}
constexpr char kHex[] = "0123456789abcdef";
}  // namespace

void append_oxm_value(std::string& out, const OxmField& f, bool mask) {
  const uint8_t* p = mask ? f.mask.data() : f.value.data();
  const OxmInfo& info = oxm_info(f.id);
  switch (info.format) {
    case OxmFormat::kDec:
      append_u64(out, be_u64(p, info.len), false);
      break;
    case OxmFormat::kHex:
      append_u64(out, be_u64(p, std::min<size_t>(info.len, 8)), true);
      break;
    case OxmFormat::kMac: {
      char buf[17];
      for (size_t i = 0; i < 6; ++i) {
        buf[i * 3] = kHex[p[i] >> 4];
        buf[i * 3 + 1] = kHex[p[i] & 15];
        if (i < 5) buf[i * 3 + 2] = ':';
      }
      out.append(buf, sizeof buf);
      break;
    }
    case OxmFormat::kIpv4: {
      char buf[16];
      char* q = buf;
      for (int i = 0; i < 4; ++i) {
        if (i) *q++ = '.';
        q = std::to_chars(q, buf + sizeof buf, p[i]).ptr;
      }
      out.append(buf, size_t(q - buf));
      break;
    }
    case OxmFormat::kIpv6: {  // RFC 5952: "fd00::1"
      char buf[INET6_ADDRSTRLEN];
      if (inet_ntop(AF_INET6, p, buf, sizeof buf)) out += buf;
      break;
    }
  }
}

namespace {
// An address mask's prefix length (leading 1-bits, then only 0-bits), or -1.
int prefix_len(const uint8_t* m, size_t n) {
  int bits = 0;
  size_t i = 0;
  for (; i < n && m[i] == 0xff; ++i) bits += 8;
  if (i == n) return bits;
  int ones = 0;
  while (ones < 8 && (m[i] & (0x80 >> ones))) ++ones;
  if (uint8_t(m[i] << ones) != 0) return -1;
  bits += ones;
  for (++i; i < n; ++i)
    if (m[i]) return -1;
  return bits;
}
}  // namespace

void append_oxm(std::string& out, const OxmField& f) {
  const OxmInfo& info = oxm_info(f.id);
  out += info.name;
  out += '=';
  append_oxm_value(out, f, false);
  if (!f.has_mask) return;
  // Address prefixes as /N ("fd00::/32", "10.0.0.0/8"); other masks written out.
  if (info.format == OxmFormat::kIpv4 || info.format == OxmFormat::kIpv6) {
    const int len = prefix_len(f.mask.data(), info.len);
    if (len >= 0) {
      out += '/';
      out += std::to_string(len);
      return;
    }
  }
  out += '/';
  append_oxm_value(out, f, true);
}

void append_match(std::string& out, const Match& m) {
  bool first = true;
  for (const auto& f : m.fields) {
    if (!first) out += ',';
    first = false;
    append_oxm(out, f);
  }
}

}  // namespace vsw::openflow
