// The answers of a switch without meters or queues, as Open vSwitch 3.1 gives them
// (ofproto/ofproto.c: handle_table_mod, handle_meter_mod, handle_meter_request,
// handle_queue_stats_request, handle_queue_get_config_request). Each check returns the
// error to send, or nothing when the request succeeds; the caller then sends the (empty)
// reply, or nothing for TABLE_MOD and a METER_MOD delete.
//
//  - TABLE_MOD: OpenFlow 1.3 table config is deprecated; any table (0..254) or ALL is accepted
//    and changes nothing. A table past the bridge's tables: TABLE_MOD_FAILED/BAD_TABLE (none
//    with 255 tables, as in Open vSwitch).
//  - METER_MOD: a command other than ADD/MODIFY/DELETE: BAD_COMMAND; ADD or MODIFY with both
//    KBPS and PKTPS: BAD_FLAGS; any other ADD or MODIFY: INVALID_METER (max_meter is 0); a
//    DELETE deletes nothing and succeeds.
//  - METER / METER_CONFIG stats: meter ALL: an empty reply; any one meter: UNKNOWN_METER.
//  - QUEUE stats and QUEUE_GET_CONFIG: the port as Open vSwitch decodes an OpenFlow 1.1+ port
//    (0..0xfeff or 0xffffff00.. else BAD_ACTION/BAD_OUT_PORT, its quirk); then ANY or an
//    existing port with queue ALL: an empty reply; a port the bridge lacks (for
//    QUEUE_GET_CONFIG also any reserved port but ANY, LOCAL included): QUEUE_OP_FAILED/BAD_PORT;
//    a single queue: QUEUE_OP_FAILED/BAD_QUEUE.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ofproto/ports.h"
#include "openflow/messages.h"

namespace vsw::ofswitch {

std::optional<openflow::OfError> check_table_mod(const openflow::TableMod& tm);
std::optional<openflow::OfError> check_meter_mod(const openflow::MeterMod& mm);
// METER and METER_CONFIG requests.
std::optional<openflow::OfError> check_meter_request(std::uint32_t meter_id);
std::optional<openflow::OfError> check_queue_stats(const std::vector<ofproto::PortInfo>& ports,
                                                   const openflow::QueueStatsRequest& r);
std::optional<openflow::OfError> check_queue_get_config(const std::vector<ofproto::PortInfo>& ports,
                                                        std::uint32_t port_no);

}  // namespace vsw::ofswitch
