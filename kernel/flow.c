// SPDX-License-Identifier: GPL-2.0
/*
 * flow.c - flow key extraction from an skb, and the flow object.
 *
 * vsw_flow_extract() (flow.h) reads a frame whose skb->data points at the
 * Ethernet header and fills every field of struct vsw_flow_key the frame has.
 * The general way, vsw_flow_extract_slow(), reads through skb_header_pointer(),
 * so it never writes the packet, works on non-linear skbs, and stops at the
 * first truncated or malformed header: the fields up to there are set, the rest
 * stay zero, and the packet still gets a deterministic key (so a flow or an
 * upcall can still handle it). It also sets the skb's network and transport
 * header offsets for the actions.
 *
 * Fast path: most frames are linear IPv4 TCP or UDP without IP options.
 * vsw_extract_fast() (flow.h, inline in the per-packet path) reads those in
 * place and writes each key field once (no memset of the key, no stack copies
 * of headers, no call); any other frame goes the general way. Both produce the
 * same key for a frame the fast path takes; selftest key_extract_paths compares
 * upcalled keys of frames on each side of that line with the expected ones.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/if_arp.h>
#include <linux/ipv6.h>
#include <linux/sctp.h>
#include <net/dsfield.h>
#include <net/ipv6.h>

#include "flow.h"

static const void *hdr(struct sk_buff *skb, int off, int len, void *buf)
{
	return skb_header_pointer(skb, off, len, buf);
}

static void extract_l4(struct sk_buff *skb, int off, struct vsw_flow_key *key)
{
	union {
		struct tcphdr tcp;
		struct udphdr udp;
		struct sctphdr sctp;
		struct icmphdr icmp;
	} buf;
	const struct tcphdr *th;
	const struct udphdr *uh;
	const struct sctphdr *sh;
	const u8 *ih;

	skb_set_transport_header(skb, off);
	switch (key->ip_proto) {
	case IPPROTO_TCP:
		th = hdr(skb, off, sizeof(*th), &buf);
		if (!th || th->doff < 5)
			return;
		key->tp_src = th->source;
		key->tp_dst = th->dest;
		key->tcp_flags = htons(ntohl(tcp_flag_word(th)) >> 16 & 0x0fff);
		break;
	case IPPROTO_UDP:
		uh = hdr(skb, off, sizeof(*uh), &buf);
		if (!uh)
			return;
		key->tp_src = uh->source;
		key->tp_dst = uh->dest;
		break;
	case IPPROTO_SCTP:
		sh = hdr(skb, off, sizeof(*sh), &buf);
		if (!sh)
			return;
		key->tp_src = sh->source;
		key->tp_dst = sh->dest;
		break;
	case IPPROTO_ICMP:
		if (key->eth_type != htons(ETH_P_IP))
			return;
		fallthrough;
	case IPPROTO_ICMPV6:
		ih = hdr(skb, off, 2, &buf);
		if (!ih)
			return;
		key->icmp_type = ih[0];
		key->icmp_code = ih[1];
		break;
	}
}

static void extract_ipv4(struct sk_buff *skb, int off, struct vsw_flow_key *key)
{
	struct iphdr buf;
	const struct iphdr *iph = hdr(skb, off, sizeof(buf), &buf);
	int ihl;

	if (!iph)
		return;
	ihl = iph->ihl * 4;
	if (iph->version != 4 || ihl < sizeof(*iph))
		return;
	key->ipv4_src = iph->saddr;
	key->ipv4_dst = iph->daddr;
	key->ip_proto = iph->protocol;
	key->ip_tos = iph->tos;
	key->ip_ttl = iph->ttl;
	if (iph->frag_off & htons(IP_MF | IP_OFFSET))
		key->ip_frag = VSW_FRAG_ANY;
	if (iph->frag_off & htons(IP_OFFSET)) {
		key->ip_frag |= VSW_FRAG_LATER;
		return;
	}
	extract_l4(skb, off + ihl, key);
}

static void extract_ipv6(struct sk_buff *skb, int off, struct vsw_flow_key *key)
{
	struct ipv6hdr buf;
	const struct ipv6hdr *ip6 = hdr(skb, off, sizeof(buf), &buf);
	u8 nexthdr;
	int i;

	if (!ip6 || ip6->version != 6)
		return;
	memcpy(key->ipv6_src, &ip6->saddr, 16);
	memcpy(key->ipv6_dst, &ip6->daddr, 16);
	key->ipv6_label = *(const __be32 *)ip6 & htonl(0x000fffff);
	key->ip_tos = ipv6_get_dsfield(ip6);
	key->ip_ttl = ip6->hop_limit;
	nexthdr = ip6->nexthdr;
	off += sizeof(*ip6);
	/* Walk a bounded number of extension headers. */
	for (i = 0; i < 8; i++) {
		struct ipv6_opt_hdr obuf;
		const struct ipv6_opt_hdr *oh;
		struct frag_hdr fbuf;
		const struct frag_hdr *fh;

		if (nexthdr == NEXTHDR_FRAGMENT) {
			fh = hdr(skb, off, sizeof(*fh), &fbuf);
			if (!fh)
				break;
			key->ip_frag = VSW_FRAG_ANY;
			nexthdr = fh->nexthdr;
			off += sizeof(*fh);
			/* Past a later fragment's header is payload, not headers. */
			if (fh->frag_off & htons(IP6_OFFSET)) {
				key->ip_frag |= VSW_FRAG_LATER;
				break;
			}
			continue;
		}
		if (nexthdr != NEXTHDR_HOP && nexthdr != NEXTHDR_ROUTING &&
		    nexthdr != NEXTHDR_DEST)
			break;
		oh = hdr(skb, off, sizeof(*oh), &obuf);
		if (!oh)
			break;
		nexthdr = oh->nexthdr;
		off += ipv6_optlen(oh);
	}
	key->ip_proto = nexthdr;
	if (!(key->ip_frag & VSW_FRAG_LATER) && i < 8)
		extract_l4(skb, off, key);
}

static void extract_arp(struct sk_buff *skb, int off, struct vsw_flow_key *key)
{
	struct {
		struct arphdr h;
		u8 sha[ETH_ALEN];
		__be32 spa;
		u8 tha[ETH_ALEN];
		__be32 tpa;
	} __packed buf;
	const typeof(buf) *arp = hdr(skb, off, sizeof(buf), &buf);

	if (!arp || arp->h.ar_hrd != htons(ARPHRD_ETHER) || arp->h.ar_pro != htons(ETH_P_IP) ||
	    arp->h.ar_hln != ETH_ALEN || arp->h.ar_pln != 4)
		return;
	key->arp_op = arp->h.ar_op;
	memcpy(key->arp_sha, arp->sha, ETH_ALEN);
	memcpy(key->arp_tha, arp->tha, ETH_ALEN);
	key->arp_spa = arp->spa;
	key->arp_tpa = arp->tpa;
}

void vsw_flow_extract_slow(struct sk_buff *skb, u32 in_port, struct vsw_flow_key *key)
{
	struct vlan_hdr vbuf;
	const struct vlan_hdr *vh;
	struct ethhdr ebuf;
	const struct ethhdr *eth;
	int off = ETH_HLEN;
	__be16 proto;

	memset(key, 0, sizeof(*key));
	key->in_port = in_port;
	key->skb_mark = skb->mark;
	skb_reset_mac_header(skb);
	skb->transport_header = (typeof(skb->transport_header))~0U;
	eth = hdr(skb, 0, ETH_HLEN, &ebuf);
	if (!eth)
		return;
	ether_addr_copy(key->eth_src, eth->h_source);
	ether_addr_copy(key->eth_dst, eth->h_dest);
	proto = eth->h_proto;
	if (skb_vlan_tag_present(skb)) {
		vsw_key_set_tag(key, skb_vlan_tag_get(skb));
	} else if (proto == htons(ETH_P_8021Q)) {
		vh = hdr(skb, off, sizeof(*vh), &vbuf);
		if (!vh) {
			key->eth_type = proto;
			return;
		}
		vsw_key_set_tag(key, ntohs(vh->h_vlan_TCI));
		proto = vh->h_vlan_encapsulated_proto;
		off += sizeof(*vh);
	}
	if (ntohs(proto) < ETH_P_802_3_MIN)
		proto = htons(0x05ff);
	key->eth_type = proto;
	skb_set_network_header(skb, off);
	skb_reset_mac_len(skb);
	if (proto == htons(ETH_P_IP))
		extract_ipv4(skb, off, key);
	else if (proto == htons(ETH_P_IPV6))
		extract_ipv6(skb, off, key);
	else if (proto == htons(ETH_P_ARP))
		extract_arp(skb, off, key);
}

struct vsw_flow *vsw_flow_alloc(void)
{
	struct vsw_flow *flow = kzalloc(sizeof(*flow), GFP_KERNEL_ACCOUNT);
	int cpu;

	if (!flow)
		return NULL;
	flow->stats = alloc_percpu_gfp(struct vsw_flow_pcpu_stats, GFP_KERNEL_ACCOUNT);
	if (!flow->stats) {
		kfree(flow);
		return NULL;
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(flow->stats, cpu)->syncp);
	return flow;
}

/* Free a flow no reader can see (never published, or after a grace period). */
void vsw_flow_free(struct vsw_flow *flow)
{
	kfree(rcu_dereference_raw(flow->acts));
	free_percpu(flow->stats);
	kfree(flow);
}

static void flow_free_cb(struct rcu_head *rcu)
{
	vsw_flow_free(container_of(rcu, struct vsw_flow, rcu));
}

void vsw_flow_free_rcu(struct vsw_flow *flow)
{
	call_rcu(&flow->rcu, flow_free_cb);
}

void vsw_flow_get_stats(struct vsw_flow *flow, struct vsw_flow_stats *out, unsigned long *used,
			u16 *tcp_flags)
{
	u32 gen = READ_ONCE(flow->gen);
	int cpu;

	memset(out, 0, sizeof(*out));
	*used = 0;
	*tcp_flags = 0;
	for_each_possible_cpu(cpu) {
		const struct vsw_flow_pcpu_stats *st = per_cpu_ptr(flow->stats, cpu);
		u64 packets, bytes;
		unsigned long u;
		unsigned int start;
		bool stale;
		u16 fl;

		do {
			start = u64_stats_fetch_begin(&st->syncp);
			stale = st->gen != gen;
			packets = st->packets;
			bytes = st->bytes;
			u = st->used;
			fl = st->tcp_flags;
		} while (u64_stats_fetch_retry(&st->syncp, start));
		if (stale)
			continue; /* not hit since the last clear */
		out->n_packets += packets;
		out->n_bytes += bytes;
		*tcp_flags |= fl;
		if (u && (!*used || time_after(u, *used)))
			*used = u;
	}
}

/*
 * Reset the counters; vsw_mutex held. Other CPUs' counters are not written
 * (their writers do not lock against us): they become stale, read as zero,
 * and restart at their CPU's next hit. A hit racing with the clear may be lost.
 */
void vsw_flow_clear_stats(struct vsw_flow *flow)
{
	WRITE_ONCE(flow->gen, flow->gen + 1);
}
