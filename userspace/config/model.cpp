// The configuration model (see model.h). Each verb validates everything before it writes to
// its own copy of the configuration, so an error never leaves a half-applied change.
#include "config/model.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <set>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "util/text.h"

namespace vsw::config {
namespace {

// Quotes user input for an error message, on one line whatever it holds (control
// characters as \xNN; found by tests/fuzz/config).
std::string q(std::string_view s) {
  return "'" + printable(s) + "'";
}

Error invalid(std::string message) {
  return make_error(EINVAL, std::move(message));
}

// Decimal digits only (no sign, no spaces), within [r.min, r.max].
std::optional<std::uint32_t> to_u32(std::string_view s, Range r) {
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < r.min || v > r.max)
    return std::nullopt;
  return v;
}

std::string range_text(Range r) {
  return std::to_string(r.min) + ".." + std::to_string(r.max);
}

std::string normalize_key(std::string_view key) {
  std::string k(key);
  std::replace(k.begin(), k.end(), '_', '-');
  return k;
}

Result<std::optional<std::uint32_t>> parse_option(std::string_view key, std::string_view value,
                                                  Range r) {
  if (value.empty()) return std::optional<std::uint32_t>{};
  auto v = to_u32(value, r);
  if (!v)
    return invalid("bad " + std::string(key) + " " + q(value) + " (want " + range_text(r) + ")");
  return std::optional<std::uint32_t>{*v};
}

// ---- whole-config helpers --------------------------------------------------------------

Bridge* find_bridge_mut(Config& c, std::string_view name) {
  for (auto& b : *c.mutable_bridges())
    if (b.name() == name) return &b;
  return nullptr;
}

Port* find_port_mut(Bridge& b, std::string_view name) {
  for (auto& p : *b.mutable_ports())
    if (p.name() == name) return &p;
  return nullptr;
}

Error no_bridge(std::string_view name) {
  return make_error(ENOENT, "no bridge named " + q(name));
}

// A new name (bridge or port) must not clash with any bridge or port.
Result<void> check_name_free(const Config& c, std::string_view name) {
  if (find_bridge(c, name))
    return make_error(EEXIST, "a bridge named " + q(name) + " already exists");
  if (auto ref = find_port(c, name))
    return make_error(EEXIST, q(name) + " is already a port of bridge " + ref->bridge->name());
  return {};
}

Result<std::uint32_t> lowest_free_ofport(const Bridge& b) {
  std::vector<bool> used(kMaxOfport + 1, false);
  for (const auto& p : b.ports())
    if (p.ofport() <= kMaxOfport) used[p.ofport()] = true;
  for (std::uint32_t n = 1; n <= kMaxOfport; ++n)
    if (!used[n]) return n;
  return make_error(ENOSPC, "bridge " + b.name() + " has no free ofport (1.." +
                                std::to_string(kMaxOfport) + " all used)");
}

Result<void> check_ofport_free(const Bridge& b, std::uint32_t ofport, std::string_view self) {
  for (const auto& p : b.ports())
    if (p.ofport() == ofport && p.name() != self)
      return make_error(EEXIST, "ofport " + std::to_string(ofport) + " is already used by " +
                                    p.name() + " on bridge " + b.name());
  return {};
}

Result<void> check_dpid_free(const Config& c, std::uint64_t id, std::string_view self) {
  for (const auto& b : c.bridges())
    if (b.has_datapath_id() && b.datapath_id() == id && b.name() != self)
      return make_error(EEXIST, "datapath-id " + format_datapath_id(id) +
                                    " is already used by bridge " + b.name());
  return {};
}

void set_change(const std::optional<Change<std::uint32_t>>& change,
                void (Bridge::*set)(std::uint32_t), void (Bridge::*clear)(), Bridge& b) {
  if (!change) return;
  if (change->value)
    (b.*set)(*change->value);
  else
    (b.*clear)();
}

// Applies already-parsed bridge settings to `b` (inside `c`), after checking the ones that
// depend on the rest of the configuration.
Result<void> apply_bridge_settings(Config& c, Bridge& b, const BridgeSettings& s) {
  if (s.datapath_id && s.datapath_id->value) {
    if (auto r = check_dpid_free(c, *s.datapath_id->value, b.name()); !r) return r;
  }
  if (s.datapath_id) {
    if (s.datapath_id->value)
      b.set_datapath_id(*s.datapath_id->value);
    else
      b.clear_datapath_id();
  }
  if (s.fail_mode) b.set_fail_mode(*s.fail_mode);
  set_change(s.mac_aging_s, &Bridge::set_mac_aging_s, &Bridge::clear_mac_aging_s, b);
  set_change(s.mac_table_size, &Bridge::set_mac_table_size, &Bridge::clear_mac_table_size, b);
  set_change(s.flow_limit, &Bridge::set_flow_limit, &Bridge::clear_flow_limit, b);
  set_change(s.idle_timeout_ms, &Bridge::set_idle_timeout_ms, &Bridge::clear_idle_timeout_ms, b);
  return {};
}

// Applies parsed port settings (already checked against each other by
// parse_port_settings()) to `p`, a port of `b`.
Result<void> apply_port_settings(const Bridge& b, Port& p, const PortSettings& s) {
  if (s.ofport) {
    if (auto r = check_ofport_free(b, *s.ofport, p.name()); !r) return r;
    p.set_ofport(*s.ofport);
  }
  if (s.tag) {
    if (s.tag->value) {
      p.set_vlan_mode(Port::ACCESS);
      p.set_tag(*s.tag->value);
      p.clear_trunks();
    } else {
      p.set_vlan_mode(Port::TRUNK);
      p.set_tag(0);
    }
  }
  if (s.trunks) {
    p.set_vlan_mode(Port::TRUNK);
    p.set_tag(0);
    p.mutable_trunks()->Assign(s.trunks->begin(), s.trunks->end());
  }
  if (s.vlan_mode) {
    p.set_vlan_mode(*s.vlan_mode);
    if (*s.vlan_mode == Port::ACCESS)
      p.clear_trunks();
    else
      p.set_tag(0);
  }
  return {};
}

// ---- verbs ------------------------------------------------------------------------------

Result<void> add_bridge(Config& c, const AddBridge& r) {
  auto s = parse_bridge_settings(r.options());
  if (!s) return s.error();
  if (auto ok = check_name_free(c, r.bridge()); !ok) return ok;
  Bridge b;
  b.set_name(r.bridge());
  if (auto ok = apply_bridge_settings(c, b, *s); !ok) return ok;
  *c.add_bridges() = std::move(b);
  return {};
}

Result<void> del_bridge(Config& c, const DelBridge& r) {
  auto* list = c.mutable_bridges();
  for (int i = 0; i < list->size(); ++i) {
    if (list->Get(i).name() != r.bridge()) continue;
    list->erase(list->begin() + i);
    return {};
  }
  return no_bridge(r.bridge());
}

Result<void> add_port(Config& c, const AddPort& r) {
  auto s = parse_port_settings(r.options());
  if (!s) return s.error();
  Bridge* b = find_bridge_mut(c, r.bridge());
  if (!b) return no_bridge(r.bridge());
  if (auto ok = check_name_free(c, r.port()); !ok) return ok;
  Port p;
  p.set_name(r.port());
  if (!s->ofport) {
    auto n = lowest_free_ofport(*b);
    if (!n) return n.error();
    p.set_ofport(*n);
  }
  if (auto ok = apply_port_settings(*b, p, *s); !ok) return ok;
  *b->add_ports() = std::move(p);
  return {};
}

Result<void> del_port(Config& c, const DelPort& r) {
  Bridge* b = nullptr;
  if (r.bridge().empty()) {
    auto ref = find_port(c, r.port());
    if (!ref) return make_error(ENOENT, "no port named " + q(r.port()) + " on any bridge");
    b = find_bridge_mut(c, ref->bridge->name());
  } else {
    b = find_bridge_mut(c, r.bridge());
    if (!b) return no_bridge(r.bridge());
  }
  auto* ports = b->mutable_ports();
  for (int i = 0; i < ports->size(); ++i) {
    if (ports->Get(i).name() != r.port()) continue;
    ports->erase(ports->begin() + i);
    return {};
  }
  if (r.port() == b->name())
    return make_error(EINVAL, q(r.port()) + " is the bridge's own local port (use del-br)");
  if (auto ref = find_port(c, r.port()))
    return make_error(
        ENOENT, q(r.port()) + " is a port of bridge " + ref->bridge->name() + ", not " + b->name());
  return make_error(ENOENT, "bridge " + b->name() + " has no port named " + q(r.port()));
}

Result<void> set_port(Config& c, const SetPort& r) {
  auto s = parse_port_settings(r.settings());
  if (!s) return s.error();
  auto ref = find_port(c, r.port());
  if (!ref) return make_error(ENOENT, "no port named " + q(r.port()) + " on any bridge");
  Bridge* b = find_bridge_mut(c, ref->bridge->name());
  Port* p = find_port_mut(*b, r.port());
  Port next = *p;
  if (auto ok = apply_port_settings(*b, next, *s); !ok) return ok;
  *p = std::move(next);
  return {};
}

Result<void> set_fail_mode(Config& c, const SetFailMode& r) {
  auto m = parse_fail_mode(r.mode());
  if (!m) return m.error();
  Bridge* b = find_bridge_mut(c, r.bridge());
  if (!b) return no_bridge(r.bridge());
  b->set_fail_mode(*m);
  return {};
}

Result<void> set_bridge(Config& c, const SetBridge& r) {
  auto s = parse_bridge_settings(r.settings());
  if (!s) return s.error();
  Bridge* b = find_bridge_mut(c, r.bridge());
  if (!b) return no_bridge(r.bridge());
  Bridge next = *b;
  if (auto ok = apply_bridge_settings(c, next, *s); !ok) return ok;
  *b = std::move(next);
  return {};
}

Result<void> check_targets(const google::protobuf::RepeatedPtrField<std::string>& targets) {
  std::set<std::string_view> seen;
  for (const auto& t : targets) {
    if (auto ok = check_controller_target(t); !ok) return ok;
    if (!seen.insert(t).second) return invalid("controller target " + q(t) + " given twice");
  }
  return {};
}

Result<void> set_controller(Config& c, const SetController& r) {
  if (auto ok = check_targets(r.targets()); !ok) return ok;
  Bridge* b = find_bridge_mut(c, r.bridge());
  if (!b) return no_bridge(r.bridge());
  b->clear_controllers();
  for (const auto& t : r.targets()) b->add_controllers()->set_target(t);
  return {};
}

Result<void> del_controller(Config& c, const DelController& r) {
  Bridge* b = find_bridge_mut(c, r.bridge());
  if (!b) return no_bridge(r.bridge());
  b->clear_controllers();
  return {};
}

bool is_ipv4(std::string_view s) {
  in_addr a{};
  return inet_pton(AF_INET, std::string(s).c_str(), &a) == 1;
}
bool is_ipv6(std::string_view s) {
  in6_addr a{};
  return inet_pton(AF_INET6, std::string(s).c_str(), &a) == 1;
}

// "IP" or "[IPv6]"; the rest after it is returned in `rest`.
bool take_ip(std::string_view s, std::string_view& rest) {
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || !is_ipv6(s.substr(1, close - 1))) return false;
    rest = s.substr(close + 1);
    return true;
  }
  auto colon = s.find(':');
  if (!is_ipv4(s.substr(0, colon))) return false;
  rest = colon == std::string_view::npos ? std::string_view{} : s.substr(colon);
  return true;
}

bool check_unix_path(std::string_view path) {
  return !path.empty() && path.size() < 108 && path.find('\0') == std::string_view::npos;
}

}  // namespace

// ---- words -------------------------------------------------------------------------------

Result<void> check_name(std::string_view what, std::string_view name) {
  auto bad = [&](const char* why) {
    return invalid("bad " + std::string(what) + " name " + q(name) + " (" + why + ")");
  };
  if (name.empty()) return bad("empty");
  if (name.size() > kMaxNameLen) return bad("longer than 15 bytes");
  if (name == "." || name == "..") return bad("reserved");
  for (unsigned char ch : name) {
    if (ch == '/' || ch == ':' || std::isspace(ch) || std::iscntrl(ch))
      return bad("no '/', ':', spaces or control characters");
  }
  return {};
}

Result<std::uint64_t> parse_datapath_id(std::string_view text) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (text.size() != 16 || ec != std::errc() || p != text.data() + text.size())
    return invalid("bad datapath-id " + q(text) + " (want exactly 16 hex digits)");
  return v;
}

Result<Bridge::FailMode> parse_fail_mode(std::string_view text) {
  if (text == "standalone") return Bridge::STANDALONE;
  if (text == "secure") return Bridge::SECURE;
  return invalid("bad fail-mode " + q(text) + " (want standalone or secure)");
}

Result<std::uint32_t> parse_vlan(std::string_view text) {
  auto v = to_u32(text, {0, kMaxVlan});
  if (!v) return invalid("bad VLAN " + q(text) + " (want 0.." + std::to_string(kMaxVlan) + ")");
  return *v;
}

Result<std::vector<std::uint32_t>> parse_trunks(std::string_view text) {
  std::set<std::uint32_t> vlans;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (item.empty() || (comma != std::string_view::npos && rest.empty()))
      return invalid("bad trunks " + q(text) + " (empty item)");
    auto dash = item.find('-');
    auto lo = parse_vlan(item.substr(0, dash));
    if (!lo) return invalid("bad trunks " + q(text) + ": " + lo.error().message);
    std::uint32_t hi = *lo;
    if (dash != std::string_view::npos) {
      auto h = parse_vlan(item.substr(dash + 1));
      if (!h) return invalid("bad trunks " + q(text) + ": " + h.error().message);
      if (*h < *lo) return invalid("bad trunks " + q(text) + ": range " + q(item) + " is reversed");
      hi = *h;
    }
    for (std::uint32_t v = *lo; v <= hi; ++v) vlans.insert(v);
  }
  return std::vector<std::uint32_t>(vlans.begin(), vlans.end());
}

Result<std::uint32_t> parse_ofport(std::string_view text) {
  auto v = to_u32(text, {1, kMaxOfport});
  if (!v) return invalid("bad ofport " + q(text) + " (want 1.." + std::to_string(kMaxOfport) + ")");
  return *v;
}

Result<void> check_controller_target(std::string_view t) {
  auto bad = [&] {
    return invalid("bad controller target " + q(t) +
                   " (want tcp:IP[:PORT], unix:PATH, ptcp:[PORT][:IP] or punix:PATH)");
  };
  auto port_ok = [](std::string_view p, std::uint32_t min) {
    return to_u32(p, {min, 65535}).has_value();
  };
  if (t.starts_with("unix:")) return check_unix_path(t.substr(5)) ? Result<void>{} : bad();
  if (t.starts_with("punix:")) return check_unix_path(t.substr(6)) ? Result<void>{} : bad();
  if (t.starts_with("tcp:")) {
    std::string_view rest;
    if (!take_ip(t.substr(4), rest)) return bad();
    if (!rest.empty() && (rest[0] != ':' || !port_ok(rest.substr(1), 1))) return bad();
    return {};
  }
  if (t.starts_with("ptcp:")) {
    std::string_view rest = t.substr(5);
    auto colon = rest.find(':');
    std::string_view port = rest.substr(0, colon);
    if (!port.empty() && !port_ok(port, 0)) return bad();
    if (colon == std::string_view::npos) return {};
    std::string_view ip = rest.substr(colon + 1);
    if (!ip.empty() && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    if (!is_ipv4(ip) && !is_ipv6(ip)) return bad();
    return {};
  }
  return bad();
}

Result<KeyValue> parse_key_value(std::string_view word) {
  auto eq = word.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return invalid("bad setting " + q(word) + " (want KEY=VALUE)");
  KeyValue kv;
  kv.set_key(std::string(word.substr(0, eq)));
  kv.set_value(std::string(word.substr(eq + 1)));
  return kv;
}

Result<BridgeSettings> parse_bridge_settings(
    const google::protobuf::RepeatedPtrField<KeyValue>& kvs) {
  BridgeSettings s;
  std::set<std::string> seen;
  for (const auto& kv : kvs) {
    const std::string key = normalize_key(kv.key());
    const std::string& v = kv.value();
    if (!seen.insert(key).second) return invalid(key + " given twice");
    if (key == "datapath-id") {
      if (v.empty()) {
        s.datapath_id = Change<std::uint64_t>{};
      } else {
        auto id = parse_datapath_id(v);
        if (!id) return id.error();
        s.datapath_id = Change<std::uint64_t>{*id};
      }
    } else if (key == "fail-mode") {
      auto m = parse_fail_mode(v);
      if (!m) return m.error();
      s.fail_mode = *m;
    } else {
      std::optional<Change<std::uint32_t>>* slot = nullptr;
      Range r{};
      if (key == "mac-aging") {
        slot = &s.mac_aging_s, r = kMacAgingRange;
      } else if (key == "mac-table-size") {
        slot = &s.mac_table_size, r = kMacTableSizeRange;
      } else if (key == "flow-limit") {
        slot = &s.flow_limit, r = kFlowLimitRange;
      } else if (key == "idle-timeout") {
        slot = &s.idle_timeout_ms, r = kIdleTimeoutRange;
      } else {
        return invalid("unknown bridge setting " + q(kv.key()) +
                       " (want datapath-id, fail-mode, mac-aging, mac-table-size, flow-limit "
                       "or idle-timeout)");
      }
      auto n = parse_option(key, v, r);
      if (!n) return n.error();
      *slot = Change<std::uint32_t>{*n};
    }
  }
  return s;
}

Result<PortSettings> parse_port_settings(const google::protobuf::RepeatedPtrField<KeyValue>& kvs) {
  PortSettings s;
  std::set<std::string> seen;
  for (const auto& kv : kvs) {
    const std::string key = normalize_key(kv.key());
    const std::string& v = kv.value();
    if (!seen.insert(key).second) return invalid(key + " given twice");
    if (key == "ofport") {
      auto n = parse_ofport(v);
      if (!n) return n.error();
      s.ofport = *n;
    } else if (key == "tag") {
      if (v.empty()) {
        s.tag = Change<std::uint32_t>{};
      } else {
        auto t = parse_vlan(v);
        if (!t) return t.error();
        s.tag = Change<std::uint32_t>{*t};
      }
    } else if (key == "trunks") {
      auto t = parse_trunks(v);
      if (!t) return t.error();
      s.trunks = std::move(*t);
    } else if (key == "vlan-mode") {
      if (v == "access") {
        s.vlan_mode = Port::ACCESS;
      } else if (v == "trunk") {
        s.vlan_mode = Port::TRUNK;
      } else {
        return invalid("bad vlan-mode " + q(v) + " (want access or trunk)");
      }
    } else {
      return invalid("unknown port setting " + q(kv.key()) +
                     " (want ofport, tag, trunks or vlan-mode)");
    }
  }
  const bool tagged = s.tag && s.tag->value;
  if (tagged && s.trunks)
    return invalid(
        "tag and trunks conflict: a port is either an access port (tag=VID) or a "
        "trunk (trunks=LIST)");
  if (tagged && s.vlan_mode == Port::TRUNK)
    return invalid("tag conflicts with vlan-mode=trunk (a trunk port has no tag)");
  if (s.tag && !s.tag->value && s.vlan_mode == Port::ACCESS)
    return invalid("an access port needs a tag (tag=VID)");
  if (s.trunks && s.vlan_mode == Port::ACCESS)
    return invalid("trunks conflicts with vlan-mode=access (an access port carries one VLAN)");
  return s;
}

// ---- requests ----------------------------------------------------------------------------

bool is_modifying(const Request& r) {
  switch (r.verb_case()) {
    case Request::kAddBridge:
    case Request::kDelBridge:
    case Request::kAddPort:
    case Request::kDelPort:
    case Request::kSetPort:
    case Request::kSetFailMode:
    case Request::kSetBridge:
    case Request::kSetController:
    case Request::kDelController:
      return true;
    default:
      return false;
  }
}

Result<void> check_request(const Request& r) {
  auto result = [](auto&& x) -> Result<void> {
    if (!x) return x.error();
    return {};
  };
  switch (r.verb_case()) {
    case Request::kAddBridge:
      if (auto ok = check_name("bridge", r.add_bridge().bridge()); !ok) return ok;
      return result(parse_bridge_settings(r.add_bridge().options()));
    case Request::kDelBridge:
      return check_name("bridge", r.del_bridge().bridge());
    case Request::kListBridges:
    case Request::kShow:
    case Request::kUpcallShow:
      return {};
    case Request::kAddPort:
      if (auto ok = check_name("bridge", r.add_port().bridge()); !ok) return ok;
      if (auto ok = check_name("interface", r.add_port().port()); !ok) return ok;
      if (r.add_port().port() == r.add_port().bridge())
        return make_error(
            EEXIST, q(r.add_port().port()) + " is the bridge's own local port; it is always there");
      return result(parse_port_settings(r.add_port().options()));
    case Request::kDelPort:
      if (!r.del_port().bridge().empty()) {
        if (auto ok = check_name("bridge", r.del_port().bridge()); !ok) return ok;
      }
      return check_name("interface", r.del_port().port());
    case Request::kListPorts:
      return check_name("bridge", r.list_ports().bridge());
    case Request::kSetPort:
      if (auto ok = check_name("interface", r.set_port().port()); !ok) return ok;
      if (r.set_port().settings().empty()) return invalid("set-port needs at least one KEY=VALUE");
      return result(parse_port_settings(r.set_port().settings()));
    case Request::kSetFailMode:
      if (auto ok = check_name("bridge", r.set_fail_mode().bridge()); !ok) return ok;
      return result(parse_fail_mode(r.set_fail_mode().mode()));
    case Request::kSetBridge:
      if (auto ok = check_name("bridge", r.set_bridge().bridge()); !ok) return ok;
      if (r.set_bridge().settings().empty())
        return invalid("set-bridge needs at least one KEY=VALUE");
      return result(parse_bridge_settings(r.set_bridge().settings()));
    case Request::kSetController:
      if (auto ok = check_name("bridge", r.set_controller().bridge()); !ok) return ok;
      return check_targets(r.set_controller().targets());
    case Request::kDelController:
      return check_name("bridge", r.del_controller().bridge());
    case Request::kFdbShow:
      return check_name("bridge", r.fdb_show().bridge());
    case Request::kTrace:
      if (auto ok = check_name("bridge", r.trace().bridge()); !ok) return ok;
      if (r.trace().flow().empty())
        return invalid("trace needs a flow, e.g. 'in_port=1,eth(src=..,dst=..)'");
      return {};
    case Request::kDumpFlows:
      return check_name("bridge", r.dump_flows().bridge());
    case Request::VERB_NOT_SET:
      break;
  }
  return invalid("request names no verb (is vsw-ctl older or newer than vswd?)");
}

Result<Config> apply(const Config& current, const Request& r) {
  if (auto ok = check_request(r); !ok) return ok.error();
  if (!is_modifying(r)) return invalid("not a configuration change");
  Config next = current;
  Result<void> done;
  switch (r.verb_case()) {
    case Request::kAddBridge:
      done = add_bridge(next, r.add_bridge());
      break;
    case Request::kDelBridge:
      done = del_bridge(next, r.del_bridge());
      break;
    case Request::kAddPort:
      done = add_port(next, r.add_port());
      break;
    case Request::kDelPort:
      done = del_port(next, r.del_port());
      break;
    case Request::kSetPort:
      done = set_port(next, r.set_port());
      break;
    case Request::kSetFailMode:
      done = set_fail_mode(next, r.set_fail_mode());
      break;
    case Request::kSetBridge:
      done = set_bridge(next, r.set_bridge());
      break;
    case Request::kSetController:
      done = set_controller(next, r.set_controller());
      break;
    case Request::kDelController:
      done = del_controller(next, r.del_controller());
      break;
    default:
      return invalid("not a configuration change");
  }
  if (!done) return done.error();
  // Belt and braces: a verb that broke an invariant is a bug; refuse rather than persist.
  if (auto ok = validate(next); !ok)
    return make_error(
        EINVAL, "internal error: the change would break the configuration: " + ok.error().message);
  return next;
}

// ---- whole configurations -----------------------------------------------------------------

Result<void> validate(const Config& c) {
  // Bridges and ports share one namespace; the views point into `c`.
  std::unordered_set<std::string_view> names;
  std::set<std::uint64_t> dpids;
  auto check_range = [](const char* what, bool has, std::uint32_t v, Range r,
                        std::string_view owner) -> Result<void> {
    if (has && (v < r.min || v > r.max))
      return invalid(std::string(owner) + ": " + what + " " + std::to_string(v) + " out of range " +
                     range_text(r));
    return {};
  };
  for (const auto& b : c.bridges()) {
    if (auto ok = check_name("bridge", b.name()); !ok) return ok;
    if (!names.insert(b.name()).second) return invalid("name " + q(b.name()) + " used twice");
    if (b.has_datapath_id() && !dpids.insert(b.datapath_id()).second)
      return invalid("datapath-id " + format_datapath_id(b.datapath_id()) + " used twice");
    if (!Bridge::FailMode_IsValid(b.fail_mode()))
      return invalid("bridge " + b.name() + ": unknown fail_mode " + std::to_string(b.fail_mode()));
    const std::string owner = "bridge " + b.name();
    for (auto ok :
         {check_range("mac_aging_s", b.has_mac_aging_s(), b.mac_aging_s(), kMacAgingRange, owner),
          check_range("mac_table_size", b.has_mac_table_size(), b.mac_table_size(),
                      kMacTableSizeRange, owner),
          check_range("flow_limit", b.has_flow_limit(), b.flow_limit(), kFlowLimitRange, owner),
          check_range("idle_timeout_ms", b.has_idle_timeout_ms(), b.idle_timeout_ms(),
                      kIdleTimeoutRange, owner)})
      if (!ok) return ok;
    std::vector<bool> ofport_used(kMaxOfport + 1, false);
    for (const auto& p : b.ports()) {
      // Built only for an error message (1,000 ports: no 1,000 strings per request).
      const auto where = [&] { return "port " + p.name() + " of bridge " + b.name(); };
      if (auto ok = check_name("interface", p.name()); !ok) return ok;
      if (!names.insert(p.name()).second) return invalid("name " + q(p.name()) + " used twice");
      if (p.ofport() < 1 || p.ofport() > kMaxOfport)
        return invalid(where() + ": ofport " + std::to_string(p.ofport()) + " out of range 1.." +
                       std::to_string(kMaxOfport));
      if (ofport_used[p.ofport()])
        return invalid(where() + ": ofport " + std::to_string(p.ofport()) + " used twice");
      ofport_used[p.ofport()] = true;
      if (p.vlan_mode() == Port::ACCESS) {
        if (p.tag() > kMaxVlan)
          return invalid(where() + ": tag " + std::to_string(p.tag()) + " out of range");
        if (!p.trunks().empty()) return invalid(where() + ": an access port has no trunks");
      } else if (p.vlan_mode() == Port::TRUNK) {
        if (p.tag() != 0) return invalid(where() + ": a trunk port has no tag");
        for (int i = 0; i < p.trunks_size(); ++i) {
          if (p.trunks(i) > kMaxVlan)
            return invalid(where() + ": trunk VLAN " + std::to_string(p.trunks(i)) +
                           " out of range");
          if (i > 0 && p.trunks(i) <= p.trunks(i - 1))
            return invalid(where() + ": trunks not sorted and unique");
        }
      } else {
        return invalid(where() + ": unknown vlan_mode " + std::to_string(p.vlan_mode()));
      }
    }
    std::set<std::string> targets;
    for (const auto& ctl : b.controllers()) {
      if (auto ok = check_controller_target(ctl.target()); !ok)
        return invalid(owner + ": " + ok.error().message);
      if (!targets.insert(ctl.target()).second)
        return invalid(owner + ": controller " + q(ctl.target()) + " listed twice");
    }
  }
  const auto& d = c.daemon();
  for (auto ok :
       {check_range("flow_limit", d.has_flow_limit(), d.flow_limit(), kFlowLimitRange, "daemon"),
        check_range("idle_timeout_ms", d.has_idle_timeout_ms(), d.idle_timeout_ms(),
                    kIdleTimeoutRange, "daemon"),
        check_range("mac_aging_s", d.has_mac_aging_s(), d.mac_aging_s(), kMacAgingRange, "daemon"),
        check_range("mac_table_size", d.has_mac_table_size(), d.mac_table_size(),
                    kMacTableSizeRange, "daemon"),
        check_range("n_handlers", d.has_n_handlers(), d.n_handlers(), kThreadsRange, "daemon"),
        check_range("n_revalidators", d.has_n_revalidators(), d.n_revalidators(), kThreadsRange,
                    "daemon")})
    if (!ok) return ok;
  return {};
}

const Bridge* find_bridge(const Config& c, std::string_view name) {
  for (const auto& b : c.bridges())
    if (b.name() == name) return &b;
  return nullptr;
}

std::optional<PortRef> find_port(const Config& c, std::string_view name) {
  for (const auto& b : c.bridges())
    for (const auto& p : b.ports())
      if (p.name() == name) return PortRef{&b, &p};
  return std::nullopt;
}

DaemonOptions resolve_daemon(const DaemonOptions& o) {
  DaemonOptions r = o;
  if (!r.has_flow_limit()) r.set_flow_limit(kDefaultFlowLimit);
  if (!r.has_idle_timeout_ms()) r.set_idle_timeout_ms(kDefaultIdleTimeoutMs);
  if (!r.has_mac_aging_s()) r.set_mac_aging_s(kDefaultMacAgingS);
  if (!r.has_mac_table_size()) r.set_mac_table_size(kDefaultMacTableSize);
  if (!r.has_n_handlers()) r.set_n_handlers(0);
  if (!r.has_n_revalidators()) r.set_n_revalidators(0);
  return r;
}

BridgeLimits resolve_bridge(const Bridge& b, const DaemonOptions& daemon) {
  const DaemonOptions d = resolve_daemon(daemon);
  return BridgeLimits{
      b.has_mac_aging_s() ? b.mac_aging_s() : d.mac_aging_s(),
      b.has_mac_table_size() ? b.mac_table_size() : d.mac_table_size(),
      b.has_flow_limit() ? b.flow_limit() : d.flow_limit(),
      b.has_idle_timeout_ms() ? b.idle_timeout_ms() : d.idle_timeout_ms(),
  };
}

// ---- formatting --------------------------------------------------------------------------

std::string format_datapath_id(std::uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string format_mac(const std::array<std::uint8_t, 6>& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return buf;
}

std::string format_vlans(const std::vector<std::uint32_t>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(v[i]);
    if (j > i) out += (j == i + 1 ? "," : "-") + std::to_string(v[j]);
    i = j + 1;
  }
  return out;
}

const char* fail_mode_name(Bridge::FailMode mode) {
  return mode == Bridge::SECURE ? "secure" : "standalone";
}

const char* vlan_mode_name(Port::VlanMode mode) {
  return mode == Port::ACCESS ? "access" : "trunk";
}

}  // namespace vsw::config
