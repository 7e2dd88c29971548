// See classbench.h.
#include "classifier/classbench.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

namespace vsw::classifier {
namespace {

struct GzClose {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzClose>;

// Calls fn(line) for each non-empty line; fn returns an error message or "".
template <class Fn>
std::optional<vsw::Error> for_each_line(const std::string& path, Fn fn, std::size_t limit = 0) {
  GzFile f(gzopen(path.c_str(), "rb"));
  if (!f) {
    const int e = errno ? errno : ENOENT;
    return vsw::make_error(e, path + ": " + std::strerror(e));
  }
  gzbuffer(f.get(), 1 << 17);
  char buf[512];
  std::size_t line = 0;
  while (gzgets(f.get(), buf, sizeof buf) != nullptr) {
    ++line;
    if (limit != 0 && line > limit) break;
    if (buf[0] == '\n' || buf[0] == '\0') continue;
    std::string err = fn(buf);
    if (!err.empty()) {
      std::string what = path;
      what.append(":").append(std::to_string(line)).append(": ").append(err).append(": \"");
      what.append(buf, strcspn(buf, "\n")).append("\"");
      return vsw::make_error(EINVAL, std::move(what));
    }
  }
  return std::nullopt;
}

}  // namespace

vsw::Result<std::vector<ClassbenchFilter>> load_classbench_filters(const std::string& path) {
  std::vector<ClassbenchFilter> out;
  std::optional<vsw::Error> err = for_each_line(path, [&](const char* s) -> std::string {
    unsigned a[4], b[4], sl, dl, sp0, sp1, dp0, dp1, pr, pm;
    if (std::sscanf(s, "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x", &a[0], &a[1], &a[2],
                    &a[3], &sl, &b[0], &b[1], &b[2], &b[3], &dl, &sp0, &sp1, &dp0, &dp1, &pr,
                    &pm) != 16) {
      return "not a ClassBench filter";
    }
    for (int i = 0; i < 4; ++i)
      if (a[i] > 255 || b[i] > 255) return "bad IPv4 address";
    if (sl > 32 || dl > 32) return "bad prefix length";
    if (sp0 > sp1 || sp1 > 65535 || dp0 > dp1 || dp1 > 65535) return "bad port range";
    if (pr > 255 || (pm != 0 && pm != 0xff)) return "bad protocol";
    ClassbenchFilter f;
    f.src = (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
    f.dst = (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    f.src_len = static_cast<std::uint8_t>(sl);
    f.dst_len = static_cast<std::uint8_t>(dl);
    const auto pfx = [](unsigned len) { return len == 0 ? 0U : ~0U << (32 - len); };
    f.src &= pfx(sl);
    f.dst &= pfx(dl);
    f.sport_lo = static_cast<std::uint16_t>(sp0);
    f.sport_hi = static_cast<std::uint16_t>(sp1);
    f.dport_lo = static_cast<std::uint16_t>(dp0);
    f.dport_hi = static_cast<std::uint16_t>(dp1);
    f.proto = static_cast<std::uint8_t>(pr & pm);
    f.proto_mask = static_cast<std::uint8_t>(pm);
    out.push_back(f);
    return {};
  });
  if (err) return std::move(*err);
  return out;
}

vsw::Result<std::vector<ClassbenchHeader>> load_classbench_trace(const std::string& path,
                                                                 std::size_t max_headers) {
  std::vector<ClassbenchHeader> out;
  std::optional<vsw::Error> err = for_each_line(
      path,
      [&](const char* s) -> std::string {
        unsigned long sa, da, sp, dp, pr;
        if (std::sscanf(s, "%lu %lu %lu %lu %lu", &sa, &da, &sp, &dp, &pr) != 5)
          return "not a ClassBench header";
        if (sa > 0xffffffffUL || da > 0xffffffffUL || sp > 65535 || dp > 65535 || pr > 255)
          return "field out of range";
        out.push_back({static_cast<std::uint32_t>(sa), static_cast<std::uint32_t>(da),
                       static_cast<std::uint16_t>(sp), static_cast<std::uint16_t>(dp),
                       static_cast<std::uint8_t>(pr)});
        return {};
      },
      max_headers);
  if (err) return std::move(*err);
  return out;
}

std::vector<std::pair<std::uint16_t, std::uint16_t>> range_to_prefixes(std::uint16_t lo,
                                                                       std::uint16_t hi) {
  std::vector<std::pair<std::uint16_t, std::uint16_t>> out;
  std::uint32_t cur = lo;
  while (cur <= hi) {
    // The largest aligned block starting at cur that stays within [cur, hi].
    std::uint32_t size = cur == 0 ? 0x10000 : (cur & -cur);
    while (cur + size - 1 > hi) size >>= 1;
    out.emplace_back(static_cast<std::uint16_t>(cur), static_cast<std::uint16_t>(~(size - 1)));
    cur += size;
  }
  return out;
}

std::vector<RuleSpec> classbench_rules(const std::vector<ClassbenchFilter>& filters) {
  std::vector<RuleSpec> out;
  out.reserve(filters.size() * 3 / 2);
  const auto n = static_cast<std::int32_t>(filters.size());
  for (std::size_t i = 0; i < filters.size(); ++i) {
    const ClassbenchFilter& f = filters[i];
    Match base;
    base.set_exact(Field::kEthType, 0x0800);
    base.set_prefix(Field::kIpv4Src, f.src, f.src_len);
    base.set_prefix(Field::kIpv4Dst, f.dst, f.dst_len);
    if (f.proto_mask) base.set_exact(Field::kIpProto, f.proto);
    const auto sps = range_to_prefixes(f.sport_lo, f.sport_hi);
    const auto dps = range_to_prefixes(f.dport_lo, f.dport_hi);
    for (const auto& [sv, sm] : sps) {
      for (const auto& [dv, dm] : dps) {
        Match m = base;
        m.set_masked(Field::kTpSrc, sv, sm);
        m.set_masked(Field::kTpDst, dv, dm);
        out.push_back({m, n - static_cast<std::int32_t>(i), i});
      }
    }
  }
  return out;
}

FlowKey classbench_key(const ClassbenchHeader& h) {
  FlowKey k;
  k.set(Field::kEthType, 0x0800);
  k.set(Field::kIpv4Src, h.src);
  k.set(Field::kIpv4Dst, h.dst);
  k.set(Field::kIpProto, h.proto);
  k.set(Field::kTpSrc, h.sport);
  k.set(Field::kTpDst, h.dport);
  return k;
}

bool classbench_matches(const ClassbenchFilter& f, const ClassbenchHeader& h) {
  const auto pfx = [](unsigned len) { return len == 0 ? 0U : ~0U << (32 - len); };
  return (h.src & pfx(f.src_len)) == f.src && (h.dst & pfx(f.dst_len)) == f.dst &&
         h.sport >= f.sport_lo && h.sport <= f.sport_hi && h.dport >= f.dport_lo &&
         h.dport <= f.dport_hi && (h.proto & f.proto_mask) == f.proto;
}

std::int64_t first_match(const std::vector<ClassbenchFilter>& filters, const ClassbenchHeader& h) {
  for (std::size_t i = 0; i < filters.size(); ++i)
    if (classbench_matches(filters[i], h)) return static_cast<std::int64_t>(i);
  return -1;
}

}  // namespace vsw::classifier
