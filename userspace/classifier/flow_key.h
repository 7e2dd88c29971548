// The daemon's flow key and OpenFlow-style matches (value + mask) over it.
//
// What? A FlowKey is the packet metadata and headers the OpenFlow pipeline classifies on,
// stored as kWords 64-bit words in a fixed layout. The same type holds a rule's match
// value, its mask, and a lookup's wildcard mask (the bits a lookup consulted), so all
// masked operations are word-wise ANDs and the classifier never branches on fields.
//
// Fields. Every field of the kernel's key (netlink-proto/vsw.h, struct vsw_flow_key) has a
// field here, plus the pipeline-only metadata and registers reg0-reg15. A field's value is
// an unsigned integer in host order, the first byte on the wire most significant: eth_dst
// 00:11:22:33:44:55 is 0x001122334455, ipv4_src 10.0.0.1 is 0x0a000001, an IPv6 address is
// its top 64 bits (the *_hi field) and its low 64 bits (*_lo), tp_dst 80 is 80. Kernel
// fields marked __be are converted from network order; host-order kernel fields are
// taken as they are. So a prefix of a field is its most significant bits.
//
// Subfields. A few fields are views of bits of another (their parent): vlan_vid (bits
// 0-11), vlan_present (bit 12: the CFI position, set iff the frame had a tag; the kernel's
// VSW_VLAN_TAG_PRESENT) and vlan_pcp (bits 13-15) of vlan_tci; ip_dscp (bits 2-7, i.e.
// tos >> 2) and ip_ecn (bits 0-1) of ip_tos. Setting or matching a subfield touches only
// its bits of the parent; a subfield has no bits of its own.
//
// Layout. kLayout below is the one table of positions: the fields in word order, each
// with its stage and width. Fields are packed from the most significant bit of a word
// down; a field that does not fit in what is left of the word, or whose stage differs
// from the previous field's, starts a new word. Everything else is derived from it at
// compile time: each field's word and shift (kFieldInfo), the number of words (kWords),
// the stages' word ranges (kStageBegin), and the classifier's prefix fields. Adding a
// field is one enumerator and one row. The stages are the order a staged lookup consults
// the words (see classifier.h): metadata (metadata, in_port, skb_mark, reg0-15), L2
// (Ethernet addresses, eth_type, VLAN TCI), L3 (IPv4/IPv6 addresses, proto, tos, ttl,
// frag, IPv6 flow label, ARP op and addresses), L4 (transport ports, TCP flags, ICMP type
// and code). A field never straddles two words; IPv6 addresses take two whole words each.
// Words a subtable's mask leaves zero cost it nothing (see subtable.h), so fields no rule
// matches cost lookups nothing but the key's size.
//
// Invariants: a Match's value has no bits outside its mask (Match::normalize()); bits of
// a word that belong to no field (padding) are always zero in keys, values and masks.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>

namespace vsw::classifier {

// Lookup stages, in the order a staged lookup consults them.
enum class Stage : std::uint8_t { kMetadata = 0, kL2 = 1, kL3 = 2, kL4 = 3 };
inline constexpr std::size_t kStages = 4;

// Enumerator values are stable: new fields are appended before kCount.
enum class Field : std::uint8_t {
  kMetadata,
  kInPort,
  kReg0,  // kReg0 + i for reg i, 0 <= i < 16
  kReg15 = kReg0 + 15,
  kEthDst,
  kEthType,
  kEthSrc,
  kVlanTci,
  kIpv4Src,
  kIpv4Dst,
  kIpv6SrcHi,  // IPv6 source, bits 127..64
  kIpv6SrcLo,  // IPv6 source, bits 63..0
  kIpv6DstHi,
  kIpv6DstLo,
  kIpProto,
  kIpTos,
  kIpTtl,
  kIpFrag,
  kIpv6Label,
  kTpSrc,
  kTpDst,
  kTcpFlags,
  kSkbMark,      // skb->mark
  kVlanVid,      // subfield of vlan_tci: VID, 12 bits
  kVlanPresent,  // subfield of vlan_tci: 1 iff tagged (VSW_VLAN_TAG_PRESENT)
  kVlanPcp,      // subfield of vlan_tci: priority code point, 3 bits
  kIpDscp,       // subfield of ip_tos: DSCP, 6 bits (tos >> 2)
  kIpEcn,        // subfield of ip_tos: ECN, 2 bits
  kArpOp,
  kArpSpa,
  kArpTpa,
  kArpSha,
  kArpTha,
  kIcmpType,  // ICMP or ICMPv6
  kIcmpCode,
  kCount,
};
inline constexpr std::size_t kFieldCount = static_cast<std::size_t>(Field::kCount);

struct FieldInfo {
  const char* name;
  std::uint8_t word;   // index into FlowKey::w
  std::uint8_t shift;  // position of the field's least significant bit in the word
  std::uint8_t width;  // bits
  Stage stage;
  Field parent;  // the field itself, or the field a subfield is part of
  // The field's bits within its word.
  [[nodiscard]] constexpr std::uint64_t word_mask() const {
    return (width >= 64 ? ~0ULL : (1ULL << width) - 1) << shift;
  }
};

constexpr Field reg_field(unsigned i) {
  return static_cast<Field>(static_cast<unsigned>(Field::kReg0) + i);
}
constexpr std::uint64_t low_bits(unsigned n) {
  return n >= 64 ? ~0ULL : (1ULL << n) - 1;
}

namespace layout {

struct Row {  // a field with bits of its own, in word order
  Field field;
  const char* name;
  Stage stage;
  std::uint8_t width;
};
struct Subfield {  // a view of some bits of another field
  Field field;
  const char* name;
  Field parent;
  std::uint8_t shift;  // within the parent
  std::uint8_t width;
};

// THE layout: fields in word order (see the comment at the top).
inline constexpr auto kLayout = std::to_array<Row>({
    {Field::kMetadata, "metadata", Stage::kMetadata, 64},
    {Field::kInPort, "in_port", Stage::kMetadata, 32},
    {Field::kSkbMark, "skb_mark", Stage::kMetadata, 32},
    {Field::kReg0, "reg0", Stage::kMetadata, 32},
    {reg_field(1), "reg1", Stage::kMetadata, 32},
    {reg_field(2), "reg2", Stage::kMetadata, 32},
    {reg_field(3), "reg3", Stage::kMetadata, 32},
    {reg_field(4), "reg4", Stage::kMetadata, 32},
    {reg_field(5), "reg5", Stage::kMetadata, 32},
    {reg_field(6), "reg6", Stage::kMetadata, 32},
    {reg_field(7), "reg7", Stage::kMetadata, 32},
    {reg_field(8), "reg8", Stage::kMetadata, 32},
    {reg_field(9), "reg9", Stage::kMetadata, 32},
    {reg_field(10), "reg10", Stage::kMetadata, 32},
    {reg_field(11), "reg11", Stage::kMetadata, 32},
    {reg_field(12), "reg12", Stage::kMetadata, 32},
    {reg_field(13), "reg13", Stage::kMetadata, 32},
    {reg_field(14), "reg14", Stage::kMetadata, 32},
    {Field::kReg15, "reg15", Stage::kMetadata, 32},
    {Field::kEthDst, "eth_dst", Stage::kL2, 48},
    {Field::kEthType, "eth_type", Stage::kL2, 16},
    {Field::kEthSrc, "eth_src", Stage::kL2, 48},
    {Field::kVlanTci, "vlan_tci", Stage::kL2, 16},
    {Field::kIpv4Src, "ipv4_src", Stage::kL3, 32},
    {Field::kIpv4Dst, "ipv4_dst", Stage::kL3, 32},
    {Field::kIpv6SrcHi, "ipv6_src_hi", Stage::kL3, 64},
    {Field::kIpv6SrcLo, "ipv6_src_lo", Stage::kL3, 64},
    {Field::kIpv6DstHi, "ipv6_dst_hi", Stage::kL3, 64},
    {Field::kIpv6DstLo, "ipv6_dst_lo", Stage::kL3, 64},
    {Field::kIpProto, "ip_proto", Stage::kL3, 8},
    {Field::kIpTos, "ip_tos", Stage::kL3, 8},
    {Field::kIpTtl, "ip_ttl", Stage::kL3, 8},
    {Field::kIpFrag, "ip_frag", Stage::kL3, 8},
    {Field::kIpv6Label, "ipv6_label", Stage::kL3, 20},
    {Field::kArpSpa, "arp_spa", Stage::kL3, 32},
    {Field::kArpTpa, "arp_tpa", Stage::kL3, 32},
    {Field::kArpSha, "arp_sha", Stage::kL3, 48},
    {Field::kArpOp, "arp_op", Stage::kL3, 16},
    {Field::kArpTha, "arp_tha", Stage::kL3, 48},
    {Field::kTpSrc, "tp_src", Stage::kL4, 16},
    {Field::kTpDst, "tp_dst", Stage::kL4, 16},
    {Field::kTcpFlags, "tcp_flags", Stage::kL4, 16},
    {Field::kIcmpType, "icmp_type", Stage::kL4, 8},
    {Field::kIcmpCode, "icmp_code", Stage::kL4, 8},
});

inline constexpr auto kSubfields = std::to_array<Subfield>({
    {Field::kVlanVid, "vlan_vid", Field::kVlanTci, 0, 12},
    {Field::kVlanPresent, "vlan_present", Field::kVlanTci, 12, 1},
    {Field::kVlanPcp, "vlan_pcp", Field::kVlanTci, 13, 3},
    {Field::kIpDscp, "ip_dscp", Field::kIpTos, 2, 6},
    {Field::kIpEcn, "ip_ecn", Field::kIpTos, 0, 2},
});

struct Computed {
  std::array<FieldInfo, kFieldCount> info{};
  std::size_t words = 0;
  std::array<std::size_t, kStages + 1> stage_begin{};
  bool ok = true;  // every field placed once, stages in order, subfields inside parents
};

constexpr Computed compute() {
  Computed c;
  std::array<bool, kFieldCount> seen{};
  const auto place = [&](Field f, const FieldInfo& fi) {
    const auto i = static_cast<std::size_t>(f);
    if (i >= kFieldCount || seen[i] || fi.width == 0 || fi.width > 64) {
      c.ok = false;
      return;
    }
    seen[i] = true;
    c.info[i] = fi;
  };
  unsigned word = 0, left = 0;  // left: free bits below the last field of `word`
  bool first = true;
  Stage stage = Stage::kMetadata;
  for (const Row& r : kLayout) {
    if (!first && r.stage != stage) {
      if (static_cast<unsigned>(r.stage) != static_cast<unsigned>(stage) + 1) c.ok = false;
      left = 0;  // a new stage starts a new word
    }
    if (first || r.width > left) {
      word += first ? 0 : 1;
      left = 64;
      if (first || r.stage != stage) c.stage_begin[static_cast<std::size_t>(r.stage)] = word;
    }
    first = false;
    stage = r.stage;
    left -= r.width <= left ? r.width : left;
    place(r.field, {r.name, static_cast<std::uint8_t>(word), static_cast<std::uint8_t>(left),
                    r.width, r.stage, r.field});
  }
  if (first || stage != Stage::kL4 || kLayout[0].stage != Stage::kMetadata) c.ok = false;
  c.words = word + 1;
  c.stage_begin[kStages] = c.words;
  for (const Subfield& s : kSubfields) {
    const auto p = static_cast<std::size_t>(s.parent);
    if (p >= kFieldCount || !seen[p] || c.info[p].parent != s.parent ||
        s.shift + s.width > c.info[p].width) {
      c.ok = false;
      continue;
    }
    const FieldInfo& pi = c.info[p];
    place(s.field, {s.name, pi.word, static_cast<std::uint8_t>(pi.shift + s.shift), s.width,
                    pi.stage, s.parent});
  }
  for (const bool b : seen) c.ok = c.ok && b;
  return c;
}

inline constexpr Computed kComputed = compute();
static_assert(kComputed.ok, "flow_key.h: every Field needs exactly one row; stages in order");

}  // namespace layout

// Derived from layout::kLayout.
inline constexpr std::size_t kWords = layout::kComputed.words;
// The stage of each word range: [kStageBegin[s], kStageBegin[s + 1]).
inline constexpr std::array<std::size_t, kStages + 1> kStageBegin = layout::kComputed.stage_begin;
// Indexed by Field.
inline constexpr std::array<FieldInfo, kFieldCount> kFieldInfo = layout::kComputed.info;

constexpr const FieldInfo& field_info(Field f) {
  return kFieldInfo[static_cast<std::size_t>(f)];
}
constexpr bool is_subfield(Field f) {
  return field_info(f).parent != f;
}

struct FlowKey {
  std::array<std::uint64_t, kWords> w{};  // the words; see the layout above

  [[nodiscard]] std::uint64_t get(Field f) const {
    const FieldInfo& fi = field_info(f);
    return (w[fi.word] >> fi.shift) & low_bits(fi.width);
  }
  void set(Field f, std::uint64_t v) {
    const FieldInfo& fi = field_info(f);
    const std::uint64_t m = low_bits(fi.width) << fi.shift;
    w[fi.word] = (w[fi.word] & ~m) | ((v << fi.shift) & m);
  }
  FlowKey& operator&=(const FlowKey& o) {
    for (std::size_t i = 0; i < kWords; ++i) w[i] &= o.w[i];
    return *this;
  }
  FlowKey& operator|=(const FlowKey& o) {
    for (std::size_t i = 0; i < kWords; ++i) w[i] |= o.w[i];
    return *this;
  }
  friend FlowKey operator&(FlowKey a, const FlowKey& b) { return a &= b; }
  friend bool operator==(const FlowKey&, const FlowKey&) = default;

  // Number of one bits in words [begin, end).
  [[nodiscard]] unsigned popcount(std::size_t begin = 0, std::size_t end = kWords) const {
    unsigned n = 0;
    for (std::size_t i = begin; i < end; ++i) n += static_cast<unsigned>(std::popcount(w[i]));
    return n;
  }
  // A key with every bit of field f set (for building masks).
  static FlowKey field_mask(Field f) {
    FlowKey k;
    k.set(f, ~0ULL);
    return k;
  }
};

// An OpenFlow-style match: the key must equal value on every bit set in mask.
struct Match {
  FlowKey value;  // bits outside mask are zero (normalize())
  FlowKey mask;   // one bit = must match, zero bit = wildcarded

  // Exact match on field f.
  void set_exact(Field f, std::uint64_t v) { set_masked(f, v, ~0ULL); }
  // Masked match on field f (arbitrary bit mask).
  void set_masked(Field f, std::uint64_t v, std::uint64_t m) {
    mask.set(f, m);
    value.set(f, v & m);
  }
  // Prefix match on a field of at most 64 bits: the top plen bits of v.
  void set_prefix(Field f, std::uint64_t v, unsigned plen) {
    const unsigned width = field_info(f).width;
    set_masked(f, v, plen == 0 ? 0 : low_bits(width) & ~low_bits(width - plen));
  }
  void normalize() { value &= mask; }
  [[nodiscard]] bool matches(const FlowKey& k) const {
    for (std::size_t i = 0; i < kWords; ++i)
      if ((k.w[i] & mask.w[i]) != value.w[i]) return false;
    return true;
  }
  friend bool operator==(const Match&, const Match&) = default;
};

// A readable form, e.g. "eth_type=0x800,ipv4_src=0xa000000/0xff000000" (for test output):
// fields in layout order; a field whose mask covers exactly one of its subfields is shown
// as that subfield ("vlan_vid=0x5", not "vlan_tci=0x5/0xfff").
std::string to_string(const Match& m);
std::string to_string(const FlowKey& k);

}  // namespace vsw::classifier
