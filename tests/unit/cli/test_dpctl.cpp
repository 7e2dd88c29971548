// vsw-dpctl command layer driven against FakeDpif: argument handling, output formats,
// exit codes, and that errors are one line quoting the refused text.
#include <catch2/catch_test_macros.hpp>

#include "cli/dpctl.h"
#include "dpif/flow_text.h"
#include "test_dpctl_harness.h"

using namespace vsw;

using testing::Harness;
using testing::lines;

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

TEST_CASE("show prints features and per-CPU pids; --json the same facts", "[dpctl]") {
  Harness h;
  REQUIRE(h({"add-dp", "dp0"}).rc == 0);
  REQUIRE(h({"add-if", "dp0", "veth0"}).rc == 0);
  auto r = h({"show", "dp0"});
  CHECK(r.out.find("  features: per-CPU upcalls:yes\n") != std::string::npos);
  CHECK(r.out.find("per-CPU upcall pids") == std::string::npos);  // not set

  const std::uint32_t pids[] = {101, 102};
  REQUIRE(h.fake_->dp_set_upcall_pids("dp0", pids).ok());
  h.dpif_->set_lookups("dp0", 9, 2, 1, 2, 21, 5);
  h.dpif_->port_stats[{"dp0", 1}] = {.rx_packets = 6,
                                     .tx_packets = 5,
                                     .rx_bytes = 532,
                                     .tx_bytes = 490,
                                     .rx_dropped = 1,
                                     .tx_dropped = 3};
  REQUIRE(h({"add-flow", "dp0", "in_port(1)", "0"}).rc == 0);
  r = h({"show", "dp0"});
  CHECK(r.rc == 0);
  CHECK(r.out ==
        "dp0:\n"
        "  lookups: hit:9 missed:2 lost:1\n"
        "  flows: 1\n"
        "  masks: hit:21 total:2 hit/pkt:1.91\n"
        "  limits: flows:1000000 masks:4096\n"
        "  microflow cache hits: 5\n"
        "  features: per-CPU upcalls:yes\n"
        "  per-CPU upcall pids: 101 102\n"
        "  port 0: dp0 (internal)\n"
        "    RX packets:0 bytes:0 dropped:0\n"
        "    TX packets:0 bytes:0 dropped:0\n"
        "  port 1: veth0\n"
        "    RX packets:6 bytes:532 dropped:1\n"
        "    TX packets:5 bytes:490 dropped:3\n");

  auto j = h({"show", "dp0", "--json"});
  CHECK(j.rc == 0);
  CHECK(j.err.empty());
  CHECK(j.out ==
        "{\"name\":\"dp0\",\"ifindex\":100,\"version\":1,\"key_size\":" +
            std::to_string(sizeof(vsw_flow_key)) +
            ",\"upcall_pid\":0,"
            "\"stats\":{\"hit\":9,\"missed\":2,\"lost\":1,\"flows\":1,\"masks\":2,"
            "\"mask_hit\":21,\"microflow_hit\":5},"
            "\"features\":{\"raw\":1,\"per_cpu_upcalls\":true},"
            "\"limits\":{\"flows\":1000000,\"masks\":4096},"
            "\"per_cpu_pids\":[101,102],"
            "\"ports\":[{\"port_no\":0,\"name\":\"dp0\",\"type\":\"internal\",\"ifindex\":100,"
            "\"upcall_pid\":0,\"stats\":{\"rx_packets\":0,\"rx_bytes\":0,\"rx_dropped\":0,"
            "\"tx_packets\":0,\"tx_bytes\":0,\"tx_dropped\":0}},"
            "{\"port_no\":1,\"name\":\"veth0\",\"type\":\"netdev\",\"ifindex\":101,"
            "\"upcall_pid\":0,\"stats\":{\"rx_packets\":6,\"rx_bytes\":532,\"rx_dropped\":1,"
            "\"tx_packets\":5,\"tx_bytes\":490,\"tx_dropped\":3}}]}\n");
  CHECK(h({"--json", "show", "dp0"}).out == j.out);  // the option may come first

  // An older kernel: no per-CPU dispatch, so no pids either. Without DP: one line each.
  h.fake_->features = 0;
  h.fake_->max_flows = h.fake_->max_masks = 0;
  REQUIRE(h({"add-dp", "dp1"}).rc == 0);
  r = h({"show", "dp1"});
  CHECK(r.out.find("  features: per-CPU upcalls:no\n") != std::string::npos);
  CHECK(r.out.find("limits") == std::string::npos);  // an older module reports none
  CHECK(r.out.find("per-CPU upcall pids") == std::string::npos);
  j = h({"show", "--json"});
  CHECK(lines(j.out) == 2);
  CHECK(j.out.find("{\"name\":\"dp0\",") == 0);
  CHECK(j.out.find("\n{\"name\":\"dp1\",") != std::string::npos);
  CHECK(j.out.find("\"features\":{\"raw\":0,\"per_cpu_upcalls\":false},\"limits\":null,\"per_cpu_"
                   "pids\":[],") != std::string::npos);

  auto gone = h({"show", "nodp", "--json"});
  CHECK(gone.rc == 1);
  CHECK(gone.out.empty());
  CHECK(gone.err == "vsw-dpctl: show: no datapath named 'nodp' (No such device)\n");
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
      {{"show", "dp0", "--once"}, "'--once' is not an option of show"},
      {{"dump-flows", "--limit", "3"}, "'--limit' is not an option of dump-flows"},
      {{"top"}, "usage: vsw-dpctl top DP [--once]"},
      {{"top", "dp0", "dp1"}, "usage: vsw-dpctl top"},
      {{"top", "dp0", "--interval", "0"}, "'0'"},
      {{"top", "dp0", "--interval=1x"}, "'1x'"},
      {{"top", "dp0", "--interval", "5000"}, "'5000'"},
      {{"top", "dp0", "--interval"}, "'--interval' needs a value"},
      {{"top", "dp0", "--sort", "flows"}, "'flows'"},
      {{"top", "dp0", "--limit", "0"}, "'0'"},
      {{"top", "dp0", "--limit", "-3"}, "'-3'"},
      {{"top", "dp0", "--once=yes"}, "'--once=yes'"},
      {{"top", "dp0", "--json"}, "'--json'"},
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
