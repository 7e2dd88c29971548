// The megaflow contract of the whole translation: random multi-table pipelines (random
// matches, apply/write/clear actions, metadata, goto_table, NORMAL, rewrites, VLAN
// actions, unsupported actions) over random port configurations and a fixed MAC table.
// For random kernel-shaped keys, every key that agrees with the key on the megaflow's
// mask must translate to the same datapath actions. Rerun a failure with VSW_SEED=N.
#include <catch2/catch_test_macros.hpp>

#include <cstdio>

#include "ofproto/key_map.h"
#include "ofproto/ofproto.h"
#include "test_util.h"

using namespace vsw::ofproto;
using namespace vsw::ofproto::test;
using vsw::openflow::Action;
using vsw::openflow::ActionType;
using vsw::openflow::Instruction;
using vsw::openflow::InstructionType;
using vsw::openflow::OxmField;
using vsw::openflow::OxmId;
namespace P = vsw::openflow::port;

namespace {

class PipelineGen {
 public:
  explicit PipelineGen(KeyGen& g) : g_(g) {}

  Action action() {
    switch (g_.rng()() % 16) {
      case 0:
      case 1:
      case 2:
        return Action::output(static_cast<std::uint32_t>(g_.pick({1, 2, 3, 4, 5, 6, 7})));
      case 3:
        return Action::output(static_cast<std::uint32_t>(
            g_.pick({P::kInPort, P::kAll, P::kFlood, P::kLocal, P::kNormal})));
      case 4:
      case 5:
        return Action::output(P::kNormal);
      case 6:
        return Action::set_field(OxmField::exact(OxmId::kEthDst, g_.mac_value()));
      case 7:
        return Action::set_field(OxmField::exact(OxmId::kEthSrc, g_.mac_value()));
      case 8:
        return Action::set_field(OxmField::exact(OxmId::kIpv4Src, g_.ipv4()));
      case 9:
        return Action::set_field(
            OxmField::exact(g_.coin() ? OxmId::kTcpDst : OxmId::kUdpSrc, g_.port()));
      case 10:
        return Action::set_field(OxmField::exact(g_.coin() ? OxmId::kVlanVid : OxmId::kVlanPcp,
                                                 g_.pick({0x1000 | 10, 3, 0x1000})));
      case 11:
        return Action::simple(ActionType::kPushVlan, 0x8100);
      case 12:
        return Action::simple(ActionType::kPopVlan);
      case 13:
        return Action::simple(g_.coin() ? ActionType::kDecNwTtl : ActionType::kSetNwTtl, 9);
      case 14:
        return Action::set_field(OxmField::exact(OxmId::kIpDscp, 10));
      default:
        return g_.coin(20) ? Action::simple(ActionType::kGroup, 1)
                           : Action::output(static_cast<std::uint32_t>(g_.pick({1, 2})));
    }
  }
  std::vector<Action> actions() {
    std::vector<Action> a;
    const auto n = g_.rng()() % 4;
    for (unsigned i = 0; i < n; ++i) a.push_back(action());
    return a;
  }
  std::vector<Instruction> instructions(unsigned table, unsigned last) {
    std::vector<Instruction> ins;
    if (g_.coin(70)) ins.push_back(Instruction::apply(actions()));
    if (g_.coin(10)) {
      Instruction c;
      c.type = InstructionType::kClearActions;
      ins.push_back(c);
    }
    if (g_.coin(40)) ins.push_back(Instruction::write(actions()));
    if (g_.coin(30)) {
      Instruction md;
      md.type = InstructionType::kWriteMetadata;
      md.metadata = g_.pick({0, 1, 0x10});
      md.mask = g_.pick({0xff, 0x1, ~0ULL});
      ins.push_back(md);
    }
    if (table < last && g_.coin(60))
      ins.push_back(Instruction::goto_table(
          static_cast<std::uint8_t>(table + 1 + g_.rng()() % (last - table))));
    return ins;
  }
  vsw::classifier::Match match(unsigned table) {
    vsw::openflow::Match m = g_.match();
    if (table > 0 && g_.coin(30)) {
      m.fields.erase(std::remove_if(m.fields.begin(), m.fields.end(),
                                    [](const OxmField& f) { return f.id == OxmId::kMetadata; }),
                     m.fields.end());
      m.fields.push_back(OxmField::masked(OxmId::kMetadata, g_.pick({0, 1, 0x10}), 0xff));
    }
    auto r = from_oxm(m);
    REQUIRE(r);
    return *r;
  }

 private:
  KeyGen& g_;
};

std::vector<PortInfo> random_ports(KeyGen& g) {
  std::vector<PortInfo> ports;
  const auto access = access_port;
  const auto trunk = trunk_port;
  ports.push_back(access(1, 10));
  ports.push_back(access(2, static_cast<std::uint16_t>(g.pick({10, 20}))));
  ports.push_back(trunk(3, {}));
  ports.push_back(trunk(4, {0, 10}));
  ports.push_back(trunk(5, {20, 30}));
  ports.push_back(access(6, 0));
  ports.push_back(trunk(P::kLocal, {}));
  for (auto& p : ports) p.up = !g.coin(10);
  return ports;
}

}  // namespace

TEST_CASE("every key agreeing on the megaflow mask translates to the same actions") {
  const std::uint64_t s = seed();
  std::printf("ofproto megaflow contract: seed %llu (rerun with VSW_SEED=%llu)\n",
              static_cast<unsigned long long>(s), static_cast<unsigned long long>(s));
  KeyGen gen(s);
  PipelineGen pg(gen);
  std::size_t keys = 0, with_actions = 0, normal_tags = 0;
  for (int round = 0; round < 12; ++round) {
    const bool standalone = round % 3 != 2;
    Ofproto of(options(standalone ? FailMode::kStandalone : FailMode::kSecure));
    REQUIRE(of.set_ports(random_ports(gen)));
    const unsigned last = 1 + static_cast<unsigned>(gen.rng()() % 4);
    for (unsigned t = 0; t <= last; ++t) {
      const int n = round == 0 && t == 0 ? 0 : 1 + static_cast<int>(gen.rng()() % 12);
      for (int i = 0; i < n; ++i) {
        auto r = of.tables().add(RuleSpec{static_cast<std::uint8_t>(t), pg.match(t),
                                          static_cast<std::int32_t>(1 + gen.rng()() % 50), 0,
                                          pg.instructions(t, last)});
        REQUIRE(r);
      }
    }
    of.tables().publish();
    // A fixed MAC table: learn some sources by translating, then translate without learning.
    for (int i = 0; i < 300; ++i) (void)of.translate(gen.key(), true);
    for (int i = 0; i < 400; ++i) {
      const vsw_flow_key k = gen.key();
      const XlateResult r = of.translate(k, false);
      REQUIRE(r.stable);
      ++keys;
      with_actions += !r.actions.empty();
      normal_tags += !r.tags.empty();
      for (int v = 0; v < 8; ++v) {
        const vsw_flow_key k2 = gen.agreeing(k, r.megaflow.mask);
        const XlateResult r2 = of.translate(k2, false);
        INFO("round " << round << " key " << i << " variant " << v << "\n  megaflow "
                      << vsw::dpif::format_match(r.megaflow) << "\n  variant "
                      << vsw::dpif::format_match(megaflow(k2, r.megaflow.mask)) << "\n  reason "
                      << r.reason << " / " << r2.reason);
        REQUIRE(text(r2.actions) == text(r.actions));
        REQUIRE(r2.tags == r.tags);
      }
    }
  }
  CHECK(with_actions > keys / 10);
  CHECK(normal_tags > keys / 20);
}
