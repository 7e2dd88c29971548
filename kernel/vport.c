// SPDX-License-Identifier: GPL-2.0
/*
 * vport.c - the type-independent half of a datapath port: creation and
 * removal and per-CPU counters (the receive/send entry points are inline
 * in vport.h).
 *
 * A port is published in vsw_dp.ports[] under vsw_mutex (and rtnl) and read
 * under RCU; it is freed, and its netdev reference dropped, after a grace
 * period.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/rtnetlink.h>

#include "vport.h"

struct vsw_vport *vsw_vport_add(struct vsw_dp *dp, const struct vsw_vport_ops *ops,
				const char *name, u32 port_no, u32 upcall_pid,
				struct netlink_ext_ack *extack)
{
	struct vsw_vport *vport;
	int err, cpu;

	ASSERT_RTNL();
	lockdep_assert_held(&vsw_mutex);
	vport = kzalloc(sizeof(*vport), GFP_KERNEL_ACCOUNT);
	if (!vport)
		return ERR_PTR(-ENOMEM);
	vport->stats = alloc_percpu_gfp(struct vsw_vport_pcpu_stats, GFP_KERNEL_ACCOUNT);
	if (!vport->stats) {
		err = -ENOMEM;
		goto err_free_vport;
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(vport->stats, cpu)->syncp);
	vport->dp = dp;
	vport->port_no = port_no;
	vport->upcall_pid = upcall_pid;
	vport->ops = ops;
	err = ops->create(vport, name, extack);
	if (err)
		goto err_free_stats;
	rcu_assign_pointer(dp->ports[port_no], vport);
	return vport;

err_free_stats:
	free_percpu(vport->stats);
err_free_vport:
	kfree(vport);
	return ERR_PTR(err);
}

static void vport_free_cb(struct rcu_head *rcu)
{
	struct vsw_vport *vport = container_of(rcu, struct vsw_vport, rcu);

	netdev_put(vport->dev, &vport->tracker);
	free_percpu(vport->stats);
	kfree(vport);
}

/* Unpublish and destroy a port; rtnl and vsw_mutex held. */
void vsw_vport_del(struct vsw_vport *vport)
{
	ASSERT_RTNL();
	lockdep_assert_held(&vsw_mutex);
	RCU_INIT_POINTER(vport->dp->ports[vport->port_no], NULL);
	vport->ops->destroy(vport);
	call_rcu(&vport->rcu, vport_free_cb);
}

struct vsw_vport *vsw_vport_by_name(struct vsw_dp *dp, const char *name)
{
	struct vsw_vport *vport;
	u32 i;

	for (i = 0; i < VSW_MAX_PORTS; i++) {
		vport = vsw_dp_port(dp, i);
		if (vport && !strcmp(vport->dev->name, name))
			return vport;
	}
	return NULL;
}

void vsw_vport_get_stats(struct vsw_vport *vport, struct vsw_vport_stats *out)
{
	int cpu;

	memset(out, 0, sizeof(*out));
	for_each_possible_cpu(cpu) {
		const struct vsw_vport_pcpu_stats *st = per_cpu_ptr(vport->stats, cpu);
		struct vsw_vport_stats s;
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&st->syncp);
			s.rx_packets = st->rx_packets;
			s.rx_bytes = st->rx_bytes;
			s.tx_packets = st->tx_packets;
			s.tx_bytes = st->tx_bytes;
			s.rx_dropped = st->rx_dropped;
			s.tx_dropped = st->tx_dropped;
		} while (u64_stats_fetch_retry(&st->syncp, start));
		out->rx_packets += s.rx_packets;
		out->rx_bytes += s.rx_bytes;
		out->tx_packets += s.tx_packets;
		out->tx_bytes += s.tx_bytes;
		out->rx_dropped += s.rx_dropped;
		out->tx_dropped += s.tx_dropped;
	}
}

/*
 * Device notifier: an attached netdev is going away (deleted, or moved to
 * another namespace, or its namespace is dying). rtnl is held; vsw_mutex
 * nests inside rtnl everywhere, and the module never unregisters a device
 * while holding vsw_mutex, so taking it here cannot deadlock.
 */
static int vsw_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct vsw_vport *vport;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	vport = vsw_netdev_vport(dev);
	if (!vport)
		return NOTIFY_DONE;
	mutex_lock(&vsw_mutex);
	vsw_vport_del(vport);
	mutex_unlock(&vsw_mutex);
	return NOTIFY_DONE;
}

static struct notifier_block vsw_netdev_notifier = {
	.notifier_call = vsw_netdev_event,
};

int vsw_notifier_init(void)
{
	return register_netdevice_notifier(&vsw_netdev_notifier);
}

void vsw_notifier_exit(void)
{
	unregister_netdevice_notifier(&vsw_netdev_notifier);
}
