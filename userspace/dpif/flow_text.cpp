// Parser and printer for the flow text syntax (see flow_text.h).
//
// Design: a match is a comma list of groups `name(args)`; each group is described by a
// table of fields (name, kind, offset into struct vsw_flow_key). Parsing a field writes
// its value and mask bytes at that offset; printing walks the same tables and emits only
// fields with a non-zero mask. Keeping one table per group for both directions is what
// makes the round trip hold.
#include "dpif/flow_text.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <vector>

namespace vsw::dpif {
namespace {

Error bad(std::string what) {
  return make_error(EINVAL, std::move(what));
}

std::string quote(std::string_view s) {
  return "'" + std::string(s) + "'";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits at top-level commas (commas inside parentheses stay).
Result<std::vector<std::string_view>> split_top(std::string_view s) {
  std::vector<std::string_view> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(') {
      ++depth;
    } else if (s[i] == ')') {
      if (--depth < 0) return bad("unbalanced ')' in " + quote(s));
    } else if (s[i] == ',' && depth == 0) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (depth != 0) return bad("unbalanced '(' in " + quote(s));
  out.push_back(trim(s.substr(start)));
  return out;
}

// "name(args)" -> {name, args}; "name" -> {name, nullopt}.
struct Item {
  std::string_view name;
  std::optional<std::string_view> args;
};
Result<Item> split_item(std::string_view s) {
  auto open = s.find('(');
  if (open == std::string_view::npos) return Item{s, std::nullopt};
  if (s.back() != ')') return bad("expected ')' at the end of " + quote(s));
  return Item{trim(s.substr(0, open)), s.substr(open + 1, s.size() - open - 2)};
}

Result<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max, std::string_view ctx) {
  s = trim(s);
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size())
    return bad("bad number " + quote(s) + " in " + quote(ctx));
  if (v > max)
    return bad("number " + quote(s) + " in " + quote(ctx) + " is larger than " +
               std::to_string(max));
  return v;
}

// ---- field kinds ---------------------------------------------------------------------------
enum class Kind { U8, U32, Be16, Be32, Mac, Ipv4, Ipv6, Label, Frag, Vid, Pcp, Tci };

struct Field {
  const char* name;
  Kind kind;
  std::size_t offset;
  std::uint64_t max = 0;  // for numbers: the largest allowed value
};

#define OFF(f) offsetof(vsw_flow_key, f)
const Field kInPort[] = {{"", Kind::U32, OFF(in_port), 0xffffffff}};
const Field kSkbMark[] = {{"", Kind::U32, OFF(skb_mark), 0xffffffff}};
const Field kEthType[] = {{"", Kind::Be16, OFF(eth_type), 0xffff}};
const Field kTcpFlags[] = {{"", Kind::Be16, OFF(tcp_flags), 0xfff}};
const Field kEth[] = {{"src", Kind::Mac, OFF(eth_src)}, {"dst", Kind::Mac, OFF(eth_dst)}};
const Field kVlan[] = {{"vid", Kind::Vid, OFF(vlan_tci), 0xfff},
                       {"pcp", Kind::Pcp, OFF(vlan_tci), 7},
                       {"dei", Kind::U8, OFF(vlan_dei), 1},
                       {"tci", Kind::Tci, OFF(vlan_tci), 0xffff}};
const Field kIpShared[] = {{"proto", Kind::U8, OFF(ip_proto), 0xff},
                           {"tos", Kind::U8, OFF(ip_tos), 0xff},
                           {"ttl", Kind::U8, OFF(ip_ttl), 0xff},
                           {"frag", Kind::Frag, OFF(ip_frag), 0xff}};
const Field kIpv4[] = {
    {"src", Kind::Ipv4, OFF(ipv4_src)},       {"dst", Kind::Ipv4, OFF(ipv4_dst)},
    {"proto", Kind::U8, OFF(ip_proto), 0xff}, {"tos", Kind::U8, OFF(ip_tos), 0xff},
    {"ttl", Kind::U8, OFF(ip_ttl), 0xff},     {"frag", Kind::Frag, OFF(ip_frag), 0xff}};
const Field kIpv6[] = {{"src", Kind::Ipv6, OFF(ipv6_src)},
                       {"dst", Kind::Ipv6, OFF(ipv6_dst)},
                       {"label", Kind::Label, OFF(ipv6_label), 0xfffff},
                       {"proto", Kind::U8, OFF(ip_proto), 0xff},
                       {"tclass", Kind::U8, OFF(ip_tos), 0xff},
                       {"hlimit", Kind::U8, OFF(ip_ttl), 0xff},
                       {"frag", Kind::Frag, OFF(ip_frag), 0xff}};
const Field kL4[] = {{"src", Kind::Be16, OFF(tp_src), 0xffff},
                     {"dst", Kind::Be16, OFF(tp_dst), 0xffff}};
const Field kIcmp[] = {{"type", Kind::U8, OFF(icmp_type), 0xff},
                       {"code", Kind::U8, OFF(icmp_code), 0xff}};
const Field kArp[] = {{"sip", Kind::Ipv4, OFF(arp_spa)},
                      {"tip", Kind::Ipv4, OFF(arp_tpa)},
                      {"op", Kind::Be16, OFF(arp_op), 0xffff},
                      {"sha", Kind::Mac, OFF(arp_sha)},
                      {"tha", Kind::Mac, OFF(arp_tha)}};
#undef OFF

template <std::size_t N>
std::vector<Field> fields(const Field (&a)[N]) {
  return {a, a + N};
}

// A group name and its fields; `single` groups take one bare value: in_port(1).
struct Group {
  const char* name;
  std::vector<Field> fields;
  bool single = false;
  int implied_proto = -1;  // ip_proto set when otherwise wildcarded
};

const std::vector<Group>& groups() {
  static const std::vector<Group> g = {
      {"in_port", fields(kInPort), true},
      {"skb_mark", fields(kSkbMark), true},
      {"eth_type", fields(kEthType), true},
      {"tcp_flags", fields(kTcpFlags), true},
      {"eth", fields(kEth)},
      {"vlan", fields(kVlan)},
      {"ip", fields(kIpShared)},
      {"ipv4", fields(kIpv4)},
      {"ipv6", fields(kIpv6)},
      {"arp", fields(kArp)},
      {"l4", fields(kL4)},
      {"tcp", fields(kL4), false, 6},
      {"udp", fields(kL4), false, 17},
      {"sctp", fields(kL4), false, 132},
      {"l4icmp", fields(kIcmp)},
      {"icmp", fields(kIcmp), false, 1},
      {"icmpv6", fields(kIcmp), false, 58},
  };
  return g;
}

// ---- raw access to key bytes -------------------------------------------------------------
unsigned char* at(vsw_flow_key& k, std::size_t off) {
  return reinterpret_cast<unsigned char*>(&k) + off;
}
const unsigned char* at(const vsw_flow_key& k, std::size_t off) {
  return reinterpret_cast<const unsigned char*>(&k) + off;
}
std::uint16_t get16(const vsw_flow_key& k, std::size_t off) {
  std::uint16_t v;
  std::memcpy(&v, at(k, off), 2);
  return ntohs(v);
}
void put16(vsw_flow_key& k, std::size_t off, std::uint16_t v) {
  v = htons(v);
  std::memcpy(at(k, off), &v, 2);
}
std::uint32_t get32(const vsw_flow_key& k, std::size_t off, bool net) {
  std::uint32_t v;
  std::memcpy(&v, at(k, off), 4);
  return net ? ntohl(v) : v;
}
void put32(vsw_flow_key& k, std::size_t off, std::uint32_t v, bool net) {
  if (net) v = htonl(v);
  std::memcpy(at(k, off), &v, 4);
}

std::size_t width(Kind kind) {
  switch (kind) {
    case Kind::U8:
    case Kind::Frag:
      return 1;
    case Kind::Be16:
    case Kind::Vid:
    case Kind::Pcp:
    case Kind::Tci:
      return 2;
    case Kind::U32:
    case Kind::Be32:
    case Kind::Ipv4:
    case Kind::Label:
      return 4;
    case Kind::Mac:
      return 6;
    case Kind::Ipv6:
      return 16;
  }
  return 0;
}

// Numeric value of a field as the user writes it (host order, shifted for PCP).
std::uint64_t get_num(const Field& f, const vsw_flow_key& k) {
  switch (f.kind) {
    case Kind::U8:
    case Kind::Frag:
      return *at(k, f.offset);
    case Kind::Be16:
    case Kind::Tci:
      return get16(k, f.offset);
    case Kind::Vid:
      return get16(k, f.offset) & VSW_VLAN_VID_MASK;
    case Kind::Pcp:
      return get16(k, f.offset) >> VSW_VLAN_PCP_SHIFT;
    case Kind::U32:
      return get32(k, f.offset, false);
    case Kind::Be32:
    case Kind::Ipv4:
    case Kind::Label:
      return get32(k, f.offset, true);
    default:
      return 0;
  }
}

void put_num(const Field& f, vsw_flow_key& k, std::uint64_t v) {
  switch (f.kind) {
    case Kind::U8:
    case Kind::Frag:
      *at(k, f.offset) = static_cast<std::uint8_t>(v);
      break;
    case Kind::Be16:
    case Kind::Tci:
      put16(k, f.offset, static_cast<std::uint16_t>(v));
      break;
    case Kind::Vid:
      put16(k, f.offset,
            static_cast<std::uint16_t>((get16(k, f.offset) & ~VSW_VLAN_VID_MASK) |
                                       (v & VSW_VLAN_VID_MASK)));
      break;
    case Kind::Pcp:
      put16(k, f.offset,
            static_cast<std::uint16_t>((get16(k, f.offset) & 0x1fff) |
                                       ((v & 7) << VSW_VLAN_PCP_SHIFT)));
      break;
    case Kind::U32:
      put32(k, f.offset, static_cast<std::uint32_t>(v), false);
      break;
    case Kind::Be32:
    case Kind::Ipv4:
    case Kind::Label:
      put32(k, f.offset, static_cast<std::uint32_t>(v), true);
      break;
    default:
      break;
  }
}

bool field_masked(const Field& f, const vsw_flow_key& mask) {
  if (f.kind == Kind::Vid || f.kind == Kind::Pcp || f.kind == Kind::Tci)
    return get_num(f, mask) != 0;
  const unsigned char* p = at(mask, f.offset);
  for (std::size_t i = 0; i < width(f.kind); ++i)
    if (p[i]) return true;
  return false;
}

bool field_exact(const Field& f, const vsw_flow_key& mask) {
  if (f.kind == Kind::Vid) return get_num(f, mask) == 0xfff;
  if (f.kind == Kind::Pcp) return get_num(f, mask) == 7;
  if (f.kind == Kind::Label) return get_num(f, mask) == 0xfffff;
  const unsigned char* p = at(mask, f.offset);
  for (std::size_t i = 0; i < width(f.kind); ++i)
    if (p[i] != 0xff) return false;
  return true;
}

std::uint64_t full_mask(const Field& f) {
  switch (f.kind) {
    case Kind::U8:
    case Kind::Frag:
      return 0xff;
    case Kind::Be16:
    case Kind::Tci:
      return 0xffff;
    case Kind::Vid:
      return 0xfff;
    case Kind::Pcp:
      return 7;
    case Kind::Label:
      return 0xfffff;
    default:
      return 0xffffffff;
  }
}

Result<std::uint32_t> parse_ipv4(std::string_view s, std::string_view ctx) {
  std::string str(trim(s));
  in_addr a{};
  if (inet_pton(AF_INET, str.c_str(), &a) != 1)
    return bad("bad IPv4 address " + quote(str) + " in " + quote(ctx));
  return static_cast<std::uint32_t>(ntohl(a.s_addr));
}

std::string format_ipv4(std::uint32_t host_order) {
  in_addr a{htonl(host_order)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

Result<std::array<std::uint8_t, 16>> parse_ipv6(std::string_view s, std::string_view ctx) {
  std::string str(trim(s));
  std::array<std::uint8_t, 16> a{};
  if (inet_pton(AF_INET6, str.c_str(), a.data()) != 1)
    return bad("bad IPv6 address " + quote(str) + " in " + quote(ctx));
  return a;
}

std::string format_ipv6(const unsigned char* p) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, p, buf, sizeof buf);
  return buf;
}

bool is_prefix_len(std::string_view s) {
  return !s.empty() && s.size() <= 3 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Parses "value[/mask]" of one field into key and mask.
Result<void> parse_field(const Field& f, std::string_view text, std::string_view ctx, Match& m) {
  std::string_view value = text, maskt;
  bool has_mask = false;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    value = text.substr(0, slash);
    maskt = text.substr(slash + 1);
    has_mask = true;
  }
  value = trim(value);
  maskt = trim(maskt);
  switch (f.kind) {
    case Kind::Mac: {
      auto v = parse_mac(value);
      if (!v) return bad(v.error().message + " in " + quote(ctx));
      Mac mk;
      mk.fill(0xff);
      if (has_mask) {
        auto mm = parse_mac(maskt);
        if (!mm) return bad(mm.error().message + " in " + quote(ctx));
        mk = *mm;
      }
      std::memcpy(at(m.key, f.offset), v->data(), 6);
      std::memcpy(at(m.mask, f.offset), mk.data(), 6);
      return {};
    }
    case Kind::Ipv4: {
      auto v = parse_ipv4(value, ctx);
      if (!v) return v.error();
      std::uint32_t mk = 0xffffffff;
      if (has_mask && is_prefix_len(maskt)) {
        auto n = parse_uint(maskt, 32, ctx);
        if (!n) return n.error();
        mk = *n == 0 ? 0 : 0xffffffffu << (32 - *n);
      } else if (has_mask) {
        auto mm = parse_ipv4(maskt, ctx);
        if (!mm) return mm.error();
        mk = *mm;
      }
      put32(m.key, f.offset, *v, true);
      put32(m.mask, f.offset, mk, true);
      return {};
    }
    case Kind::Ipv6: {
      auto v = parse_ipv6(value, ctx);
      if (!v) return v.error();
      std::array<std::uint8_t, 16> mk;
      mk.fill(0xff);
      if (has_mask && is_prefix_len(maskt)) {
        auto n = parse_uint(maskt, 128, ctx);
        if (!n) return n.error();
        for (unsigned i = 0; i < 16; ++i) {
          const unsigned first = i * 8;  // the first bit of byte i
          unsigned bits = *n > first ? static_cast<unsigned>(*n) - first : 0;
          mk[i] = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff00 >> bits);
        }
      } else if (has_mask) {
        auto mm = parse_ipv6(maskt, ctx);
        if (!mm) return mm.error();
        mk = *mm;
      }
      std::memcpy(at(m.key, f.offset), v->data(), 16);
      std::memcpy(at(m.mask, f.offset), mk.data(), 16);
      return {};
    }
    case Kind::Frag:
      if (!has_mask) {
        int v = value == "no"      ? 0
                : value == "first" ? VSW_FRAG_ANY
                : value == "later" ? VSW_FRAG_ANY | VSW_FRAG_LATER
                                   : -1;
        if (v >= 0) {
          put_num(f, m.key, static_cast<std::uint64_t>(v));
          put_num(f, m.mask, 0xff);
          return {};
        }
      }
      [[fallthrough]];
    default: {
      auto v = parse_uint(value, f.max, ctx);
      if (!v) {
        if (f.kind == Kind::Frag)
          return bad("bad frag " + quote(value) + " in " + quote(ctx) +
                     " (want no, first, later or a number)");
        return v.error();
      }
      std::uint64_t mk = full_mask(f);
      if (has_mask) {
        auto mm = parse_uint(maskt, f.max, ctx);
        if (!mm) return mm.error();
        mk = *mm;
      }
      put_num(f, m.key, *v);
      put_num(f, m.mask, mk);
      return {};
    }
  }
}

std::string format_value(const Field& f, const vsw_flow_key& k) {
  switch (f.kind) {
    case Kind::Mac: {
      Mac a;
      std::memcpy(a.data(), at(k, f.offset), 6);
      return format_mac(a);
    }
    case Kind::Ipv4:
      return format_ipv4(get32(k, f.offset, true));
    case Kind::Ipv6:
      return format_ipv6(at(k, f.offset));
    case Kind::Be32:
    case Kind::Label:
    case Kind::Tci:
      return hex(get_num(f, k));
    case Kind::U32:
      // in_port in decimal, skb_mark in hex
      return f.offset == offsetof(vsw_flow_key, in_port) ? std::to_string(get_num(f, k))
                                                         : hex(get_num(f, k));
    case Kind::Be16:
      if (f.offset == offsetof(vsw_flow_key, eth_type)) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(get_num(f, k)));
        return buf;
      }
      if (f.offset == offsetof(vsw_flow_key, tcp_flags)) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned>(get_num(f, k)));
        return buf;
      }
      return std::to_string(get_num(f, k));
    default:
      return std::to_string(get_num(f, k));
  }
}

std::string format_field(const Field& f, const Match& m) {
  if (f.kind == Kind::Frag && field_exact(f, m.mask)) {
    switch (get_num(f, m.key)) {
      case 0:
        return "no";
      case VSW_FRAG_ANY:
        return "first";
      case VSW_FRAG_ANY | VSW_FRAG_LATER:
        return "later";
      default:
        break;
    }
  }
  std::string s = format_value(f, m.key);
  if (!field_exact(f, m.mask)) {
    s += '/';
    if (f.kind == Kind::Mac || f.kind == Kind::Ipv4 || f.kind == Kind::Ipv6)
      s += format_value(f, m.mask);
    else
      s += hex(get_num(f, m.mask));
  }
  return s;
}

const Group* find_group(std::string_view name) {
  for (const auto& g : groups())
    if (name == g.name) return &g;
  return nullptr;
}

std::string group_text(const Group& g, const Match& m, std::initializer_list<const char*> only) {
  std::string args;
  for (const auto& f : g.fields) {
    bool wanted = only.size() == 0;
    for (const char* o : only) wanted |= std::string_view(o) == f.name;
    if (!wanted || !field_masked(f, m.mask)) continue;
    if (f.kind == Kind::Tci) continue;  // printed by the vlan special cases only
    if (!args.empty()) args += ',';
    if (!g.single) args += std::string(f.name) + "=";
    args += format_field(f, m);
  }
  if (args.empty()) return {};
  return std::string(g.name) + "(" + args + ")";
}

void append(std::string& out, const std::string& part) {
  if (part.empty()) return;
  if (!out.empty()) out += ',';
  out += part;
}

}  // namespace

// ---- public: MACs, JSON -----------------------------------------------------------------
Result<Mac> parse_mac(std::string_view text) {
  Mac mac{};
  std::string_view s = trim(text);
  for (int i = 0; i < 6; ++i) {
    if (s.size() < 2) return bad("bad MAC address " + quote(text));
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + 2, v, 16);
    if (ec != std::errc() || p != s.data() + 2) return bad("bad MAC address " + quote(text));
    mac[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    s.remove_prefix(2);
    if (i < 5) {
      if (s.empty() || s.front() != ':') return bad("bad MAC address " + quote(text));
      s.remove_prefix(1);
    }
  }
  if (!s.empty()) return bad("bad MAC address " + quote(text));
  return mac;
}

std::string format_mac(const Mac& mac) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return buf;
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// ---- public: match ------------------------------------------------------------------------
Result<Match> parse_match(std::string_view text) {
  Match m;
  text = trim(text);
  if (text.empty()) return bad("empty flow (write at least one field, e.g. in_port(1))");
  auto items = split_top(text);
  if (!items) return items.error();
  for (std::string_view item_text : *items) {
    if (item_text.empty()) return bad("empty field in flow " + quote(text));
    auto item = split_item(item_text);
    if (!item) return item.error();
    const Group* g = find_group(item->name);
    if (!g) return bad("unknown flow field " + quote(item->name) + " in " + quote(item_text));
    if (!item->args) return bad("flow field " + quote(item_text) + " needs '(...)'");
    std::string_view args = trim(*item->args);
    if (g->single) {
      auto r = parse_field(g->fields[0], args, item_text, m);
      if (!r) return r.error();
      continue;
    }
    const bool vlan = std::string_view(g->name) == "vlan";
    if (vlan && args == "none") {
      put16(m.key, offsetof(vsw_flow_key, vlan_tci), 0);
      put16(m.mask, offsetof(vsw_flow_key, vlan_tci), 0xffff);
      continue;
    }
    bool vlan_fields = false, raw_tci = false;
    if (!args.empty()) {
      auto parts = split_top(args);
      if (!parts) return parts.error();
      for (std::string_view part : *parts) {
        auto eq = part.find('=');
        if (eq == std::string_view::npos)
          return bad("expected name=value, got " + quote(part) + " in " + quote(item_text));
        std::string_view fname = trim(part.substr(0, eq));
        const Field* f = nullptr;
        for (const auto& cand : g->fields)
          if (fname == cand.name) f = &cand;
        if (!f) return bad("unknown field " + quote(fname) + " in " + quote(item_text));
        auto r = parse_field(*f, part.substr(eq + 1), item_text, m);
        if (!r) return r.error();
        vlan_fields |= f->kind != Kind::Tci;
        raw_tci |= f->kind == Kind::Tci;
      }
    }
    // vid/pcp/dei (or nothing) ask for a tag; the raw tci=V/M form says it all itself.
    if (vlan && !raw_tci && (vlan_fields || args.empty())) {
      const std::size_t off = offsetof(vsw_flow_key, vlan_tci);
      put16(m.key, off, get16(m.key, off) | VSW_VLAN_TAG_PRESENT);
      put16(m.mask, off, get16(m.mask, off) | VSW_VLAN_TAG_PRESENT);
    }
    if (g->implied_proto >= 0) {
      if (m.mask.ip_proto == 0) {
        m.key.ip_proto = static_cast<std::uint8_t>(g->implied_proto);
        m.mask.ip_proto = 0xff;
      } else if (m.mask.ip_proto != 0xff || m.key.ip_proto != g->implied_proto) {
        return bad(quote(item_text) + " conflicts with the IP protocol matched elsewhere");
      }
    }
  }
  m.normalize();
  return m;
}

std::string format_match(const Match& m) {
  const vsw_flow_key& mk = m.mask;
  std::string out;
  append(out, group_text(*find_group("in_port"), m, {}));
  append(out, group_text(*find_group("skb_mark"), m, {}));
  append(out, group_text(*find_group("eth"), m, {}));

  // VLAN: vid/pcp/dei when the tag is required present, else the raw forms.
  const std::uint16_t tci = get16(m.key, offsetof(vsw_flow_key, vlan_tci));
  const std::uint16_t tci_mask = get16(mk, offsetof(vsw_flow_key, vlan_tci));
  const Group& gv = *find_group("vlan");
  if (tci_mask & tci & VSW_VLAN_TAG_PRESENT) {
    std::string v = group_text(gv, m, {"vid", "pcp", "dei"});
    append(out, v.empty() ? "vlan()" : v);
  } else if (tci_mask == 0xffff && tci == 0 && !mk.vlan_dei) {
    append(out, "vlan(none)");
  } else if (tci_mask != 0 || mk.vlan_dei) {
    const std::string dei = group_text(gv, m, {"dei"});  // "vlan(dei=N)" or empty
    append(out, "vlan(tci=" + hex(tci) + "/" + hex(tci_mask) +
                    (dei.empty() ? ")" : "," + dei.substr(5)));
  }
  append(out, group_text(*find_group("eth_type"), m, {}));

  // IP: which group owns the shared fields proto/tos/ttl/frag.
  const std::uint16_t et = get16(m.key, offsetof(vsw_flow_key, eth_type));
  const bool et_exact = get16(mk, offsetof(vsw_flow_key, eth_type)) == 0xffff;
  const Group& g4 = *find_group("ipv4");
  const Group& g6 = *find_group("ipv6");
  const bool v4_own = field_masked(g4.fields[0], mk) || field_masked(g4.fields[1], mk);
  const bool v6_own = field_masked(g6.fields[0], mk) || field_masked(g6.fields[1], mk) ||
                      field_masked(g6.fields[2], mk);
  const bool v6 = (et_exact && et == 0x86dd) || (!(et_exact && et == 0x0800) && v6_own && !v4_own);
  const bool v4 = !v6 && ((et_exact && et == 0x0800) || v4_own);
  if (v4) {
    append(out, group_text(g4, m, {}));
  } else {
    append(out, group_text(g4, m, {"src", "dst"}));
  }
  if (v6) {
    append(out, group_text(g6, m, {}));
  } else {
    append(out, group_text(g6, m, {"src", "dst", "label"}));
  }
  if (!v4 && !v6) append(out, group_text(*find_group("ip"), m, {}));
  append(out, group_text(*find_group("arp"), m, {}));

  const bool proto_exact = mk.ip_proto == 0xff;
  const char* l4 = "l4";
  const char* icmp = "l4icmp";
  if (proto_exact) {
    switch (m.key.ip_proto) {
      case 6:
        l4 = "tcp";
        break;
      case 17:
        l4 = "udp";
        break;
      case 132:
        l4 = "sctp";
        break;
      case 1:
        icmp = "icmp";
        break;
      case 58:
        icmp = "icmpv6";
        break;
      default:
        break;
    }
  }
  append(out, group_text(*find_group(l4), m, {}));
  append(out, group_text(*find_group(icmp), m, {}));
  append(out, group_text(*find_group("tcp_flags"), m, {}));
  if (out.empty()) out = "in_port(0/0)";  // matches everything; parses back to the same
  return out;
}

// ---- public: actions ------------------------------------------------------------------------
namespace {

Result<std::vector<std::pair<std::string_view, std::string_view>>> key_values(
    std::string_view args, std::string_view ctx) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  if (trim(args).empty()) return out;
  auto parts = split_top(args);
  if (!parts) return parts.error();
  for (std::string_view p : *parts) {
    auto eq = p.find('=');
    if (eq == std::string_view::npos)
      return bad("expected name=value, got " + quote(p) + " in " + quote(ctx));
    out.emplace_back(trim(p.substr(0, eq)), trim(p.substr(eq + 1)));
  }
  return out;
}

Result<void> parse_set_group(std::string_view text, SetAction& set) {
  auto item = split_item(text);
  if (!item) return item.error();
  if (!item->args) return bad("set field " + quote(text) + " needs '(...)'");
  auto kvs = key_values(*item->args, text);
  if (!kvs) return kvs.error();
  const std::string_view g = item->name;
  const bool l4 = g == "l4" || g == "tcp" || g == "udp";
  if (g != "eth" && g != "ipv4" && g != "ipv6" && g != "arp" && g != "vlan" && !l4)
    return bad("cannot set " + quote(g) + " in " + quote(text) +
               " (eth, vlan, ipv4, ipv6, arp, l4 can be set)");
  auto num = [&](std::string_view v, std::uint64_t max, auto& into) -> Result<void> {
    auto n = parse_uint(v, max, text);
    if (!n) return n.error();
    into = static_cast<std::remove_reference_t<decltype(*into)>>(*n);
    return {};
  };
  for (auto [k, v] : *kvs) {
    if (g == "vlan" && (k == "vid" || k == "pcp")) {
      auto r = k == "vid" ? num(v, 4095, set.vlan_vid) : num(v, 7, set.vlan_pcp);
      if (!r) return r.error();
      continue;
    }
    if (g == "ipv6" && (k == "src" || k == "dst")) {
      auto a = parse_ipv6(v, text);
      if (!a) return a.error();
      (k == "src" ? set.ipv6_src : set.ipv6_dst) = *a;
      continue;
    }
    if (g == "ipv6" && (k == "tclass" || k == "label" || k == "hlimit")) {
      auto r = k == "tclass"  ? num(v, 255, set.ipv6_tclass)
               : k == "label" ? num(v, 0xfffff, set.ipv6_label)
                              : num(v, 255, set.ipv6_hlimit);
      if (!r) return r.error();
      if (set.ipv6_hlimit == 0) return bad("hlimit=0 in " + quote(text) + " (want 1..255)");
      continue;
    }
    if (g == "arp" && (k == "op" || k == "sha" || k == "tha")) {
      if (k == "op") {
        auto r = num(v, 0xffff, set.arp_op);
        if (!r) return r.error();
        continue;
      }
      auto mac = parse_mac(v);
      if (!mac) return bad(mac.error().message + " in " + quote(text));
      (k == "sha" ? set.arp_sha : set.arp_tha) = *mac;
      continue;
    }
    if (g == "arp" && (k == "sip" || k == "tip")) {
      auto a = parse_ipv4(v, text);
      if (!a) return a.error();
      (k == "sip" ? set.arp_spa : set.arp_tpa) = htonl(*a);
      continue;
    }
    if (g == "eth" && (k == "src" || k == "dst")) {
      auto mac = parse_mac(v);
      if (!mac) return bad(mac.error().message + " in " + quote(text));
      (k == "src" ? set.eth_src : set.eth_dst) = *mac;
    } else if (g == "ipv4" && (k == "src" || k == "dst")) {
      auto a = parse_ipv4(v, text);
      if (!a) return a.error();
      (k == "src" ? set.ipv4_src : set.ipv4_dst) = htonl(*a);
    } else if (g == "ipv4" && (k == "tos" || k == "ttl")) {
      auto n = parse_uint(v, 255, text);
      if (!n) return n.error();
      (k == "tos" ? set.ipv4_tos : set.ipv4_ttl) = static_cast<std::uint8_t>(*n);
    } else if (l4 && (k == "src" || k == "dst")) {
      auto n = parse_uint(v, 0xffff, text);
      if (!n) return n.error();
      (k == "src" ? set.l4_src : set.l4_dst) = static_cast<std::uint16_t>(*n);
    } else {
      return bad("unknown field " + quote(k) + " in " + quote(text));
    }
  }
  return {};
}

Result<std::vector<std::uint8_t>> parse_hex_bytes(std::string_view s, std::string_view ctx) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty() || s.size() % 2 != 0)
    return bad("bad cookie " + quote(s) + " in " + quote(ctx) + " (want 0x and hex byte pairs)");
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data() + i, s.data() + i + 2, v, 16);
    if (ec != std::errc() || p != s.data() + i + 2)
      return bad("bad cookie " + quote(s) + " in " + quote(ctx));
    out.push_back(static_cast<std::uint8_t>(v));
  }
  if (out.size() > VSW_MAX_COOKIE)
    return bad("cookie in " + quote(ctx) + " is longer than " + std::to_string(VSW_MAX_COOKIE) +
               " bytes");
  return out;
}

}  // namespace

Result<Actions> parse_actions(std::string_view text) {
  Actions acts;
  text = trim(text);
  if (text.empty()) return bad("empty action list (write 'drop' to drop)");
  if (text == "drop") return acts;
  auto items = split_top(text);
  if (!items) return items.error();
  for (std::string_view it : *items) {
    if (it.empty()) return bad("empty action in " + quote(text));
    if (it.find_first_not_of("0123456789") == std::string_view::npos || it.substr(0, 2) == "0x") {
      auto n = parse_uint(it, VSW_MAX_PORTS - 1, it);
      if (!n) return n.error();
      acts.emplace_back(OutputAction{static_cast<std::uint32_t>(*n)});
      continue;
    }
    auto item = split_item(it);
    if (!item) return item.error();
    const std::string_view name = item->name;
    if (name == "drop") return bad("'drop' must be the only action, in " + quote(text));
    if (name == "pop_vlan" && (!item->args || trim(*item->args).empty())) {
      acts.emplace_back(PopVlanAction{});
    } else if (name == "userspace" && item->args) {
      UserspaceAction u;
      auto kvs = key_values(*item->args, it);
      if (!kvs) return kvs.error();
      for (auto [k, v] : *kvs) {
        if (k == "pid") {
          auto n = parse_uint(v, 0xffffffff, it);
          if (!n) return n.error();
          u.pid = static_cast<std::uint32_t>(*n);
        } else if (k == "cookie") {
          auto c = parse_hex_bytes(v, it);
          if (!c) return c.error();
          u.cookie = std::move(*c);
        } else {
          return bad("unknown field " + quote(k) + " in " + quote(it));
        }
      }
      acts.emplace_back(std::move(u));
    } else if (name == "push_vlan" && item->args) {
      PushVlanAction p;
      bool have_vid = false;
      auto kvs = key_values(*item->args, it);
      if (!kvs) return kvs.error();
      for (auto [k, v] : *kvs) {
        if (k == "vid") {
          auto n = parse_uint(v, 4095, it);
          if (!n) return n.error();
          p.vid = static_cast<std::uint16_t>(*n);
          have_vid = true;
        } else if (k == "pcp") {
          auto n = parse_uint(v, 7, it);
          if (!n) return n.error();
          p.pcp = static_cast<std::uint8_t>(*n);
        } else {
          return bad("unknown field " + quote(k) + " in " + quote(it));
        }
      }
      if (!have_vid) return bad("push_vlan needs vid=N, in " + quote(it));
      acts.emplace_back(p);
    } else if (name == "set" && item->args) {
      SetAction s;
      auto groups_r = split_top(*item->args);
      if (!groups_r) return groups_r.error();
      for (std::string_view g : *groups_r) {
        auto r = parse_set_group(g, s);
        if (!r) return r.error();
      }
      if (s.empty()) return bad("set() with nothing to set, in " + quote(it));
      acts.emplace_back(s);
    } else {
      return bad("unknown action " + quote(it) +
                 " (want N, drop, userspace(..), set(..), push_vlan(..), pop_vlan)");
    }
  }
  if (acts.size() > VSW_MAX_ACTIONS)
    return bad("more than " + std::to_string(VSW_MAX_ACTIONS) + " actions in " + quote(text));
  return acts;
}

std::string format_actions(const Actions& actions) {
  if (actions.empty()) return "drop";
  std::string out;
  for (const Action& a : actions) {
    std::string s;
    if (const auto* o = std::get_if<OutputAction>(&a)) {
      s = std::to_string(o->port);
    } else if (const auto* u = std::get_if<UserspaceAction>(&a)) {
      s = "userspace(pid=" + std::to_string(u->pid);
      if (!u->cookie.empty()) {
        s += ",cookie=0x";
        char buf[3];
        for (auto b : u->cookie) {
          std::snprintf(buf, sizeof buf, "%02x", b);
          s += buf;
        }
      }
      s += ")";
    } else if (const auto* st = std::get_if<SetAction>(&a)) {
      std::string eth, ip, l4;
      auto add = [](std::string& grp, const std::string& kv) {
        if (!grp.empty()) grp += ',';
        grp += kv;
      };
      if (st->eth_src) add(eth, "src=" + format_mac(*st->eth_src));
      if (st->eth_dst) add(eth, "dst=" + format_mac(*st->eth_dst));
      if (st->ipv4_src) add(ip, "src=" + format_ipv4(ntohl(*st->ipv4_src)));
      if (st->ipv4_dst) add(ip, "dst=" + format_ipv4(ntohl(*st->ipv4_dst)));
      if (st->ipv4_tos) add(ip, "tos=" + std::to_string(*st->ipv4_tos));
      if (st->ipv4_ttl) add(ip, "ttl=" + std::to_string(*st->ipv4_ttl));
      if (st->l4_src) add(l4, "src=" + std::to_string(*st->l4_src));
      if (st->l4_dst) add(l4, "dst=" + std::to_string(*st->l4_dst));
      std::string vlan, ip6, arp;
      if (st->vlan_vid) add(vlan, "vid=" + std::to_string(*st->vlan_vid));
      if (st->vlan_pcp) add(vlan, "pcp=" + std::to_string(*st->vlan_pcp));
      if (st->ipv6_src) add(ip6, "src=" + format_ipv6(st->ipv6_src->data()));
      if (st->ipv6_dst) add(ip6, "dst=" + format_ipv6(st->ipv6_dst->data()));
      if (st->ipv6_tclass) add(ip6, "tclass=" + std::to_string(*st->ipv6_tclass));
      if (st->ipv6_label) add(ip6, "label=" + hex(*st->ipv6_label));
      if (st->ipv6_hlimit) add(ip6, "hlimit=" + std::to_string(*st->ipv6_hlimit));
      if (st->arp_op) add(arp, "op=" + std::to_string(*st->arp_op));
      if (st->arp_sha) add(arp, "sha=" + format_mac(*st->arp_sha));
      if (st->arp_tha) add(arp, "tha=" + format_mac(*st->arp_tha));
      if (st->arp_spa) add(arp, "sip=" + format_ipv4(ntohl(*st->arp_spa)));
      if (st->arp_tpa) add(arp, "tip=" + format_ipv4(ntohl(*st->arp_tpa)));
      std::string inner;
      if (!eth.empty()) add(inner, "eth(" + eth + ")");
      if (!vlan.empty()) add(inner, "vlan(" + vlan + ")");
      if (!ip.empty()) add(inner, "ipv4(" + ip + ")");
      if (!ip6.empty()) add(inner, "ipv6(" + ip6 + ")");
      if (!arp.empty()) add(inner, "arp(" + arp + ")");
      if (!l4.empty()) add(inner, "l4(" + l4 + ")");
      s = "set(" + inner + ")";
    } else if (const auto* p = std::get_if<PushVlanAction>(&a)) {
      s = "push_vlan(vid=" + std::to_string(p->vid) + ",pcp=" + std::to_string(p->pcp) + ")";
    } else {
      s = "pop_vlan";
    }
    append(out, s);
  }
  return out;
}

namespace {
std::string used_text(const FlowEntry& e) {
  if (!e.used_ms) return "never";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(*e.used_ms) / 1000.0);
  return buf;
}
}  // namespace

std::string format_flow_entry(const FlowEntry& e) {
  std::string s = format_match(e.match) + ", packets:" + std::to_string(e.packets) +
                  ", bytes:" + std::to_string(e.bytes) + ", used:" + used_text(e);
  if (e.tcp_flags) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%03x", e.tcp_flags);
    s += std::string(", flags:") + buf;
  }
  return s + ", actions:" + format_actions(e.actions);
}

std::string format_flow_json(const FlowEntry& e) {
  return "{\"flow\":" + json_quote(format_match(e.match)) +
         ",\"packets\":" + std::to_string(e.packets) + ",\"bytes\":" + std::to_string(e.bytes) +
         ",\"used_ms\":" + (e.used_ms ? std::to_string(*e.used_ms) : std::string("null")) +
         ",\"tcp_flags\":" + std::to_string(e.tcp_flags) +
         ",\"actions\":" + json_quote(format_actions(e.actions)) + "}";
}

}  // namespace vsw::dpif
