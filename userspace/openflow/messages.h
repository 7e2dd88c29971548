// Typed OpenFlow 1.3.5 messages.
//
// What? One struct per message body; a Message is the header (version, xid) plus a
// std::variant whose alternative index *is* the OFPT_* type number, so dispatch is an index
// and the type can never disagree with the body. Multipart bodies are variants indexed by
// OFPMP_* type the same way (index 14 stands for OFPMP_EXPERIMENTER = 0xffff).
//
// Basic design. Each struct lists its wire layout once, in a static `fields(s, v)` template:
// the order of members, padding (`v.pad(n)`), self-length fields (`v.len16()`) and variable
// tails (matches, action/instruction lists, nested lists, opaque bytes). The decoder, the
// encoder and the text/JSON printers (codec.cpp, print.cpp) are visitors over that one list,
// so a layout is written once and the three can never drift apart.
//
// Invariants. encode(decode(b)) == b for any b that decode accepts, except that padding and
// reserved bytes are written as zeros. Element types with `kLenOffset` carry their own length
// at that offset (`kLenExcludesPad`: the length does not count the trailing padding to 8).
//
// Tests: tests/unit/openflow (table-driven decode/error cases and a round trip of a sample of
// every message type), tests/openflow (ovs-ofctl and tshark agree with us).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "openflow/actions.h"
#include "openflow/oxm.h"

namespace vsw::openflow {

inline constexpr uint8_t kVersion13 = 4;
using Mac = std::array<uint8_t, 6>;

template <int Tag>
struct Empty {
  template <class S, class V>
  static void fields(S&, V&) {}
  bool operator==(const Empty&) const = default;
};

template <int Tag>
struct Opaque {  // echo request/reply
  Bytes data;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("data", s.data);
  }
  bool operator==(const Opaque&) const = default;
};

struct HelloElement {
  static constexpr size_t kLenOffset = 2;
  static constexpr bool kLenExcludesPad = true;
  uint16_t type = 1;              // 1 = OFPHET_VERSIONBITMAP
  std::vector<uint32_t> bitmaps;  // version bitmap (type 1)
  Bytes data;                     // other element types, opaque
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("type", s.type);
    v.len16();
    if (s.type == 1)
      v("bitmaps", s.bitmaps);
    else
      v("data", s.data);
  }
  bool operator==(const HelloElement&) const = default;
};

struct Hello {
  std::vector<HelloElement> elements;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("elements", s.elements);
  }
  bool operator==(const Hello&) const = default;
};

struct Error {
  uint16_t type = 0;
  uint16_t code = 0;          // exp_type when type == 0xffff
  uint32_t experimenter = 0;  // only when type == 0xffff
  Bytes data;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("err_type", s.type);
    v("code", s.code);
    if (s.type == 0xffff) v("experimenter", s.experimenter);
    v("data", s.data);
  }
  bool operator==(const Error&) const = default;
};

struct Experimenter {
  uint32_t experimenter = 0;
  uint32_t exp_type = 0;
  Bytes data;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("experimenter", s.experimenter);
    v("exp_type", s.exp_type);
    v("data", s.data);
  }
  bool operator==(const Experimenter&) const = default;
};

struct FeaturesReply {
  uint64_t datapath_id = 0;
  uint32_t n_buffers = 0;
  uint8_t n_tables = 0;
  uint8_t auxiliary_id = 0;
  uint32_t capabilities = 0;
  uint32_t reserved = 0;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("datapath_id", s.datapath_id);
    v("n_buffers", s.n_buffers);
    v("n_tables", s.n_tables);
    v("auxiliary_id", s.auxiliary_id);
    v.pad(2);
    v("capabilities", s.capabilities);
    v("reserved", s.reserved);
  }
  bool operator==(const FeaturesReply&) const = default;
};

template <int Tag>
struct SwitchConfig {
  uint16_t flags = 0;
  uint16_t miss_send_len = 0;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("flags", s.flags);
    v("miss_send_len", s.miss_send_len);
  }
  bool operator==(const SwitchConfig&) const = default;
};

struct PacketIn {
  uint32_t buffer_id = kNoBuffer;
  uint16_t total_len = 0;
  uint8_t reason = 0;
  uint8_t table_id = 0;
  uint64_t cookie = 0;
  Match match;
  Bytes data;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("buffer_id", s.buffer_id);
    v("total_len", s.total_len);
    v("reason", s.reason);
    v("table_id", s.table_id);
    v("cookie", s.cookie);
    v("match", s.match);
    v.pad(2);
    v("data", s.data);
  }
  bool operator==(const PacketIn&) const = default;
};

struct FlowRemoved {
  uint64_t cookie = 0;
  uint16_t priority = 0;
  uint8_t reason = 0;
  uint8_t table_id = 0;
  uint32_t duration_sec = 0, duration_nsec = 0;
  uint16_t idle_timeout = 0, hard_timeout = 0;
  uint64_t packet_count = 0, byte_count = 0;
  Match match;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("cookie", s.cookie);
    v("priority", s.priority);
    v("reason", s.reason);
    v("table_id", s.table_id);
    v("duration_sec", s.duration_sec);
    v("duration_nsec", s.duration_nsec);
    v("idle_timeout", s.idle_timeout);
    v("hard_timeout", s.hard_timeout);
    v("packet_count", s.packet_count);
    v("byte_count", s.byte_count);
    v("match", s.match);
  }
  bool operator==(const FlowRemoved&) const = default;
};

struct Port {
  uint32_t port_no = 0;
  Mac hw_addr{};
  std::string name;  // at most 15 characters on the wire
  uint32_t config = 0, state = 0, curr = 0, advertised = 0, supported = 0, peer = 0;
  uint32_t curr_speed = 0, max_speed = 0;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("port_no", s.port_no);
    v.pad(4);
    v("hw_addr", s.hw_addr);
    v.pad(2);
    v.str("name", s.name, 16);
    v("config", s.config);
    v("state", s.state);
    v("curr", s.curr);
    v("advertised", s.advertised);
    v("supported", s.supported);
    v("peer", s.peer);
    v("curr_speed", s.curr_speed);
    v("max_speed", s.max_speed);
  }
  bool operator==(const Port&) const = default;
};

struct PortStatus {
  uint8_t reason = 0;
  Port desc;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("reason", s.reason);
    v.pad(7);
    v("desc", s.desc);
  }
  bool operator==(const PortStatus&) const = default;
};

struct PacketOut {
  uint32_t buffer_id = kNoBuffer;
  uint32_t in_port = port::kController;
  std::vector<Action> actions;
  Bytes data;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("buffer_id", s.buffer_id);
    v("in_port", s.in_port);
    v.prefixed_actions("actions", s.actions);
    v("data", s.data);
  }
  bool operator==(const PacketOut&) const = default;
};

enum class FlowModCommand : uint8_t { kAdd = 0, kModify, kModifyStrict, kDelete, kDeleteStrict };

struct FlowMod {
  uint64_t cookie = 0, cookie_mask = 0;
  uint8_t table_id = 0;
  uint8_t command = 0;  // FlowModCommand
  uint16_t idle_timeout = 0, hard_timeout = 0;
  uint16_t priority = 0x8000;
  uint32_t buffer_id = kNoBuffer;
  uint32_t out_port = port::kAny, out_group = kGroupAny;
  uint16_t flags = 0;
  Match match;
  std::vector<Instruction> instructions;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("cookie", s.cookie);
    v("cookie_mask", s.cookie_mask);
    v("table_id", s.table_id);
    v("command", s.command);
    v("idle_timeout", s.idle_timeout);
    v("hard_timeout", s.hard_timeout);
    v("priority", s.priority);
    v("buffer_id", s.buffer_id);
    v("out_port", s.out_port);
    v("out_group", s.out_group);
    v("flags", s.flags);
    v.pad(2);
    v("match", s.match);
    v("instructions", s.instructions);
  }
  bool operator==(const FlowMod&) const = default;
};

struct Bucket {
  static constexpr size_t kLenOffset = 0;
  static constexpr ErrType kErrType = ErrType::kGroupModFailed;
  static constexpr uint16_t kErrCode = code::kGroupBadBucket;
  uint16_t weight = 0;
  uint32_t watch_port = port::kAny, watch_group = kGroupAny;
  std::vector<Action> actions;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v.len16();
    v("weight", s.weight);
    v("watch_port", s.watch_port);
    v("watch_group", s.watch_group);
    v.pad(4);
    v("actions", s.actions);
  }
  bool operator==(const Bucket&) const = default;
};

struct GroupMod {
  uint16_t command = 0;
  uint8_t type = 0;
  uint32_t group_id = 0;
  std::vector<Bucket> buckets;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("command", s.command);
    v("group_type", s.type);
    v.pad(1);
    v("group_id", s.group_id);
    v("buckets", s.buckets);
  }
  bool operator==(const GroupMod&) const = default;
};

struct PortMod {
  uint32_t port_no = 0;
  Mac hw_addr{};
  uint32_t config = 0, mask = 0, advertise = 0;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("port_no", s.port_no);
    v.pad(4);
    v("hw_addr", s.hw_addr);
    v.pad(2);
    v("config", s.config);
    v("mask", s.mask);
    v("advertise", s.advertise);
    v.pad(4);
  }
  bool operator==(const PortMod&) const = default;
};

struct TableMod {
  uint8_t table_id = 0;
  uint32_t config = 0;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("table_id", s.table_id);
    v.pad(3);
    v("config", s.config);
  }
  bool operator==(const TableMod&) const = default;
};

struct QueueGetConfigRequest {
  uint32_t port_no = 0;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("port_no", s.port_no);
    v.pad(4);
  }
  bool operator==(const QueueGetConfigRequest&) const = default;
};

// ofp_queue_prop_header + body: MIN_RATE (1) and MAX_RATE (2) carry a rate in 1/10 %;
// EXPERIMENTER (0xffff) an experimenter id and data; any other type keeps its body opaque.
struct QueueProp {
  static constexpr size_t kLenOffset = 2;
  uint16_t property = 1;
  uint16_t rate = 0;          // MIN_RATE, MAX_RATE
  uint32_t experimenter = 0;  // EXPERIMENTER
  Bytes data;                 // EXPERIMENTER data, or an unknown property's body
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("property", s.property);
    v.len16();
    v.pad(4);
    if (s.property == 1 || s.property == 2) {
      v("rate", s.rate);
      v.pad(6);
    } else if (s.property == 0xffff) {
      v("experimenter", s.experimenter);
      v.pad(4);
      v("data", s.data);
    } else {
      v("data", s.data);
    }
  }
  bool operator==(const QueueProp&) const = default;
};

struct PacketQueue {  // ofp_packet_queue
  static constexpr size_t kLenOffset = 8;
  uint32_t queue_id = 0;
  uint32_t port = 0;
  std::vector<QueueProp> properties;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("queue_id", s.queue_id);
    v("port", s.port);
    v.len16();
    v.pad(6);
    v("properties", s.properties);
  }
  bool operator==(const PacketQueue&) const = default;
};

struct QueueGetConfigReply {
  uint32_t port_no = 0;
  std::vector<PacketQueue> queues;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("port_no", s.port_no);
    v.pad(4);
    v("queues", s.queues);
  }
  bool operator==(const QueueGetConfigReply&) const = default;
};

template <int Tag>
struct Role {
  uint32_t role = 0;
  uint64_t generation_id = 0;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("role", s.role);
    v.pad(4);
    v("generation_id", s.generation_id);
  }
  bool operator==(const Role&) const = default;
};

template <int Tag>
struct Async {
  std::array<uint32_t, 2> packet_in_mask{}, port_status_mask{}, flow_removed_mask{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("packet_in_mask", s.packet_in_mask);
    v("port_status_mask", s.port_status_mask);
    v("flow_removed_mask", s.flow_removed_mask);
  }
  bool operator==(const Async&) const = default;
};

struct MeterBand {
  static constexpr size_t kLenOffset = 2;
  static constexpr ErrType kErrType = ErrType::kMeterModFailed;
  static constexpr uint16_t kErrCode = code::kMeterBadBand;
  uint16_t type = 1;  // 1 drop, 2 dscp_remark, 0xffff experimenter
  uint32_t rate = 0, burst_size = 0;
  uint8_t prec_level = 0;     // dscp_remark
  uint32_t experimenter = 0;  // experimenter
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("type", s.type);
    v.len16();
    v("rate", s.rate);
    v("burst_size", s.burst_size);
    if (s.type == 2) {
      v("prec_level", s.prec_level);
      v.pad(3);
    } else if (s.type == 0xffff) {
      v("experimenter", s.experimenter);
    } else {
      v.check(s.type == 1, ErrType::kMeterModFailed, code::kMeterBadBand);
      v.pad(4);
    }
  }
  bool operator==(const MeterBand&) const = default;
};

struct MeterMod {
  uint16_t command = 0;
  uint16_t flags = 0;
  uint32_t meter_id = 0;
  std::vector<MeterBand> bands;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("command", s.command);
    v("flags", s.flags);
    v("meter_id", s.meter_id);
    v("bands", s.bands);
  }
  bool operator==(const MeterMod&) const = default;
};

// ---- multipart bodies ----

template <int Tag>
struct FlowStatsRequestT {  // FLOW and AGGREGATE requests share a layout
  uint8_t table_id = 0xff;
  uint32_t out_port = port::kAny, out_group = kGroupAny;
  uint64_t cookie = 0, cookie_mask = 0;
  Match match;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("table_id", s.table_id);
    v.pad(3);
    v("out_port", s.out_port);
    v("out_group", s.out_group);
    v.pad(4);
    v("cookie", s.cookie);
    v("cookie_mask", s.cookie_mask);
    v("match", s.match);
  }
  bool operator==(const FlowStatsRequestT&) const = default;
};
using FlowStatsRequest = FlowStatsRequestT<1>;
using AggregateStatsRequest = FlowStatsRequestT<2>;

// A request carrying one 32-bit id and 4 pad bytes (port, group, meter).
template <int Tag>
struct IdRequest {
  uint32_t id = 0xffffffff;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("id", s.id);
    v.pad(4);
  }
  bool operator==(const IdRequest&) const = default;
};

struct QueueStatsRequest {
  uint32_t port_no = port::kAny;
  uint32_t queue_id = 0xffffffff;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("port_no", s.port_no);
    v("queue_id", s.queue_id);
  }
  bool operator==(const QueueStatsRequest&) const = default;
};

// An instruction or action id in a table-features property: the element's header only
// (type, len = 4); when type is 0xffff, the experimenter id and any experimenter-defined
// bytes after it (len >= 8).
struct FeatureId {
  static constexpr size_t kLenOffset = 2;
  static constexpr ErrType kErrType = ErrType::kTableFeaturesFailed;
  static constexpr uint16_t kErrCode = code::kTfBadLen;
  uint16_t type = 0;
  uint32_t experimenter = 0;  // only when type == 0xffff
  Bytes data;                 // only when type == 0xffff: experimenter-defined
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("type", s.type);
    v.len16();
    if (s.type == 0xffff) {
      v("experimenter", s.experimenter);
      v("data", s.data);
    }
  }
  bool operator==(const FeatureId&) const = default;
};

// One ofp_table_feature_prop, typed by its OFPTFPT_* type:
//   0-1 INSTRUCTIONS(_MISS), 4-7 WRITE/APPLY_ACTIONS(_MISS)  -> `ids`
//   2-3 NEXT_TABLES(_MISS)                                  -> `tables` (one table id a byte)
//   8, 10, 12-15 MATCH, WILDCARDS, WRITE/APPLY_SETFIELD(_MISS) -> `oxm_ids` (OXM headers; an
//       experimenter OXM's experimenter id is the entry after its header)
//   0xfffe-0xffff EXPERIMENTER(_MISS)                       -> experimenter, exp_type, data
// Any other type keeps its body in `data` (a newer spec's property survives a round trip).
struct TableFeatureProp {
  static constexpr size_t kLenOffset = 2;
  static constexpr bool kLenExcludesPad = true;
  static constexpr ErrType kErrType = ErrType::kTableFeaturesFailed;
  static constexpr uint16_t kErrCode = code::kTfBadLen;
  enum Kind { kIds, kTables, kOxms, kExperimenter, kOther };
  static constexpr Kind kind(uint16_t type) {
    if (type <= 1 || (type >= 4 && type <= 7)) return kIds;
    if (type == 2 || type == 3) return kTables;
    if (type == 8 || type == 10 || (type >= 12 && type <= 15)) return kOxms;
    if (type >= 0xfffe) return kExperimenter;
    return kOther;
  }
  uint16_t type = 0;              // OFPTFPT_*
  std::vector<FeatureId> ids;     // instructions / actions
  Bytes tables;                   // next tables
  std::vector<uint32_t> oxm_ids;  // match / wildcards / set-field
  uint32_t experimenter = 0, exp_type = 0;
  Bytes data;  // experimenter data, or an unknown type's body
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("type", s.type);
    v.len16();
    switch (kind(s.type)) {
      case kIds:
        v("ids", s.ids);
        break;
      case kTables:
        v("tables", s.tables);
        break;
      case kOxms:
        v("oxm_ids", s.oxm_ids);
        break;
      case kExperimenter:
        v("experimenter", s.experimenter);
        v("exp_type", s.exp_type);
        v("data", s.data);
        break;
      case kOther:
        v("data", s.data);
        break;
    }
  }
  bool operator==(const TableFeatureProp&) const = default;
};

struct TableFeatures {
  static constexpr size_t kLenOffset = 0;
  static constexpr ErrType kErrType = ErrType::kTableFeaturesFailed;
  static constexpr uint16_t kErrCode = code::kTfBadLen;
  uint8_t table_id = 0;
  std::string name;
  uint64_t metadata_match = 0, metadata_write = 0;
  uint32_t config = 0, max_entries = 0;
  std::vector<TableFeatureProp> properties;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v.len16();
    v("table_id", s.table_id);
    v.pad(5);
    v.str("name", s.name, 32);
    v("metadata_match", s.metadata_match);
    v("metadata_write", s.metadata_write);
    v("config", s.config);
    v("max_entries", s.max_entries);
    v("properties", s.properties);
  }
  bool operator==(const TableFeatures&) const = default;
};

template <class E, int Tag>
struct List {  // a multipart body that is a list of entries
  using Entry = E;
  std::vector<E> entries;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("entries", s.entries);
  }
  bool operator==(const List&) const = default;
};

struct MpExperimenter {
  uint32_t experimenter = 0, exp_type = 0;
  Bytes data;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("experimenter", s.experimenter);
    v("exp_type", s.exp_type);
    v("data", s.data);
  }
  bool operator==(const MpExperimenter&) const = default;
};

struct DescReply {
  std::string mfr_desc, hw_desc, sw_desc, serial_num, dp_desc;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v.str("mfr_desc", s.mfr_desc, 256);
    v.str("hw_desc", s.hw_desc, 256);
    v.str("sw_desc", s.sw_desc, 256);
    v.str("serial_num", s.serial_num, 32);
    v.str("dp_desc", s.dp_desc, 256);
  }
  bool operator==(const DescReply&) const = default;
};

struct FlowStats {
  static constexpr size_t kLenOffset = 0;
  static constexpr size_t kMinWireLen = 56;  // lists reserve left / this many entries
  uint8_t table_id = 0;
  uint32_t duration_sec = 0, duration_nsec = 0;
  uint16_t priority = 0, idle_timeout = 0, hard_timeout = 0, flags = 0;
  uint64_t cookie = 0, packet_count = 0, byte_count = 0;
  Match match;
  std::vector<Instruction> instructions;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v.len16();
    v("table_id", s.table_id);
    v.pad(1);
    v("duration_sec", s.duration_sec);
    v("duration_nsec", s.duration_nsec);
    v("priority", s.priority);
    v("idle_timeout", s.idle_timeout);
    v("hard_timeout", s.hard_timeout);
    v("flags", s.flags);
    v.pad(4);
    v("cookie", s.cookie);
    v("packet_count", s.packet_count);
    v("byte_count", s.byte_count);
    v("match", s.match);
    v("instructions", s.instructions);
  }
  bool operator==(const FlowStats&) const = default;
};

struct AggregateStatsReply {
  uint64_t packet_count = 0, byte_count = 0;
  uint32_t flow_count = 0;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("packet_count", s.packet_count);
    v("byte_count", s.byte_count);
    v("flow_count", s.flow_count);
    v.pad(4);
  }
  bool operator==(const AggregateStatsReply&) const = default;
};

struct TableStats {
  uint8_t table_id = 0;
  uint32_t active_count = 0;
  uint64_t lookup_count = 0, matched_count = 0;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("table_id", s.table_id);
    v.pad(3);
    v("active_count", s.active_count);
    v("lookup_count", s.lookup_count);
    v("matched_count", s.matched_count);
  }
  bool operator==(const TableStats&) const = default;
};

struct PortStats {
  uint32_t port_no = 0;
  uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0, rx_dropped = 0,
           tx_dropped = 0, rx_errors = 0, tx_errors = 0, rx_frame_err = 0, rx_over_err = 0,
           rx_crc_err = 0, collisions = 0;
  uint32_t duration_sec = 0, duration_nsec = 0;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("port_no", s.port_no);
    v.pad(4);
    v("rx_packets", s.rx_packets);
    v("tx_packets", s.tx_packets);
    v("rx_bytes", s.rx_bytes);
    v("tx_bytes", s.tx_bytes);
    v("rx_dropped", s.rx_dropped);
    v("tx_dropped", s.tx_dropped);
    v("rx_errors", s.rx_errors);
    v("tx_errors", s.tx_errors);
    v("rx_frame_err", s.rx_frame_err);
    v("rx_over_err", s.rx_over_err);
    v("rx_crc_err", s.rx_crc_err);
    v("collisions", s.collisions);
    v("duration_sec", s.duration_sec);
    v("duration_nsec", s.duration_nsec);
  }
  bool operator==(const PortStats&) const = default;
};

struct QueueStats {
  uint32_t port_no = 0, queue_id = 0;
  uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0;
  uint32_t duration_sec = 0, duration_nsec = 0;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("port_no", s.port_no);
    v("queue_id", s.queue_id);
    v("tx_bytes", s.tx_bytes);
    v("tx_packets", s.tx_packets);
    v("tx_errors", s.tx_errors);
    v("duration_sec", s.duration_sec);
    v("duration_nsec", s.duration_nsec);
  }
  bool operator==(const QueueStats&) const = default;
};

template <int Tag>
struct Counter {  // bucket counter, meter band stats
  uint64_t packet_count = 0, byte_count = 0;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("packet_count", s.packet_count);
    v("byte_count", s.byte_count);
  }
  bool operator==(const Counter&) const = default;
};

struct GroupStats {
  static constexpr size_t kLenOffset = 0;
  uint32_t group_id = 0, ref_count = 0;
  uint64_t packet_count = 0, byte_count = 0;
  uint32_t duration_sec = 0, duration_nsec = 0;
  std::vector<Counter<1>> bucket_stats;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v.len16();
    v.pad(2);
    v("group_id", s.group_id);
    v("ref_count", s.ref_count);
    v.pad(4);
    v("packet_count", s.packet_count);
    v("byte_count", s.byte_count);
    v("duration_sec", s.duration_sec);
    v("duration_nsec", s.duration_nsec);
    v("bucket_stats", s.bucket_stats);
  }
  bool operator==(const GroupStats&) const = default;
};

struct GroupDesc {
  static constexpr size_t kLenOffset = 0;
  uint8_t type = 0;
  uint32_t group_id = 0;
  std::vector<Bucket> buckets;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v.len16();
    v("group_type", s.type);
    v.pad(1);
    v("group_id", s.group_id);
    v("buckets", s.buckets);
  }
  bool operator==(const GroupDesc&) const = default;
};

struct GroupFeaturesReply {
  uint32_t types = 0, capabilities = 0;
  std::array<uint32_t, 4> max_groups{}, actions{};
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("types", s.types);
    v("capabilities", s.capabilities);
    v("max_groups", s.max_groups);
    v("actions", s.actions);
  }
  bool operator==(const GroupFeaturesReply&) const = default;
};

struct MeterStats {
  static constexpr size_t kLenOffset = 4;
  uint32_t meter_id = 0, flow_count = 0;
  uint64_t packet_in_count = 0, byte_in_count = 0;
  uint32_t duration_sec = 0, duration_nsec = 0;
  std::vector<Counter<2>> band_stats;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("meter_id", s.meter_id);
    v.len16();
    v.pad(6);
    v("flow_count", s.flow_count);
    v("packet_in_count", s.packet_in_count);
    v("byte_in_count", s.byte_in_count);
    v("duration_sec", s.duration_sec);
    v("duration_nsec", s.duration_nsec);
    v("band_stats", s.band_stats);
  }
  bool operator==(const MeterStats&) const = default;
};

struct MeterConfig {
  static constexpr size_t kLenOffset = 0;
  uint16_t flags = 0;
  uint32_t meter_id = 0;
  std::vector<MeterBand> bands;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v.len16();
    v("flags", s.flags);
    v("meter_id", s.meter_id);
    v("bands", s.bands);
  }
  bool operator==(const MeterConfig&) const = default;
};

struct MeterFeaturesReply {
  uint32_t max_meter = 0, band_types = 0, capabilities = 0;
  uint8_t max_bands = 0, max_color = 0;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v("max_meter", s.max_meter);
    v("band_types", s.band_types);
    v("capabilities", s.capabilities);
    v("max_bands", s.max_bands);
    v("max_color", s.max_color);
    v.pad(2);
  }
  bool operator==(const MeterFeaturesReply&) const = default;
};

using DescRequest = Empty<100>;
using TableStatsRequest = Empty<103>;
using PortStatsRequest = IdRequest<4>;
using GroupStatsRequest = IdRequest<6>;
using GroupDescRequest = Empty<107>;
using GroupFeaturesRequest = Empty<108>;
using MeterStatsRequest = IdRequest<9>;
using MeterConfigRequest = IdRequest<10>;
using MeterFeaturesRequest = Empty<111>;
using TableFeaturesRequest = List<TableFeatures, 112>;
using PortDescRequest = Empty<113>;

using FlowStatsReply = List<FlowStats, 201>;
using TableStatsReply = List<TableStats, 203>;
using PortStatsReply = List<PortStats, 204>;
using QueueStatsReply = List<QueueStats, 205>;
using GroupStatsReply = List<GroupStats, 206>;
using GroupDescReply = List<GroupDesc, 207>;
using MeterStatsReply = List<MeterStats, 209>;
using MeterConfigReply = List<MeterConfig, 210>;
using TableFeaturesReply = List<TableFeatures, 212>;
using PortDescReply = List<Port, 213>;

// Index == OFPMP_* type; index 14 is OFPMP_EXPERIMENTER (0xffff).
using MpRequestBody =
    std::variant<DescRequest, FlowStatsRequest, AggregateStatsRequest, TableStatsRequest,
                 PortStatsRequest, QueueStatsRequest, GroupStatsRequest, GroupDescRequest,
                 GroupFeaturesRequest, MeterStatsRequest, MeterConfigRequest, MeterFeaturesRequest,
                 TableFeaturesRequest, PortDescRequest, MpExperimenter>;
using MpReplyBody =
    std::variant<DescReply, FlowStatsReply, AggregateStatsReply, TableStatsReply, PortStatsReply,
                 QueueStatsReply, GroupStatsReply, GroupDescReply, GroupFeaturesReply,
                 MeterStatsReply, MeterConfigReply, MeterFeaturesReply, TableFeaturesReply,
                 PortDescReply, MpExperimenter>;

inline constexpr uint16_t kMpReplyMore = 1;  // OFPMPF_REPLY_MORE (same bit for REQ_MORE)

struct MultipartRequest {
  uint16_t flags = 0;
  MpRequestBody body;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v.multipart(s);  // type, flags, pad, then the body alternative
  }
  bool operator==(const MultipartRequest&) const = default;
};
struct MultipartReply {
  uint16_t flags = 0;
  MpReplyBody body;
  template <class S, class V>
  static void fields(S& s, V& v) {
    v.multipart(s);  // type, flags, pad, then the body alternative
  }
  bool operator==(const MultipartReply&) const = default;
};

using EchoRequest = Opaque<2>;
using EchoReply = Opaque<3>;
using FeaturesRequest = Empty<5>;
using GetConfigRequest = Empty<7>;
using GetConfigReply = SwitchConfig<8>;
using SetConfig = SwitchConfig<9>;
using BarrierRequest = Empty<20>;
using BarrierReply = Empty<21>;
using RoleRequest = Role<24>;
using RoleReply = Role<25>;
using GetAsyncRequest = Empty<26>;
using GetAsyncReply = Async<27>;
using SetAsync = Async<28>;

// Index == OFPT_* type number.
using Body =
    std::variant<Hello, Error, EchoRequest, EchoReply, Experimenter, FeaturesRequest, FeaturesReply,
                 GetConfigRequest, GetConfigReply, SetConfig, PacketIn, FlowRemoved, PortStatus,
                 PacketOut, FlowMod, GroupMod, PortMod, TableMod, MultipartRequest, MultipartReply,
                 BarrierRequest, BarrierReply, QueueGetConfigRequest, QueueGetConfigReply,
                 RoleRequest, RoleReply, GetAsyncRequest, GetAsyncReply, SetAsync, MeterMod>;

enum class MsgType : uint8_t {
  kHello = 0,
  kError,
  kEchoRequest,
  kEchoReply,
  kExperimenter,
  kFeaturesRequest,
  kFeaturesReply,
  kGetConfigRequest,
  kGetConfigReply,
  kSetConfig,
  kPacketIn,
  kFlowRemoved,
  kPortStatus,
  kPacketOut,
  kFlowMod,
  kGroupMod,
  kPortMod,
  kTableMod,
  kMultipartRequest,
  kMultipartReply,
  kBarrierRequest,
  kBarrierReply,
  kQueueGetConfigRequest,
  kQueueGetConfigReply,
  kRoleRequest,
  kRoleReply,
  kGetAsyncRequest,
  kGetAsyncReply,
  kSetAsync,
  kMeterMod,
  kCount
};
static_assert(std::variant_size_v<Body> == size_t(MsgType::kCount));

struct Message {
  uint8_t version = kVersion13;
  uint32_t xid = 0;
  Body body;

  MsgType type() const { return MsgType(body.index()); }
  bool operator==(const Message&) const = default;
};

const char* message_type_name(MsgType t);       // "FLOW_MOD"
const char* multipart_type_name(size_t index);  // "FLOW", index of MpRequestBody
uint16_t multipart_wire_type(size_t index);     // 0..13, or 0xffff for index 14

}  // namespace vsw::openflow
