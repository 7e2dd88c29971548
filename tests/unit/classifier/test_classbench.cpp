// ClassBench: the loader, range expansion, and the classifier on real filter sets and
// traces from tests/data/classbench (VSW_CLASSBENCH_DIR), checked against a first-match scan over
// the original (unexpanded) filters, with the megaflow contract on every lookup.
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <cstdio>
#include <random>
#include <string>

#include <unistd.h>

#include "classifier/classbench.h"
#include "classifier/classifier.h"
#include "test_util.h"

using namespace vsw::classifier;

namespace {

const std::string kDir = std::string(VSW_CLASSBENCH_DIR) + "/";

ClassbenchHeader header_of(const FlowKey& k) {
  return {static_cast<std::uint32_t>(k.get(Field::kIpv4Src)),
          static_cast<std::uint32_t>(k.get(Field::kIpv4Dst)),
          static_cast<std::uint16_t>(k.get(Field::kTpSrc)),
          static_cast<std::uint16_t>(k.get(Field::kTpDst)),
          static_cast<std::uint8_t>(k.get(Field::kIpProto))};
}

}  // namespace

TEST_CASE("range_to_prefixes covers a range exactly with the fewest blocks") {
  using P = std::pair<std::uint16_t, std::uint16_t>;
  CHECK(range_to_prefixes(0, 65535) == std::vector<P>{{0, 0}});
  CHECK(range_to_prefixes(80, 80) == std::vector<P>{{80, 0xffff}});
  CHECK(range_to_prefixes(1024, 65535) == std::vector<P>{{0x0400, 0xfc00},
                                                         {0x0800, 0xf800},
                                                         {0x1000, 0xf000},
                                                         {0x2000, 0xe000},
                                                         {0x4000, 0xc000},
                                                         {0x8000, 0x8000}});
  CHECK(range_to_prefixes(1, 65534).size() == 30);
  std::mt19937 rng(static_cast<unsigned>(vsw::classifier::test::seed()));
  for (int t = 0; t < 200; ++t) {
    auto a = static_cast<std::uint16_t>(rng()), b = static_cast<std::uint16_t>(rng());
    if (a > b) std::swap(a, b);
    const auto blocks = range_to_prefixes(a, b);
    CHECK(blocks.size() <= 30);
    for (std::uint32_t p = 0; p < 65536; p += 1 + rng() % 97) {
      int covering = 0;
      for (const auto& [v, m] : blocks) covering += (p & m) == v;
      CHECK(covering == ((p >= a && p <= b) ? 1 : 0));
    }
  }
}

TEST_CASE("loader rejects malformed lines with the file and line") {
  auto r = load_classbench_filters("/nonexistent/classbench");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == std::errc::no_such_file_or_directory);
  char path[] = "/tmp/vsw-cb-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  const char text[] =
      "@1.2.3.4/32\t5.6.7.8/24\t0 : 65535\t80 : 80\t0x06/0xFF\t0x0000/0x0000\t\n"
      "@1.2.3.4/33\t5.6.7.8/24\t0 : 65535\t80 : 80\t0x06/0xFF\t0x0000/0x0000\t\n";
  REQUIRE(write(fd, text, sizeof text - 1) == static_cast<ssize_t>(sizeof text - 1));
  close(fd);
  r = load_classbench_filters(path);
  unlink(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(":2: bad prefix length") != std::string::npos);
}

TEST_CASE("ClassBench sets: 0 mismatches vs first-match, megaflow contract on every lookup") {
  const auto [rules_file, trace_file, max_headers] =
      GENERATE(table<std::string, std::string, std::size_t>({
          {"neurocuts/acl1_1k", "neurocuts/acl1_1k_trace", 0},
          {"neurocuts/fw1_1k", "neurocuts/fw1_1k_trace", 0},
          {"neurocuts/ipc1_1k", "neurocuts/ipc1_1k_trace", 0},
          {"neurocuts/acl1_10k.gz", "neurocuts/acl1_10k_trace.gz", 30000},
          {"neurocuts/fw1_10k.gz", "neurocuts/fw1_10k_trace.gz", 15000},
      }));
  auto filters = load_classbench_filters(kDir + rules_file);
  INFO((filters.ok() ? "" : filters.error().to_string()));
  REQUIRE(filters.ok());
  auto trace = load_classbench_trace(kDir + trace_file);
  INFO((trace.ok() ? "" : trace.error().to_string()));
  REQUIRE(trace.ok());
  REQUIRE(!filters.value().empty());
  REQUIRE(!trace.value().empty());

  Classifier cls;
  const auto rules = classbench_rules(filters.value());
  for (const RuleSpec& r : rules) REQUIRE_FALSE(cls.insert(r.match, r.priority, r.cookie));
  cls.publish();

  std::mt19937_64 rng(vsw::classifier::test::seed());
  const auto& hs = trace.value();
  const std::size_t n = max_headers ? std::min(max_headers, hs.size()) : hs.size();
  std::size_t mismatches = 0, contract = 0, bits = 0;
  // Only the 5-tuple bits vary in these keys; L3/L4 = ipv4 src/dst, proto, ports.
  FlowKey l34;
  for (Field f : {Field::kIpv4Src, Field::kIpv4Dst, Field::kIpProto, Field::kTpSrc, Field::kTpDst})
    l34 |= FlowKey::field_mask(f);
  for (std::size_t i = 0; i < n; ++i) {
    const FlowKey k = classbench_key(hs[i]);
    FlowKey wc;
    const auto h = cls.lookup(k, &wc);
    const std::int64_t want = first_match(filters.value(), hs[i]);
    if (!h ? want != -1 : static_cast<std::int64_t>(h->cookie) != want) ++mismatches;
    bits += (wc & l34).popcount();
    FlowKey k2 = k;
    for (std::size_t w = 0; w < kWords; ++w) k2.w[w] ^= rng() & ~wc.w[w] & l34.w[w];
    const auto h2 = cls.lookup(k2);
    const std::int64_t want2 = first_match(filters.value(), header_of(k2));
    if (!h2 ? want2 != -1 || h
            : !h || h2->cookie != h->cookie || static_cast<std::int64_t>(h2->cookie) != want2)
      ++contract;
  }
  const double avg = static_cast<double>(bits) / static_cast<double>(n);
  std::printf(
      "classbench %s: %zu filters, %zu rules, %zu subtables, %zu lookups, %zu mismatches, "
      "%zu contract violations, %.1f L3/L4 bits/lookup\n",
      rules_file.c_str(), filters.value().size(), rules.size(), cls.stats().subtables, n,
      mismatches, contract, avg);
  CHECK(mismatches == 0);
  CHECK(contract == 0);
  CHECK(avg > 8.0);    // at least something beyond the protocol
  CHECK(avg < 104.0);  // not the whole 5-tuple every time
}
