// The TABLE_FEATURES reply: what each of a bridge's 255 tables can match, which instructions
// and actions translation performs, and where goto_table may go. Derived from ofproto's key
// map (oxm_supported) and from what xlate implements, so it stays true as they grow only if
// the lists in table_features.cpp are kept in step with xlate.cpp.
#pragma once

#include "openflow/messages.h"

namespace vsw::ofswitch {

openflow::TableFeaturesReply table_features();

}  // namespace vsw::ofswitch
