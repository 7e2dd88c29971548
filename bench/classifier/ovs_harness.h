/* A C interface to Open vSwitch 3.1's lib/classifier for bench/classifier: 5-tuple rules
 * in, lookups with wildcard tracking out. Built only with -DVSW_BENCH_OVS=ON, linked
 * against the libopenvswitch.a that build-ovs.sh builds in the build tree. */
#ifndef VSW_BENCH_OVS_HARNESS_H
#define VSW_BENCH_OVS_HARNESS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vsw_ovs;

/* tries != 0: prefix tries on ipv4_dst and ipv4_src, as ovs-vswitchd sets them by default;
 * staged lookup uses flow_segment_u64s, as ovs-vswitchd's tables do. */
struct vsw_ovs* vsw_ovs_create(int tries, uint32_t capacity);
void vsw_ovs_destroy(struct vsw_ovs*);
/* Adds rule `id` (0 <= id < capacity) without publishing; vsw_ovs_publish() publishes. */
void vsw_ovs_insert(struct vsw_ovs*, uint32_t id, int priority, uint32_t src, uint32_t src_mask,
                    uint32_t dst, uint32_t dst_mask, uint8_t proto, uint8_t proto_mask,
                    uint16_t sport, uint16_t sport_mask, uint16_t dport, uint16_t dport_mask);
void vsw_ovs_publish(struct vsw_ovs*);
/* Removes rule `id` without publishing; vsw_ovs_publish() publishes. */
void vsw_ovs_remove(struct vsw_ovs*, uint32_t id);
/* The same one rule at a time, as ovs-vswitchd applies a lone flow_mod: not deferred, so
 * the change publishes itself, then one RCU grace period (ovsrcu_quiesce()). */
void vsw_ovs_insert_each(struct vsw_ovs*, uint32_t id, int priority, uint32_t src,
                         uint32_t src_mask, uint32_t dst, uint32_t dst_mask, uint8_t proto,
                         uint8_t proto_mask, uint16_t sport, uint16_t sport_mask, uint16_t dport,
                         uint16_t dport_mask);
void vsw_ovs_remove_each(struct vsw_ovs*, uint32_t id);
/* Returns the matching rule's id or -1; *wc_bits = un-wildcarded L3/L4 bits (5-tuple). */
int64_t vsw_ovs_lookup(struct vsw_ovs*, uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport,
                       uint16_t dport, int track, unsigned* wc_bits);
int vsw_ovs_subtables(const struct vsw_ovs*);

#ifdef __cplusplus
}
#endif

#endif
