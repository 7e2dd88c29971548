// vsw-ctl verbs (see ctl_commands.h). Words follow ovs-vsctl.
#include "cli/ctl_commands.h"

#include <charconv>
#include <ostream>

#include "cli/ctl_format.h"
#include "config/mgmt_client.h"
#include "config/model.h"

namespace vsw::cli::ctl {
namespace {

using config::Reply;
using config::Request;

// Adds KEY=VALUE words to a repeated KeyValue; false after printing a usage error.
bool add_settings(Context& c, const std::vector<std::string>& words, std::size_t from,
                  google::protobuf::RepeatedPtrField<config::KeyValue>* out, int& code) {
  for (std::size_t i = from; i < words.size(); ++i) {
    auto kv = config::parse_key_value(words[i]);
    if (!kv) {
      code = c.fail(kExitUsage, kv.error().message);
      return false;
    }
    *out->Add() = std::move(*kv);
  }
  return true;
}

// Sends a request whose reply has no payload.
int send_only(Context& c, const Request& r) {
  Reply reply;
  int code = kExitOk;
  c.send(r, reply, code);
  return code;
}

int print_names(Context& c, const Request& r) {
  Reply reply;
  int code = kExitOk;
  if (!c.send(r, reply, code)) return code;
  for (const auto& n : reply.names().names()) c.out() << n << "\n";
  return kExitOk;
}

int print_json(Context& c, const google::protobuf::Message& m) {
  auto text = to_json(m);
  if (!text) return c.fail(kExitFailed, text.error().message);
  c.out() << *text;
  return kExitOk;
}

int cmd_add_br(Context& c, const std::vector<std::string>& a) {
  Request r;
  auto* m = r.mutable_add_bridge();
  m->set_bridge(a[0]);
  int code = kExitOk;
  if (!add_settings(c, a, 1, m->mutable_options(), code)) return code;
  return send_only(c, r);
}

int cmd_del_br(Context& c, const std::vector<std::string>& a) {
  Request r;
  r.mutable_del_bridge()->set_bridge(a[0]);
  return send_only(c, r);
}

int cmd_list_br(Context& c, const std::vector<std::string>&) {
  Request r;
  r.mutable_list_bridges();
  return print_names(c, r);
}

int cmd_add_port(Context& c, const std::vector<std::string>& a) {
  Request r;
  auto* m = r.mutable_add_port();
  m->set_bridge(a[0]);
  m->set_port(a[1]);
  int code = kExitOk;
  if (!add_settings(c, a, 2, m->mutable_options(), code)) return code;
  return send_only(c, r);
}

int cmd_del_port(Context& c, const std::vector<std::string>& a) {
  Request r;
  auto* m = r.mutable_del_port();
  if (a.size() == 2) m->set_bridge(a[0]);
  m->set_port(a.back());
  return send_only(c, r);
}

int cmd_list_ports(Context& c, const std::vector<std::string>& a) {
  Request r;
  r.mutable_list_ports()->set_bridge(a[0]);
  return print_names(c, r);
}

int cmd_set_port(Context& c, const std::vector<std::string>& a) {
  Request r;
  auto* m = r.mutable_set_port();
  m->set_port(a[0]);
  int code = kExitOk;
  if (!add_settings(c, a, 1, m->mutable_settings(), code)) return code;
  return send_only(c, r);
}

int cmd_set_fail_mode(Context& c, const std::vector<std::string>& a) {
  Request r;
  r.mutable_set_fail_mode()->set_bridge(a[0]);
  r.mutable_set_fail_mode()->set_mode(a[1]);
  return send_only(c, r);
}

int cmd_set_bridge(Context& c, const std::vector<std::string>& a) {
  Request r;
  auto* m = r.mutable_set_bridge();
  m->set_bridge(a[0]);
  int code = kExitOk;
  if (!add_settings(c, a, 1, m->mutable_settings(), code)) return code;
  return send_only(c, r);
}

int cmd_set_controller(Context& c, const std::vector<std::string>& a) {
  Request r;
  auto* m = r.mutable_set_controller();
  m->set_bridge(a[0]);
  for (std::size_t i = 1; i < a.size(); ++i) m->add_targets(a[i]);
  return send_only(c, r);
}

int cmd_del_controller(Context& c, const std::vector<std::string>& a) {
  Request r;
  r.mutable_del_controller()->set_bridge(a[0]);
  return send_only(c, r);
}

int cmd_show(Context& c, const std::vector<std::string>&) {
  Request r;
  r.mutable_show();
  Reply reply;
  int code = kExitOk;
  if (!c.send(r, reply, code)) return code;
  if (c.json) return print_json(c, reply.show());
  if (c.dot)
    print_show_dot(reply.show(), c.out());
  else
    print_show(reply.show(), c.out());
  return kExitOk;
}

int cmd_fdb_show(Context& c, const std::vector<std::string>& a) {
  Request r;
  r.mutable_fdb_show()->set_bridge(a[0]);
  Reply reply;
  int code = kExitOk;
  if (!c.send(r, reply, code)) return code;
  if (c.json) return print_json(c, reply.fdb());
  print_fdb(reply.fdb(), c.out());
  return kExitOk;
}

int cmd_upcall_show(Context& c, const std::vector<std::string>&) {
  Request r;
  r.mutable_upcall_show();
  Reply reply;
  int code = kExitOk;
  if (!c.send(r, reply, code)) return code;
  if (c.json) return print_json(c, reply.upcall());
  print_upcalls(reply.upcall(), c.out());
  return kExitOk;
}

int cmd_trace(Context& c, const std::vector<std::string>& a) {
  Request r;
  r.mutable_trace()->set_bridge(a[0]);
  r.mutable_trace()->set_flow(a[1]);
  Reply reply;
  int code = kExitOk;
  if (!c.send(r, reply, code)) return code;
  if (c.json) return print_json(c, reply.trace());
  print_trace(reply.trace(), c.out());
  return kExitOk;
}

int cmd_dump_flows(Context& c, const std::vector<std::string>& a) {
  Request r;
  r.mutable_dump_flows()->set_bridge(a[0]);
  Reply reply;
  int code = kExitOk;
  if (!c.send(r, reply, code)) return code;
  if (c.json) return print_json(c, reply.flows());
  print_flows(reply.flows(), c.out());
  return kExitOk;
}

int cmd_help(Context& c, const std::vector<std::string>&) {
  auto& o = c.out();
  o << "usage: vsw-ctl [--socket PATH] [--timeout SECS] [--json|--dot] VERB [ARGS]\n"
       "Configures vswd: bridges, ports, VLANs, controllers; shows its state.\n\n";
  for (const auto& v : verbs()) {
    std::string left = std::string(v.name) + (*v.args ? " " : "") + v.args;
    o << "  " << left;
    for (std::size_t i = left.size(); i < 36; ++i) o << ' ';
    o << "  " << v.help << "\n";
  }
  o << "\nBridge keys: datapath-id=HEX16 fail-mode=standalone|secure mac-aging=SECONDS\n"
       "             mac-table-size=N flow-limit=N idle-timeout=MS (empty value: default)\n"
       "Port keys:   ofport=N tag=VID trunks=V[,V|,A-B]... vlan-mode=access|trunk\n"
       "Controllers: tcp:IP[:PORT] unix:PATH ptcp:[PORT][:IP] punix:PATH\n"
       "Trace flow:  in_port=PORT plus vsw-dpctl fields, e.g. 'in_port=eth0,eth(src=..,dst=..),\n"
       "             ipv4(src=10.0.0.1,dst=10.0.0.2,ttl=64),tcp(dst=80)'\n"
       "Socket: --socket PATH, else $VSW_SOCKET, else /run/vsw/vswd.sock. "
       "See docs/vsw-ctl.md.\n";
  return kExitOk;
}

// Takes the value of an option given as "--opt VALUE" or "--opt=VALUE".
bool option_value(const std::vector<std::string>& argv, std::size_t& i, std::string_view name,
                  std::string& value) {
  const std::string& a = argv[i];
  if (a == name) {
    if (i + 1 >= argv.size()) return false;
    value = argv[++i];
    return true;
  }
  value = a.substr(name.size() + 1);
  return true;
}

}  // namespace

CallFn socket_call() {
  return [](const std::string& socket, std::chrono::milliseconds timeout,
            const Request& request) -> Result<Reply> {
    auto client = config::MgmtClient::connect(socket, timeout);
    if (!client) return client.error();
    return client->call(request);
  };
}

bool Context::send(const Request& request, Reply& reply, int& code) {
  if (auto ok = config::check_request(request); !ok) {
    code = fail(kExitUsage, ok.error().message);
    return false;
  }
  auto r = call_(socket, timeout, request);
  if (!r) {
    // Transport trouble is not the verb's fault: no "VERB:" prefix.
    err_ << "vsw-ctl: " << r.error().message << "\n";
    code = kExitFailed;
    return false;
  }
  if (!r->error().empty()) {
    code = fail(kExitFailed, r->error());
    return false;
  }
  reply = std::move(*r);
  return true;
}

int Context::fail(int code, const std::string& message) {
  err_ << "vsw-ctl: " << (verb.empty() ? "" : verb + ": ") << message << "\n";
  return code;
}

const std::vector<Verb>& verbs() {
  static const std::vector<Verb> table = {
      {"add-br", "BR [KEY=VALUE]...", "create bridge BR (bridge keys below)", 1, -1, 0, cmd_add_br},
      {"del-br", "BR", "delete bridge BR and all of its ports", 1, 1, 0, cmd_del_br},
      {"list-br", "", "print the names of all bridges", 0, 0, 0, cmd_list_br},
      {"add-port", "BR IFACE [KEY=VALUE]...", "add interface IFACE to BR (port keys below)", 2, -1,
       0, cmd_add_port},
      {"del-port", "[BR] IFACE", "remove IFACE (from its bridge when BR is omitted)", 1, 2, 0,
       cmd_del_port},
      {"list-ports", "BR", "print the names of the ports of BR", 1, 1, 0, cmd_list_ports},
      {"set-port", "IFACE KEY=VALUE...", "change a port (port keys below)", 2, -1, 0, cmd_set_port},
      {"set-fail-mode", "BR standalone|secure", "set what BR does without a controller", 2, 2, 0,
       cmd_set_fail_mode},
      {"set-bridge", "BR KEY=VALUE...", "change a bridge (bridge keys below)", 2, -1, 0,
       cmd_set_bridge},
      {"set-controller", "BR TARGET...", "set BR's OpenFlow controllers (replaces the list)", 2, -1,
       0, cmd_set_controller},
      {"del-controller", "BR", "remove all of BR's controllers", 1, 1, 0, cmd_del_controller},
      {"show", "[--json|--dot]", "print bridges, ports, controllers and their state", 0, 0,
       kJsonOption | kDotOption, cmd_show},
      {"fdb/show", "BR [--json]", "print the MAC addresses BR has learned", 1, 1, kJsonOption,
       cmd_fdb_show},
      {"upcall/show", "[--json]", "print threads, flows, flow limit and upcall counters", 0, 0,
       kJsonOption, cmd_upcall_show},
      {"trace", "BR FLOW [--json]",
       "show what BR's OpenFlow tables do with a packet (sends nothing)", 2, 2, kJsonOption,
       cmd_trace},
      {"dump-flows", "BR [--json]", "print BR's OpenFlow rules with their counters", 1, 1,
       kJsonOption, cmd_dump_flows},
      {"help", "", "print this list", 0, 0, 0, cmd_help},
  };
  return table;
}

int run(const std::vector<std::string>& argv, const std::string& default_socket, const CallFn& call,
        std::ostream& out, std::ostream& err) {
  try {
    Context c(call, out, err);
    c.socket = default_socket;
    std::vector<std::string> words;
    for (std::size_t i = 0; i < argv.size(); ++i) {
      const std::string& a = argv[i];
      std::string value;
      if (a == "--json") {
        c.json = true;
      } else if (a == "--dot") {
        c.dot = true;
      } else if (a == "-h" || a == "--help") {
        words.insert(words.begin(), "help");
      } else if (a == "--socket" || a.starts_with("--socket=")) {
        if (!option_value(argv, i, "--socket", value) || value.empty())
          return c.fail(kExitUsage, "--socket needs a PATH");
        c.socket = value;
      } else if (a == "--timeout" || a.starts_with("--timeout=")) {
        unsigned secs = 0;
        bool ok = option_value(argv, i, "--timeout", value);
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
        if (!ok || value.empty() || ec != std::errc() || p != value.data() + value.size() ||
            secs > 86400)
          return c.fail(kExitUsage, "--timeout needs SECS, 0..86400 (0: wait forever)");
        c.timeout = std::chrono::seconds(secs);
      } else if (a.size() > 1 && a[0] == '-') {
        return c.fail(kExitUsage, "unknown option '" + a + "' (try 'vsw-ctl help')");
      } else {
        words.push_back(a);
      }
    }
    if (words.empty()) words.emplace_back("help");
    for (const auto& v : verbs()) {
      if (words[0] != v.name) continue;
      c.verb = v.name;
      std::vector<std::string> args(words.begin() + 1, words.end());
      const int n = static_cast<int>(args.size());
      if (n < v.min_args || (v.max_args >= 0 && n > v.max_args))
        return c.fail(kExitUsage, std::string("usage: vsw-ctl ") + v.name + " " + v.args);
      if (c.json && !(v.options & kJsonOption))
        return c.fail(kExitUsage,
                      "--json applies to show, fdb/show, upcall/show, trace and dump-flows only");
      if (c.dot && !(v.options & kDotOption))
        return c.fail(kExitUsage, "--dot applies to show only");
      if (c.json && c.dot) return c.fail(kExitUsage, "--json and --dot exclude each other");
      return v.run(c, args);
    }
    return c.fail(kExitUsage, "unknown command '" + words[0] + "' (try 'vsw-ctl help')");
  } catch (const std::exception& e) {
    err << "vsw-ctl: internal error: " << e.what() << "\n";
    return kExitFailed;
  } catch (...) {
    err << "vsw-ctl: internal error\n";
    return kExitFailed;
  }
}

}  // namespace vsw::cli::ctl
