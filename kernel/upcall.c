// SPDX-License-Identifier: GPL-2.0
/*
 * upcall.c - sending packets to userspace over the vsw_packet family.
 *
 * An upcall is a unicast genl message to the netlink port id registered for
 * the ingress vport (or given by a userspace action). It never blocks: the
 * message is built with GFP_ATOMIC and sent with MSG_DONTWAIT semantics, and
 * when there is no pid, no memory or no room in the receiver's queue the
 * caller counts the packet as lost. The packet is copied, so the caller keeps
 * its skb; a VLAN tag held in skb metadata is written back into the copy, a
 * partial checksum is completed, and a GSO packet is sent as its segments.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/if_vlan.h>
#include <net/genetlink.h>

#include "compat.h"
#include "flow.h"

static int put_packet(struct sk_buff *msg, const struct sk_buff *skb)
{
	bool tag = skb_vlan_tag_present(skb) && skb->len >= 2 * ETH_ALEN;
	int len = skb->len + (tag ? VLAN_HLEN : 0);
	struct nlattr *a = nla_reserve(msg, VSW_PACKET_ATTR_PACKET, len);
	u8 *p;

	if (!a)
		return -EMSGSIZE;
	p = nla_data(a);
	if (!tag)
		return skb_copy_bits(skb, 0, p, skb->len);
	if (skb_copy_bits(skb, 0, p, 2 * ETH_ALEN))
		return -EFAULT;
	*(__be16 *)(p + 2 * ETH_ALEN) = skb->vlan_proto;
	*(__be16 *)(p + 2 * ETH_ALEN + 2) = htons(skb_vlan_tag_get(skb));
	return skb_copy_bits(skb, 2 * ETH_ALEN, p + 2 * ETH_ALEN + VLAN_HLEN,
			     skb->len - 2 * ETH_ALEN);
}

static int upcall_one(struct vsw_dp *dp, struct sk_buff *skb, const struct vsw_flow_key *key,
		      u8 cmd, u32 pid, const struct nlattr *cookie)
{
	struct vsw_header *hdr;
	struct sk_buff *msg;
	size_t size;

	/* Userspace sees, and may execute, a packet with its checksum done. */
	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb))
		return -EINVAL;
	if (skb->len > U16_MAX - NLA_HDRLEN - VLAN_HLEN)
		return -EMSGSIZE; /* does not fit one attribute (a GSO packet) */
	size = nla_total_size(skb->len + VLAN_HLEN) + nla_total_size(sizeof(*key)) +
	       nla_total_size(sizeof(u32)) + (cookie ? nla_total_size(nla_len(cookie)) : 0);
	msg = genlmsg_new(sizeof(*hdr) + size, GFP_ATOMIC);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, 0, 0, &vsw_packet_family, 0, cmd);
	if (!hdr)
		goto err_free_msg;
	hdr->dp_ifindex = vsw_dp_ifindex(dp);
	if (nla_put(msg, VSW_PACKET_ATTR_KEY, sizeof(*key), key) ||
	    nla_put_u32(msg, VSW_PACKET_ATTR_IN_PORT, key->in_port) ||
	    (cookie && nla_put(msg, VSW_PACKET_ATTR_USERDATA, nla_len(cookie), nla_data(cookie))) ||
	    put_packet(msg, skb))
		goto err_free_msg;
	genlmsg_end(msg, hdr);
	return genlmsg_unicast(dp->net, msg, pid);

err_free_msg:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/*
 * Send @skb to userspace; the caller keeps @skb (its checksum may be
 * completed here). A GSO packet goes up as the segments it stands for.
 */
int vsw_upcall(struct vsw_dp *dp, struct sk_buff *skb, const struct vsw_flow_key *key, u8 cmd,
	       u32 pid, const struct nlattr *cookie)
{
	struct sk_buff *segs, *seg, *next;
	int err = 0;

	if (!pid)
		return -ENOTCONN;
	if (!skb_is_gso(skb))
		return upcall_one(dp, skb, key, cmd, pid, cookie);
	segs = __skb_gso_segment(skb, NETIF_F_SG, false);
	if (IS_ERR_OR_NULL(segs))
		return segs ? PTR_ERR(segs) : -EINVAL;
	skb_list_walk_safe(segs, seg, next) {
		if (!err)
			err = upcall_one(dp, seg, key, cmd, pid, cookie);
		consume_skb(seg);
	}
	return err;
}
