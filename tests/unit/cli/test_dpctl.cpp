// vsw-dpctl command layer driven against FakeDpif: argument handling, output formats,
// exit codes, and that errors are one line quoting the refused text.
#include <catch2/catch_test_macros.hpp>
#include <sstream>

#include "cli/dpctl.h"
#include "dpif/dpif_fake.h"
#include "dpif/flow_text.h"

using namespace vsw;

namespace {
struct Run {
  int rc;
  std::string out, err;
};

class Harness {
 public:
  Run operator()(std::vector<std::string> args) {
    std::ostringstream out, err;
    auto fake = fake_;
    int rc = cli::run(
        args,
        [fake]() -> dpif::Result<std::shared_ptr<dpif::Dpif>> {
          return std::shared_ptr<dpif::Dpif>(fake);
        },
        out, err);
    return {rc, out.str(), err.str()};
  }
  std::shared_ptr<dpif::FakeDpif> fake_ = std::make_shared<dpif::FakeDpif>();
};

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
}  // namespace

TEST_CASE("help lists every verb of the table", "[dpctl]") {
  Harness h;
  auto r = h({"help"});
  CHECK(r.rc == 0);
  for (const auto& v : cli::verbs())
    CHECK(r.out.find(std::string("  ") + v.name) != std::string::npos);
  CHECK(h({}).out == r.out);
}

TEST_CASE("datapaths, ports and show", "[dpctl]") {
  Harness h;
  REQUIRE(h({"add-dp", "dp0"}).rc == 0);
  REQUIRE(h({"add-if", "dp0", "veth0", "veth1,port_no=7"}).rc == 0);
  auto r = h({"show"});
  CHECK(r.rc == 0);
  CHECK(r.out.find("dp0:\n") == 0);
  CHECK(r.out.find("port 0: dp0 (internal)") != std::string::npos);
  CHECK(r.out.find("port 1: veth0\n") != std::string::npos);
  CHECK(r.out.find("port 7: veth1\n") != std::string::npos);
  CHECK(r.out.find("lookups: hit:0 missed:0 lost:0") != std::string::npos);

  auto dup = h({"add-dp", "dp0"});
  CHECK(dup.rc == 1);
  CHECK(dup.err == "vsw-dpctl: add-dp: a device with this name exists (File exists)\n");
  CHECK(h({"del-if", "dp0", "veth0"}).rc == 0);
  CHECK(h({"show", "dp0"}).out.find("veth0") == std::string::npos);
  CHECK(h({"del-if", "dp0", "veth0"}).rc == 1);
  CHECK(h({"del-dp", "dp0"}).rc == 0);
  auto gone = h({"show", "dp0"});
  CHECK(gone.rc == 1);
  CHECK(lines(gone.err) == 1);
}

TEST_CASE("flows: add, dump, get, mod, del", "[dpctl]") {
  Harness h;
  REQUIRE(h({"add-dp", "dp0"}).rc == 0);
  const std::string flow = "in_port(1),eth_type(0x0800),ipv4(dst=10.0.0.2)";
  REQUIRE(h({"add-flow", "dp0", flow, "2"}).rc == 0);
  CHECK(h({"add-flow", "dp0", flow, "2"}).rc == 1);  // exists
  REQUIRE(h({"add-flow", "dp0", "in_port(2)", "1"}).rc == 0);

  auto m = dpif::parse_match(flow);
  REQUIRE(m.ok());
  REQUIRE(h.fake_->hit("dp0", *m, 3, 294));

  auto d = h({"dump-flows", "dp0"});
  CHECK(d.rc == 0);
  CHECK(d.out == flow + ", packets:3, bytes:294, used:0.1s, actions:2\n" +
                     "in_port(2), packets:0, bytes:0, used:never, actions:1\n");
  CHECK(h({"dump-flows"}).out == d.out);  // the only datapath

  auto j = h({"dump-flows", "dp0", "--json"});
  CHECK(j.out.find("{\"flow\":\"" + flow + "\",\"packets\":3,\"bytes\":294,\"used_ms\":100,") == 0);
  CHECK(lines(j.out) == 2);

  auto g = h({"get-flow", "dp0", flow});
  CHECK(g.rc == 0);
  CHECK(g.out.find("packets:3") != std::string::npos);

  CHECK(h({"mod-flow", "dp0", flow, "3,userspace(pid=9)", "--clear"}).rc == 0);
  g = h({"get-flow", "dp0", flow});
  CHECK(g.out == flow + ", packets:0, bytes:0, used:never, actions:3,userspace(pid=9)\n");
  CHECK(h({"mod-flow", "dp0", "in_port(5)", "1"}).rc == 1);

  CHECK(h({"del-flow", "dp0", flow}).rc == 0);
  CHECK(h({"get-flow", "dp0", flow}).rc == 1);
  CHECK(h({"del-flows", "dp0"}).rc == 0);
  CHECK(h({"dump-flows", "dp0"}).out.empty());
}

TEST_CASE("bad command lines exit 2 with one line quoting the refused text", "[dpctl]") {
  Harness h;
  REQUIRE(h({"add-dp", "dp0"}).rc == 0);
  struct Case {
    std::vector<std::string> args;
    const char* quoted;
  };
  const Case cases[] = {
      {{"frobnicate"}, "'frobnicate'"},
      {{"add-dp"}, "usage: vsw-dpctl add-dp DP"},
      {{"add-dp", "a", "b"}, "usage"},
      {{"add-flow", "dp0", "eth(src=zz)", "1"}, "'zz'"},
      {{"add-flow", "dp0", "in_port(1)", "fly"}, "'fly'"},
      {{"add-flow", "dp0", "in_port(1)"}, "usage"},
      {{"add-if", "dp0", "veth0,port_no=0"}, "'0'"},
      {{"add-if", "dp0", "veth0,mtu=9000"}, "'mtu=9000'"},
      {{"show", "--bogus"}, "'--bogus'"},
  };
  for (const auto& c : cases) {
    auto r = h(c.args);
    INFO(c.args[0] << " -> " << r.err);
    CHECK(r.rc == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find(c.quoted) != std::string::npos);
    CHECK(r.err.rfind("vsw-dpctl: ", 0) == 0);
  }
}

TEST_CASE("interface specs", "[dpctl]") {
  auto s = cli::parse_iface_spec("veth0,port_no=12");
  REQUIRE(s.ok());
  CHECK(s->name == "veth0");
  CHECK(s->port_no == 12u);
  CHECK(cli::parse_iface_spec("veth0")->port_no == std::nullopt);
  CHECK_FALSE(cli::parse_iface_spec("").ok());
  CHECK_FALSE(cli::parse_iface_spec("averyveryverylongname").ok());
  CHECK_FALSE(cli::parse_iface_spec("v,port_no=1024").ok());
}
