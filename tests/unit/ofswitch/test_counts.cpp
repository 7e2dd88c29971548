// Counters through the agent: TABLE stats' lookup and matched counts (a rule's credit counts
// as a match in its table, a table miss as a lookup only; group counters count in no table)
// and FLOW_MOD's NO_PKT_COUNTS / NO_BYT_COUNTS flags, accepted and reported in FLOW stats
// while the counts are still kept (as Open vSwitch's ofproto-dpif does).
#include <arpa/inet.h>
#include <array>

#include <catch2/catch_test_macros.hpp>
#include <variant>

#include "ofproto/key_map.h"
#include "ofswitch/agent.h"
#include "openflow/codec.h"
#include "rig.h"

using namespace vsw;
using namespace vsw::openflow;
using namespace vsw::ofswitch::test;

namespace {

struct Rig {
  ofproto::Ofproto of{secure_options()};
  ofswitch::Agent agent{of, "br0", {}};
  ofswitch::Session session;
  Rig() { REQUIRE(of.set_ports(three_ports())); }
  std::vector<Message> send(Body body) { return handle(agent, session, std::move(body)); }
  template <class Reply, class Req>
  Reply multipart(Req req) {
    return multipart_body<Reply>(send(MultipartRequest{0, req}));
  }
  // Translates a packet from in_port and credits its rules n packets of 60 bytes, as a
  // handler (the miss) and the revalidators (the cache's hits) do.
  void traffic(std::uint32_t in_port, std::uint64_t n) {
    vsw_flow_key k{};
    k.in_port = in_port;
    k.eth_type = htons(0x0800);
    const ofproto::XlateResult x = of.translate(k, false);
    for (const ofproto::RuleId& r : x.rules) r->credit(n, n * 60, of.tables().now());
  }
  std::pair<uint64_t, uint64_t> table(uint8_t t) {
    const auto s = multipart<TableStatsReply>(TableStatsRequest{});
    REQUIRE(s.entries.size() == 255);
    return {s.entries[t].lookup_count, s.entries[t].matched_count};
  }
};

FlowMod add(uint8_t table, uint16_t priority, std::vector<OxmField> match,
            std::vector<Instruction> ins, uint16_t flags = 0) {
  FlowMod f;
  f.command = uint8_t(FlowModCommand::kAdd);
  f.table_id = table;
  f.priority = priority;
  f.flags = flags;
  f.match.fields = std::move(match);
  f.instructions = std::move(ins);
  return f;
}

}  // namespace

TEST_CASE("ofswitch: TABLE stats count lookups and matches per table", "[ofswitch]") {
  using P = std::pair<uint64_t, uint64_t>;
  Rig rig;
  // in_port=1 goes through table 0 to table 1 and matches there; in_port=2 goes to table 1
  // too and misses; in_port=LOCAL misses table 0 (secure: no rule there for it).
  REQUIRE(rig.send(add(0, 5, {OxmField::exact(OxmId::kInPort, 1)}, {Instruction::goto_table(1)}))
              .empty());
  REQUIRE(rig.send(add(0, 5, {OxmField::exact(OxmId::kInPort, 2)},
                       {Instruction::apply({Action::simple(ActionType::kGroup, 7)}),
                        Instruction::goto_table(1)}))
              .size() == 1);  // no group 7 yet: refused
  GroupMod g;
  g.group_id = 7;
  g.buckets.resize(1);
  g.buckets[0].actions = {Action::output(1)};
  REQUIRE(rig.send(g).empty());
  REQUIRE(rig.send(add(0, 5, {OxmField::exact(OxmId::kInPort, 2)},
                       {Instruction::apply({Action::simple(ActionType::kGroup, 7)}),
                        Instruction::goto_table(1)}))
              .empty());
  REQUIRE(rig.send(add(1, 5, {OxmField::exact(OxmId::kInPort, 1)},
                       {Instruction::apply({Action::output(2)})}))
              .empty());
  (void)rig.send(BarrierRequest{});
  CHECK(rig.table(0) == P{0, 0});
  rig.traffic(1, 10);
  rig.traffic(2, 3);  // through group 7 (a counter in no table), then a miss in table 1
  rig.traffic(ofproto::dp_port_from_of(port::kLocal).value(), 4);
  CHECK(rig.table(0) == P{17, 13});
  CHECK(rig.table(1) == P{13, 10});
  CHECK(rig.table(2) == P{0, 0});
  // A rule's counters reset by RESET_COUNTS do not reset its table's.
  FlowMod reset = add(1, 5, {OxmField::exact(OxmId::kInPort, 1)},
                      {Instruction::apply({Action::output(2)})}, ofproto::kFlagResetCounts);
  REQUIRE(rig.send(reset).empty());
  CHECK(rig.table(1) == P{13, 10});
}

TEST_CASE("ofswitch: NO_PKT_COUNTS and NO_BYT_COUNTS are accepted and reported; counts still kept",
          "[ofswitch]") {
  Rig rig;
  constexpr uint16_t kNoCounts = 0x18;  // OFPFF_NO_PKT_COUNTS | OFPFF_NO_BYT_COUNTS
  REQUIRE(rig.send(add(0, 5, {OxmField::exact(OxmId::kInPort, 1)},
                       {Instruction::apply({Action::output(2)})}, kNoCounts))
              .empty());
  rig.traffic(1, 2);
  FlowStatsRequest req;
  req.table_id = 0xff;
  const auto flows = rig.multipart<FlowStatsReply>(req).entries;
  REQUIRE(flows.size() == 1);
  CHECK(flows[0].flags == kNoCounts);
  CHECK(flows[0].packet_count == 2);
  CHECK(flows[0].byte_count == 120);
}

TEST_CASE("ofswitch: without VSW_DP_F_SET_EXT, set_field the datapath lacks is refused",
          "[ofswitch]") {
  Rig rig;
  rig.agent.set_datapath_features(VSW_DP_F_PER_CPU_UPCALLS);  // SET_EXT cleared
  const auto error_of = [&](Body body) {
    auto r = rig.send(std::move(body));
    if (r.size() != 1 || r[0].type() != MsgType::kError)
      return std::pair<uint16_t, uint16_t>{0xffff, 0};
    const auto& e = std::get<openflow::Error>(r[0].body);
    return std::pair<uint16_t, uint16_t>{e.type, e.code};
  };
  using P = std::pair<uint16_t, uint16_t>;
  const P kBadSetArgument{2, 15}, kOk{0xffff, 0};
  const auto set_flow = [&](OxmField f, bool write = false) {
    std::vector<Action> acts = {Action::set_field(f), Action::output(2)};
    return add(0, 5, {}, {write ? Instruction::write(acts) : Instruction::apply(acts)});
  };
  std::array<uint8_t, 16> v6{};
  v6[15] = 1;
  CHECK(error_of(set_flow(OxmField::exact_bytes(OxmId::kIpv6Src, v6))) == kBadSetArgument);
  CHECK(error_of(set_flow(OxmField::exact(OxmId::kIpv6Flabel, 5), true)) == kBadSetArgument);
  CHECK(error_of(set_flow(OxmField::exact(OxmId::kArpOp, 2))) == kBadSetArgument);
  CHECK(error_of(set_flow(OxmField::exact(OxmId::kArpSpa, 0x0a000001))) == kBadSetArgument);
  CHECK(rig.of.tables().size() == 0);
  // What the older SET has is accepted.
  CHECK(error_of(set_flow(OxmField::exact(OxmId::kIpv4Src, 0x0a000001))) == kOk);
  CHECK(error_of(set_flow(OxmField::exact(OxmId::kTcpDst, 80))) == kOk);
  // PACKET_OUT: the same check.
  PacketOut po;
  po.in_port = port::kController;
  po.actions = {Action::set_field(OxmField::exact(OxmId::kArpTpa, 0x0a000002)), Action::output(1)};
  po.data.assign(60, 0x11);
  CHECK(error_of(po) == kBadSetArgument);
  // A vsw.ko with SET_EXT takes them.
  rig.agent.set_datapath_features(VSW_DP_F_PER_CPU_UPCALLS | VSW_DP_F_SET_EXT);
  CHECK(error_of(set_flow(OxmField::exact(OxmId::kArpOp, 2))) == kOk);
  CHECK(error_of(po) == kOk);
}
