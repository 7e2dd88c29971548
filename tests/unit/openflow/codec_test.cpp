// Table-driven decode cases (description, bytes, expected value or error type/code), and a
// byte-exact round trip of a sample of every message type.
#include <catch2/catch_test_macros.hpp>
#include <optional>

#include "openflow/codec.h"
#include "openflow/print.h"
#include "samples.h"

using namespace vsw::openflow;
using vsw::openflow::testing::samples;

namespace {

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes b;
  for (const auto& p : parts) b.insert(b.end(), p.begin(), p.end());
  return b;
}
Bytes B(std::initializer_list<int> v) {
  Bytes b;
  for (int x : v) b.push_back(uint8_t(x));
  return b;
}
Bytes msg(uint8_t type, const Bytes& body, uint8_t version = 4) {
  size_t len = 8 + body.size();
  return cat({B({version, type, int(len >> 8), int(len & 0xff), 0, 0, 0, 0x2a}), body});
}
Bytes oxm(int field, bool mask, const Bytes& val, int cls = 0x8000) {
  return cat({B({cls >> 8, cls & 0xff, field << 1 | (mask ? 1 : 0), int(val.size())}), val});
}
Bytes match(const Bytes& oxms) {
  size_t len = 4 + oxms.size();
  Bytes m = cat({B({0, 1, int(len >> 8), int(len & 0xff)}), oxms});
  while (m.size() % 8) m.push_back(0);
  return m;
}
Bytes flow_mod(const Bytes& match_bytes, const Bytes& instructions = {}) {
  Bytes fixed = B({0,    0,    0,    0,    0, 0, 0,    5,  // cookie
                   0,    0,    0,    0,    0, 0, 0,    0,  // cookie_mask
                   0,    0,    0,    0,    0, 0, 0x80, 0,  // table, command, idle, hard, priority
                   0xff, 0xff, 0xff, 0xff,                 // buffer_id
                   0xff, 0xff, 0xff, 0xff,                 // out_port
                   0xff, 0xff, 0xff, 0xff,                 // out_group
                   0,    0,    0,    0});                  // flags, pad
  return msg(14, cat({fixed, match_bytes, instructions}));
}
Bytes apply(const Bytes& actions) {
  size_t len = 8 + actions.size();
  return cat({B({0, 4, int(len >> 8), int(len & 0xff), 0, 0, 0, 0}), actions});
}
Bytes output(int port) {
  return B({0, 0, 0, 16, 0, 0, 0, port, 0xff, 0xff, 0, 0, 0, 0, 0, 0});
}
// A TABLE_FEATURES reply with one entry (table 0, empty name) carrying `props`.
Bytes table_features(const Bytes& props) {
  size_t len = 64 + props.size();
  Bytes fixed = cat({B({int(len >> 8), int(len & 0xff), 0}), Bytes(61)});
  return msg(19, cat({B({0, 12, 0, 0, 0, 0, 0, 0}), fixed, props}));
}
// A QUEUE_GET_CONFIG_REPLY for port 1 carrying `queues`.
Bytes queue_reply(const Bytes& queues) {
  return msg(23, cat({B({0, 0, 0, 1, 0, 0, 0, 0}), queues}));
}
const Bytes kEthIp = oxm(5, false, B({0x08, 0x00}));
const Bytes kTcp = oxm(10, false, B({6}));

struct Case {
  const char* what;
  Bytes bytes;
  std::optional<std::pair<ErrType, uint16_t>> error;  // nullopt: must decode
};

std::vector<Case> cases() {
  using E = ErrType;
  namespace c = code;
  return {
      {"header shorter than 8 bytes", B({4, 0, 0}), {{E::kBadRequest, c::kBadLen}}},
      {"length beyond the buffer", B({4, 2, 0, 16, 0, 0, 0, 1}), {{E::kBadRequest, c::kBadLen}}},
      {"length below 8", B({4, 2, 0, 4, 0, 0, 0, 1}), {{E::kBadRequest, c::kBadLen}}},
      {"unknown message type", msg(30, {}), {{E::kBadRequest, c::kBadType}}},
      {"OpenFlow 1.0 barrier", msg(20, {}, 1), {{E::kBadRequest, c::kBadVersion}}},
      {"OpenFlow 1.0 hello is accepted", msg(0, {}, 1), std::nullopt},
      {"hello with a version bitmap", msg(0, B({0, 1, 0, 8, 0, 0, 0, 0x10})), std::nullopt},
      {"hello element longer than the message",
       msg(0, B({0, 1, 0, 12, 0, 0, 0, 0x10})),
       {{E::kBadRequest, c::kBadLen}}},
      {"echo request with payload", msg(2, B({1, 2, 3})), std::nullopt},
      {"features reply truncated",
       msg(6, B({0, 0, 0, 0, 0, 0, 0, 1})),
       {{E::kBadRequest, c::kBadLen}}},
      {"barrier request with trailing bytes",
       msg(20, B({0, 0, 0, 0})),
       {{E::kBadRequest, c::kBadLen}}},
      {"unknown multipart type",
       msg(18, B({0, 99, 0, 0, 0, 0, 0, 0})),
       {{E::kBadRequest, c::kBadMultipart}}},
      {"multipart request header truncated", msg(18, B({0, 1})), {{E::kBadRequest, c::kBadLen}}},
      {"flow mod, empty match, no instructions", flow_mod(match({})), std::nullopt},
      {"flow mod tcp_dst with prerequisites",
       flow_mod(match(cat({kEthIp, kTcp, oxm(14, false, B({0, 80}))}))), std::nullopt},
      {"flow mod match type 0 (standard)",
       flow_mod(B({0, 0, 0, 4, 0, 0, 0, 0})),
       {{E::kBadMatch, c::kMatchBadType}}},
      {"match length beyond the message",
       flow_mod(B({0, 1, 0, 40, 0, 0, 0, 0})),
       {{E::kBadMatch, c::kMatchBadLen}}},
      {"match length below 4",
       flow_mod(B({0, 1, 0, 2, 0, 0, 0, 0})),
       {{E::kBadMatch, c::kMatchBadLen}}},
      {"tcp_dst without ip_proto",
       flow_mod(match(cat({kEthIp, oxm(14, false, B({0, 80}))}))),
       {{E::kBadMatch, c::kMatchBadPrereq}}},
      {"ip_proto without eth_type", flow_mod(match(kTcp)), {{E::kBadMatch, c::kMatchBadPrereq}}},
      {"vlan_pcp without vlan_vid",
       flow_mod(match(oxm(7, false, B({3})))),
       {{E::kBadMatch, c::kMatchBadPrereq}}},
      {"ipv6_nd_sll with icmpv6_type 136",
       flow_mod(match(cat({oxm(5, false, B({0x86, 0xdd})), oxm(10, false, B({58})),
                           oxm(29, false, B({136})), oxm(32, false, B({1, 2, 3, 4, 5, 6}))}))),
       {{E::kBadMatch, c::kMatchBadPrereq}}},
      {"duplicate eth_type",
       flow_mod(match(cat({kEthIp, kEthIp}))),
       {{E::kBadMatch, c::kMatchDupField}}},
      {"ipv4_src value bits outside its mask",
       flow_mod(match(cat({kEthIp, oxm(11, true, B({10, 0, 0, 1, 255, 0, 0, 0}))}))),
       {{E::kBadMatch, c::kMatchBadWildcards}}},
      {"mask on in_port",
       flow_mod(match(oxm(0, true, B({0, 0, 0, 1, 0, 0, 0, 1})))),
       {{E::kBadMatch, c::kMatchBadMask}}},
      {"unknown basic field 50",
       flow_mod(match(oxm(50, false, B({0, 0, 0, 1})))),
       {{E::kBadMatch, c::kMatchBadField}}},
      {"unknown class 0x0003",
       flow_mod(match(oxm(0, false, B({0, 0, 0, 1}), 3))),
       {{E::kBadMatch, c::kMatchBadField}}},
      {"in_port with a 2-byte value",
       flow_mod(match(oxm(0, false, B({0, 1})))),
       {{E::kBadMatch, c::kMatchBadLen}}},
      {"OXM running past the match",
       flow_mod(B({0, 1, 0, 8, 0x80, 0, 0, 4, 0, 0, 0, 0})),
       {{E::kBadMatch, c::kMatchBadLen}}},
      {"vlan_pcp 8",
       flow_mod(match(cat({oxm(6, false, B({0x10, 1})), oxm(7, false, B({8}))}))),
       {{E::kBadMatch, c::kMatchBadValue}}},
      {"reg3 masked", flow_mod(match(oxm(3, true, B({0, 0, 0, 1, 0, 0, 0, 0xff}), 1))),
       std::nullopt},
      {"apply_actions output:1", flow_mod(match({}), apply(output(1))), std::nullopt},
      {"action length 4",
       flow_mod(match({}), apply(B({0, 0, 0, 4, 0, 0, 0, 0}))),
       {{E::kBadAction, c::kActBadLen}}},
      {"action length 0",
       flow_mod(match({}), apply(B({0, 0, 0, 0, 0, 0, 0, 0}))),
       {{E::kBadAction, c::kActBadLen}}},
      {"unknown action type 99",
       flow_mod(match({}), apply(B({0, 99, 0, 8, 0, 0, 0, 0}))),
       {{E::kBadAction, c::kActBadType}}},
      {"output action of length 8",
       flow_mod(match({}), apply(B({0, 0, 0, 8, 0, 0, 0, 1}))),
       {{E::kBadAction, c::kActBadLen}}},
      {"set_field with a mask",
       flow_mod(match({}),
                apply(cat({B({0, 25, 0, 16}), oxm(0, true, B({0, 0, 0, 1, 0, 0, 0, 1}))}))),
       {{E::kBadAction, c::kActBadSetArgument}}},
      {"set_field of an unknown field",
       flow_mod(match({}),
                apply(cat({B({0, 25, 0, 16}), oxm(60, false, B({0, 0, 0, 1})), B({0, 0, 0, 0})}))),
       {{E::kBadAction, c::kActBadSetType}}},
      {"set_field longer than its OXM",
       flow_mod(match({}), apply(cat({B({0, 25, 0, 24}), oxm(10, false, B({6})), Bytes(15)}))),
       {{E::kBadAction, c::kActBadSetLen}}},
      {"unknown instruction 9",
       flow_mod(match({}), B({0, 9, 0, 8, 0, 0, 0, 0})),
       {{E::kBadInstruction, c::kInstUnknown}}},
      {"instruction length 12",
       flow_mod(match({}), B({0, 1, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0})),
       {{E::kBadInstruction, c::kInstBadLen}}},
      {"goto_table of length 16",
       flow_mod(match({}), B({0, 1, 0, 16, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})),
       {{E::kBadInstruction, c::kInstBadLen}}},
      {"packet out, actions_len past the end",
       msg(13, B({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd, 0, 32, 0, 0, 0, 0, 0, 0})),
       {{E::kBadRequest, c::kBadLen}}},
      {"packet out with output and data",
       msg(13, cat({B({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd, 0, 16, 0, 0, 0, 0, 0, 0}),
                    output(1), B({1, 2, 3})})),
       std::nullopt},
      {"meter band of unknown type 3",
       msg(29, B({0, 0, 0, 1, 0, 0, 0, 1, 0, 3, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})),
       {{E::kMeterModFailed, c::kMeterBadBand}}},
      {"meter band of length 8",
       msg(29, B({0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 1})),
       {{E::kMeterModFailed, c::kMeterBadBand}}},
      {"bucket length 4",
       msg(15, B({0, 0, 0, 0, 0, 0, 0, 1, 0, 4, 0, 0})),
       {{E::kGroupModFailed, c::kGroupBadBucket}}},
      {"table features: next_tables 1,2 and an apply_actions id list",
       table_features(
           B({0, 2, 0, 6, 1, 2, 0, 0, 0, 6, 0, 12, 0, 0, 0, 4, 0, 25, 0, 4, 0, 0, 0, 0})),
       std::nullopt},
      {"table features: match property of 2 OXM headers",
       table_features(B({0, 8, 0, 12, 0x80, 0, 0, 4, 0x80, 0, 10, 2, 0, 0, 0, 0})), std::nullopt},
      {"table features: experimenter action id without its experimenter field",
       table_features(B({0, 6, 0, 8, 0xff, 0xff, 0, 4})),
       {{E::kTableFeaturesFailed, c::kTfBadLen}}},
      {"table features: experimenter action id with 2 experimenter-defined bytes",
       table_features(B({0, 6, 0, 14, 0xff, 0xff, 0, 10, 0, 0, 0x23, 0x20, 1, 2, 0, 0})),
       std::nullopt},
      {"table features: output action id of length 8",
       table_features(B({0, 6, 0, 12, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0})),
       {{E::kTableFeaturesFailed, c::kTfBadLen}}},
      {"table features: action id of length 2",
       table_features(B({0, 6, 0, 8, 0, 0, 0, 2})),
       {{E::kTableFeaturesFailed, c::kTfBadLen}}},
      {"table features: OXM list not a multiple of 4",
       table_features(B({0, 8, 0, 6, 0x80, 0, 0, 0})),
       {{E::kTableFeaturesFailed, c::kTfBadLen}}},
      {"table features: property past the entry",
       table_features(B({0, 2, 0, 16, 1, 2, 0, 0})),
       {{E::kTableFeaturesFailed, c::kTfBadLen}}},
      {"queue config: one queue with min_rate and max_rate",
       queue_reply(B({0, 0, 0, 7,  0, 0, 0, 1, 0, 48,   0, 0, 0, 0, 0, 0,     // queue 7, len 48
                      0, 1, 0, 16, 0, 0, 0, 0, 0, 100,  0, 0, 0, 0, 0, 0,     // min_rate 100
                      0, 2, 0, 16, 0, 0, 0, 0, 3, 0xe8, 0, 0, 0, 0, 0, 0})),  // max_rate 1000
       std::nullopt},
      {"queue config: queue length past the message",
       queue_reply(B({0, 0, 0, 7, 0, 0, 0, 1, 0, 32, 0, 0, 0, 0, 0, 0})),
       {{E::kBadRequest, c::kBadLen}}},
      {"queue config: min_rate property of length 8",
       queue_reply(B({0, 0, 0, 7, 0, 0, 0, 1, 0, 24, 0, 0, 0, 0, 0, 0,  //
                      0, 1, 0, 8, 0, 0, 0, 0})),
       {{E::kBadRequest, c::kBadLen}}},
  };
}

}  // namespace

TEST_CASE("openflow: decode table: accepted inputs and the errors a switch returns", "[openflow]") {
  for (const Case& c : cases()) {
    INFO(c.what);
    auto r = decode(c.bytes);
    if (!c.error) {
      REQUIRE(r.ok());
      // Accepted input re-encodes to the same bytes.
      CHECK(encode(r.value()) == c.bytes);
    } else {
      REQUIRE_FALSE(r.ok());
      CHECK(error_type_name(r.error().type) == error_type_name(uint16_t(c.error->first)));
      CHECK(error_code_name(r.error().type, r.error().code) ==
            error_code_name(uint16_t(c.error->first), c.error->second));
      size_t n = std::min<size_t>(c.bytes.size(), 64);
      CHECK(r.error().data == Bytes(c.bytes.begin(), c.bytes.begin() + long(n)));
    }
  }
}

TEST_CASE("openflow: round trip of every sample message, byte for byte", "[openflow]") {
  std::vector<bool> seen(size_t(MsgType::kCount));
  std::vector<bool> mp_req(15), mp_rep(15);
  for (const auto& s : samples()) {
    INFO(s.name);
    Bytes b = encode(s.msg);
    REQUIRE(b.size() >= kHeaderLen);
    CHECK(peek_header(b)->length == b.size());
    auto d = decode(b);
    if (!d.ok()) FAIL(error_text(d.error()));
    CHECK(d.value() == s.msg);
    CHECK(encode(d.value()) == b);
    CHECK(!to_text(d.value()).empty());
    CHECK(to_json(d.value()).front() == '{');
    seen[size_t(s.msg.type())] = true;
    if (auto* r = std::get_if<MultipartRequest>(&s.msg.body)) mp_req[r->body.index()] = true;
    if (auto* r = std::get_if<MultipartReply>(&s.msg.body)) mp_rep[r->body.index()] = true;
  }
  for (size_t t = 0; t < seen.size(); ++t) {
    INFO(message_type_name(MsgType(t)));
    CHECK(seen[t]);
  }
  for (size_t t = 0; t < 15; ++t) {
    INFO(multipart_type_name(t));
    CHECK(mp_req[t]);
    CHECK(mp_rep[t]);
  }
}

TEST_CASE("openflow: every truncation of every sample is refused without crashing", "[openflow]") {
  for (const auto& s : samples()) {
    Bytes b = encode(s.msg);
    for (size_t n = 0; n < b.size(); ++n) {
      Bytes cut(b.begin(), b.begin() + long(n));
      if (n >= 8) {  // keep the header consistent so the body parsers see the short input
        cut[2] = uint8_t(n >> 8);
        cut[3] = uint8_t(n);
      }
      auto r = decode(cut);
      // A shorter body may still be valid (lists, opaque data); if refused, it must carry
      // the truncated bytes.
      if (!r.ok()) {
        CHECK(r.error().data.size() == std::min<size_t>(n, 64));
      } else {
        CHECK(encode(r.value()) == cut);
      }
    }
    // Without fixing the header the length never matches.
    Bytes cut(b.begin(), b.end() - 1);
    auto r = decode(cut);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == code::kBadLen);
  }
}

TEST_CASE("openflow: text and JSON forms", "[openflow]") {
  auto all = samples();
  auto find = [&](const std::string& n) {
    for (auto& s : all)
      if (s.name == n) return s.msg;
    FAIL("no sample " << n);
    return Message{};
  };
  Message fm = find("flow_mod_all_actions");
  std::string t = to_text(fm);
  CHECK(t.find("FLOW_MOD xid=") == 0);
  CHECK(t.find("match=in_port=1,eth_type=0x800,ip_proto=6,ipv4_src=10.0.0.0/8,"
               "tcp_dst=80") != std::string::npos);
  CHECK(t.find("set_field:10.1.1.1->ipv4_dst") != std::string::npos);
  CHECK(t.find("push_vlan:0x8100") != std::string::npos);
  CHECK(t.find("goto_table:4") != std::string::npos);
  std::string j = to_json(fm);
  CHECK(j.find("\"type\":\"FLOW_MOD\"") != std::string::npos);
  CHECK(j.find("\"command\":\"ADD\"") != std::string::npos);
  CHECK(j.find("\"out_port\":\"ANY\"") != std::string::npos);
  CHECK(j.find("\"table_id\":3") != std::string::npos);
  CHECK(j.find("\"priority\":7") != std::string::npos);
  CHECK(j.find("\"ipv4_src\":{\"value\":\"10.0.0.0\",\"mask\":\"255.0.0.0\"}") !=
        std::string::npos);
  CHECK(j.find("\"instructions\":[{\"type\":\"apply_actions\"") != std::string::npos);
  OfError e = make_error(ErrType::kBadRequest, code::kBadLen);
  CHECK(error_text(e) == "error type=BAD_REQUEST code=BAD_LEN");
  CHECK(error_json(e) == "{\"error\":{\"type\":\"BAD_REQUEST\",\"code\":\"BAD_LEN\"}}");
  CHECK(to_text(find("error")).find("err_type=BAD_REQUEST code=BAD_LEN") != std::string::npos);
  std::error_code ec = to_error_code(make_error(ErrType::kBadMatch, code::kMatchBadPrereq));
  CHECK(ec.message() == "BAD_MATCH/BAD_PREREQ");
  CHECK(ec.category().name() == std::string("openflow"));
}

TEST_CASE("openflow: table-features properties and queue lists decode to typed fields",
          "[openflow]") {
  auto tf = decode(table_features(
      B({0,    2,    0, 6,  1,    2, 0,    0,    0,    6, 0,  12, 0,    0,    0, 4,
         0,    25,   0, 4,  0,    0, 0,    0,                                        //
         0,    8,    0, 12, 0x80, 0, 0,    4,    0x80, 0, 10, 2,  0,    0,    0, 0,  //
         0xff, 0xfe, 0, 14, 0,    0, 0x23, 0x20, 0,    0, 0,  9,  0xab, 0xcd, 0, 0})));
  REQUIRE(tf.ok());
  const auto& entries = std::get<TableFeaturesReply>(std::get<MultipartReply>(tf->body).body);
  REQUIRE(entries.entries.size() == 1);
  const auto& props = entries.entries[0].properties;
  REQUIRE(props.size() == 4);
  CHECK(props[0].type == 2);
  CHECK(props[0].tables == B({1, 2}));
  CHECK(props[1].type == 6);
  CHECK(props[1].ids == std::vector<FeatureId>{{0, 0, {}}, {25, 0, {}}});
  CHECK(props[2].oxm_ids == std::vector<uint32_t>{0x80000004, 0x80000a02});
  CHECK(props[3].experimenter == 0x2320);
  CHECK(props[3].exp_type == 9);
  CHECK(props[3].data == B({0xab, 0xcd}));
  CHECK(to_json(*tf).find("\"tables\":\"0102\"") != std::string::npos);

  auto q = decode(queue_reply(B({0, 0, 0, 7,  0, 0, 0, 1, 0, 32,   0, 0, 0, 0, 0, 0,  //
                                 0, 2, 0, 16, 0, 0, 0, 0, 3, 0xe8, 0, 0, 0, 0, 0, 0})));
  REQUIRE(q.ok());
  const auto& qr = std::get<QueueGetConfigReply>(q->body);
  REQUIRE(qr.queues.size() == 1);
  CHECK(qr.queues[0].queue_id == 7);
  CHECK(qr.queues[0].port == 1);
  REQUIRE(qr.queues[0].properties.size() == 1);
  CHECK(qr.queues[0].properties[0].property == 2);
  CHECK(qr.queues[0].properties[0].rate == 1000);
}

TEST_CASE("openflow: multipart replies beyond 64 KiB are split with REPLY_MORE", "[openflow]") {
  FlowStatsReply body;
  for (uint32_t i = 0; i < 2000; ++i) body.entries.push_back(testing::nsx_flow_stats(i));
  auto msgs = encode_multipart_reply(77, body);
  REQUIRE(msgs.size() > 1);
  FlowStatsReply merged;
  for (size_t i = 0; i < msgs.size(); ++i) {
    CHECK(msgs[i].size() <= kMaxMessageLen);
    auto d = decode(msgs[i]);
    REQUIRE(d.ok());
    CHECK(d->xid == 77);
    auto& rep = std::get<MultipartReply>(d->body);
    CHECK(rep.flags == (i + 1 < msgs.size() ? kMpReplyMore : 0));
    auto& part = std::get<FlowStatsReply>(rep.body);
    CHECK(!part.entries.empty());
    merged.entries.insert(merged.entries.end(), part.entries.begin(), part.entries.end());
  }
  CHECK(merged == body);
  // A small reply stays in one message without the flag.
  auto one = encode_multipart_reply(1, PortDescReply{{testing::sample_port(1, "p1")}});
  REQUIRE(one.size() == 1);
  CHECK(std::get<MultipartReply>(decode(one[0])->body).flags == 0);
}

TEST_CASE("openflow: HELLO version negotiation", "[openflow]") {
  CHECK(negotiate_version(make_hello(1)).value() == kVersion13);
  Message only10{1, 1, Hello{}};
  auto r = negotiate_version(only10);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().type == uint16_t(ErrType::kHelloFailed));
  Message newer{6, 1, Hello{}};  // 1.5 header, no bitmap: we answer with 1.3
  CHECK(negotiate_version(newer).value() == kVersion13);
  Message bitmap_without_13{6, 1, Hello{{HelloElement{1, {(1u << 1) | (1u << 6)}, {}}}}};
  CHECK_FALSE(negotiate_version(bitmap_without_13).ok());
  Message bitmap_with_13{6, 1, Hello{{HelloElement{1, {(1u << 4) | (1u << 6)}, {}}}}};
  CHECK(negotiate_version(bitmap_with_13).ok());
}
