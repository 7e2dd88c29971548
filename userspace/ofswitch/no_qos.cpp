// Meters and queues a switch does not have. See no_qos.h.
#include "ofswitch/no_qos.h"

#include <algorithm>

#include "ofproto/tables.h"

namespace vsw::ofswitch {
namespace {

using openflow::ErrType;
using openflow::make_error;
using openflow::OfError;

constexpr std::uint8_t kTableAll = 0xff;  // OFPTT_ALL
constexpr std::uint16_t kTmfcBadTable = 0;
constexpr std::uint16_t kQofcBadPort = 0, kQofcBadQueue = 1;
constexpr std::uint16_t kMmfcInvalidMeter = 2, kMmfcUnknownMeter = 3, kMmfcBadCommand = 4,
                        kMmfcBadFlags = 5;
constexpr std::uint16_t kMeterAdd = 0, kMeterModify = 1, kMeterDelete = 2;
constexpr std::uint16_t kMeterKbps = 1 << 0, kMeterPktps = 1 << 1;
constexpr std::uint32_t kMeterAll = 0xffffffff, kQueueAll = 0xffffffff;
constexpr std::uint16_t kBacBadOutPort = 4;
// Open vSwitch's 16-bit port space: ports below OFPP_MAX (0xff00) are real, OpenFlow 1.1+
// reserved ports (0xffffff00..) map to 0xff00.. and anything in between is refused.
constexpr std::uint32_t kOvsPortMax = 0xff00;

// The OpenFlow 1.1+ port as Open vSwitch decodes it (ofputil_port_from_ofp11).
std::optional<OfError> check_port_range(std::uint32_t port_no) {
  if (port_no < kOvsPortMax || port_no >= openflow::port::kMax) return std::nullopt;
  return make_error(ErrType::kBadAction, kBacBadOutPort);
}

bool has_port(const std::vector<ofproto::PortInfo>& ports, std::uint32_t port_no) {
  return std::any_of(ports.begin(), ports.end(),
                     [&](const ofproto::PortInfo& p) { return p.ofport == port_no; });
}

// One port's queues (there are none): queue ALL lists nothing, any one queue is unknown.
std::optional<OfError> port_queues(std::uint32_t queue_id) {
  if (queue_id == kQueueAll) return std::nullopt;
  return make_error(ErrType::kQueueOpFailed, kQofcBadQueue);
}

// ANY: fine if one port answers; another port: it must exist, then its queues.
std::optional<OfError> queues(const std::vector<ofproto::PortInfo>& ports, std::uint32_t port_no,
                              std::uint32_t queue_id) {
  if (port_no == openflow::port::kAny) {
    if (ports.empty()) return make_error(ErrType::kQueueOpFailed, kQofcBadQueue);
    return port_queues(queue_id);
  }
  if (!has_port(ports, port_no)) return make_error(ErrType::kQueueOpFailed, kQofcBadPort);
  return port_queues(queue_id);
}

}  // namespace

std::optional<OfError> check_table_mod(const openflow::TableMod& tm) {
  if (tm.table_id != kTableAll && tm.table_id >= ofproto::kNumTables)
    return make_error(ErrType::kTableModFailed, kTmfcBadTable);
  return std::nullopt;
}

std::optional<OfError> check_meter_mod(const openflow::MeterMod& mm) {
  if (mm.command != kMeterAdd && mm.command != kMeterModify && mm.command != kMeterDelete)
    return make_error(ErrType::kMeterModFailed, kMmfcBadCommand);
  if (mm.command == kMeterDelete) return std::nullopt;  // there is nothing to delete
  if ((mm.flags & kMeterKbps) && (mm.flags & kMeterPktps))
    return make_error(ErrType::kMeterModFailed, kMmfcBadFlags);
  return make_error(ErrType::kMeterModFailed, kMmfcInvalidMeter);  // max_meter is 0
}

std::optional<OfError> check_meter_request(std::uint32_t meter_id) {
  if (meter_id == kMeterAll) return std::nullopt;
  return make_error(ErrType::kMeterModFailed, kMmfcUnknownMeter);
}

std::optional<OfError> check_queue_stats(const std::vector<ofproto::PortInfo>& ports,
                                         const openflow::QueueStatsRequest& r) {
  if (auto e = check_port_range(r.port_no)) return e;
  return queues(ports, r.port_no, r.queue_id);
}

std::optional<OfError> check_queue_get_config(const std::vector<ofproto::PortInfo>& ports,
                                              std::uint32_t port_no) {
  if (auto e = check_port_range(port_no)) return e;
  // Open vSwitch takes no reserved port but ANY here (not even LOCAL).
  if (port_no != openflow::port::kAny && port_no >= kOvsPortMax)
    return make_error(ErrType::kQueueOpFailed, kQofcBadPort);
  return queues(ports, port_no, kQueueAll);
}

}  // namespace vsw::ofswitch
