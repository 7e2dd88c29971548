// The ABI header's fixed layout (docs/abi.md, "The flow key"): a change here breaks every
// userspace built against an older header, so each offset is pinned. Also checks the key
// helpers shared by the module and userspace.
#include <catch2/catch_test_macros.hpp>
#include <cstddef>
#include <cstring>

extern "C" {
#include "flow_table.h"
}

static_assert(sizeof(vsw_flow_key) == 104);
static_assert(sizeof(vsw_flow_key) % 8 == 0);
static_assert(offsetof(vsw_flow_key, in_port) == 0);
static_assert(offsetof(vsw_flow_key, skb_mark) == 4);
static_assert(offsetof(vsw_flow_key, eth_src) == 8);
static_assert(offsetof(vsw_flow_key, eth_dst) == 14);
static_assert(offsetof(vsw_flow_key, eth_type) == 20);
static_assert(offsetof(vsw_flow_key, vlan_tci) == 22);
static_assert(offsetof(vsw_flow_key, ip_proto) == 24);
static_assert(offsetof(vsw_flow_key, ip_tos) == 25);
static_assert(offsetof(vsw_flow_key, ip_ttl) == 26);
static_assert(offsetof(vsw_flow_key, ip_frag) == 27);
static_assert(offsetof(vsw_flow_key, ipv6_label) == 28);
static_assert(offsetof(vsw_flow_key, ipv4_src) == 32);
static_assert(offsetof(vsw_flow_key, ipv4_dst) == 36);
static_assert(offsetof(vsw_flow_key, ipv6_src) == 40);
static_assert(offsetof(vsw_flow_key, ipv6_dst) == 56);
static_assert(offsetof(vsw_flow_key, tp_src) == 72);
static_assert(offsetof(vsw_flow_key, tp_dst) == 74);
static_assert(offsetof(vsw_flow_key, tcp_flags) == 76);
static_assert(offsetof(vsw_flow_key, icmp_type) == 78);
static_assert(offsetof(vsw_flow_key, icmp_code) == 79);
static_assert(offsetof(vsw_flow_key, arp_spa) == 80);
static_assert(offsetof(vsw_flow_key, arp_tpa) == 84);
static_assert(offsetof(vsw_flow_key, arp_sha) == 88);
static_assert(offsetof(vsw_flow_key, arp_tha) == 94);
static_assert(offsetof(vsw_flow_key, arp_op) == 100);
static_assert(offsetof(vsw_flow_key, vlan_dei) == 102);
static_assert(offsetof(vsw_flow_key, pad) == 103);
static_assert(sizeof(vsw_dp_stats) == 7 * 8);
static_assert(sizeof(vsw_vport_stats) == 6 * 8);
static_assert(sizeof(vsw_flow_stats) == 2 * 8);
static_assert(sizeof(vsw_header) == 4);

TEST_CASE("enums keep their wire values", "[common][abi]") {
  CHECK(VSW_PROTO_VERSION == 1);
  CHECK(VSW_DP_CMD_NEW == 1);
  CHECK(VSW_DP_CMD_SET == 4);
  CHECK(VSW_DP_ATTR_KEY_SIZE == 5);
  CHECK(VSW_VPORT_ATTR_IFINDEX == 6);
  CHECK(VSW_FLOW_ATTR_PAD == 9);
  CHECK(VSW_ACTION_ATTR_POP_VLAN == 5);
  CHECK(VSW_SET_ATTR_L4_DST == 8);
  CHECK(VSW_PACKET_CMD_EXECUTE == 3);
  CHECK(VSW_PACKET_ATTR_IN_PORT == 5);
}

TEST_CASE("key helpers: mask, and the microflow cache's key hash", "[common]") {
  vsw_flow_key key, mask{}, masked;
  std::memset(&key, 0xab, sizeof(key));
  mask.eth_type = 0xffff;
  mask.ipv4_dst = 0xffffffff;
  vsw_key_mask(&masked, &key, &mask);
  CHECK(masked.eth_type == key.eth_type);
  CHECK(masked.ipv4_dst == key.ipv4_dst);
  CHECK(masked.in_port == 0);
  CHECK(masked.ipv4_src == 0);

  // vsw_key_hash: every word counts, so does the basis, and 0 ("no hash") never comes out.
  union vsw_key_words w {};
  w.key = key;
  const u32 h = vsw_key_hash(&w, 0);
  CHECK(h != 0);
  CHECK(vsw_key_hash(&w, 1) != h);
  for (size_t i = 0; i < VSW_KEY_WORDS; i++) {
    union vsw_key_words v = w;
    v.w[i] ^= 1ULL << (i * 5 % 64);
    CHECK(vsw_key_hash(&v, 0) != h);
  }
  w = {};
  CHECK(vsw_key_hash(&w, 0) != 0);
}
