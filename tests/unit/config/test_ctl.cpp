// vsw-ctl's command layer: argument errors (exit 2, nothing sent), daemon refusals (exit 1),
// no daemon, output formats, and every verb end to end against a real MgmtServer.
#include <google/protobuf/util/json_util.h>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <sstream>

#include "cli/ctl_commands.h"
#include "cli/ctl_format.h"
#include "support.h"

using namespace vsw::config;
using namespace vsw::config::test;
namespace ctl = vsw::cli::ctl;
using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::StartsWith;

namespace {

// A transport that records what would be sent and answers with `reply`.
struct Recorder {
  std::vector<Request> sent;
  std::vector<std::string> sockets;
  std::chrono::milliseconds timeout{};
  Reply reply;

  ctl::CallFn fn() {
    return [this](const std::string& socket, std::chrono::milliseconds t,
                  const Request& r) -> vsw::Result<Reply> {
      sent.push_back(r);
      sockets.push_back(socket);
      timeout = t;
      return reply;
    };
  }
};

struct Out {
  int code = -1;
  std::string out;
  std::string err;
};

Out run(const std::vector<std::string>& argv, const ctl::CallFn& call,
        const std::string& socket = "/run/vsw/vswd.sock") {
  std::ostringstream o, e;
  Out r;
  r.code = ctl::run(argv, socket, call, o, e);
  r.out = o.str();
  r.err = e.str();
  return r;
}

ShowReply sample_show() {
  ShowReply s;
  *s.mutable_daemon() = resolve_daemon({});
  auto* b = s.add_bridges();
  auto* c = b->mutable_config();
  c->set_name("br0");
  c->set_datapath_id(0xb0);
  auto* p = c->add_ports();
  p->set_name("eth0");
  p->set_ofport(1);
  p->set_vlan_mode(Port::ACCESS);
  p->set_tag(10);
  p = c->add_ports();
  p->set_name("eth1");
  p->set_ofport(2);
  p->add_trunks(10);
  p->add_trunks(20);
  p->add_trunks(21);
  c->add_controllers()->set_target("tcp:127.0.0.1:6653");
  b->mutable_local()->set_name("br0");
  b->mutable_local()->set_ifindex(4);
  b->mutable_local()->set_link_up(true);
  auto* ps = b->add_ports();
  ps->set_name("eth0");
  ps->set_ofport(1);
  ps->set_attached(true);
  ps->set_ifindex(5);
  ps->set_dp_port(1);
  ps->set_link_up(true);
  ps = b->add_ports();
  ps->set_name("eth1");
  ps->set_ofport(2);
  ps->set_reason("no such interface");
  auto* cs = b->add_controllers();
  cs->set_target("tcp:127.0.0.1:6653");
  cs->set_connected(true);
  cs->set_state("connected");
  cs->set_role("master");
  b->mutable_datapath()->set_present(true);
  b->mutable_datapath()->set_hit(9);
  return s;
}

}  // namespace

TEST_CASE("ctl: bad command lines exit 2 with one line and send nothing", "[ctl]") {
  struct Case {
    std::vector<std::string> argv;
    const char* says;
  };
  const Case cases[] = {
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"add-br"}, "usage: vsw-ctl add-br BR"},
      {{"del-br", "a", "b"}, "usage: vsw-ctl del-br BR"},
      {{"del-port"}, "usage: vsw-ctl del-port [BR] IFACE"},
      {{"del-port", "a", "b", "c"}, "usage"},
      {{"set-port", "eth0"}, "usage: vsw-ctl set-port IFACE KEY=VALUE..."},
      {{"set-fail-mode", "br0"}, "usage"},
      {{"set-controller", "br0"}, "usage"},
      {{"list-br", "extra"}, "usage"},
      {{"add-br", "br0", "datapath-id"}, "bad setting 'datapath-id' (want KEY=VALUE)"},
      {{"add-br", "br0", "datapath-id=12"}, "add-br: bad datapath-id '12'"},
      {{"add-br", "br/0"}, "bad bridge name 'br/0'"},
      {{"add-br", "br0", "fail-mode=open"}, "bad fail-mode 'open'"},
      {{"add-port", "br0", "eth0", "tag=4096"}, "bad VLAN '4096' (want 0..4095)"},
      {{"add-port", "br0", "eth0", "tag=1", "trunks=2"}, "tag and trunks conflict"},
      {{"add-port", "br0", "eth0", "ofport=0"}, "bad ofport '0'"},
      {{"add-port", "br0", "a-very-long-interface-name"}, "longer than 15 bytes"},
      {{"set-port", "eth0", "mtu=9000"}, "unknown port setting 'mtu'"},
      {{"set-bridge", "br0", "mac-aging=forever"}, "bad mac-aging 'forever'"},
      {{"set-fail-mode", "br0", "closed"}, "bad fail-mode 'closed'"},
      {{"set-controller", "br0", "http://x"}, "bad controller target 'http://x'"},
      {{"list-br", "--json"},
       "--json applies to show, fdb/show, upcall/show, trace and dump-flows only"},
      {{"fdb/show", "br0", "--dot"}, "--dot applies to show only"},
      {{"show", "--json", "--dot"}, "exclude each other"},
      {{"--bogus", "show"}, "unknown option '--bogus'"},
      {{"show", "--socket"}, "--socket needs a PATH"},
      {{"show", "--timeout", "soon"}, "--timeout needs SECS"},
  };
  for (const auto& c : cases) {
    Recorder rec;
    auto r = run(c.argv, rec.fn());
    INFO(c.argv[0] << " -> " << r.err);
    CHECK(r.code == ctl::kExitUsage);
    CHECK_THAT(r.err, StartsWith("vsw-ctl: "));
    CHECK_THAT(r.err, ContainsSubstring(c.says));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
    CHECK(rec.sent.empty());
  }
}

TEST_CASE("ctl: a refusal from vswd exits 1 with its message", "[ctl]") {
  Recorder rec;
  rec.reply.set_error("a bridge named 'br0' already exists");
  rec.reply.set_errno_value(EEXIST);
  auto r = run({"add-br", "br0"}, rec.fn());
  CHECK(r.code == ctl::kExitFailed);
  CHECK(r.err == "vsw-ctl: add-br: a bridge named 'br0' already exists\n");
}

TEST_CASE("ctl: no daemon running", "[ctl]") {
  TempDir dir;
  const std::string path = (dir.path() / "vswd.sock").string();
  for (const auto& verb : {"show", "list-br"}) {
    auto r = run({verb}, ctl::socket_call(), path);
    CHECK(r.code == ctl::kExitFailed);
    CHECK(r.err == "vsw-ctl: cannot reach vswd at " + path + " (is it running?)\n");
  }
  // `help` needs no daemon.
  auto h = run({"help"}, ctl::socket_call(), path);
  CHECK(h.code == 0);
}

TEST_CASE("ctl: socket and timeout options", "[ctl]") {
  Recorder rec;
  CHECK(run({"list-br"}, rec.fn(), "/env/sock").code == 0);
  CHECK(rec.sockets.back() == "/env/sock");  // $VSW_SOCKET (main passes it in)
  CHECK(rec.timeout == ctl::kDefaultTimeout);
  CHECK(run({"--socket", "/a/b", "list-br"}, rec.fn(), "/env/sock").code == 0);
  CHECK(rec.sockets.back() == "/a/b");
  CHECK(run({"list-br", "--socket=/c", "--timeout=0"}, rec.fn()).code == 0);
  CHECK(rec.sockets.back() == "/c");
  CHECK(rec.timeout.count() == 0);
}

TEST_CASE("ctl: requests carry the words as given", "[ctl]") {
  Recorder rec;
  REQUIRE(run({"del-port", "eth0"}, rec.fn()).code == 0);
  CHECK(rec.sent.back().del_port().bridge().empty());
  CHECK(rec.sent.back().del_port().port() == "eth0");
  REQUIRE(run({"del-port", "br0", "eth0"}, rec.fn()).code == 0);
  CHECK(rec.sent.back().del_port().bridge() == "br0");
  REQUIRE(run({"add-port", "br0", "eth0", "tag=10", "ofport=3"}, rec.fn()).code == 0);
  const auto& ap = rec.sent.back().add_port();
  REQUIRE(ap.options_size() == 2);
  CHECK(ap.options(0).key() == "tag");
  CHECK(ap.options(1).value() == "3");
  REQUIRE(run({"set-controller", "br0", "tcp:10.0.0.1", "ptcp:6653"}, rec.fn()).code == 0);
  CHECK(rec.sent.back().set_controller().targets_size() == 2);
  REQUIRE(run({"set-bridge", "br0", "flow-limit="}, rec.fn()).code == 0);
  CHECK(rec.sent.back().set_bridge().settings(0).value().empty());
}

TEST_CASE("ctl: help is generated from the dispatch table", "[ctl]") {
  Recorder rec;
  auto r = run({"help"}, rec.fn());
  CHECK(r.code == 0);
  for (const auto& v : ctl::verbs())
    CHECK_THAT(r.out, ContainsSubstring(std::string("  ") + v.name));
  for (const char* verb : {"add-br", "del-br", "list-br", "add-port", "del-port", "list-ports",
                           "set-port", "set-fail-mode", "set-bridge", "set-controller",
                           "del-controller", "show", "fdb/show", "upcall/show", "help"})
    CHECK_THAT(r.out, ContainsSubstring(verb));
  CHECK(run({}, rec.fn()).out == r.out);
  CHECK(run({"--help"}, rec.fn()).out == r.out);
  CHECK(rec.sent.empty());
}

TEST_CASE("ctl: show as a tree, as JSON and as a graph", "[ctl]") {
  Recorder rec;
  *rec.reply.mutable_show() = sample_show();

  auto text = run({"show"}, rec.fn());
  REQUIRE(text.code == 0);
  CHECK_THAT(text.out, ContainsSubstring("    Bridge br0\n"));
  CHECK_THAT(text.out, ContainsSubstring("datapath_id: 00000000000000b0"));
  CHECK_THAT(text.out, ContainsSubstring("fail_mode: standalone"));
  CHECK_THAT(text.out, ContainsSubstring("datapath: hit:9 missed:0"));
  CHECK_THAT(text.out, ContainsSubstring("Controller \"tcp:127.0.0.1:6653\"\n"
                                         "            is_connected: true\n"
                                         "            state: connected\n"
                                         "            role: master\n"));
  CHECK_THAT(text.out, ContainsSubstring("        Port eth0\n            ofport: 1\n"
                                         "            tag: 10\n"
                                         "            status: attached, datapath port 1, "
                                         "ifindex 5, link up\n"));
  CHECK_THAT(text.out, ContainsSubstring("trunks: 10,20,21"));
  CHECK_THAT(text.out, ContainsSubstring("status: detached (no such interface)"));
  CHECK_THAT(text.out, ContainsSubstring("flow_limit: 200000"));

  auto json = run({"show", "--json"}, rec.fn());
  REQUIRE(json.code == 0);
  ShowReply back;
  REQUIRE(google::protobuf::util::JsonStringToMessage(json.out, &back).ok());
  CHECK(back.SerializeAsString() == sample_show().SerializeAsString());
  CHECK_THAT(json.out, ContainsSubstring("\"attached\": false"));  // every field printed
  CHECK_THAT(json.out, ContainsSubstring("\"role\": \"master\""));

  auto dot = run({"show", "--dot"}, rec.fn());
  REQUIRE(dot.code == 0);
  CHECK_THAT(dot.out, StartsWith("digraph vsw {\n"));
  CHECK_THAT(dot.out, ContainsSubstring("\"br:br0\" -> \"port:br0:eth0\""));
  CHECK_THAT(dot.out, ContainsSubstring("label=\"VLAN 10\""));
  CHECK_THAT(dot.out, ContainsSubstring("label=\"trunk: 10,20,21\""));
  CHECK_THAT(dot.out, ContainsSubstring("\"ctl:br0:tcp:127.0.0.1:6653\" -> \"br:br0\""));
  CHECK_THAT(dot.out, ContainsSubstring("controller\\ntcp:127.0.0.1:6653\\nrole: master\""));
  CHECK_THAT(dot.out, ContainsSubstring("filled,dashed"));  // eth1 is detached
  CHECK(dot.out.substr(dot.out.size() - 2) == "}\n");
  CHECK(std::count(dot.out.begin(), dot.out.end(), '{') ==
        std::count(dot.out.begin(), dot.out.end(), '}'));
  CHECK(ctl::dot_quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
}

TEST_CASE("ctl: fdb/show and upcall/show", "[ctl]") {
  Recorder rec;
  auto* e = rec.reply.mutable_fdb()->add_entries();
  e->set_port(1);
  e->set_port_name("eth0");
  e->set_vlan(10);
  e->set_mac("02:00:00:00:00:01");
  e->set_age_s(3);
  e = rec.reply.mutable_fdb()->add_entries();
  e->set_port(kOfppLocal);
  e->set_port_name("br0");
  e->set_mac("02:00:00:00:00:fe");
  auto f = run({"fdb/show", "br0"}, rec.fn());
  REQUIRE(f.code == 0);
  CHECK(f.out ==
        " port  VLAN  MAC                Age  Interface\n"
        "    1    10  02:00:00:00:00:01     3  eth0\n"
        "LOCAL     0  02:00:00:00:00:fe     0  br0\n");
  CHECK(rec.sent.back().fdb_show().bridge() == "br0");
  CHECK_THAT(run({"fdb/show", "br0", "--json"}, rec.fn()).out,
             ContainsSubstring("\"mac\": \"02:00:00:00:00:01\""));

  Recorder up;
  auto* u = up.reply.mutable_upcall();
  u->set_handlers(4);
  u->set_revalidators(2);
  u->set_flows(10);
  u->set_flow_limit(200000);
  u->set_upcalls_handled(99);
  u->set_upcalls_lost(1);
  (*u->mutable_counters())["zeta"] = 1;
  (*u->mutable_counters())["alpha"] = 2;
  auto o = run({"upcall/show"}, up.fn());
  REQUIRE(o.code == 0);
  CHECK(o.out ==
        "handlers: 4\nrevalidators: 2\nflows: 10 (limit 200000)\n"
        "upcalls: handled 99, lost 1\ncounters:\n  alpha: 2\n  zeta: 1\n");
}

TEST_CASE("ctl: every verb end to end against a running server", "[ctl]") {
  TempDir dir;
  RunningServer s(dir.path());
  const std::string sock = s.socket().string();
  auto ctl_ok = [&](std::vector<std::string> argv) {
    auto r = run(argv, ctl::socket_call(), sock);
    INFO(argv[0] << ": " << r.err);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    return r.out;
  };
  ctl_ok({"add-br", "br0", "datapath-id=00000000000000b0"});
  ctl_ok({"add-br", "br1", "fail-mode=secure"});
  CHECK(ctl_ok({"list-br"}) == "br0\nbr1\n");
  ctl_ok({"add-port", "br0", "eth0", "tag=10"});
  ctl_ok({"add-port", "br0", "eth1", "trunks=10,20"});
  ctl_ok({"add-port", "br1", "tap9"});
  CHECK(ctl_ok({"list-ports", "br0"}) == "eth0\neth1\n");
  ctl_ok({"set-port", "eth1", "ofport=8"});
  ctl_ok({"set-fail-mode", "br0", "secure"});
  ctl_ok({"set-bridge", "br0", "mac-aging=30", "flow-limit=1000"});
  ctl_ok({"set-controller", "br0", "tcp:127.0.0.1:6653"});
  auto show = ctl_ok({"show"});
  CHECK_THAT(show, ContainsSubstring("Bridge br1"));
  CHECK_THAT(show, ContainsSubstring("mac_aging: 30 s"));
  CHECK_THAT(show, ContainsSubstring("ofport: 8"));
  CHECK_THAT(ctl_ok({"show", "--dot"}), ContainsSubstring("tap9"));
  CHECK_THAT(ctl_ok({"show", "--json"}), ContainsSubstring("\"name\": \"tap9\""));
  CHECK_THAT(ctl_ok({"fdb/show", "br0"}), ContainsSubstring("02:00:00:00:00:01"));
  CHECK_THAT(ctl_ok({"upcall/show"}), ContainsSubstring("handlers: 2"));
  ctl_ok({"del-controller", "br0"});
  ctl_ok({"del-port", "tap9"});
  ctl_ok({"del-port", "br0", "eth0"});
  ctl_ok({"del-br", "br1"});
  CHECK(ctl_ok({"list-br"}) == "br0\n");

  auto refused = run({"del-br", "br1"}, ctl::socket_call(), sock);
  CHECK(refused.code == ctl::kExitFailed);
  CHECK(refused.err == "vsw-ctl: del-br: no bridge named 'br1'\n");
  refused = run({"add-port", "br0", "eth1"}, ctl::socket_call(), sock);
  CHECK(refused.code == ctl::kExitFailed);
  CHECK(refused.err == "vsw-ctl: add-port: 'eth1' is already a port of bridge br0\n");
}
