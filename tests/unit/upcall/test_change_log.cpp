// ChangeLog: which changes since a handler's translation concern it.
#include <catch2/catch_test_macros.hpp>

#include "upcall/change_log.h"

using vsw::ofproto::Mac;
using vsw::ofproto::MacTag;
using vsw::upcall::ChangeLog;

namespace {
MacTag tag(std::uint16_t vlan, std::uint8_t last) {
  return MacTag{vlan, Mac{0x02, 0, 0, 0, 0, last}};
}
}  // namespace

TEST_CASE("change log: only a change to what was read, after it was read, counts",
          "[upcall][change_log]") {
  ChangeLog log;
  CHECK(log.seq() == 0);
  const std::vector<MacTag> read = {tag(0, 1), tag(0, 2)};
  CHECK_FALSE(log.touched_since(0, read));

  const std::uint64_t before = log.seq();
  const MacTag other[] = {tag(0, 3)};
  CHECK(log.add(other) == before + 1);
  CHECK_FALSE(log.touched_since(before, read));  // another MAC: not stale

  const MacTag same_mac_other_vlan[] = {tag(10, 1)};
  log.add(same_mac_other_vlan);
  CHECK_FALSE(log.touched_since(before, read));

  const MacTag mine[] = {tag(0, 2)};
  const std::uint64_t own = log.add(mine);
  CHECK(log.touched_since(before, read));             // a MAC it read changed
  CHECK_FALSE(log.touched_since(before, read, own));  // ...by the caller itself
  CHECK_FALSE(log.touched_since(own, read));          // before the translation began
}

TEST_CASE("change log: a change of everything concerns every translation", "[upcall][change_log]") {
  ChangeLog log;
  const std::vector<MacTag> read = {tag(0, 1)};
  log.add({});
  CHECK(log.touched_since(0, read));
  CHECK(log.touched_since(0, {}));
}

TEST_CASE("change log: a question older than the log remembers is answered yes",
          "[upcall][change_log]") {
  ChangeLog log;
  const std::vector<MacTag> read = {tag(0, 1)};
  const MacTag other[] = {tag(0, 9)};
  for (std::size_t i = 0; i < ChangeLog::kCapacity; ++i) log.add(other);
  CHECK_FALSE(log.touched_since(0, read));  // exactly kCapacity changes: all still known
  log.add(other);
  CHECK(log.touched_since(0, read));  // one more: the first is gone
  CHECK_FALSE(log.touched_since(1, read));
}
