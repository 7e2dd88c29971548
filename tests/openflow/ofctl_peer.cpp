// ofctl_peer LOG [TARGET]: a switch stand-in for the ovs-ofctl interop test.
//
// Listens on TARGET (default ptcp:0:127.0.0.1) with vsw::openflow connections, prints
// "PORT <n>" once listening, and appends the JSON form of every message a peer sends to LOG
// (one line each; refused messages as {"error":...}). It answers what ovs-ofctl waits for:
// BARRIER, FEATURES, GET_CONFIG, and multipart requests with replies built by our encoder:
//   FLOW (table 0xff)   3 known flows        FLOW (table 1)   2000 NSX-like flows, split
//   PORT_DESC           2 ports              TABLE_FEATURES   2 tables
//   TABLE               2 table stats        GROUP_FEATURES   fixed capabilities
//   DESC                fixed strings        anything else    ERROR BAD_REQUEST/BAD_MULTIPART
// Runs until SIGTERM/SIGINT.
#include <boost/asio.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "openflow/listener.h"
#include "openflow/print.h"
#include "samples.h"

using namespace vsw::openflow;
namespace t = vsw::openflow::testing;

namespace {

FlowStatsReply small_flows() {
  FlowStatsReply r;
  FlowStats a;
  a.table_id = 0;
  a.duration_sec = 1;
  a.duration_nsec = 500000000;
  a.priority = 100;
  a.cookie = 0x1;
  a.packet_count = 10;
  a.byte_count = 1000;
  a.match.fields = {OxmField::exact(OxmId::kEthType, 0x0800),
                    OxmField::exact(OxmId::kIpv4Src, 0x0a000001)};
  a.instructions = {Instruction::apply({Action::output(2, 0)})};
  r.entries.push_back(a);
  FlowStats b;
  b.table_id = 3;
  b.duration_sec = 2;
  b.priority = 7;
  b.cookie = 0x5;
  b.idle_timeout = 30;
  b.match.fields = {OxmField::exact(OxmId::kEthType, 0x0800), OxmField::exact(OxmId::kIpProto, 6),
                    OxmField::masked(OxmId::kIpv4Src, 0x0a000000, 0xff000000),
                    OxmField::exact(OxmId::kTcpDst, 80)};
  b.instructions = {
      Instruction::apply({Action::set_field(OxmField::exact(OxmId::kIpv4Dst, 0x0a010101)),
                          Action::simple(ActionType::kPushVlan, 0x8100),
                          Action::set_field(OxmField::exact(OxmId::kVlanVid, 0x1000 | 100)),
                          Action::output(2, 0)}),
      Instruction::goto_table(4)};
  r.entries.push_back(b);
  FlowStats c;
  c.table_id = 0;
  c.priority = 0;
  c.instructions = {};
  r.entries.push_back(c);
  return r;
}

Message reply_to(const Message& req, std::vector<Bytes>& extra) {
  uint32_t xid = req.xid;
  switch (req.type()) {
    case MsgType::kBarrierRequest:
      return Message{kVersion13, xid, BarrierReply{}};
    case MsgType::kFeaturesRequest:
      return Message{kVersion13, xid, FeaturesReply{0x0000000000000abc, 0, 254, 0, 0x4f, 0}};
    case MsgType::kGetConfigRequest:
      return Message{kVersion13, xid, GetConfigReply{0, 128}};
    case MsgType::kMultipartRequest: {
      const auto& mp = std::get<MultipartRequest>(req.body);
      MpReplyBody body;
      switch (mp.body.index()) {
        case 1: {
          const auto& fr = std::get<FlowStatsRequest>(mp.body);
          if (fr.table_id == 1) {
            FlowStatsReply big;
            for (uint32_t i = 0; i < 2000; ++i) {
              FlowStats s = t::nsx_flow_stats(i);
              s.table_id = 1;
              big.entries.push_back(s);
            }
            extra = encode_multipart_reply(xid, big);
            return Message{};
          }
          body = small_flows();
          break;
        }
        case 13:
          body = PortDescReply{{t::sample_port(1, "eth1"), t::sample_port(2, "eth2")}};
          break;
        case 12:
          body = TableFeaturesReply{{t::sample_table_features(0), t::sample_table_features(1)}};
          break;
        case 3:
          body = TableStatsReply{{TableStats{0, 3, 100, 90}, TableStats{1, 0, 10, 0}}};
          break;
        case 8:
          body = GroupFeaturesReply{0xf, 0x5, {100, 50, 0, 10}, {0x1, 0x1, 0, 0x1}};
          break;
        case 0:
          body = DescReply{"vsw project", "software", "vsw 0.1", "0001", "br0"};
          break;
        default: {
          OfError e = make_error(ErrType::kBadRequest, code::kBadMultipart);
          e.data = encode(req);
          if (e.data.size() > 64) e.data.resize(64);
          return error_reply(e, xid);
        }
      }
      extra = encode_multipart_reply(xid, body);
      return Message{};
    }
    default:
      return Message{};
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: ofctl_peer LOG [TARGET]\n";
    return 2;
  }
  std::ofstream log(argv[1], std::ios::app);
  std::string target = argc > 2 ? argv[2] : "ptcp:0:127.0.0.1";
  asio::io_context io;
  auto on_message = [&](Connection& c, Message& m) {
    log << to_json(m) << '\n' << std::flush;
    std::vector<Bytes> extra;
    Message r = reply_to(m, extra);
    if (!extra.empty()) {
      for (auto& b : extra) c.send_bytes(std::move(b));
    } else if (r.type() != MsgType::kHello) {
      c.send(r);
    }
  };
  Listener listener(io, [&](Socket s) {
    return Connection::create(std::move(s), ConnectionOptions{}, on_message);
  });
  if (auto ec = listener.open(target)) {
    std::cerr << "ofctl_peer: " << target << ": " << ec.message() << '\n';
    return 1;
  }
  std::cout << "PORT " << listener.port() << std::endl;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { io.stop(); });
  io.run();
  return 0;
}
