// See flow_key.h.
#include "classifier/flow_key.h"

#include <cstdio>

namespace vsw::classifier {
namespace {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

std::string to_string(const Match& m) {
  std::string out;
  for (std::size_t i = 0; i < kFieldInfo.size(); ++i) {
    const auto f = static_cast<Field>(i);
    const std::uint64_t mask = m.mask.get(f);
    if (mask == 0) continue;
    if (!out.empty()) out += ',';
    out += kFieldInfo[i].name;
    out += '=' + hex(m.value.get(f));
    if (mask != low_bits(kFieldInfo[i].width)) out += '/' + hex(mask);
  }
  return out.empty() ? "*" : out;
}

std::string to_string(const FlowKey& k) {
  std::string out;
  for (std::size_t i = 0; i < kFieldInfo.size(); ++i) {
    const std::uint64_t v = k.get(static_cast<Field>(i));
    if (v == 0) continue;
    if (!out.empty()) out += ',';
    out += std::string(kFieldInfo[i].name) + '=' + hex(v);
  }
  return out.empty() ? "0" : out;
}

}  // namespace vsw::classifier
