// How Tables stores a rule: rules with equal instructions share one RuleActions (and stop
// holding it once they are gone), the per-table instruction checks still apply to a shared
// one, and a modify gives the selected rules the new instructions' RuleActions; the
// controller's match, kept packed (PackedOxm), comes back equal.
#include <array>
#include <catch2/catch_test_macros.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "ofproto/tables.h"

using namespace vsw;
using namespace vsw::ofproto;
using openflow::Action;
using openflow::Instruction;

namespace {

classifier::Match in_port(std::uint64_t port) {
  classifier::Match m;
  m.set_exact(classifier::Field::kInPort, port);
  return m;
}

std::vector<Instruction> output(std::uint32_t port) {
  return {Instruction::apply({Action::output(port)})};
}

RuleSpec spec(std::uint8_t table, std::uint64_t port, std::vector<Instruction> ins) {
  RuleSpec s;
  s.table_id = table;
  s.match = in_port(port);
  s.priority = 100;
  s.instructions = std::move(ins);
  return s;
}

}  // namespace

TEST_CASE("rules with equal instructions share one RuleActions", "[ofproto][tables]") {
  Tables t;
  auto a = t.add(spec(0, 1, output(2)));
  auto b = t.add(spec(0, 2, output(2)));
  auto c = t.add(spec(3, 3, output(2)));
  auto d = t.add(spec(0, 4, output(3)));
  REQUIRE((a && b && c && d));
  CHECK((*a)->actions == (*b)->actions);
  CHECK((*a)->actions == (*c)->actions);  // another table: the same object
  CHECK((*a)->actions != (*d)->actions);
  CHECK((*a)->instructions() == output(2));
  CHECK((*d)->instructions() == output(3));
  // The Program points into the shared object's own instructions.
  REQUIRE((*a)->actions->program.apply != nullptr);
  CHECK((*a)->actions->program.apply == &(*a)->actions->instructions[0].actions);
  CHECK((*a)->outputs_to(2));
  CHECK(!(*a)->outputs_to(3));
}

TEST_CASE("a shared RuleActions is still checked against each rule's table", "[ofproto][tables]") {
  Tables t;
  const std::vector<Instruction> go = {Instruction::goto_table(2)};
  auto ok = t.add(spec(1, 1, go));
  REQUIRE(ok);
  auto bad = t.add(spec(2, 1, go));  // goto_table:2 in table 2 does not go forward
  REQUIRE(!bad);
  CHECK(bad.error().code == std::errc::invalid_argument);
  CHECK(t.size() == 1);
}

TEST_CASE("modify gives the selected rules the new instructions, shared", "[ofproto][tables]") {
  Tables t;
  REQUIRE(t.add(spec(0, 1, output(2))));
  REQUIRE(t.add(spec(0, 2, output(2))));
  REQUIRE(t.add(spec(0, 3, output(5))));
  RuleFilter f;
  f.table_id = 0;  // match all: every rule of table 0
  auto n = t.modify(f, output(7));
  REQUIRE(n);
  CHECK(*n == 3);
  const std::vector<RuleId> rules = t.rules(0);
  REQUIRE(rules.size() == 3);
  for (const RuleId& r : rules) {
    CHECK(r->instructions() == output(7));
    CHECK(r->actions == rules[0]->actions);
  }
  // A refused instruction list changes nothing.
  CHECK(!t.modify(f, {Instruction::goto_table(0)}));
  for (const RuleId& r : t.rules(0)) CHECK(r->instructions() == output(7));
}

TEST_CASE("Tables lets go of the RuleActions no rule uses", "[ofproto][tables]") {
  Tables t;
  auto r = t.add(spec(0, 1, output(1000)));
  REQUIRE(r);
  const std::weak_ptr<const RuleActions> gone = (*r)->actions;
  *r = nullptr;
  RuleFilter all;
  CHECK(t.remove(all) == 1);
  t.publish();
  CHECK(t.reclaim() == 0);   // no reader: the rule is freed at once
  REQUIRE(!gone.expired());  // still interned
  // Many other instruction lists, all in use: the set grows and sweeps the unused one.
  std::vector<RuleId> keep;
  for (std::uint32_t i = 0; i < 200; ++i) {
    auto k = t.add(spec(0, 10 + i, output(i + 1)));
    REQUIRE(k);
    keep.push_back(*k);
  }
  CHECK(gone.expired());
  for (std::uint32_t i = 0; i < 200; ++i) CHECK(keep[i]->instructions() == output(i + 1));
}

TEST_CASE("PackedOxm gives back the controller's match, field for field", "[ofproto][tables]") {
  using openflow::OxmField;
  using openflow::OxmId;
  CHECK(PackedOxm(openflow::Match{}).unpack() == openflow::Match{});
  std::array<std::uint8_t, 16> v6{}, m6{};
  for (std::size_t i = 0; i < 16; ++i) {
    v6[i] = static_cast<std::uint8_t>(0x20 + i);
    m6[i] = i < 8 ? 0xff : 0;
  }
  for (std::size_t i = 8; i < 16; ++i) v6[i] = 0;  // no value bits outside the mask
  openflow::Match m;
  m.fields = {OxmField::exact(OxmId::kEthType, 0x86dd),  // wire order kept, not sorted
              OxmField::masked(OxmId::kMetadata, 0x1200, 0xff00),
              OxmField::exact(OxmId::kEthDst, 0x0a0b0c0d0e0f),
              OxmField::masked_bytes(OxmId::kIpv6Src, v6, m6),
              OxmField::exact(OxmId::kVlanVid, 0x1000 | 10),
              OxmField::exact(OxmId::kReg0, 7)};
  const openflow::Match back = PackedOxm(m).unpack();
  CHECK(back == m);
  REQUIRE(back.fields.size() == m.fields.size());
  CHECK(back.fields[1].has_mask);
  CHECK(back.fields[1].mask_u64() == 0xff00);
  CHECK(!back.fields[2].has_mask);
  CHECK(back.fields[3].mask == m6);

  // A rule keeps it, and a modify carries it over.
  Tables t;
  openflow::FlowMod fm;
  fm.command = static_cast<std::uint8_t>(openflow::FlowModCommand::kAdd);
  fm.priority = 100;
  fm.match.fields = {OxmField::exact(OxmId::kEthType, 0x0800),
                     OxmField::exact(OxmId::kIpv4Dst, 0x0a000001)};
  fm.instructions = output(2);
  REQUIRE(t.apply(fm));
  REQUIRE(t.rules().size() == 1);
  CHECK(t.rules()[0]->oxm() == fm.match);
  fm.command = static_cast<std::uint8_t>(openflow::FlowModCommand::kModifyStrict);
  fm.instructions = output(3);
  REQUIRE(t.apply(fm));
  REQUIRE(t.rules().size() == 1);
  CHECK(t.rules()[0]->instructions() == output(3));
  CHECK(t.rules()[0]->oxm() == fm.match);
}
