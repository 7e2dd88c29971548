// Handler threads translate while the writer republishes a two-table pipeline and swaps
// the port list: every translation must see one version of all tables (a mixed view drops
// the packet here, so drops are failures), and nothing may race (run under TSan through
// the tsan label).
#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "ofproto/key_map.h"
#include "ofproto/ofproto.h"
#include "test_util.h"

using namespace vsw::ofproto;
using namespace vsw::ofproto::test;
using vsw::openflow::Action;
using vsw::openflow::Instruction;
using vsw::openflow::InstructionType;
using vsw::openflow::OxmField;
using vsw::openflow::OxmId;

namespace {

vsw::classifier::Match metadata_is(std::uint64_t v) {
  vsw::openflow::Match m;
  m.fields.push_back(OxmField::exact(OxmId::kMetadata, v));
  return *from_oxm(m);
}

// Version v: table 0 writes metadata v and goes to table 1, whose only rule matches
// metadata v and outputs to port 2 + v % 2. A translation that saw table 0 of one version
// and table 1 of another finds no rule in table 1 and drops.
void install(Tables& t, std::uint64_t v) {
  Instruction md;
  md.type = InstructionType::kWriteMetadata;
  md.metadata = v;
  md.mask = ~0ULL;
  REQUIRE(t.add(RuleSpec{0, {}, 1, v, {md, Instruction::goto_table(1)}}));
  RuleFilter old;
  old.table_id = 1;
  t.remove(old);
  REQUIRE(
      t.add(RuleSpec{1, metadata_is(v), 1, v, {Instruction::apply({Action::output(2 + v % 2)})}}));
  t.publish();
}

}  // namespace

TEST_CASE("translations see one version of every table while the writer publishes", "[tsan]") {
  Ofproto of(options(FailMode::kSecure));
  std::vector<PortInfo> ports = {trunk_port(1), trunk_port(2), trunk_port(3),
                                 trunk_port(4)};  // toggled
  REQUIRE(of.set_ports(ports));
  install(of.tables(), 0);

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> translations{0}, mixed{0}, unstable{0};
  std::vector<std::thread> handlers;
  for (int h = 0; h < 3; ++h) {
    handlers.emplace_back([&] {
      const vsw_flow_key k = l2_key(1, 0xa1, 0xb2);
      while (!stop.load()) {
        const XlateResult r = of.translate(k, true);
        translations.fetch_add(1);
        if (!r.stable) {
          unstable.fetch_add(1);
          continue;
        }
        if (r.actions.size() != 1 || r.rules.size() != 2 ||
            r.rules[0]->cookie != r.rules[1]->cookie)
          mixed.fetch_add(1);
      }
    });
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(700);
  std::uint64_t v = 0;
  while (std::chrono::steady_clock::now() < until) {
    install(of.tables(), ++v);
    if (v % 16 == 0) {
      ports[3].up = !ports[3].up;
      REQUIRE(of.set_ports(ports));
    }
  }
  stop = true;
  for (auto& t : handlers) t.join();
  INFO("versions " << v << ", translations " << translations.load() << ", retries "
                   << of.stats().retries << ", unstable " << unstable.load());
  CHECK(mixed.load() == 0);
  CHECK(v > 10);
  CHECK(translations.load() > 100);
  CHECK(unstable.load() * 10 <= translations.load());
}
