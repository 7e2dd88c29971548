// The mapping table and the four conversions it drives. See key_map.h.
#include "ofproto/key_map.h"

#include <arpa/inet.h>
#include <endian.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "openflow/actions.h"

namespace vsw::ofproto {
namespace {

using classifier::Field;
using classifier::FlowKey;
using classifier::low_bits;
using openflow::OxmId;

// Where a slice lives in the kernel key: the field at `offset` of `size` bytes, read as an
// integer (network order unless host_order), bits [shift, shift + width) of it.
struct DpLoc {
  std::int16_t offset = -1;  // -1: no kernel counterpart (pipeline-only field)
  std::uint8_t size = 0;
  bool host_order = false;
  std::uint8_t shift = 0;

  [[nodiscard]] constexpr DpLoc bits(std::uint8_t s) const {
    DpLoc d = *this;
    d.shift = s;
    return d;
  }
  [[nodiscard]] constexpr DpLoc host() const {
    DpLoc d = *this;
    d.host_order = true;
    return d;
  }
  // Bytes [off, off + n) of an array field, as one big-endian integer.
  [[nodiscard]] constexpr DpLoc bytes(std::uint8_t off, std::uint8_t n) const {
    DpLoc d = *this;
    d.offset = static_cast<std::int16_t>(d.offset + off);
    d.size = n;
    return d;
  }
};
#define DP(member)                                               \
  DpLoc {                                                        \
    offsetof(vsw_flow_key, member), sizeof(vsw_flow_key::member) \
  }
constexpr DpLoc kPipelineOnly{};

// The OXM fields that match a slice; `byte` is where the slice starts in the OXM value (the
// low half of an IPv6 address starts at byte 8).
struct OxmLoc {
  std::array<OxmId, 3> ids{};
  std::uint8_t n = 0;
  std::uint8_t byte = 0;

  [[nodiscard]] constexpr OxmLoc at_byte(std::uint8_t b) const {
    OxmLoc o = *this;
    o.byte = b;
    return o;
  }
  [[nodiscard]] constexpr bool has(OxmId id) const {
    for (std::uint8_t i = 0; i < n; ++i)
      if (ids[i] == id) return true;
    return false;
  }
};
constexpr OxmLoc oxm(OxmId a) {
  return {{a, a, a}, 1, 0};
}
constexpr OxmLoc oxm(OxmId a, OxmId b) {
  return {{a, b, b}, 2, 0};
}
constexpr OxmLoc oxm(OxmId a, OxmId b, OxmId c) {
  return {{a, b, c}, 3, 0};
}

struct Row {
  Field field;
  std::uint8_t cshift;  // slice position in the classifier field
  std::uint8_t width;   // slice width in bits (0 in row(): the whole field)
  DpLoc dp;
  OxmLoc oxm;
  bool port = false;  // in_port: OpenFlow <-> datapath port numbers
};
// A whole classifier field.
constexpr Row row(Field f, DpLoc dp, OxmLoc o = {}) {
  return Row{f, 0, classifier::field_info(f).width, dp, o};
}
// Bits [cshift, cshift + width) of a classifier field.
constexpr Row slice(Field f, std::uint8_t cshift, std::uint8_t width, DpLoc dp, OxmLoc o = {}) {
  return Row{f, cshift, width, dp, o};
}
constexpr OxmId reg(unsigned i) {
  return static_cast<OxmId>(static_cast<unsigned>(OxmId::kReg0) + i);
}
constexpr Row reg_row(unsigned i) {
  return row(classifier::reg_field(i), kPipelineOnly, oxm(reg(i)));
}

// THE table. One row per classifier field, or per slice of one where OpenFlow splits it
// differently (vlan_vid is the tag-present bit and the VID together). Subfields the
// classifier defines (vlan_pcp, ip_dscp, ip_ecn) are rows of their own; their parent
// (vlan_tci, ip_tos) is then covered by its subfield rows.
constexpr Row kRows[] = {
    // classifier field, kernel key field, OXM fields
    row(Field::kMetadata, kPipelineOnly, oxm(OxmId::kMetadata)),
    Row{Field::kInPort, 0, 32, DP(in_port).host(), oxm(OxmId::kInPort), true},
    row(Field::kSkbMark, DP(skb_mark).host()),
    reg_row(0),
    reg_row(1),
    reg_row(2),
    reg_row(3),
    reg_row(4),
    reg_row(5),
    reg_row(6),
    reg_row(7),
    reg_row(8),
    reg_row(9),
    reg_row(10),
    reg_row(11),
    reg_row(12),
    reg_row(13),
    reg_row(14),
    reg_row(15),
    row(Field::kEthDst, DP(eth_dst), oxm(OxmId::kEthDst)),
    row(Field::kEthSrc, DP(eth_src), oxm(OxmId::kEthSrc)),
    row(Field::kEthType, DP(eth_type), oxm(OxmId::kEthType)),
    slice(Field::kVlanTci, 0, 13, DP(vlan_tci), oxm(OxmId::kVlanVid)),  // present bit + VID
    row(Field::kVlanPcp, DP(vlan_tci).bits(13), oxm(OxmId::kVlanPcp)),
    row(Field::kIpv4Src, DP(ipv4_src), oxm(OxmId::kIpv4Src)),
    row(Field::kIpv4Dst, DP(ipv4_dst), oxm(OxmId::kIpv4Dst)),
    row(Field::kIpv6SrcHi, DP(ipv6_src).bytes(0, 8), oxm(OxmId::kIpv6Src)),
    row(Field::kIpv6SrcLo, DP(ipv6_src).bytes(8, 8), oxm(OxmId::kIpv6Src).at_byte(8)),
    row(Field::kIpv6DstHi, DP(ipv6_dst).bytes(0, 8), oxm(OxmId::kIpv6Dst)),
    row(Field::kIpv6DstLo, DP(ipv6_dst).bytes(8, 8), oxm(OxmId::kIpv6Dst).at_byte(8)),
    row(Field::kIpProto, DP(ip_proto), oxm(OxmId::kIpProto)),
    row(Field::kIpDscp, DP(ip_tos).bits(2), oxm(OxmId::kIpDscp)),
    row(Field::kIpEcn, DP(ip_tos), oxm(OxmId::kIpEcn)),
    row(Field::kIpTtl, DP(ip_ttl)),
    row(Field::kIpFrag, DP(ip_frag)),
    row(Field::kIpv6Label, DP(ipv6_label), oxm(OxmId::kIpv6Flabel)),
    row(Field::kArpOp, DP(arp_op), oxm(OxmId::kArpOp)),
    row(Field::kArpSpa, DP(arp_spa), oxm(OxmId::kArpSpa)),
    row(Field::kArpTpa, DP(arp_tpa), oxm(OxmId::kArpTpa)),
    row(Field::kArpSha, DP(arp_sha), oxm(OxmId::kArpSha)),
    row(Field::kArpTha, DP(arp_tha), oxm(OxmId::kArpTha)),
    row(Field::kTpSrc, DP(tp_src), oxm(OxmId::kTcpSrc, OxmId::kUdpSrc, OxmId::kSctpSrc)),
    row(Field::kTpDst, DP(tp_dst), oxm(OxmId::kTcpDst, OxmId::kUdpDst, OxmId::kSctpDst)),
    row(Field::kTcpFlags, DP(tcp_flags)),
    row(Field::kIcmpType, DP(icmp_type), oxm(OxmId::kIcmpv4Type, OxmId::kIcmpv6Type)),
    row(Field::kIcmpCode, DP(icmp_code), oxm(OxmId::kIcmpv4Code, OxmId::kIcmpv6Code)),
};
#undef DP

// Every slice fits its classifier field and its kernel field.
constexpr bool rows_fit() {
  for (const Row& r : kRows) {
    if (r.width == 0 || r.cshift + r.width > classifier::field_info(r.field).width) return false;
    if (r.dp.offset >= 0 && (r.dp.shift + r.width > r.dp.size * 8 || r.dp.size > 8 ||
                             r.dp.offset + r.dp.size > static_cast<int>(sizeof(vsw_flow_key))))
      return false;
  }
  return true;
}
static_assert(rows_fit(), "a key_map row does not fit its fields");

// Every bit of every classifier field has a row: a field the map forgot would be zero in
// every key and, worse, dropped from megaflow masks although rules match on it.
constexpr bool rows_cover_every_field() {
  std::array<std::uint64_t, classifier::kFieldCount> covered{};
  for (const Row& r : kRows) {
    const auto& fi = classifier::field_info(r.field);
    const auto& pi = classifier::field_info(fi.parent);
    covered[static_cast<std::size_t>(fi.parent)] |= low_bits(r.width)
                                                    << (fi.shift - pi.shift + r.cshift);
  }
  for (std::size_t i = 0; i < classifier::kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    if (!classifier::is_subfield(f) && covered[i] != low_bits(classifier::field_info(f).width))
      return false;
  }
  return true;
}
static_assert(rows_cover_every_field(),
              "key_map: a classifier field has no row in kRows (add one line for it)");

// The rows of each OXM field, in kRows order: from_oxm() runs per FLOW_MOD and would
// otherwise scan every row for every field of the match.
struct OxmRows {
  std::array<std::uint8_t, 4> rows{};
  std::uint8_t n = 0;
};
constexpr std::size_t kMaxOxmRows = 4;
constexpr bool oxm_rows_fit() {
  std::array<std::size_t, 256> n{};
  for (const Row& r : kRows)
    for (std::uint8_t k = 0; k < r.oxm.n; ++k)
      if (++n[static_cast<std::uint8_t>(r.oxm.ids[k])] > kMaxOxmRows) return false;
  return std::size(kRows) <= 256;
}
static_assert(oxm_rows_fit(), "key_map: an OXM field has more than kMaxOxmRows rows");
constexpr auto kOxmRows = [] {
  std::array<OxmRows, 256> out{};
  for (std::size_t i = 0; i < std::size(kRows); ++i)
    for (std::uint8_t k = 0; k < kRows[i].oxm.n; ++k) {
      OxmRows& o = out[static_cast<std::uint8_t>(kRows[i].oxm.ids[k])];
      o.rows[o.n++] = static_cast<std::uint8_t>(i);
    }
  return out;
}();

std::uint64_t read_dp(const vsw_flow_key& k, const DpLoc& d) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&k) + d.offset;
  if (d.host_order) {
    std::uint32_t h = 0;  // only 32-bit host-order fields exist (in_port, skb_mark)
    std::memcpy(&h, p, sizeof h);
    return h;
  }
  switch (d.size) {
    case 1:
      return p[0];
    case 2: {
      std::uint16_t v;
      std::memcpy(&v, p, sizeof v);
      return ntohs(v);
    }
    case 4: {
      std::uint32_t v;
      std::memcpy(&v, p, sizeof v);
      return ntohl(v);
    }
    case 8: {
      std::uint64_t v;
      std::memcpy(&v, p, sizeof v);
      return be64toh(v);
    }
    default: {
      std::uint64_t v = 0;
      for (std::uint8_t i = 0; i < d.size; ++i) v = v << 8 | p[i];
      return v;
    }
  }
}

void write_dp(vsw_flow_key& k, const DpLoc& d, std::uint64_t v) {
  auto* p = reinterpret_cast<std::uint8_t*>(&k) + d.offset;
  if (d.host_order) {
    const auto h = static_cast<std::uint32_t>(v);
    std::memcpy(p, &h, sizeof h);
    return;
  }
  for (std::uint8_t i = d.size; i-- > 0;) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

// v placed at bits [shift, shift + width) of old.
std::uint64_t put_bits(std::uint64_t old, unsigned shift, unsigned width, std::uint64_t v) {
  const std::uint64_t m = low_bits(width) << shift;
  return (old & ~m) | ((v << shift) & m);
}

// A row with its classifier position resolved: bits [pos, pos + width) of word `word`.
struct Slot {
  std::uint8_t word = 0;
  std::uint8_t pos = 0;
  std::uint64_t bits = 0;  // low_bits(width)
  const Row* row = nullptr;
};
constexpr Slot slot_of(const Row& r) {
  const auto& fi = classifier::field_info(r.field);
  return Slot{fi.word, static_cast<std::uint8_t>(fi.shift + r.cshift), low_bits(r.width), &r};
}
// The rows with a kernel counterpart, resolved (the per-packet conversions loop over these).
constexpr auto kDpSlots = [] {
  constexpr std::size_t n = [] {
    std::size_t c = 0;
    for (const Row& r : kRows) c += r.dp.offset >= 0;
    return c;
  }();
  std::array<Slot, n> out{};
  std::size_t i = 0;
  for (const Row& r : kRows)
    if (r.dp.offset >= 0) out[i++] = slot_of(r);
  return out;
}();

void put_slice(FlowKey& k, const Row& r, std::uint64_t v) {
  k.set(r.field, put_bits(k.get(r.field), r.cshift, r.width, v));
}

// The slice's bits of an OXM value or mask (big-endian bytes).
std::uint64_t oxm_bits(const std::array<std::uint8_t, 16>& bytes, std::uint8_t len, const Row& r) {
  std::uint64_t v = 0;
  const unsigned end = std::min<unsigned>(len, r.oxm.byte + 8U);
  for (unsigned i = r.oxm.byte; i < end; ++i) v = v << 8 | bytes[i];
  return v & low_bits(r.width);
}

}  // namespace

std::uint32_t of_port_from_dp(std::uint32_t dp_port) {
  return dp_port == VSW_PORT_LOCAL ? openflow::port::kLocal : dp_port;
}

std::optional<std::uint32_t> dp_port_from_of(std::uint32_t of_port) {
  if (of_port == openflow::port::kLocal) return VSW_PORT_LOCAL;
  if (of_port >= 1 && of_port < VSW_MAX_PORTS) return of_port;
  return std::nullopt;
}

void update_classifier(const vsw_flow_key& key, FlowKey& out) {
  for (const Slot& s : kDpSlots) {
    const Row& r = *s.row;
    std::uint64_t v = (read_dp(key, r.dp) >> r.dp.shift) & s.bits;
    if (r.port) v = of_port_from_dp(static_cast<std::uint32_t>(v));
    const std::uint64_t m = s.bits << s.pos;
    out.w[s.word] = (out.w[s.word] & ~m) | ((v << s.pos) & m);
  }
}

FlowKey to_classifier(const vsw_flow_key& key) {
  FlowKey k;
  update_classifier(key, k);
  return k;
}

vsw_flow_key to_datapath_mask(const FlowKey& wc) {
  vsw_flow_key m{};
  for (const Slot& s : kDpSlots) {
    std::uint64_t bits = (wc.w[s.word] >> s.pos) & s.bits;
    if (bits == 0) continue;
    const Row& r = *s.row;
    if (r.port) bits = s.bits;  // the numbering differs: match the whole port
    write_dp(m, r.dp, read_dp(m, r.dp) | bits << r.dp.shift);
  }
  return m;
}

dpif::Match megaflow(const vsw_flow_key& key, const vsw_flow_key& mask) {
  dpif::Match m;
  m.key = key;
  m.mask = mask;
  m.normalize();
  return m;
}

dpif::Match megaflow(const vsw_flow_key& key, const FlowKey& wc) {
  return megaflow(key, to_datapath_mask(wc));
}

bool oxm_supported(OxmId id) {
  return kOxmRows[static_cast<std::uint8_t>(id)].n > 0;
}

Result<classifier::Match> from_oxm(const openflow::Match& m) {
  if (auto e = openflow::validate_match(m)) {
    return make_error(EINVAL, "match refused (OpenFlow error type " + std::to_string(e->type) +
                                  " code " + std::to_string(e->code) + ")");
  }
  classifier::Match out;
  for (const openflow::OxmField& f : m.fields) {
    const OxmRows& rows = kOxmRows[static_cast<std::uint8_t>(f.id)];
    const bool mapped = rows.n > 0;
    for (std::uint8_t k = 0; k < rows.n; ++k) {
      const Row& r = kRows[rows.rows[k]];
      const std::uint8_t len = f.len();
      const std::uint64_t v = oxm_bits(f.value, len, r);
      const std::uint64_t mk = f.has_mask ? oxm_bits(f.mask, len, r) : low_bits(r.width);
      put_slice(out.mask, r, mk);
      put_slice(out.value, r, v & mk);
    }
    if (!mapped) {
      return make_error(EOPNOTSUPP, std::string("match field ") + openflow::oxm_info(f.id).name +
                                        " is not supported");
    }
  }
  out.normalize();
  return out;
}

Result<void> set_oxm(vsw_flow_key& key, const openflow::OxmField& f) {
  bool mapped = false;
  for (const Row& r : kRows) {
    if (!r.oxm.has(f.id) || r.dp.offset < 0) continue;
    std::uint64_t v = oxm_bits(f.value, f.len(), r);
    if (r.port) {
      const auto dp = dp_port_from_of(static_cast<std::uint32_t>(v));
      if (!dp) return make_error(EINVAL, "port " + std::to_string(v) + " has no datapath number");
      v = *dp;
    }
    write_dp(key, r.dp, put_bits(read_dp(key, r.dp), r.dp.shift, r.width, v));
    mapped = true;
  }
  if (!mapped) {
    return make_error(EOPNOTSUPP, std::string("field ") + openflow::oxm_info(f.id).name +
                                      " has no datapath counterpart");
  }
  return {};
}

void mask_or(vsw_flow_key& into, const vsw_flow_key& m) {
  static_assert(sizeof(vsw_flow_key) % 8 == 0);
  std::array<std::uint64_t, sizeof(vsw_flow_key) / 8> a, b;
  std::memcpy(a.data(), &into, sizeof into);
  std::memcpy(b.data(), &m, sizeof m);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] |= b[i];
  std::memcpy(&into, a.data(), sizeof into);
}

bool mask_is_zero(const vsw_flow_key& m) {
  std::array<std::uint64_t, sizeof(vsw_flow_key) / 8> a;
  std::memcpy(a.data(), &m, sizeof m);
  std::uint64_t any = 0;
  for (const std::uint64_t w : a) any |= w;
  return any == 0;
}

}  // namespace vsw::ofproto
