// ConnMgr: one bridge's OpenFlow connections, made from its configured controller targets.
//
// Targets. set_targets() reconciles the running set with the configuration: a target no
// longer listed is stopped (its listener closed, its connector stopped, its connections
// closed), a new one is started, the rest keep their connections.
//   tcp:IP[:PORT]      active: openflow::Connector (reconnects with backoff 1 s .. 8 s)
//   ptcp:[PORT][:IP]   passive: openflow::Listener, any number of peers
//   punix:PATH         passive, mode 0600
//   unix:PATH          accepted by the configuration, not implemented: state "unsupported"
// A target that cannot start (port in use, bad address) keeps its error as its state and
// is retried on the next set_targets().
//
// Controllers and fail mode. Every connection of a configured target, active or passive,
// is a controller connection (Open vSwitch's "primary" connections); a listener with no
// peer is not "a controller connected". set_service(PATH) adds the bridge's service socket
// (punix, like Open vSwitch's BR.mgmt) for tools such as ovs-ofctl: its connections are
// never controllers, so dumping flows does not take a standalone bridge out of NORMAL.
// on_controller_change(bool) fires when the number of controller connections goes from 0
// to 1 or back (the bridge drops or restores its fail-open NORMAL rule). It does not fire
// from the destructor.
//
// Every connection's messages go to the Agent with the connection's own Session (a service
// connection's starts with miss_send_len 0: no asynchronous messages until it asks).
// packet_in() fans a packet for the controllers out to the connections that want it. The
// agent's batched publication is flushed by a 10 ms timer, armed once per batch rather than
// per FLOW_MOD (and on barriers and stats).
//
// Rule timeouts and FLOW_REMOVED. Every Options::expire_every (1 s, as Open vSwitch's
// ofproto_run) expire() removes the rules whose idle or hard timeout passed
// (ofproto::Tables::expire()) and publishes at once (Agent::flush(): the revalidators then
// delete the rules' megaflows). Rules with OFPFF_SEND_FLOW_REM removed that way or by a
// FLOW_MOD delete sit in the tables' removal log; Options::removed_delay (100 ms) after one
// is seen there, send_removed() sends their FLOW_REMOVED to every negotiated connection
// that wants it (flow_removed.h). The delay lets the revalidators, woken by the
// publication, credit the deleted megaflows' last counters to the rules first.
//
// Roles (roles.h). The agent answers ROLE_REQUEST and refuses a slave's modifying requests;
// after a connection became MASTER the ConnMgr turns every other MASTER connection of the
// bridge (controllers and service alike) into a SLAVE. status() reports each target's roles.
//
// PORT_STATUS (port_status.h). ports_changed() compares the agent's PORT_DESC with what was
// last reported and sends ADD/DELETE/MODIFY to the connections that want them. The bridge
// calls it after it changed the port set or a link went up or down; the ConnMgr calls it
// itself after every PORT_MOD, leaving out the connection that sent it (OpenFlow before 1.5
// expects that controller to know; Open vSwitch does the same). A PORT_MOD implementation
// only has to make Agent::port_desc() show the port's new config.
//
// Single-threaded: everything runs on the io_context's thread (the tables' writer).
#pragma once

#include <boost/asio.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ofswitch/agent.h"
#include "openflow/listener.h"

namespace vsw::ofswitch {

struct TargetStatus {
  std::string target;
  bool connected = false;  // at least one negotiated connection
  std::string state;       // "connected", "connecting", "backoff", "listening", "listening (N
                           // connected)", an error
  unsigned connections = 0;
  std::string role;  // the negotiated connections' roles ("master", "slave,equal"), "" if none
};

class ConnMgr {
 public:
  struct Options {
    openflow::ConnectionOptions connection;
    openflow::Backoff backoff;
    std::chrono::milliseconds flush_delay{10};
    std::chrono::milliseconds expire_every{1000};  // 0: no timer (tests call expire())
    std::chrono::milliseconds removed_delay{100};  // 0: no timer (tests call send_removed())
  };
  using ControllerFn = std::function<void(bool any_connected)>;

  ConnMgr(boost::asio::io_context& io, Agent& agent, Options options, ControllerFn on_change);
  ConnMgr(boost::asio::io_context& io, Agent& agent, ControllerFn on_change)
      : ConnMgr(io, agent, Options{}, std::move(on_change)) {}
  ~ConnMgr();
  ConnMgr(const ConnMgr&) = delete;
  ConnMgr& operator=(const ConnMgr&) = delete;

  void set_targets(const std::vector<std::string>& targets);
  // Listens on punix:PATH for service connections (see above); "" closes it. Returns the
  // error if the socket cannot be created (the bridge works without it).
  std::error_code set_service(const std::string& path);
  [[nodiscard]] std::vector<TargetStatus> status() const;
  [[nodiscard]] bool controller_connected() const { return n_controllers_ > 0; }
  // The bound TCP port of a ptcp target (0 if none): tests listen on port 0.
  [[nodiscard]] std::uint16_t port(const std::string& target) const;
  // Flush the agent's staged changes now (the timer does this on its own).
  void flush() { agent_.flush(); }
  // Sends the PACKET_IN for p to every negotiated connection that wants it (Agent::
  // packet_in() decides per connection; a service connection only if it asked). A
  // connection with kPacketInBacklog messages still unwritten misses it (counted), so a
  // slow controller cannot make the daemon's memory grow without bound.
  void packet_in(const ofproto::ControllerPacket& p);
  static constexpr std::size_t kPacketInBacklog = 100;
  // Removes and publishes the rules whose timeouts passed (the timer calls this); returns
  // how many.
  std::size_t expire();
  // Sends FLOW_REMOVED for every entry of the tables' removal log (publishing first);
  // returns how many messages went out.
  std::size_t send_removed();
  [[nodiscard]] std::uint64_t flow_removed_sent() const { return flow_removed_sent_; }
  // Sends PORT_STATUS for every port added, deleted or modified since the last call (see
  // above), to every negotiated connection but source; returns how many messages went out.
  std::size_t ports_changed(const openflow::Connection* source = nullptr);
  [[nodiscard]] std::uint64_t port_status_sent() const { return port_status_sent_; }
  [[nodiscard]] std::uint64_t packet_ins_congested() const { return packet_ins_congested_; }

 private:
  struct Peer {
    std::shared_ptr<openflow::Connection> conn;
    Session session;
  };
  struct Entry {
    std::string target;
    bool active = false;     // tcp: (a connector) rather than a listener
    bool controller = true;  // its connections count as controllers (not the service)
    std::unique_ptr<openflow::Listener> listener;
    std::unique_ptr<openflow::Connector> connector;
    std::map<openflow::Connection*, Peer> peers;
    std::string error;  // why it is not running
  };

  std::error_code start(Entry& e);
  void stop(Entry& e);
  std::shared_ptr<openflow::Connection> make_connection(Entry& e, openflow::Socket socket);
  void closed(Entry& e, openflow::Connection& c);
  // Every MASTER connection other than keep's becomes a SLAVE.
  void demote_masters(const Session& keep);
  // f(entry, peer) for every connection, the targets' then the service's.
  template <class F>
  void for_each_peer(F f);
  void schedule_flush();
  void schedule_expire();
  // Arms the removed_delay timer if the removal log has entries.
  void note_removed();

  boost::asio::io_context& io_;
  Agent& agent_;
  Options options_;
  ControllerFn on_change_;
  // Entries live in unique_ptrs: connection callbacks hold their address.
  std::map<std::string, std::unique_ptr<Entry>> entries_;
  std::unique_ptr<Entry> service_;  // the service socket, apart from the targets
  unsigned n_controllers_ = 0;
  std::uint64_t packet_ins_congested_ = 0;
  bool stopping_ = false;
  std::uint64_t flow_removed_sent_ = 0;
  std::uint64_t port_status_sent_ = 0;
  std::map<std::uint32_t, openflow::Port> known_ports_;  // as last reported (port_status.h)
  boost::asio::steady_timer flush_timer_;
  bool flush_armed_ = false;  // flush_timer_ is running (armed once, see schedule_flush())
  boost::asio::steady_timer expire_timer_;
  boost::asio::steady_timer removed_timer_;
  bool removed_armed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vsw::ofswitch
