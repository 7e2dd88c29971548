// vsw-dpctl top: the busiest megaflows of a datapath, like ovs-dpctl-top.
//
// Every interval `top` takes a Snapshot (the datapath's counters from dp_get and every
// flow from a dump) and rates each flow by the difference with the previous snapshot:
//  - flows are keyed by their match (key and mask), as the kernel identifies them;
//  - a flow absent from the previous dump is rated from zero, and so is one whose
//    counters went backwards (cleared by mod-flow --clear, or deleted and installed
//    again between the dumps);
//  - rates divide by the time measured between the two dumps, not the nominal interval;
//  - the datapath's hit/missed/lost counters are rated the same way.
// Rows are sorted by packets/s or bytes/s, descending; ties go to the other rate, then
// the larger total, then dump order, so the same snapshots always print the same table.
//
// The pure part (parse_options, compute, format_table) does no I/O so the unit tests can
// feed it hand-made snapshots; cmd_top() is the verb, which takes its clock and its way of
// waiting from Context::env (dpctl.h) and, interactively, watches the terminal for q and
// SIGINT.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cli/dpctl.h"
#include "dpif/dpif.h"

namespace vsw::cli {

// The `top` verb (see the verb table in dpctl.cpp).
int cmd_top(Context& c, const std::vector<std::string>& args);

namespace top {

enum class SortKey { kPackets, kBytes };

struct Options {
  std::string dp;
  bool once = false;                         // --once: two dumps, one table, exit
  std::chrono::milliseconds interval{1000};  // --interval SECS (0.1 to 3600)
  SortKey sort = SortKey::kPackets;          // --sort packets|bytes
  std::size_t limit = 20;                    // --limit N (1 to 1000000): rows shown
};

// From the verb's arguments and Context::options. Errors are one line quoting the text.
Result<Options> parse_options(const std::vector<std::string>& args,
                              const std::map<std::string, std::string>& options);

struct Snapshot {
  Environment::Clock::time_point when{};
  vsw_dp_stats stats{};
  std::vector<dpif::FlowEntry> flows;  // in dump order
};

// dp_get and a flow dump of `dp`, stamped with now() taken before them.
Result<Snapshot> take_snapshot(dpif::Dpif& d, std::string_view dp,
                               const std::function<Environment::Clock::time_point()>& now);

struct FlowRate {
  dpif::FlowEntry flow;  // as in the newer snapshot (totals, actions)
  double packets_per_s = 0;
  double bytes_per_s = 0;
};

struct Table {
  double seconds = 0;                                      // between the two snapshots
  std::size_t flows = 0;                                   // in the newer dump
  double hit_per_s = 0, missed_per_s = 0, lost_per_s = 0;  // datapath lookups
  double packets_per_s = 0, bytes_per_s = 0;               // summed over every flow
  std::vector<FlowRate> rows;                              // the busiest `limit` flows, sorted
};

Table compute(const Snapshot& prev, const Snapshot& cur, SortKey sort, std::size_t limit);

// The table as text, ending in a newline. width > 0 cuts each flow row to that many
// columns (the interactive view, so a redraw never scrolls sideways).
std::string format_table(const Options& o, const Table& t, std::size_t width = 0);

}  // namespace top
}  // namespace vsw::cli
