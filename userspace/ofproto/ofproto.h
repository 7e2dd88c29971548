// One bridge's OpenFlow switch: its tables, ports, fail mode and MAC table, and the
// translate() entry point the upcall handlers and revalidators call.
//
// Threads. One writer thread (the daemon's control thread) calls set_ports(),
// set_fail_mode() and changes tables() (then tables().publish()). Any number of handler
// and revalidator threads call translate() concurrently with it and with each other;
// translate() never takes a lock the writer holds for long: it reads published snapshots
// (tables: versioned classifiers; ports: an immutable PortTable swapped atomically), and
// the MAC table has its own reader/writer lock. A translation that overlaps a table
// publish is retried, so it sees exactly one version of every table; if publishes keep
// overlapping it for a long time, the last attempt is returned with stable = false (use
// its actions for the packet, do not install its megaflow).
//
// After a change the upcall layer must fix the megaflows it makes wrong:
//  - a table publish or set_ports()/set_fail_mode(): any flow may be affected;
//  - a MAC change: only flows whose XlateResult::tags hold one of the changed tags
//    (translate()'s `changed`, MacLearning::expire(), set_ports()' `flushed`).
// To keep the MAC entries of sources whose traffic runs from cached megaflows alive,
// revalidators should re-translate with may_learn = true the flows that saw packets since
// the last pass (Open vSwitch does the same from its flow stats).
#pragma once

#include <linux/types.h>
#include <vsw.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "classifier/classifier.h"
#include "ofproto/clock.h"
#include "ofproto/groups.h"
#include "ofproto/mac_learning.h"
#include "ofproto/ports.h"
#include "ofproto/retire.h"
#include "ofproto/tables.h"
#include "ofproto/xlate.h"
#include "util/result.h"

namespace vsw::ofproto {

// standalone: table 0 holds "priority=0, actions=NORMAL" (a learning switch) while no
// controller is connected; secure: no implied rule, unmatched packets are dropped.
enum class FailMode : std::uint8_t { kStandalone, kSecure };

class Ofproto {
 public:
  struct Options {
    std::size_t mac_table_size = 8192;
    std::uint32_t mac_aging_s = 300;
    FailMode fail_mode = FailMode::kStandalone;
    Clock clock;  // empty: steady clock (tests inject one)
    classifier::Config classifier;
  };
  struct Stats {
    std::uint64_t retries = 0;   // translations started over after a table publish
    std::uint64_t unstable = 0;  // translations returned with stable = false
  };

  explicit Ofproto(const Options& o);
  Ofproto() : Ofproto(Options{}) {}
  ~Ofproto();
  Ofproto(const Ofproto&) = delete;
  Ofproto& operator=(const Ofproto&) = delete;

  // ---- Writer thread. ----

  // Replaces the port list (PortTable::build() checks it). MAC entries of ports that are
  // gone or whose VLAN role changed are flushed; their tags go to *flushed. Never waits
  // for translations: the old list is freed by a later call or reclaim(). (A translation
  // still on the old list may learn once more on a port just removed or re-tagged; such
  // an entry is never used to forward, as its port no longer carries the VLAN, and ages
  // out.)
  // Each port's PortInfo::config is the one set_port_config() gave its ofport and name (0
  // for a port new to the list); a port that leaves the list forgets its config.
  Result<void> set_ports(std::vector<PortInfo> ports, std::vector<MacTag>* flushed = nullptr);
  // PORT_MOD: sets the OpenFlow config bits (port_config) of the port with this ofport and
  // publishes a new port snapshot; false if there is no such port. Every cached megaflow may
  // be affected (the caller revalidates them all).
  bool set_port_config(std::uint32_t ofport, std::uint32_t config);
  // Installs or removes the implied rule (and publishes the tables).
  void set_fail_mode(FailMode m);
  // Whether a controller is connected: a standalone bridge drops its implied NORMAL rule
  // while one is (table-miss then drops, as OpenFlow 1.3 says) and restores it when the
  // last one goes, unless table 0 holds a controller's own priority-0 catch-all rule
  // (publishes the tables).
  void set_controller_connected(bool connected);
  [[nodiscard]] bool controller_connected() const { return controller_connected_; }
  [[nodiscard]] FailMode fail_mode() const { return fail_mode_; }
  [[nodiscard]] const std::vector<PortInfo>& ports() const { return port_infos_; }
  // Frees retired rules and port lists no translation can still see (never waits).
  void reclaim();

  Tables& tables() { return tables_; }
  [[nodiscard]] const Tables& tables() const { return tables_; }
  MacLearning& macs() { return macs_; }
  // The group table (groups.h): change, then groups().publish().
  GroupTable& groups() { return groups_; }
  [[nodiscard]] const GroupTable& groups() const { return groups_; }
  [[nodiscard]] const MacLearning& macs() const { return macs_; }

  // ---- Any thread. ----

  // Translates a packet key (from an upcall or a cached megaflow). may_learn = false for a
  // revalidation that must not change the MAC table. `changed` (if not null) receives the
  // tags of MAC entries this call learned new, moved or evicted. Must not be called inside
  // a classifier::Epoch::ReadGuard. `observer` (trace.h) watches each attempt.
  XlateResult translate(const vsw_flow_key& key, bool may_learn,
                        std::vector<MacTag>* changed = nullptr, XlateObserver* observer = nullptr);
  // A PACKET_OUT's action list on the packet `key` describes (xlate_actions()), with the
  // same consistency as translate(). key.in_port may be kNoInPort.
  XlateResult translate_actions(const vsw_flow_key& key,
                                const std::vector<openflow::Action>& actions, bool may_learn,
                                std::vector<MacTag>* changed = nullptr);
  [[nodiscard]] Stats stats() const;

 private:
  Tables tables_;
  MacLearning macs_;
  GroupTable groups_;
  void update_implied_rule();
  // The retry loop of translate(): run(ctx) until it saw one version of every table.
  template <class Run>
  XlateResult consistent(bool may_learn, std::vector<MacTag>* changed, XlateObserver* observer,
                         const Run& run);

  FailMode fail_mode_ = FailMode::kSecure;
  bool controller_connected_ = false;
  std::vector<PortInfo> port_infos_;
  void publish_ports(std::shared_ptr<const PortTable> next);
  std::shared_ptr<const PortTable> ports_owned_;  // what ports_ points to
  std::atomic<const PortTable*> ports_{nullptr};
  RetireList ports_retired_;
  std::atomic<std::uint64_t> retries_{0}, unstable_{0};
};

}  // namespace vsw::ofproto
