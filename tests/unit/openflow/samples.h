// Sample messages: at least one of every OpenFlow 1.3 message type and multipart body, with
// non-default values in every field. Shared by the round-trip tests, the tshark pcap writer,
// the fuzz seed corpus and the interop peer.
#pragma once

#include <string>
#include <vector>

#include "openflow/codec.h"

namespace vsw::openflow::testing {

struct Sample {
  std::string name;
  Message msg;
};

std::vector<Sample> samples();

// A flow with an NSX-like match (10 OXM fields) and 4 actions; `i` varies the values.
FlowMod nsx_flow_mod(uint32_t i);
FlowStats nsx_flow_stats(uint32_t i);
// Table features as a small switch would advertise them.
TableFeatures sample_table_features(uint8_t table_id);
Port sample_port(uint32_t no, const std::string& name);

}  // namespace vsw::openflow::testing
