// Trace and dump-flows replies. See inspect.h.
#include "ofswitch/inspect.h"

#include "dpif/flow_text.h"
#include "ofproto/trace.h"
#include "ofswitch/flow_mod.h"
#include "openflow/print_ofctl.h"

namespace vsw::ofswitch {

Result<void> trace_reply(ofproto::Ofproto& of, std::string_view flow, config::TraceReply& out) {
  auto key = ofproto::parse_trace_flow(flow, of.ports());
  if (!key) return key.error();
  const ofproto::Trace t = ofproto::trace(of, *key);
  out.set_flow(t.flow);
  for (const ofproto::TraceStep& s : t.steps) {
    auto* tt = out.add_tables();
    tt->set_table(s.table_id);
    tt->set_matched(s.matched);
    tt->set_cookie(s.cookie);
    tt->set_priority(s.priority);
    tt->set_match(s.match);
    tt->set_actions(s.instructions);
    for (const std::string& n : s.notes) tt->add_notes(n);
  }
  out.set_action_set_ran(t.action_set_ran);
  out.set_action_set(t.action_set);
  for (const std::string& n : t.action_set_notes) out.add_action_set_notes(n);
  out.set_final_flow(t.final_flow);
  out.set_datapath_actions(dpif::format_actions(t.result.actions));
  out.set_megaflow(dpif::format_match(t.result.megaflow));
  out.set_drop_reason(t.result.reason);
  out.set_stable(t.result.stable);
  return {};
}

void dump_flows_reply(const ofproto::Tables& tables, std::int64_t now_ms,
                      config::DumpFlowsReply& out) {
  openflow::OfError ignored{};
  const openflow::FlowStatsRequest all;  // every table, every rule
  for (const openflow::FlowStats& fs : flow_stats(tables, all, now_ms, &ignored)) {
    auto* r = out.add_flows();
    r->set_table(fs.table_id);
    r->set_cookie(fs.cookie);
    r->set_priority(fs.priority);
    r->set_duration_ms(std::uint64_t{fs.duration_sec} * 1000 + fs.duration_nsec / 1'000'000);
    r->set_n_packets(fs.packet_count);
    r->set_n_bytes(fs.byte_count);
    r->set_idle_timeout(fs.idle_timeout);
    r->set_hard_timeout(fs.hard_timeout);
    r->set_flags(fs.flags);
    r->set_match(openflow::ofctl_match(fs.match));
    r->set_actions(openflow::ofctl_instructions(fs.instructions));
    r->set_text(openflow::ofctl_flow_stats(fs));
  }
}

}  // namespace vsw::ofswitch
