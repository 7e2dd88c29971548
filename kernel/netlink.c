// SPDX-License-Identifier: GPL-2.0
/*
 * netlink.c - the four generic netlink families: policies, then handlers,
 * then the family tables. The protocol itself is documented in vsw.h.
 *
 * Every command has its own strict policy (read-only attributes are not in
 * any request policy, so sending them is an error); nested action lists are
 * checked recursively by policy and then semantically by
 * vsw_actions_validate(). Meaning-level errors carry an extack message.
 * Every operation requires CAP_NET_ADMIN over the socket's namespace
 * (GENL_UNS_ADMIN_PERM). Datapath and port commands take rtnl then
 * vsw_mutex, flow commands vsw_mutex only, packet execute RCU only. Flow
 * replies are sized from the flow's actions, so GET, SET and DEL allocate
 * theirs under vsw_mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "flow.h"
#include "vport.h"

static struct genl_family vsw_datapath_family;
static struct genl_family vsw_vport_family;
static struct genl_family vsw_flow_family;
struct genl_family vsw_packet_family;

/* ---------------------------------------------------------------- policies */

static const struct nla_policy userspace_policy[VSW_USERSPACE_ATTR_MAX + 1] = {
	[VSW_USERSPACE_ATTR_PID] = { .type = NLA_U32 },
	[VSW_USERSPACE_ATTR_COOKIE] = NLA_POLICY_RANGE(NLA_BINARY, 1, VSW_MAX_COOKIE),
};

static const struct nla_policy set_policy[VSW_SET_ATTR_MAX + 1] = {
	[VSW_SET_ATTR_ETH_SRC] = NLA_POLICY_ETH_ADDR,
	[VSW_SET_ATTR_ETH_DST] = NLA_POLICY_ETH_ADDR,
	[VSW_SET_ATTR_IPV4_SRC] = { .type = NLA_BE32 },
	[VSW_SET_ATTR_IPV4_DST] = { .type = NLA_BE32 },
	[VSW_SET_ATTR_IPV4_TOS] = { .type = NLA_U8 },
	[VSW_SET_ATTR_IPV4_TTL] = NLA_POLICY_MIN(NLA_U8, 1),
	[VSW_SET_ATTR_L4_SRC] = { .type = NLA_BE16 },
	[VSW_SET_ATTR_L4_DST] = { .type = NLA_BE16 },
	[VSW_SET_ATTR_VLAN_VID] = NLA_POLICY_MAX(NLA_U16, VSW_VLAN_VID_MASK),
	[VSW_SET_ATTR_VLAN_PCP] = NLA_POLICY_MAX(NLA_U8, 7),
	[VSW_SET_ATTR_IPV6_SRC] = NLA_POLICY_EXACT_LEN(16),
	[VSW_SET_ATTR_IPV6_DST] = NLA_POLICY_EXACT_LEN(16),
	[VSW_SET_ATTR_IPV6_TCLASS] = { .type = NLA_U8 },
	[VSW_SET_ATTR_IPV6_LABEL] = NLA_POLICY_MASK(NLA_BE32, 0xfffff),
	[VSW_SET_ATTR_IPV6_HLIMIT] = NLA_POLICY_MIN(NLA_U8, 1),
	[VSW_SET_ATTR_ARP_OP] = { .type = NLA_BE16 },
	[VSW_SET_ATTR_ARP_SHA] = NLA_POLICY_ETH_ADDR,
	[VSW_SET_ATTR_ARP_THA] = NLA_POLICY_ETH_ADDR,
	[VSW_SET_ATTR_ARP_SPA] = { .type = NLA_BE32 },
	[VSW_SET_ATTR_ARP_TPA] = { .type = NLA_BE32 },
};

static const struct nla_policy vlan_policy[VSW_VLAN_ATTR_MAX + 1] = {
	[VSW_VLAN_ATTR_VID] = NLA_POLICY_MAX(NLA_U16, VSW_VLAN_VID_MASK),
	[VSW_VLAN_ATTR_PCP] = NLA_POLICY_MAX(NLA_U8, 7),
};

static const struct nla_policy action_policy[VSW_ACTION_ATTR_MAX + 1] = {
	[VSW_ACTION_ATTR_OUTPUT] = NLA_POLICY_MAX(NLA_U32, VSW_MAX_PORTS - 1),
	[VSW_ACTION_ATTR_USERSPACE] = NLA_POLICY_NESTED(userspace_policy),
	[VSW_ACTION_ATTR_SET] = NLA_POLICY_NESTED(set_policy),
	[VSW_ACTION_ATTR_PUSH_VLAN] = NLA_POLICY_NESTED(vlan_policy),
	[VSW_ACTION_ATTR_POP_VLAN] = { .type = NLA_FLAG },
};

/* VSW_DP_ATTR_PER_CPU_PIDS: empty (off) or 1..nr_cpu_ids nonzero u32 pids. */
static int validate_upcall_pids(const struct nlattr *attr, struct netlink_ext_ack *extack)
{
	unsigned int i, n = nla_len(attr) / sizeof(u32);
	const u32 *pid = nla_data(attr);

	if (nla_len(attr) % sizeof(u32)) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "per-CPU pids: length is not a multiple of 4");
		return -EINVAL;
	}
	if (n > nr_cpu_ids) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "per-CPU pids: more entries than possible CPUs");
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!pid[i]) {
			NL_SET_ERR_MSG_ATTR(extack, attr, "per-CPU pids: pid 0 is not a socket");
			return -EINVAL;
		}
	}
	return 0;
}

static const struct nla_policy dp_get_policy[VSW_DP_ATTR_MAX + 1] = {
	[VSW_DP_ATTR_NAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
};

static const struct nla_policy dp_new_policy[VSW_DP_ATTR_MAX + 1] = {
	[VSW_DP_ATTR_NAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[VSW_DP_ATTR_UPCALL_PID] = { .type = NLA_U32 },
	[VSW_DP_ATTR_PER_CPU_PIDS] = NLA_POLICY_VALIDATE_FN(NLA_BINARY, validate_upcall_pids),
};

static const struct nla_policy vport_get_policy[VSW_VPORT_ATTR_MAX + 1] = {
	[VSW_VPORT_ATTR_PORT_NO] = NLA_POLICY_MAX(NLA_U32, VSW_MAX_PORTS - 1),
	[VSW_VPORT_ATTR_NAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
};

static const struct nla_policy vport_set_policy[VSW_VPORT_ATTR_MAX + 1] = {
	[VSW_VPORT_ATTR_PORT_NO] = NLA_POLICY_MAX(NLA_U32, VSW_MAX_PORTS - 1),
	[VSW_VPORT_ATTR_NAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[VSW_VPORT_ATTR_UPCALL_PID] = { .type = NLA_U32 },
};

static const struct nla_policy vport_new_policy[VSW_VPORT_ATTR_MAX + 1] = {
	[VSW_VPORT_ATTR_PORT_NO] = NLA_POLICY_RANGE(NLA_U32, 1, VSW_MAX_PORTS - 1),
	[VSW_VPORT_ATTR_TYPE] = NLA_POLICY_RANGE(NLA_U32, VSW_VPORT_TYPE_NETDEV,
						 VSW_VPORT_TYPE_NETDEV),
	[VSW_VPORT_ATTR_NAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[VSW_VPORT_ATTR_UPCALL_PID] = { .type = NLA_U32 },
};

static const struct nla_policy flow_get_policy[VSW_FLOW_ATTR_MAX + 1] = {
	[VSW_FLOW_ATTR_KEY] = NLA_POLICY_EXACT_LEN(sizeof(struct vsw_flow_key)),
	[VSW_FLOW_ATTR_MASK] = NLA_POLICY_EXACT_LEN(sizeof(struct vsw_flow_key)),
};

static const struct nla_policy flow_new_policy[VSW_FLOW_ATTR_MAX + 1] = {
	[VSW_FLOW_ATTR_KEY] = NLA_POLICY_EXACT_LEN(sizeof(struct vsw_flow_key)),
	[VSW_FLOW_ATTR_MASK] = NLA_POLICY_EXACT_LEN(sizeof(struct vsw_flow_key)),
	[VSW_FLOW_ATTR_ACTIONS] = NLA_POLICY_NESTED(action_policy),
};

static const struct nla_policy flow_set_policy[VSW_FLOW_ATTR_MAX + 1] = {
	[VSW_FLOW_ATTR_KEY] = NLA_POLICY_EXACT_LEN(sizeof(struct vsw_flow_key)),
	[VSW_FLOW_ATTR_MASK] = NLA_POLICY_EXACT_LEN(sizeof(struct vsw_flow_key)),
	[VSW_FLOW_ATTR_ACTIONS] = NLA_POLICY_NESTED(action_policy),
	[VSW_FLOW_ATTR_CLEAR] = { .type = NLA_FLAG },
};

static const struct nla_policy packet_execute_policy[VSW_PACKET_ATTR_MAX + 1] = {
	[VSW_PACKET_ATTR_PACKET] = NLA_POLICY_MIN_LEN(ETH_HLEN),
	[VSW_PACKET_ATTR_KEY] = NLA_POLICY_EXACT_LEN(sizeof(struct vsw_flow_key)),
	[VSW_PACKET_ATTR_ACTIONS] = NLA_POLICY_NESTED(action_policy),
};

/* ----------------------------------------------------------------- helpers */

static int userhdr_ifindex(struct genl_info *info)
{
	return ((struct vsw_header *)((u8 *)info->genlhdr + GENL_HDRLEN))->dp_ifindex;
}

/* The datapath a request names; vsw_mutex held. */
static struct vsw_dp *dp_from_info(struct genl_info *info, const struct nlattr *name)
{
	int ifindex = userhdr_ifindex(info);
	struct vsw_dp *dp;

	dp = vsw_dp_lookup(genl_info_net(info), ifindex, name && !ifindex ? nla_data(name) : NULL);
	if (dp)
		return dp;
	if (name && !ifindex)
		NL_SET_ERR_MSG_ATTR(info->extack, name, "no datapath of that name");
	else
		NL_SET_ERR_MSG(info->extack, "dp_ifindex names no datapath in this namespace");
	return ERR_PTR(-ENODEV);
}

static struct vsw_dp *dp_from_dump(struct netlink_callback *cb)
{
	const struct vsw_header *hdr = genlmsg_data(nlmsg_data(cb->nlh));

	return vsw_dp_lookup(sock_net(cb->skb->sk), hdr->dp_ifindex, NULL);
}

static void *put_header(struct sk_buff *skb, struct genl_family *family, struct vsw_dp *dp,
			u32 portid, u32 seq, int flags, u8 cmd)
{
	struct vsw_header *hdr = genlmsg_put(skb, portid, seq, family, flags, cmd);

	if (hdr)
		hdr->dp_ifindex = vsw_dp_ifindex(dp);
	return hdr;
}

/* ---------------------------------------------------------------- datapath */

/* A datapath message at its largest: every per-CPU pid set. */
static size_t dp_msg_size(void)
{
	return NLMSG_ALIGN(sizeof(struct vsw_header)) + nla_total_size(IFNAMSIZ) +
	       6 * nla_total_size(sizeof(u32)) + nla_total_size(sizeof(struct vsw_dp_stats)) +
	       nla_total_size(nr_cpu_ids * sizeof(u32));
}

/* A copy of a validated PER_CPU_PIDS attribute; NULL when it is empty (off). */
static struct vsw_upcall_pids *upcall_pids_copy(const struct nlattr *attr)
{
	u32 n = nla_len(attr) / sizeof(u32);
	struct vsw_upcall_pids *pids;

	if (!n)
		return NULL;
	pids = kmalloc(struct_size(pids, pid, n), GFP_KERNEL);
	if (!pids)
		return ERR_PTR(-ENOMEM);
	pids->n = n;
	memcpy(pids->pid, nla_data(attr), n * sizeof(u32));
	return pids;
}

static int dp_fill(struct vsw_dp *dp, struct sk_buff *skb, u32 portid, u32 seq, int flags,
		   u8 cmd)
{
	struct vsw_vport *local = vsw_dp_port(dp, VSW_PORT_LOCAL);
	const struct vsw_upcall_pids *pids;
	struct vsw_dp_stats st;
	void *hdr;

	hdr = put_header(skb, &vsw_datapath_family, dp, portid, seq, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	vsw_dp_get_stats(dp, &st);
	pids = rcu_dereference_protected(dp->upcall_pids, lockdep_is_held(&vsw_mutex));
	if (nla_put_string(skb, VSW_DP_ATTR_NAME, vsw_dp_name(dp)) ||
	    nla_put_u32(skb, VSW_DP_ATTR_UPCALL_PID, local ? READ_ONCE(local->upcall_pid) : 0) ||
	    nla_put(skb, VSW_DP_ATTR_STATS, sizeof(st), &st) ||
	    nla_put_u32(skb, VSW_DP_ATTR_VERSION, VSW_PROTO_VERSION) ||
	    nla_put_u32(skb, VSW_DP_ATTR_KEY_SIZE, sizeof(struct vsw_flow_key)) ||
	    nla_put_u32(skb, VSW_DP_ATTR_FEATURES,
			VSW_DP_F_PER_CPU_UPCALLS | VSW_DP_F_SET_EXT) ||
	    nla_put_u32(skb, VSW_DP_ATTR_MAX_FLOWS, VSW_DP_MAX_FLOWS) ||
	    nla_put_u32(skb, VSW_DP_ATTR_MAX_MASKS, VSW_DP_MAX_MASKS) ||
	    (pids && nla_put(skb, VSW_DP_ATTR_PER_CPU_PIDS, pids->n * sizeof(u32), pids->pid))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int dp_reply(struct vsw_dp *dp, struct sk_buff *reply, struct genl_info *info, u8 cmd)
{
	int err = dp_fill(dp, reply, info->snd_portid, info->snd_seq, 0, cmd);

	WARN_ON_ONCE(err);
	return err;
}

static int dp_cmd_new(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *pcpu = info->attrs[VSW_DP_ATTR_PER_CPU_PIDS];
	struct nlattr *pid = info->attrs[VSW_DP_ATTR_UPCALL_PID];
	struct vsw_upcall_pids *pids = NULL;
	struct sk_buff *reply;
	struct vsw_dp *dp;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, VSW_DP_ATTR_NAME))
		return -EINVAL;
	if (pcpu) {
		pids = upcall_pids_copy(pcpu);
		if (IS_ERR(pids))
			return PTR_ERR(pids);
	}
	reply = genlmsg_new(dp_msg_size(), GFP_KERNEL);
	if (!reply) {
		kfree(pids);
		return -ENOMEM;
	}
	rtnl_lock();
	mutex_lock(&vsw_mutex);
	dp = vsw_dp_create(genl_info_net(info), nla_data(info->attrs[VSW_DP_ATTR_NAME]),
			   pid ? nla_get_u32(pid) : 0, info->extack);
	if (!IS_ERR(dp)) {
		vsw_dp_set_upcall_pids(dp, pids);
		pids = NULL;
	}
	err = IS_ERR(dp) ? PTR_ERR(dp) : dp_reply(dp, reply, info, VSW_DP_CMD_NEW);
	mutex_unlock(&vsw_mutex);
	rtnl_unlock();
	kfree(pids);
	if (err) {
		nlmsg_free(reply);
		return err;
	}
	return genlmsg_reply(reply, info);
}

static int dp_cmd_del(struct sk_buff *skb, struct genl_info *info)
{
	struct vsw_dp *dp;
	LIST_HEAD(dead);

	rtnl_lock();
	mutex_lock(&vsw_mutex);
	dp = dp_from_info(info, info->attrs[VSW_DP_ATTR_NAME]);
	if (!IS_ERR(dp))
		vsw_dp_detach(dp, &dead);
	mutex_unlock(&vsw_mutex);
	vsw_dp_destroy_list(&dead);
	rtnl_unlock();
	return PTR_ERR_OR_ZERO(dp);
}

static int dp_cmd_get_set(struct sk_buff *skb, struct genl_info *info, u8 cmd)
{
	struct nlattr *pcpu = info->attrs[VSW_DP_ATTR_PER_CPU_PIDS];
	struct nlattr *pid = info->attrs[VSW_DP_ATTR_UPCALL_PID];
	struct vsw_upcall_pids *pids = NULL;
	struct vsw_vport *local;
	struct sk_buff *reply;
	struct vsw_dp *dp;
	int err;

	if (pcpu) {
		pids = upcall_pids_copy(pcpu);
		if (IS_ERR(pids))
			return PTR_ERR(pids);
	}
	reply = genlmsg_new(dp_msg_size(), GFP_KERNEL);
	if (!reply) {
		kfree(pids);
		return -ENOMEM;
	}
	mutex_lock(&vsw_mutex);
	dp = dp_from_info(info, info->attrs[VSW_DP_ATTR_NAME]);
	err = PTR_ERR_OR_ZERO(dp);
	if (!err && pid) {
		local = vsw_dp_port(dp, VSW_PORT_LOCAL);
		WRITE_ONCE(local->upcall_pid, nla_get_u32(pid));
	}
	if (!err && pcpu) {
		vsw_dp_set_upcall_pids(dp, pids);
		pids = NULL;
	}
	if (!err)
		err = dp_reply(dp, reply, info, cmd);
	mutex_unlock(&vsw_mutex);
	kfree(pids);
	if (err) {
		nlmsg_free(reply);
		return err;
	}
	return genlmsg_reply(reply, info);
}

static int dp_cmd_get(struct sk_buff *skb, struct genl_info *info)
{
	return dp_cmd_get_set(skb, info, VSW_DP_CMD_GET);
}

static int dp_cmd_set(struct sk_buff *skb, struct genl_info *info)
{
	return dp_cmd_get_set(skb, info, VSW_DP_CMD_SET);
}

static int dp_cmd_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vsw_net *vn = vsw_net(sock_net(skb->sk));
	struct vsw_dp *dp;
	long idx = 0;
	int err = 0;

	mutex_lock(&vsw_mutex);
	list_for_each_entry(dp, &vn->dps, node) {
		if (idx++ < cb->args[0])
			continue;
		err = dp_fill(dp, skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq, NLM_F_MULTI,
			      VSW_DP_CMD_GET);
		if (err)
			break;
		cb->args[0] = idx;
	}
	mutex_unlock(&vsw_mutex);
	return err && !skb->len ? err : skb->len;
}

/* ------------------------------------------------------------------- vport */

static int vport_fill(struct vsw_vport *vport, struct sk_buff *skb, u32 portid, u32 seq,
		      int flags, u8 cmd)
{
	struct vsw_vport_stats st;
	void *hdr;

	hdr = put_header(skb, &vsw_vport_family, vport->dp, portid, seq, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	vsw_vport_get_stats(vport, &st);
	if (nla_put_u32(skb, VSW_VPORT_ATTR_PORT_NO, vport->port_no) ||
	    nla_put_u32(skb, VSW_VPORT_ATTR_TYPE, vport->ops->type) ||
	    nla_put_string(skb, VSW_VPORT_ATTR_NAME, vport->dev->name) ||
	    nla_put_u32(skb, VSW_VPORT_ATTR_IFINDEX, vport->dev->ifindex) ||
	    nla_put_u32(skb, VSW_VPORT_ATTR_UPCALL_PID, READ_ONCE(vport->upcall_pid)) ||
	    nla_put(skb, VSW_VPORT_ATTR_STATS, sizeof(st), &st)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* The port named by PORT_NO or NAME in the request's datapath; vsw_mutex held. */
static struct vsw_vport *vport_from_info(struct genl_info *info)
{
	struct nlattr *no = info->attrs[VSW_VPORT_ATTR_PORT_NO];
	struct nlattr *name = info->attrs[VSW_VPORT_ATTR_NAME];
	struct vsw_vport *vport;
	struct vsw_dp *dp;

	if (!no && !name) {
		NL_SET_ERR_MSG(info->extack, "give the port's PORT_NO or NAME");
		return ERR_PTR(-EINVAL);
	}
	dp = dp_from_info(info, NULL);
	if (IS_ERR(dp))
		return ERR_CAST(dp);
	vport = no ? vsw_dp_port(dp, nla_get_u32(no)) : vsw_vport_by_name(dp, nla_data(name));
	if (!vport) {
		NL_SET_ERR_MSG_ATTR(info->extack, no ? no : name, "no such port in this datapath");
		return ERR_PTR(-ENODEV);
	}
	return vport;
}

static int vport_reply(struct vsw_vport *vport, struct sk_buff *reply, struct genl_info *info,
		       u8 cmd)
{
	int err = vport_fill(vport, reply, info->snd_portid, info->snd_seq, 0, cmd);

	WARN_ON_ONCE(err);
	return err;
}

static int vport_cmd_new(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *no = info->attrs[VSW_VPORT_ATTR_PORT_NO];
	struct nlattr *pid = info->attrs[VSW_VPORT_ATTR_UPCALL_PID];
	struct vsw_vport *vport;
	struct sk_buff *reply;
	struct vsw_dp *dp;
	u32 port_no = 1;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, VSW_VPORT_ATTR_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, VSW_VPORT_ATTR_TYPE))
		return -EINVAL;
	reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	rtnl_lock();
	mutex_lock(&vsw_mutex);
	dp = dp_from_info(info, NULL);
	err = PTR_ERR_OR_ZERO(dp);
	if (err)
		goto out_unlock;
	if (no) {
		port_no = nla_get_u32(no);
		if (vsw_dp_port(dp, port_no)) {
			NL_SET_ERR_MSG_ATTR(info->extack, no, "port number in use");
			err = -EEXIST;
			goto out_unlock;
		}
	} else {
		while (port_no < VSW_MAX_PORTS && vsw_dp_port(dp, port_no))
			port_no++;
		if (port_no == VSW_MAX_PORTS) {
			NL_SET_ERR_MSG(info->extack, "datapath has no free port number");
			err = -EFBIG;
			goto out_unlock;
		}
	}
	vport = vsw_vport_add(dp, &vsw_netdev_vport_ops, nla_data(info->attrs[VSW_VPORT_ATTR_NAME]),
			      port_no, pid ? nla_get_u32(pid) : 0, info->extack);
	err = IS_ERR(vport) ? PTR_ERR(vport) : vport_reply(vport, reply, info, VSW_VPORT_CMD_NEW);
out_unlock:
	mutex_unlock(&vsw_mutex);
	rtnl_unlock();
	if (err) {
		nlmsg_free(reply);
		return err;
	}
	return genlmsg_reply(reply, info);
}

static int vport_cmd_del(struct sk_buff *skb, struct genl_info *info)
{
	struct vsw_vport *vport;
	int err = 0;

	rtnl_lock();
	mutex_lock(&vsw_mutex);
	vport = vport_from_info(info);
	if (IS_ERR(vport)) {
		err = PTR_ERR(vport);
	} else if (vport->port_no == VSW_PORT_LOCAL) {
		NL_SET_ERR_MSG(info->extack, "port 0 is the datapath itself: delete the datapath");
		err = -EINVAL;
	} else {
		vsw_vport_del(vport);
	}
	mutex_unlock(&vsw_mutex);
	rtnl_unlock();
	return err;
}

static int vport_cmd_get_set(struct sk_buff *skb, struct genl_info *info, u8 cmd)
{
	struct nlattr *pid = info->attrs[VSW_VPORT_ATTR_UPCALL_PID];
	struct vsw_vport *vport;
	struct sk_buff *reply;
	int err;

	reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	mutex_lock(&vsw_mutex);
	vport = vport_from_info(info);
	err = PTR_ERR_OR_ZERO(vport);
	if (!err && pid)
		WRITE_ONCE(vport->upcall_pid, nla_get_u32(pid));
	if (!err)
		err = vport_reply(vport, reply, info, cmd);
	mutex_unlock(&vsw_mutex);
	if (err) {
		nlmsg_free(reply);
		return err;
	}
	return genlmsg_reply(reply, info);
}

static int vport_cmd_get(struct sk_buff *skb, struct genl_info *info)
{
	return vport_cmd_get_set(skb, info, VSW_VPORT_CMD_GET);
}

static int vport_cmd_set(struct sk_buff *skb, struct genl_info *info)
{
	return vport_cmd_get_set(skb, info, VSW_VPORT_CMD_SET);
}

/* Resumes by port number: cb->args[0] is the next number to report. */
static int vport_cmd_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vsw_vport *vport;
	struct vsw_dp *dp;
	long i;

	mutex_lock(&vsw_mutex);
	dp = dp_from_dump(cb);
	if (!dp) {
		mutex_unlock(&vsw_mutex);
		return -ENODEV;
	}
	for (i = cb->args[0]; i < VSW_MAX_PORTS; i++) {
		vport = vsw_dp_port(dp, i);
		if (vport && vport_fill(vport, skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
					NLM_F_MULTI, VSW_VPORT_CMD_GET))
			break;
	}
	cb->args[0] = i;
	mutex_unlock(&vsw_mutex);
	return skb->len;
}

/* -------------------------------------------------------------------- flow */

static size_t flow_msg_size(int acts_len)
{
	return NLMSG_ALIGN(sizeof(struct vsw_header)) +
	       2 * nla_total_size(sizeof(struct vsw_flow_key)) + nla_total_size(acts_len) +
	       nla_total_size(sizeof(struct vsw_flow_stats)) + nla_total_size(2) +
	       nla_total_size_64bit(8) + nla_total_size(4);
}

static int flow_fill(struct vsw_dp *dp, struct vsw_flow *flow, struct sk_buff *skb, u32 portid,
		     u32 seq, int flags, u8 cmd)
{
	const struct vsw_actions *acts = rcu_dereference_protected(flow->acts,
								   lockdep_is_held(&vsw_mutex));
	struct vsw_flow_stats st;
	unsigned long used;
	u16 tcp_flags;
	void *hdr;

	hdr = put_header(skb, &vsw_flow_family, dp, portid, seq, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	vsw_flow_get_stats(flow, &st, &used, &tcp_flags);
	if (nla_put_u32(skb, VSW_FLOW_ATTR_ID, flow->id) ||
	    nla_put(skb, VSW_FLOW_ATTR_KEY, sizeof(struct vsw_flow_key), &flow->mf.key.key) ||
	    nla_put(skb, VSW_FLOW_ATTR_MASK, sizeof(struct vsw_flow_key),
		    &flow->mf.sub->mask.key) ||
	    nla_put(skb, VSW_FLOW_ATTR_ACTIONS | NLA_F_NESTED, acts->len, acts->acts) ||
	    nla_put(skb, VSW_FLOW_ATTR_STATS, sizeof(st), &st) ||
	    nla_put_u16(skb, VSW_FLOW_ATTR_TCP_FLAGS, tcp_flags) ||
	    (used && nla_put_u64_64bit(skb, VSW_FLOW_ATTR_USED,
				       jiffies_to_msecs(jiffies - used), VSW_FLOW_ATTR_PAD))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* Read KEY and MASK (default: exact) from a request. */
static int flow_key_mask(struct genl_info *info, struct vsw_flow_key *key,
			 struct vsw_flow_key *mask)
{
	struct nlattr *m = info->attrs[VSW_FLOW_ATTR_MASK];

	nla_memcpy(key, info->attrs[VSW_FLOW_ATTR_KEY], sizeof(*key));
	if (m) {
		nla_memcpy(mask, m, sizeof(*mask));
		if (mask->pad[0]) {
			NL_SET_ERR_MSG_ATTR(info->extack, m, "mask padding must be zero");
			return -EINVAL;
		}
	} else {
		memset(mask, 0xff, sizeof(*mask));
		memset(mask->pad, 0, sizeof(mask->pad));
	}
	return 0;
}

static struct vsw_flow *flow_find(struct vsw_dp *dp, struct genl_info *info,
				  const struct vsw_flow_key *key, const struct vsw_flow_key *mask)
{
	struct vsw_mflow *mf = vsw_table_find(&dp->table, key, mask);

	if (!mf) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VSW_FLOW_ATTR_KEY],
				    "no flow with this key and mask");
		return ERR_PTR(-ENOENT);
	}
	return container_of(mf, struct vsw_flow, mf);
}

/* A reply describing @flow, sized from its actions; vsw_mutex held. */
static struct sk_buff *flow_reply(struct vsw_dp *dp, struct vsw_flow *flow,
				  struct genl_info *info, u8 cmd)
{
	const struct vsw_actions *acts = rcu_dereference_protected(flow->acts,
								   lockdep_is_held(&vsw_mutex));
	struct sk_buff *reply = genlmsg_new(flow_msg_size(acts->len), GFP_KERNEL);
	int err;

	if (!reply)
		return ERR_PTR(-ENOMEM);
	err = flow_fill(dp, flow, reply, info->snd_portid, info->snd_seq, 0, cmd);
	if (WARN_ON_ONCE(err)) {
		nlmsg_free(reply);
		return ERR_PTR(err);
	}
	return reply;
}

/* NEW and SET describe the flow in a reply only when asked (NLM_F_ECHO): bulk installs
 * then cost one ack each, not a reply sized by the flow's actions.
 */
static int flow_cmd_new(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *acts_attr = info->attrs[VSW_FLOW_ATTR_ACTIONS];
	bool echo = info->nlhdr->nlmsg_flags & NLM_F_ECHO;
	struct vsw_flow_key key, mask;
	struct sk_buff *reply = NULL;
	struct vsw_actions *acts;
	struct vsw_flow *flow;
	struct vsw_dp *dp;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, VSW_FLOW_ATTR_KEY) ||
	    GENL_REQ_ATTR_CHECK(info, VSW_FLOW_ATTR_ACTIONS))
		return -EINVAL;
	err = flow_key_mask(info, &key, &mask);
	if (err)
		return err;
	err = vsw_actions_validate(acts_attr, &key, &mask, info->extack);
	if (err)
		return err;
	flow = vsw_flow_alloc();
	if (!flow)
		return -ENOMEM;
	acts = vsw_actions_copy(acts_attr);
	if (!acts) {
		err = -ENOMEM;
		goto err_free_flow;
	}
	RCU_INIT_POINTER(flow->acts, acts);
	if (echo) {
		reply = genlmsg_new(flow_msg_size(acts->len), GFP_KERNEL);
		if (!reply) {
			err = -ENOMEM;
			goto err_free_flow;
		}
	}
	mutex_lock(&vsw_mutex);
	dp = dp_from_info(info, NULL);
	if (IS_ERR(dp)) {
		err = PTR_ERR(dp);
		goto err_unlock;
	}
	if (dp->table.n_flows >= VSW_DP_MAX_FLOWS) {
		NL_SET_ERR_MSG(info->extack, "the datapath holds VSW_DP_MAX_FLOWS flows");
		err = -ENOSPC;
		goto err_unlock;
	}
	err = xa_alloc(&dp->flows, &flow->id, flow, xa_limit_32b, GFP_KERNEL_ACCOUNT);
	if (err)
		goto err_unlock;
	err = vsw_table_insert(&dp->table, &flow->mf, &key, &mask);
	if (err) {
		if (err == -EEXIST)
			NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VSW_FLOW_ATTR_KEY],
					    "a flow with this key and mask exists");
		else if (err == -ENOSPC)
			NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VSW_FLOW_ATTR_MASK],
					    "a new mask, and the datapath holds VSW_DP_MAX_MASKS masks");
		goto err_erase_id;
	}
	if (reply)
		WARN_ON_ONCE(flow_fill(dp, flow, reply, info->snd_portid, info->snd_seq, 0,
				       VSW_FLOW_CMD_NEW));
	mutex_unlock(&vsw_mutex);
	return reply ? genlmsg_reply(reply, info) : 0;

err_erase_id:
	xa_erase(&dp->flows, flow->id);
err_unlock:
	mutex_unlock(&vsw_mutex);
	nlmsg_free(reply);
err_free_flow:
	vsw_flow_free(flow);
	return err;
}

static int flow_cmd_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *acts_attr = info->attrs[VSW_FLOW_ATTR_ACTIONS];
	bool echo = info->nlhdr->nlmsg_flags & NLM_F_ECHO;
	struct vsw_actions *acts = NULL, *old;
	struct vsw_flow_key key, mask;
	struct sk_buff *reply = NULL;
	struct vsw_flow *flow;
	struct vsw_dp *dp;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, VSW_FLOW_ATTR_KEY))
		return -EINVAL;
	err = flow_key_mask(info, &key, &mask);
	if (err)
		return err;
	if (acts_attr) {
		err = vsw_actions_validate(acts_attr, &key, &mask, info->extack);
		if (err)
			return err;
		acts = vsw_actions_copy(acts_attr);
		if (!acts)
			return -ENOMEM;
	}
	/* Allocated before anything changes, so a change is never applied and then failed. */
	if (echo) {
		reply = genlmsg_new(flow_msg_size(acts ? acts->len : VSW_MAX_ACTIONS_LEN),
				    GFP_KERNEL);
		if (!reply) {
			kfree(acts);
			return -ENOMEM;
		}
	}
	mutex_lock(&vsw_mutex);
	dp = dp_from_info(info, NULL);
	flow = IS_ERR(dp) ? ERR_CAST(dp) : flow_find(dp, info, &key, &mask);
	err = PTR_ERR_OR_ZERO(flow);
	if (!err) {
		if (acts) {
			old = rcu_replace_pointer(flow->acts, acts, lockdep_is_held(&vsw_mutex));
			kfree_rcu(old, rcu);
			acts = NULL;
		}
		if (nla_get_flag(info->attrs[VSW_FLOW_ATTR_CLEAR]))
			vsw_flow_clear_stats(flow);
		if (reply)
			WARN_ON_ONCE(flow_fill(dp, flow, reply, info->snd_portid, info->snd_seq,
					       0, VSW_FLOW_CMD_SET));
	}
	mutex_unlock(&vsw_mutex);
	kfree(acts);
	if (err) {
		nlmsg_free(reply);
		return err;
	}
	return reply ? genlmsg_reply(reply, info) : 0;
}

static int flow_cmd_del(struct sk_buff *skb, struct genl_info *info)
{
	bool echo = info->nlhdr->nlmsg_flags & NLM_F_ECHO;
	struct vsw_flow_key key, mask;
	struct sk_buff *reply = NULL;
	struct vsw_flow *flow;
	struct vsw_dp *dp;
	int err = 0;

	if (info->attrs[VSW_FLOW_ATTR_KEY]) {
		err = flow_key_mask(info, &key, &mask);
		if (err)
			return err;
	}
	mutex_lock(&vsw_mutex);
	dp = dp_from_info(info, NULL);
	if (IS_ERR(dp)) {
		err = PTR_ERR(dp);
	} else if (!info->attrs[VSW_FLOW_ATTR_KEY]) {
		vsw_dp_flush(dp);
	} else {
		flow = flow_find(dp, info, &key, &mask);
		err = PTR_ERR_OR_ZERO(flow);
		/* Fill first: removal may free the mask the reply quotes. */
		if (!err && echo) {
			reply = flow_reply(dp, flow, info, VSW_FLOW_CMD_DEL);
			err = PTR_ERR_OR_ZERO(reply);
		}
		if (!err) {
			vsw_table_remove(&dp->table, &flow->mf);
			xa_erase(&dp->flows, flow->id);
			vsw_flow_free_rcu(flow);
		}
	}
	mutex_unlock(&vsw_mutex);
	if (err || !reply)
		return err;
	return genlmsg_reply(reply, info);
}

static int flow_cmd_get(struct sk_buff *skb, struct genl_info *info)
{
	struct vsw_flow_key key, mask;
	struct sk_buff *reply;
	struct vsw_flow *flow;
	struct vsw_dp *dp;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, VSW_FLOW_ATTR_KEY))
		return -EINVAL;
	err = flow_key_mask(info, &key, &mask);
	if (err)
		return err;
	mutex_lock(&vsw_mutex);
	dp = dp_from_info(info, NULL);
	flow = IS_ERR(dp) ? ERR_CAST(dp) : flow_find(dp, info, &key, &mask);
	reply = IS_ERR(flow) ? ERR_CAST(flow) : flow_reply(dp, flow, info, VSW_FLOW_CMD_GET);
	mutex_unlock(&vsw_mutex);
	if (IS_ERR(reply))
		return PTR_ERR(reply);
	return genlmsg_reply(reply, info);
}

/*
 * Resumes by flow id: cb->args[0] is the next id to report. Ids only grow
 * within the xarray walk, so a flow present throughout is reported once. A
 * flow too big for an empty message ends the dump with an error, never
 * silently (VSW_MAX_ACTIONS_LEN keeps every flow within NLMSG_GOODSIZE).
 */
static int flow_cmd_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vsw_flow *flow;
	unsigned long id;
	struct vsw_dp *dp;
	int err = 0;

	mutex_lock(&vsw_mutex);
	dp = dp_from_dump(cb);
	if (!dp) {
		mutex_unlock(&vsw_mutex);
		return -ENODEV;
	}
	xa_for_each_start(&dp->flows, id, flow, cb->args[0]) {
		err = flow_fill(dp, flow, skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				NLM_F_MULTI, VSW_FLOW_CMD_GET);
		if (err)
			break;
		cb->args[0] = id + 1;
	}
	mutex_unlock(&vsw_mutex);
	return err && !skb->len ? err : skb->len;
}

/* ------------------------------------------------------------------ packet */

static int packet_cmd_execute(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *pkt = info->attrs[VSW_PACKET_ATTR_PACKET];
	struct nlattr *acts = info->attrs[VSW_PACKET_ATTR_ACTIONS];
	struct vsw_flow_key key, exact;
	struct sk_buff *packet;
	struct vsw_dp *dp;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, VSW_PACKET_ATTR_PACKET) ||
	    GENL_REQ_ATTR_CHECK(info, VSW_PACKET_ATTR_KEY) ||
	    GENL_REQ_ATTR_CHECK(info, VSW_PACKET_ATTR_ACTIONS))
		return -EINVAL;
	nla_memcpy(&key, info->attrs[VSW_PACKET_ATTR_KEY], sizeof(key));
	if (key.in_port >= VSW_MAX_PORTS) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VSW_PACKET_ATTR_KEY],
				    "key in_port out of range");
		return -EINVAL;
	}
	packet = alloc_skb(NET_IP_ALIGN + nla_len(pkt), GFP_KERNEL);
	if (!packet)
		return -ENOMEM;
	skb_reserve(packet, NET_IP_ALIGN);
	skb_put_data(packet, nla_data(pkt), nla_len(pkt));
	packet->mark = key.skb_mark;
	packet->protocol = ((struct ethhdr *)packet->data)->h_proto;
	vsw_flow_extract(packet, key.in_port, &key);
	memset(&exact, 0xff, sizeof(exact));
	err = vsw_actions_validate(acts, &key, &exact, info->extack);
	if (err)
		goto err_free_packet;
	/* Like a received packet: RCU only, so executes never wait for flow installs. */
	local_bh_disable();
	rcu_read_lock();
	dp = vsw_dp_lookup_rcu(genl_info_net(info), userhdr_ifindex(info));
	if (dp)
		vsw_actions_execute(dp, packet, &key, nla_data(acts), nla_len(acts));
	rcu_read_unlock();
	local_bh_enable();
	if (dp)
		return 0;
	NL_SET_ERR_MSG(info->extack, "dp_ifindex names no datapath in this namespace");
	err = -ENODEV;
err_free_packet:
	kfree_skb(packet);
	return err;
}

/* ---------------------------------------------------------------- families */

#define OP(c, d, p, m) { .cmd = (c), .doit = (d), .policy = (p), .maxattr = (m), \
			 .flags = GENL_UNS_ADMIN_PERM }
#define OP_DUMP(c, d, du, p, m) { .cmd = (c), .doit = (d), .dumpit = (du), .policy = (p), \
				  .maxattr = (m), .flags = GENL_UNS_ADMIN_PERM }

static const struct genl_ops dp_ops[] = {
	OP(VSW_DP_CMD_NEW, dp_cmd_new, dp_new_policy, VSW_DP_ATTR_MAX),
	OP(VSW_DP_CMD_DEL, dp_cmd_del, dp_get_policy, VSW_DP_ATTR_MAX),
	OP_DUMP(VSW_DP_CMD_GET, dp_cmd_get, dp_cmd_dump, dp_get_policy, VSW_DP_ATTR_MAX),
	OP(VSW_DP_CMD_SET, dp_cmd_set, dp_new_policy, VSW_DP_ATTR_MAX),
};

static const struct genl_ops vport_ops[] = {
	OP(VSW_VPORT_CMD_NEW, vport_cmd_new, vport_new_policy, VSW_VPORT_ATTR_MAX),
	OP(VSW_VPORT_CMD_DEL, vport_cmd_del, vport_get_policy, VSW_VPORT_ATTR_MAX),
	OP_DUMP(VSW_VPORT_CMD_GET, vport_cmd_get, vport_cmd_dump, vport_get_policy,
		VSW_VPORT_ATTR_MAX),
	OP(VSW_VPORT_CMD_SET, vport_cmd_set, vport_set_policy, VSW_VPORT_ATTR_MAX),
};

static const struct genl_ops flow_ops[] = {
	OP(VSW_FLOW_CMD_NEW, flow_cmd_new, flow_new_policy, VSW_FLOW_ATTR_MAX),
	OP(VSW_FLOW_CMD_DEL, flow_cmd_del, flow_get_policy, VSW_FLOW_ATTR_MAX),
	OP_DUMP(VSW_FLOW_CMD_GET, flow_cmd_get, flow_cmd_dump, flow_get_policy,
		VSW_FLOW_ATTR_MAX),
	OP(VSW_FLOW_CMD_SET, flow_cmd_set, flow_set_policy, VSW_FLOW_ATTR_MAX),
};

static const struct genl_ops packet_ops[] = {
	OP(VSW_PACKET_CMD_EXECUTE, packet_cmd_execute, packet_execute_policy,
	   VSW_PACKET_ATTR_MAX),
};

#define FAMILY(n, o) { .name = (n), .version = VSW_PROTO_VERSION, \
		       .hdrsize = sizeof(struct vsw_header), .netnsok = true, \
		       .parallel_ops = true, .ops = (o), .n_ops = ARRAY_SIZE(o), \
		       .module = THIS_MODULE }

static struct genl_family vsw_datapath_family __ro_after_init = FAMILY(VSW_DATAPATH_FAMILY, dp_ops);
static struct genl_family vsw_vport_family __ro_after_init = FAMILY(VSW_VPORT_FAMILY, vport_ops);
static struct genl_family vsw_flow_family __ro_after_init = FAMILY(VSW_FLOW_FAMILY, flow_ops);
struct genl_family vsw_packet_family __ro_after_init = FAMILY(VSW_PACKET_FAMILY, packet_ops);

static struct genl_family *const families[] = {
	&vsw_datapath_family, &vsw_vport_family, &vsw_flow_family, &vsw_packet_family,
};

int vsw_netlink_init(void)
{
	int i, err;

	for (i = 0; i < ARRAY_SIZE(families); i++) {
		err = genl_register_family(families[i]);
		if (err)
			goto err_unregister;
	}
	return 0;

err_unregister:
	while (--i >= 0)
		genl_unregister_family(families[i]);
	return err;
}

void vsw_netlink_exit(void)
{
	int i;

	for (i = ARRAY_SIZE(families) - 1; i >= 0; i--)
		genl_unregister_family(families[i]);
}
