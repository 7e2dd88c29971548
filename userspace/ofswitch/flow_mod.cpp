// FLOW_MOD checks and FLOW/AGGREGATE stats. See flow_mod.h.
#include "ofswitch/flow_mod.h"

#include <linux/types.h>
#include <vsw.h>

#include <cerrno>

#include "ofproto/key_map.h"

namespace vsw::ofswitch {
namespace {

using openflow::ActionType;
using openflow::ErrType;
using openflow::InstructionType;
using openflow::OfError;
namespace port = openflow::port;

// Error codes of OpenFlow 1.3.5 (7.4.4) used here.
constexpr std::uint16_t kBrcBufferUnknown = 8;
constexpr std::uint16_t kBacBadExperimenter = 2, kBacBadOutPort = 4, kBacBadOutGroup = 9,
                        kBacBadSetArgument = 15;
constexpr std::uint16_t kBicUnsupInst = 1, kBicBadTableId = 2, kBicBadExperimenter = 5;
constexpr std::uint16_t kBmcBadField = 6, kBmcBadValue = 7;
constexpr std::uint16_t kFmfcUnknown = 0, kFmfcTableFull = 1, kFmfcBadTableId = 2, kFmfcOverlap = 3,
                        kFmfcBadCommand = 6, kFmfcBadFlags = 7;
// OFPFF_SEND_FLOW_REM | CHECK_OVERLAP | RESET_COUNTS | NO_PKT_COUNTS | NO_BYT_COUNTS.
constexpr std::uint16_t kKnownFlags = 0x1f;

OfError err(ErrType t, std::uint16_t c) {
  return openflow::make_error(t, c);
}

// An output port a rule may name: a datapath port, or a reserved port other than TABLE
// (PACKET_OUT only) and ANY.
bool valid_output_port(std::uint32_t p, bool packet_out) {
  if (p >= 1 && p <= kMaxPort) return true;
  if (p == port::kTable) return packet_out;
  return p == port::kInPort || p == port::kNormal || p == port::kFlood || p == port::kAll ||
         p == port::kController || p == port::kLocal;
}

}  // namespace

std::optional<OfError> check_datapath_support(const std::vector<openflow::Action>& actions,
                                              std::uint32_t dp_features) {
  if (dp_features & VSW_DP_F_SET_EXT) return std::nullopt;
  for (const openflow::Action& a : actions) {
    if (a.type != ActionType::kSetField) continue;
    switch (a.field.id) {
      case openflow::OxmId::kIpv6Src:
      case openflow::OxmId::kIpv6Dst:
      case openflow::OxmId::kIpv6Flabel:
      case openflow::OxmId::kArpOp:
      case openflow::OxmId::kArpSpa:
      case openflow::OxmId::kArpTpa:
      case openflow::OxmId::kArpSha:
      case openflow::OxmId::kArpTha:
        return err(ErrType::kBadAction, kBacBadSetArgument);
      default:
        break;
    }
  }
  return std::nullopt;
}

std::optional<OfError> check_actions(const std::vector<openflow::Action>& actions, bool packet_out,
                                     const ofproto::GroupTable* groups) {
  for (const openflow::Action& a : actions) {
    switch (a.type) {
      case ActionType::kOutput:
        if (!valid_output_port(a.arg, packet_out)) return err(ErrType::kBadAction, kBacBadOutPort);
        break;
      case ActionType::kGroup:
        if (!groups || !groups->contains(a.arg)) return err(ErrType::kBadAction, kBacBadOutGroup);
        break;
      case ActionType::kExperimenter:
        return err(ErrType::kBadAction, kBacBadExperimenter);
      default:
        break;
    }
  }
  return std::nullopt;
}

namespace {

std::optional<OfError> check_instructions(std::uint8_t table_id,
                                          const std::vector<openflow::Instruction>& ins,
                                          const ofproto::GroupTable* groups) {
  unsigned seen = 0;
  for (const openflow::Instruction& i : ins) {
    const unsigned bit = 1U << (static_cast<unsigned>(i.type) & 15);
    if (i.type != InstructionType::kExperimenter && (seen & bit))
      return err(ErrType::kBadInstruction, kBicUnsupInst);
    seen |= bit;
    switch (i.type) {
      case InstructionType::kGotoTable:
        if (i.table_id <= table_id || i.table_id >= ofproto::kNumTables)
          return err(ErrType::kBadInstruction, kBicBadTableId);
        break;
      case InstructionType::kWriteActions:
      case InstructionType::kApplyActions:
        if (auto e = check_actions(i.actions, false, groups)) return e;
        break;
      case InstructionType::kWriteMetadata:
      case InstructionType::kClearActions:
        break;
      case InstructionType::kMeter:  // no meters (METER_FEATURES would say 0)
        return err(ErrType::kBadInstruction, kBicUnsupInst);
      case InstructionType::kExperimenter:
        return err(ErrType::kBadInstruction, kBicBadExperimenter);
    }
  }
  return std::nullopt;
}

// The match as the classifier sees it, or the BAD_MATCH error.
std::optional<OfError> check_match(const openflow::Match& m,
                                   std::optional<classifier::Match>* out = nullptr) {
  if (auto e = openflow::validate_match(m)) return e;
  auto cm = ofproto::from_oxm(m);
  if (!cm)
    return err(ErrType::kBadMatch,
               cm.error().code.value() == EOPNOTSUPP ? kBmcBadField : kBmcBadValue);
  if (out) *out = *cm;
  return std::nullopt;
}

// Table ids are 0..254 or ALL (255): every uint8_t is valid here.
std::optional<OfError> check_selector(std::uint8_t table_id, const openflow::Match& m,
                                      ofproto::RuleFilter& f, std::uint64_t cookie,
                                      std::uint64_t cookie_mask, std::uint32_t out_port,
                                      std::uint32_t out_group) {
  std::optional<classifier::Match> cm;
  if (auto e = check_match(m, &cm)) return e;
  f.table_id = table_id;
  f.match = *cm;
  f.cookie = cookie;
  f.cookie_mask = cookie_mask;
  f.out_port = out_port;
  f.out_group = out_group;
  return std::nullopt;
}

void fill_duration(openflow::FlowStats& s, std::int64_t age_ms) {
  if (age_ms < 0) age_ms = 0;
  s.duration_sec = static_cast<std::uint32_t>(age_ms / 1000);
  s.duration_nsec = static_cast<std::uint32_t>(age_ms % 1000) * 1'000'000U;
}

}  // namespace

std::optional<OfError> apply_flow_mod(ofproto::Tables& tables, const openflow::FlowMod& fm,
                                      const ofproto::GroupTable* groups,
                                      std::uint32_t dp_features) {
  using Cmd = openflow::FlowModCommand;
  if (fm.command > static_cast<std::uint8_t>(Cmd::kDeleteStrict))
    return err(ErrType::kFlowModFailed, kFmfcBadCommand);
  const auto cmd = static_cast<Cmd>(fm.command);
  const bool is_delete = cmd == Cmd::kDelete || cmd == Cmd::kDeleteStrict;
  if (fm.table_id >= ofproto::kNumTables && !(is_delete && fm.table_id == ofproto::kAllTables))
    return err(ErrType::kFlowModFailed, kFmfcBadTableId);
  if (fm.flags & ~kKnownFlags) return err(ErrType::kFlowModFailed, kFmfcBadFlags);
  if (!is_delete && fm.buffer_id != openflow::kNoBuffer)
    return err(ErrType::kBadRequest, kBrcBufferUnknown);  // no packet buffering
  std::optional<classifier::Match> match;  // converted once, for the check and the tables
  if (auto e = check_match(fm.match, &match)) return e;
  if (!is_delete) {
    if (auto e = check_instructions(fm.table_id, fm.instructions, groups)) return e;
    for (const openflow::Instruction& i : fm.instructions)
      if (auto e = check_datapath_support(i.actions, dp_features)) return e;
  }
  if (auto r = tables.apply(fm, *match); !r) {
    switch (r.error().code.value()) {
      case EEXIST:
        return err(ErrType::kFlowModFailed, kFmfcOverlap);
      case ENOSPC:
      case ENOMEM:
        return err(ErrType::kFlowModFailed, kFmfcTableFull);
      default:
        return err(ErrType::kFlowModFailed, kFmfcUnknown);
    }
  }
  return std::nullopt;
}

std::vector<openflow::FlowStats> flow_stats(const ofproto::Tables& tables,
                                            const openflow::FlowStatsRequest& req,
                                            std::int64_t now_ms, openflow::OfError* error) {
  std::vector<openflow::FlowStats> out;
  ofproto::RuleFilter f;
  if (auto e = check_selector(req.table_id, req.match, f, req.cookie, req.cookie_mask, req.out_port,
                              req.out_group)) {
    *error = *e;
    return out;
  }
  for (const ofproto::RuleId& r : tables.select(f)) {
    openflow::FlowStats s;
    s.table_id = r->table_id;
    fill_duration(s, now_ms - r->created_ms);
    s.priority = static_cast<std::uint16_t>(r->priority);
    s.idle_timeout = r->idle_timeout;
    s.hard_timeout = r->hard_timeout;
    s.flags = r->flags;
    s.cookie = r->cookie;
    s.packet_count = r->counters->packets.load(std::memory_order_relaxed);
    s.byte_count = r->counters->bytes.load(std::memory_order_relaxed);
    s.match = r->oxm();
    s.instructions = r->instructions();
    out.push_back(std::move(s));
  }
  return out;
}

openflow::AggregateStatsReply aggregate_stats(const ofproto::Tables& tables,
                                              const openflow::AggregateStatsRequest& req,
                                              openflow::OfError* error) {
  openflow::AggregateStatsReply out;
  ofproto::RuleFilter f;
  if (auto e = check_selector(req.table_id, req.match, f, req.cookie, req.cookie_mask, req.out_port,
                              req.out_group)) {
    *error = *e;
    return out;
  }
  for (const ofproto::RuleId& r : tables.select(f)) {
    out.packet_count += r->counters->packets.load(std::memory_order_relaxed);
    out.byte_count += r->counters->bytes.load(std::memory_order_relaxed);
    ++out.flow_count;
  }
  return out;
}

}  // namespace vsw::ofswitch
