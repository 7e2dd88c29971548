// A printing visitor over the layouts of messages.h; see print.h for the two formats.
#include "openflow/print.h"

#include <charconv>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace vsw::openflow {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void num(std::string& out, uint64_t v, bool hex = false) {
  char buf[24];
  if (hex) out += "0x";
  auto r = std::to_chars(buf, buf + sizeof buf, v, hex ? 16 : 10);
  out.append(buf, size_t(r.ptr - buf));
}

void hex_bytes(std::string& out, ByteSpan b) {
  for (uint8_t c : b) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
}

void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (uint8_t(c) < 0x20 || uint8_t(c) >= 0x7f) {
      out += "\\u00";
      out += kHex[uint8_t(c) >> 4];
      out += kHex[uint8_t(c) & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

void oxm_json_value(std::string& out, const OxmField& f, bool mask) {
  const OxmInfo& info = oxm_info(f.id);
  if (info.format == OxmFormat::kDec || (info.format == OxmFormat::kHex && info.len <= 8)) {
    num(out, mask ? f.mask_u64() : f.value_u64());
  } else {
    std::string s;
    append_oxm_value(s, f, mask);
    json_string(out, s);
  }
}

void oxm_json(std::string& out, const OxmField& f) {
  out += "{\"value\":";
  oxm_json_value(out, f, false);
  if (f.has_mask) {
    out += ",\"mask\":";
    oxm_json_value(out, f, true);
  }
  out += '}';
}

void actions_json(std::string& out, const std::vector<Action>& acts) {
  out += '[';
  for (size_t i = 0; i < acts.size(); ++i) {
    const Action& a = acts[i];
    if (i) out += ',';
    out += "{\"type\":\"";
    out += action_name(a.type);
    out += '"';
    switch (a.type) {
      case ActionType::kOutput:
        out += ",\"port\":";
        if (a.arg >= port::kMax) {
          out += '"';
          append_port(out, a.arg);
          out += '"';
        } else {
          num(out, a.arg);
        }
        out += ",\"max_len\":";
        num(out, a.max_len);
        break;
      case ActionType::kSetMplsTtl:
      case ActionType::kSetNwTtl:
        out += ",\"ttl\":";
        num(out, a.arg);
        break;
      case ActionType::kPushVlan:
      case ActionType::kPushMpls:
      case ActionType::kPopMpls:
      case ActionType::kPushPbb:
        out += ",\"ethertype\":";
        num(out, a.arg);
        break;
      case ActionType::kSetQueue:
        out += ",\"queue_id\":";
        num(out, a.arg);
        break;
      case ActionType::kGroup:
        out += ",\"group_id\":";
        num(out, a.arg);
        break;
      case ActionType::kSetField:
        out += ",\"field\":{\"";
        out += oxm_info(a.field.id).name;
        out += "\":";
        oxm_json(out, a.field);
        out += '}';
        break;
      case ActionType::kExperimenter:
        out += ",\"experimenter\":";
        num(out, a.experimenter);
        out += ",\"data\":\"";
        hex_bytes(out, a.data);
        out += '"';
        break;
      default:
        break;
    }
    out += '}';
  }
  out += ']';
}

void instructions_json(std::string& out, const std::vector<Instruction>& in) {
  out += '[';
  for (size_t k = 0; k < in.size(); ++k) {
    const Instruction& i = in[k];
    if (k) out += ',';
    out += "{\"type\":\"";
    out += instruction_name(i.type);
    out += '"';
    switch (i.type) {
      case InstructionType::kGotoTable:
        out += ",\"table_id\":";
        num(out, i.table_id);
        break;
      case InstructionType::kWriteMetadata:
        out += ",\"metadata\":";
        num(out, i.metadata);
        out += ",\"metadata_mask\":";
        num(out, i.mask);
        break;
      case InstructionType::kWriteActions:
      case InstructionType::kApplyActions:
        out += ",\"actions\":";
        actions_json(out, i.actions);
        break;
      case InstructionType::kMeter:
        out += ",\"meter_id\":";
        num(out, i.meter_id);
        break;
      case InstructionType::kExperimenter:
        out += ",\"experimenter\":";
        num(out, i.experimenter);
        out += ",\"data\":\"";
        hex_bytes(out, i.data);
        out += '"';
        break;
      default:
        break;
    }
    out += '}';
  }
  out += ']';
}

// Per-field-name printing rules, looked up for every integer field. Field names are string
// literals from messages.h, so a small per-thread cache keyed by the literal's address makes
// the lookup a few instructions instead of string comparisons.
//   kRuleHex   printed in hex in the text form
//   kOmitZero  text form leaves it out when 0 (the "nothing set" value)
//   kOmitNone  text form leaves it out when 0xffffffff (no buffer, any port/group)
enum : uint8_t { kRuleHex = 1, kOmitZero = 2, kOmitNone = 4 };

struct NameRule {
  const char* name;
  uint8_t len;
  uint8_t flags;
};

NameRule compute_rule(const char* name) {
  std::string_view n(name);
  uint8_t f = 0;
  if (n == "cookie" || n == "cookie_mask" || n == "capabilities" || n == "config" ||
      n == "datapath_id" || n == "metadata_match" || n == "metadata_write" || n == "experimenter" ||
      n == "flags" || n == "state")
    f |= kRuleHex;
  if (n != "command" && n != "table_id" && n != "type") f |= kOmitZero;
  if (n == "buffer_id" || n == "out_port" || n == "out_group" || n == "watch_port" ||
      n == "watch_group")
    f |= kOmitNone;
  return NameRule{name, uint8_t(n.size()), f};
}

const NameRule& name_rule(const char* name) {
  constexpr size_t kSlots = 512;
  thread_local NameRule cache[kSlots];
  thread_local NameRule overflow;
  size_t h = (reinterpret_cast<uintptr_t>(name) >> 2) % kSlots;
  for (size_t probe = 0; probe < kSlots; ++probe, h = (h + 1) % kSlots) {
    if (cache[h].name == name) return cache[h];
    if (!cache[h].name) return cache[h] = compute_rule(name);
  }
  return overflow = compute_rule(name);
}

// FLOW_MOD, GROUP_MOD and METER_MOD commands by name, as ovs-ofctl names them.
const char* command_name(MsgType msg, uint64_t v) {
  static constexpr const char* kFlow[] = {"ADD", "MODIFY", "MODIFY_STRICT", "DELETE",
                                          "DELETE_STRICT"};
  static constexpr const char* kOther[] = {"ADD", "MODIFY", "DELETE"};
  if (msg == MsgType::kFlowMod && v < 5) return kFlow[v];
  if ((msg == MsgType::kGroupMod || msg == MsgType::kMeterMod) && v < 3) return kOther[v];
  return nullptr;
}

bool is_port_field(std::string_view n) {
  return n == "in_port" || n == "out_port" || n == "port_no" || n == "watch_port" || n == "port";
}

struct Printer {
  std::string& out;
  bool json;
  bool first = true;
  MsgType msg = MsgType::kHello;  // the message printed (names its commands)

  void key(const char* name) { key(name, std::strlen(name)); }
  void key(const char* name, size_t len) {
    if (!first) out += json ? ',' : ' ';
    first = false;
    if (json) {
      out += '"';
      out.append(name, len);
      out += "\":";
    } else {
      out.append(name, len);
      out += '=';
    }
  }
  void integer(const char* name, uint64_t v) {
    const NameRule& rule = name_rule(name);
    if (!json) {
      if (v == 0 && (rule.flags & kOmitZero)) return;
      if (v == 0xffffffff && (rule.flags & kOmitNone)) return;
    }
    key(name, rule.len);
    // Commands and reserved ports by name in both forms (JSON: as strings).
    const std::string_view n(name, rule.len);
    const char* cmd = n == "command" ? command_name(msg, v) : nullptr;
    const bool reserved_port = v >= port::kMax && v <= port::kAny && is_port_field(n);
    if (cmd || reserved_port) {
      if (json) out += '"';
      if (cmd)
        out += cmd;
      else
        append_port(out, uint32_t(v));
      if (json) out += '"';
      return;
    }
    num(out, v, !json && (rule.flags & kRuleHex));
  }
  void operator()(const char* n, uint8_t v) { integer(n, v); }
  void operator()(const char* n, uint16_t v) { integer(n, v); }
  void operator()(const char* n, uint32_t v) { integer(n, v); }
  void operator()(const char* n, uint64_t v) { integer(n, v); }
  void operator()(const char* n, const Mac& m) {
    key(n);
    if (json) out += '"';
    for (int i = 0; i < 6; ++i) {
      if (i) out += ':';
      out += kHex[m[i] >> 4];
      out += kHex[m[i] & 15];
    }
    if (json) out += '"';
  }
  template <size_t N>
  void operator()(const char* n, const std::array<uint32_t, N>& a) {
    (*this)(n, std::vector<uint32_t>(a.begin(), a.end()));
  }
  void operator()(const char* n, const std::vector<uint32_t>& a) {
    key(n);
    out += '[';
    for (size_t i = 0; i < a.size(); ++i) {
      if (i) out += ',';
      num(out, a[i], !json);
    }
    out += ']';
  }
  void pad(size_t) {}
  template <class MP>
  void multipart(const MP& mp);
  void len16() {}
  void check(bool, ErrType, uint16_t) {}
  void str(const char* n, const std::string& s, size_t) {
    key(n);
    json_string(out, s);
  }
  void operator()(const char* n, const Match& m) {
    key(n);
    if (!json) {
      if (m.fields.empty())
        out += "any";
      else
        append_match(out, m);
      return;
    }
    out += '{';
    for (size_t i = 0; i < m.fields.size(); ++i) {
      if (i) out += ',';
      out += '"';
      out += oxm_info(m.fields[i].id).name;
      out += "\":";
      oxm_json(out, m.fields[i]);
    }
    out += '}';
  }
  void operator()(const char* n, const std::vector<Action>& a) {
    key(n);
    json ? actions_json(out, a) : append_actions(out, a);
  }
  void prefixed_actions(const char* n, const std::vector<Action>& a) { (*this)(n, a); }
  void operator()(const char* n, const std::vector<Instruction>& in) {
    key(n);
    json ? instructions_json(out, in) : append_instructions(out, in);
  }
  void operator()(const char* n, const Bytes& b) {
    key(n);
    if (json) out += '"';
    hex_bytes(out, b);
    if (json) out += '"';
  }
  template <class E>
  void operator()(const char* n, const std::vector<E>& list) {
    key(n);
    out += '[';
    for (size_t i = 0; i < list.size(); ++i) {
      if (i) out += json ? "," : " ";
      object(list[i]);
    }
    out += ']';
  }
  template <class T>
  requires std::is_class_v<T>
  void operator()(const char* n, const T& t) {
    key(n);
    object(t);
  }
  template <class T>
  void object(const T& t) {
    out += '{';
    Printer inner{out, json, true, msg};
    T::fields(t, inner);
    out += '}';
  }
};

template <class MP>
void Printer::multipart(const MP& mp) {
  key("mp_type");
  if (json) out += '"';
  out += multipart_type_name(mp.body.index());
  if (json) out += '"';
  (*this)("flags", mp.flags);
  std::visit([&](const auto& b) { std::remove_cvref_t<decltype(b)>::fields(b, *this); }, mp.body);
}

void print(std::string& out, const Message& m, bool json) {
  const char* name = message_type_name(m.type());
  if (json) {
    out += "{\"type\":\"";
    out += name;
    out += "\",\"version\":";
    num(out, m.version);
    out += ",\"xid\":";
    num(out, m.xid);
  } else {
    out += name;
    out += " xid=";
    num(out, m.xid, true);
    if (m.version != kVersion13) {
      out += " version=";
      num(out, m.version);
    }
    out += ':';
  }
  Printer p{out, json, true, m.type()};
  if (json)
    p.first = false;  // continues the object after "xid"
  else
    out += ' ';
  if (auto* e = std::get_if<Error>(&m.body)) {
    p.key("err_type");
    if (json) out += '"';
    out += error_type_name(e->type);
    if (json) out += '"';
    p.key("code");
    if (json) out += '"';
    out += e->type == 0xffff ? std::to_string(e->code) : error_code_name(e->type, e->code);
    if (json) out += '"';
    if (e->type == 0xffff) p("experimenter", e->experimenter);
    p("data", e->data);
  } else {
    std::visit([&](const auto& b) { std::remove_cvref_t<decltype(b)>::fields(b, p); }, m.body);
  }
  if (json) out += '}';
  if (!json && out.back() == ' ') out.pop_back();
  if (!json && out.back() == ':') out.pop_back();  // empty body
}

}  // namespace

void append_text(std::string& out, const Message& m) {
  print(out, m, false);
}
void append_json(std::string& out, const Message& m) {
  print(out, m, true);
}
std::string to_text(const Message& m) {
  std::string s;
  append_text(s, m);
  return s;
}
std::string to_json(const Message& m) {
  std::string s;
  append_json(s, m);
  return s;
}

std::string error_text(const OfError& e) {
  return "error type=" + error_type_name(e.type) + " code=" + error_code_name(e.type, e.code);
}
std::string error_json(const OfError& e) {
  std::string s = "{\"error\":{\"type\":";
  json_string(s, error_type_name(e.type));
  s += ",\"code\":";
  json_string(s, error_code_name(e.type, e.code));
  s += "}}";
  return s;
}

}  // namespace vsw::openflow
