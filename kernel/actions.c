// SPDX-License-Identifier: GPL-2.0
/*
 * actions.c - action lists: validated when a flow is installed (or a packet
 * executed), then run per packet without further checks.
 *
 * A list is the payload of a nested VSW_*_ATTR_ACTIONS attribute, already
 * checked against vsw_action_policy by the netlink layer (types, lengths,
 * ranges, nested field policies). vsw_actions_validate() adds what a policy
 * cannot say: the count and size limits, required nested fields, and that SET
 * fields only rewrite headers the flow's match guarantees are present (a VLAN
 * tag may also come from an earlier PUSH_VLAN). Setters fix the checksums that
 * cover what they change, like openvswitch.ko's, and CHECKSUM_COMPLETE sums.
 *
 * Execution keeps skb->data at the Ethernet header. The last OUTPUT sends the
 * skb itself; earlier ones send clones, emitted before any later action that
 * changes the packet.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/icmpv6.h>
#include <linux/if_arp.h>
#include <linux/if_vlan.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/dsfield.h>
#include <net/genetlink.h>
#include <net/ipv6.h>

#include "flow.h"
#include "vport.h"

static bool exact16(__be16 key, __be16 mask, u16 want)
{
	return mask == htons(0xffff) && key == htons(want);
}

/* What each SET field needs the flow's match (or earlier actions) to guarantee. */
enum { NEED_NONE, NEED_IPV4, NEED_IPV6, NEED_ARP, NEED_L4, NEED_TAG, NEED_MAX };

static const u8 set_needs[VSW_SET_ATTR_MAX + 1] = {
	[VSW_SET_ATTR_IPV4_SRC ... VSW_SET_ATTR_IPV4_TTL] = NEED_IPV4,
	[VSW_SET_ATTR_L4_SRC ... VSW_SET_ATTR_L4_DST] = NEED_L4,
	[VSW_SET_ATTR_VLAN_VID ... VSW_SET_ATTR_VLAN_PCP] = NEED_TAG,
	[VSW_SET_ATTR_IPV6_SRC ... VSW_SET_ATTR_IPV6_HLIMIT] = NEED_IPV6,
	[VSW_SET_ATTR_ARP_OP ... VSW_SET_ATTR_ARP_TPA] = NEED_ARP,
};

static const char * const set_needs_msg[NEED_MAX] = {
	[NEED_IPV4] = "set(ipv4) needs the flow to match eth_type(0x0800)",
	[NEED_IPV6] = "set(ipv6) needs the flow to match eth_type(0x86dd)",
	[NEED_ARP] = "set(arp) needs the flow to match eth_type(0x0806)",
	[NEED_L4] = "set(l4) needs the flow to match IPv4/IPv6 and proto TCP or UDP",
	[NEED_TAG] = "set(vlan) needs the flow to match a VLAN tag or a push_vlan before it",
};

static int validate_set(const struct nlattr *a, const struct vsw_flow_key *key,
			const struct vsw_flow_key *mask, bool tagged,
			struct netlink_ext_ack *extack)
{
	bool ipv4 = exact16(key->eth_type, mask->eth_type, ETH_P_IP);
	bool ipv6 = exact16(key->eth_type, mask->eth_type, ETH_P_IPV6);
	bool l4 = (ipv4 || ipv6) && mask->ip_proto == 0xff &&
		  (key->ip_proto == IPPROTO_TCP || key->ip_proto == IPPROTO_UDP);
	bool arp = exact16(key->eth_type, mask->eth_type, ETH_P_ARP);
	const bool ok[NEED_MAX] = { true, ipv4, ipv6, arp, l4, tagged };
	const struct nlattr *f;
	int rem;

	if (!nla_len(a)) {
		NL_SET_ERR_MSG_ATTR(extack, a, "set() with no field");
		return -EINVAL;
	}
	nla_for_each_nested(f, a, rem) {
		u8 need = nla_type(f) <= VSW_SET_ATTR_MAX ? set_needs[nla_type(f)] : NEED_NONE;

		if (!ok[need]) {
			NL_SET_BAD_ATTR(extack, f);
			if (extack)
				extack->_msg = set_needs_msg[need];
			return -EINVAL;
		}
	}
	return 0;
}

int vsw_actions_validate(const struct nlattr *acts, const struct vsw_flow_key *key,
			 const struct vsw_flow_key *mask, struct netlink_ext_ack *extack)
{
	bool tagged = ntohs(key->vlan_tci & mask->vlan_tci) & VSW_VLAN_TAG_PRESENT;
	const struct nlattr *a;
	int rem, n = 0, err;

	/* Nested fields may repeat: bound the bytes, so every reply fits. */
	if (nla_len(acts) > VSW_MAX_ACTIONS_LEN) {
		NL_SET_ERR_MSG_ATTR(extack, acts, "actions longer than VSW_MAX_ACTIONS_LEN bytes");
		return -EINVAL;
	}
	nla_for_each_nested(a, acts, rem) {
		if (++n > VSW_MAX_ACTIONS) {
			NL_SET_ERR_MSG_ATTR(extack, a, "too many actions");
			return -EINVAL;
		}
		switch (nla_type(a)) {
		case VSW_ACTION_ATTR_OUTPUT:
			break;
		case VSW_ACTION_ATTR_POP_VLAN:
			tagged = false; /* an inner tag may or may not follow */
			break;
		case VSW_ACTION_ATTR_USERSPACE:
			if (!nla_find_nested(a, VSW_USERSPACE_ATTR_PID)) {
				NL_SET_ERR_MSG_ATTR(extack, a, "userspace action needs a pid");
				return -EINVAL;
			}
			break;
		case VSW_ACTION_ATTR_SET:
			err = validate_set(a, key, mask, tagged, extack);
			if (err)
				return err;
			break;
		case VSW_ACTION_ATTR_PUSH_VLAN:
			if (!nla_find_nested(a, VSW_VLAN_ATTR_VID)) {
				NL_SET_ERR_MSG_ATTR(extack, a, "push_vlan needs a vid");
				return -EINVAL;
			}
			tagged = true;
			break;
		default:
			NL_SET_ERR_MSG_ATTR(extack, a, "unknown action");
			return -EINVAL;
		}
	}
	return 0;
}

struct vsw_actions *vsw_actions_copy(const struct nlattr *acts)
{
	int len = acts ? nla_len(acts) : 0;
	struct vsw_actions *sa = kmalloc(sizeof(*sa) + len, GFP_KERNEL_ACCOUNT);

	if (!sa)
		return NULL;
	sa->len = len;
	sa->output = -1;
	if (len)
		memcpy(sa->acts, nla_data(acts), len);
	/* A lone OUTPUT (the usual megaflow) is run without walking the list. */
	if (len == nla_total_size(sizeof(u32)) && nla_type(sa->acts) == VSW_ACTION_ATTR_OUTPUT &&
	    nla_get_u32(sa->acts) < VSW_MAX_PORTS)
		sa->output = nla_get_u32(sa->acts);
	return sa;
}

/* A copy of @skb out of port @port_no (vsw_vport_output() sends the original). */
static void output_clone(struct vsw_dp *dp, u32 port_no, struct sk_buff *skb)
{
	struct sk_buff *clone = skb_clone(skb, GFP_ATOMIC);

	if (clone)
		vsw_vport_output(dp, port_no, clone);
}

static void userspace(struct vsw_dp *dp, struct sk_buff *skb, const struct vsw_flow_key *key,
		      const struct nlattr *a)
{
	const struct nlattr *cookie = nla_find_nested(a, VSW_USERSPACE_ATTR_COOKIE);
	u32 pid = nla_get_u32(nla_find_nested(a, VSW_USERSPACE_ATTR_PID));

	if (!pid)
		pid = vsw_dp_upcall_pid(dp, vsw_dp_port(dp, key->in_port));
	if (vsw_upcall(dp, skb, key, VSW_PACKET_CMD_ACTION, pid, cookie))
		vsw_dp_count_lost(dp);
}

/* The L4 header of @skb, writable, or NULL if the packet has none. */
static void *l4_writable(struct sk_buff *skb, const struct vsw_flow_key *key, int len)
{
	if ((key->ip_frag & VSW_FRAG_LATER) || !skb_transport_header_was_set(skb))
		return NULL;
	if (skb_ensure_writable(skb, skb_transport_offset(skb) + len))
		return NULL;
	return skb_transport_header(skb);
}

/*
 * The L4 checksum covering the pseudo header, writable, or NULL if there is
 * none: not TCP, UDP or (in IPv6) ICMPv6, no L4 header, or UDP without one.
 * Finish with l4_check_done().
 */
static __sum16 *l4_check(struct sk_buff *skb, const struct vsw_flow_key *key)
{
	__sum16 *check;
	u8 *l4;
	int off;

	if (key->ip_proto == IPPROTO_TCP)
		off = offsetof(struct tcphdr, check);
	else if (key->ip_proto == IPPROTO_UDP)
		off = offsetof(struct udphdr, check);
	else if (key->ip_proto == IPPROTO_ICMPV6 && key->eth_type == htons(ETH_P_IPV6))
		off = offsetof(struct icmp6hdr, icmp6_cksum);
	else
		return NULL;
	l4 = l4_writable(skb, key, off + sizeof(*check));
	if (!l4)
		return NULL;
	check = (__sum16 *)(l4 + off);
	if (key->ip_proto == IPPROTO_UDP && !*check && skb->ip_summed != CHECKSUM_PARTIAL)
		return NULL;
	return check;
}

static void l4_check_done(const struct vsw_flow_key *key, __sum16 *check)
{
	if (key->ip_proto == IPPROTO_UDP && !*check)
		*check = CSUM_MANGLED_0;
}

static void set_l4_port(struct sk_buff *skb, struct vsw_flow_key *key, bool src, __be16 port)
{
	__sum16 *check;
	__be16 *p;

	/* Ports are the first two 16-bit words of both TCP and UDP. */
	if (!l4_writable(skb, key, 2 * sizeof(*p)))
		return;
	check = l4_check(skb, key);
	p = (__be16 *)skb_transport_header(skb) + (src ? 0 : 1);
	if (check) {
		inet_proto_csum_replace2(check, skb, *p, port, false);
		l4_check_done(key, check);
	}
	*p = port;
	*(src ? &key->tp_src : &key->tp_dst) = port;
}

static struct iphdr *ipv4_writable(struct sk_buff *skb, const struct vsw_flow_key *key)
{
	struct iphdr *iph;

	if (key->eth_type != htons(ETH_P_IP) ||
	    skb_ensure_writable(skb, skb_network_offset(skb) + sizeof(*iph)))
		return NULL;
	iph = ip_hdr(skb);
	return iph->version == 4 && iph->ihl >= 5 ? iph : NULL;
}

static void set_ipv4_addr(struct sk_buff *skb, struct vsw_flow_key *key, bool src, __be32 addr)
{
	struct iphdr *iph = ipv4_writable(skb, key);
	__sum16 *check;
	__be32 *p;

	if (!iph)
		return;
	check = l4_check(skb, key);
	iph = ip_hdr(skb); /* the head may have moved */
	p = src ? &iph->saddr : &iph->daddr;
	if (check) {
		inet_proto_csum_replace4(check, skb, *p, addr, true);
		l4_check_done(key, check);
	}
	csum_replace4(&iph->check, *p, addr);
	*p = addr;
	*(src ? &key->ipv4_src : &key->ipv4_dst) = addr;
}

static struct ipv6hdr *ipv6_writable(struct sk_buff *skb, const struct vsw_flow_key *key)
{
	if (key->eth_type != htons(ETH_P_IPV6) ||
	    skb_ensure_writable(skb, skb_network_offset(skb) + sizeof(struct ipv6hdr)))
		return NULL;
	return ipv6_hdr(skb)->version == 6 ? ipv6_hdr(skb) : NULL;
}

static void set_ipv6_addr(struct sk_buff *skb, struct vsw_flow_key *key, bool src,
			  const struct nlattr *f)
{
	struct ipv6hdr *ip6 = ipv6_writable(skb, key);
	unsigned int off = 0;
	__sum16 *check = NULL;
	struct in6_addr *p;

	if (!ip6)
		return;
	/* Past a routing header the pseudo header holds the final destination. */
	if (src || ipv6_find_hdr(skb, &off, NEXTHDR_ROUTING, NULL, NULL) != NEXTHDR_ROUTING)
		check = l4_check(skb, key);
	ip6 = ipv6_hdr(skb);
	p = src ? &ip6->saddr : &ip6->daddr;
	if (check) {
		inet_proto_csum_replace16(check, skb, p->s6_addr32, nla_data(f), true);
		l4_check_done(key, check);
	}
	memcpy(p, nla_data(f), sizeof(*p));
	memcpy(src ? key->ipv6_src : key->ipv6_dst, nla_data(f), sizeof(*p));
}

/* Traffic class, flow label, hop limit: in the first 8 bytes, outside any checksum. */
static void set_ipv6_field(struct sk_buff *skb, struct vsw_flow_key *key, const struct nlattr *f)
{
	struct ipv6hdr *ip6 = ipv6_writable(skb, key);

	if (!ip6)
		return;
	skb_postpull_rcsum(skb, ip6, 8);
	if (nla_type(f) == VSW_SET_ATTR_IPV6_TCLASS) {
		key->ip_tos = nla_get_u8(f);
		ipv6_change_dsfield(ip6, 0, key->ip_tos);
	} else if (nla_type(f) == VSW_SET_ATTR_IPV6_LABEL) {
		key->ipv6_label = nla_get_be32(f);
		*(__be32 *)ip6 = (*(__be32 *)ip6 & ~htonl(0xfffff)) | key->ipv6_label;
	} else {
		key->ip_ttl = nla_get_u8(f);
		ip6->hop_limit = key->ip_ttl;
	}
	skb_postpush_rcsum(skb, ip6, 8);
}

/* Rewrite @len bytes at @p of a writable packet, keeping CHECKSUM_COMPLETE right. */
static void rewrite(struct sk_buff *skb, void *p, const void *data, int len)
{
	skb_postpull_rcsum(skb, p, len);
	memcpy(p, data, len);
	skb_postpush_rcsum(skb, p, len);
}

/* An Ethernet/IPv4 ARP header's fields, by VSW_SET_ATTR_ARP_OP..ARP_TPA. */
static const struct {
	u8 off, len, key_off;
} arp_fields[] = {
	{ 6, 2, offsetof(struct vsw_flow_key, arp_op) },
	{ 8, ETH_ALEN, offsetof(struct vsw_flow_key, arp_sha) },
	{ 18, ETH_ALEN, offsetof(struct vsw_flow_key, arp_tha) },
	{ 14, 4, offsetof(struct vsw_flow_key, arp_spa) },
	{ 24, 4, offsetof(struct vsw_flow_key, arp_tpa) },
};

static void set_arp(struct sk_buff *skb, struct vsw_flow_key *key, const struct nlattr *f)
{
	typeof(arp_fields[0]) *af = &arp_fields[nla_type(f) - VSW_SET_ATTR_ARP_OP];
	struct arphdr *arp;

	if (key->eth_type != htons(ETH_P_ARP) ||
	    skb_ensure_writable(skb, skb_network_offset(skb) + 28))
		return;
	arp = arp_hdr(skb);
	if (arp->ar_hrd != htons(ARPHRD_ETHER) || arp->ar_pro != htons(ETH_P_IP) ||
	    arp->ar_hln != ETH_ALEN || arp->ar_pln != 4)
		return;
	rewrite(skb, (u8 *)arp + af->off, nla_data(f), af->len);
	memcpy((u8 *)key + af->key_off, nla_data(f), af->len);
}

/* Set the bits @mask of the outer tag's TCI to @val (DEI is never in @mask). */
static void set_vlan(struct sk_buff *skb, struct vsw_flow_key *key, u16 val, u16 mask)
{
	struct vlan_hdr *vh;
	__be16 tci;

	if (skb_vlan_tag_present(skb)) {
		__vlan_hwaccel_put_tag(skb, skb->vlan_proto, (skb_vlan_tag_get(skb) & ~mask) | val);
		tci = htons(skb_vlan_tag_get(skb));
	} else if (((struct ethhdr *)skb->data)->h_proto == htons(ETH_P_8021Q) &&
		   !skb_ensure_writable(skb, VLAN_ETH_HLEN)) {
		vh = (struct vlan_hdr *)(skb->data + ETH_HLEN);
		tci = htons((ntohs(vh->h_vlan_TCI) & ~mask) | val);
		rewrite(skb, &vh->h_vlan_TCI, &tci, sizeof(tci));
	} else {
		return;
	}
	vsw_key_set_tag(key, ntohs(tci));
}

static void set_fields(struct sk_buff *skb, struct vsw_flow_key *key, const struct nlattr *a)
{
	const struct nlattr *f;
	struct iphdr *iph;
	int rem;
	bool src;

	nla_for_each_nested(f, a, rem) {
		switch (nla_type(f)) {
		case VSW_SET_ATTR_ETH_SRC:
		case VSW_SET_ATTR_ETH_DST:
			if (skb_ensure_writable(skb, ETH_HLEN))
				break;
			src = nla_type(f) == VSW_SET_ATTR_ETH_SRC;
			rewrite(skb, src ? eth_hdr(skb)->h_source : eth_hdr(skb)->h_dest,
				nla_data(f), ETH_ALEN);
			ether_addr_copy(src ? key->eth_src : key->eth_dst, nla_data(f));
			break;
		case VSW_SET_ATTR_IPV4_SRC:
		case VSW_SET_ATTR_IPV4_DST:
			set_ipv4_addr(skb, key, nla_type(f) == VSW_SET_ATTR_IPV4_SRC,
				      nla_get_in_addr(f));
			break;
		case VSW_SET_ATTR_IPV4_TOS:
			iph = ipv4_writable(skb, key);
			if (iph) {
				key->ip_tos = nla_get_u8(f);
				ipv4_change_dsfield(iph, 0, key->ip_tos);
			}
			break;
		case VSW_SET_ATTR_IPV4_TTL:
			iph = ipv4_writable(skb, key);
			if (iph) {
				key->ip_ttl = nla_get_u8(f);
				csum_replace2(&iph->check, htons(iph->ttl << 8), htons(key->ip_ttl << 8));
				iph->ttl = key->ip_ttl;
			}
			break;
		case VSW_SET_ATTR_L4_SRC:
		case VSW_SET_ATTR_L4_DST:
			set_l4_port(skb, key, nla_type(f) == VSW_SET_ATTR_L4_SRC, nla_get_be16(f));
			break;
		case VSW_SET_ATTR_VLAN_VID:
			set_vlan(skb, key, nla_get_u16(f), VLAN_VID_MASK);
			break;
		case VSW_SET_ATTR_VLAN_PCP:
			set_vlan(skb, key, nla_get_u8(f) << VLAN_PRIO_SHIFT, VLAN_PRIO_MASK);
			break;
		case VSW_SET_ATTR_IPV6_SRC:
		case VSW_SET_ATTR_IPV6_DST:
			set_ipv6_addr(skb, key, nla_type(f) == VSW_SET_ATTR_IPV6_SRC, f);
			break;
		case VSW_SET_ATTR_IPV6_TCLASS ... VSW_SET_ATTR_IPV6_HLIMIT:
			set_ipv6_field(skb, key, f);
			break;
		case VSW_SET_ATTR_ARP_OP ... VSW_SET_ATTR_ARP_TPA:
			set_arp(skb, key, f);
			break;
		}
	}
}

static int push_vlan(struct sk_buff *skb, struct vsw_flow_key *key, const struct nlattr *a)
{
	const struct nlattr *pcp = nla_find_nested(a, VSW_VLAN_ATTR_PCP);
	u16 tci = nla_get_u16(nla_find_nested(a, VSW_VLAN_ATTR_VID)) & VLAN_VID_MASK;

	if (pcp)
		tci |= nla_get_u8(pcp) << VLAN_PRIO_SHIFT;
	vsw_key_set_tag(key, tci);
	return skb_vlan_push(skb, htons(ETH_P_8021Q), tci);
}

static int pop_vlan(struct sk_buff *skb, struct vsw_flow_key *key)
{
	int err = skb_vlan_pop(skb);

	key->vlan_tci = 0;
	key->vlan_dei = 0;
	if (skb_vlan_tag_present(skb))
		vsw_key_set_tag(key, skb_vlan_tag_get(skb));
	return err;
}

/* Run a validated action list; RCU, bottom halves disabled. Consumes @skb. */
void vsw_actions_execute(struct vsw_dp *dp, struct sk_buff *skb, struct vsw_flow_key *key,
			 const struct nlattr *acts, int len)
{
	const struct nlattr *a;
	int rem, pending = -1;

	nla_for_each_attr(a, acts, len, rem) {
		int type = nla_type(a);

		if (pending >= 0) {
			output_clone(dp, pending, skb);
			pending = -1;
		}
		switch (type) {
		case VSW_ACTION_ATTR_OUTPUT:
			pending = nla_get_u32(a);
			break;
		case VSW_ACTION_ATTR_USERSPACE:
			userspace(dp, skb, key, a);
			break;
		case VSW_ACTION_ATTR_SET:
			set_fields(skb, key, a);
			break;
		case VSW_ACTION_ATTR_PUSH_VLAN:
			if (push_vlan(skb, key, a))
				goto drop;
			break;
		case VSW_ACTION_ATTR_POP_VLAN:
			if (pop_vlan(skb, key))
				goto drop;
			break;
		}
	}
	if (pending >= 0)
		vsw_vport_output(dp, pending, skb);
	else
		consume_skb(skb);
	return;
drop:
	kfree_skb(skb);
}
