// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module init and exit, and the per-namespace hooks.
 *
 * Subsystems come up in order (namespaces, device notifier, netlink) and go
 * down in reverse. Tearing down the namespaces destroys every datapath, so
 * rmmod with traffic flowing is the same as deleting each datapath; the
 * final rcu_barrier() waits for the deferred frees that reference our code.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/rtnetlink.h>
#include <net/genetlink.h>
#include <net/netns/generic.h>

#include "datapath.h"
#include "vport.h"

unsigned int vsw_net_id __read_mostly;

static int __net_init vsw_net_init(struct net *net)
{
	INIT_LIST_HEAD(&vsw_net(net)->dps);
	return 0;
}

static void __net_exit vsw_net_exit(struct net *net)
{
	struct vsw_dp *dp, *next;
	LIST_HEAD(dead);

	rtnl_lock();
	mutex_lock(&vsw_mutex);
	list_for_each_entry_safe(dp, next, &vsw_net(net)->dps, node)
		vsw_dp_detach(dp, &dead);
	mutex_unlock(&vsw_mutex);
	vsw_dp_destroy_list(&dead);
	rtnl_unlock();
}

static struct pernet_operations vsw_net_ops = {
	.init = vsw_net_init,
	.exit = vsw_net_exit,
	.id = &vsw_net_id,
	.size = sizeof(struct vsw_net),
};

static int __init vsw_mod_init(void)
{
	int err;

	BUILD_BUG_ON(sizeof(struct vsw_flow_key) != 104);
	BUILD_BUG_ON(offsetof(struct vsw_flow_key, pad) != 103);

	err = register_pernet_device(&vsw_net_ops);
	if (err)
		return err;
	err = vsw_notifier_init();
	if (err)
		goto err_unregister_pernet;
	err = vsw_netlink_init();
	if (err)
		goto err_unregister_notifier;
	pr_info("vsw datapath, protocol version %d\n", VSW_PROTO_VERSION);
	return 0;

err_unregister_notifier:
	vsw_notifier_exit();
err_unregister_pernet:
	unregister_pernet_device(&vsw_net_ops);
	return err;
}

static void __exit vsw_mod_exit(void)
{
	vsw_netlink_exit();
	unregister_pernet_device(&vsw_net_ops);
	vsw_notifier_exit();
	rcu_barrier();
}

module_init(vsw_mod_init);
module_exit(vsw_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vsw software switch datapath");
MODULE_ALIAS_GENL_FAMILY(VSW_DATAPATH_FAMILY);
MODULE_ALIAS_GENL_FAMILY(VSW_VPORT_FAMILY);
MODULE_ALIAS_GENL_FAMILY(VSW_FLOW_FAMILY);
MODULE_ALIAS_GENL_FAMILY(VSW_PACKET_FAMILY);
