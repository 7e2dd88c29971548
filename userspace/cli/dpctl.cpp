// vsw-dpctl verbs (see dpctl.h). Argument order follows ovs-dpctl.
#include "cli/dpctl.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ostream>
#include <sstream>

#include "cli/dpctl_top.h"
#include "dpif/flow_text.h"

namespace vsw::cli {

using dpif::Result;

dpif::Dpif* Context::dpif() {
  if (dpif_) return dpif_.get();
  auto d = factory_();
  if (!d) {
    fail(d.error());
    return nullptr;
  }
  dpif_ = std::move(*d);
  return dpif_.get();
}

int Context::fail(int code, const std::string& message) {
  err_ << "vsw-dpctl: " << (verb.empty() ? "" : verb + ": ") << message << "\n";
  return code;
}

Result<IfaceSpec> parse_iface_spec(std::string_view text) {
  IfaceSpec spec;
  auto comma = text.find(',');
  spec.name = std::string(text.substr(0, comma));
  if (spec.name.empty() || spec.name.size() >= 16)
    return dpif::make_error(EINVAL, "bad interface name in '" + std::string(text) + "'");
  while (comma != std::string_view::npos) {
    text.remove_prefix(comma + 1);
    comma = text.find(',');
    std::string_view opt = text.substr(0, comma);
    constexpr std::string_view kPort = "port_no=";
    if (opt.substr(0, kPort.size()) != kPort)
      return dpif::make_error(
          EINVAL, "unknown interface option '" + std::string(opt) + "' (want port_no=N)");
    std::string_view num = opt.substr(kPort.size());
    std::uint32_t v = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (num.empty() || ec != std::errc() || p != num.data() + num.size() || v == 0 ||
        v >= VSW_MAX_PORTS)
      return dpif::make_error(EINVAL, "bad port number '" + std::string(num) + "' (want 1.." +
                                          std::to_string(VSW_MAX_PORTS - 1) + ")");
    spec.port_no = v;
  }
  return spec;
}

namespace {

const char* port_type(std::uint32_t t) {
  switch (t) {
    case VSW_VPORT_TYPE_INTERNAL:
      return "internal";
    case VSW_VPORT_TYPE_NETDEV:
      return "netdev";
    default:
      return "unknown";
  }
}

int cmd_add_dp(Context& c, const std::vector<std::string>& a) {
  auto* d = c.dpif();
  if (!d) return kExitFailed;
  auto r = d->dp_create(a[0]);
  if (!r) return c.fail(r.error());
  return kExitOk;
}

int cmd_del_dp(Context& c, const std::vector<std::string>& a) {
  auto* d = c.dpif();
  if (!d) return kExitFailed;
  auto r = d->dp_delete(a[0]);
  if (!r) return c.fail(r.error());
  return kExitOk;
}

void show_one(Context& c, const dpif::DatapathInfo& dp, const std::vector<dpif::PortInfo>& ports) {
  const auto& s = dp.stats;
  char ratio[32];
  const std::uint64_t pkts = s.n_hit + s.n_missed;
  std::snprintf(ratio, sizeof ratio, "%.2f",
                pkts ? static_cast<double>(s.n_mask_hit) / static_cast<double>(pkts) : 0.0);
  auto& o = c.out();
  o << dp.name << ":\n";
  o << "  lookups: hit:" << s.n_hit << " missed:" << s.n_missed << " lost:" << s.n_lost << "\n";
  o << "  flows: " << s.n_flows << "\n";
  o << "  masks: hit:" << s.n_mask_hit << " total:" << s.n_masks << " hit/pkt:" << ratio << "\n";
  if (dp.max_flows) o << "  limits: flows:" << dp.max_flows << " masks:" << dp.max_masks << "\n";
  o << "  microflow cache hits: " << s.n_microflow_hit << "\n";
  o << "  features: per-CPU upcalls:" << ((dp.features & VSW_DP_F_PER_CPU_UPCALLS) ? "yes" : "no")
    << "\n";
  if (!dp.per_cpu_pids.empty()) {
    o << "  per-CPU upcall pids:";
    for (std::uint32_t pid : dp.per_cpu_pids) o << ' ' << pid;
    o << "\n";
  }
  for (const auto& p : ports) {
    o << "  port " << p.port_no << ": " << p.name;
    if (p.type != VSW_VPORT_TYPE_NETDEV) o << " (" << port_type(p.type) << ")";
    o << "\n";
    o << "    RX packets:" << p.stats.rx_packets << " bytes:" << p.stats.rx_bytes
      << " dropped:" << p.stats.rx_dropped << "\n";
    o << "    TX packets:" << p.stats.tx_packets << " bytes:" << p.stats.tx_bytes
      << " dropped:" << p.stats.tx_dropped << "\n";
  }
}

// One line of JSON per datapath (the same facts as show_one; field names in docs/dpctl.md).
void show_one_json(Context& c, const dpif::DatapathInfo& dp,
                   const std::vector<dpif::PortInfo>& ports) {
  const auto& s = dp.stats;
  std::ostringstream o;
  o << "{\"name\":" << dpif::json_quote(dp.name) << ",\"ifindex\":" << dp.ifindex
    << ",\"version\":" << dp.version << ",\"key_size\":" << dp.key_size
    << ",\"upcall_pid\":" << dp.upcall_pid;
  o << ",\"stats\":{\"hit\":" << s.n_hit << ",\"missed\":" << s.n_missed << ",\"lost\":" << s.n_lost
    << ",\"flows\":" << s.n_flows << ",\"masks\":" << s.n_masks << ",\"mask_hit\":" << s.n_mask_hit
    << ",\"microflow_hit\":" << s.n_microflow_hit << "}";
  o << ",\"features\":{\"raw\":" << dp.features
    << ",\"per_cpu_upcalls\":" << ((dp.features & VSW_DP_F_PER_CPU_UPCALLS) ? "true" : "false")
    << "}";
  if (dp.max_flows)
    o << ",\"limits\":{\"flows\":" << dp.max_flows << ",\"masks\":" << dp.max_masks << "}";
  else
    o << ",\"limits\":null";
  o << ",\"per_cpu_pids\":[";
  for (std::size_t i = 0; i < dp.per_cpu_pids.size(); ++i)
    o << (i ? "," : "") << dp.per_cpu_pids[i];
  o << "],\"ports\":[";
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const auto& p = ports[i];
    const auto& ps = p.stats;
    o << (i ? "," : "") << "{\"port_no\":" << p.port_no << ",\"name\":" << dpif::json_quote(p.name)
      << ",\"type\":\"" << port_type(p.type) << "\",\"ifindex\":" << p.ifindex
      << ",\"upcall_pid\":" << p.upcall_pid << ",\"stats\":{\"rx_packets\":" << ps.rx_packets
      << ",\"rx_bytes\":" << ps.rx_bytes << ",\"rx_dropped\":" << ps.rx_dropped
      << ",\"tx_packets\":" << ps.tx_packets << ",\"tx_bytes\":" << ps.tx_bytes
      << ",\"tx_dropped\":" << ps.tx_dropped << "}}";
  }
  o << "]}";
  c.out() << o.str() << "\n";
}

int cmd_show(Context& c, const std::vector<std::string>& a) {
  auto* d = c.dpif();
  if (!d) return kExitFailed;
  std::vector<dpif::DatapathInfo> dps;
  if (a.empty()) {
    auto l = d->dp_list();
    if (!l) return c.fail(l.error());
    dps = std::move(*l);
  } else {
    auto one = d->dp_get(a[0]);
    if (!one) return c.fail(one.error());
    dps.push_back(std::move(*one));
  }
  for (const auto& dp : dps) {
    auto ports = d->port_list(dp.name);
    if (!ports) return c.fail(ports.error());
    if (c.json)
      show_one_json(c, dp, *ports);
    else
      show_one(c, dp, *ports);
  }
  return kExitOk;
}

int cmd_add_if(Context& c, const std::vector<std::string>& a) {
  std::vector<IfaceSpec> specs;
  for (std::size_t i = 1; i < a.size(); ++i) {
    auto s = parse_iface_spec(a[i]);
    if (!s) return c.fail(kExitUsage, s.error().message);
    specs.push_back(std::move(*s));
  }
  auto* d = c.dpif();
  if (!d) return kExitFailed;
  for (const auto& s : specs) {
    auto r = d->port_add(a[0], s.name, s.port_no, 0);
    if (!r)
      return c.fail(kExitFailed,
                    "adding " + s.name + " to " + a[0] + " failed: " + r.error().to_string());
  }
  return kExitOk;
}

int cmd_del_if(Context& c, const std::vector<std::string>& a) {
  auto* d = c.dpif();
  if (!d) return kExitFailed;
  for (std::size_t i = 1; i < a.size(); ++i) {
    auto r = d->port_del(a[0], a[i]);
    if (!r)
      return c.fail(kExitFailed,
                    "deleting " + a[i] + " from " + a[0] + " failed: " + r.error().to_string());
  }
  return kExitOk;
}

// The datapath to dump: the one given, or the only one that exists.
Result<std::string> pick_dp(Context& c, const std::vector<std::string>& a) {
  if (!a.empty()) return a[0];
  auto l = c.dpif()->dp_list();
  if (!l) return l.error();
  if (l->size() != 1)
    return dpif::make_error(EINVAL,
                            std::to_string(l->size()) + " datapaths exist; name the one to dump");
  return (*l)[0].name;
}

int cmd_dump_flows(Context& c, const std::vector<std::string>& a) {
  auto* d = c.dpif();
  if (!d) return kExitFailed;
  auto dp = pick_dp(c, a);
  if (!dp) return c.fail(dp.error());
  auto r = d->flow_dump(*dp, [&](const dpif::FlowEntry& e) {
    c.out() << (c.json ? dpif::format_flow_json(e) : dpif::format_flow_entry(e)) << "\n";
  });
  if (!r) return c.fail(r.error());
  return kExitOk;
}

int put_flow(Context& c, const std::vector<std::string>& a, dpif::FlowPut mode) {
  auto m = dpif::parse_match(a[1]);
  if (!m) return c.fail(kExitUsage, m.error().message);
  auto acts = dpif::parse_actions(a[2]);
  if (!acts) return c.fail(kExitUsage, acts.error().message);
  auto* d = c.dpif();
  if (!d) return kExitFailed;
  auto r = d->flow_put(a[0], *m, *acts, mode, c.clear);
  if (!r) return c.fail(r.error());
  return kExitOk;
}

int cmd_add_flow(Context& c, const std::vector<std::string>& a) {
  return put_flow(c, a, dpif::FlowPut::kCreate);
}
int cmd_mod_flow(Context& c, const std::vector<std::string>& a) {
  return put_flow(c, a, dpif::FlowPut::kModify);
}

int cmd_get_flow(Context& c, const std::vector<std::string>& a) {
  auto m = dpif::parse_match(a[1]);
  if (!m) return c.fail(kExitUsage, m.error().message);
  auto* d = c.dpif();
  if (!d) return kExitFailed;
  auto e = d->flow_get(a[0], *m);
  if (!e) return c.fail(e.error());
  c.out() << (c.json ? dpif::format_flow_json(*e) : dpif::format_flow_entry(*e)) << "\n";
  return kExitOk;
}

int cmd_del_flow(Context& c, const std::vector<std::string>& a) {
  auto m = dpif::parse_match(a[1]);
  if (!m) return c.fail(kExitUsage, m.error().message);
  auto* d = c.dpif();
  if (!d) return kExitFailed;
  auto e = d->flow_del(a[0], *m);
  if (!e) return c.fail(e.error());
  return kExitOk;
}

int cmd_del_flows(Context& c, const std::vector<std::string>& a) {
  auto* d = c.dpif();
  if (!d) return kExitFailed;
  auto r = d->flow_flush(a[0]);
  if (!r) return c.fail(r.error());
  return kExitOk;
}

int cmd_help(Context& c, const std::vector<std::string>&) {
  auto& o = c.out();
  o << "usage: vsw-dpctl [--json] [--clear] VERB [ARGS]\n"
       "Looks into and changes vsw.ko datapaths: datapaths, ports, flows, stats.\n\n";
  for (const auto& v : verbs()) {
    std::string left = std::string(v.name) + " " + v.args;
    o << "  " << left;
    if (left.size() > 36) {  // a long synopsis gets a line of its own
      o << "\n";
      left.clear();
      o << "  ";
    }
    for (std::size_t i = left.size(); i < 36; ++i) o << ' ';
    o << "  " << v.help << "\n";
  }
  o << "\nFlows: in_port(1),eth(src=..,dst=..),eth_type(0x0800),ipv4(dst=10.0.0.2),"
       "tcp(dst=80)...\nActions: N (output port), drop, userspace(pid=N[,cookie=0xHEX]), "
       "set(...),\n         push_vlan(vid=N,pcp=N), pop_vlan. See docs/dpctl.md.\n";
  return kExitOk;
}

}  // namespace

const std::vector<Verb>& verbs() {
  static const std::vector<Verb> table = {
      {"add-dp", "DP", "create datapath DP with its internal port 0 named DP", 1, 1, cmd_add_dp},
      {"del-dp", "DP", "delete datapath DP, its ports and flows", 1, 1, cmd_del_dp},
      {"show", "[DP] [--json]", "show datapaths: lookups, flows, masks, limits, features, ports", 0,
       1, cmd_show},
      {"add-if", "DP IFACE[,port_no=N]...", "attach existing interfaces to DP as ports", 2, -1,
       cmd_add_if},
      {"del-if", "DP IFACE...", "detach interfaces from DP", 2, -1, cmd_del_if},
      {"dump-flows", "[DP] [--json]", "print every flow of DP with its counters", 0, 1,
       cmd_dump_flows},
      {"add-flow", "DP FLOW ACTIONS", "install a flow (fails if it exists)", 3, 3, cmd_add_flow},
      {"mod-flow", "DP FLOW ACTIONS [--clear]",
       "replace a flow's actions (--clear: zero its counters)", 3, 3, cmd_mod_flow},
      {"get-flow", "DP FLOW", "print one flow with its counters", 2, 2, cmd_get_flow},
      {"del-flow", "DP FLOW", "delete one flow", 2, 2, cmd_del_flow},
      {"del-flows", "DP", "delete every flow of DP", 1, 1, cmd_del_flows},
      {"top", "DP [--once] [--interval SECS] [--sort packets|bytes] [--limit N]",
       "live view of the busiest flows by packets/s or bytes/s", 1, 1, cmd_top,
       "--once --interval= --sort= --limit="},
      {"help", "", "print this list", 0, 0, cmd_help},
  };
  return table;
}

namespace {

// The words of a Verb::options list; a trailing '=' (a value follows) is kept.
std::vector<std::string> option_words(const char* list) {
  std::vector<std::string> out;
  std::istringstream in(list);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

int run(const std::vector<std::string>& argv, const DpifFactory& factory, std::ostream& out,
        std::ostream& err, const Environment& env) {
  Context c(factory, out, err, env);
  // Every verb's own options (name -> takes a value), so they may appear anywhere on the
  // line; whether the chosen verb takes them is checked once it is known.
  std::map<std::string, bool, std::less<>> verb_options;
  for (const auto& v : verbs())
    for (const auto& w : option_words(v.options)) {
      const bool value = w.back() == '=';
      verb_options[value ? w.substr(0, w.size() - 1) : w] = value;
    }
  std::vector<std::string> words;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--json") {
      c.json = true;
    } else if (a == "--clear") {
      c.clear = true;
    } else if (a == "-h" || a == "--help") {
      words.insert(words.begin(), "help");
    } else if (auto it = verb_options.find(std::string_view(a).substr(0, a.find('=')));
               it != verb_options.end()) {
      const std::size_t eq = a.find('=');
      std::string value;
      if (it->second && eq != std::string::npos) {
        value = a.substr(eq + 1);
      } else if (it->second) {
        if (i + 1 == argv.size()) return c.fail(kExitUsage, "option '" + a + "' needs a value");
        value = argv[++i];
      } else if (eq != std::string::npos) {
        return c.fail(kExitUsage, "option '" + it->first + "' takes no value (in '" + a + "')");
      }
      c.options[it->first] = value;
    } else if (a.size() > 1 && a[0] == '-' && a.find('(') == std::string::npos) {
      return c.fail(kExitUsage, "unknown option '" + a + "' (try 'vsw-dpctl help')");
    } else {
      words.push_back(a);
    }
  }
  if (words.empty()) words.emplace_back("help");
  for (const auto& v : verbs()) {
    if (words[0] != v.name) continue;
    c.verb = v.name;
    const auto mine = option_words(v.options);
    for (const auto& given : c.options) {
      const std::string& name = given.first;
      const bool known = std::any_of(mine.begin(), mine.end(), [&](const std::string& w) {
        return w == name || w == name + "=";
      });
      if (!known) return c.fail(kExitUsage, "option '" + name + "' is not an option of " + v.name);
    }
    std::vector<std::string> args(words.begin() + 1, words.end());
    const int n = static_cast<int>(args.size());
    if (n < v.min_args || (v.max_args >= 0 && n > v.max_args))
      return c.fail(kExitUsage, std::string("usage: vsw-dpctl ") + v.name + " " + v.args);
    return v.run(c, args);
  }
  return c.fail(kExitUsage, "unknown command '" + words[0] + "' (try 'vsw-dpctl help')");
}

}  // namespace vsw::cli
