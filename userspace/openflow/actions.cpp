// Action and instruction codecs and their text form. See actions.h.
#include "openflow/actions.h"

#include <algorithm>
#include <charconv>

namespace vsw::openflow {
namespace {

// Fixed wire size of each action type; 0 for variable (set_field, experimenter) or unknown.
uint16_t fixed_len(ActionType t) {
  switch (t) {
    case ActionType::kOutput:
      return 16;
    case ActionType::kCopyTtlOut:
    case ActionType::kCopyTtlIn:
    case ActionType::kSetMplsTtl:
    case ActionType::kDecMplsTtl:
    case ActionType::kPushVlan:
    case ActionType::kPopVlan:
    case ActionType::kPushMpls:
    case ActionType::kPopMpls:
    case ActionType::kSetQueue:
    case ActionType::kGroup:
    case ActionType::kSetNwTtl:
    case ActionType::kDecNwTtl:
    case ActionType::kPushPbb:
    case ActionType::kPopPbb:
      return 8;
    default:
      return 0;
  }
}

bool known(ActionType t) {
  return fixed_len(t) || t == ActionType::kSetField || t == ActionType::kExperimenter;
}

void append_num(std::string& out, uint64_t v, bool hex = false) {
  char buf[24];
  if (hex) out += "0x";
  auto r = std::to_chars(buf, buf + sizeof buf, v, hex ? 16 : 10);
  out.append(buf, size_t(r.ptr - buf));
}

}  // namespace

bool Action::operator==(const Action& o) const {
  return type == o.type && arg == o.arg && max_len == o.max_len &&
         (type != ActionType::kSetField || field == o.field) && experimenter == o.experimenter &&
         data == o.data;
}

void decode_actions(Reader& r, std::vector<Action>& out) {
  out.clear();
  out.reserve(r.left() / 8);
  while (r.left() && !r.failed()) {
    auto type = r.peek16(0);
    auto len = r.peek16(2);
    if (!type || !len || *len < 8 || *len % 8 || *len > r.left())
      return r.fail(ErrType::kBadAction, code::kActBadLen);
    ActionType t = ActionType(*type);
    if (!known(t)) return r.fail(ErrType::kBadAction, code::kActBadType);
    if (fixed_len(t) && *len != fixed_len(t)) return r.fail(ErrType::kBadAction, code::kActBadLen);
    Reader a = r.sub(*len, ErrType::kBadAction, code::kActBadLen);
    a.skip(4);
    Action act;
    act.type = t;
    switch (t) {
      case ActionType::kOutput:
        act.arg = a.u32();
        act.max_len = a.u16();
        break;
      case ActionType::kSetMplsTtl:
      case ActionType::kSetNwTtl:
        act.arg = a.u8();
        break;
      case ActionType::kPushVlan:
      case ActionType::kPushMpls:
      case ActionType::kPopMpls:
      case ActionType::kPushPbb:
        act.arg = a.u16();
        break;
      case ActionType::kSetQueue:
      case ActionType::kGroup:
        act.arg = a.u32();
        break;
      case ActionType::kSetField:
        decode_oxm(a, act.field, true);
        if (!a.failed() && round8(4 + oxm_wire_len(act.field)) != *len)
          a.fail(ErrType::kBadAction, code::kActBadSetLen);
        break;
      case ActionType::kExperimenter: {
        act.experimenter = a.u32();
        ByteSpan d = a.rest();
        act.data.assign(d.begin(), d.end());
        break;
      }
      default:
        break;
    }
    r.absorb(a);
    out.push_back(std::move(act));
  }
}

void encode_actions(Writer& w, const std::vector<Action>& in) {
  for (const Action& a : in) {
    size_t start = w.size();
    w.u16(uint16_t(a.type));
    w.u16(0);
    switch (a.type) {
      case ActionType::kOutput:
        w.u32(a.arg);
        w.u16(a.max_len);
        w.pad(6);
        break;
      case ActionType::kSetMplsTtl:
      case ActionType::kSetNwTtl:
        w.u8(uint8_t(a.arg));
        w.pad(3);
        break;
      case ActionType::kPushVlan:
      case ActionType::kPushMpls:
      case ActionType::kPopMpls:
      case ActionType::kPushPbb:
        w.u16(uint16_t(a.arg));
        w.pad(2);
        break;
      case ActionType::kSetQueue:
      case ActionType::kGroup:
        w.u32(a.arg);
        break;
      case ActionType::kSetField:
        encode_oxm(w, a.field);
        break;
      case ActionType::kExperimenter:
        w.u32(a.experimenter);
        w.bytes(a.data);
        break;
      default:
        w.pad(4);
        break;
    }
    w.pad_to8(start);
    w.patch16(start + 2, uint16_t(w.size() - start));
  }
}

void decode_instructions(Reader& r, std::vector<Instruction>& out) {
  out.clear();
  out.reserve(std::min<size_t>(r.left() / 8, 6));
  while (r.left() && !r.failed()) {
    auto type = r.peek16(0);
    auto len = r.peek16(2);
    if (!type || !len || *len < 8 || *len % 8 || *len > r.left())
      return r.fail(ErrType::kBadInstruction, code::kInstBadLen);
    Instruction in;
    in.type = InstructionType(*type);
    Reader b = r.sub(*len, ErrType::kBadInstruction, code::kInstBadLen);
    b.skip(4);
    size_t want = 0;
    switch (in.type) {
      case InstructionType::kGotoTable:
        in.table_id = b.u8();
        b.skip(3);
        want = 8;
        break;
      case InstructionType::kWriteMetadata:
        b.skip(4);
        in.metadata = b.u64();
        in.mask = b.u64();
        want = 24;
        break;
      case InstructionType::kWriteActions:
      case InstructionType::kApplyActions: {
        b.skip(4);
        if (b.failed()) break;
        Reader acts = b.sub(b.left(), ErrType::kBadAction, code::kActBadLen);
        decode_actions(acts, in.actions);
        b.absorb(acts);
        break;
      }
      case InstructionType::kClearActions:
        b.skip(4);
        want = 8;
        break;
      case InstructionType::kMeter:
        in.meter_id = b.u32();
        want = 8;
        break;
      case InstructionType::kExperimenter: {
        in.experimenter = b.u32();
        ByteSpan d = b.rest();
        in.data.assign(d.begin(), d.end());
        break;
      }
      default:
        return r.fail(ErrType::kBadInstruction, code::kInstUnknown);
    }
    if (want && *len != want) return r.fail(ErrType::kBadInstruction, code::kInstBadLen);
    r.absorb(b);
    out.push_back(std::move(in));
  }
}

void encode_instructions(Writer& w, const std::vector<Instruction>& in) {
  for (const Instruction& i : in) {
    size_t start = w.size();
    w.u16(uint16_t(i.type));
    w.u16(0);
    switch (i.type) {
      case InstructionType::kGotoTable:
        w.u8(i.table_id);
        w.pad(3);
        break;
      case InstructionType::kWriteMetadata:
        w.pad(4);
        w.u64(i.metadata);
        w.u64(i.mask);
        break;
      case InstructionType::kWriteActions:
      case InstructionType::kApplyActions:
        w.pad(4);
        encode_actions(w, i.actions);
        break;
      case InstructionType::kMeter:
        w.u32(i.meter_id);
        break;
      case InstructionType::kExperimenter:
        w.u32(i.experimenter);
        w.bytes(i.data);
        break;
      default:
        w.pad(4);
        break;
    }
    w.pad_to8(start);
    w.patch16(start + 2, uint16_t(w.size() - start));
  }
}

const char* action_name(ActionType t) {
  switch (t) {
    case ActionType::kOutput:
      return "output";
    case ActionType::kCopyTtlOut:
      return "copy_ttl_out";
    case ActionType::kCopyTtlIn:
      return "copy_ttl_in";
    case ActionType::kSetMplsTtl:
      return "set_mpls_ttl";
    case ActionType::kDecMplsTtl:
      return "dec_mpls_ttl";
    case ActionType::kPushVlan:
      return "push_vlan";
    case ActionType::kPopVlan:
      return "pop_vlan";
    case ActionType::kPushMpls:
      return "push_mpls";
    case ActionType::kPopMpls:
      return "pop_mpls";
    case ActionType::kSetQueue:
      return "set_queue";
    case ActionType::kGroup:
      return "group";
    case ActionType::kSetNwTtl:
      return "set_nw_ttl";
    case ActionType::kDecNwTtl:
      return "dec_nw_ttl";
    case ActionType::kSetField:
      return "set_field";
    case ActionType::kPushPbb:
      return "push_pbb";
    case ActionType::kPopPbb:
      return "pop_pbb";
    case ActionType::kExperimenter:
      return "experimenter";
  }
  return "unknown";
}

const char* instruction_name(InstructionType t) {
  switch (t) {
    case InstructionType::kGotoTable:
      return "goto_table";
    case InstructionType::kWriteMetadata:
      return "write_metadata";
    case InstructionType::kWriteActions:
      return "write_actions";
    case InstructionType::kApplyActions:
      return "apply_actions";
    case InstructionType::kClearActions:
      return "clear_actions";
    case InstructionType::kMeter:
      return "meter";
    case InstructionType::kExperimenter:
      return "experimenter";
  }
  return "unknown";
}

void append_port(std::string& out, uint32_t p) {
  switch (p) {
    case port::kInPort:
      out += "IN_PORT";
      return;
    case port::kTable:
      out += "TABLE";
      return;
    case port::kNormal:
      out += "NORMAL";
      return;
    case port::kFlood:
      out += "FLOOD";
      return;
    case port::kAll:
      out += "ALL";
      return;
    case port::kController:
      out += "CONTROLLER";
      return;
    case port::kLocal:
      out += "LOCAL";
      return;
    case port::kAny:
      out += "ANY";
      return;
    default:
      append_num(out, p);
  }
}

void append_action(std::string& out, const Action& a) {
  if (a.type == ActionType::kOutput) {  // as ovs-ofctl: output:2, LOCAL, CONTROLLER:128
    if (a.arg < port::kMax) out += "output:";
    append_port(out, a.arg);
    if (a.arg == port::kController) {
      out += ':';
      append_num(out, a.max_len);
    }
    return;
  }
  out += action_name(a.type);
  switch (a.type) {
    case ActionType::kSetMplsTtl:
    case ActionType::kSetNwTtl:
    case ActionType::kSetQueue:
    case ActionType::kGroup:
      out += ':';
      append_num(out, a.arg);
      break;
    case ActionType::kPushVlan:
    case ActionType::kPushMpls:
    case ActionType::kPopMpls:
    case ActionType::kPushPbb:
      out += ':';
      append_num(out, a.arg, true);
      break;
    case ActionType::kSetField:
      out += ':';
      append_oxm_value(out, a.field, false);
      out += "->";
      out += oxm_info(a.field.id).name;
      break;
    case ActionType::kExperimenter:
      out += ':';
      append_num(out, a.experimenter, true);
      out += ",len=";
      append_num(out, a.data.size());
      break;
    default:
      break;
  }
}

void append_actions(std::string& out, const std::vector<Action>& acts) {
  if (acts.empty()) {
    out += "drop";
    return;
  }
  for (size_t i = 0; i < acts.size(); ++i) {
    if (i) out += ',';
    append_action(out, acts[i]);
  }
}

void append_instructions(std::string& out, const std::vector<Instruction>& in) {
  if (in.empty()) {
    out += "drop";
    return;
  }
  for (size_t k = 0; k < in.size(); ++k) {
    const Instruction& i = in[k];
    if (k) out += ',';
    switch (i.type) {
      case InstructionType::kApplyActions:
        append_actions(out, i.actions);
        break;
      case InstructionType::kWriteActions:
        out += "write_actions(";
        append_actions(out, i.actions);
        out += ')';
        break;
      case InstructionType::kGotoTable:
        out += "goto_table:";
        append_num(out, i.table_id);
        break;
      case InstructionType::kWriteMetadata:
        out += "write_metadata:";
        append_num(out, i.metadata, true);
        out += '/';
        append_num(out, i.mask, true);
        break;
      case InstructionType::kClearActions:
        out += "clear_actions";
        break;
      case InstructionType::kMeter:
        out += "meter:";
        append_num(out, i.meter_id);
        break;
      default:
        out += instruction_name(i.type);
        out += ':';
        append_num(out, i.experimenter, true);
        break;
    }
  }
}

}  // namespace vsw::openflow
