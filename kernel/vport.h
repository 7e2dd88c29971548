/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vport.h - ports of a datapath. Each port type is an ops table; the core
 * never branches on the type.
 */
#ifndef VSW_VPORT_H
#define VSW_VPORT_H

#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/u64_stats_sync.h>

#include "datapath.h"

struct vsw_vport_pcpu_stats {
	u64 rx_packets, rx_bytes, tx_packets, tx_bytes, rx_dropped, tx_dropped;
	struct u64_stats_sync syncp;
};

/**
 * struct vsw_vport - one port.
 * @dev: the netdev; a reference is held while the port exists.
 * @dp: owning datapath; constant.
 * @port_no: number in @dp; constant.
 * @upcall_pid: netlink port id for upcalls; READ_ONCE/WRITE_ONCE.
 * @ops: type operations; constant.
 * @stats: per-CPU counters.
 * @tracker: reference tracker for @dev.
 */
struct vsw_vport {
	struct net_device *dev;
	struct vsw_dp *dp;
	u32 port_no;
	u32 upcall_pid;
	const struct vsw_vport_ops *ops;
	struct vsw_vport_pcpu_stats __percpu *stats;
	netdevice_tracker tracker;
	struct rcu_head rcu;
};

/**
 * struct vsw_vport_ops - a port type.
 * @type: enum vsw_vport_type.
 * @create: make @vport->dev usable (attach or register); rtnl and vsw_mutex.
 * @destroy: undo @create; rtnl and vsw_mutex held; the port is unpublished.
 * @send: transmit @skb (data at the Ethernet header); consumes it.
 */
struct vsw_vport_ops {
	u32 type;
	int (*create)(struct vsw_vport *vport, const char *name, struct netlink_ext_ack *extack);
	void (*destroy)(struct vsw_vport *vport);
	void (*send)(struct vsw_vport *vport, struct sk_buff *skb);
};

extern const struct vsw_vport_ops vsw_netdev_vport_ops;
extern const struct vsw_vport_ops vsw_internal_vport_ops;

struct vsw_vport *vsw_vport_add(struct vsw_dp *dp, const struct vsw_vport_ops *ops,
				const char *name, u32 port_no, u32 upcall_pid,
				struct netlink_ext_ack *extack);
void vsw_vport_del(struct vsw_vport *vport);
void vsw_vport_get_stats(struct vsw_vport *vport, struct vsw_vport_stats *st);
struct vsw_vport *vsw_vport_by_name(struct vsw_dp *dp, const char *name);

bool vsw_internal_dev_is(const struct net_device *dev);
struct vsw_vport *vsw_internal_dev_vport(const struct net_device *dev);
struct vsw_vport *vsw_netdev_vport(const struct net_device *dev);

/* A frame entered the datapath from @vport; bottom halves disabled. */
static inline void vsw_vport_receive(struct vsw_vport *vport, struct sk_buff *skb)
{
	struct vsw_vport_pcpu_stats *st = this_cpu_ptr(vport->stats);

	u64_stats_update_begin(&st->syncp);
	st->rx_packets++;
	st->rx_bytes += skb->len;
	u64_stats_update_end(&st->syncp);
	vsw_dp_process(vport, skb);
}

/* The netdev port type's send (vsw_netdev_vport_ops). */
static inline void vsw_netdev_send(struct vsw_vport *vport, struct sk_buff *skb)
{
	skb->dev = vport->dev;
	dev_queue_xmit(skb);
}

/* Length of the L3 payload, as compared with the MTU. */
static inline unsigned int vsw_l3_len(const struct sk_buff *skb)
{
	bool tagged = skb->len >= VLAN_ETH_HLEN && eth_hdr(skb)->h_proto == htons(ETH_P_8021Q);

	return skb->len - ETH_HLEN - (tagged ? VLAN_HLEN : 0);
}

/* Send @skb (data at the Ethernet header) out of @vport; consumes it. Inline: per packet. */
static inline void vsw_vport_send(struct vsw_vport *vport, struct sk_buff *skb)
{
	struct vsw_vport_pcpu_stats *st = this_cpu_ptr(vport->stats);
	struct net_device *dev = vport->dev;
	unsigned int len = skb->len;

	/* A frame of at most MTU + ETH_HLEN bytes fits whatever its tags. */
	if (unlikely(!(dev->flags & IFF_UP) ||
		     (len > dev->mtu + ETH_HLEN && !skb_is_gso(skb) && vsw_l3_len(skb) > dev->mtu))) {
		u64_stats_update_begin(&st->syncp);
		st->tx_dropped++;
		u64_stats_update_end(&st->syncp);
		kfree_skb(skb);
		return;
	}
	u64_stats_update_begin(&st->syncp);
	st->tx_packets++;
	st->tx_bytes += len;
	u64_stats_update_end(&st->syncp);
	/* A receive timestamp is no departure time (fq would drop it as too far ahead). */
	skb_clear_tstamp(skb);
	/* The common port type without a call through the ops (no retpoline). */
	if (likely(vport->ops == &vsw_netdev_vport_ops))
		vsw_netdev_send(vport, skb);
	else
		vport->ops->send(vport, skb);
}

/* Send @skb out of @dp's port @port_no, or drop it if there is none. */
static inline void vsw_vport_output(struct vsw_dp *dp, u32 port_no, struct sk_buff *skb)
{
	struct vsw_vport *vport = vsw_dp_port(dp, port_no);

	if (likely(vport))
		vsw_vport_send(vport, skb);
	else
		kfree_skb(skb);
}

int vsw_notifier_init(void);
void vsw_notifier_exit(void);

#endif /* VSW_VPORT_H */
