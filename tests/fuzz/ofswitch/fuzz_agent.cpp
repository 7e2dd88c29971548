// libFuzzer harness for a bridge's OpenFlow agent: one connection's sequence of valid and
// invalid messages, handled as vswd handles them, with the pipeline they build translated
// after every message.
//
// Input: records of a 16-bit little-endian length and that many bytes, each one message as
// a controller would send it (at most 64 records; the header's length field is set to the
// record's length, so mutations keep the framing). Each is decoded as openflow::Connection
// decodes it (a refusal is answered with error_reply()) and the rest go to Agent::handle(),
// whose replies must decode, carry the request's xid, and be a lone BARRIER_REPLY for a
// barrier; a request a slave may not make gets one IS_SLAVE error and leaves the tables as
// they were; a ROLE_REPLY tells the role the connection now has (roles.h). After each message,
// probe frames (IPv4 TCP, IPv6 UDP, ARP, a VLAN-tagged ICMP) go through Ofproto::translate(): each
// megaflow must cover its key, and keys that differ from it only in wildcarded bits must translate
// to the same datapath actions (the megaflow contract the kernel relies on). At the end a barrier
// must still be answered, and FLOW and AGGREGATE stats must agree on the rule count. Any violation
// traps; ASan and UBSan (no recovery, leak detection on) catch the rest. Built only with
// -DVSW_FUZZ=ON; tests/suites/30-fuzz builds it, makes its seed corpus with agent_fuzz_seeds
// and runs it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <variant>
#include <vector>

#include "dpif/packet_key.h"
#include "ofproto/ofproto.h"
#include "ofswitch/agent.h"
#include "openflow/codec.h"

using namespace vsw;
using namespace vsw::openflow;

namespace {

constexpr std::size_t kMaxRecords = 64;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// The probe frames, built once.
std::vector<Bytes> probe_frames() {
  const Bytes eth_v4 = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00};
  Bytes tcp = eth_v4;
  const Bytes ip_tcp = {0x45, 0, 0,  40, 0,    1,    0,    0,    64, 6,  0, 0, 10, 0,
                        0,    1, 10, 0,  0,    2,    0x30, 0x39, 0,  80, 0, 0, 0,  1,
                        0,    0, 0,  0,  0x50, 0x02, 0x20, 0,    0,  0,  0, 0};
  tcp.insert(tcp.end(), ip_tcp.begin(), ip_tcp.end());

  Bytes udp6 = {0x33, 0x33, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 3, 0x86, 0xdd};
  const Bytes ip6 = {0x60, 0, 0, 0, 0, 8, 17, 64};
  udp6.insert(udp6.end(), ip6.begin(), ip6.end());
  for (int i = 0; i < 2; ++i) {  // fd00::1 -> ff02::1
    Bytes a(16, 0);
    a[0] = i ? 0xff : 0xfd;
    a[1] = i ? 0x02 : 0x00;
    a[15] = 1;
    udp6.insert(udp6.end(), a.begin(), a.end());
  }
  const Bytes udp = {0x04, 0xd2, 0x00, 0x35, 0, 8, 0, 0};
  udp6.insert(udp6.end(), udp.begin(), udp.end());

  Bytes arp = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0,    0, 0,  1, 0x08, 0x06,
               0,    1,    0x08, 0,    6,    4,    0,    1, 0x02, 0, 0,  0, 0,    1,
               10,   0,    0,    1,    0,    0,    0,    0, 0,    0, 10, 0, 0,    2};

  Bytes icmp = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x81, 0x00, 0x20, 0x0a, 0x08, 0x00};
  const Bytes ip_icmp = {0x45, 0, 0,  28, 0, 2, 0, 0, 1, 1, 0, 0, 10, 0,
                         0,    2, 10, 0,  0, 1, 8, 0, 0, 0, 0, 0, 0,  0};
  icmp.insert(icmp.end(), ip_icmp.begin(), ip_icmp.end());
  return {tcp, udp6, arp, icmp};
}

struct Switch {
  ofproto::Ofproto of{options()};
  bool flush_wanted = false;
  ofswitch::Agent agent{of, "br0", hooks()};
  ofswitch::Session session;

  Switch() {
    std::vector<ofproto::PortInfo> ports(4);
    ports[0].ofport = port::kLocal;
    ports[0].name = "br0";
    ports[1].ofport = 1;
    ports[1].name = "p1";
    ports[2].ofport = 2;
    ports[2].name = "p2";
    ports[2].vlan_mode = ofproto::VlanMode::kAccess;
    ports[2].tag = 10;
    ports[3].ofport = 3;
    ports[3].name = "p3";
    ports[3].up = false;
    check(of.set_ports(ports).ok());
  }
  static ofproto::Ofproto::Options options() {
    ofproto::Ofproto::Options o;
    o.fail_mode = ofproto::FailMode::kStandalone;
    o.mac_table_size = 16;
    return o;
  }
  ofswitch::Agent::Hooks hooks() {
    ofswitch::Agent::Hooks h;
    h.want_flush = [this] { flush_wanted = true; };
    h.rules_changed = [] {};
    h.execute = [](const vsw_flow_key&, const dpif::Actions&,
                   std::span<const std::uint8_t> packet) -> vsw::Result<void> {
      check(packet.size() >= 14);
      return {};
    };
    h.macs_changed = [](const std::vector<ofproto::MacTag>&) {};
    return h;
  }

  // Handles one message; returns its decoded replies (each checked).
  std::vector<Message> handle(const Message& m) {
    std::vector<Message> replies;
    const bool refused = ofswitch::refuse_slave(session, m.type()).has_value();
    const std::size_t rules = of.tables().size();
    agent.handle(session, m, [&](Bytes b) {
      auto r = decode(b);
      check(r.ok());
      check(r.value().xid == m.xid);
      if (auto* e = std::get_if<openflow::Error>(&r.value().body))
        check(e->data.size() <= kErrorDataMax);
      replies.push_back(std::move(r.value()));
    });
    if (m.type() == MsgType::kBarrierRequest)
      check(replies.size() == 1 && replies[0].type() == MsgType::kBarrierReply);
    if (refused) {  // a slave's change: one IS_SLAVE error, the tables untouched
      check(replies.size() == 1 && replies[0].type() == MsgType::kError);
      const auto& e = std::get<openflow::Error>(replies[0].body);
      check(e.type == 1 && e.code == 10);
      check(of.tables().size() == rules);
    }
    if (m.type() == MsgType::kRoleRequest && replies.size() == 1 &&
        replies[0].type() == MsgType::kRoleReply)
      check(std::get<RoleReply>(replies[0].body).role == static_cast<std::uint32_t>(session.role));
    return replies;
  }
};

// The megaflow contract for one key: the megaflow covers the key, and keys equal to it in
// every masked bit translate to the same actions.
void check_translation(ofproto::Ofproto& of, const vsw_flow_key& key, std::mt19937& rng) {
  (void)of.translate(key, true);  // may learn: later translations see the MAC table it made
  const ofproto::XlateResult r = of.translate(key, false);
  check(r.stable);
  const auto* k = reinterpret_cast<const std::uint8_t*>(&key);
  const auto* mk = reinterpret_cast<const std::uint8_t*>(&r.megaflow.mask);
  const auto* mv = reinterpret_cast<const std::uint8_t*>(&r.megaflow.key);
  for (std::size_t i = 0; i < sizeof key; ++i) check((k[i] & mk[i]) == mv[i]);
  for (int trial = 0; trial < 3; ++trial) {
    vsw_flow_key other = key;
    auto* o = reinterpret_cast<std::uint8_t*>(&other);
    for (std::size_t i = 0; i < sizeof other; ++i)
      o[i] = static_cast<std::uint8_t>(o[i] ^ (rng() & ~mk[i]));
    const ofproto::XlateResult again = of.translate(other, false);
    check(again.actions == r.actions);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<Bytes> frames = probe_frames();
  Switch sw;
  std::mt19937 rng(static_cast<std::uint32_t>(size));
  std::vector<vsw_flow_key> probes;
  for (std::size_t i = 0; i < frames.size(); ++i)
    probes.push_back(dpif::extract_key(frames[i], static_cast<std::uint32_t>(1 + i % 2)));

  std::size_t pos = 0;
  std::uint32_t last_xid = 0;
  for (std::size_t n = 0; n < kMaxRecords && pos + 2 <= size; ++n) {
    const std::size_t len = std::min<std::size_t>(data[pos] | (data[pos + 1] << 8), size - pos - 2);
    Bytes msg(data + pos + 2, data + pos + 2 + len);
    pos += 2 + len;
    if (msg.size() < kHeaderLen) continue;  // the connection would give up on the stream
    msg.resize(std::min(msg.size(), kMaxMessageLen));
    msg[2] = static_cast<std::uint8_t>(msg.size() >> 8);
    msg[3] = static_cast<std::uint8_t>(msg.size());
    const auto h = peek_header(msg);
    last_xid = h->xid;
    auto m = decode(msg);
    if (!m.ok()) {
      auto reply = decode(encode(error_reply(m.error(), h->xid)));
      check(reply.ok() && reply.value().type() == MsgType::kError);
      continue;
    }
    // HELLO and ECHO are the connection's; everything else reaches the agent (connmgr).
    const MsgType t = m.value().type();
    if (t == MsgType::kHello || t == MsgType::kEchoRequest || t == MsgType::kEchoReply) continue;
    sw.handle(m.value());
    // The io timer's flush, skipped now and then so barriers and stats flush themselves.
    if (sw.flush_wanted && (h->xid & 1) == 0) {
      sw.flush_wanted = false;
      sw.agent.flush();
    }
    for (const vsw_flow_key& key : probes) check_translation(sw.of, key, rng);
    sw.of.reclaim();
  }

  // The connection still works, and the two views of the tables agree.
  sw.handle(Message{kVersion13, last_xid + 1, BarrierRequest{}});
  FlowStatsRequest fr;
  fr.table_id = 0xff;
  AggregateStatsRequest ar;
  ar.table_id = 0xff;
  std::size_t flows = 0;
  for (const Message& r : sw.handle(Message{kVersion13, 1, MultipartRequest{0, fr}})) {
    const auto& body = std::get<MultipartReply>(r.body).body;
    flows += std::get<FlowStatsReply>(body).entries.size();
  }
  const auto agg = sw.handle(Message{kVersion13, 2, MultipartRequest{0, ar}});
  check(agg.size() == 1);
  check(std::get<AggregateStatsReply>(std::get<MultipartReply>(agg[0].body).body).flow_count ==
        flows);
  return 0;
}
