// vsw-ctl trace and dump-flows end to end on the host: vsw-ctl's command layer over a real
// management socket to a MgmtServer whose Backend is a bridge's OpenFlow side as vswd runs
// it (Ofproto + ofswitch Agent + ConnMgr with its service socket, the replies built by
// ofswitch/inspect.h, all on one io_context), with no datapath. Rules go in through Debian's
// `ovs-ofctl -O OpenFlow13 add-flow`; `vsw-ctl dump-flows` must print what
// `ovs-ofctl dump-flows` prints for them (durations aside), and `vsw-ctl trace` must walk
// them. Bad input: one line on stderr, exit 1.
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <filesystem>
#include <future>
#include <regex>
#include <sstream>
#include <thread>

#include "cli/ctl_commands.h"
#include "config/mgmt_server.h"
#include "ofswitch/agent.h"
#include "ofswitch/connmgr.h"
#include "ofswitch/inspect.h"
#include "openflow/actions.h"

using namespace vsw;
using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::StartsWith;

namespace {

struct Run {
  int code = -1;
  std::string out, err;
};

Run sh(const std::string& cmd) {
  Run r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// One bridge "br0" (ports eth1, eth2, LOCAL) as a Backend, with its OpenFlow agent.
class BridgeBackend final : public config::Backend {
 public:
  explicit BridgeBackend(boost::asio::io_context& io)
      : of_(options()), agent_(of_, "br0", {}), mgr_(io, agent_, [](bool) {}) {
    std::vector<ofproto::PortInfo> ports(3);
    ports[0].ofport = openflow::port::kLocal;
    ports[0].name = "br0";
    ports[1].ofport = 1;
    ports[1].name = "eth1";
    ports[2].ofport = 2;
    ports[2].name = "eth2";
    REQUIRE(of_.set_ports(ports));
  }
  // ovs-ofctl connects as a tool: to the bridge's service socket, as vswd's BR.mgmt.
  void listen(const std::string& path) { REQUIRE(!mgr_.set_service(path)); }
  void stop() { (void)mgr_.set_service(""); }

  void apply(const config::Config&) override {}
  void status(config::ShowReply&) override {}
  Result<void> fdb(const std::string&, config::FdbReply&) override { return {}; }
  void upcalls(config::UpcallReply&) override {}
  Result<void> trace(const std::string&, const std::string& flow,
                     config::TraceReply& out) override {
    agent_.flush();
    return ofswitch::trace_reply(of_, flow, out);
  }
  Result<void> dump_flows(const std::string&, config::DumpFlowsReply& out) override {
    agent_.flush();
    ofswitch::dump_flows_reply(of_.tables(), ofproto::steady_ms(), out);
    return {};
  }
  ofproto::Ofproto& ofproto() { return of_; }

 private:
  static ofproto::Ofproto::Options options() {
    ofproto::Ofproto::Options o;
    o.fail_mode = ofproto::FailMode::kSecure;
    return o;
  }
  ofproto::Ofproto of_;
  ofswitch::Agent agent_;
  ofswitch::ConnMgr mgr_;
};

struct Fixture {
  std::filesystem::path dir;
  boost::asio::io_context io;
  std::unique_ptr<BridgeBackend> backend;
  std::unique_ptr<config::MgmtServer> server;
  std::thread thread;
  std::string ofctl_sock;

  Fixture() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vsw-inspect-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()));
    dir = tmpl;
    backend = std::make_unique<BridgeBackend>(io);
    config::Config cfg;
    auto* b = cfg.add_bridges();
    b->set_name("br0");
    for (int i = 1; i <= 2; ++i) {
      auto* p = b->add_ports();
      p->set_name("eth" + std::to_string(i));
      p->set_ofport(static_cast<std::uint32_t>(i));
    }
    server = std::make_unique<config::MgmtServer>(
        io, dir / "vswd.sock", config::ConfigStore(dir / "state"), cfg, *backend);
    REQUIRE(server->start());
    ofctl_sock = (dir / "br0.ctl").string();
    backend->listen(ofctl_sock);
    thread = std::thread([this] {
      auto guard = boost::asio::make_work_guard(io);
      io.run();
    });
  }
  ~Fixture() {
    std::promise<void> done;
    boost::asio::post(io, [&] {
      backend->stop();
      server->stop();
      done.set_value();
    });
    done.get_future().wait();
    io.stop();
    thread.join();
    server.reset();
    backend.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  Run ctl(std::vector<std::string> argv) {
    std::ostringstream out, err;
    Run r;
    r.code = cli::ctl::run(argv, (dir / "vswd.sock").string(), cli::ctl::socket_call(), out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }
  Run ofctl(const std::string& verb, const std::string& arg = "") {
    return sh("ovs-ofctl -O OpenFlow13 " + verb + " unix:" + ofctl_sock + " " + arg);
  }
};

// ovs-ofctl's and vsw-ctl's flow lines with the (always different) durations blanked.
std::vector<std::string> flow_lines(const std::string& text) {
  static const std::regex kDuration("duration=[0-9.]+s");
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(" cookie="))
      out.push_back(std::regex_replace(line, kDuration, "duration=Xs"));
  return out;
}

}  // namespace

TEST_CASE("vsw-ctl dump-flows and trace over the management socket, rules from ovs-ofctl",
          "[cli][ofctl]") {
  if (sh("which ovs-ofctl").code != 0) SKIP("ovs-ofctl is not installed");
  Fixture f;
  const char* flows[] = {
      "'table=0,priority=100,tcp,tp_dst=80,actions=drop'",
      "'table=0,cookie=0x5,priority=50,ip,nw_src=10.0.0.0/8,actions=dec_ttl,goto_table:1'",
      "'table=0,priority=10,ipv6,ipv6_dst=fd00::/32,actions=output:2'",
      "'table=0,priority=0,actions=CONTROLLER:128'",
      "'table=1,priority=5,in_port=1,actions=set_field:00:00:00:00:00:0b->eth_dst,output:2,"
      "LOCAL'",
      "'table=1,priority=7,idle_timeout=30,dl_vlan=10,actions=pop_vlan,write_actions(output:1)'",
  };
  for (const char* fl : flows) {
    const Run r = f.ofctl("add-flow", fl);
    INFO(fl << ": " << r.out);
    REQUIRE(r.code == 0);
  }

  SECTION("dump-flows prints what ovs-ofctl dump-flows prints") {
    const Run theirs = f.ofctl("dump-flows");
    REQUIRE(theirs.code == 0);
    const Run ours = f.ctl({"dump-flows", "br0"});
    INFO(theirs.out << "---\n" << ours.out << ours.err);
    REQUIRE(ours.code == 0);
    const auto a = flow_lines(theirs.out), b = flow_lines(ours.out);
    CHECK(a.size() == 6);
    CHECK(a == b);
    // Every line of ours is a flow line, nothing else.
    CHECK(std::count(ours.out.begin(), ours.out.end(), '\n') == 6);
    CHECK_THAT(ours.out, ContainsSubstring("ipv6_dst=fd00::/32 actions=output:2"));
    CHECK_THAT(ours.out, ContainsSubstring("actions=CONTROLLER:128"));

    const Run json = f.ctl({"dump-flows", "br0", "--json"});
    REQUIRE(json.code == 0);
    CHECK_THAT(json.out, StartsWith("{"));
    CHECK_THAT(json.out, ContainsSubstring("\"bridge\": \"br0\""));
    CHECK_THAT(json.out, ContainsSubstring("\"match\": \"ipv6,ipv6_dst=fd00::/32\""));
    CHECK_THAT(json.out, ContainsSubstring("\"cookie\": \"5\""));
    CHECK_THAT(json.out, ContainsSubstring("\"idle_timeout\": 30"));
  }

  SECTION("trace walks the tables and changes nothing") {
    const Run before = f.ctl({"dump-flows", "br0"});
    const Run t = f.ctl({"trace", "br0",
                         "in_port=eth1,eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),"
                         "ipv4(src=10.1.2.3,dst=10.0.0.9,ttl=64),udp(src=1,dst=2)"});
    INFO(t.out << t.err);
    REQUIRE(t.code == 0);
    CHECK_THAT(t.out, StartsWith("Flow: in_port(1),eth(src=00:00:00:00:00:01,"));
    CHECK_THAT(t.out, ContainsSubstring("bridge(\"br0\")\n-------------\n"));
    CHECK_THAT(t.out, ContainsSubstring(" 0. ip,nw_src=10.0.0.0/8, priority 50, cookie 0x5\n"
                                        "    dec_ttl,goto_table:1\n"));
    CHECK_THAT(t.out,
               ContainsSubstring(" 1. in_port=1, priority 5\n"
                                 "    set_field:00:00:00:00:00:0b->eth_dst,output:2,LOCAL\n"));
    CHECK_THAT(t.out, ContainsSubstring("Final flow: in_port(1),eth(src=00:00:00:00:00:01,"
                                        "dst=00:00:00:00:00:0b)"));
    CHECK_THAT(t.out, ContainsSubstring("ttl=63"));
    CHECK_THAT(t.out,
               ContainsSubstring("Datapath actions: set(eth(dst=00:00:00:00:00:0b),ipv4(ttl=63)),"
                                 "2,0\n"));
    CHECK_THAT(t.out, ContainsSubstring("Megaflow: in_port(1),"));
    CHECK_THAT(t.out, ContainsSubstring("ipv4(src=10.0.0.0/255.0.0.0"));

    // A table miss in table 1 (from eth2), and the JSON form.
    const Run miss = f.ctl({"trace", "br0", "in_port=2,ipv4(src=10.0.0.1,ttl=9)", "--json"});
    INFO(miss.out << miss.err);
    REQUIRE(miss.code == 0);
    CHECK_THAT(miss.out, ContainsSubstring("\"matched\": false"));
    CHECK_THAT(miss.out, ContainsSubstring("\"datapath_actions\": \"drop\""));
    CHECK_THAT(miss.out, ContainsSubstring("\"table\": 1"));

    // Nothing changed: same rules, same counters.
    CHECK(flow_lines(f.ctl({"dump-flows", "br0"}).out) == flow_lines(before.out));
  }

  SECTION("bad input: one line on stderr, exit 1") {
    struct Bad {
      std::vector<std::string> argv;
      const char* says;
    };
    for (const Bad& b : std::vector<Bad>{
             {{"trace", "br9", "in_port=1"}, "no bridge named 'br9'"},
             {{"dump-flows", "br9"}, "no bridge named 'br9'"},
             {{"trace", "br0", "in_port=eth7"}, "no port 'in_port=eth7'"},
             {{"trace", "br0", "in_port=1,ipv4(src=nope)"}, "nope"},
             {{"trace", "br0", "eth(src=00:00:00:00:00:01)"}, "needs an input port"},
         }) {
      const Run r = f.ctl(b.argv);
      INFO(b.argv[0] << " " << b.argv[1] << ": " << r.err);
      CHECK(r.code == cli::ctl::kExitFailed);
      CHECK_THAT(r.err, StartsWith("vsw-ctl: " + b.argv[0] + ": "));
      CHECK_THAT(r.err, ContainsSubstring(b.says));
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
      CHECK(r.out.empty());
    }
    // Command-line mistakes are caught before anything is sent (exit 2).
    CHECK(f.ctl({"trace", "br0"}).code == cli::ctl::kExitUsage);
    CHECK(f.ctl({"trace", "br0", ""}).code == cli::ctl::kExitUsage);
    CHECK(f.ctl({"dump-flows", "br0", "--dot"}).code == cli::ctl::kExitUsage);
  }
}
