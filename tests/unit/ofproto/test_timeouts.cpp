// Rule timeouts on an injected clock: idle expiry counts from the rule's last credited
// packet (or its creation), hard expiry from its addition or last modify (as Open vSwitch
// 3.1); expired rules leave the classifier at the next publish; the removal log holds the
// rules with SEND_FLOW_REM removed by expiry or a FLOW_MOD delete, with their reasons, and
// not those replaced by an add or changed by a modify.
#include <catch2/catch_test_macros.hpp>
#include <cstdint>
#include <memory>

#include "classifier/epoch.h"
#include "ofproto/key_map.h"
#include "ofproto/tables.h"
#include "test_util.h"

using namespace vsw;
using namespace vsw::ofproto;
using openflow::FlowMod;
using openflow::FlowModCommand;
using openflow::Instruction;
using openflow::OxmField;
using openflow::OxmId;

namespace {

struct Fixture {
  std::shared_ptr<std::int64_t> now = std::make_shared<std::int64_t>(1'000'000);
  Tables t{classifier::Config{}, [n = now] { return *n; }};

  FlowMod fm(FlowModCommand c, std::uint32_t in_port, std::uint16_t idle, std::uint16_t hard,
             std::uint16_t flags = kFlagSendFlowRem, std::uint32_t out = 2) {
    FlowMod f;
    f.command = static_cast<std::uint8_t>(c);
    f.priority = 100;
    f.cookie = 0x1000 + in_port;
    f.idle_timeout = idle;
    f.hard_timeout = hard;
    f.flags = flags;
    f.match.fields = {OxmField::exact(OxmId::kInPort, in_port)};
    f.instructions = {Instruction::apply({openflow::Action::output(out)})};
    return f;
  }
  void apply(const FlowMod& f) {
    REQUIRE(t.apply(f));
    t.publish();
  }
  RuleId rule(std::uint32_t in_port) {
    for (const RuleId& r : t.rules())
      if (r->cookie == 0x1000 + in_port) return r;
    return nullptr;
  }
  // Whether a packet from in_port finds a rule in the published table 0.
  bool matches(std::uint32_t in_port) {
    vsw_flow_key k = test::l2_key(in_port, 1, 2);
    classifier::FlowKey wc{};
    classifier::Epoch::ReadGuard g;
    return t.lookup(0, to_classifier(k), &wc) != nullptr;
  }
};

}  // namespace

TEST_CASE("idle timeout counts from the last packet credited, else from the rule's creation",
          "[ofproto][timeouts]") {
  Fixture f;
  const std::int64_t t0 = *f.now;
  f.apply(f.fm(FlowModCommand::kAdd, 1, /*idle=*/2, 0));
  f.apply(f.fm(FlowModCommand::kAdd, 3, /*idle=*/2, 0, /*flags=*/0));  // no SEND_FLOW_REM
  REQUIRE(f.t.rules().size() == 2);
  CHECK(f.rule(1)->counters->used_ms == t0);
  // Exactly idle_timeout later it is still there (Open vSwitch expires after, not at).
  CHECK(f.t.expire(t0 + 2000) == 0);
  // Traffic from the cache at t0 + 1.5 s keeps rule 1 alive; rule 3 saw nothing.
  f.rule(1)->credit(3, 180, t0 + 1500);
  // An older report (another revalidator's dump) does not move the last use back.
  f.rule(1)->credit(1, 60, t0 + 1000);
  CHECK(f.rule(1)->counters->used_ms == t0 + 1500);
  CHECK(f.t.expire(t0 + 2001) == 1);
  CHECK(f.rule(3) == nullptr);
  CHECK(f.t.take_removed().empty());  // rule 3 had no SEND_FLOW_REM
  CHECK(f.t.expire(t0 + 3500) == 0);
  CHECK(f.rule(1) != nullptr);
  CHECK(f.t.expire(t0 + 3501) == 1);
  CHECK(f.t.rules().empty());
  // Staged like a delete: lookups still see the rule until the publish.
  CHECK(f.matches(1));
  f.t.publish();
  CHECK_FALSE(f.matches(1));
  const auto removed = f.t.take_removed();
  REQUIRE(removed.size() == 1);
  CHECK(removed[0].rule->cookie == 0x1001);
  CHECK(removed[0].reason == RemovedReason::kIdleTimeout);
  CHECK(removed[0].at_ms == t0 + 3501);
  CHECK(removed[0].rule->counters->packets == 4);
  CHECK(removed[0].rule->counters->bytes == 240);
  CHECK_FALSE(f.t.has_removed());
}

TEST_CASE("hard timeout ignores traffic and restarts at a modify, which keeps the duration",
          "[ofproto][timeouts]") {
  Fixture f;
  const std::int64_t t0 = *f.now;
  f.apply(f.fm(FlowModCommand::kAdd, 1, /*idle=*/1, /*hard=*/3));
  f.apply(f.fm(FlowModCommand::kAdd, 2, 0, /*hard=*/3));
  for (std::int64_t t = t0 + 500; t <= t0 + 3000; t += 500) {
    f.rule(1)->credit(1, 60, t);
    f.rule(2)->credit(1, 60, t);
    CHECK(f.t.expire(t) == 0);
  }
  // Rule 2 is modified at t0 + 2 s: its hard timeout starts again, its counters stay.
  *f.now = t0 + 2000;
  f.apply(f.fm(FlowModCommand::kModifyStrict, 2, 0, 0, 0, /*out=*/3));
  const RuleId r2 = f.rule(2);
  CHECK(r2->created_ms == t0);
  CHECK(r2->modified_ms == t0 + 2000);
  CHECK(r2->hard_timeout == 3);  // a modify keeps timeouts and flags
  CHECK(r2->flags == kFlagSendFlowRem);
  CHECK(r2->counters->packets == 6);
  // Both timeouts of rule 1 have passed: hard wins, as in Open vSwitch.
  CHECK(f.t.expire(t0 + 4001) == 1);
  CHECK(f.rule(1) == nullptr);
  CHECK(f.rule(2) != nullptr);
  CHECK(f.t.expire(t0 + 5000) == 0);
  CHECK(f.t.expire(t0 + 5001) == 1);
  const auto removed = f.t.take_removed();
  REQUIRE(removed.size() == 2);
  CHECK(removed[0].rule->cookie == 0x1001);
  CHECK(removed[0].reason == RemovedReason::kHardTimeout);
  CHECK(removed[1].rule->cookie == 0x1002);
  CHECK(removed[1].reason == RemovedReason::kHardTimeout);
  CHECK(removed[1].at_ms - removed[1].rule->created_ms == 5001);
}

TEST_CASE(
    "a modify with RESET_COUNTS restarts the idle time; an add replacing a rule is no removal",
    "[ofproto][timeouts]") {
  Fixture f;
  const std::int64_t t0 = *f.now;
  f.apply(f.fm(FlowModCommand::kAdd, 1, /*idle=*/2, 0));
  *f.now = t0 + 1500;
  f.apply(f.fm(FlowModCommand::kModify, 1, 0, 0, kFlagResetCounts));
  CHECK(f.rule(1)->counters->used_ms == t0 + 1500);
  CHECK(f.t.expire(t0 + 3000) == 0);
  // An add of the same match and priority replaces the rule (new timeouts, new creation),
  // without a FLOW_REMOVED for the old one; it keeps the counters, last use included.
  *f.now = t0 + 3000;
  f.apply(f.fm(FlowModCommand::kAdd, 1, /*idle=*/5, 0));
  CHECK(f.rule(1)->created_ms == t0 + 3000);
  CHECK_FALSE(f.t.has_removed());
  CHECK(f.t.expire(t0 + 6500) == 0);
  CHECK(f.t.expire(t0 + 6501) == 1);
  CHECK(f.t.take_removed().size() == 1);
}

TEST_CASE("FLOW_MOD deletes log their SEND_FLOW_REM rules with reason DELETE",
          "[ofproto][timeouts]") {
  Fixture f;
  f.apply(f.fm(FlowModCommand::kAdd, 1, 0, 0));
  f.apply(f.fm(FlowModCommand::kAdd, 2, 0, 0, /*flags=*/0));
  f.apply(f.fm(FlowModCommand::kAdd, 3, 0, 0));
  *f.now += 4321;
  FlowMod del;
  del.command = static_cast<std::uint8_t>(FlowModCommand::kDelete);
  del.table_id = kAllTables;
  REQUIRE(f.t.apply(del));
  CHECK(f.t.rules().empty());
  const auto removed = f.t.take_removed();
  REQUIRE(removed.size() == 2);
  for (const RemovedRule& r : removed) {
    CHECK(r.reason == RemovedReason::kDelete);
    CHECK(r.at_ms - r.rule->created_ms == 4321);
    CHECK(r.rule->cookie != 0x1002);
  }
  // Permanent rules never expire.
  f.apply(f.fm(FlowModCommand::kAdd, 4, 0, 0));
  CHECK(f.t.expire(*f.now + 100'000'000) == 0);
}
