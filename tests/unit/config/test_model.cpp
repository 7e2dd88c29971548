// The configuration model: every verb, every rule, and that refusals change nothing.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "config/model.h"
#include "support.h"

using namespace vsw::config;
using namespace vsw::config::test;
using Catch::Matchers::ContainsSubstring;

namespace {

// Applies `r` to `c` in place; the result must be valid.
void ok(Config& c, const Request& r) {
  auto next = apply(c, r);
  INFO(r.ShortDebugString());
  if (!next) FAIL(next.error().to_string());
  REQUIRE(validate(*next).ok());
  c = std::move(*next);
}

// `r` must be refused with `errnum` and a one-line message containing `says`; `c` as given.
void refused(const Config& c, const Request& r, int errnum, const std::string& says) {
  INFO(r.ShortDebugString());
  auto next = apply(c, r);
  REQUIRE_FALSE(next.ok());
  CHECK(next.error().code.value() == errnum);
  CHECK_THAT(next.error().message, ContainsSubstring(says));
  CHECK(next.error().message.find('\n') == std::string::npos);
}

const Port& port(const Config& c, const std::string& name) {
  auto ref = find_port(c, name);
  REQUIRE(ref);
  return *ref->port;
}

std::vector<std::uint32_t> trunks(const Port& p) {
  return {p.trunks().begin(), p.trunks().end()};
}

Config two_bridges() {
  Config c;
  ok(c, add_br("br0"));
  ok(c, add_br("br1"));
  ok(c, add_port("br0", "eth0"));
  ok(c, add_port("br0", "eth1"));
  ok(c, add_port("br1", "eth2"));
  return c;
}

}  // namespace

TEST_CASE("model: names follow Linux interface-name rules", "[model]") {
  for (const char* good : {"br0", "a", "eth0.100", "veth-x_1", "123456789012345"})
    CHECK(check_name("bridge", good).ok());
  for (const char* bad : {"", ".", "..", "a/b", "a:b", "a b", "tab\there", "1234567890123456"}) {
    INFO(bad);
    auto r = check_name("bridge", bad);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, ContainsSubstring("bad bridge name"));
  }
}

TEST_CASE("model: words", "[model]") {
  CHECK(*parse_datapath_id("00005e00000000ff") == 0x00005e00000000ffULL);
  CHECK(*parse_datapath_id("FFFFFFFFFFFFFFFF") == ~0ULL);
  for (const char* bad : {"", "1", "00005e00000000f", "00005e00000000fff", "0x005e00000000ff",
                          "00005e0000000g00", "-0005e0000000000"})
    CHECK_FALSE(parse_datapath_id(bad).ok());
  CHECK(*parse_fail_mode("standalone") == Bridge::STANDALONE);
  CHECK(*parse_fail_mode("secure") == Bridge::SECURE);
  CHECK_FALSE(parse_fail_mode("Secure").ok());
  CHECK_FALSE(parse_fail_mode("").ok());
  CHECK(*parse_vlan("0") == 0);
  CHECK(*parse_vlan("4095") == 4095);
  for (const char* bad : {"", "4096", "-1", "+1", "1x", " 1", "99999999999"})
    CHECK_FALSE(parse_vlan(bad).ok());
  CHECK(*parse_ofport("1") == 1);
  CHECK(*parse_ofport("1023") == 1023);
  for (const char* bad : {"0", "1024", "", "x", "65534"}) CHECK_FALSE(parse_ofport(bad).ok());
  CHECK(parse_trunks("")->empty());
  CHECK(*parse_trunks("20,10,10") == std::vector<std::uint32_t>{10, 20});
  CHECK(*parse_trunks("1-3,7") == std::vector<std::uint32_t>{1, 2, 3, 7});
  for (const char* bad : {",", "1,", ",1", "1,,2", "3-1", "1-4096", "a", "1-"})
    CHECK_FALSE(parse_trunks(bad).ok());
  CHECK(parse_trunks("0-4095")->size() == 4096);
  CHECK(format_vlans({1, 2, 3, 7, 9, 10}) == "1-3,7,9,10");
  CHECK(format_datapath_id(0x5e) == "000000000000005e");
  CHECK(format_mac({0xaa, 0xbb, 0xcc, 0, 1, 2}) == "aa:bb:cc:00:01:02");
}

TEST_CASE("model: controller targets", "[model]") {
  for (const char* good :
       {"tcp:127.0.0.1", "tcp:10.0.0.1:6653", "tcp:[::1]:6653", "tcp:[fe80::1]",
        "unix:/run/ctl.sock", "ptcp:", "ptcp:6653", "ptcp:0", "ptcp:6653:10.0.0.1",
        "ptcp::127.0.0.1", "ptcp:6653:[::1]", "punix:/tmp/x"})
    CHECK(check_controller_target(good).ok());
  for (const char* bad : {"", "tcp:", "tcp:host.example", "tcp:10.0.0.1:0", "tcp:10.0.0.1:65536",
                          "tcp:10.0.0.1:x", "tcp:[::1", "unix:", "punix:", "ssl:10.0.0.1",
                          "ptcp:99999", "ptcp:1:nothost", "10.0.0.1:6653"}) {
    INFO(bad);
    auto r = check_controller_target(bad);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, ContainsSubstring("bad controller target"));
  }
}

TEST_CASE("model: add-br and del-br", "[model]") {
  Config c;
  ok(c, add_br("br0"));
  REQUIRE(c.bridges_size() == 1);
  CHECK(c.bridges(0).fail_mode() == Bridge::STANDALONE);
  CHECK_FALSE(c.bridges(0).has_datapath_id());

  ok(c, add_br("br1", {kv("datapath-id", "00000000000000aa"), kv("fail_mode", "secure")}));
  const Bridge* b1 = find_bridge(c, "br1");
  REQUIRE(b1);
  CHECK(b1->datapath_id() == 0xaa);
  CHECK(b1->fail_mode() == Bridge::SECURE);

  refused(c, add_br("br0"), EEXIST, "already exists");
  refused(c, add_br("br2", {kv("datapath-id", "00000000000000aa")}), EEXIST,
          "already used by bridge br1");
  refused(c, add_br("br2", {kv("datapath-id", "xyz")}), EINVAL, "bad datapath-id 'xyz'");
  refused(c, add_br("br2", {kv("fail-mode", "open")}), EINVAL, "bad fail-mode 'open'");
  refused(c, add_br("br2", {kv("colour", "blue")}), EINVAL, "unknown bridge setting 'colour'");
  refused(c, add_br("br2", {kv("flow-limit", "1"), kv("flow_limit", "2")}), EINVAL, "given twice");
  refused(c, add_br("bad/name"), EINVAL, "bad bridge name");

  ok(c, add_port("br0", "eth0"));
  refused(c, add_br("eth0"), EEXIST, "already a port of bridge br0");

  ok(c, del_br("br0"));
  CHECK(find_bridge(c, "br0") == nullptr);
  CHECK_FALSE(find_port(c, "eth0"));  // its ports went with it
  refused(c, del_br("br0"), ENOENT, "no bridge named 'br0'");
  ok(c, add_port("br1", "eth0"));  // the name is free again
}

TEST_CASE("model: add-port assigns the lowest free ofport and checks uniqueness", "[model]") {
  Config c;
  ok(c, add_br("br0"));
  ok(c, add_br("br1"));
  ok(c, add_port("br0", "a"));
  ok(c, add_port("br0", "b", {kv("ofport", "5")}));
  ok(c, add_port("br0", "c"));
  CHECK(port(c, "a").ofport() == 1);
  CHECK(port(c, "b").ofport() == 5);
  CHECK(port(c, "c").ofport() == 2);
  ok(c, add_port("br1", "d", {kv("ofport", "5")}));  // per bridge
  refused(c, add_port("br0", "e", {kv("ofport", "5")}), EEXIST, "ofport 5 is already used by b");
  refused(c, add_port("br0", "e", {kv("ofport", "0")}), EINVAL, "bad ofport '0'");
  refused(c, add_port("br0", "e", {kv("ofport", "1024")}), EINVAL, "want 1..1023");
  refused(c, add_port("br0", "a"), EEXIST, "already a port of bridge br0");
  refused(c, add_port("br1", "a"), EEXIST, "already a port of bridge br0");
  refused(c, add_port("br0", "br1"), EEXIST, "a bridge named 'br1' already exists");
  refused(c, add_port("br0", "br0"), EEXIST, "local port");
  refused(c, add_port("br9", "e"), ENOENT, "no bridge named 'br9'");
  refused(c, add_port("br0", "e", {kv("speed", "10G")}), EINVAL, "unknown port setting 'speed'");

  ok(c, del_port("br0", "a"));
  ok(c, add_port("br0", "e"));
  CHECK(port(c, "e").ofport() == 1);  // the freed number is reused
}

TEST_CASE("model: a full bridge has no ofport left", "[model]") {
  Config c;
  ok(c, add_br("br0"));
  for (std::uint32_t i = 1; i <= kMaxOfport; ++i) ok(c, add_port("br0", "p" + std::to_string(i)));
  refused(c, add_port("br0", "one-more"), ENOSPC, "no free ofport");
}

TEST_CASE("model: VLAN settings of add-port", "[model]") {
  Config c;
  ok(c, add_br("br0"));
  ok(c, add_port("br0", "trunk-all"));
  CHECK(port(c, "trunk-all").vlan_mode() == Port::TRUNK);
  CHECK(port(c, "trunk-all").trunks().empty());

  ok(c, add_port("br0", "access", {kv("tag", "10")}));
  CHECK(port(c, "access").vlan_mode() == Port::ACCESS);
  CHECK(port(c, "access").tag() == 10);

  ok(c, add_port("br0", "trunk", {kv("trunks", "30,10,20-21")}));
  CHECK(port(c, "trunk").vlan_mode() == Port::TRUNK);
  CHECK(trunks(port(c, "trunk")) == std::vector<std::uint32_t>{10, 20, 21, 30});

  ok(c, add_port("br0", "vlan0", {kv("tag", "0")}));
  CHECK(port(c, "vlan0").vlan_mode() == Port::ACCESS);

  refused(c, add_port("br0", "x", {kv("tag", "4096")}), EINVAL, "bad VLAN '4096'");
  refused(c, add_port("br0", "x", {kv("trunks", "1,5000")}), EINVAL, "bad trunks '1,5000'");
  refused(c, add_port("br0", "x", {kv("tag", "10"), kv("trunks", "20")}), EINVAL,
          "tag and trunks conflict");
  refused(c, add_port("br0", "x", {kv("tag", "10"), kv("vlan-mode", "trunk")}), EINVAL,
          "vlan-mode=trunk");
  refused(c, add_port("br0", "x", {kv("trunks", "10"), kv("vlan_mode", "access")}), EINVAL,
          "vlan-mode=access");
  refused(c, add_port("br0", "x", {kv("vlan-mode", "hybrid")}), EINVAL, "bad vlan-mode");
}

TEST_CASE("model: del-port with and without the bridge", "[model]") {
  Config c = two_bridges();
  ok(c, del_port("", "eth2"));  // found on br1
  CHECK_FALSE(find_port(c, "eth2"));
  ok(c, del_port("br0", "eth0"));
  CHECK_FALSE(find_port(c, "eth0"));
  refused(c, del_port("br1", "eth1"), ENOENT, "'eth1' is a port of bridge br0, not br1");
  refused(c, del_port("br0", "eth9"), ENOENT, "bridge br0 has no port named 'eth9'");
  refused(c, del_port("", "eth9"), ENOENT, "no port named 'eth9' on any bridge");
  refused(c, del_port("br9", "eth1"), ENOENT, "no bridge named 'br9'");
  refused(c, del_port("br0", "br0"), EINVAL, "use del-br");
}

TEST_CASE("model: set-port", "[model]") {
  Config c = two_bridges();
  ok(c, set_port("eth0", {kv("tag", "100")}));
  CHECK(port(c, "eth0").vlan_mode() == Port::ACCESS);
  CHECK(port(c, "eth0").tag() == 100);

  // trunks= turns an access port into a trunk (and drops its tag).
  ok(c, set_port("eth0", {kv("trunks", "100,200")}));
  CHECK(port(c, "eth0").vlan_mode() == Port::TRUNK);
  CHECK(port(c, "eth0").tag() == 0);
  CHECK(trunks(port(c, "eth0")) == std::vector<std::uint32_t>{100, 200});

  // tag= turns a trunk into an access port (and drops its trunks).
  ok(c, set_port("eth0", {kv("tag", "7")}));
  CHECK(port(c, "eth0").trunks().empty());
  // tag with no value: a trunk of all VLANs.
  ok(c, set_port("eth0", {kv("tag", "")}));
  CHECK(port(c, "eth0").vlan_mode() == Port::TRUNK);
  CHECK(port(c, "eth0").trunks().empty());
  // vlan-mode=access keeps a tag given with it; vlan-mode=trunk clears the tag.
  ok(c, set_port("eth0", {kv("vlan-mode", "access"), kv("tag", "12")}));
  CHECK(port(c, "eth0").tag() == 12);
  ok(c, set_port("eth0", {kv("vlan-mode", "trunk")}));
  CHECK(port(c, "eth0").vlan_mode() == Port::TRUNK);
  CHECK(port(c, "eth0").tag() == 0);

  ok(c, set_port("eth1", {kv("ofport", "9")}));
  CHECK(port(c, "eth1").ofport() == 9);
  ok(c, set_port("eth1", {kv("ofport", "9")}));  // its own number is not a clash
  refused(c, set_port("eth1", {kv("ofport", "1")}), EEXIST, "ofport 1 is already used by eth0");
  ok(c, set_port("eth2", {kv("ofport", "1")}));  // other bridge: fine

  refused(c, set_port("eth9", {kv("tag", "1")}), ENOENT, "no port named 'eth9'");
  refused(c, set_port("eth0", {}), EINVAL, "at least one KEY=VALUE");
  refused(c, set_port("eth0", {kv("tag", "1"), kv("trunks", "2")}), EINVAL, "conflict");
  refused(c, set_port("eth0", {kv("ofport", "")}), EINVAL, "bad ofport ''");

  // A refused change changes nothing, even when an earlier key of it was fine.
  const Config before = c;
  refused(c, set_port("eth1", {kv("tag", "5"), kv("ofport", "1")}), EEXIST, "already used");
  CHECK(c.SerializeAsString() == before.SerializeAsString());
}

TEST_CASE("model: set-fail-mode", "[model]") {
  Config c = two_bridges();
  Request r;
  r.mutable_set_fail_mode()->set_bridge("br0");
  r.mutable_set_fail_mode()->set_mode("secure");
  ok(c, r);
  CHECK(find_bridge(c, "br0")->fail_mode() == Bridge::SECURE);
  r.mutable_set_fail_mode()->set_mode("standalone");
  ok(c, r);
  CHECK(find_bridge(c, "br0")->fail_mode() == Bridge::STANDALONE);
  r.mutable_set_fail_mode()->set_mode("closed");
  refused(c, r, EINVAL, "bad fail-mode 'closed' (want standalone or secure)");
  r.mutable_set_fail_mode()->set_bridge("nope");
  r.mutable_set_fail_mode()->set_mode("secure");
  refused(c, r, ENOENT, "no bridge named 'nope'");
}

TEST_CASE("model: set-bridge", "[model]") {
  Config c = two_bridges();
  ok(c, set_bridge("br0", {kv("datapath-id", "0123456789abcdef"), kv("mac-aging", "60"),
                           kv("mac_table_size", "1024"), kv("flow-limit", "5000"),
                           kv("idle-timeout", "2500")}));
  const Bridge* b = find_bridge(c, "br0");
  CHECK(b->datapath_id() == 0x0123456789abcdefULL);
  CHECK(b->mac_aging_s() == 60);
  CHECK(b->mac_table_size() == 1024);
  CHECK(b->flow_limit() == 5000);
  CHECK(b->idle_timeout_ms() == 2500);
  auto lim = resolve_bridge(*b, c.daemon());
  CHECK(lim.flow_limit == 5000);

  // Empty values put options back to the daemon's defaults.
  ok(c, set_bridge("br0", {kv("mac-aging", ""), kv("datapath-id", "")}));
  b = find_bridge(c, "br0");
  CHECK_FALSE(b->has_mac_aging_s());
  CHECK_FALSE(b->has_datapath_id());
  CHECK(resolve_bridge(*b, c.daemon()).mac_aging_s == kDefaultMacAgingS);

  ok(c, set_bridge("br1", {kv("datapath-id", "00000000000000aa")}));
  refused(c, set_bridge("br0", {kv("datapath-id", "00000000000000aa")}), EEXIST,
          "already used by bridge br1");
  ok(c, set_bridge("br1", {kv("datapath-id", "00000000000000aa")}));  // its own id
  refused(c, set_bridge("br0", {kv("mac-aging", "0")}), EINVAL,
          "bad mac-aging '0' (want 1..86400)");
  refused(c, set_bridge("br0", {kv("flow-limit", "-5")}), EINVAL, "bad flow-limit");
  refused(c, set_bridge("br0", {kv("idle-timeout", "50")}), EINVAL, "want 100..");
  refused(c, set_bridge("br0", {kv("mac-table-size", "99999999")}), EINVAL, "bad mac-table-size");
  refused(c, set_bridge("br0", {kv("stp", "true")}), EINVAL, "unknown bridge setting 'stp'");
  refused(c, set_bridge("br0", {}), EINVAL, "at least one KEY=VALUE");
  refused(c, set_bridge("br9", {kv("flow-limit", "5")}), ENOENT, "no bridge named 'br9'");
}

TEST_CASE("model: set-controller and del-controller", "[model]") {
  Config c = two_bridges();
  ok(c, set_controller("br0", {"tcp:10.0.0.1:6653", "punix:/run/vsw/br0.mgmt"}));
  const Bridge* b = find_bridge(c, "br0");
  REQUIRE(b->controllers_size() == 2);
  CHECK(b->controllers(0).target() == "tcp:10.0.0.1:6653");
  ok(c, set_controller("br0", {"tcp:10.0.0.2"}));  // replaces the list
  REQUIRE(find_bridge(c, "br0")->controllers_size() == 1);
  refused(c, set_controller("br0", {"tcp:10.0.0.1", "tcp:10.0.0.1"}), EINVAL, "given twice");
  refused(c, set_controller("br0", {"http://x"}), EINVAL, "bad controller target 'http://x'");
  refused(c, set_controller("br9", {"tcp:10.0.0.1"}), ENOENT, "no bridge");
  ok(c, del_controller("br0"));
  CHECK(find_bridge(c, "br0")->controllers_size() == 0);
  refused(c, del_controller("br9"), ENOENT, "no bridge");
}

TEST_CASE("model: read-only and empty requests are not changes", "[model]") {
  Config c;
  Request show;
  show.mutable_show();
  CHECK_FALSE(is_modifying(show));
  CHECK(check_request(show).ok());
  refused(c, show, EINVAL, "not a configuration change");
  Request none;
  CHECK_FALSE(check_request(none).ok());
  refused(c, none, EINVAL, "names no verb");
  CHECK(is_modifying(add_br("x")));
}

TEST_CASE("model: defaults resolve daemon-wide then per bridge", "[model]") {
  DaemonOptions d;
  auto r = resolve_daemon(d);
  CHECK(r.flow_limit() == 200000);
  CHECK(r.idle_timeout_ms() == 10000);
  CHECK(r.mac_aging_s() == 300);
  CHECK(r.mac_table_size() == 8192);
  CHECK(r.has_n_handlers());
  CHECK(r.n_handlers() == 0);
  d.set_mac_aging_s(30);
  Bridge b;
  CHECK(resolve_bridge(b, d).mac_aging_s == 30);
  b.set_mac_aging_s(20);
  CHECK(resolve_bridge(b, d).mac_aging_s == 20);
}

TEST_CASE("model: key=value words", "[model]") {
  auto a = parse_key_value("tag=10");
  REQUIRE(a.ok());
  CHECK(a->key() == "tag");
  CHECK(a->value() == "10");
  auto b = parse_key_value("datapath-id=");
  REQUIRE(b.ok());
  CHECK(b->value().empty());
  auto c = parse_key_value("a=b=c");
  REQUIRE(c.ok());
  CHECK(c->value() == "b=c");
  CHECK_FALSE(parse_key_value("tag").ok());
  CHECK_FALSE(parse_key_value("=10").ok());
}
