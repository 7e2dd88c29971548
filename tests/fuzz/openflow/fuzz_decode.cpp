// libFuzzer harness for the OpenFlow decoder (one message, as a connection would hand it).
//
// Any input must be either refused with an OfError carrying at most 64 bytes of the input,
// or accepted; an accepted message must print (text and JSON), re-encode, and decode again
// to the same value with the same bytes. Anything else traps. Built only with -DVSW_FUZZ=ON
// (clang, ASan + UBSan); tests/suites/30-fuzz runs it.
#include <cstddef>
#include <cstdint>

#include "openflow/codec.h"
#include "openflow/print.h"

using namespace vsw::openflow;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);
  auto r = decode(in);
  if (!r.ok()) {
    if (r.error().data.size() > kErrorDataMax || r.error().data.size() > size) __builtin_trap();
    return 0;
  }
  std::string text = to_text(r.value());
  std::string json = to_json(r.value());
  if (text.empty() || json.empty() || json.front() != '{') __builtin_trap();
  Bytes once = encode(r.value());
  if (once.size() != size) __builtin_trap();  // padding may differ, the length may not
  auto again = decode(once);
  if (!again.ok() || !(again.value() == r.value())) __builtin_trap();
  if (encode(again.value()) != once) __builtin_trap();
  return 0;
}
