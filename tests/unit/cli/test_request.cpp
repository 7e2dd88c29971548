// Request building: the buffer grows with what is put (a 9,000-byte jumbo frame in an
// EXECUTE encodes whole), what cannot be encoded is refused instead of written past the
// buffer, and every vsw request/reply has the layout vsw.h documents. Replies are built
// by hand (a Request has the same layout as a kernel message) and parsed back.
#include <arpa/inet.h>

#include <catch2/catch_test_macros.hpp>
#include <cstring>
#include <map>
#include <vector>

#include "dpif/flow_text.h"
#include "dpif/netlink_codec.h"
#include "dpif/vsw_messages.h"

using namespace vsw::dpif;

namespace {

const genlmsghdr& genl_of(const Request& req) {
  return *static_cast<const genlmsghdr*>(mnl_nlmsg_get_payload(req.nlh()));
}

// Attributes of a vsw message by type (the last one wins).
std::map<std::uint16_t, const nlattr*> attrs_of(const nlmsghdr* nlh) {
  std::map<std::uint16_t, const nlattr*> out;
  for (const nlattr* a : msg_attrs(nlh, kVswAttrOffset)) out[mnl_attr_get_type(a)] = a;
  return out;
}

std::vector<std::uint8_t> frame(std::size_t size) {
  std::vector<std::uint8_t> p(size);
  for (std::size_t i = 0; i < size; ++i) p[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return p;
}

Match some_match() {
  auto m = parse_match("in_port(1),eth_type(0x0800),ipv4(dst=10.0.0.0/8,proto=6),tcp(dst=80)");
  REQUIRE(m.ok());
  return *m;
}

}  // namespace

TEST_CASE("a 9000-byte packet execute encodes fully", "[request]") {
  const auto packet = frame(9000);
  vsw_flow_key key{};
  key.in_port = 3;
  auto acts = parse_actions("push_vlan(vid=10),2,userspace(pid=9,cookie=0x0102)");
  REQUIRE(acts.ok());
  Request req = execute_request(0x21, 42, key, packet, *acts);
  REQUIRE(req.check().ok());
  CHECK(req.nlh()->nlmsg_len == req.size());
  CHECK(req.size() > 9000 + sizeof key);
  CHECK(req.size() % 4 == 0);
  CHECK(req.nlh()->nlmsg_type == 0x21);
  CHECK(genl_of(req).cmd == VSW_PACKET_CMD_EXECUTE);
  CHECK(genl_of(req).version == VSW_PROTO_VERSION);
  CHECK(reply_ifindex(req.nlh()) == 42);

  auto a = attrs_of(req.nlh());
  REQUIRE(a.count(VSW_PACKET_ATTR_PACKET));
  REQUIRE(mnl_attr_get_payload_len(a[VSW_PACKET_ATTR_PACKET]) == packet.size());
  CHECK(std::memcmp(mnl_attr_get_payload(a[VSW_PACKET_ATTR_PACKET]), packet.data(),
                    packet.size()) == 0);
  auto k = parse_key_attr(a[VSW_PACKET_ATTR_KEY]);
  REQUIRE(k.ok());
  CHECK(k->in_port == 3u);
  auto back = parse_actions_attr(a[VSW_PACKET_ATTR_ACTIONS]);
  REQUIRE(back.ok());
  CHECK(*back == *acts);
}

TEST_CASE("the largest attribute fits, one byte more is refused", "[request]") {
  vsw_flow_key key{};
  const auto max = frame(Request::kMaxAttrPayload);
  Request ok = execute_request(0x21, 1, key, max, Actions{OutputAction{1}});
  REQUIRE(ok.check().ok());
  auto a = attrs_of(ok.nlh());
  CHECK(mnl_attr_get_payload_len(a[VSW_PACKET_ATTR_PACKET]) == max.size());

  const auto over = frame(Request::kMaxAttrPayload + 1);
  Request big = execute_request(0x21, 1, key, over, Actions{OutputAction{1}});
  auto r = big.check();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code.value() == EMSGSIZE);
  // Nothing half-written: the other attributes are still well formed.
  auto b = attrs_of(big.nlh());
  CHECK(b.count(VSW_PACKET_ATTR_PACKET) == 0);
  CHECK(b.count(VSW_PACKET_ATTR_KEY) == 1);
}

TEST_CASE("a nest that outgrows 16 bits is refused", "[request]") {
  Actions many;
  for (int i = 0; i < 1000; ++i)
    many.emplace_back(UserspaceAction{1, std::vector<std::uint8_t>(64, 0xab)});
  Request req(0x20, 1, 1, 0);
  put_actions(req, VSW_FLOW_ATTR_ACTIONS, many);
  CHECK_FALSE(req.check().ok());
}

TEST_CASE("many small puts grow the buffer and stay readable", "[request]") {
  Request req = vsw_request(0x20, 1, 0, 7);
  for (std::uint32_t i = 0; i < 20000; ++i) req.put_u32(static_cast<std::uint16_t>(1 + i % 5), i);
  REQUIRE(req.check().ok());
  CHECK(req.size() == NLMSG_HDRLEN + kVswAttrOffset + 20000 * 8);
  std::uint32_t expect = 0;
  for (const nlattr* a : msg_attrs(req.nlh(), kVswAttrOffset)) {
    REQUIRE(mnl_attr_get_u32(a) == expect);
    ++expect;
  }
  CHECK(expect == 20000u);
}

TEST_CASE("strings are NUL-terminated and padded", "[request]") {
  Request req = vsw_request(0x20, VSW_DP_CMD_GET, 0, 0);
  req.put_strz(VSW_DP_ATTR_NAME, "dp0");
  auto a = attrs_of(req.nlh());
  REQUIRE(a.count(VSW_DP_ATTR_NAME));
  CHECK(mnl_attr_validate(a[VSW_DP_ATTR_NAME], MNL_TYPE_NUL_STRING) == 0);
  CHECK(std::string(mnl_attr_get_str(a[VSW_DP_ATTR_NAME])) == "dp0");
  CHECK(req.size() % 4 == 0);
}

TEST_CASE("flow put and delete requests", "[request]") {
  Match m = some_match();
  m.key.ipv4_dst = htonl(0x0a010203);  // bits outside the /8 mask: normalized away
  auto acts = parse_actions("set(ipv4(ttl=3)),2");
  REQUIRE(acts.ok());

  Request create = flow_put_request(0x22, 5, m, *acts, FlowPut::kCreate, true);
  CHECK(genl_of(create).cmd == VSW_FLOW_CMD_NEW);
  auto a = attrs_of(create.nlh());
  CHECK(a.count(VSW_FLOW_ATTR_CLEAR) == 0);  // only SET clears
  auto key = parse_key_attr(a[VSW_FLOW_ATTR_KEY]);
  auto mask = parse_key_attr(a[VSW_FLOW_ATTR_MASK]);
  REQUIRE(key.ok());
  REQUIRE(mask.ok());
  Match sent{*key, *mask};
  Match norm = m;
  norm.normalize();
  CHECK(sent == norm);
  CHECK(ntohl(key->ipv4_dst) == 0x0a000000u);
  CHECK(*parse_actions_attr(a[VSW_FLOW_ATTR_ACTIONS]) == *acts);

  Request modify = flow_put_request(0x22, 5, m, *acts, FlowPut::kModify, true);
  CHECK(genl_of(modify).cmd == VSW_FLOW_CMD_SET);
  CHECK(attrs_of(modify.nlh()).count(VSW_FLOW_ATTR_CLEAR) == 1);
  Request keep = flow_put_request(0x22, 5, m, *acts, FlowPut::kModify, false);
  CHECK(attrs_of(keep.nlh()).count(VSW_FLOW_ATTR_CLEAR) == 0);

  Request del = flow_del_request(0x22, 5, m);
  CHECK(genl_of(del).cmd == VSW_FLOW_CMD_DEL);
  CHECK((del.nlh()->nlmsg_flags & NLM_F_ECHO) != 0);
  CHECK(attrs_of(del.nlh()).count(VSW_FLOW_ATTR_ACTIONS) == 0);
}

TEST_CASE("upcall pid requests", "[request]") {
  const std::uint32_t pids[] = {101, 102, 103};
  Request set = dp_set_request(0x20, "dp0", std::nullopt, std::span<const std::uint32_t>(pids));
  CHECK(genl_of(set).cmd == VSW_DP_CMD_SET);
  CHECK(reply_ifindex(set.nlh()) == 0);  // named by NAME
  auto a = attrs_of(set.nlh());
  CHECK(a.count(VSW_DP_ATTR_UPCALL_PID) == 0);
  REQUIRE(a.count(VSW_DP_ATTR_PER_CPU_PIDS));
  REQUIRE(mnl_attr_get_payload_len(a[VSW_DP_ATTR_PER_CPU_PIDS]) == sizeof pids);
  CHECK(std::memcmp(mnl_attr_get_payload(a[VSW_DP_ATTR_PER_CPU_PIDS]), pids, sizeof pids) == 0);

  Request off = dp_set_request(0x20, "dp0", std::nullopt, std::span<const std::uint32_t>());
  auto b = attrs_of(off.nlh());
  REQUIRE(b.count(VSW_DP_ATTR_PER_CPU_PIDS));  // present and empty: turn off
  CHECK(mnl_attr_get_payload_len(b[VSW_DP_ATTR_PER_CPU_PIDS]) == 0);

  Request one = dp_set_request(0x20, "dp0", 77u, std::nullopt);
  auto c = attrs_of(one.nlh());
  CHECK(c.count(VSW_DP_ATTR_PER_CPU_PIDS) == 0);
  CHECK(mnl_attr_get_u32(c[VSW_DP_ATTR_UPCALL_PID]) == 77u);

  Request port = port_set_request(0x23, 9, 4, 55);
  CHECK(genl_of(port).cmd == VSW_VPORT_CMD_SET);
  CHECK(reply_ifindex(port.nlh()) == 9);
  auto d = attrs_of(port.nlh());
  CHECK(mnl_attr_get_u32(d[VSW_VPORT_ATTR_PORT_NO]) == 4u);
  CHECK(mnl_attr_get_u32(d[VSW_VPORT_ATTR_UPCALL_PID]) == 55u);
}

TEST_CASE("datapath replies: features and per-CPU pids", "[request]") {
  Request reply = vsw_request(0x20, VSW_DP_CMD_GET, 0, 31);
  reply.put_strz(VSW_DP_ATTR_NAME, "br0");
  reply.put_u32(VSW_DP_ATTR_VERSION, VSW_PROTO_VERSION);
  reply.put_u32(VSW_DP_ATTR_KEY_SIZE, sizeof(vsw_flow_key));
  reply.put_u32(VSW_DP_ATTR_UPCALL_PID, 500);
  reply.put_u32(VSW_DP_ATTR_FEATURES, VSW_DP_F_PER_CPU_UPCALLS);
  const std::uint32_t pids[] = {600, 601};
  reply.put(VSW_DP_ATTR_PER_CPU_PIDS, pids, sizeof pids);
  reply.put_u64(__VSW_DP_ATTR_MAX + 3, 1);  // from a newer kernel: ignored
  vsw_dp_stats st{};
  st.n_hit = 9;
  reply.put(VSW_DP_ATTR_STATS, &st, sizeof st);

  auto info = parse_dp_reply(reply.nlh());
  REQUIRE(info.ok());
  CHECK(info->name == "br0");
  CHECK(info->ifindex == 31);
  CHECK(info->upcall_pid == 500u);
  CHECK(info->features == VSW_DP_F_PER_CPU_UPCALLS);
  CHECK(info->per_cpu_pids == std::vector<std::uint32_t>{600, 601});
  CHECK(info->stats.n_hit == 9u);

  // An older kernel: no FEATURES, no pids.
  Request old = vsw_request(0x20, VSW_DP_CMD_GET, 0, 31);
  old.put_strz(VSW_DP_ATTR_NAME, "br0");
  auto o = parse_dp_reply(old.nlh());
  REQUIRE(o.ok());
  CHECK(o->features == 0u);
  CHECK(o->per_cpu_pids.empty());

  Request bad = vsw_request(0x20, VSW_DP_CMD_GET, 0, 31);
  bad.put(VSW_DP_ATTR_PER_CPU_PIDS, pids, 6);
  CHECK_FALSE(parse_dp_reply(bad.nlh()).ok());
}

TEST_CASE("flow replies parse back", "[request]") {
  Match m = some_match();
  auto acts = parse_actions("2,3");
  REQUIRE(acts.ok());
  Request reply = flow_put_request(0x22, 5, m, *acts, FlowPut::kCreate, false);
  vsw_flow_stats st{12, 3400};
  reply.put(VSW_FLOW_ATTR_STATS, &st, sizeof st);
  reply.put_u64(VSW_FLOW_ATTR_USED, 250);
  reply.put_u16(VSW_FLOW_ATTR_TCP_FLAGS, 0x12);
  reply.put_u32(VSW_FLOW_ATTR_ID, 77);
  auto e = parse_flow_reply(reply.nlh());
  REQUIRE(e.ok());
  Match norm = m;
  norm.normalize();
  CHECK(e->match == norm);
  CHECK(e->actions == *acts);
  CHECK(e->packets == 12u);
  CHECK(e->bytes == 3400u);
  CHECK(e->used_ms == 250u);
  CHECK(e->tcp_flags == 0x12);
  CHECK(e->id == 77u);

  Request nokey = vsw_request(0x22, VSW_FLOW_CMD_GET, 0, 5);
  CHECK_FALSE(parse_flow_reply(nokey.nlh()).ok());
}
