/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flow.h - flows (megaflow + actions + stats) and key extraction.
 */
#ifndef VSW_FLOW_H
#define VSW_FLOW_H

#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/ip.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/u64_stats_sync.h>
#include <linux/udp.h>
#include <net/ip.h>

#include "compat.h"
#include "datapath.h"

/* Validated action list, a copy of the VSW_*_ATTR_ACTIONS payload. */
struct vsw_actions {
	struct rcu_head rcu;
	int len;
	int output;		/* the port when the list is one OUTPUT, else -1 */
	struct nlattr acts[];
};

struct vsw_flow_pcpu_stats {
	u64 packets;
	u64 bytes;
	unsigned long used; /* jiffies, 0 = never */
	u16 tcp_flags;
	u32 gen; /* vsw_flow.gen the counters belong to */
	struct u64_stats_sync syncp;
};

/**
 * struct vsw_flow - one installed megaflow.
 * @mf: table linkage and masked key (common/); vsw_mutex for writes.
 * @id: index in vsw_dp.flows; constant.
 * @acts: actions; replaced under vsw_mutex, read under RCU.
 * @stats: per-CPU counters, written by the CPU that hits the flow.
 * @gen: counter generation, bumped under vsw_mutex to clear the counters.
 */
struct vsw_flow {
	struct vsw_mflow mf;
	u32 id;
	struct vsw_actions __rcu *acts;
	struct vsw_flow_pcpu_stats __percpu *stats;
	u32 gen;
	struct rcu_head rcu;
};

/* The key's view of an outer tag: present bit in the DEI place, DEI apart. */
static inline void vsw_key_set_tag(struct vsw_flow_key *key, u16 tci)
{
	key->vlan_tci = htons(tci | VSW_VLAN_TAG_PRESENT);
	key->vlan_dei = !!(tci & VLAN_CFI_MASK);
}

void vsw_flow_extract_slow(struct sk_buff *skb, u32 in_port, struct vsw_flow_key *key);

/*
 * A linear, untagged (or tag-offloaded) IPv4 TCP or UDP frame with a 20-byte
 * IP header, not a fragment: fill @key as the general path would and return
 * true. Otherwise return false having changed neither @key nor @skb.
 */
static __always_inline bool vsw_extract_fast(struct sk_buff *skb, u32 in_port,
					     struct vsw_flow_key *key)
{
	const struct ethhdr *eth = (const struct ethhdr *)skb->data;
	const struct iphdr *iph = (const struct iphdr *)(eth + 1);
	const struct tcphdr *th = (const struct tcphdr *)(iph + 1);
	unsigned int len = skb_headlen(skb);

	/* TCP's and UDP's ports are their first four bytes. */
	if (len < ETH_HLEN + sizeof(*iph) + sizeof(struct udphdr) ||
	    eth->h_proto != htons(ETH_P_IP) || *(const u8 *)iph != 0x45 ||
	    (iph->frag_off & htons(IP_MF | IP_OFFSET)))
		return false;
	if (iph->protocol == IPPROTO_TCP) {
		if (len < ETH_HLEN + sizeof(*iph) + sizeof(*th) || th->doff < 5)
			return false;
		key->tcp_flags = htons(ntohl(tcp_flag_word(th)) >> 16 & 0x0fff);
	} else if (iph->protocol == IPPROTO_UDP) {
		key->tcp_flags = 0;
	} else {
		return false;
	}
	key->in_port = in_port;
	key->skb_mark = skb->mark;
	ether_addr_copy(key->eth_src, eth->h_source);
	ether_addr_copy(key->eth_dst, eth->h_dest);
	key->eth_type = eth->h_proto;
	key->ip_proto = iph->protocol;
	key->ip_tos = iph->tos;
	key->ip_ttl = iph->ttl;
	key->ip_frag = 0;
	key->ipv6_label = 0;
	key->ipv4_src = iph->saddr;
	key->ipv4_dst = iph->daddr;
	memset(key->ipv6_src, 0, sizeof(key->ipv6_src));
	memset(key->ipv6_dst, 0, sizeof(key->ipv6_dst));
	key->tp_src = th->source;
	key->tp_dst = th->dest;
	key->icmp_type = 0;
	key->icmp_code = 0;
	memset_startat(key, 0, arp_spa);
	key->vlan_tci = 0;
	if (skb_vlan_tag_present(skb))
		vsw_key_set_tag(key, skb_vlan_tag_get(skb));
	skb_reset_mac_header(skb);
	skb_set_network_header(skb, ETH_HLEN);
	skb_reset_mac_len(skb);
	skb_set_transport_header(skb, ETH_HLEN + sizeof(*iph));
	return true;
}

/* See flow.c. Inline: the fast path costs no call on the per-packet path. */
static __always_inline void vsw_flow_extract(struct sk_buff *skb, u32 in_port,
					     struct vsw_flow_key *key)
{
	if (unlikely(!vsw_extract_fast(skb, in_port, key)))
		vsw_flow_extract_slow(skb, in_port, key);
}

struct vsw_flow *vsw_flow_alloc(void);
void vsw_flow_free(struct vsw_flow *flow);
void vsw_flow_free_rcu(struct vsw_flow *flow);
void vsw_flow_get_stats(struct vsw_flow *flow, struct vsw_flow_stats *st, unsigned long *used,
			u16 *tcp_flags);
void vsw_flow_clear_stats(struct vsw_flow *flow);

/*
 * Count a hit; runs with bottom halves disabled. Each CPU writes only its own
 * counters: the first hit after a clear (a new flow->gen) restarts them.
 */
static inline void vsw_flow_used(struct vsw_flow *flow, const struct sk_buff *skb,
				 const struct vsw_flow_key *key)
{
	struct vsw_flow_pcpu_stats *st = this_cpu_ptr(flow->stats);
	u32 gen = READ_ONCE(flow->gen);

	u64_stats_update_begin(&st->syncp);
	if (unlikely(st->gen != gen)) {
		st->gen = gen;
		st->packets = 0;
		st->bytes = 0;
		st->tcp_flags = 0;
	}
	st->packets++;
	st->bytes += skb->len;
	st->used = jiffies;
	st->tcp_flags |= ntohs(key->tcp_flags);
	u64_stats_update_end(&st->syncp);
}

/* actions.c */
int vsw_actions_validate(const struct nlattr *acts, const struct vsw_flow_key *key,
			 const struct vsw_flow_key *mask, struct netlink_ext_ack *extack);
struct vsw_actions *vsw_actions_copy(const struct nlattr *acts);
void vsw_actions_execute(struct vsw_dp *dp, struct sk_buff *skb, struct vsw_flow_key *key,
			 const struct nlattr *acts, int len);

/* upcall.c */
int vsw_upcall(struct vsw_dp *dp, struct sk_buff *skb, const struct vsw_flow_key *key,
	       u8 cmd, u32 pid, const struct nlattr *cookie);

#endif /* VSW_FLOW_H */
