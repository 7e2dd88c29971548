// SPDX-License-Identifier: GPL-2.0
/*
 * vport-netdev.c - a port on an existing Ethernet device (veth, physical).
 *
 * Frames are taken from the device with an rx_handler, so they bypass the
 * host stack; frames sent to the port go out with dev_queue_xmit(). The
 * device is put in promiscuous mode while attached, and linked below port 0's
 * device as its master upper device: the core then refuses loops (a device
 * stacked on the datapath, directly or through other datapaths, cannot join
 * it) and nesting deeper than MAX_NEST_DEV.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/if_arp.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

#include "vport.h"

static rx_handler_result_t vsw_netdev_frame_hook(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	struct vsw_vport *vport;

	if (unlikely(skb->pkt_type == PACKET_LOOPBACK))
		return RX_HANDLER_PASS;
	vport = rcu_dereference(skb->dev->rx_handler_data);
	skb = skb_share_check(skb, GFP_ATOMIC);
	if (unlikely(!skb))
		return RX_HANDLER_CONSUMED;
	skb_push_rcsum(skb, ETH_HLEN);
	vsw_vport_receive(vport, skb);
	return RX_HANDLER_CONSUMED;
}

/* The port attached to @dev, if any; rtnl held. */
struct vsw_vport *vsw_netdev_vport(const struct net_device *dev)
{
	if (rcu_access_pointer(dev->rx_handler) != vsw_netdev_frame_hook)
		return NULL;
	return rtnl_dereference(dev->rx_handler_data);
}

static struct net_device *dp_dev(struct vsw_vport *vport)
{
	return vsw_dp_port(vport->dp, VSW_PORT_LOCAL)->dev;
}

static int netdev_create(struct vsw_vport *vport, const char *name,
			 struct netlink_ext_ack *extack)
{
	struct net_device *dev = __dev_get_by_name(vport->dp->net, name);
	struct net_device *upper = dp_dev(vport);
	int err;

	if (!dev) {
		NL_SET_ERR_MSG(extack, "no such network device");
		return -ENODEV;
	}
	if (dev->type != ARPHRD_ETHER || dev->addr_len != ETH_ALEN ||
	    (dev->flags & IFF_LOOPBACK) || vsw_internal_dev_is(dev)) {
		NL_SET_ERR_MSG(extack, "device is not an Ethernet device vsw can attach");
		return -EINVAL;
	}
	if (netdev_has_upper_dev(upper, dev)) {
		NL_SET_ERR_MSG(extack, "device is stacked on this datapath: it would loop");
		return -EINVAL;
	}
	err = netdev_rx_handler_register(dev, vsw_netdev_frame_hook, vport);
	if (err) {
		NL_SET_ERR_MSG(extack, "device is already in a bridge, bond or datapath");
		return err;
	}
	err = netdev_master_upper_dev_link(dev, upper, NULL, NULL, extack);
	if (err) {
		netdev_rx_handler_unregister(dev);
		NL_SET_ERR_MSG(extack, "cannot link the device below the datapath");
		return err;
	}
	netdev_hold(dev, &vport->tracker, GFP_KERNEL);
	vport->dev = dev;
	dev_disable_lro(dev);
	dev_set_promiscuity(dev, 1);
	return 0;
}

static void netdev_destroy(struct vsw_vport *vport)
{
	netdev_upper_dev_unlink(vport->dev, dp_dev(vport));
	netdev_rx_handler_unregister(vport->dev);
	dev_set_promiscuity(vport->dev, -1);
}

const struct vsw_vport_ops vsw_netdev_vport_ops = {
	.type = VSW_VPORT_TYPE_NETDEV,
	.create = netdev_create,
	.destroy = netdev_destroy,
	.send = vsw_netdev_send,
};
