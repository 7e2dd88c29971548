// The USERSPACE cookie of output:CONTROLLER: exact bytes, round trips, and every malformed
// form refused with a reason.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cerrno>
#include <vector>

#include <linux/types.h>
#include <vsw.h>

#include "ofproto/controller_cookie.h"

using namespace vsw::ofproto;

TEST_CASE("controller cookie: bytes and round trip") {
  const ControllerCookie plain{PacketInReason::kAction, 3, 128, 0x0102030405060708ULL, 0};
  const std::vector<std::uint8_t> bytes = encode_controller_cookie(plain);
  CHECK(bytes == std::vector<std::uint8_t>{1, 1, 3, 0, 0, 128, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8});
  auto back = decode_controller_cookie(bytes);
  REQUIRE(back);
  CHECK(*back == plain);

  for (const ControllerCookie& c : {
           ControllerCookie{PacketInReason::kNoMatch, 0, 0xffff, 0, 0},
           ControllerCookie{PacketInReason::kInvalidTtl, 254, 0, ~0ULL, 1},
           ControllerCookie{PacketInReason::kAction, 7, 65, 9, 0xfedcba9876543210ULL},
       }) {
    const auto b = encode_controller_cookie(c);
    CHECK(b.size() == (c.metadata ? 24U : 16U));
    CHECK(b.size() <= std::size_t{VSW_MAX_COOKIE});
    auto d = decode_controller_cookie(b);
    REQUIRE(d);
    CHECK(*d == c);
  }
}

TEST_CASE("controller cookie: malformed cookies are refused") {
  const std::vector<std::uint8_t> good =
      encode_controller_cookie({PacketInReason::kAction, 1, 100, 5, 0x10});
  REQUIRE(good.size() == 24);
  struct Case {
    const char* what;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<Case> cases;
  cases.push_back({"empty", {}});
  cases.push_back({"short", std::vector<std::uint8_t>(good.begin(), good.begin() + 15)});
  auto longer = good;
  longer.push_back(0);
  cases.push_back({"long", longer});
  auto v = good;
  v[0] = 2;
  cases.push_back({"version", v});
  v = good;
  v[0] = 0;
  cases.push_back({"version 0", v});
  v = good;
  v[1] = 3;
  cases.push_back({"reason", v});
  v = good;
  v[3] = 3;
  cases.push_back({"flags", v});
  v = good;
  v[3] = 0;  // 24 bytes without the metadata flag
  cases.push_back({"flag and length disagree", v});
  v = good;
  v[7] = 1;
  cases.push_back({"reserved", v});
  v = good;
  std::fill(v.begin() + 16, v.end(), 0);
  cases.push_back({"zero metadata with the flag", v});
  for (const Case& c : cases) {
    INFO(c.what);
    auto r = decode_controller_cookie(c.bytes);
    REQUIRE(!r);
    CHECK(r.error().code.value() == EBADMSG);
    CHECK(r.error().message.starts_with("controller cookie: "));
  }
}
