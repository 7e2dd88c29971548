// TABLE_FEATURES. See table_features.h.
#include "ofswitch/table_features.h"

#include "ofproto/key_map.h"
#include "ofproto/tables.h"

namespace vsw::ofswitch {
namespace {

using openflow::ActionType;
using openflow::FeatureId;
using openflow::InstructionType;
using openflow::OxmId;

// OFPTFPT_* property types.
constexpr std::uint16_t kInstructions = 0, kNextTables = 2, kWriteActions = 4, kApplyActions = 6,
                        kMatch = 8, kWildcards = 10, kWriteSetfield = 12, kApplySetfield = 14;

// The actions xlate performs (others are accepted by FLOW_MOD but drop the packet).
constexpr ActionType kActions[] = {
    ActionType::kOutput,   ActionType::kPushVlan, ActionType::kPopVlan, ActionType::kGroup,
    ActionType::kSetNwTtl, ActionType::kDecNwTtl, ActionType::kSetField};
// The fields set_field rewrites in the datapath (xlate.cpp).
constexpr OxmId kSetFields[] = {
    OxmId::kEthDst, OxmId::kEthSrc,  OxmId::kVlanVid, OxmId::kVlanPcp, OxmId::kIpDscp,
    OxmId::kIpEcn,  OxmId::kIpv4Src, OxmId::kIpv4Dst, OxmId::kTcpSrc,  OxmId::kTcpDst,
    OxmId::kUdpSrc, OxmId::kUdpDst,  OxmId::kArpOp,   OxmId::kArpSpa,  OxmId::kArpTpa,
    OxmId::kArpSha, OxmId::kArpTha,  OxmId::kIpv6Src, OxmId::kIpv6Dst, OxmId::kIpv6Flabel};

std::uint32_t oxm_header(OxmId id, bool masked) {
  const openflow::OxmInfo& i = openflow::oxm_info(id);
  const unsigned len = masked ? i.len * 2U : i.len;
  return std::uint32_t(i.oxm_class) << 16 | std::uint32_t(i.field) << 9 | (masked ? 1U << 8 : 0U) |
         len;
}

openflow::TableFeatureProp ids(std::uint16_t type, const std::vector<std::uint16_t>& list) {
  openflow::TableFeatureProp p;
  p.type = type;
  for (const std::uint16_t t : list) p.ids.push_back(FeatureId{t, 0, {}});
  return p;
}

}  // namespace

openflow::TableFeaturesReply table_features() {
  std::vector<std::uint32_t> match, wildcards, setfields;
  for (unsigned i = 0; i < static_cast<unsigned>(OxmId::kCount); ++i) {
    const auto id = static_cast<OxmId>(i);
    if (!ofproto::oxm_supported(id)) continue;
    match.push_back(oxm_header(id, openflow::oxm_info(id).maskable));
    wildcards.push_back(oxm_header(id, false));
  }
  for (const OxmId id : kSetFields) setfields.push_back(oxm_header(id, false));
  std::vector<std::uint16_t> actions;
  for (const ActionType a : kActions) actions.push_back(static_cast<std::uint16_t>(a));

  openflow::TableFeaturesReply out;
  for (unsigned t = 0; t < ofproto::kNumTables; ++t) {
    openflow::TableFeatures f;
    f.table_id = static_cast<std::uint8_t>(t);
    f.metadata_match = ~std::uint64_t{0};
    f.metadata_write = ~std::uint64_t{0};
    f.max_entries = 1'000'000;
    std::vector<std::uint16_t> ins = {static_cast<std::uint16_t>(InstructionType::kWriteMetadata),
                                      static_cast<std::uint16_t>(InstructionType::kWriteActions),
                                      static_cast<std::uint16_t>(InstructionType::kApplyActions),
                                      static_cast<std::uint16_t>(InstructionType::kClearActions)};
    if (t + 1 < ofproto::kNumTables)
      ins.insert(ins.begin(), static_cast<std::uint16_t>(InstructionType::kGotoTable));
    f.properties.push_back(ids(kInstructions, ins));
    openflow::TableFeatureProp next;
    next.type = kNextTables;
    for (unsigned n = t + 1; n < ofproto::kNumTables; ++n)
      next.tables.push_back(static_cast<std::uint8_t>(n));
    f.properties.push_back(std::move(next));
    f.properties.push_back(ids(kWriteActions, actions));
    f.properties.push_back(ids(kApplyActions, actions));
    for (const auto& [type, list] :
         {std::pair{kMatch, &match}, std::pair{kWildcards, &wildcards},
          std::pair{kWriteSetfield, &setfields}, std::pair{kApplySetfield, &setfields}}) {
      openflow::TableFeatureProp p;
      p.type = type;
      p.oxm_ids = *list;
      f.properties.push_back(std::move(p));
    }
    out.entries.push_back(std::move(f));
  }
  return out;
}

}  // namespace vsw::ofswitch
