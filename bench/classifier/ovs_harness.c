/* See ovs_harness.h. Single-threaded use only; RCU callbacks run at vsw_ovs_publish(),
 * vsw_ovs_insert_each(), vsw_ovs_remove_each() and vsw_ovs_destroy() through
 * ovsrcu_quiesce(): with a single thread, a quiesce is a grace period and runs the
 * postponed frees inline (in ovs-vswitchd the "urcu" thread runs them).
 *
 * Two ways to change the classifier:
 *
 * - Batched (vsw_ovs_insert/vsw_ovs_remove, then vsw_ovs_publish): classifier_defer()
 *   before each change and one classifier_publish() plus one quiesce at the end, as
 *   ovs-vswitchd does for the flow_mods of a bundle.
 *
 * - Per rule (vsw_ovs_insert_each/vsw_ovs_remove_each): classifier_insert() and
 *   classifier_remove() with the classifier NOT deferred, which is how ovs-vswitchd applies
 *   a lone flow_mod. Each call then ends in pvector_publish(): if the change added,
 *   removed or reordered a subtable, the writer's copy of the subtable vector is sorted,
 *   stored for readers with ovsrcu_set() and the previous one freed after a grace period;
 *   otherwise there is nothing to publish. Tries, port tries, stage indices and the
 *   subtable's cmap are changed in place (they are RCU structures themselves), so a change
 *   costs about what it costs in a batch, plus at most one copy and sort of the subtable
 *   vector. Then one ovsrcu_quiesce() per rule: ovs-vswitchd's main loop quiesces once
 *   per iteration (in time_poll(), under poll_block()), and a controller that waits for
 *   each flow_mod to take effect (a barrier after each) gets one iteration per flow_mod.
 *   An iteration may read up to 50 messages per connection (ofconn_run()), so a
 *   pipelining controller would share a grace period between rules: one quiesce per rule
 *   is OVS's worst case, and also what our publish() per rule does (it waits for readers
 *   every time). */
#include <config.h>

#include "ovs_harness.h"

#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "cmap.h"
#include "flow.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "ovs-rcu.h"

struct vsw_ovs {
  struct classifier cls;
  struct cls_rule* rules; /* by id */
  uint8_t* live;
  uint32_t capacity;
};

struct vsw_ovs* vsw_ovs_create(int tries, uint32_t capacity) {
  struct vsw_ovs* o = calloc(1, sizeof *o);
  classifier_init(&o->cls, flow_segment_u64s);
  if (tries) {
    static const enum mf_field_id fields[] = {MFF_IPV4_DST, MFF_IPV4_SRC};
    classifier_set_prefix_fields(&o->cls, fields, 2);
  }
  o->rules = calloc(capacity, sizeof *o->rules);
  o->live = calloc(capacity, 1);
  o->capacity = capacity;
  return o;
}

void vsw_ovs_destroy(struct vsw_ovs* o) {
  classifier_defer(&o->cls);
  for (uint32_t i = 0; i < o->capacity; i++) {
    if (o->live[i]) vsw_ovs_remove(o, i);
  }
  classifier_publish(&o->cls);
  ovsrcu_quiesce();
  classifier_destroy(&o->cls);
  ovsrcu_quiesce();
  free(o->rules);
  free(o->live);
  free(o);
}

static void add(struct vsw_ovs* o, uint32_t id, int priority, uint32_t src, uint32_t src_mask,
                uint32_t dst, uint32_t dst_mask, uint8_t proto, uint8_t proto_mask, uint16_t sport,
                uint16_t sport_mask, uint16_t dport, uint16_t dport_mask) {
  struct match m;
  match_init_catchall(&m);
  match_set_dl_type(&m, htons(0x0800));
  if (src_mask) match_set_nw_src_masked(&m, htonl(src), htonl(src_mask));
  if (dst_mask) match_set_nw_dst_masked(&m, htonl(dst), htonl(dst_mask));
  if (proto_mask) match_set_nw_proto(&m, proto);
  if (sport_mask) match_set_tp_src_masked(&m, htons(sport), htons(sport_mask));
  if (dport_mask) match_set_tp_dst_masked(&m, htons(dport), htons(dport_mask));
  cls_rule_init(&o->rules[id], &m, priority);
  classifier_insert(&o->cls, &o->rules[id], OVS_VERSION_MIN, NULL, 0);
  o->live[id] = 1;
}

static void del(struct vsw_ovs* o, uint32_t id) {
  classifier_remove_assert(&o->cls, &o->rules[id]);
  cls_rule_destroy(&o->rules[id]);
  o->live[id] = 0;
}

/* Leaves deferred mode (publishing what a batch left unpublished), so that each change
 * publishes itself. */
static void undefer(struct vsw_ovs* o) {
  if (!o->cls.publish) classifier_publish(&o->cls);
}

void vsw_ovs_insert(struct vsw_ovs* o, uint32_t id, int priority, uint32_t src, uint32_t src_mask,
                    uint32_t dst, uint32_t dst_mask, uint8_t proto, uint8_t proto_mask,
                    uint16_t sport, uint16_t sport_mask, uint16_t dport, uint16_t dport_mask) {
  classifier_defer(&o->cls);
  add(o, id, priority, src, src_mask, dst, dst_mask, proto, proto_mask, sport, sport_mask, dport,
      dport_mask);
}

void vsw_ovs_insert_each(struct vsw_ovs* o, uint32_t id, int priority, uint32_t src,
                         uint32_t src_mask, uint32_t dst, uint32_t dst_mask, uint8_t proto,
                         uint8_t proto_mask, uint16_t sport, uint16_t sport_mask, uint16_t dport,
                         uint16_t dport_mask) {
  undefer(o);
  add(o, id, priority, src, src_mask, dst, dst_mask, proto, proto_mask, sport, sport_mask, dport,
      dport_mask);
  ovsrcu_quiesce();
}

void vsw_ovs_publish(struct vsw_ovs* o) {
  classifier_publish(&o->cls);
  ovsrcu_quiesce();
}

void vsw_ovs_remove(struct vsw_ovs* o, uint32_t id) {
  classifier_defer(&o->cls);
  del(o, id);
}

void vsw_ovs_remove_each(struct vsw_ovs* o, uint32_t id) {
  undefer(o);
  del(o, id);
  ovsrcu_quiesce();
}

int64_t vsw_ovs_lookup(struct vsw_ovs* o, uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport,
                       uint16_t dport, int track, unsigned* wc_bits) {
  struct flow f;
  memset(&f, 0, sizeof f);
  f.dl_type = htons(0x0800);
  f.nw_src = htonl(src);
  f.nw_dst = htonl(dst);
  f.nw_proto = proto;
  f.tp_src = htons(sport);
  f.tp_dst = htons(dport);
  struct flow_wildcards wc;
  flow_wildcards_init_catchall(&wc);
  const struct cls_rule* r = classifier_lookup(&o->cls, OVS_VERSION_MAX, &f, track ? &wc : NULL);
  if (wc_bits) {
    *wc_bits =
        (unsigned)(__builtin_popcount(wc.masks.nw_src) + __builtin_popcount(wc.masks.nw_dst) +
                   __builtin_popcount(wc.masks.nw_proto) + __builtin_popcount(wc.masks.tp_src) +
                   __builtin_popcount(wc.masks.tp_dst));
  }
  return r ? (int64_t)(r - o->rules) : -1;
}

int vsw_ovs_subtables(const struct vsw_ovs* o) {
  return (int)cmap_count(&o->cls.subtables_map);
}
