// OpenFlow 1.3 actions (spec 7.2.5) and instructions (7.2.4).
//
// Action and Instruction are flat tagged structs: `type` is the wire type and only the
// members that type uses are meaningful (documented per member). A flat struct keeps lists
// of them contiguous and cheap to copy, and makes the text/JSON printers one switch each.
//
// Decode errors: an action whose length is below 8, not a multiple of 8, longer than what is
// left, or different from its type's fixed size is BAD_ACTION/BAD_LEN; an unknown type is
// BAD_ACTION/BAD_TYPE; set_field problems are BAD_SET_TYPE/BAD_SET_LEN/BAD_SET_ARGUMENT.
// Instructions likewise give BAD_INSTRUCTION/BAD_LEN and BAD_INSTRUCTION/UNKNOWN_INST.
// Experimenter actions/instructions are kept as opaque bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "openflow/oxm.h"
#include "openflow/wire.h"

namespace vsw::openflow {

enum class ActionType : uint16_t {
  kOutput = 0,
  kCopyTtlOut = 11,
  kCopyTtlIn = 12,
  kSetMplsTtl = 15,
  kDecMplsTtl = 16,
  kPushVlan = 17,
  kPopVlan = 18,
  kPushMpls = 19,
  kPopMpls = 20,
  kSetQueue = 21,
  kGroup = 22,
  kSetNwTtl = 23,
  kDecNwTtl = 24,
  kSetField = 25,
  kPushPbb = 26,
  kPopPbb = 27,
  kExperimenter = 0xffff,
};

// Reserved port numbers.
namespace port {
inline constexpr uint32_t kMax = 0xffffff00, kInPort = 0xfffffff8, kTable = 0xfffffff9,
                          kNormal = 0xfffffffa, kFlood = 0xfffffffb, kAll = 0xfffffffc,
                          kController = 0xfffffffd, kLocal = 0xfffffffe, kAny = 0xffffffff;
}
inline constexpr uint32_t kGroupAny = 0xffffffff, kGroupAll = 0xfffffffc;
inline constexpr uint32_t kNoBuffer = 0xffffffff;

struct Action {
  ActionType type = ActionType::kOutput;
  // output: port; set_queue: queue id; group: group id; set_mpls_ttl/set_nw_ttl: ttl;
  // push_vlan/push_mpls/pop_mpls/push_pbb: ethertype.
  uint32_t arg = 0;
  uint16_t max_len = 0;       // output only
  OxmField field;             // set_field only
  uint32_t experimenter = 0;  // experimenter only
  Bytes data;                 // experimenter only: bytes after the experimenter id

  static Action output(uint32_t port, uint16_t max_len = 0xffff) {
    return Action{ActionType::kOutput, port, max_len, {}, 0, {}};
  }
  static Action simple(ActionType t, uint32_t arg = 0) { return Action{t, arg, 0, {}, 0, {}}; }
  static Action set_field(const OxmField& f) {
    return Action{ActionType::kSetField, 0, 0, f, 0, {}};
  }
  bool operator==(const Action& o) const;
};

enum class InstructionType : uint16_t {
  kGotoTable = 1,
  kWriteMetadata = 2,
  kWriteActions = 3,
  kApplyActions = 4,
  kClearActions = 5,
  kMeter = 6,
  kExperimenter = 0xffff,
};

struct Instruction {
  InstructionType type = InstructionType::kApplyActions;
  uint8_t table_id = 0;             // goto_table
  uint64_t metadata = 0, mask = 0;  // write_metadata
  uint32_t meter_id = 0;            // meter
  std::vector<Action> actions;      // write_actions, apply_actions
  uint32_t experimenter = 0;        // experimenter
  Bytes data;                       // experimenter

  static Instruction apply(std::vector<Action> a) {
    Instruction i;
    i.actions = std::move(a);
    return i;
  }
  static Instruction write(std::vector<Action> a) {
    Instruction i;
    i.type = InstructionType::kWriteActions;
    i.actions = std::move(a);
    return i;
  }
  static Instruction goto_table(uint8_t t) {
    Instruction i;
    i.type = InstructionType::kGotoTable;
    i.table_id = t;
    return i;
  }
  bool operator==(const Instruction&) const = default;
};

// Whole lists: decode consumes the reader to its end.
void decode_actions(Reader& r, std::vector<Action>& out);
void encode_actions(Writer& w, const std::vector<Action>& in);
void decode_instructions(Reader& r, std::vector<Instruction>& out);
void encode_instructions(Writer& w, const std::vector<Instruction>& in);

const char* action_name(ActionType t);
const char* instruction_name(InstructionType t);
void append_port(std::string& out, uint32_t port);
void append_action(std::string& out, const Action& a);
void append_actions(std::string& out, const std::vector<Action>& a);
void append_instructions(std::string& out, const std::vector<Instruction>& in);

}  // namespace vsw::openflow
