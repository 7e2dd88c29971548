/* SPDX-License-Identifier: GPL-2.0 */
/*
 * datapath.h - the datapath object and the module-wide lock.
 */
#ifndef VSW_DATAPATH_H
#define VSW_DATAPATH_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "vsw.h"
#include "../common/flow_table.h"

extern struct mutex vsw_mutex;
extern unsigned int vsw_net_id;

struct vsw_vport;

/* struct vsw_net - per network namespace state. @dps: protected by vsw_mutex. */
struct vsw_net {
	struct list_head dps;
};

struct vsw_dp_pcpu_stats {
	u64 hit;
	u64 missed;
	u64 lost;
	u64 mask_hit;		/* masks probed by misses, and by hits beyond the first */
	u64 microflow_hit;
	struct u64_stats_sync syncp;
};

/* VSW_DP_ATTR_PER_CPU_PIDS as set: @n (1..nr_cpu_ids) nonzero netlink port ids. */
struct vsw_upcall_pids {
	struct rcu_head rcu;
	u32 n;
	u32 pid[];
};

/**
 * struct vsw_dp - one datapath.
 * @node: in vsw_net.dps; vsw_mutex.
 * @net: namespace the datapath lives in; constant.
 * @ports: vports by number; written under vsw_mutex, read under RCU.
 * @table: megaflow table; written under vsw_mutex, read under RCU.
 * @flows: flow id -> struct vsw_flow, for dumps; vsw_mutex.
 * @mfc: per-CPU microflow caches; used with bottom halves disabled.
 * @stats: per-CPU counters.
 * @rebalance: periodic work that reorders masks by hits.
 * @upcall_pids: per-CPU upcall pids, or NULL (then each port's pid is used);
 *	replaced under vsw_mutex, read under RCU; freed with the datapath.
 * @dead: set under vsw_mutex once the datapath is being destroyed; lookups
 *	then fail.
 */
struct vsw_dp {
	struct list_head node;
	struct net *net;
	struct vsw_vport __rcu *ports[VSW_MAX_PORTS];
	struct vsw_table table;
	struct xarray flows;
	struct vsw_mfc __percpu *mfc;
	struct vsw_dp_pcpu_stats __percpu *stats;
	struct delayed_work rebalance;
	struct vsw_upcall_pids __rcu *upcall_pids;
	bool dead;
	struct rcu_head rcu;
};

static inline struct vsw_net *vsw_net(struct net *net)
{
	return net_generic(net, vsw_net_id);
}

static inline struct vsw_vport *vsw_dp_port(struct vsw_dp *dp, u32 port_no)
{
	if (port_no >= VSW_MAX_PORTS)
		return NULL;
	return rcu_dereference_check(dp->ports[port_no], lockdep_is_held(&vsw_mutex));
}

struct vsw_dp *vsw_dp_create(struct net *net, const char *name, u32 upcall_pid,
			     struct netlink_ext_ack *extack);
void vsw_dp_detach(struct vsw_dp *dp, struct list_head *dead);
void vsw_dp_destroy_list(struct list_head *dead);
struct vsw_dp *vsw_dp_lookup(struct net *net, int dp_ifindex, const char *name);
struct vsw_dp *vsw_dp_lookup_rcu(struct net *net, int dp_ifindex);
const char *vsw_dp_name(struct vsw_dp *dp);
int vsw_dp_ifindex(struct vsw_dp *dp);
void vsw_dp_process(struct vsw_vport *vport, struct sk_buff *skb);
void vsw_dp_get_stats(struct vsw_dp *dp, struct vsw_dp_stats *st);
void vsw_dp_count_lost(struct vsw_dp *dp);
void vsw_dp_flush(struct vsw_dp *dp);
void vsw_dp_set_upcall_pids(struct vsw_dp *dp, struct vsw_upcall_pids *pids);
u32 vsw_dp_upcall_pid(struct vsw_dp *dp, const struct vsw_vport *vport);

extern struct genl_family vsw_packet_family;

int vsw_netlink_init(void);
void vsw_netlink_exit(void);

#endif /* VSW_DATAPATH_H */
