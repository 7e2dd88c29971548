// libFuzzer harness for the datapath flow and action text parsers (vsw-dpctl's input).
//
// The first byte picks the parser (even: flow match, odd: action list); the rest is the
// text. A parse may fail, but it must fail cleanly, and whatever parses must survive the
// round trip: format(parse(text)) parses again to the same value and prints the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dpif/flow_text.h"

namespace {

template <class T, class Parse, class Format>
void round_trip(std::string_view text, Parse parse, Format format) {
  auto first = parse(text);
  if (!first.ok()) return;
  T value = *first;
  std::string printed = format(value);
  auto second = parse(printed);
  if (!second.ok() || !(*second == value) || format(*second) != printed) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    round_trip<vsw::dpif::Match>(
        text, [](std::string_view t) { return vsw::dpif::parse_match(t); },
        [](const vsw::dpif::Match& m) { return vsw::dpif::format_match(m); });
  } else {
    round_trip<vsw::dpif::Actions>(
        text, [](std::string_view t) { return vsw::dpif::parse_actions(t); },
        [](const vsw::dpif::Actions& a) { return vsw::dpif::format_actions(a); });
  }
  return 0;
}
