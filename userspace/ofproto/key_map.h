// One key vocabulary: the kernel's struct vsw_flow_key, the classifier's FlowKey and
// OpenFlow's OXM fields, mapped onto each other by one table (key_map.cpp, kRows).
//
// What? Each row of the table is a slice of one classifier field (a run of its bits) and
// says where the same bits live in the kernel key (byte offset, size, byte order, bit
// position) and which OXM fields match them (with the byte offset into the OXM value for
// the two halves of an IPv6 address). From that one table:
//   to_classifier()     kernel key -> classifier key (what a table lookup classifies);
//   to_datapath_mask()  classifier wildcards (the bits lookups consulted) -> a mask over
//                       the kernel key, i.e. the megaflow's mask;
//   from_oxm()          an OpenFlow match -> a classifier match (value + mask);
//   set_oxm()           a set_field value -> written into a kernel key (translation).
// A field with no kernel counterpart (metadata, registers) lives only in the pipeline:
// to_classifier() leaves it alone and to_datapath_mask() drops its bits, which is right
// because its value is always derived from bits already in the mask.
//
// Ports. OpenFlow port numbers equal datapath port numbers (1..1023); the bridge's local
// port is OFPP_LOCAL in OpenFlow and port 0 in the datapath. The in_port row converts,
// and a wildcard on any in_port bit becomes an exact in_port in the datapath mask.
//
// Adding a field: one row in kRows (classifier field, kernel field, OXM ids). Nothing
// else in ofproto names field positions.
#pragma once

#include <linux/types.h>
#include <vsw.h>

#include <cstdint>
#include <optional>

#include "classifier/flow_key.h"
#include "dpif/flow.h"
#include "openflow/oxm.h"
#include "util/result.h"

namespace vsw::ofproto {

// The classifier key of a packet. Pipeline-only fields (metadata, registers) are zero.
classifier::FlowKey to_classifier(const vsw_flow_key& key);
// Overwrites only the fields that come from the kernel key; pipeline fields are kept.
void update_classifier(const vsw_flow_key& key, classifier::FlowKey& out);

// The kernel-key mask of the bits wc names (pipeline-only bits are dropped).
vsw_flow_key to_datapath_mask(const classifier::FlowKey& wc);
// The megaflow key & mask (normalized: no key bits outside the mask, zero padding).
dpif::Match megaflow(const vsw_flow_key& key, const vsw_flow_key& mask);
dpif::Match megaflow(const vsw_flow_key& key, const classifier::FlowKey& wc);

// An OpenFlow match as a classifier match. EINVAL if validate_match() refuses it (duplicate
// field, missing prerequisite), EOPNOTSUPP for a field the classifier cannot match yet.
Result<classifier::Match> from_oxm(const openflow::Match& m);
// Whether from_oxm() can map this field.
bool oxm_supported(openflow::OxmId id);

// Writes f's value into key (a set_field). EOPNOTSUPP if the field has no kernel
// counterpart. Does not check prerequisites or whether the datapath can rewrite it.
Result<void> set_oxm(vsw_flow_key& key, const openflow::OxmField& f);

// Port numbers (see above). dp_port_from_of() is empty for reserved ports other than LOCAL
// and for numbers the datapath cannot have.
std::uint32_t of_port_from_dp(std::uint32_t dp_port);
std::optional<std::uint32_t> dp_port_from_of(std::uint32_t of_port);

// Bitwise helpers over whole kernel keys.
void mask_or(vsw_flow_key& into, const vsw_flow_key& m);
bool mask_is_zero(const vsw_flow_key& m);

}  // namespace vsw::ofproto
