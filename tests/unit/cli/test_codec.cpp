// Netlink codec: actions encoded with put_actions decode to the same list, and the
// layout of what goes on the wire matches vsw.h (checked byte by byte for one action).
#include <arpa/inet.h>

#include <catch2/catch_test_macros.hpp>
#include <vector>

#include "dpif/flow_text.h"
#include "dpif/netlink_codec.h"

using namespace vsw::dpif;

namespace {
// The first attribute after the genlmsghdr of a request.
const nlattr* first_attr(const Request& req) {
  return reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(req.nlh()) + NLMSG_HDRLEN +
                                         NLMSG_ALIGN(sizeof(genlmsghdr)));
}
}  // namespace

TEST_CASE("actions survive encode then decode", "[codec]") {
  const char* lists[] = {
      "drop",
      "1,2,3",
      "userspace(pid=7,cookie=0xdeadbeef)",
      "set(eth(src=00:00:00:00:00:01),ipv4(ttl=3),l4(dst=80)),2",
      "push_vlan(vid=4095,pcp=7),pop_vlan,5",
      "set(vlan(vid=9,pcp=1),ipv6(src=fd00::1,dst=fd00::2,tclass=3,label=0xfffff,"
      "hlimit=1)),set(arp(op=2,sha=02:00:00:00:00:01,tha=02:00:00:00:00:02,"
      "sip=10.0.0.1,tip=10.0.0.2)),1"};
  for (const char* text : lists) {
    auto acts = parse_actions(text);
    REQUIRE(acts.ok());
    Request req(0x20, 1, 1, 0);
    put_actions(req, VSW_FLOW_ATTR_ACTIONS, *acts);
    const auto* attr = first_attr(req);
    CHECK(mnl_attr_get_type(attr) == VSW_FLOW_ATTR_ACTIONS);
    auto back = parse_actions_attr(attr);
    INFO(text);
    REQUIRE(back.ok());
    CHECK(*back == *acts);
  }
}

TEST_CASE("an output action is a u32 attribute inside the list", "[codec]") {
  Request req(0x20, 1, 1, 0);
  put_actions(req, VSW_FLOW_ATTR_ACTIONS, Actions{OutputAction{9}});
  const auto* list = first_attr(req);
  CHECK(list->nla_len == 4 + 8);
  const auto* out = static_cast<const nlattr*>(mnl_attr_get_payload(list));
  CHECK(out->nla_type == VSW_ACTION_ATTR_OUTPUT);
  CHECK(out->nla_len == 8);
  CHECK(mnl_attr_get_u32(out) == 9u);
}

TEST_CASE("malformed action lists and keys are refused", "[codec]") {
  std::vector<char> buf(256);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlattr* list = mnl_attr_nest_start(nlh, VSW_FLOW_ATTR_ACTIONS);
  mnl_attr_put_u16(nlh, VSW_ACTION_ATTR_OUTPUT, 1);  // wrong width
  mnl_attr_nest_end(nlh, list);
  CHECK_FALSE(parse_actions_attr(list).ok());

  nlh = mnl_nlmsg_put_header(buf.data());
  list = mnl_attr_nest_start(nlh, VSW_FLOW_ATTR_ACTIONS);
  mnl_attr_put_u32(nlh, __VSW_ACTION_ATTR_MAX, 1);  // unknown type
  mnl_attr_nest_end(nlh, list);
  CHECK_FALSE(parse_actions_attr(list).ok());

  nlh = mnl_nlmsg_put_header(buf.data());
  char short_key[sizeof(vsw_flow_key) - 8] = {};
  mnl_attr_put(nlh, VSW_FLOW_ATTR_KEY, sizeof short_key, short_key);
  auto k = parse_key_attr(static_cast<const nlattr*>(mnl_nlmsg_get_payload(nlh)));
  REQUIRE_FALSE(k.ok());
  CHECK(k.error().message.find("bytes") != std::string::npos);
}
