// Bridge: one configured bridge made real — a kernel datapath of the same name (its
// internal port, datapath port 0, is the bridge's local netdev), the OpenFlow tables and
// MAC table (Ofproto), and the upcall machinery (Udpif).
//
// Reconciliation. configure() records what the configuration wants and attaches or detaches
// only the ports it changed; reconcile() reads the datapath's ports and makes the kernel
// match the configuration, at open(), when a link it uses() appears, goes or is renamed, and
// every few seconds for anything an event missed: a configured port whose
// interface exists is attached with its ofport as the datapath port number; one whose
// interface is missing stays configured and detached; a datapath port that is not
// configured (left by an earlier run) is detached. Every attached port's upcall pid is
// set to this process's handlers.
//
// Restart. open() reuses a datapath that already exists instead of recreating it, so the
// kernel keeps forwarding from its megaflows while vswd is away; the revalidator then
// adopts the flows its translation agrees with and deletes the rest.
//
// OpenFlow. Each bridge has an ofswitch::Agent (answers its controllers from the Ofproto's
// tables) and an ofswitch::ConnMgr (one connection set per configured controller target,
// reconciled by configure()). Rule changes published by the agent make the revalidator
// re-translate every cached megaflow; a controller connecting or going away (active targets
// only) drops or restores a standalone bridge's fail-open NORMAL rule the same way. Packets
// the tables send to the controllers come from the handlers through a bounded
// upcall::PacketInQueue to this thread, and the ConnMgr sends them as PACKET_INs.
//
// Threads: every method runs on the daemon's main thread (the OpenFlow writer), which also
// runs the io_context the OpenFlow connections live on.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "config/mgmt.pb.h"
#include "config/vsw_config.pb.h"
#include "dpif/dpif.h"
#include "ofproto/ofproto.h"
#include "ofswitch/agent.h"
#include "ofswitch/connmgr.h"
#include "upcall/packet_in_queue.h"
#include "upcall/udpif.h"
#include "util/result.h"
#include "vswd/links.h"

namespace vsw::vswd {

// The daemon-wide effective settings a bridge needs (defaults resolved).
struct BridgeSettings {
  std::uint32_t flow_limit = 200'000;
  std::uint32_t idle_timeout_ms = 10'000;
  std::uint32_t mac_aging_s = 300;
  std::uint32_t mac_table_size = 8192;
  std::uint32_t n_handlers = 0;
  std::uint32_t n_revalidators = 0;
  std::string service_dir;  // where BR.mgmt, the bridge's OpenFlow service socket, goes; "": none
};

class Bridge {
 public:
  Bridge(std::string name, boost::asio::io_context& io, dpif::Dpif& control,
         const LinkMonitor& links, upcall::Udpif::DpifFactory factory);
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Creates (or reuses) the datapath and starts the handlers and revalidator.
  Result<void> open(const config::Bridge& cfg, const BridgeSettings& s);
  // Applies a new configuration of this bridge (ports, fail mode, options).
  void configure(const config::Bridge& cfg, const BridgeSettings& s);
  // Makes the datapath's ports match the configuration and the links that exist.
  void reconcile();
  // Whether any of these interfaces is the bridge's own or one of its configured ports.
  [[nodiscard]] bool uses(const LinkNames& names) const;
  // Link events named these interfaces (some of which it uses()): reconciles, or when
  // only the link states of attached ports can have changed, publishes the ports again
  // without reading the datapath's ports.
  void links_changed(const LinkNames& names);
  // Stops the threads and deletes the datapath (del-br).
  void destroy();

  void status(config::BridgeStatus& out);
  void fdb(config::FdbReply& out);
  // vsw-ctl trace: the packet `flow` describes through the tables, read-only
  // (ofproto/trace.h); EINVAL/ENOENT for a malformed flow or an unknown port.
  Result<void> trace(const std::string& flow, config::TraceReply& out);
  // vsw-ctl dump-flows: every rule with its counters, as the FLOW stats reply has them.
  void dump_flows(config::DumpFlowsReply& out);
  [[nodiscard]] upcall::Counters counters() const;
  // PACKET_INs sent (one per connection), and those a connection's backlog made us skip.
  [[nodiscard]] std::uint64_t packet_ins_sent() const;
  [[nodiscard]] std::uint64_t packet_ins_congested() const;
  // The MAC table's size and event counts (learned, moved, evicted, expired).
  [[nodiscard]] ofproto::MacLearning::Stats mac_stats() const;
  [[nodiscard]] const std::string& name() const { return name_; }
  // Full reconciles (each reads every datapath port back from the kernel) so far.
  [[nodiscard]] std::uint64_t reconciles() const { return reconciles_; }

 private:
  void configure_openflow();
  void set_config(const config::Bridge& cfg);  // cfg_ and link_names_
  // After configure(): attaches the configured ports not attached yet and detaches those no
  // longer configured, trusting attached_ for the rest (no datapath dump).
  void update_ports();
  // Attaches one configured port (its interface must exist); false, with the reason in
  // why_detached_, when it cannot.
  bool attach(const config::Port& p);
  // The upcall netlink pid for a port's misses (0 before the handlers run).
  [[nodiscard]] std::uint32_t upcall_pid(std::uint32_t ofport) const;
  // Gives the Ofproto the configured ports attached at these datapath port numbers (and the
  // local port) with their link states, if that differs from what it has.
  void publish_ports(const std::vector<std::uint32_t>& attached);

  std::string name_;
  boost::asio::io_context& io_;
  dpif::Dpif& control_;
  const LinkMonitor& links_;
  upcall::Udpif::DpifFactory factory_;
  config::Bridge cfg_;
  BridgeSettings settings_;
  std::unique_ptr<ofproto::Ofproto> ofproto_;
  std::unique_ptr<upcall::Udpif> udpif_;
  std::shared_ptr<upcall::PacketInQueue> packet_ins_;  // handlers -> this thread
  // Declared after ofproto_ and udpif_: destroyed first, as they use both.
  std::unique_ptr<ofswitch::Agent> agent_;
  std::unique_ptr<ofswitch::ConnMgr> connmgr_;
  // ofport -> the interface attached there, as last reconciled.
  std::map<std::uint32_t, std::string> attached_;
  // ofport -> when its interface was attached (steady ms; PORT_STATS durations); the local
  // port's entry is the bridge's opening.
  std::map<std::uint32_t, std::int64_t> attached_since_;
  std::map<std::string, std::string> why_detached_;
  std::unordered_set<std::string> link_names_;  // the bridge's and its ports' (uses())
  std::vector<ofproto::PortInfo> ports_;        // as last given to the Ofproto
  bool ports_set_ = false;                      // whether ports_ was ever given
  std::uint64_t reconciles_ = 0;                // reconcile() calls (upcall/show)
};

}  // namespace vsw::vswd
