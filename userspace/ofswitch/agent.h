// Agent: what one bridge answers to the OpenFlow messages its controllers send.
//
// What? handle() takes one decoded message from one connection (HELLO and ECHO are already
// dealt with by openflow::Connection) and sends the replies through the given function:
// FEATURES_REPLY (the bridge's datapath id, 255 tables, no buffers, FLOW_STATS and
// TABLE_STATS), GET_CONFIG_REPLY/SET_CONFIG (per connection: flags and miss_send_len),
// BARRIER_REPLY, and the multipart replies DESC, FLOW, AGGREGATE, TABLE, TABLE_FEATURES and
// PORT_DESC.
// FLOW_MOD goes into the bridge's tables (flow_mod.h); everything not implemented yet is
// refused with the spec's error (BAD_REQUEST/BAD_TYPE, BAD_MULTIPART), and an error never
// ends the connection.
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

#include <cstdint>
#include <functional>
#include <string>

#include "ofproto/clock.h"
#include "ofproto/ofproto.h"
#include "openflow/codec.h"

namespace vsw::ofswitch {

// One connection's switch configuration (SET_CONFIG).
struct Session {
  std::uint16_t config_flags = 0;     // OFPC_FRAG_*: only FRAG_NORMAL (0) is kept
  std::uint16_t miss_send_len = 128;  // OFPCML_DEFAULT
};

class Agent {
 public:
  struct Hooks {
    std::function<void()> want_flush;     // call flush() soon (empty: publish at once)
    std::function<void()> rules_changed;  // after a publish with changes
  };
  using SendFn = std::function<void(openflow::Bytes)>;

  Agent(ofproto::Ofproto& ofproto, std::string name, Hooks hooks,
        ofproto::Clock clock = ofproto::steady_ms);

  void set_datapath_id(std::uint64_t dpid) { dpid_ = dpid; }
  void set_want_flush(std::function<void()> fn) { hooks_.want_flush = std::move(fn); }
  [[nodiscard]] std::uint64_t datapath_id() const { return dpid_; }
  [[nodiscard]] const std::string& name() const { return name_; }

  void handle(Session& session, const openflow::Message& m, const SendFn& send);
  // Publishes staged rule changes (no-op if none).
  void flush();
  [[nodiscard]] std::uint64_t flow_mods() const { return flow_mods_; }
  [[nodiscard]] std::uint64_t errors_sent() const { return errors_; }

 private:
  void flow_mod(const openflow::Message& m, const SendFn& send);
  void multipart(const openflow::Message& m, const SendFn& send);
  void error(const openflow::Message& m, openflow::OfError e, const SendFn& send);
  [[nodiscard]] openflow::PortDescReply port_desc() const;

  ofproto::Ofproto& ofproto_;
  std::string name_;
  Hooks hooks_;
  ofproto::Clock clock_;
  std::uint64_t dpid_ = 0;
  bool flush_pending_ = false;
  std::uint64_t flow_mods_ = 0, errors_ = 0;
};

// The datapath id of a bridge configured without one: 48 bits from a hash of its name,
// with the locally-administered bit set (as a derived MAC would have).
std::uint64_t derived_datapath_id(const std::string& bridge);

}  // namespace vsw::ofswitch
