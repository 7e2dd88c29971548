// libFuzzer harness for what vswd decodes from outside: management-socket frames
// (config/frame.h, config/mgmt.proto) and the state file's text (config/store.h).
//
// The first byte picks the decoder; the rest is its input.
//   even: a client's byte stream. Frames are taken as a session of the server does
//         (config/mgmt_server.cpp): a 4-byte length (decode_length), refused above
//         kMaxMessage, then a Request (ParseFromArray); the session ends where the server's
//         would (oversized, truncated or unparsable frame). Each Request must re-encode
//         (encode_frame) to a frame that decodes to the same length and message. A
//         modifying request that passes check_request() runs through the model (apply())
//         against the configuration built so far; what apply() accepts must satisfy
//         validate() and survive the state file's round trip (format_config_text(), then
//         parse_config_text() gives the same Config): whatever the daemon accepts, it
//         can save and load again. Every refusal is one non-empty line.
//   odd:  the state file's text (ConfigStore::load() minus the file): parse_config_text()
//         may refuse it (in one non-empty line), but what it accepts is valid and
//         round-trips through format_config_text() to the same Config.
// Anything else traps. Built only with -DVSW_FUZZ=ON (clang, ASan + UBSan);
// tests/suites/30-fuzz runs it.
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/message_differencer.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "config/frame.h"
#include "config/model.h"
#include "config/store.h"

using namespace vsw::config;
using google::protobuf::util::MessageDifferencer;

namespace {

constexpr int kMaxFrames = 64;  // bounds the work per input

// Errors are one line and say something (vsw-ctl prints them as they are).
void check_one_line(const vsw::Error& e) {
  if (e.message.empty() || e.message.find_first_of("\r\n") != std::string::npos) __builtin_trap();
}

void check_saved_and_loaded(const Config& config) {
  auto text = format_config_text(config);
  if (!text.ok()) __builtin_trap();
  auto again = parse_config_text(*text);
  if (!again.ok() || !MessageDifferencer::Equals(*again, config)) __builtin_trap();
}

void session(const std::uint8_t* p, std::size_t n) {
  Config config;
  for (int frames = 0; frames < kMaxFrames && n >= kFrameHeader; ++frames) {
    std::array<std::uint8_t, kFrameHeader> header{};
    std::memcpy(header.data(), p, kFrameHeader);
    const std::uint32_t len = decode_length(header);
    if (len > kMaxMessage) return;  // EMSGSIZE, connection closed
    p += kFrameHeader;
    n -= kFrameHeader;
    if (len > n) return;  // the server waits for the rest; EOF ends the session
    Request request;
    if (!request.ParseFromArray(p, static_cast<int>(len))) return;  // EPROTO, closed
    p += len;
    n -= len;

    auto frame = encode_frame(request);
    if (!frame.ok() || frame->size() < kFrameHeader) __builtin_trap();
    std::array<std::uint8_t, kFrameHeader> h2{};
    std::memcpy(h2.data(), frame->data(), kFrameHeader);
    if (decode_length(h2) != frame->size() - kFrameHeader) __builtin_trap();
    Request again;
    if (!again.ParseFromArray(frame->data() + kFrameHeader,
                              static_cast<int>(frame->size() - kFrameHeader)) ||
        !MessageDifferencer::Equals(again, request))
      __builtin_trap();

    // What MgmtServer::handle() does with it, minus the disk and the daemon.
    if (auto checked = check_request(request); !checked.ok()) {
      check_one_line(checked.error());
      continue;
    }
    if (!is_modifying(request)) {
      if (apply(config, request).ok()) __builtin_trap();  // only changes are applied
      continue;
    }
    auto next = apply(config, request);
    if (!next.ok()) {
      check_one_line(next.error());
      continue;
    }
    if (!validate(*next).ok()) __builtin_trap();
    check_saved_and_loaded(*next);
    config = std::move(*next);
  }
}

void state_file(std::string_view text) {
  auto config = parse_config_text(text);
  if (!config.ok()) {
    check_one_line(config.error());
    return;
  }
  if (!validate(*config).ok()) __builtin_trap();
  check_saved_and_loaded(*config);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // Protobuf logs every string field with invalid UTF-8 it refuses; the refusal is the point.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0)
    session(data + 1, size - 1);
  else
    state_file(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
