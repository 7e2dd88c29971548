// ofp_pcap --hex: prints "NAME HEX" for every sample message instead (for ovs-ofctl).
// ofp_pcap OUT.pcap: writes every message our encoder produces in the tests (all samples, a
// split FLOW_STATS reply, error replies) to a pcap as one TCP stream 127.0.0.1:40000 ->
// 127.0.0.1:6653, after a three-way handshake, in segments of at most 1448 bytes with correct
// sequence numbers and checksums. Prints the OFPT_* type number of each message, one a line,
// in order, so the caller can compare with what tshark's openflow_v4 dissector decoded.
//
// Two adjustments for known limits of Wireshark 4.0's dissector (both inputs are valid
// OpenFlow 1.3 and our codec round-trips them): it raises "Malformed Packet" on any
// OFPMP_EXPERIMENTER *reply* body and on an OFPMBT_EXPERIMENTER meter band, so the
// experimenter multipart reply is left out and METER_MOD is written without its
// experimenter band; and it dissects an OFPT_ERROR's data as a whole message, so our error
// sample carries a complete short message rather than the 64-byte prefix of a long one.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "samples.h"

using namespace vsw::openflow;

namespace {

struct PcapWriter {
  std::ofstream out;
  uint32_t seq_c = 1000, seq_s = 5000;  // client and server sequence numbers
  uint32_t ts = 0;

  explicit PcapWriter(const char* path) : out(path, std::ios::binary) {
    put32(0xa1b2c3d4);
    put16(2);
    put16(4);
    put32(0);
    put32(0);
    put32(65535);
    put32(1);  // Ethernet
  }
  void put16(uint16_t v) { out.write(reinterpret_cast<char*>(&v), 2); }
  void put32(uint32_t v) { out.write(reinterpret_cast<char*>(&v), 4); }

  static uint16_t csum(const Bytes& b, size_t off, size_t len, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t(b[off + i] << 8 | b[off + i + 1]);
    if (len & 1) sum += uint32_t(b[off + len - 1] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
  }

  void segment(bool from_client, uint8_t flags, ByteSpan payload) {
    Bytes f;
    Writer w(f);
    w.bytes(Bytes{0x02, 0, 0, 0, 0, uint8_t(from_client ? 2 : 1)});
    w.bytes(Bytes{0x02, 0, 0, 0, 0, uint8_t(from_client ? 1 : 2)});
    w.u16(0x0800);
    size_t ip = f.size();
    w.u8(0x45);
    w.u8(0);
    w.u16(uint16_t(20 + 20 + payload.size()));
    w.u16(0);
    w.u16(0x4000);
    w.u8(64);
    w.u8(6);
    w.u16(0);
    w.u32(0x7f000001);
    w.u32(0x7f000001);
    w.patch16(ip + 10, csum(f, ip, 20));
    size_t tcp = f.size();
    uint32_t& seq = from_client ? seq_c : seq_s;
    uint32_t ack = from_client ? seq_s : seq_c;
    w.u16(from_client ? 40000 : 6653);
    w.u16(from_client ? 6653 : 40000);
    w.u32(seq);
    w.u32(flags & 0x02 && !from_client ? ack : (flags & 0x10 ? ack : 0));
    w.u8(5 << 4);
    w.u8(flags);
    w.u16(65535);
    w.u16(0);
    w.u16(0);
    w.bytes(payload);
    // TCP checksum over the pseudo header and the segment.
    uint32_t sum = 0x7f00 + 0x0001 + 0x7f00 + 0x0001 + 6 + uint32_t(f.size() - tcp);
    w.patch16(tcp + 16, csum(f, tcp, f.size() - tcp, sum));
    seq += uint32_t(payload.size()) + ((flags & 0x03) ? 1 : 0);
    ++ts;
    put32(ts);
    put32(0);
    put32(uint32_t(f.size()));
    put32(uint32_t(f.size()));
    out.write(reinterpret_cast<const char*>(f.data()), long(f.size()));
  }

  void handshake() {
    segment(true, 0x02, {});   // SYN
    segment(false, 0x12, {});  // SYN-ACK
    segment(true, 0x10, {});   // ACK
  }

  void message(const Bytes& m) {
    for (size_t off = 0; off < m.size(); off += 1448) {
      size_t n = std::min<size_t>(1448, m.size() - off);
      segment(true, 0x18, ByteSpan(m).subspan(off, n));  // PSH|ACK
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: ofp_pcap OUT.pcap | --hex\n";
    return 2;
  }
  if (std::string(argv[1]) == "--hex") {
    for (const auto& s : testing::samples()) {
      std::cout << s.name << ' ';
      for (uint8_t b : encode(s.msg))
        std::cout << "0123456789abcdef"[b >> 4] << "0123456789abcdef"[b & 15];
      std::cout << '\n';
    }
    return 0;
  }
  PcapWriter w(argv[1]);
  w.handshake();
  auto emit = [&](const Bytes& b) {
    w.message(b);
    std::cout << int(b[1]) << '\n';
  };
  for (auto s : testing::samples()) {
    if (s.name == "mp_experimenter_reply") continue;
    if (auto* mm = std::get_if<MeterMod>(&s.msg.body))
      std::erase_if(mm->bands, [](const MeterBand& b) { return b.type == 0xffff; });
    emit(encode(s.msg));
  }
  FlowStatsReply big;
  for (uint32_t i = 0; i < 1500; ++i) big.entries.push_back(testing::nsx_flow_stats(i));
  for (const auto& b : encode_multipart_reply(99, big)) emit(b);
  OfError e = make_error(ErrType::kBadMatch, code::kMatchBadPrereq);
  e.data = encode(Message{kVersion13, 6, FlowMod{}});  // 56 bytes: fits whole
  emit(encode(error_reply(e, 7)));
  return w.out ? 0 : 1;
}
