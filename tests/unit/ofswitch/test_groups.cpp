// Groups through the agent: GROUP_MOD add/modify/delete and every refusal in Open vSwitch's
// order, a refused GROUP_MOD changing nothing, deleting a group deleting the rules that name
// it, FLOW_MOD and PACKET_OUT group actions naming existing groups only, GROUP stats
// (ref_count, counters credited like rules, per-bucket counts), GROUP_DESC and
// GROUP_FEATURES; then Debian's ovs-ofctl -O OpenFlow13 add-group, mod-group, dump-groups,
// dump-group-stats, dump-group-features and del-groups against the agent over a service
// socket on a real io_context.

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <future>
#include <thread>
#include <variant>

#include "ofswitch/agent.h"
#include "ofswitch/connmgr.h"
#include "ofswitch/group_mod.h"
#include "openflow/codec.h"
#include "rig.h"

using namespace vsw;
using namespace vsw::openflow;
using namespace vsw::ofswitch::test;
using Catch::Matchers::ContainsSubstring;

namespace {

using E = std::pair<uint16_t, uint16_t>;
constexpr E kOk{0xffff, 0};
constexpr uint16_t kAdd = 0, kModify = 1, kDelete = 2;
constexpr uint8_t kAll = 0, kSelect = 1, kIndirect = 2, kFf = 3;
// GROUP_MOD_FAILED (6) codes.
constexpr E kGroupExists{6, 0}, kInvalidGroup{6, 1}, kWatchUnsupported{6, 6}, kUnknownGroup{6, 8},
    kBadType{6, 10}, kBadCommand{6, 11}, kBadWatch{6, 13};

struct Rig {
  ofproto::Ofproto of{secure_options()};
  int changed = 0;
  ofswitch::Agent agent;
  ofswitch::Session session;
  Rig() : agent(of, "br0", hooks()) { REQUIRE(of.set_ports(three_ports())); }
  ofswitch::Agent::Hooks hooks() {
    ofswitch::Agent::Hooks h;
    h.rules_changed = [this] { ++changed; };
    return h;
  }
  std::vector<Message> send(Body body) { return handle(agent, session, std::move(body)); }
  // The error of the reply, kOk for no reply at all.
  E result(Body body) {
    auto r = send(std::move(body));
    if (r.empty()) return kOk;
    REQUIRE(r.size() == 1);
    REQUIRE(r[0].type() == MsgType::kError);
    const auto& e = std::get<openflow::Error>(r[0].body);
    return {e.type, e.code};
  }
  template <class Reply, class Req>
  Reply multipart(Req req) {
    return multipart_body<Reply>(send(MultipartRequest{0, req}));
  }
};

Bucket bucket(std::vector<Action> actions, uint16_t weight = 0, uint32_t watch_port = port::kAny,
              uint32_t watch_group = kGroupAny) {
  Bucket b;
  b.weight = weight;
  b.watch_port = watch_port;
  b.watch_group = watch_group;
  b.actions = std::move(actions);
  return b;
}

GroupMod gm(uint16_t cmd, uint8_t type, uint32_t id, std::vector<Bucket> buckets) {
  GroupMod g;
  g.command = cmd;
  g.type = type;
  g.group_id = id;
  g.buckets = std::move(buckets);
  return g;
}

FlowMod flow_to_group(uint16_t priority, uint32_t group, uint32_t in_port) {
  FlowMod f;
  f.command = uint8_t(FlowModCommand::kAdd);
  f.priority = priority;
  f.match.fields.push_back(OxmField::exact(OxmId::kInPort, in_port));
  f.instructions = {Instruction::apply({Action::simple(ActionType::kGroup, group)})};
  return f;
}

}  // namespace

TEST_CASE("ofswitch: GROUP_MOD errors in Open vSwitch's order; a refusal changes nothing",
          "[ofswitch]") {
  Rig rig;
  const Bucket out1 = bucket({Action::output(1)});
  // Bucket actions as FLOW_MOD checks them, then the watch port.
  CHECK(rig.result(gm(kAdd, kAll, 1, {bucket({Action::output(5000)})})) == E{2, 4});
  CHECK(rig.result(gm(kAdd, kFf, 1, {bucket({Action::output(1)}, 0, 0xff00)})) == kBadWatch);
  CHECK(rig.result(gm(kAdd, kFf, 1, {bucket({Action::output(1)}, 0, 0xfffffeff)})) == kBadWatch);
  // A bad watch port comes before a bad type or command.
  CHECK(rig.result(gm(9, 9, 1, {bucket({}, 0, 0xff00)})) == kBadWatch);
  // DELETE with buckets.
  CHECK(rig.result(gm(kDelete, kAll, 1, {out1})) == kInvalidGroup);
  // Type: INDIRECT needs exactly one bucket; unknown type; before the command.
  CHECK(rig.result(gm(kAdd, kIndirect, 1, {})) == kInvalidGroup);
  CHECK(rig.result(gm(kAdd, kIndirect, 1, {out1, out1})) == kInvalidGroup);
  CHECK(rig.result(gm(kAdd, 4, 1, {out1})) == kBadType);
  CHECK(rig.result(gm(7, 4, 1, {out1})) == kBadType);
  CHECK(rig.result(gm(3, kAll, 1, {out1})) == kBadCommand);
  // Buckets against the type.
  CHECK(rig.result(gm(kAdd, kAll, 1, {bucket({Action::output(1)}, 2)})) == kInvalidGroup);
  CHECK(rig.result(gm(kAdd, kAll, 1, {bucket({}, 0, 1)})) == kWatchUnsupported);
  CHECK(rig.result(gm(kAdd, kIndirect, 1, {bucket({}, 0, port::kAny, 3)})) == kWatchUnsupported);
  CHECK(rig.result(gm(kAdd, kFf, 1, {out1})) == kInvalidGroup);
  // Against the table.
  CHECK(rig.result(gm(kModify, kAll, 1, {out1})) == kUnknownGroup);
  CHECK(rig.result(gm(kAdd, kAll, 0xffffff01, {out1})) == kInvalidGroup);
  CHECK(rig.result(gm(kAdd, kAll, kGroupAll, {out1})) == kInvalidGroup);
  CHECK(rig.changed == 0);
  CHECK(rig.of.groups().size() == 0);

  CHECK(rig.result(gm(kAdd, kAll, 1, {out1})) == kOk);
  CHECK(rig.changed == 1);
  CHECK(rig.result(gm(kAdd, kSelect, 1, {out1})) == kGroupExists);
  // A bucket may chain to any group (checked at translation).
  CHECK(rig.result(gm(kAdd, kIndirect, 2, {bucket({Action::simple(ActionType::kGroup, 99)})})) ==
        kOk);
  CHECK(rig.result(gm(kModify, kSelect, 1, {bucket({Action::output(2)}, 5)})) == kOk);
  CHECK(rig.of.groups().find(1)->type == ofproto::GroupType::kSelect);
  // Open vSwitch's ADD_OR_MOD (mod-group --may-create).
  CHECK(rig.result(gm(0x8000, kAll, 3, {out1})) == kOk);
  CHECK(rig.result(gm(0x8000, kAll, 3, {out1, out1})) == kOk);
  CHECK(rig.of.groups().find(3)->buckets.size() == 2);
  // DELETE of a missing group is no error.
  CHECK(rig.result(gm(kDelete, kAll, 42, {})) == kOk);
  CHECK(rig.of.groups().size() == 3);
  CHECK(rig.of.groups().snapshot()->size() == 3);  // published at once
}

TEST_CASE("ofswitch: group actions name existing groups; deleting a group deletes its rules",
          "[ofswitch]") {
  Rig rig;
  CHECK(rig.result(flow_to_group(5, 1, 1)) == E{2, 9});  // BAD_ACTION / BAD_OUT_GROUP
  REQUIRE(rig.result(gm(kAdd, kAll, 1, {bucket({Action::output(2)})})) == kOk);
  REQUIRE(rig.result(gm(kAdd, kAll, 2, {bucket({Action::output(1)})})) == kOk);
  CHECK(rig.result(flow_to_group(5, 1, 1)) == kOk);
  CHECK(rig.result(flow_to_group(6, 1, 2)) == kOk);
  FlowMod in_set = flow_to_group(7, 2, 2);
  in_set.instructions = {Instruction::write({Action::simple(ActionType::kGroup, 2)})};
  CHECK(rig.result(in_set) == kOk);
  CHECK(rig.of.tables().size() == 3);

  // ref_count counts the rules naming the group.
  auto stats = rig.multipart<GroupStatsReply>(GroupStatsRequest{kGroupAll});
  REQUIRE(stats.entries.size() == 2);
  CHECK(stats.entries[0].group_id == 1);
  CHECK(stats.entries[0].ref_count == 2);
  CHECK(stats.entries[1].ref_count == 1);

  const int before = rig.changed;
  CHECK(rig.result(gm(kDelete, kAll, 1, {})) == kOk);
  CHECK(rig.of.tables().size() == 1);  // both rules of group 1 are gone
  CHECK(rig.changed == before + 1);
  CHECK(rig.result(gm(kDelete, kAll, kGroupAll, {})) == kOk);
  CHECK(rig.of.tables().size() == 0);
  CHECK(rig.of.groups().size() == 0);

  // PACKET_OUT: the same check.
  PacketOut po;
  po.in_port = port::kController;
  po.actions = {Action::simple(ActionType::kGroup, 2)};
  po.data.assign(60, 0x11);
  CHECK(rig.result(po) == E{2, 9});
  REQUIRE(rig.result(gm(kAdd, kAll, 2, {bucket({Action::output(1)})})) == kOk);
  CHECK(rig.result(po) == kOk);
  CHECK(rig.agent.packet_outs() == 1);
}

TEST_CASE("ofswitch: GROUP stats, GROUP_DESC and GROUP_FEATURES", "[ofswitch]") {
  Rig rig;
  REQUIRE(rig.result(gm(kAdd, kSelect, 5,
                        {bucket({Action::output(1)}, 1), bucket({Action::output(2)}, 3)})) == kOk);
  REQUIRE(rig.result(gm(kAdd, kFf, 3, {bucket({Action::output(1)}, 0, 1)})) == kOk);

  auto desc = rig.multipart<GroupDescReply>(GroupDescRequest{});
  REQUIRE(desc.entries.size() == 2);
  CHECK(desc.entries[0].group_id == 3);
  CHECK(desc.entries[0].type == kFf);
  CHECK(desc.entries[0].buckets[0].watch_port == 1);
  CHECK(desc.entries[1].group_id == 5);
  CHECK(desc.entries[1].buckets.size() == 2);
  CHECK(desc.entries[1].buckets[1].weight == 3);
  CHECK(desc.entries[1].buckets[1].actions == std::vector<Action>{Action::output(2)});

  // Counters: translation hands the group's and the bucket's counter entries over with the
  // rules; whoever credits the rules (the revalidators, a packet-out) credits the group.
  vsw_flow_key k{};
  k.in_port = 1;
  k.eth_type = htons(0x0800);
  ofproto::XlateResult x =
      rig.of.translate_actions(k, {Action::simple(ActionType::kGroup, 5)}, false);
  REQUIRE(x.rules.size() == 2);
  for (const auto& r : x.rules) r->credit(4, 400, 1);
  auto stats = rig.multipart<GroupStatsReply>(GroupStatsRequest{5});
  REQUIRE(stats.entries.size() == 1);
  const GroupStats& s = stats.entries[0];
  CHECK(s.packet_count == 4);
  CHECK(s.byte_count == 400);
  REQUIRE(s.bucket_stats.size() == 2);
  CHECK(s.bucket_stats[0].packet_count + s.bucket_stats[1].packet_count == 4);
  CHECK(rig.multipart<GroupStatsReply>(GroupStatsRequest{77}).entries.empty());

  const auto f = rig.multipart<GroupFeaturesReply>(GroupFeaturesRequest{});
  CHECK(f.types == 0xf);
  CHECK(f.capabilities == 7);  // SELECT_WEIGHT | SELECT_LIVENESS | CHAINING
  CHECK(f.max_groups[0] == ofswitch::kMaxGroups);
  const uint32_t want = 1U << 0 | 1U << 17 | 1U << 18 | 1U << 22 | 1U << 23 | 1U << 24 | 1U << 25;
  CHECK(f.actions[1] == want);
}

TEST_CASE("ofswitch: ovs-ofctl add-group, dump-groups, dump-group-stats, del-groups",
          "[ofswitch][ofctl]") {
  if (sh("which ovs-ofctl").status != 0) SKIP("ovs-ofctl is not installed");
  asio::io_context io;
  Rig rig;
  auto mgr = std::make_unique<ofswitch::ConnMgr>(io, rig.agent, [](bool) {});
  const std::string path = tmp_sock("groups");
  REQUIRE(!mgr->set_service(path));
  std::thread thread = run_io(io);
  const std::string ofctl = "ovs-ofctl -O OpenFlow13 ";
  const std::string tgt = " unix:" + path + " ";
  auto ok = [&](const std::string& cmd) {
    Run r = sh(ofctl + cmd);
    INFO(cmd << "\n" << r.out);
    CHECK(r.status == 0);
    return r.out;
  };

  ok("add-group" + tgt +
     "'group_id=1,type=select,bucket=weight:1,output:1,bucket=weight:3,output:2'");
  ok("add-group" + tgt +
     "'group_id=2,type=ff,bucket=watch_port:1,output:1,"
     "bucket=watch_port:2,output:2'");
  ok("add-group" + tgt +
     "'group_id=3,type=indirect,bucket=set_field:00:00:00:00:00:01->eth_dst,"
     "output:2'");
  ok("add-flow" + tgt + "'priority=5,in_port=1,actions=group:1'");
  std::string out = ok("dump-groups" + tgt);
  // (ovs-ofctl leaves out weight 1, a select bucket's default.)
  CHECK_THAT(out, ContainsSubstring("group_id=1,type=select,bucket=actions=output:1,"
                                    "bucket=weight:3,actions=output:2"));
  CHECK_THAT(out, ContainsSubstring("group_id=2,type=ff,bucket=watch_port:1,"
                                    "actions=output:1,bucket=watch_port:2,actions=output:2"));
  CHECK_THAT(out,
             ContainsSubstring("group_id=3,type=indirect,"
                               "bucket=actions=set_field:00:00:00:00:00:01->eth_dst,output:2"));
  out = ok("dump-group-stats" + tgt);
  CHECK_THAT(out, ContainsSubstring("group_id=1,duration="));
  CHECK_THAT(out, ContainsSubstring("ref_count=1,packet_count=0,byte_count=0,"
                                    "bucket0:packet_count=0,byte_count=0,"
                                    "bucket1:packet_count=0,byte_count=0"));
  out = ok("dump-group-features" + tgt);
  CHECK_THAT(out, ContainsSubstring("Group table:"));
  CHECK_THAT(out, ContainsSubstring("Types:  0xf"));
  CHECK_THAT(out, ContainsSubstring("Capabilities:  0x7"));
  CHECK_THAT(out, ContainsSubstring("fast failover group:"));
  CHECK_THAT(out, ContainsSubstring("max_groups=0x10000"));
  CHECK_THAT(out, ContainsSubstring(
                      "actions: output group set_field strip_vlan push_vlan mod_nw_ttl dec_ttl"));

  ok("mod-group" + tgt + "'group_id=1,type=select,bucket=output:2'");
  CHECK_THAT(ok("dump-groups" + tgt),
             ContainsSubstring("group_id=1,type=select,bucket=actions=output:2\n"));
  // Refused: ovs-ofctl prints the error.
  Run r = sh(ofctl + "add-group" + tgt + "'group_id=3,type=all,bucket=output:1'");
  CHECK(r.status != 0);
  CHECK_THAT(r.out, ContainsSubstring("OFPGMFC_GROUP_EXISTS"));
  r = sh(ofctl + "add-flow" + tgt + "'actions=group:9'");
  CHECK(r.status != 0);
  CHECK_THAT(r.out, ContainsSubstring("OFPBAC_BAD_OUT_GROUP"));

  ok("del-groups" + tgt + "group_id=1");
  CHECK(rig.of.tables().size() == 0);  // the rule naming group 1 went with it
  ok("del-groups" + tgt);
  CHECK_THAT(ok("dump-groups" + tgt), !ContainsSubstring("group_id"));

  std::promise<void> done;
  asio::post(io, [&] {
    mgr.reset();
    done.set_value();
  });
  done.get_future().wait();
  io.stop();
  thread.join();
}

TEST_CASE("ofswitch: rules deleted with their group are logged with reason GROUP_DELETE",
          "[ofswitch]") {
  Rig rig;
  REQUIRE(rig.result(gm(kAdd, kAll, 3, {bucket({Action::output(2)})})) == kOk);
  FlowMod to3 = flow_to_group(5, 3, 1);
  to3.flags = ofproto::kFlagSendFlowRem;
  FlowMod other = flow_to_group(6, 3, 2);
  other.instructions = {Instruction::apply({Action::output(1)})};
  other.flags = ofproto::kFlagSendFlowRem;
  REQUIRE(rig.result(to3) == kOk);
  REQUIRE(rig.result(other) == kOk);
  REQUIRE(rig.result(gm(kDelete, kAll, 3, {})) == kOk);
  auto removed = rig.of.tables().take_removed();
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].rule->priority == 5);
  CHECK(removed[0].reason == ofproto::RemovedReason::kGroupDelete);
  // A FLOW_MOD delete of the other: reason DELETE.
  FlowMod del = other;
  del.command = uint8_t(FlowModCommand::kDeleteStrict);
  del.instructions.clear();
  REQUIRE(rig.result(del) == kOk);
  removed = rig.of.tables().take_removed();
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].reason == ofproto::RemovedReason::kDelete);
}
