// The per-bridge OpenFlow agent. See agent.h.
#include "ofswitch/agent.h"

#include <algorithm>
#include <variant>

#include "dpif/packet_key.h"
#include "ofproto/key_map.h"
#include "ofswitch/flow_mod.h"
#include "ofswitch/group_mod.h"
#include "ofswitch/no_qos.h"
#include "ofswitch/table_features.h"
#include "util/log.h"

namespace vsw::ofswitch {
namespace {

using openflow::ErrType;
using openflow::Message;
using openflow::MsgType;

constexpr std::uint16_t kBrcBadType = 1, kBrcBadMultipart = 2, kBrcBufferUnknown = 8,
                        kBrcBadPort = 11, kBrcBadPacket = 12, kTffcEperm = 5;
constexpr std::size_t kEthHlen = 14;
constexpr std::uint32_t kCapFlowStats = 1 << 0, kCapTableStats = 1 << 1, kCapGroupStats = 1 << 3;
constexpr std::uint32_t kPortStateLinkDown = 1 << 0;
constexpr std::uint16_t kFragMask = 3;  // OFPC_FRAG_MASK
// The reasons OpenFlow 1.3 defines, per asynchronous message (SET_ASYNC keeps only these).
constexpr std::uint32_t kPacketInReasons = 0x7, kPortStatusReasons = 0x7, kFlowRemovedReasons = 0xf;
constexpr std::uint16_t kNoBufferLen = 0xffff;  // OFPCML_NO_BUFFER
// Header, the fixed PACKET_IN fields, the largest match we send (in_port + metadata) and
// the 2 pad bytes: what a PACKET_IN costs besides its data, which must keep it under 64 KiB.
constexpr std::size_t kPacketInOverhead = 8 + 16 + 24 + 2;

template <class To, class From>
To async_config(const From& from) {
  To to;
  to.packet_in_mask = from.packet_in_mask;
  to.port_status_mask = from.port_status_mask;
  to.flow_removed_mask = from.flow_removed_mask;
  return to;
}

}  // namespace

std::uint64_t derived_datapath_id(const std::string& bridge) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (const char c : bridge) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  // 48 bits; the first byte (bits 40..47) gets the locally-administered bit, not multicast.
  h &= 0xffffffffffffULL;
  h |= 0x020000000000ULL;
  h &= ~0x010000000000ULL;
  return h;
}

Agent::Agent(ofproto::Ofproto& ofproto, std::string name, Hooks hooks, ofproto::Clock clock)
    : ofproto_(ofproto),
      name_(std::move(name)),
      hooks_(std::move(hooks)),
      clock_(std::move(clock)),
      dpid_(derived_datapath_id(name_)) {}

void Agent::error(const Message& m, openflow::OfError e, const SendFn& send) {
  const openflow::Bytes raw = openflow::encode(m);
  e.data.assign(raw.begin(),
                raw.begin() + static_cast<long>(std::min(raw.size(), openflow::kErrorDataMax)));
  ++errors_;
  send(openflow::encode(openflow::error_reply(e, m.xid)));
}

void Agent::flush() {
  flush_pending_ = false;
  if (!ofproto_.tables().has_staged()) return;
  ofproto_.tables().publish();
  if (hooks_.rules_changed) hooks_.rules_changed();
}

void Agent::handle(Session& session, const Message& m, const SendFn& send) {
  const auto reply = [&](openflow::Body body) {
    send(openflow::encode(Message{openflow::kVersion13, m.xid, std::move(body)}));
  };
  if (auto e = refuse_slave(session, m.type())) return error(m, *e, send);
  switch (m.type()) {
    case MsgType::kFeaturesRequest: {
      openflow::FeaturesReply f;
      f.datapath_id = dpid_;
      f.n_buffers = 0;
      f.n_tables = static_cast<std::uint8_t>(ofproto::kNumTables);
      f.capabilities = kCapFlowStats | kCapTableStats | kCapGroupStats;
      reply(f);
      return;
    }
    case MsgType::kGetConfigRequest:
      reply(openflow::GetConfigReply{session.config_flags, session.miss_send_len});
      return;
    case MsgType::kSetConfig: {
      const auto& c = std::get<openflow::SetConfig>(m.body);
      // A slave's fragment handling is ignored, as in Open vSwitch (roles.h).
      if (session.service || session.role != Role::kSlave)
        session.config_flags = c.flags & kFragMask;
      session.miss_send_len = c.miss_send_len;
      return;
    }
    case MsgType::kGetAsyncRequest:
      reply(async_config<openflow::GetAsyncReply>(session));
      return;
    case MsgType::kSetAsync: {
      const auto& a = std::get<openflow::SetAsync>(m.body);
      for (std::size_t i = 0; i < 2; ++i) {
        session.packet_in_mask[i] = a.packet_in_mask[i] & kPacketInReasons;
        session.port_status_mask[i] = a.port_status_mask[i] & kPortStatusReasons;
        session.flow_removed_mask[i] = a.flow_removed_mask[i] & kFlowRemovedReasons;
      }
      return;
    }
    case MsgType::kRoleRequest: {  // roles.h; the ConnMgr demotes the other masters
      auto r = role_request(session, election_, std::get<openflow::RoleRequest>(m.body));
      if (!r) return error(m, r.error(), send);
      reply(r.value());
      return;
    }
    case MsgType::kBarrierRequest:
      flush();
      reply(openflow::BarrierReply{});
      return;
    case MsgType::kFlowMod:
      flow_mod(m, send);
      return;
    case MsgType::kPacketOut:
      packet_out(m, send);
      return;
    case MsgType::kPortMod:  // port_mod.cpp
      port_mod(m, send);
      return;
    case MsgType::kGroupMod: {  // group_mod.h; the groups publish at once, then the tables
      if (auto e = apply_group_mod(ofproto_, std::get<openflow::GroupMod>(m.body)))
        return error(m, *e, send);
      ofproto_.groups().publish();
      const bool staged = ofproto_.tables().has_staged();  // rules of deleted groups
      flush();
      if (!staged && hooks_.rules_changed) hooks_.rules_changed();
      return;
    }
    case MsgType::kTableMod:  // nothing to configure: see no_qos.h
      if (auto e = check_table_mod(std::get<openflow::TableMod>(m.body))) error(m, *e, send);
      return;
    case MsgType::kMeterMod:
      if (auto e = check_meter_mod(std::get<openflow::MeterMod>(m.body))) error(m, *e, send);
      return;
    case MsgType::kQueueGetConfigRequest: {
      const auto port_no = std::get<openflow::QueueGetConfigRequest>(m.body).port_no;
      if (auto e = check_queue_get_config(ofproto_.ports(), port_no)) return error(m, *e, send);
      reply(openflow::QueueGetConfigReply{port_no, {}});
      return;
    }
    case MsgType::kMultipartRequest:
      flush();
      multipart(m, send);
      return;
    case MsgType::kError:  // the peer's complaint about something we sent: nothing to do
    case MsgType::kEchoReply:
    case MsgType::kHello:
      return;
    default:
      error(m, openflow::make_error(ErrType::kBadRequest, kBrcBadType), send);
      return;
  }
}

std::optional<openflow::Bytes> Agent::packet_in(const Session& session,
                                                const ofproto::ControllerPacket& p) {
  const auto reason = static_cast<std::uint8_t>(p.cookie.reason);
  if (session.service && session.miss_send_len == 0) return std::nullopt;
  if (!(session.packet_in_mask[session.async_index()] & (1U << reason))) return std::nullopt;
  std::size_t max_len = p.cookie.max_len;
  if (p.cookie.reason == ofproto::PacketInReason::kNoMatch) {
    if (session.miss_send_len == 0) return std::nullopt;
    max_len = session.miss_send_len;
  }
  std::size_t len = p.packet.size();
  if (max_len != kNoBufferLen) len = std::min(len, max_len);
  len = std::min(len, std::size_t{0xffff} - kPacketInOverhead);

  openflow::PacketIn pin;
  pin.buffer_id = openflow::kNoBuffer;
  pin.total_len = static_cast<std::uint16_t>(std::min<std::size_t>(p.packet.size(), 0xffff));
  pin.reason = reason;
  pin.table_id = p.cookie.table_id;
  pin.cookie = p.cookie.rule_cookie;
  pin.match.fields.push_back(
      openflow::OxmField::exact(openflow::OxmId::kInPort, ofproto::of_port_from_dp(p.in_port)));
  if (p.cookie.metadata)
    pin.match.fields.push_back(
        openflow::OxmField::exact(openflow::OxmId::kMetadata, p.cookie.metadata));
  pin.data.assign(p.packet.begin(), p.packet.begin() + static_cast<long>(len));
  ++packet_ins_;
  return openflow::encode(Message{openflow::kVersion13, 0, std::move(pin)});
}

void Agent::flow_mod(const Message& m, const SendFn& send) {
  ++flow_mods_;
  if (auto e = apply_flow_mod(ofproto_.tables(), std::get<openflow::FlowMod>(m.body),
                              &ofproto_.groups(), dp_features_)) {
    error(m, *e, send);
    return;
  }
  if (!ofproto_.tables().has_staged()) return;  // e.g. a delete that selected nothing
  if (!hooks_.want_flush) {
    flush();
  } else if (!flush_pending_) {
    flush_pending_ = true;
    hooks_.want_flush();
  }
}

void Agent::packet_out(const Message& m, const SendFn& send) {
  namespace port = openflow::port;
  const auto& po = std::get<openflow::PacketOut>(m.body);
  // The checks, in Open vSwitch's order.
  std::uint32_t in_port = 0;  // the translation's in_port (a datapath port number)
  if (po.in_port >= 1 && po.in_port <= kMaxPort) {
    in_port = po.in_port;
  } else if (po.in_port == port::kLocal) {
    in_port = VSW_PORT_LOCAL;
  } else if (po.in_port == port::kController || po.in_port == port::kAny) {
    in_port = ofproto::kNoInPort;
  } else {
    return error(m, openflow::make_error(ErrType::kBadRequest, kBrcBadPort), send);
  }
  if (po.buffer_id != openflow::kNoBuffer)
    return error(m, openflow::make_error(ErrType::kBadRequest, kBrcBufferUnknown), send);
  if (auto e = check_actions(po.actions, /*packet_out=*/true, &ofproto_.groups()))
    return error(m, *e, send);
  if (auto e = check_datapath_support(po.actions, dp_features_)) return error(m, *e, send);
  if (po.data.size() < kEthHlen)
    return error(m, openflow::make_error(ErrType::kBadRequest, kBrcBadPacket), send);

  ++packet_outs_;
  const bool to_table =
      std::any_of(po.actions.begin(), po.actions.end(), [](const openflow::Action& a) {
        return a.type == openflow::ActionType::kOutput && a.arg == port::kTable;
      });
  if (to_table) flush();  // the pipeline must see every FLOW_MOD sent before
  const std::span<const std::uint8_t> frame(po.data.data(), po.data.size());
  vsw_flow_key key = dpif::extract_key(frame, in_port, dpif::TagMode::kExecuted);
  std::vector<ofproto::MacTag> changed;
  ofproto::XlateResult x = ofproto_.translate_actions(key, po.actions, true, &changed);
  if (!changed.empty() && hooks_.macs_changed) hooks_.macs_changed(changed);
  const std::int64_t now = clock_();
  for (const ofproto::RuleId& r : x.rules) r->credit(1, po.data.size(), now);
  if (x.actions.empty() || !hooks_.execute) {
    if (x.actions.empty()) ++packet_out_drops_;
    return;
  }
  // The kernel's execute needs a real ingress port: a packet from the controller is sent as
  // from the bridge's own port (what a USERSPACE action would report as its in_port).
  if (key.in_port == ofproto::kNoInPort) key.in_port = VSW_PORT_LOCAL;
  if (auto r = hooks_.execute(key, x.actions, frame); !r) {
    ++packet_out_drops_;
    log::rate_limited(log::Level::kWarn, "packet-out", "%s: packet-out not sent: %s", name_.c_str(),
                      r.error().to_string().c_str());
  }
}

openflow::PortDescReply Agent::port_desc() const {
  openflow::PortDescReply out;
  for (const ofproto::PortInfo& p : ofproto_.ports()) {
    openflow::Port d;
    d.port_no = p.ofport;
    d.name = p.name.substr(0, 15);
    d.hw_addr = p.hw_addr;
    d.config = p.config;
    d.state = p.up ? 0 : kPortStateLinkDown;
    out.entries.push_back(std::move(d));
  }
  std::sort(out.entries.begin(), out.entries.end(),
            [](const openflow::Port& a, const openflow::Port& b) { return a.port_no < b.port_no; });
  return out;
}

// As Open vSwitch: OFPP_ANY for every port, else that port (none: an empty reply).
openflow::PortStatsReply Agent::port_stats(std::uint32_t port_no) const {
  openflow::PortStatsReply out;
  const std::int64_t now = clock_();
  for (const PortCounters& c : hooks_.port_stats()) {
    if (port_no != openflow::port::kAny && c.ofport != port_no) continue;
    openflow::PortStats s;
    s.port_no = c.ofport;
    s.rx_packets = c.stats.rx_packets;
    s.tx_packets = c.stats.tx_packets;
    s.rx_bytes = c.stats.rx_bytes;
    s.tx_bytes = c.stats.tx_bytes;
    s.rx_dropped = c.stats.rx_dropped;
    s.tx_dropped = c.stats.tx_dropped;
    s.rx_errors = s.tx_errors = s.rx_frame_err = s.rx_over_err = s.rx_crc_err = s.collisions =
        ~std::uint64_t{0};
    const std::int64_t age = std::max<std::int64_t>(0, now - c.since_ms);
    s.duration_sec = static_cast<std::uint32_t>(age / 1000);
    s.duration_nsec = static_cast<std::uint32_t>(age % 1000) * 1'000'000U;
    out.entries.push_back(s);
  }
  std::sort(out.entries.begin(), out.entries.end(),
            [](const openflow::PortStats& a, const openflow::PortStats& b) {
              return a.port_no < b.port_no;
            });
  return out;
}

void Agent::multipart(const Message& m, const SendFn& send) {
  const auto& req = std::get<openflow::MultipartRequest>(m.body);
  const auto reply = [&](const openflow::MpReplyBody& body) {
    for (openflow::Bytes& b : openflow::encode_multipart_reply(m.xid, body)) send(std::move(b));
  };
  openflow::OfError e;
  e.type = 0xffff;  // "no error" until a selector is refused
  if (const auto* r = std::get_if<openflow::FlowStatsRequest>(&req.body)) {
    openflow::FlowStatsReply out;
    out.entries = flow_stats(ofproto_.tables(), *r, clock_(), &e);
    if (e.type != 0xffff) return error(m, e, send);
    return reply(std::move(out));
  }
  if (const auto* r = std::get_if<openflow::AggregateStatsRequest>(&req.body)) {
    auto out = aggregate_stats(ofproto_.tables(), *r, &e);
    if (e.type != 0xffff) return error(m, e, send);
    return reply(out);
  }
  if (std::holds_alternative<openflow::DescRequest>(req.body)) {
    openflow::DescReply d;
    d.mfr_desc = "The vsw project";
    d.hw_desc = "vsw.ko";
    d.sw_desc = "vswd";
    d.serial_num = "None";
    d.dp_desc = name_;
    return reply(d);
  }
  if (std::holds_alternative<openflow::PortDescRequest>(req.body)) return reply(port_desc());
  if (const auto* r = std::get_if<openflow::PortStatsRequest>(&req.body); r && hooks_.port_stats)
    return reply(port_stats(r->id));
  if (std::holds_alternative<openflow::TableStatsRequest>(req.body)) {
    openflow::TableStatsReply out;
    std::vector<std::uint32_t> active(ofproto::kNumTables, 0);
    for (const ofproto::RuleId& r : ofproto_.tables().rules()) ++active[r->table_id];
    for (unsigned t = 0; t < ofproto::kNumTables; ++t) {
      openflow::TableStats s;
      s.table_id = static_cast<std::uint8_t>(t);
      s.active_count = active[t];
      const ofproto::Tables::Counts c = ofproto_.tables().counts(static_cast<std::uint8_t>(t));
      s.lookup_count = c.lookups;
      s.matched_count = c.matched;
      out.entries.push_back(s);
    }
    return reply(std::move(out));
  }
  if (const auto* r = std::get_if<openflow::TableFeaturesRequest>(&req.body)) {
    if (!r->entries.empty())  // setting table features: refused
      return error(m, openflow::make_error(ErrType::kTableFeaturesFailed, kTffcEperm), send);
    return reply(table_features());
  }
  if (const auto* r = std::get_if<openflow::GroupStatsRequest>(&req.body))
    return reply(group_stats(ofproto_, r->id));
  if (std::holds_alternative<openflow::GroupDescRequest>(req.body))
    return reply(group_desc(ofproto_.groups()));
  if (std::holds_alternative<openflow::GroupFeaturesRequest>(req.body))
    return reply(group_features());
  if (std::holds_alternative<openflow::MeterFeaturesRequest>(req.body))
    return reply(openflow::MeterFeaturesReply{});  // all 0: no meters
  if (const auto* r = std::get_if<openflow::MeterStatsRequest>(&req.body)) {
    if (auto err = check_meter_request(r->id)) return error(m, *err, send);
    return reply(openflow::MeterStatsReply{});
  }
  if (const auto* r = std::get_if<openflow::MeterConfigRequest>(&req.body)) {
    if (auto err = check_meter_request(r->id)) return error(m, *err, send);
    return reply(openflow::MeterConfigReply{});
  }
  if (const auto* r = std::get_if<openflow::QueueStatsRequest>(&req.body)) {
    if (auto err = check_queue_stats(ofproto_.ports(), *r)) return error(m, *err, send);
    return reply(openflow::QueueStatsReply{});
  }
  error(m, openflow::make_error(ErrType::kBadRequest, kBrcBadMultipart), send);
}

}  // namespace vsw::ofswitch
