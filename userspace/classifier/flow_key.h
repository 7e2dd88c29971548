// The daemon's flow key and OpenFlow-style matches (value + mask) over it.
//
// What? A FlowKey is the packet metadata and headers the OpenFlow pipeline classifies on,
// stored as kWords 64-bit words in a fixed layout. The same type holds a rule's match
// value, its mask, and a lookup's wildcard mask (the bits a lookup consulted), so all
// masked operations are word-wise ANDs and the classifier never branches on fields.
//
// Layout. Words are grouped into the four lookup stages, in the order a staged lookup
// consults them (see classifier.h): metadata (metadata, in_port, reg0-15), L2 (Ethernet
// addresses, eth_type, VLAN TCI), L3 (IPv4/IPv6 addresses, proto, tos, ttl, frag, IPv6
// flow label), L4 (transport ports, TCP flags). Field bit positions are given by the
// kFieldInfo table; a field never straddles two words except IPv6 addresses, which take
// two whole words each. This is the daemon's key, not the kernel's (netlink-proto/).
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

inline constexpr std::size_t kWords = 19;

// The stage of each word range: [kStageBegin[s], kStageBegin[s + 1]).
enum class Stage : std::uint8_t { kMetadata = 0, kL2 = 1, kL3 = 2, kL4 = 3 };
inline constexpr std::size_t kStages = 4;
inline constexpr std::array<std::size_t, kStages + 1> kStageBegin = {0, 10, 12, 18, 19};

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
  kCount,
};

struct FieldInfo {
  const char* name;
  std::uint8_t word;   // index into FlowKey::w
  std::uint8_t shift;  // position of the field's least significant bit in the word
  std::uint8_t width;  // bits
};

inline constexpr std::array<FieldInfo, static_cast<std::size_t>(Field::kCount)> kFieldInfo = {{
    {"metadata", 0, 0, 64},     {"in_port", 1, 32, 32},     {"reg0", 2, 32, 32},
    {"reg1", 2, 0, 32},         {"reg2", 3, 32, 32},        {"reg3", 3, 0, 32},
    {"reg4", 4, 32, 32},        {"reg5", 4, 0, 32},         {"reg6", 5, 32, 32},
    {"reg7", 5, 0, 32},         {"reg8", 6, 32, 32},        {"reg9", 6, 0, 32},
    {"reg10", 7, 32, 32},       {"reg11", 7, 0, 32},        {"reg12", 8, 32, 32},
    {"reg13", 8, 0, 32},        {"reg14", 9, 32, 32},       {"reg15", 9, 0, 32},
    {"eth_dst", 10, 16, 48},    {"eth_type", 10, 0, 16},    {"eth_src", 11, 16, 48},
    {"vlan_tci", 11, 0, 16},    {"ipv4_src", 12, 32, 32},   {"ipv4_dst", 12, 0, 32},
    {"ipv6_src_hi", 13, 0, 64}, {"ipv6_src_lo", 14, 0, 64}, {"ipv6_dst_hi", 15, 0, 64},
    {"ipv6_dst_lo", 16, 0, 64}, {"ip_proto", 17, 56, 8},    {"ip_tos", 17, 48, 8},
    {"ip_ttl", 17, 40, 8},      {"ip_frag", 17, 32, 8},     {"ipv6_label", 17, 0, 20},
    {"tp_src", 18, 48, 16},     {"tp_dst", 18, 32, 16},     {"tcp_flags", 18, 16, 16},
}};

constexpr const FieldInfo& field_info(Field f) {
  return kFieldInfo[static_cast<std::size_t>(f)];
}
constexpr Field reg_field(unsigned i) {
  return static_cast<Field>(static_cast<unsigned>(Field::kReg0) + i);
}
constexpr std::uint64_t low_bits(unsigned n) {
  return n >= 64 ? ~0ULL : (1ULL << n) - 1;
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

// A readable form, e.g. "eth_type=0x800,ipv4_src=0xa000000/0xff000000" (for test output).
std::string to_string(const Match& m);
std::string to_string(const FlowKey& k);

}  // namespace vsw::classifier
