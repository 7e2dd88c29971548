// Agent: what one bridge answers to the OpenFlow messages its controllers send.
//
// What? handle() takes one decoded message from one connection (HELLO and ECHO are already
// dealt with by openflow::Connection) and sends the replies through the given function:
// FEATURES_REPLY (the bridge's datapath id, 255 tables, no buffers, FLOW_STATS and
// TABLE_STATS), GET_CONFIG_REPLY/SET_CONFIG (per connection: flags and miss_send_len),
// BARRIER_REPLY, GET_ASYNC_REPLY/SET_ASYNC (per connection), ROLE_REPLY (roles.h: the role
// and the bridge's generation id; a slave's modifying requests are refused with IS_SLAVE
// before anything else), and the multipart replies DESC,
// FLOW, AGGREGATE, TABLE, TABLE_FEATURES, PORT_DESC and PORT_STATS (from Hooks::port_stats:
// the datapath's counters; errors, frame, overrun, CRC and collision counts are not kept and
// are all ones, as the spec asks for unsupported counters). TABLE_MOD, METER_MOD, METER_FEATURES,
// METER, METER_CONFIG, QUEUE and QUEUE_GET_CONFIG get Open vSwitch's answers for a switch
// without meters or queues (no_qos.h). packet_in() builds the PACKET_IN a
// connection gets for a packet sent to the controllers (connmgr fans it out).
// FLOW_MOD goes into the bridge's tables (flow_mod.h), PORT_MOD sets a port's config bits
// (port_mod.h; the revalidators then re-translate every cached megaflow); everything not
// implemented yet is refused with the spec's error (BAD_REQUEST/BAD_TYPE, BAD_MULTIPART), and an
// error never ends the connection.
//
// PACKET_OUT (OpenFlow 1.3.5 7.3.7). Checked in Open vSwitch's order: in_port a datapath
// port (1..1023), LOCAL, CONTROLLER or ANY (else BAD_REQUEST/BAD_PORT); buffer_id NO_BUFFER
// (we keep no buffers: BAD_REQUEST/BUFFER_UNKNOWN); the actions as a FLOW_MOD's, plus
// output:TABLE (BAD_ACTION/...); at least an Ethernet header of data (the datapath cannot
// send less: BAD_REQUEST/BAD_PACKET). Then the frame's key (dpif::extract_key, as the
// kernel's execute will see it) goes through ofproto's translate_actions() (output:TABLE
// runs the pipeline; staged rule changes are published first so it sees every FLOW_MOD
// sent before) and Hooks::execute sends the frame with the resulting datapath actions. No
// megaflow is installed. NORMAL learns from a packet-out with a real in_port, as in Open
// vSwitch; the MAC entries it changes go to Hooks::macs_changed. Rules the packet matched
// through output:TABLE are credited with it. A packet the translation drops, or the
// datapath refuses, is counted (packet_out_drops()), never answered with an error (Open
// vSwitch reports neither).
//
// Publication. Rule changes are staged in the tables and published in batches: after a
// change the agent asks its owner for a flush (Hooks::want_flush, e.g. a short timer on the
// io_context, so a burst of FLOW_MODs is one publication), and flush() publishes and tells
// the owner that rules changed (Hooks::rules_changed: the revalidators re-translate the
// cached megaflows). A BARRIER_REQUEST, and any stats request, flushes first, so a barrier
// reply means every change before it applies to new packets. Without want_flush every
// change is published at once.
//
// I/O free (tests drive it with messages); single-threaded: the tables' writer thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dpif/flow.h"
#include "ofproto/clock.h"
#include "ofproto/controller_cookie.h"
#include "ofproto/ofproto.h"
#include "ofswitch/roles.h"
#include "openflow/codec.h"

namespace vsw::ofswitch {

// One connection's switch configuration (SET_CONFIG) and asynchronous-message
// configuration (SET_ASYNC: element 0 applies to the master and equal roles, 1 to slaves;
// bit N of a mask enables reason N), and its controller role (roles.h).
struct Session {
  std::uint16_t config_flags = 0;     // OFPC_FRAG_*: only FRAG_NORMAL (0) is kept
  std::uint16_t miss_send_len = 128;  // OFPCML_DEFAULT
  // A tool on the service socket (BR.mgmt). As in Open vSwitch it gets asynchronous
  // messages only after it asked with a nonzero miss_send_len (starts at 0).
  bool service = false;
  // Open vSwitch's defaults for OpenFlow 1.3: NO_MATCH and ACTION packet-ins, every port
  // status, IDLE/HARD/DELETE/GROUP_DELETE flow-removed, to master/equal; port status only
  // to slaves.
  std::array<std::uint32_t, 2> packet_in_mask{0x3, 0};
  std::array<std::uint32_t, 2> port_status_mask{0x7, 0x7};
  std::array<std::uint32_t, 2> flow_removed_mask{0xf, 0};
  Role role = Role::kEqual;  // ROLE_REQUEST (roles.h)

  // The element of the async masks for the current role.
  [[nodiscard]] std::size_t async_index() const { return role == Role::kSlave ? 1 : 0; }

  static Session for_service() {
    Session s;
    s.miss_send_len = 0;
    s.service = true;
    return s;
  }
};

// One port's datapath counters, for PORT_STATS: the switch's view (rx: into the datapath
// from the port's device; tx: out of it), and when the port was attached (Agent's clock).
struct PortCounters {
  std::uint32_t ofport = 0;  // openflow::port::kLocal for the bridge's own port
  vsw_vport_stats stats{};
  std::int64_t since_ms = 0;
};

class Agent {
 public:
  struct Hooks {
    std::function<void()> want_flush;     // call flush() soon (empty: publish at once)
    std::function<void()> rules_changed;  // after a publish with changes
    // PACKET_OUT: run actions on packet in the datapath; key.in_port is the ingress port
    // (LOCAL for a packet from the controller). Empty: packet-outs are translated only.
    std::function<Result<void>(const vsw_flow_key& key, const dpif::Actions& actions,
                               std::span<const std::uint8_t> packet)>
        execute;
    // MAC entries a packet-out's NORMAL learned, moved or evicted (revalidate their flows).
    std::function<void(const std::vector<ofproto::MacTag>& tags)> macs_changed;
    // PORT_STATS: every attached port's counters (empty function: PORT_STATS refused with
    // BAD_MULTIPART).
    std::function<std::vector<PortCounters>()> port_stats;
    // PORT_MOD's PORT_DOWN: turn the port's interface down or up (port_mod.h; empty: only
    // translation obeys PORT_DOWN).
    std::function<Result<void>(const ofproto::PortInfo& port, bool up)> set_link;
  };
  using SendFn = std::function<void(openflow::Bytes)>;

  Agent(ofproto::Ofproto& ofproto, std::string name, Hooks hooks,
        ofproto::Clock clock = ofproto::steady_ms);

  void set_datapath_id(std::uint64_t dpid) { dpid_ = dpid; }
  void set_want_flush(std::function<void()> fn) { hooks_.want_flush = std::move(fn); }
  // The loaded vsw.ko's VSW_DP_F_* (FEATURES): FLOW_MODs and PACKET_OUTs needing a SET it
  // lacks are refused (flow_mod.h check_datapath_support). Default: everything.
  void set_datapath_features(std::uint32_t features) { dp_features_ = features; }
  [[nodiscard]] std::uint64_t datapath_id() const { return dpid_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  ofproto::Tables& tables() { return ofproto_.tables(); }

  void handle(Session& session, const openflow::Message& m, const SendFn& send);
  // The OFPT_PACKET_IN this session gets for p (xid 0), or nothing when it does not want it:
  // its packet_in_mask for its role lacks the reason, a table miss with miss_send_len 0, or a
  // service connection that never set a miss_send_len. The data is the packet cut to the
  // cookie's max_len (ACTION, INVALID_TTL) or the session's miss_send_len (NO_MATCH); 0xffff
  // (OFPCML_NO_BUFFER) means the whole packet. buffer_id is always NO_BUFFER; the match
  // has in_port (LOCAL for the bridge's port) and metadata when it is not 0.
  [[nodiscard]] std::optional<openflow::Bytes> packet_in(const Session& session,
                                                         const ofproto::ControllerPacket& p);
  // Publishes staged rule changes (no-op if none).
  void flush();
  // The PORT_DESC entries (sorted by port number): also the bodies of PORT_STATUS.
  [[nodiscard]] openflow::PortDescReply port_desc() const;
  // The bridge's generation id (roles.h).
  [[nodiscard]] const Election& election() const { return election_; }
  [[nodiscard]] std::uint64_t flow_mods() const { return flow_mods_; }
  [[nodiscard]] std::uint64_t errors_sent() const { return errors_; }
  [[nodiscard]] std::uint64_t packet_ins_sent() const { return packet_ins_; }
  // Packet-outs accepted; of those, sent to no port (translation dropped or execute failed).
  [[nodiscard]] std::uint64_t packet_outs() const { return packet_outs_; }
  [[nodiscard]] std::uint64_t packet_out_drops() const { return packet_out_drops_; }

 private:
  void flow_mod(const openflow::Message& m, const SendFn& send);
  void multipart(const openflow::Message& m, const SendFn& send);
  void packet_out(const openflow::Message& m, const SendFn& send);
  void port_mod(const openflow::Message& m, const SendFn& send);  // in port_mod.cpp
  void error(const openflow::Message& m, openflow::OfError e, const SendFn& send);
  [[nodiscard]] openflow::PortStatsReply port_stats(std::uint32_t port_no) const;

  ofproto::Ofproto& ofproto_;
  std::string name_;
  Hooks hooks_;
  ofproto::Clock clock_;
  std::uint64_t dpid_ = 0;
  Election election_;
  std::uint32_t dp_features_ = ~0U;
  bool flush_pending_ = false;
  std::uint64_t flow_mods_ = 0, errors_ = 0, packet_ins_ = 0;
  std::uint64_t packet_outs_ = 0, packet_out_drops_ = 0;
};

// The datapath id of a bridge configured without one: 48 bits from a hash of its name,
// with the locally-administered bit set (as a derived MAC would have).
std::uint64_t derived_datapath_id(const std::string& bridge);

}  // namespace vsw::ofswitch
