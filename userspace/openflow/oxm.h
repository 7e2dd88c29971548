// OXM match fields (OpenFlow 1.3 section 7.2.3) and the ofp_match structure.
//
// What? A Match is the ordered list of OXM TLVs of a flow, exactly as it was on the wire, so
// encoding a decoded match reproduces its bytes. Each OxmField keeps value and mask inline
// (no heap) because NSX-like flow tables decode hundreds of thousands of them.
//
// Supported: all 40 OpenFlow 1.3 basic fields (in_port .. ipv6_exthdr) with the spec's sizes
// and maskability, plus Nicira's NXM_NX_REG0..15 (class 0x0001), which Open vSwitch tools
// put in OpenFlow 1.3 matches.
//
// Validation on decode (in this order, first failure wins):
//   BAD_MATCH/BAD_TYPE      ofp_match.type is not OFPMT_OXM
//   BAD_MATCH/BAD_LEN       length fields that do not fit, an OXM whose length is not the
//                           field's size (or twice it when masked)
//   BAD_MATCH/BAD_FIELD     unknown class or field
//   BAD_MATCH/BAD_MASK      a mask on a field the spec does not allow to be masked
//   BAD_MATCH/BAD_WILDCARDS a value with 1-bits where its mask is 0
//   BAD_MATCH/BAD_VALUE     a value wider than the field (vlan_pcp > 7, ...)
//   BAD_MATCH/DUP_FIELD     the same field twice
//   BAD_MATCH/BAD_PREREQ    a field whose prerequisites are not in the match (tcp_dst
//                           without ip_proto=6, ip_proto without eth_type IPv4/IPv6, ...)
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "openflow/wire.h"

namespace vsw::openflow {

// Dense ids: 0..39 are the basic OXM field numbers; 40..55 are NXM_NX_REG0..15.
enum class OxmId : uint8_t {
  kInPort = 0,
  kInPhyPort,
  kMetadata,
  kEthDst,
  kEthSrc,
  kEthType,
  kVlanVid,
  kVlanPcp,
  kIpDscp,
  kIpEcn,
  kIpProto,
  kIpv4Src,
  kIpv4Dst,
  kTcpSrc,
  kTcpDst,
  kUdpSrc,
  kUdpDst,
  kSctpSrc,
  kSctpDst,
  kIcmpv4Type,
  kIcmpv4Code,
  kArpOp,
  kArpSpa,
  kArpTpa,
  kArpSha,
  kArpTha,
  kIpv6Src,
  kIpv6Dst,
  kIpv6Flabel,
  kIcmpv6Type,
  kIcmpv6Code,
  kIpv6NdTarget,
  kIpv6NdSll,
  kIpv6NdTll,
  kMplsLabel,
  kMplsTc,
  kMplsBos,
  kPbbIsid,
  kTunnelId,
  kIpv6Exthdr,
  kReg0 = 40,
  kCount = 56,
};

inline constexpr uint16_t kOxmClassBasic = 0x8000;
inline constexpr uint16_t kOxmClassNxm1 = 0x0001;
inline constexpr uint16_t kVidPresent = 0x1000;

enum class OxmFormat : uint8_t { kDec, kHex, kMac, kIpv4, kIpv6 };

struct OxmInfo {
  const char* name;  // spec name, lower case ("ipv4_src"); "reg0".."reg15" for NXM
  uint16_t oxm_class;
  uint8_t field;
  uint8_t len;  // value size in bytes
  bool maskable;
  uint8_t bits;  // significant bits when narrower than len*8, else 0
  OxmFormat format;
};

const OxmInfo& oxm_info(OxmId id);
std::optional<OxmId> oxm_lookup(uint16_t oxm_class, uint8_t field);
std::optional<OxmId> oxm_by_name(std::string_view name);

struct OxmField {
  OxmId id = OxmId::kInPort;
  bool has_mask = false;
  std::array<uint8_t, 16> value{};
  std::array<uint8_t, 16> mask{};

  uint8_t len() const { return oxm_info(id).len; }
  // The value (or mask) as an integer, for fields of at most 8 bytes.
  uint64_t value_u64() const;
  uint64_t mask_u64() const;

  static OxmField exact(OxmId id, uint64_t v);
  static OxmField masked(OxmId id, uint64_t v, uint64_t m);
  static OxmField exact_bytes(OxmId id, ByteSpan v);
  static OxmField masked_bytes(OxmId id, ByteSpan v, ByteSpan m);

  bool operator==(const OxmField& o) const;
};

struct Match {
  std::vector<OxmField> fields;  // wire order

  const OxmField* find(OxmId id) const;
  bool operator==(const Match&) const = default;
};

// One OXM TLV. `in_set_field` switches the error model to the set_field action's
// (BAD_ACTION/BAD_SET_TYPE, BAD_SET_LEN, BAD_SET_ARGUMENT) and refuses masks.
void decode_oxm(Reader& r, OxmField& f, bool in_set_field);
void encode_oxm(Writer& w, const OxmField& f);
size_t oxm_wire_len(const OxmField& f);

// ofp_match including its trailing padding to 8 bytes.
void decode_match(Reader& r, Match& m);
void encode_match(Writer& w, const Match& m);
// Duplicate and prerequisite checks over a whole match.
std::optional<OfError> validate_match(const Match& m);

// "1.2.3.4", "aa:bb:..", "0x800", "17" depending on the field's format.
void append_oxm_value(std::string& out, const OxmField& f, bool mask);
// name=value[/mask]
void append_oxm(std::string& out, const OxmField& f);
void append_match(std::string& out, const Match& m);

}  // namespace vsw::openflow
