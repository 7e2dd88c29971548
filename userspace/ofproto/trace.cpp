// Tracing a described packet through the pipeline. See trace.h.
#include "ofproto/trace.h"

#include <arpa/inet.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "dpif/flow_text.h"
#include "ofproto/key_map.h"
#include "ofproto/normal.h"
#include "openflow/print_ofctl.h"

namespace vsw::ofproto {
namespace {

constexpr std::uint16_t kEthIpv4 = 0x0800, kEthIpv6 = 0x86dd, kEthArp = 0x0806;

#define FULL(m, member) std::memset(&(m).member, 0xff, sizeof(m).member)

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits at commas outside parentheses.
std::vector<std::string_view> split_top(std::string_view s) {
  std::vector<std::string_view> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(') ++depth;
    if (s[i] == ')') --depth;
    if (s[i] == ',' && depth == 0) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(trim(s.substr(start)));
  return out;
}

bool any_set(const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i)
    if (b[i]) return true;
  return false;
}
#define MASKED(m, member) any_set(&(m).member, sizeof(m).member)

// The datapath port of `in_port=WORD`: an OpenFlow number, LOCAL, or a port's name.
Result<std::uint32_t> resolve_port(std::string_view word, std::span<const PortInfo> ports) {
  const std::string quoted = "'in_port=" + std::string(word) + "'";
  if (word.empty()) return make_error(EINVAL, "in_port needs a port number or name");
  std::uint32_t of = 0;
  bool found = false;
  if (word == "LOCAL") {
    of = openflow::port::kLocal;
    found = true;
  } else if (word.find_first_not_of("0123456789") == std::string_view::npos) {
    auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), of);
    if (ec != std::errc() || p != word.data() + word.size())
      return make_error(EINVAL, "bad port number in " + quoted);
    for (const PortInfo& pi : ports) found = found || pi.ofport == of;
  } else {
    for (const PortInfo& pi : ports) {
      if (pi.name == word) {
        of = pi.ofport;
        found = true;
      }
    }
  }
  if (!found) return make_error(ENOENT, "the bridge has no port " + quoted);
  const auto dp = dp_port_from_of(of);
  if (!dp) return make_error(EINVAL, "port in " + quoted + " has no datapath number");
  return *dp;
}

std::string normal_note(const NormalDecision& d) {
  if (d.outputs.empty())
    return std::string(d.drop_reason ? d.drop_reason : "NORMAL: no output") + " (drop)";
  std::string s = "NORMAL: VLAN " + std::to_string(d.vlan) + ", output to ";
  for (std::size_t i = 0; i < d.outputs.size(); ++i) {
    const NormalOutput& o = d.outputs[i];
    if (i) s += ",";
    s += std::to_string(o.dp_port);
    if (o.tci & VSW_VLAN_TAG_PRESENT)
      s += "(vlan " + std::to_string(o.tci & VSW_VLAN_VID_MASK) + ")";
  }
  return s + " (a trace learns no MAC)";
}

// Records what a translation does; starts over when the translation is retried.
class Recorder final : public XlateObserver {
 public:
  explicit Recorder(Trace& t) : t_(t) {}

  void begin(const vsw_flow_key& key) override {
    t_.steps.clear();
    t_.action_set_ran = false;
    t_.action_set.clear();
    t_.action_set_notes.clear();
    t_.final_flow.clear();
    in_ = key;
  }
  void table(std::uint8_t table_id, const Rule* rule) override {
    TraceStep s;
    s.table_id = table_id;
    if (rule) {
      s.matched = true;
      s.cookie = rule->cookie;
      s.priority = rule->priority;
      s.match = openflow::ofctl_match(rule->oxm());
      s.instructions = openflow::ofctl_instructions(rule->instructions());
    }
    t_.steps.push_back(std::move(s));
  }
  void action_set(const std::vector<openflow::Action>& actions) override {
    t_.action_set_ran = true;
    t_.action_set = openflow::ofctl_actions(actions);
  }
  void normal(const NormalDecision& d) override {
    std::vector<std::string>& notes =
        t_.action_set_ran || t_.steps.empty() ? t_.action_set_notes : t_.steps.back().notes;
    notes.push_back(normal_note(d));
  }
  void end(const vsw_flow_key& flow) override {
    if (std::memcmp(&flow, &in_, sizeof flow) != 0) t_.final_flow = packet_text(flow);
  }

 private:
  Trace& t_;
  vsw_flow_key in_{};
};

}  // namespace

Result<vsw_flow_key> parse_trace_flow(std::string_view text, std::span<const PortInfo> ports) {
  std::string rest;
  std::optional<std::uint32_t> in_port;
  for (std::string_view item : split_top(trim(text))) {
    if (item.starts_with("in_port=")) {
      if (in_port) return make_error(EINVAL, "in_port given twice in '" + std::string(text) + "'");
      auto p = resolve_port(trim(item.substr(8)), ports);
      if (!p) return p.error();
      in_port = *p;
      continue;
    }
    if (!rest.empty()) rest += ',';
    rest += item;
  }
  vsw_flow_key key{};
  if (!rest.empty()) {
    auto m = dpif::parse_match(rest);
    if (!m) return m.error();
    if (m->mask.in_port) {
      if (in_port) return make_error(EINVAL, "in_port given twice in '" + std::string(text) + "'");
      in_port = m->key.in_port;
    }
    key = m->key;
    // The EtherType the fields imply, when not given.
    if (!m->mask.eth_type) {
      if (MASKED(m->mask, ipv6_src) || MASKED(m->mask, ipv6_dst) || m->mask.ipv6_label)
        key.eth_type = htons(kEthIpv6);
      else if (m->mask.arp_spa || m->mask.arp_tpa || m->mask.arp_op || MASKED(m->mask, arp_sha) ||
               MASKED(m->mask, arp_tha))
        key.eth_type = htons(kEthArp);
      else if (m->mask.ipv4_src || m->mask.ipv4_dst || m->mask.ip_proto)
        key.eth_type = htons(kEthIpv4);
    }
  }
  if (!in_port)
    return make_error(EINVAL, "the packet needs an input port: in_port=PORT (number or name)");
  key.in_port = *in_port;
  return key;
}

Trace trace(Ofproto& of, const vsw_flow_key& key) {
  Trace t;
  t.flow = packet_text(key);
  Recorder rec(t);
  t.result = of.translate(key, /*may_learn=*/false, nullptr, &rec);
  return t;
}

std::string packet_text(const vsw_flow_key& key) {
  dpif::Match m;
  m.key = key;
  FULL(m.mask, in_port);
  if (key.skb_mark) FULL(m.mask, skb_mark);
  FULL(m.mask, eth_src);
  FULL(m.mask, eth_dst);
  FULL(m.mask, vlan_tci);
  FULL(m.mask, eth_type);
  const std::uint16_t type = ntohs(key.eth_type);
  if (type == kEthIpv4 || type == kEthIpv6) {
    if (type == kEthIpv4) {
      FULL(m.mask, ipv4_src);
      FULL(m.mask, ipv4_dst);
    } else {
      FULL(m.mask, ipv6_src);
      FULL(m.mask, ipv6_dst);
      m.mask.ipv6_label = htonl(0xfffff);
    }
    FULL(m.mask, ip_proto);
    FULL(m.mask, ip_tos);
    FULL(m.mask, ip_ttl);
    FULL(m.mask, ip_frag);
    switch (key.ip_proto) {
      case 6:
      case 17:
      case 132:
        FULL(m.mask, tp_src);
        FULL(m.mask, tp_dst);
        if (key.tcp_flags) m.mask.tcp_flags = htons(0x0fff);
        break;
      case 1:
      case 58:
        FULL(m.mask, icmp_type);
        FULL(m.mask, icmp_code);
        break;
      default:
        break;
    }
  } else if (type == kEthArp) {
    FULL(m.mask, arp_spa);
    FULL(m.mask, arp_tpa);
    FULL(m.mask, arp_sha);
    FULL(m.mask, arp_tha);
    FULL(m.mask, arp_op);
  }
  m.normalize();
  return dpif::format_match(m);
}

#undef FULL
#undef MASKED

}  // namespace vsw::ofproto
