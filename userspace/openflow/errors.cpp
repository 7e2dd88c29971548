// Names of OpenFlow 1.3 error types and codes, as the spec spells them without OFPET_/OFP*_.
#include "openflow/errors.h"

#include <array>
#include <initializer_list>
#include <string>

namespace vsw::openflow {
namespace {

struct TypeNames {
  const char* type;
  std::initializer_list<const char*> codes;
};

const std::array<TypeNames, 14> kNames = {{
    {"HELLO_FAILED", {"INCOMPATIBLE", "EPERM"}},
    {"BAD_REQUEST",
     {"BAD_VERSION", "BAD_TYPE", "BAD_MULTIPART", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "EPERM",
      "BAD_LEN", "BUFFER_EMPTY", "BUFFER_UNKNOWN", "BAD_TABLE_ID", "IS_SLAVE", "BAD_PORT",
      "BAD_PACKET", "MULTIPART_BUFFER_OVERFLOW"}},
    {"BAD_ACTION",
     {"BAD_TYPE", "BAD_LEN", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "BAD_OUT_PORT", "BAD_ARGUMENT",
      "EPERM", "TOO_MANY", "BAD_QUEUE", "BAD_OUT_GROUP", "MATCH_INCONSISTENT", "UNSUPPORTED_ORDER",
      "BAD_TAG", "BAD_SET_TYPE", "BAD_SET_LEN", "BAD_SET_ARGUMENT"}},
    {"BAD_INSTRUCTION",
     {"UNKNOWN_INST", "UNSUP_INST", "BAD_TABLE_ID", "UNSUP_METADATA", "UNSUP_METADATA_MASK",
      "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "BAD_LEN", "EPERM"}},
    {"BAD_MATCH",
     {"BAD_TYPE", "BAD_LEN", "BAD_TAG", "BAD_DL_ADDR_MASK", "BAD_NW_ADDR_MASK", "BAD_WILDCARDS",
      "BAD_FIELD", "BAD_VALUE", "BAD_MASK", "BAD_PREREQ", "DUP_FIELD", "EPERM"}},
    {"FLOW_MOD_FAILED",
     {"UNKNOWN", "TABLE_FULL", "BAD_TABLE_ID", "OVERLAP", "EPERM", "BAD_TIMEOUT", "BAD_COMMAND",
      "BAD_FLAGS"}},
    {"GROUP_MOD_FAILED",
     {"GROUP_EXISTS", "INVALID_GROUP", "WEIGHT_UNSUPPORTED", "OUT_OF_GROUPS", "OUT_OF_BUCKETS",
      "CHAINING_UNSUPPORTED", "WATCH_UNSUPPORTED", "LOOP", "UNKNOWN_GROUP", "CHAINED_GROUP",
      "BAD_TYPE", "BAD_COMMAND", "BAD_BUCKET", "BAD_WATCH", "EPERM"}},
    {"PORT_MOD_FAILED", {"BAD_PORT", "BAD_HW_ADDR", "BAD_CONFIG", "BAD_ADVERTISE", "EPERM"}},
    {"TABLE_MOD_FAILED", {"BAD_TABLE", "BAD_CONFIG", "EPERM"}},
    {"QUEUE_OP_FAILED", {"BAD_PORT", "BAD_QUEUE", "EPERM"}},
    {"SWITCH_CONFIG_FAILED", {"BAD_FLAGS", "BAD_LEN", "EPERM"}},
    {"ROLE_REQUEST_FAILED", {"STALE", "UNSUP", "BAD_ROLE"}},
    {"METER_MOD_FAILED",
     {"UNKNOWN", "METER_EXISTS", "INVALID_METER", "UNKNOWN_METER", "BAD_COMMAND", "BAD_FLAGS",
      "BAD_RATE", "BAD_BURST", "BAD_BAND", "BAD_BAND_VALUE", "OUT_OF_METERS", "OUT_OF_BANDS"}},
    {"TABLE_FEATURES_FAILED",
     {"BAD_TABLE", "BAD_METADATA", "BAD_TYPE", "BAD_LEN", "BAD_ARGUMENT", "EPERM"}},
}};

}  // namespace

std::string error_type_name(uint16_t type) {
  if (type < kNames.size()) return kNames[type].type;
  if (type == 0xffff) return "EXPERIMENTER";
  return std::to_string(type);
}

std::string error_code_name(uint16_t type, uint16_t code) {
  if (type < kNames.size() && code < kNames[type].codes.size())
    return kNames[type].codes.begin()[code];
  return std::to_string(code);
}

namespace {
class Category : public std::error_category {
 public:
  const char* name() const noexcept override { return "openflow"; }
  std::string message(int v) const override {
    auto type = uint16_t(uint32_t(v) >> 16), code = uint16_t(v);
    return error_type_name(type) + "/" + error_code_name(type, code);
  }
};
}  // namespace

const std::error_category& openflow_category() {
  static const Category category;
  return category;
}

}  // namespace vsw::openflow
