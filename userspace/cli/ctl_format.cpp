// vsw-ctl printers (see ctl_format.h).
#include "cli/ctl_format.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>
#include <vector>

#include "config/model.h"

namespace vsw::cli::ctl {
namespace {

using config::Bridge;
using config::Port;

std::vector<std::uint32_t> trunks_of(const Port& p) {
  return {p.trunks().begin(), p.trunks().end()};
}

std::string status_text(const config::PortStatus& s, bool local) {
  std::string t;
  if (!local && !s.attached()) {
    t = "detached";
    if (!s.reason().empty()) t += " (" + s.reason() + ")";
    if (s.ifindex() != 0) t += ", ifindex " + std::to_string(s.ifindex());
    return t;
  }
  if (!local) t = "attached, datapath port " + std::to_string(s.dp_port()) + ", ";
  if (s.ifindex() != 0)
    t += "ifindex " + std::to_string(s.ifindex()) + ", ";
  else if (local)
    t += "no netdev, ";
  t += s.link_up() ? "link up" : "link down";
  return t;
}

void print_option(std::ostream& o, const char* name, bool has, std::uint32_t v, const char* unit) {
  if (has) o << "        " << name << ": " << v << unit << "\n";
}

}  // namespace

void print_show(const config::ShowReply& show, std::ostream& o) {
  const auto& d = show.daemon();
  o << "vswd\n";
  o << "    flow_limit: " << d.flow_limit() << "\n";
  o << "    idle_timeout: " << d.idle_timeout_ms() << " ms\n";
  o << "    mac_aging: " << d.mac_aging_s() << " s\n";
  o << "    mac_table_size: " << d.mac_table_size() << "\n";
  o << "    handlers: " << (d.n_handlers() ? std::to_string(d.n_handlers()) : "one per CPU")
    << "\n";
  o << "    revalidators: " << (d.n_revalidators() ? std::to_string(d.n_revalidators()) : "auto")
    << "\n";
  for (const auto& bs : show.bridges()) {
    const Bridge& b = bs.config();
    o << "    Bridge " << b.name() << "\n";
    if (b.has_datapath_id())
      o << "        datapath_id: " << config::format_datapath_id(b.datapath_id()) << "\n";
    o << "        fail_mode: " << config::fail_mode_name(b.fail_mode()) << "\n";
    print_option(o, "mac_aging", b.has_mac_aging_s(), b.mac_aging_s(), " s");
    print_option(o, "mac_table_size", b.has_mac_table_size(), b.mac_table_size(), "");
    print_option(o, "flow_limit", b.has_flow_limit(), b.flow_limit(), "");
    print_option(o, "idle_timeout", b.has_idle_timeout_ms(), b.idle_timeout_ms(), " ms");
    const auto& dp = bs.datapath();
    if (dp.present())
      o << "        datapath: hit:" << dp.hit() << " missed:" << dp.missed()
        << " lost:" << dp.lost() << " flows:" << dp.flows() << " masks:" << dp.masks() << "\n";
    else
      o << "        datapath: not present\n";
    for (const auto& c : bs.controllers()) {
      o << "        Controller \"" << c.target() << "\"\n";
      o << "            is_connected: " << (c.connected() ? "true" : "false") << "\n";
      if (!c.state().empty()) o << "            state: " << c.state() << "\n";
      if (!c.role().empty()) o << "            role: " << c.role() << "\n";
    }
    o << "        Port " << b.name() << "\n";
    o << "            type: internal (local port)\n";
    o << "            status: " << status_text(bs.local(), true) << "\n";
    for (int i = 0; i < b.ports_size(); ++i) {
      const Port& p = b.ports(i);
      o << "        Port " << p.name() << "\n";
      o << "            ofport: " << p.ofport() << "\n";
      if (p.vlan_mode() == Port::ACCESS)
        o << "            tag: " << p.tag() << "\n";
      else if (!p.trunks().empty())
        o << "            trunks: " << config::format_vlans(trunks_of(p)) << "\n";
      if (i < bs.ports_size())
        o << "            status: " << status_text(bs.ports(i), false) << "\n";
    }
  }
}

std::string dot_quote(const std::string& s) {
  std::string q = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') q += '\\';
    if (ch == '\n') {
      q += "\\n";
      continue;
    }
    q += ch;
  }
  return q + "\"";
}

void print_show_dot(const config::ShowReply& show, std::ostream& o) {
  // One fill colour per access VLAN, so the ports of one VLAN read as a group.
  static const char* const kPalette[] = {"#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f",
                                         "#cab2d6", "#ffff99", "#8dd3c7", "#bebada"};
  std::map<std::uint32_t, const char*> colour;
  auto colour_of = [&](std::uint32_t vlan) {
    auto it = colour.find(vlan);
    if (it != colour.end()) return it->second;
    const char* c = kPalette[colour.size() % (sizeof kPalette / sizeof kPalette[0])];
    colour.emplace(vlan, c);
    return c;
  };
  o << "digraph vsw {\n";
  o << "  rankdir=LR;\n";
  o << "  node [fontname=\"Helvetica\", fontsize=10];\n";
  o << "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  int n = 0;
  for (const auto& bs : show.bridges()) {
    const Bridge& b = bs.config();
    const std::string bid = dot_quote("br:" + b.name());
    o << "  subgraph " << dot_quote("cluster_" + std::to_string(n++)) << " {\n";
    o << "    label=" << dot_quote("bridge " + b.name()) << ";\n";
    std::string label = b.name() + "\n" + config::fail_mode_name(b.fail_mode());
    if (b.has_datapath_id()) label += "\ndpid " + config::format_datapath_id(b.datapath_id());
    o << "    " << bid << " [shape=box3d, style=bold, label=" << dot_quote(label) << "];\n";
    const std::string lid = dot_quote("port:" + b.name() + ":" + b.name());
    o << "    " << lid
      << " [shape=box, style=rounded, label=" << dot_quote(b.name() + "\nLOCAL (internal)")
      << "];\n";
    o << "    " << bid << " -> " << lid << " [dir=both];\n";
    for (int i = 0; i < b.ports_size(); ++i) {
      const Port& p = b.ports(i);
      const bool attached = i < bs.ports_size() && bs.ports(i).attached();
      const std::string pid = dot_quote("port:" + b.name() + ":" + p.name());
      std::string style = attached ? "filled" : "filled,dashed";
      const char* fill = p.vlan_mode() == Port::ACCESS ? colour_of(p.tag()) : "white";
      o << "    " << pid << " [shape=box, style=" << dot_quote(style)
        << ", fillcolor=" << dot_quote(fill)
        << ", label=" << dot_quote(p.name() + "\nofport " + std::to_string(p.ofport())) << "];\n";
      std::string edge =
          p.vlan_mode() == Port::ACCESS
              ? "VLAN " + std::to_string(p.tag())
              : (p.trunks().empty() ? "trunk: all"
                                    : "trunk: " + config::format_vlans(trunks_of(p)));
      o << "    " << bid << " -> " << pid << " [dir=both, label=" << dot_quote(edge)
        << (p.vlan_mode() == Port::TRUNK ? ", penwidth=2" : "") << "];\n";
    }
    o << "  }\n";
    for (int i = 0; i < b.controllers_size(); ++i) {
      const auto& c = b.controllers(i);
      const std::string cid = dot_quote("ctl:" + b.name() + ":" + c.target());
      // The status of controller i (same order): its connections' roles, if any.
      const std::string role = i < bs.controllers_size() && !bs.controllers(i).role().empty()
                                   ? "\nrole: " + bs.controllers(i).role()
                                   : "";
      o << "  " << cid << " [shape=ellipse, label=" << dot_quote("controller\n" + c.target() + role)
        << "];\n";
      o << "  " << cid << " -> " << bid << " [style=dashed];\n";
    }
  }
  o << "}\n";
}

Result<std::string> to_json(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  auto status = google::protobuf::util::MessageToJsonString(message, &text, options);
  if (!status.ok())
    return make_error(EINVAL, "cannot print JSON: " + std::string(status.message()));
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

void print_fdb(const config::FdbReply& fdb, std::ostream& o) {
  o << " port  VLAN  MAC                Age  Interface\n";
  char line[128];
  for (const auto& e : fdb.entries()) {
    std::string port =
        e.port() == config::kOfppLocal ? std::string("LOCAL") : std::to_string(e.port());
    std::snprintf(line, sizeof line, "%5s  %4u  %-17s  %4u  ", port.c_str(), e.vlan(),
                  e.mac().c_str(), e.age_s());
    o << line << e.port_name() << "\n";
  }
}

void print_upcalls(const config::UpcallReply& u, std::ostream& o) {
  o << "handlers: " << u.handlers() << "\n";
  o << "revalidators: " << u.revalidators() << "\n";
  o << "flows: " << u.flows() << " (limit " << u.flow_limit() << ")\n";
  o << "upcalls: handled " << u.upcalls_handled() << ", lost " << u.upcalls_lost() << "\n";
  if (!u.counters().empty()) {
    std::map<std::string, std::uint64_t> sorted(u.counters().begin(), u.counters().end());
    o << "counters:\n";
    for (const auto& [name, value] : sorted) o << "  " << name << ": " << value << "\n";
  }
}

// Like ovs-appctl ofproto/trace: the packet, each table, then the outcome.
void print_trace(const config::TraceReply& t, std::ostream& o) {
  o << "Flow: " << t.flow() << "\n\n";
  const std::string title = "bridge(\"" + t.bridge() + "\")";
  o << title << "\n" << std::string(title.size(), '-') << "\n";
  char cookie[24];
  for (const auto& s : t.tables()) {
    o << (s.table() < 10 ? " " : "") << s.table() << ". ";
    if (!s.matched()) {
      o << "No match.\n    drop\n";
      continue;
    }
    if (!s.match().empty()) o << s.match() << ", ";
    o << "priority " << s.priority();
    if (s.cookie() != 0) {
      std::snprintf(cookie, sizeof cookie, "%llx", static_cast<unsigned long long>(s.cookie()));
      o << ", cookie 0x" << cookie;
    }
    o << "\n    " << s.actions() << "\n";
    for (const auto& n : s.notes()) o << "     -> " << n << "\n";
  }
  if (t.action_set_ran() && (t.action_set() != "drop" || !t.action_set_notes().empty())) {
    o << "    action set: " << t.action_set() << "\n";
    for (const auto& n : t.action_set_notes()) o << "     -> " << n << "\n";
  }
  o << "\nFinal flow: " << (t.final_flow().empty() ? "unchanged" : t.final_flow()) << "\n";
  o << "Megaflow: " << t.megaflow() << "\n";
  o << "Datapath actions: " << t.datapath_actions() << "\n";
  if (!t.drop_reason().empty()) o << "Drop reason: " << t.drop_reason() << "\n";
  if (!t.stable())
    o << "(the tables kept changing during the trace: a handler would not install this "
         "megaflow)\n";
}

void print_flows(const config::DumpFlowsReply& flows, std::ostream& o) {
  for (const auto& f : flows.flows()) o << f.text() << "\n";
}

}  // namespace vsw::cli::ctl
