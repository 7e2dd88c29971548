// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of the datapath benchmark: an rx_handler on two devices that hands every
 * frame to the other one, unchanged, and does nothing else (no key, no lookup, no
 * counter). What it costs per packet is the least any switch built on an rx_handler
 * and dev_queue_xmit() can cost.   insmod floor.ko a=DEV[,DEV...] b=DEV[,DEV...]
 * (in init_net; a[i] and b[i] are joined, up to 4 pairs). Remove the module before the
 * devices (it holds references to them).
 */
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

#define NPAIRS 4
static char *a[NPAIRS], *b[NPAIRS];
static int na, nb;
module_param_array(a, charp, &na, 0444);
module_param_array(b, charp, &nb, 0444);
static struct net_device *dev[2 * NPAIRS];

static rx_handler_result_t floor_rx(struct sk_buff **pskb)
{
	struct sk_buff *skb = skb_share_check(*pskb, GFP_ATOMIC);

	if (unlikely(!skb))
		return RX_HANDLER_CONSUMED;
	skb_push_rcsum(skb, ETH_HLEN);
	skb->dev = rcu_dereference(skb->dev->rx_handler_data);
	dev_queue_xmit(skb);
	return RX_HANDLER_CONSUMED;
}

static void floor_exit(void)
{
	int i;

	rtnl_lock();
	for (i = 0; i < 2 * NPAIRS; i++)
		if (dev[i] && rtnl_dereference(dev[i]->rx_handler) == floor_rx)
			netdev_rx_handler_unregister(dev[i]);
	rtnl_unlock();
	for (i = 0; i < 2 * NPAIRS; i++)
		dev_put(dev[i]);
}

static int __init floor_init(void)
{
	int i, err = 0;

	if (!na || na != nb)
		return -EINVAL;
	for (i = 0; i < 2 * na; i++) {
		dev[i] = dev_get_by_name(&init_net, i < na ? a[i] : b[i - na]);
		if (!dev[i])
			err = -ENODEV;
	}
	rtnl_lock();
	for (i = 0; i < 2 * na && !err; i++) /* each device's peer is the other of its pair */
		err = netdev_rx_handler_register(dev[i], floor_rx, dev[(i + na) % (2 * na)]);
	rtnl_unlock();
	if (err)
		floor_exit();
	return err;
}

static void __exit floor_exit_module(void)
{
	floor_exit();
}

module_init(floor_init);
module_exit(floor_exit_module);
MODULE_DESCRIPTION("datapath benchmark floor: forward between two devices");
MODULE_LICENSE("GPL");
