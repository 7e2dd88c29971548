// ClassBench filter sets and header traces, and their translation to classifier rules.
//
// Test and benchmark support (library vsw_classifier_testing), not part of the product.
//
// What? Reads the 5-tuple ClassBench formats described in tests/data/classbench/README.md
// (plain or gzip'ed; zlib reads both) and turns each filter into OpenFlow-style rules:
// eth_type=0x0800, ipv4_src/ipv4_dst prefixes, ip_proto when exact, and each port range
// split into the fewest aligned prefix blocks (at most 30 per 16-bit range), one rule per
// (source block, destination block) pair, all with the filter's priority. Line i of an
// N-line file gets priority N - i (the first line wins) and cookie i. The sixth "flags"
// field is parsed and ignored, as published classifiers do.
//
// first_match() is the reference answer: a linear first-match scan over the filters with
// their original ranges, independent of the range expansion and of the classifier.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "classifier/flow_key.h"
#include "util/result.h"

namespace vsw::classifier {

struct ClassbenchFilter {
  std::uint32_t src = 0, dst = 0;  // host order
  std::uint8_t src_len = 0, dst_len = 0;
  std::uint16_t sport_lo = 0, sport_hi = 0xffff, dport_lo = 0, dport_hi = 0xffff;
  std::uint8_t proto = 0, proto_mask = 0;
};

struct ClassbenchHeader {
  std::uint32_t src = 0, dst = 0;
  std::uint16_t sport = 0, dport = 0;
  std::uint8_t proto = 0;
};

// Errors: the errno of opening the file, or EINVAL with a message naming the file and line.
[[nodiscard]] vsw::Result<std::vector<ClassbenchFilter>> load_classbench_filters(
    const std::string& path);
// max_headers > 0 stops after that many headers.
[[nodiscard]] vsw::Result<std::vector<ClassbenchHeader>> load_classbench_trace(
    const std::string& path, std::size_t max_headers = 0);

// The aligned prefix blocks (value, mask) covering [lo, hi] exactly, fewest first-to-last.
std::vector<std::pair<std::uint16_t, std::uint16_t>> range_to_prefixes(std::uint16_t lo,
                                                                       std::uint16_t hi);

struct RuleSpec {
  Match match;
  std::int32_t priority;
  std::uint64_t cookie;  // the filter's line index
};
// The rules for filters[i] have priority filters.size() - i and cookie i.
std::vector<RuleSpec> classbench_rules(const std::vector<ClassbenchFilter>& filters);
FlowKey classbench_key(const ClassbenchHeader& h);
bool classbench_matches(const ClassbenchFilter& f, const ClassbenchHeader& h);
// Index of the first filter matching h, or -1.
std::int64_t first_match(const std::vector<ClassbenchFilter>& filters, const ClassbenchHeader& h);

}  // namespace vsw::classifier
