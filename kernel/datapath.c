// SPDX-License-Identifier: GPL-2.0
/*
 * datapath.c - datapaths: life cycle, the per-packet path, counters, and the
 * per-namespace list.
 *
 * DOC: Locking
 *
 * Two locks, always taken in this order: rtnl, then vsw_mutex.
 *  - vsw_mutex (module-wide) serialises every change: datapath and port
 *    lists, the flow tables (the single writer of common/flow_table.c),
 *    flow actions, upcall pids. Flow commands take only vsw_mutex; datapath
 *    and port commands take rtnl and vsw_mutex.
 *  - rtnl is needed to register, attach and detach devices. Devices are never
 *    unregistered while vsw_mutex is held, because the unregister notifier
 *    (rtnl held) takes vsw_mutex to remove ports.
 * The packet path (rx_handler, internal device xmit, packet execute) runs
 * under RCU with bottom halves disabled and takes no lock: datapaths, ports,
 * flows and actions are freed after a grace period. A datapath marked dead
 * (under vsw_mutex) is found by no lookup, so nothing is added to it while
 * it waits for vsw_dp_destroy_list(). Per-CPU counters and the
 * per-CPU microflow cache rely on bottom halves being disabled.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/rtnetlink.h>

#include "flow.h"
#include "vport.h"

/* The writer lock of every datapath; see DOC: Locking above. */
DEFINE_MUTEX(vsw_mutex);

const char *vsw_dp_name(struct vsw_dp *dp)
{
	struct vsw_vport *local = vsw_dp_port(dp, VSW_PORT_LOCAL);

	return local ? local->dev->name : "";
}

int vsw_dp_ifindex(struct vsw_dp *dp)
{
	struct vsw_vport *local = vsw_dp_port(dp, VSW_PORT_LOCAL);

	return local ? local->dev->ifindex : 0;
}

/*
 * The datapath whose port 0 has @dp_ifindex, unless it is being destroyed
 * (its port 0 lives on until vsw_dp_destroy_list()); RCU read side.
 */
struct vsw_dp *vsw_dp_lookup_rcu(struct net *net, int dp_ifindex)
{
	struct net_device *dev = dev_get_by_index_rcu(net, dp_ifindex);
	struct vsw_vport *vport;

	if (!dev || !vsw_internal_dev_is(dev))
		return NULL;
	vport = vsw_internal_dev_vport(dev);
	return vport && !READ_ONCE(vport->dp->dead) ? vport->dp : NULL;
}

/* Find a live datapath by its ifindex, else by name; vsw_mutex held. */
struct vsw_dp *vsw_dp_lookup(struct net *net, int dp_ifindex, const char *name)
{
	struct vsw_dp *dp;

	lockdep_assert_held(&vsw_mutex);
	if (dp_ifindex) {
		rcu_read_lock();
		dp = vsw_dp_lookup_rcu(net, dp_ifindex);
		rcu_read_unlock();
		return dp;
	}
	if (!name)
		return NULL;
	list_for_each_entry(dp, &vsw_net(net)->dps, node)
		if (!strcmp(vsw_dp_name(dp), name))
			return dp;
	return NULL;
}

static void rebalance_work(struct work_struct *work)
{
	struct vsw_dp *dp = container_of(work, struct vsw_dp, rebalance.work);

	mutex_lock(&vsw_mutex);
	if (!dp->dead) {
		vsw_table_rebalance(&dp->table);
		schedule_delayed_work(&dp->rebalance, HZ);
	}
	mutex_unlock(&vsw_mutex);
}

static void dp_free(struct vsw_dp *dp)
{
	/* No reader is left: the datapath itself is freed after a grace period. */
	kfree(rcu_dereference_protected(dp->upcall_pids, 1));
	free_percpu(dp->stats);
	free_percpu(dp->mfc);
	kvfree(dp);
}

static void dp_free_cb(struct rcu_head *rcu)
{
	dp_free(container_of(rcu, struct vsw_dp, rcu));
}

/* Create a datapath and its internal port; rtnl and vsw_mutex held. */
struct vsw_dp *vsw_dp_create(struct net *net, const char *name, u32 upcall_pid,
			     struct netlink_ext_ack *extack)
{
	struct vsw_vport *local;
	struct vsw_dp *dp;
	int cpu;

	ASSERT_RTNL();
	lockdep_assert_held(&vsw_mutex);
	dp = kvzalloc(sizeof(*dp), GFP_KERNEL_ACCOUNT);
	if (!dp)
		return ERR_PTR(-ENOMEM);
	dp->net = net;
	vsw_table_init(&dp->table);
	xa_init_flags(&dp->flows, XA_FLAGS_ALLOC1);
	INIT_DELAYED_WORK(&dp->rebalance, rebalance_work);
	dp->mfc = alloc_percpu_gfp(struct vsw_mfc, GFP_KERNEL_ACCOUNT);
	dp->stats = alloc_percpu_gfp(struct vsw_dp_pcpu_stats, GFP_KERNEL_ACCOUNT);
	if (!dp->mfc || !dp->stats) {
		dp_free(dp);
		return ERR_PTR(-ENOMEM);
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(dp->stats, cpu)->syncp);
	local = vsw_vport_add(dp, &vsw_internal_vport_ops, name, VSW_PORT_LOCAL, upcall_pid,
			      extack);
	if (IS_ERR(local)) {
		dp_free(dp);
		return ERR_CAST(local);
	}
	list_add_tail(&dp->node, &vsw_net(net)->dps);
	schedule_delayed_work(&dp->rebalance, HZ);
	return dp;
}

static void flow_flush_cb(struct vsw_mflow *mf, void *arg)
{
	struct vsw_flow *flow = container_of(mf, struct vsw_flow, mf);
	struct vsw_dp *dp = arg;

	xa_erase(&dp->flows, flow->id);
	vsw_flow_free_rcu(flow);
}

/* Delete every flow; vsw_mutex held. */
void vsw_dp_flush(struct vsw_dp *dp)
{
	lockdep_assert_held(&vsw_mutex);
	vsw_table_flush(&dp->table, flow_flush_cb, dp);
}

/*
 * Take a datapath out of service: remove its ports and flows and move it to
 * @dead, for vsw_dp_destroy_list(). rtnl and vsw_mutex held.
 */
void vsw_dp_detach(struct vsw_dp *dp, struct list_head *dead)
{
	struct vsw_vport *vport;
	u32 i;

	ASSERT_RTNL();
	lockdep_assert_held(&vsw_mutex);
	WRITE_ONCE(dp->dead, true);
	list_move_tail(&dp->node, dead);
	for (i = VSW_MAX_PORTS - 1; i > VSW_PORT_LOCAL; i--) {
		vport = vsw_dp_port(dp, i);
		if (vport)
			vsw_vport_del(vport);
	}
	vsw_dp_flush(dp);
}

/* Unregister the internal devices and free the datapaths; rtnl held only. */
void vsw_dp_destroy_list(struct list_head *dead)
{
	struct vsw_dp *dp, *next;

	ASSERT_RTNL();
	list_for_each_entry_safe(dp, next, dead, node) {
		struct vsw_vport *local = rcu_dereference_protected(dp->ports[VSW_PORT_LOCAL], 1);
		struct net_device *dev = local->dev;

		/* Nothing else reaches the dp now: it is off every list. */
		mutex_lock(&vsw_mutex);
		vsw_vport_del(local);
		mutex_unlock(&vsw_mutex);
		unregister_netdevice(dev);
		cancel_delayed_work_sync(&dp->rebalance);
		list_del(&dp->node);
		xa_destroy(&dp->flows);
		call_rcu(&dp->rcu, dp_free_cb);
	}
}

/* Install per-CPU upcall pids (NULL: none); vsw_mutex held. Takes @pids. */
void vsw_dp_set_upcall_pids(struct vsw_dp *dp, struct vsw_upcall_pids *pids)
{
	struct vsw_upcall_pids *old;

	old = rcu_replace_pointer(dp->upcall_pids, pids, lockdep_is_held(&vsw_mutex));
	if (old)
		kfree_rcu(old, rcu);
}

/*
 * Where an upcall for a packet that entered by @vport (may be NULL) goes: this
 * CPU's entry of the per-CPU pids when set, else the port's pid (0: none).
 * RCU read side, bottom halves disabled.
 */
u32 vsw_dp_upcall_pid(struct vsw_dp *dp, const struct vsw_vport *vport)
{
	const struct vsw_upcall_pids *pids = rcu_dereference(dp->upcall_pids);

	if (pids)
		return pids->pid[smp_processor_id() % pids->n];
	return vport ? READ_ONCE(vport->upcall_pid) : 0;
}

void vsw_dp_count_lost(struct vsw_dp *dp)
{
	struct vsw_dp_pcpu_stats *st = this_cpu_ptr(dp->stats);

	u64_stats_update_begin(&st->syncp);
	st->lost++;
	u64_stats_update_end(&st->syncp);
}

/* Datapath passes nested on this CPU (an output re-entering through port 0). */
static DEFINE_PER_CPU(u8, vsw_depth);
#define VSW_MAX_DEPTH 4

static void dp_miss(struct vsw_dp *dp, struct vsw_vport *vport, struct sk_buff *skb,
		    const struct vsw_flow_key *key, u32 probed)
{
	struct vsw_dp_pcpu_stats *st = this_cpu_ptr(dp->stats);
	int err;

	err = vsw_upcall(dp, skb, key, VSW_PACKET_CMD_MISS, vsw_dp_upcall_pid(dp, vport), NULL);
	u64_stats_update_begin(&st->syncp);
	st->missed++;
	st->mask_hit += probed;
	if (err)
		st->lost++;
	u64_stats_update_end(&st->syncp);
	if (err)
		kfree_skb(skb);
	else
		consume_skb(skb);
}

/*
 * One packet through the caches. With two or more masks the microflow cache
 * is asked first, keyed by the skb's L4 hash or, without one, by a hash of
 * the key. A hit counts once in the common case: st->mask_hit holds only the
 * probes beyond the first (see vsw_dp_get_stats()).
 */
static __always_inline void dp_process(struct vsw_vport *vport, struct sk_buff *skb)
{
	union vsw_key_words key __uninitialized; /* every word written by extract */
	struct vsw_dp *dp = vport->dp;
	const struct vsw_actions *acts;
	struct vsw_dp_pcpu_stats *st;
	struct vsw_masks *masks;
	struct vsw_flow *flow;
	struct vsw_mflow *mf;
	bool cache_hit = false;
	u32 probed;

	vsw_flow_extract(skb, vport->port_no, &key.key);
	masks = rcu_dereference(dp->table.masks);
	if (masks && masks->count > 1) {
		u32 hash = skb->l4_hash ? skb->hash : vsw_key_hash(&key, dp->table.seed);

		mf = vsw_mfc_lookup(&dp->table, this_cpu_ptr(dp->mfc), &key.key, hash, &probed,
				    &cache_hit);
	} else {
		mf = vsw_table_lookup(&dp->table, &key.key, &probed);
	}
	if (unlikely(!mf)) {
		dp_miss(dp, vport, skb, &key.key, probed);
		return;
	}
	st = this_cpu_ptr(dp->stats);
	u64_stats_update_begin(&st->syncp);
	st->hit++;
	if (unlikely(probed > 1))
		st->mask_hit += probed - 1;
	if (cache_hit)
		st->microflow_hit++;
	u64_stats_update_end(&st->syncp);
	flow = container_of(mf, struct vsw_flow, mf);
	vsw_flow_used(flow, skb, &key.key);
	acts = rcu_dereference(flow->acts);
	if (acts->output >= 0)
		vsw_vport_output(dp, acts->output, skb);
	else
		vsw_actions_execute(dp, skb, &key.key, acts->acts, acts->len);
}

/*
 * The per-packet path: @skb arrived on @vport with skb->data at the Ethernet
 * header. RCU read side, bottom halves disabled. Consumes @skb.
 */
void vsw_dp_process(struct vsw_vport *vport, struct sk_buff *skb)
{
	if (unlikely(__this_cpu_inc_return(vsw_depth) > VSW_MAX_DEPTH)) {
		net_warn_ratelimited("%s: packet loops through the datapath, dropped\n",
				     vsw_dp_name(vport->dp));
		kfree_skb(skb);
	} else {
		dp_process(vport, skb);
	}
	__this_cpu_dec(vsw_depth);
}

void vsw_dp_get_stats(struct vsw_dp *dp, struct vsw_dp_stats *out)
{
	int cpu;

	memset(out, 0, sizeof(*out));
	for_each_possible_cpu(cpu) {
		const struct vsw_dp_pcpu_stats *st = per_cpu_ptr(dp->stats, cpu);
		struct vsw_dp_pcpu_stats s;
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&st->syncp);
			s.hit = st->hit;
			s.missed = st->missed;
			s.lost = st->lost;
			s.mask_hit = st->mask_hit;
			s.microflow_hit = st->microflow_hit;
		} while (u64_stats_fetch_retry(&st->syncp, start));
		out->n_hit += s.hit;
		out->n_missed += s.missed;
		out->n_lost += s.lost;
		out->n_mask_hit += s.mask_hit + s.hit; /* each hit's first probe */
		out->n_microflow_hit += s.microflow_hit;
	}
	out->n_flows = dp->table.n_flows;
	out->n_masks = vsw_table_n_masks(&dp->table);
}
