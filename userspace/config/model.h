// The configuration model: pure functions over vsw::config::Config (no I/O, no state).
//
// What? Every verb that changes the configuration (add-br, del-port, set-port, ...) is a
// function from the current Config and a Request to the next Config, or an Error that says
// in one line what was refused. The management server runs them; vsw-ctl runs the
// config-free half (check_request()) before it sends anything, so a typo is caught even
// when no daemon is running, with the same message the daemon would give.
//
// Invariants of a Config (validate() checks all of them; apply() preserves them):
//   - names (bridges and ports) follow Linux interface-name rules (check_name());
//   - bridge names are unique; port names are unique across all bridges, and no port has
//     the name of a bridge (a bridge's name is also its internal port's name);
//   - ofport is 1..1023 and unique within its bridge; add-port without ofport= takes the
//     lowest free number;
//   - ACCESS ports have tag 0..4095 and no trunks; TRUNK ports have tag 0 and trunks
//     sorted, unique, each 0..4095 (empty = all VLANs);
//   - datapath ids, when set, are unique; controller targets are well formed and unique
//     within their bridge;
//   - numeric options, when set, are within the ranges below (kBridgeOptionRanges).
//
// User words (vsw-ctl arguments, KeyValue in requests):
//   bridge keys (add-br, set-bridge):  datapath-id=HEX16, fail-mode=standalone|secure,
//     mac-aging=SECONDS, mac-table-size=N, flow-limit=N, idle-timeout=MS
//     (an empty value puts an option back to the daemon default)
//   port keys (add-port, set-port):    ofport=N, tag=VID, trunks=V[,V|,A-B]...,
//     vlan-mode=access|trunk
//     tag=VID makes an access port; trunks=LIST makes a trunk carrying LIST (empty = all);
//     tag= (empty) makes a trunk of all VLANs. tag and trunks in one command conflict.
//   '_' and '-' are interchangeable in keys.
//
// Errors are vsw::Error with EINVAL (bad words), ENOENT (no such bridge/port), EEXIST
// (already exists / already used) or ENOSPC (no free ofport), and a one-line message that
// quotes what was refused.
//
// Concurrency: none; every function is pure and may run on any thread.
// Tests: tests/unit/config/test_model.cpp (every verb, every rule above).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/mgmt.pb.h"
#include "config/vsw_config.pb.h"
#include "util/result.h"

namespace vsw::config {

// ---- Limits and built-in defaults ------------------------------------------------------

inline constexpr std::uint32_t kMaxOfport = 1023;        // OpenFlow port == datapath port
inline constexpr std::uint32_t kOfppLocal = 0xfffffffe;  // OpenFlow 1.3 OFPP_LOCAL
inline constexpr std::uint32_t kMaxVlan = 4095;
inline constexpr std::size_t kMaxNameLen = 15;  // IFNAMSIZ - 1

inline constexpr std::uint32_t kDefaultFlowLimit = 200000;
inline constexpr std::uint32_t kDefaultIdleTimeoutMs = 10000;
inline constexpr std::uint32_t kDefaultMacAgingS = 300;
inline constexpr std::uint32_t kDefaultMacTableSize = 8192;

struct Range {
  std::uint32_t min;
  std::uint32_t max;
};
inline constexpr Range kMacAgingRange{1, 86400};  // seconds
// At most 262144 MAC entries, so that fdb/show's reply stays under the 16 MiB frame limit.
inline constexpr Range kMacTableSizeRange{16, 262144};    // entries
inline constexpr Range kFlowLimitRange{1, 10000000};      // flows
inline constexpr Range kIdleTimeoutRange{100, 86400000};  // milliseconds
inline constexpr Range kThreadsRange{0, 1024};            // n_handlers, n_revalidators

// ---- Words (shared by vsw-ctl and the server) -------------------------------------------

// A bridge or interface name: 1..15 bytes, not "." or "..", no '/', ':', whitespace or
// control characters. `what` names it in the error ("bridge", "interface").
[[nodiscard]] Result<void> check_name(std::string_view what, std::string_view name);
// Exactly 16 hex digits.
[[nodiscard]] Result<std::uint64_t> parse_datapath_id(std::string_view text);
// "standalone" | "secure".
[[nodiscard]] Result<Bridge::FailMode> parse_fail_mode(std::string_view text);
// Decimal 0..4095.
[[nodiscard]] Result<std::uint32_t> parse_vlan(std::string_view text);
// "V,V,A-B,..." -> sorted unique VLANs; "" -> empty (all VLANs).
[[nodiscard]] Result<std::vector<std::uint32_t>> parse_trunks(std::string_view text);
// Decimal 1..1023.
[[nodiscard]] Result<std::uint32_t> parse_ofport(std::string_view text);
// tcp:IP[:PORT] (IPv6 in brackets), unix:PATH, ptcp:[PORT][:IP], punix:PATH.
[[nodiscard]] Result<void> check_controller_target(std::string_view target);

// A key given with an empty value resets the option to its default: `value` is nullopt.
template <class T>
struct Change {
  std::optional<T> value;
};

// Bridge keys, parsed; a member is set when its key was given.
struct BridgeSettings {
  std::optional<Change<std::uint64_t>> datapath_id;
  std::optional<Bridge::FailMode> fail_mode;
  std::optional<Change<std::uint32_t>> mac_aging_s;
  std::optional<Change<std::uint32_t>> mac_table_size;
  std::optional<Change<std::uint32_t>> flow_limit;
  std::optional<Change<std::uint32_t>> idle_timeout_ms;
};
[[nodiscard]] Result<BridgeSettings> parse_bridge_settings(
    const google::protobuf::RepeatedPtrField<KeyValue>& kvs);

// Port keys, parsed and checked against each other (tag vs trunks vs vlan-mode).
struct PortSettings {
  std::optional<std::uint32_t> ofport;
  std::optional<Change<std::uint32_t>> tag;  // value nullopt: "tag=" (no tag)
  std::optional<std::vector<std::uint32_t>> trunks;
  std::optional<Port::VlanMode> vlan_mode;
};
[[nodiscard]] Result<PortSettings> parse_port_settings(
    const google::protobuf::RepeatedPtrField<KeyValue>& kvs);

// Splits "key=value" (value may be empty); an error when there is no '=' or no key.
[[nodiscard]] Result<KeyValue> parse_key_value(std::string_view word);

// ---- Requests ---------------------------------------------------------------------------

// True for the verbs that change the configuration.
[[nodiscard]] bool is_modifying(const Request& request);
// Everything about a request that can be checked without a configuration: that a verb is
// set, names, key=value words, fail-mode words, controller targets.
[[nodiscard]] Result<void> check_request(const Request& request);
// Runs a modifying verb against `current`. The result satisfies validate(). An error
// leaves nothing changed (`current` is const; there is no partial result).
[[nodiscard]] Result<Config> apply(const Config& current, const Request& request);

// ---- Whole configurations ---------------------------------------------------------------

// Checks every invariant listed above; the error names the first one broken.
[[nodiscard]] Result<void> validate(const Config& config);

[[nodiscard]] const Bridge* find_bridge(const Config& config, std::string_view name);
struct PortRef {
  const Bridge* bridge;
  const Port* port;
};
[[nodiscard]] std::optional<PortRef> find_port(const Config& config, std::string_view name);

// The daemon options with every field set (built-in defaults for the unset ones).
[[nodiscard]] DaemonOptions resolve_daemon(const DaemonOptions& options);
// A bridge's effective limits: its own value when set, else the daemon's, else built-in.
struct BridgeLimits {
  std::uint32_t mac_aging_s;
  std::uint32_t mac_table_size;
  std::uint32_t flow_limit;
  std::uint32_t idle_timeout_ms;
};
[[nodiscard]] BridgeLimits resolve_bridge(const Bridge& bridge, const DaemonOptions& daemon);

// ---- Formatting -------------------------------------------------------------------------

[[nodiscard]] std::string format_datapath_id(std::uint64_t id);  // 16 lowercase hex digits
[[nodiscard]] std::string format_mac(const std::array<std::uint8_t, 6>& mac);     // aa:bb:..
[[nodiscard]] std::string format_vlans(const std::vector<std::uint32_t>& vlans);  // 1,5-9
[[nodiscard]] const char* fail_mode_name(Bridge::FailMode mode);  // "standalone"/"secure"
[[nodiscard]] const char* vlan_mode_name(Port::VlanMode mode);    // "access"/"trunk"

}  // namespace vsw::config
