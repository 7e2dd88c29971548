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

// The subfield of `parent` whose bits are exactly `mask` (in the parent's bits), if any.
const FieldInfo* subfield_covering(Field parent, std::uint64_t mask) {
  const FieldInfo& p = field_info(parent);
  for (const layout::Subfield& s : layout::kSubfields) {
    if (s.parent != parent) continue;
    const FieldInfo& fi = field_info(s.field);
    if (fi.word_mask() == mask << p.shift) return &fi;
  }
  return nullptr;
}

}  // namespace

std::string to_string(const Match& m) {
  std::string out;
  for (const layout::Row& r : layout::kLayout) {
    const std::uint64_t mask = m.mask.get(r.field);
    if (mask == 0) continue;
    if (!out.empty()) out += ',';
    if (const FieldInfo* sub = subfield_covering(r.field, mask)) {
      const FieldInfo& p = field_info(r.field);
      out += sub->name;
      out += '=' + hex(m.value.get(r.field) >> (sub->shift - p.shift));
      continue;
    }
    out += r.name;
    out += '=' + hex(m.value.get(r.field));
    if (mask != low_bits(r.width)) out += '/' + hex(mask);
  }
  return out.empty() ? "*" : out;
}

std::string to_string(const FlowKey& k) {
  std::string out;
  for (const layout::Row& r : layout::kLayout) {
    const std::uint64_t v = k.get(r.field);
    if (v == 0) continue;
    if (!out.empty()) out += ',';
    out += std::string(r.name) + '=' + hex(v);
  }
  return out.empty() ? "0" : out;
}

}  // namespace vsw::classifier
