// SPDX-License-Identifier: GPL-2.0
/*
 * actions.c - action lists: validated when a flow is installed (or a packet
 * executed), then run per packet without further checks.
 *
 * A list is the payload of a nested VSW_*_ATTR_ACTIONS attribute, already
 * checked against vsw_action_policy by the netlink layer (types, lengths,
 * ranges, nested field policies). vsw_actions_validate() adds what a policy
 * cannot say: the count and size limits, required nested fields, and that SET
 * fields only rewrite headers the flow's match guarantees are present.
 *
 * Execution keeps skb->data at the Ethernet header. The last OUTPUT sends the
 * skb itself; earlier ones send clones, emitted before any later action that
 * changes the packet.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/dsfield.h>
#include <net/genetlink.h>

#include "flow.h"
#include "vport.h"

static bool exact16(__be16 key, __be16 mask, u16 want)
{
	return mask == htons(0xffff) && key == htons(want);
}

static int validate_set(const struct nlattr *a, const struct vsw_flow_key *key,
			const struct vsw_flow_key *mask, struct netlink_ext_ack *extack)
{
	bool ipv4 = exact16(key->eth_type, mask->eth_type, ETH_P_IP);
	bool ipv6 = exact16(key->eth_type, mask->eth_type, ETH_P_IPV6);
	bool l4 = (ipv4 || ipv6) && mask->ip_proto == 0xff &&
		  (key->ip_proto == IPPROTO_TCP || key->ip_proto == IPPROTO_UDP);
	const struct nlattr *f;
	int rem, n = 0;

	nla_for_each_nested(f, a, rem) {
		n++;
		switch (nla_type(f)) {
		case VSW_SET_ATTR_IPV4_SRC:
		case VSW_SET_ATTR_IPV4_DST:
		case VSW_SET_ATTR_IPV4_TOS:
		case VSW_SET_ATTR_IPV4_TTL:
			if (!ipv4) {
				NL_SET_ERR_MSG_ATTR(extack, f,
						    "set(ipv4) needs the flow to match eth_type(0x0800)");
				return -EINVAL;
			}
			break;
		case VSW_SET_ATTR_L4_SRC:
		case VSW_SET_ATTR_L4_DST:
			if (!l4) {
				NL_SET_ERR_MSG_ATTR(extack, f,
						    "set(l4) needs the flow to match IPv4/IPv6 and proto TCP or UDP");
				return -EINVAL;
			}
			break;
		}
	}
	if (!n) {
		NL_SET_ERR_MSG_ATTR(extack, a, "set() with no field");
		return -EINVAL;
	}
	return 0;
}

int vsw_actions_validate(const struct nlattr *acts, const struct vsw_flow_key *key,
			 const struct vsw_flow_key *mask, struct netlink_ext_ack *extack)
{
	const struct nlattr *a, *f;
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
		case VSW_ACTION_ATTR_POP_VLAN:
			break;
		case VSW_ACTION_ATTR_USERSPACE:
			f = nla_find_nested(a, VSW_USERSPACE_ATTR_PID);
			if (!f) {
				NL_SET_ERR_MSG_ATTR(extack, a, "userspace action needs a pid");
				return -EINVAL;
			}
			break;
		case VSW_ACTION_ATTR_SET:
			err = validate_set(a, key, mask, extack);
			if (err)
				return err;
			break;
		case VSW_ACTION_ATTR_PUSH_VLAN:
			if (!nla_find_nested(a, VSW_VLAN_ATTR_VID)) {
				NL_SET_ERR_MSG_ATTR(extack, a, "push_vlan needs a vid");
				return -EINVAL;
			}
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

/* Send @skb out of port @port_no, or drop it if there is none. Consumes @skb. */
void vsw_actions_output(struct vsw_dp *dp, u32 port_no, struct sk_buff *skb)
{
	struct vsw_vport *vport = vsw_dp_port(dp, port_no);

	if (likely(vport))
		vsw_vport_send(vport, skb);
	else
		kfree_skb(skb);
}

static void output_clone(struct vsw_dp *dp, u32 port_no, struct sk_buff *skb)
{
	struct sk_buff *clone = skb_clone(skb, GFP_ATOMIC);

	if (clone)
		vsw_actions_output(dp, port_no, clone);
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

static void l4_csum_replace(struct sk_buff *skb, const struct vsw_flow_key *key, __be32 from,
			    __be32 to, bool addr)
{
	struct tcphdr *th;
	struct udphdr *uh;

	if (key->ip_proto == IPPROTO_TCP) {
		th = l4_writable(skb, key, sizeof(*th));
		if (th && addr)
			inet_proto_csum_replace4(&th->check, skb, from, to, true);
		else if (th)
			inet_proto_csum_replace2(&th->check, skb, (__force __be16)from,
						 (__force __be16)to, false);
	} else if (key->ip_proto == IPPROTO_UDP) {
		uh = l4_writable(skb, key, sizeof(*uh));
		if (!uh || (!uh->check && skb->ip_summed != CHECKSUM_PARTIAL))
			return;
		if (addr)
			inet_proto_csum_replace4(&uh->check, skb, from, to, true);
		else
			inet_proto_csum_replace2(&uh->check, skb, (__force __be16)from,
						 (__force __be16)to, false);
		if (!uh->check)
			uh->check = CSUM_MANGLED_0;
	}
}

static void set_l4_port(struct sk_buff *skb, struct vsw_flow_key *key, bool src, __be16 port)
{
	__be16 *p;

	/* Ports are the first two 16-bit words of both TCP and UDP. */
	p = l4_writable(skb, key, key->ip_proto == IPPROTO_TCP ? sizeof(struct tcphdr) :
					 sizeof(struct udphdr));
	if (!p)
		return;
	p += src ? 0 : 1;
	l4_csum_replace(skb, key, (__force __be32)*p, (__force __be32)port, false);
	p = (__be16 *)skb_transport_header(skb) + (src ? 0 : 1);
	*p = port;
	if (src)
		key->tp_src = port;
	else
		key->tp_dst = port;
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
	__be32 old;

	if (!iph)
		return;
	old = src ? iph->saddr : iph->daddr;
	l4_csum_replace(skb, key, old, addr, true);
	iph = ip_hdr(skb); /* the head may have moved */
	csum_replace4(&iph->check, old, addr);
	if (src)
		iph->saddr = addr;
	else
		iph->daddr = addr;
	if (src)
		key->ipv4_src = addr;
	else
		key->ipv4_dst = addr;
}

static void set_fields(struct sk_buff *skb, struct vsw_flow_key *key, const struct nlattr *a)
{
	const struct nlattr *f;
	struct iphdr *iph;
	struct ethhdr *eth;
	int rem;
	u8 v;

	nla_for_each_nested(f, a, rem) {
		switch (nla_type(f)) {
		case VSW_SET_ATTR_ETH_SRC:
		case VSW_SET_ATTR_ETH_DST:
			if (skb_ensure_writable(skb, ETH_HLEN))
				break;
			eth = eth_hdr(skb);
			skb_postpull_rcsum(skb, eth, 2 * ETH_ALEN);
			if (nla_type(f) == VSW_SET_ATTR_ETH_SRC) {
				ether_addr_copy(eth->h_source, nla_data(f));
				ether_addr_copy(key->eth_src, nla_data(f));
			} else {
				ether_addr_copy(eth->h_dest, nla_data(f));
				ether_addr_copy(key->eth_dst, nla_data(f));
			}
			skb_postpush_rcsum(skb, eth, 2 * ETH_ALEN);
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
				v = nla_get_u8(f);
				csum_replace2(&iph->check, htons(iph->ttl << 8), htons(v << 8));
				iph->ttl = v;
				key->ip_ttl = v;
			}
			break;
		case VSW_SET_ATTR_L4_SRC:
		case VSW_SET_ATTR_L4_DST:
			set_l4_port(skb, key, nla_type(f) == VSW_SET_ATTR_L4_SRC, nla_get_be16(f));
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
	key->vlan_tci = htons(tci | VSW_VLAN_TAG_PRESENT);
	return skb_vlan_push(skb, htons(ETH_P_8021Q), tci);
}

static int pop_vlan(struct sk_buff *skb, struct vsw_flow_key *key)
{
	int err = skb_vlan_pop(skb);

	if (skb_vlan_tag_present(skb))
		key->vlan_tci = htons(skb_vlan_tag_get(skb) | VSW_VLAN_TAG_PRESENT);
	else
		key->vlan_tci = 0;
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
		vsw_actions_output(dp, pending, skb);
	else
		consume_skb(skb);
	return;
drop:
	kfree_skb(skb);
}
