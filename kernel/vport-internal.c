// SPDX-License-Identifier: GPL-2.0
/*
 * vport-internal.c - port 0, the datapath's own network device.
 *
 * The device carries the datapath's name and can be given addresses. What
 * the host stack transmits on it enters the datapath as if received on port
 * 0; what the datapath outputs to port 0 is handed to the stack with
 * netif_rx(). The device cannot change namespace and has no rtnl_link_ops,
 * so it goes away only with its datapath.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/dst.h>
#include <net/xfrm.h>

#include "compat.h"
#include "vport.h"

/* @vport: the port; cleared under vsw_mutex before the device goes. */
struct internal_priv {
	struct vsw_vport __rcu *vport;
};

static netdev_tx_t internal_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct internal_priv *priv = netdev_priv(dev);
	struct vsw_vport *vport;

	rcu_read_lock();
	vport = rcu_dereference(priv->vport);
	if (unlikely(!vport || skb->len < ETH_HLEN)) {
		dev_core_stats_tx_dropped_inc(dev);
		kfree_skb(skb);
	} else {
		skb_reset_mac_header(skb);
		vsw_vport_receive(vport, skb);
	}
	rcu_read_unlock();
	return NETDEV_TX_OK;
}

static int internal_open(struct net_device *dev)
{
	netif_start_queue(dev);
	return 0;
}

static int internal_stop(struct net_device *dev)
{
	netif_stop_queue(dev);
	return 0;
}

/* The datapath's rx is the device's tx and the other way round. */
static void internal_get_stats64(struct net_device *dev, struct rtnl_link_stats64 *stats)
{
	struct internal_priv *priv = netdev_priv(dev);
	struct vsw_vport_stats st;
	struct vsw_vport *vport;

	rcu_read_lock();
	vport = rcu_dereference(priv->vport);
	if (vport) {
		vsw_vport_get_stats(vport, &st);
		stats->rx_packets = st.tx_packets;
		stats->rx_bytes = st.tx_bytes;
		stats->tx_packets = st.rx_packets;
		stats->tx_bytes = st.rx_bytes;
		stats->rx_dropped = st.tx_dropped;
		stats->tx_dropped = st.rx_dropped;
	}
	rcu_read_unlock();
}

static const struct net_device_ops internal_netdev_ops = {
	.ndo_open = internal_open,
	.ndo_stop = internal_stop,
	.ndo_start_xmit = internal_xmit,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_get_stats64 = internal_get_stats64,
};

bool vsw_internal_dev_is(const struct net_device *dev)
{
	return dev->netdev_ops == &internal_netdev_ops;
}

/* The port behind an internal device; RCU or vsw_mutex held. */
struct vsw_vport *vsw_internal_dev_vport(const struct net_device *dev)
{
	struct internal_priv *priv = netdev_priv(dev);

	return rcu_dereference_check(priv->vport, lockdep_is_held(&vsw_mutex));
}

static void internal_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &internal_netdev_ops;
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	dev->priv_flags |= IFF_LIVE_ADDR_CHANGE | IFF_NO_QUEUE;
	dev->needs_free_netdev = true;
	dev->features = NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA | NETIF_F_GSO_SOFTWARE;
	dev->hw_features = dev->features;
	vsw_compat_dev_local_lltx(dev);
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = ETH_MAX_MTU;
	eth_hw_addr_random(dev);
}

static int internal_create(struct vsw_vport *vport, const char *name,
			   struct netlink_ext_ack *extack)
{
	struct internal_priv *priv;
	struct net_device *dev;
	int err;

	dev = alloc_netdev(sizeof(*priv), name, NET_NAME_USER, internal_setup);
	if (!dev)
		return -ENOMEM;
	dev_net_set(dev, vport->dp->net);
	priv = netdev_priv(dev);
	RCU_INIT_POINTER(priv->vport, vport);
	err = register_netdevice(dev);
	if (err) {
		if (err == -EEXIST)
			NL_SET_ERR_MSG(extack, "a network device of that name exists");
		else
			NL_SET_ERR_MSG(extack, "cannot register the datapath's device");
		free_netdev(dev);
		return err;
	}
	netdev_hold(dev, &vport->tracker, GFP_KERNEL);
	vport->dev = dev;
	return 0;
}

/* The device itself is unregistered by the datapath, outside vsw_mutex. */
static void internal_destroy(struct vsw_vport *vport)
{
	struct internal_priv *priv = netdev_priv(vport->dev);

	RCU_INIT_POINTER(priv->vport, NULL);
}

static void internal_send(struct vsw_vport *vport, struct sk_buff *skb)
{
	struct net_device *dev = vport->dev;

	/* A packet the host sent may come back: it is received afresh. */
	skb_dst_drop(skb);
	nf_reset_ct(skb);
	secpath_reset(skb);
	skb->dev = dev;
	skb->protocol = eth_type_trans(skb, dev);
	skb_postpull_rcsum(skb, eth_hdr(skb), ETH_HLEN);
	netif_rx(skb);
}

const struct vsw_vport_ops vsw_internal_vport_ops = {
	.type = VSW_VPORT_TYPE_INTERNAL,
	.create = internal_create,
	.destroy = internal_destroy,
	.send = internal_send,
};
