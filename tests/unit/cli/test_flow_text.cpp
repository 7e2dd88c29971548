// Flow text syntax: fixed round-trip cases, refused input, and a randomized round trip of
// format_match/parse_match over random keys and masks (seed printed; VSW_SEED overrides).
#include <arpa/inet.h>

#include <catch2/catch_test_macros.hpp>
#include <cstdlib>
#include <random>

#include "dpif/flow_text.h"

using namespace vsw::dpif;

namespace {
Match parse_ok(const std::string& s) {
  auto m = parse_match(s);
  INFO("input: " << s);
  if (!m) FAIL("parse failed: " << m.error().message);
  return *m;
}
}  // namespace

TEST_CASE("canonical flows print back exactly as written", "[flow_text]") {
  const char* cases[] = {
      "in_port(1)",
      "in_port(1),eth(src=00:11:22:33:44:55,dst=66:77:88:99:aa:bb),eth_type(0x0800)",
      "in_port(2),eth_type(0x0800),ipv4(src=10.0.0.0/255.255.255.0,dst=10.1.0.2,proto=6,tos=0,"
      "ttl=64,frag=no),tcp(src=80,dst=1024),tcp_flags(0x02/0x2)",
      "eth(dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,"
      "sha=00:00:00:00:00:01,tha=00:00:00:00:00:00)",
      "eth_type(0x86dd),ipv6(src=2001:db8::1,dst=2001:db8::/ffff:ffff::,label=0x12345,proto=17,"
      "tclass=0,hlimit=64,frag=first),udp(dst=53)",
      "vlan(vid=5,pcp=3),eth_type(0x0800)",
      "vlan(vid=5)",
      "vlan()",
      "vlan(none)",
      "vlan(tci=0x5/0xfff)",
      "vlan(vid=7,pcp=1,dei=1)",
      "vlan(dei=0)",
      "vlan(tci=0x0/0x1000,dei=1)",
      "skb_mark(0x1/0xff)",
      "eth_type(0x0800),ipv4(proto=1),icmp(type=8,code=0)",
      "eth_type(0x86dd),ipv6(proto=58),icmpv6(type=135)",
      "eth_type(0x0800),ipv4(proto=132),sctp(src=256/0xff00)",
      "ip(ttl=1)",
      "l4(dst=80)",
      "l4icmp(type=3)",
      "eth_type(0x0800),ipv4(frag=1/0x1)",
      "in_port(0/0)",
  };
  for (const char* c : cases) {
    Match m = parse_ok(c);
    CHECK(format_match(m) == c);
  }
}

TEST_CASE("implied protocol and alternate spellings parse to the canonical form", "[flow_text]") {
  CHECK(format_match(parse_ok("tcp(dst=80)")) == "ip(proto=6),tcp(dst=80)");
  CHECK(format_match(parse_ok("ipv4(src=10.0.0.0/8)")) == "ipv4(src=10.0.0.0/255.0.0.0)");
  CHECK(format_match(parse_ok("ipv6(src=2001:db8::/32)")) == "ipv6(src=2001:db8::/ffff:ffff::)");
  CHECK(format_match(parse_ok(" in_port( 3 ) , eth_type(2048)")) == "in_port(3),eth_type(0x0800)");
  CHECK(format_match(parse_ok("vlan(tci=0x1005/0xffff)")) == "vlan(vid=5,pcp=0)");
  // Bits outside the mask are dropped.
  CHECK(format_match(parse_ok("in_port(0x17/0x0f)")) == "in_port(7/0xf)");
}

TEST_CASE("key fields land at the ABI's offsets in network byte order", "[flow_text]") {
  Match m = parse_ok(
      "in_port(7),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2),tcp(src=1,dst=443),"
      "vlan(vid=100,pcp=5)");
  CHECK(m.key.in_port == 7u);
  CHECK(m.mask.in_port == 0xffffffffu);
  CHECK(m.key.eth_type == htons(0x0800));
  CHECK(m.key.ipv4_src == htonl(0x0a000001));
  CHECK(m.key.ipv4_dst == htonl(0x0a000002));
  CHECK(m.key.ip_proto == 6);
  CHECK(m.key.tp_dst == htons(443));
  CHECK(m.key.vlan_tci == htons((5 << 13) | VSW_VLAN_TAG_PRESENT | 100));
  CHECK(m.mask.vlan_tci == htons(0xffff));
}

TEST_CASE("refused flows get one-line errors quoting the bad text", "[flow_text]") {
  struct Case {
    const char* input;
    const char* quoted;  // must appear in the message
  };
  const Case cases[] = {
      {"", "empty flow"},
      {"eth(src=zz)", "'zz'"},
      {"eth(src=00:11:22:33:44)", "'00:11:22:33:44'"},
      {"foo(1)", "'foo'"},
      {"eth(color=red)", "'color'"},
      {"in_port(1", "unbalanced"},
      {"in_port(1))", "unbalanced"},
      {"in_port(x)", "'x'"},
      {"in_port(4294967296)", "larger than"},
      {"ipv4(src=10.0.0.300)", "'10.0.0.300'"},
      {"ipv4(src=10.0.0.1/33)", "larger than"},
      {"ipv6(dst=::g)", "'::g'"},
      {"ipv4(frag=maybe)", "'maybe'"},
      {"vlan(vid=4096)", "larger than"},
      {"eth(src)", "name=value"},
      {"in_port", "needs '(...)'"},
      {"ipv4(proto=17),tcp(dst=1)", "conflicts"},
      {"in_port(1),,eth()", "empty field"},
  };
  for (const auto& c : cases) {
    auto m = parse_match(c.input);
    INFO("input: " << c.input);
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().code.value() == EINVAL);
    CHECK(m.error().message.find(c.quoted) != std::string::npos);
    CHECK(m.error().message.find('\n') == std::string::npos);
  }
}

TEST_CASE("actions round trip and refuse bad input", "[flow_text]") {
  const char* good[] = {
      "drop",
      "2",
      "1,2,3",
      "userspace(pid=0)",
      "userspace(pid=42,cookie=0x0102abcd)",
      "set(eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02))",
      "set(eth(dst=00:00:00:00:00:02),ipv4(src=1.2.3.4,dst=5.6.7.8,tos=4,ttl=9),l4(src=1,dst=2)),3",
      "push_vlan(vid=10,pcp=2),2",
      "pop_vlan,1",
      "set(vlan(vid=20,pcp=3)),2",
      "set(ipv6(src=fd00::9,dst=2001:db8::1,tclass=32,label=0x12345,hlimit=7)),2",
      "set(arp(op=2,sha=02:00:00:00:00:aa,tha=02:00:00:00:00:bb,sip=10.0.0.9,tip=10.0.0.3)),2",
      "set(eth(src=00:00:00:00:00:01),vlan(pcp=0),ipv6(label=0x0))",
  };
  for (const char* g : good) {
    auto a = parse_actions(g);
    INFO("input: " << g);
    REQUIRE(a.ok());
    CHECK(format_actions(*a) == g);
  }
  auto a = parse_actions("set(tcp(dst=8080)),push_vlan(vid=3)");
  REQUIRE(a.ok());
  CHECK(format_actions(*a) == "set(l4(dst=8080)),push_vlan(vid=3,pcp=0)");
  REQUIRE(a->size() == 2);
  CHECK(std::get<SetAction>((*a)[0]).l4_dst == 8080);

  const char* bad[] = {"",
                       "drop,1",
                       "1024",
                       "out(1)",
                       "userspace()x",
                       "userspace(pd=1)",
                       "set(eth(x=1))",
                       "set(vlan(vid=4096))",
                       "set(vlan(dei=1))",
                       "set(ipv6(label=0x100000))",
                       "set(ipv6(hlimit=0))",
                       "set(ipv6(src=10.0.0.1))",
                       "set(arp(sip=fd00::1))",
                       "set(arp(op=65536))",
                       "set(ip(ttl=1))",
                       "set()",
                       "push_vlan(pcp=1)",
                       "push_vlan(vid=5000)",
                       "userspace(pid=1,cookie=0x123)"};
  for (const char* b : bad) {
    INFO("input: " << b);
    auto r = parse_actions(b);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.error().message.find('\n') == std::string::npos);
  }
  std::string many;
  for (int i = 0; i < VSW_MAX_ACTIONS + 1; ++i) many += (i ? ",1" : "1");
  CHECK_FALSE(parse_actions(many).ok());
}

TEST_CASE("random matches survive format then parse", "[flow_text][random]") {
  unsigned seed = std::random_device{}();
  if (const char* s = std::getenv("VSW_SEED"))
    seed = static_cast<unsigned>(std::strtoul(s, nullptr, 0));
  INFO("seed " << seed << " (rerun with VSW_SEED=" << seed << ")");
  std::mt19937 rng(seed);
  auto byte = [&] { return static_cast<std::uint8_t>(rng()); };
  for (int iter = 0; iter < 5000; ++iter) {
    Match m;
    auto* k = reinterpret_cast<std::uint8_t*>(&m.key);
    auto* mk = reinterpret_cast<std::uint8_t*>(&m.mask);
    // Mask: per byte, mostly zero, sometimes all ones, sometimes random.
    for (std::size_t i = 0; i < sizeof m.key; ++i) {
      k[i] = byte();
      unsigned r = rng() % 8;
      mk[i] = r < 5 ? 0 : r < 7 ? 0xff : byte();
    }
    // Fields with limited width in the ABI.
    m.mask.ipv6_label &= htonl(0xfffff);
    m.mask.tcp_flags &= htons(0xfff);
    m.mask.vlan_dei &= 1;
    m.normalize();
    std::string text = format_match(m);
    auto back = parse_match(text);
    INFO("text: " << text);
    REQUIRE(back.ok());
    CHECK(*back == m);
  }
}
