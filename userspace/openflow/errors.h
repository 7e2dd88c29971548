// OpenFlow 1.3 error model.
//
// Every fallible codec call returns Result<T>: either the value or an OfError, which is
// exactly what a switch would put in the OFPT_ERROR it sends back (type, code, and up to
// 64 bytes of the offending message). Nothing in the codec throws; callers branch on
// Result::ok(). Error type/code numbers are the ones of the OpenFlow 1.3.5 spec.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace vsw::openflow {

enum class ErrType : uint16_t {
  kHelloFailed = 0,
  kBadRequest = 1,
  kBadAction = 2,
  kBadInstruction = 3,
  kBadMatch = 4,
  kFlowModFailed = 5,
  kGroupModFailed = 6,
  kPortModFailed = 7,
  kTableModFailed = 8,
  kQueueOpFailed = 9,
  kSwitchConfigFailed = 10,
  kRoleRequestFailed = 11,
  kMeterModFailed = 12,
  kTableFeaturesFailed = 13,
  kExperimenter = 0xffff,
};

// Codes used by the codec itself (the rest are printed by number-to-name tables).
namespace code {
inline constexpr uint16_t kHelloIncompatible = 0;
inline constexpr uint16_t kBadVersion = 0, kBadType = 1, kBadMultipart = 2, kBadExperimenter = 3,
                          kBadLen = 6;
inline constexpr uint16_t kActBadType = 0, kActBadLen = 1, kActBadArgument = 5, kActBadSetType = 13,
                          kActBadSetLen = 14, kActBadSetArgument = 15;
inline constexpr uint16_t kInstUnknown = 0, kInstBadLen = 7;
inline constexpr uint16_t kMatchBadType = 0, kMatchBadLen = 1, kMatchBadWildcards = 5,
                          kMatchBadField = 6, kMatchBadValue = 7, kMatchBadMask = 8,
                          kMatchBadPrereq = 9, kMatchDupField = 10;
inline constexpr uint16_t kMeterBadBand = 8;
inline constexpr uint16_t kGroupBadBucket = 12;
inline constexpr uint16_t kTfBadLen = 3;
}  // namespace code

// The maximum number of offending bytes an error carries (spec: at least 64).
inline constexpr size_t kErrorDataMax = 64;

struct OfError {
  uint16_t type = 0;
  uint16_t code = 0;
  std::vector<uint8_t> data;  // up to kErrorDataMax bytes of the refused message

  bool operator==(const OfError&) const = default;
};

inline OfError make_error(ErrType t, uint16_t c) {
  return OfError{uint16_t(t), c, {}};
}

// Names as ovs-ofctl and the spec spell them without prefixes: "BAD_REQUEST", "BAD_LEN".
std::string error_type_name(uint16_t type);
std::string error_code_name(uint16_t type, uint16_t code);

// The same errors as std::error_code (value = type << 16 | code, category "openflow"), for
// layers that carry one error model across OpenFlow and system errors. The message reads
// "BAD_MATCH/BAD_PREREQ".
const std::error_category& openflow_category();
inline std::error_code to_error_code(const OfError& e) {
  return {int(uint32_t(e.type) << 16 | e.code), openflow_category()};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::move(v)) {}        // NOLINT(google-explicit-constructor)
  Result(OfError e) : v_(std::move(e)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const OfError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, OfError> v_;
};

}  // namespace vsw::openflow
