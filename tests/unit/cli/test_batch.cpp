// Batches: NetlinkSocket::transact_batch against the kernel's own nlctrl family (present
// on every Linux host, no vsw.ko needed) — answers matched to requests across chunks,
// per-request errors, requests too big to encode — and FakeDpif's operate() and upcall
// pid calls, which the upcall handlers' tests rely on.
#include <arpa/inet.h>

#include <catch2/catch_test_macros.hpp>
#include <string>
#include <vector>

#include "dpif/dpif_fake.h"
#include "dpif/flow_text.h"
#include "dpif/netlink_codec.h"
#include "dpif/netlink_socket.h"

using namespace vsw::dpif;

namespace {

Request getfamily(const std::string& name) {
  Request req(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
  req.put_strz(CTRL_ATTR_FAMILY_NAME, name);
  return req;
}

std::uint16_t family_id(const nlmsghdr* nlh) {
  for (const nlattr* a : msg_attrs(nlh, sizeof(genlmsghdr)))
    if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID) return mnl_attr_get_u16(a);
  return 0;
}

Match match_of(const char* text) {
  auto m = parse_match(text);
  REQUIRE(m.ok());
  return *m;
}

Actions actions_of(const char* text) {
  auto a = parse_actions(text);
  REQUIRE(a.ok());
  return *a;
}

}  // namespace

// ---- NetlinkSocket ----------------------------------------------------------------------------
TEST_CASE("transact still resolves a family", "[batch][netlink]") {
  auto sock = NetlinkSocket::open();
  REQUIRE(sock.ok());
  auto id = sock->resolve_family("nlctrl");
  REQUIRE(id.ok());
  CHECK(*id == GENL_ID_CTRL);
  auto none = sock->resolve_family("vsw_nosuch");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code.value() == ENOENT);
}

TEST_CASE("a batch matches every answer to its request, across chunks", "[batch][netlink]") {
  auto sock = NetlinkSocket::open();
  REQUIRE(sock.ok());
  const std::size_t n = 3 * NetlinkSocket::kMaxBatch + 7;
  std::vector<Request> reqs;
  reqs.reserve(n);
  std::vector<int> replies(n, 0);
  std::vector<std::uint16_t> ids(n, 0);
  std::vector<NetlinkSocket::Exchange> batch;
  for (std::size_t i = 0; i < n; ++i) {
    reqs.push_back(getfamily(i % 3 == 1 ? "vsw_nosuch" : "nlctrl"));
    batch.push_back({&reqs.back(),
                     [&, i](const nlmsghdr* nlh) -> vsw::Result<void> {
                       ++replies[i];
                       ids[i] = family_id(nlh);
                       return {};
                     },
                     std::nullopt});
  }
  auto r = sock->transact_batch(batch);
  REQUIRE(r.ok());
  for (std::size_t i = 0; i < n; ++i) {
    INFO("request " << i);
    if (i % 3 == 1) {
      REQUIRE(batch[i].error.has_value());
      CHECK(batch[i].error->code.value() == ENOENT);
      CHECK(replies[i] == 0);
    } else {
      CHECK_FALSE(batch[i].error.has_value());
      CHECK(replies[i] == 1);
      CHECK(ids[i] == GENL_ID_CTRL);
    }
  }
  // The socket is in step afterwards: a plain transact works.
  CHECK(sock->resolve_family("nlctrl").ok());
}

TEST_CASE("a callback error and an unencodable request fail only their own exchange",
          "[batch][netlink]") {
  auto sock = NetlinkSocket::open();
  REQUIRE(sock.ok());
  std::vector<Request> reqs;
  reqs.push_back(getfamily("nlctrl"));
  reqs.push_back(getfamily("nlctrl"));
  reqs.push_back(getfamily("nlctrl"));
  std::vector<std::uint8_t> huge(Request::kMaxAttrPayload + 1, 'a');
  reqs[1].put(CTRL_ATTR_FAMILY_NAME, huge);  // cannot be encoded: never sent
  std::vector<NetlinkSocket::Exchange> batch;
  batch.push_back({&reqs[0], [](const nlmsghdr*) -> vsw::Result<void> {
                     return vsw::make_error(EPROTO, "refused by the callback");
                   }});
  batch.push_back({&reqs[1], {}});
  batch.push_back({&reqs[2], {}});
  REQUIRE(sock->transact_batch(batch).ok());
  REQUIRE(batch[0].error.has_value());
  CHECK(batch[0].error->message == "refused by the callback");
  REQUIRE(batch[1].error.has_value());
  CHECK(batch[1].error->code.value() == EMSGSIZE);
  CHECK_FALSE(batch[2].error.has_value());

  // The single-request path refuses it too, without sending.
  CHECK(sock->transact(reqs[1]).error().code.value() == EMSGSIZE);
}

TEST_CASE("a 9000-byte request reaches the kernel whole", "[batch][netlink]") {
  auto sock = NetlinkSocket::open();
  REQUIRE(sock.ok());
  // nlctrl refuses a 9000-byte family name by its policy: the kernel read the whole
  // message and judged the attribute, rather than finding the message malformed.
  Request req = getfamily(std::string(9000, 'x'));
  REQUIRE(req.size() > 9000);
  auto r = sock->transact(req);
  REQUIRE_FALSE(r.ok());
  const int code = r.error().code.value();
  CHECK((code == EINVAL || code == ERANGE));
  CHECK(sock->resolve_family("nlctrl").ok());
}

// ---- FakeDpif ------------------------------------------------------------------------------
TEST_CASE("fake operate: each op succeeds or fails on its own", "[batch][fake]") {
  FakeDpif fake;
  REQUIRE(fake.dp_create("dp0").ok());
  const Match a = match_of("in_port(1),eth(dst=02:00:00:00:00:02)");
  const Match b = match_of("in_port(2)");
  REQUIRE(fake.flow_put("dp0", b, actions_of("1"), FlowPut::kCreate, false).ok());
  REQUIRE(fake.hit("dp0", b, 5, 500));
  const std::vector<std::uint8_t> packet(60, 0xee);
  vsw_flow_key key{};
  key.in_port = 1;

  std::vector<Op> ops;
  ops.push_back({FlowPutOp{a, actions_of("2"), FlowPut::kCreate}, {}});
  ops.push_back({FlowPutOp{a, actions_of("3"), FlowPut::kCreate}, {}});  // exists now
  ops.push_back({ExecuteOp{key, packet, actions_of("2")}, {}});
  ops.push_back({ExecuteOp{key, std::span<const std::uint8_t>(packet).first(10), {}}, {}});
  ops.push_back({FlowDelOp{b, {}}, {}});
  ops.push_back({FlowDelOp{b, {}}, {}});  // gone now
  ops.push_back({FlowPutOp{a, actions_of("4"), FlowPut::kModify}, {}});
  REQUIRE(fake.operate("dp0", ops).ok());
  CHECK(fake.operate_calls == 1);

  CHECK_FALSE(ops[0].error);
  REQUIRE(ops[1].error);
  CHECK(ops[1].error->code.value() == EEXIST);
  CHECK_FALSE(ops[2].error);
  REQUIRE(ops[3].error);
  CHECK(ops[3].error->code.value() == EINVAL);
  CHECK_FALSE(ops[4].error);
  const auto& stats = std::get<FlowDelOp>(ops[4].op).stats;
  REQUIRE(stats);
  CHECK(stats->packets == 5u);
  CHECK(stats->bytes == 500u);
  REQUIRE(ops[5].error);
  CHECK(ops[5].error->code.value() == ENOENT);
  CHECK_FALSE(std::get<FlowDelOp>(ops[5].op).stats);
  CHECK_FALSE(ops[6].error);

  REQUIRE(fake.executions.size() == 1);
  CHECK(fake.executions[0].packet == packet);
  CHECK(fake.executions[0].key.in_port == 1u);
  CHECK(fake.executions[0].actions == actions_of("2"));
  auto got = fake.flow_get("dp0", a);
  REQUIRE(got.ok());
  CHECK(got->actions == actions_of("4"));
  CHECK_FALSE(fake.flow_get("dp0", b).ok());

  // Running the batch again clears the outcomes of the last run first.
  std::vector<Op> again{{FlowDelOp{a, {}}, vsw::make_error(EIO, "stale")}};
  REQUIRE(fake.operate("dp0", again).ok());
  CHECK_FALSE(again[0].error);
}

TEST_CASE("fake operate: a missing datapath fails each op, a broken channel the call",
          "[batch][fake]") {
  FakeDpif fake;
  std::vector<Op> ops;
  ops.push_back({FlowPutOp{match_of("in_port(1)"), {}, FlowPut::kCreate}, {}});
  ops.push_back({FlowDelOp{match_of("in_port(1)"), {}}, {}});
  REQUIRE(fake.operate("nope", ops).ok());
  for (const Op& op : ops) {
    REQUIRE(op.error);
    CHECK(op.error->code.value() == ENODEV);
  }

  REQUIRE(fake.dp_create("dp0").ok());
  fake.operate_error = vsw::make_error(ENOBUFS, "socket overrun");
  auto r = fake.operate("dp0", ops);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code.value() == ENOBUFS);
  for (const Op& op : ops) CHECK(op.error);
  fake.operate_error.reset();
  std::vector<Op> none;
  CHECK(fake.operate("dp0", none).ok());
  CHECK(fake.executed == 0);
}

TEST_CASE("fake upcall pids: per CPU only with the feature", "[batch][fake]") {
  FakeDpif fake;
  REQUIRE(fake.dp_create("dp0").ok());
  REQUIRE(fake.dp_set_upcall_pid("dp0", 11).ok());
  const std::uint32_t pids[] = {21, 22};
  REQUIRE(fake.dp_set_upcall_pids("dp0", pids).ok());
  auto info = fake.dp_get("dp0");
  REQUIRE(info.ok());
  CHECK(info->upcall_pid == 11u);
  CHECK(info->features == VSW_DP_F_PER_CPU_UPCALLS);
  CHECK(info->per_cpu_pids == std::vector<std::uint32_t>{21, 22});
  REQUIRE(fake.dp_set_upcall_pids("dp0", {}).ok());
  CHECK(fake.dp_get("dp0")->per_cpu_pids.empty());
  const std::uint32_t zero[] = {0};
  CHECK(fake.dp_set_upcall_pids("dp0", zero).error().code.value() == EINVAL);

  REQUIRE(fake.port_add("dp0", "veth0", 3, 0).ok());
  REQUIRE(fake.port_set_upcall_pid("dp0", 3, 33).ok());
  auto ports = fake.port_list("dp0");
  REQUIRE(ports.ok());
  CHECK(ports->back().upcall_pid == 33u);
  CHECK(fake.port_set_upcall_pid("dp0", 9, 1).error().code.value() == ENOENT);

  fake.features = 0;  // an older kernel
  REQUIRE(fake.dp_create("old").ok());
  CHECK(fake.dp_set_upcall_pids("old", pids).error().code.value() == ENOTSUP);
  CHECK(fake.dp_set_upcall_pids("old", {}).ok());
}
