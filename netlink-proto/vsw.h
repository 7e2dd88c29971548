/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * vsw.h - the netlink ABI between the vsw.ko datapath and userspace.
 *
 * This header is the single source of truth for both sides: the kernel module
 * includes it unchanged, and so do the C++ daemon and vsw-dpctl. It compiles
 * as C and as C++ and needs only <linux/types.h>.
 *
 * Overview
 * --------
 * vsw speaks generic netlink through four families, all in one version:
 *
 *   VSW_DATAPATH_FAMILY "vsw_datapath"  datapaths (create, delete, list, stats)
 *   VSW_VPORT_FAMILY    "vsw_vport"     ports of a datapath
 *   VSW_FLOW_FAMILY     "vsw_flow"      the megaflow cache
 *   VSW_PACKET_FAMILY   "vsw_packet"    upcalls (kernel to user) and execute
 *
 * Every message, in both directions, starts with a struct vsw_header right
 * after the genlmsghdr. Its dp_ifindex names the datapath: it is the ifindex
 * of the datapath's internal (local) port, port 0, which is a real netdev with
 * the datapath's name. Datapaths live in a network namespace; several may
 * exist per namespace, and ifindex lookups happen in the namespace of the
 * requesting socket. Datapath commands may instead give VSW_DP_ATTR_NAME with
 * dp_ifindex 0. Replies always carry the datapath's dp_ifindex.
 *
 * Every command requires CAP_NET_ADMIN in the user namespace owning the
 * network namespace (GENL_UNS_ADMIN_PERM). Every attribute is checked against
 * a strict per-command policy; unknown attributes, and read-only attributes
 * sent in a request, are rejected with -EINVAL and an extended ack message
 * naming the offending attribute. Nested attributes (action lists and the
 * actions inside them) must carry NLA_F_NESTED. NEW, SET and GET reply with
 * one message of the same command describing the object; DEL replies only
 * with the ack (flow DEL with NLM_F_ECHO also returns the deleted flow). A
 * dump that cannot start (unknown dp_ifindex) reports its error in the
 * NLMSG_DONE message.
 *
 * Versioning and extending
 * ------------------------
 * VSW_PROTO_VERSION is the family version (genl version field). Attributes
 * are only ever appended before the __MAX entry of their enum, never
 * renumbered or removed; a new optional attribute is ignored by old kernels
 * only if userspace checks the kernel's VSW_DP_ATTR_VERSION first, because
 * strict validation rejects attributes the kernel does not know. Optional
 * request attributes added within a version are announced instead by a bit in
 * VSW_DP_ATTR_FEATURES, which every datapath reply carries: userspace sends
 * one only when the kernel reports its bit (an old kernel sends no FEATURES at
 * all, which reads as 0). Old userspace skips reply attributes it does not
 * know, so new reply attributes need no version. The flow key
 * is a fixed binary struct: it may only grow at its end (replacing padding
 * first), and the kernel reports sizeof(struct vsw_flow_key) in
 * VSW_DP_ATTR_KEY_SIZE so userspace built against a different layout fails
 * loudly at open instead of installing garbage. Key and mask attributes must
 * have exactly that length.
 *
 * vsw_datapath commands (attributes: enum vsw_datapath_attr)
 * ------------------------------------------------------
 * VSW_DP_CMD_NEW: create a datapath. Requires VSW_DP_ATTR_NAME (a valid and
 *   unused netdev name); optional VSW_DP_ATTR_UPCALL_PID, the netlink port id
 *   that receives upcalls for the internal port, and PER_CPU_PIDS (below).
 *   Creates port 0. -EEXIST if a netdev of that name exists. Replies like GET.
 * VSW_DP_CMD_DEL: delete the datapath named by dp_ifindex or NAME, with all
 *   its ports and flows. -ENODEV if it does not exist.
 * VSW_DP_CMD_GET: one datapath by dp_ifindex or NAME; with NLM_F_DUMP every
 *   datapath of the namespace. The reply carries NAME, VERSION, KEY_SIZE,
 *   STATS (struct vsw_dp_stats), UPCALL_PID, FEATURES, MAX_FLOWS, MAX_MASKS,
 *   and PER_CPU_PIDS when it is set.
 * VSW_DP_CMD_SET: change UPCALL_PID and/or PER_CPU_PIDS of the datapath.
 *   Replies like GET.
 *
 * Per-CPU upcall dispatch (VSW_DP_F_PER_CPU_UPCALLS in FEATURES): NEW or SET
 * with VSW_DP_ATTR_PER_CPU_PIDS, an array of n u32 netlink port ids (1 <= n
 * <= the kernel's number of possible CPU ids, each nonzero; the attribute
 * length is 4 * n), makes every upcall of the datapath that would use a
 * port's pid go to pid[cpu % n] instead, cpu being the CPU that handles the
 * packet: MISS upcalls, and USERSPACE actions with PID 0. Ports' UPCALL_PIDs
 * are kept but unused while it is set. An empty attribute (length 0) turns it
 * off again: upcalls go to the ingress port's pid. A bad array (zero pid,
 * length not a multiple of 4, too many entries) fails with -EINVAL and an
 * extack message and changes nothing. A replacement applies to packets
 * processed after the reply; packets in flight may still use the old array.
 *
 * vsw_vport commands (attributes: enum vsw_vport_attr)
 * ------------------------------------------------
 * VSW_VPORT_CMD_NEW: attach an existing netdev. Requires NAME (the netdev in
 *   the caller's namespace) and TYPE (VSW_VPORT_TYPE_NETDEV); optional
 *   PORT_NO (1 .. VSW_MAX_PORTS-1, the lowest free number otherwise) and
 *   UPCALL_PID. -EBUSY if the device already has an rx_handler (for example
 *   it is in a bridge or another datapath), -EEXIST if PORT_NO is taken,
 *   -EINVAL for loopback, for vsw internal devices and for devices stacked
 *   on this datapath's device (a loop). An attached netdev is linked below
 *   port 0's device as its master upper device.
 * VSW_VPORT_CMD_DEL: detach the port given by PORT_NO or NAME. Port 0 cannot
 *   be deleted (delete the datapath instead).
 * VSW_VPORT_CMD_GET: one port by PORT_NO or NAME; with NLM_F_DUMP all ports
 *   of the datapath in port-number order (the dump resumes by port number).
 *   Replies carry PORT_NO, TYPE, NAME, IFINDEX, UPCALL_PID and STATS
 *   (struct vsw_vport_stats).
 * VSW_VPORT_CMD_SET: change the UPCALL_PID of the port given by PORT_NO or
 *   NAME.
 * When an attached netdev is unregistered, its port disappears by itself.
 *
 * vsw_flow commands (attributes: enum vsw_flow_attr)
 * ----------------------------------------------
 * A flow is a megaflow: KEY and MASK, each a struct vsw_flow_key of exact
 * size. MASK has 1-bits where the flow matches; a missing MASK means an exact
 * match (all ones). The kernel stores KEY & MASK. Userspace must install only
 * non-overlapping megaflows: a packet matches the first megaflow found, in an
 * unspecified order. Bits set in KEY outside MASK are ignored.
 *
 * VSW_FLOW_CMD_NEW: install a flow. Requires KEY and ACTIONS; optional MASK.
 *   -EEXIST if a flow with the same masked key and mask exists; -ENOSPC if
 *   the datapath holds MAX_FLOWS flows, or MAX_MASKS masks and the flow's mask
 *   is a new one. Actions are validated now (see below), never at packet time.
 * VSW_FLOW_CMD_SET: replace the ACTIONS of the flow identified by KEY and
 *   MASK; with CLEAR also reset its stats. -ENOENT if it does not exist.
 * VSW_FLOW_CMD_DEL: delete the flow identified by KEY and MASK; without KEY
 *   delete every flow of the datapath (flush). The reply to a single delete
 *   (NLM_F_ECHO) carries the final stats.
 * VSW_FLOW_CMD_GET: the flow identified by KEY and MASK; with NLM_F_DUMP all
 *   flows. Each reply carries ID, KEY, MASK, ACTIONS, STATS, TCP_FLAGS and
 *   USED (omitted if the flow never matched). A dump is split over as many
 *   messages as needed and resumes by flow ID, in increasing ID order: a flow
 *   present for the whole dump is returned exactly once; flows added or
 *   removed during the dump may or may not appear.
 *
 * Actions (VSW_FLOW_ATTR_ACTIONS, VSW_PACKET_ATTR_ACTIONS)
 * -------------------------------------------------------
 * A nested list, executed in order; an empty list drops the packet. At most
 * VSW_MAX_ACTIONS actions and VSW_MAX_ACTIONS_LEN bytes of payload.
 *   VSW_ACTION_ATTR_OUTPUT    u32 port number; a copy of the packet leaves by
 *                             that port (may appear several times).
 *   VSW_ACTION_ATTR_USERSPACE nested enum vsw_userspace_attr: PID (u32, 0 means
 *                             this CPU's PER_CPU_PIDS entry if set, else
 *                             the ingress port's upcall pid) and optional
 *                             COOKIE (1..VSW_MAX_COOKIE bytes); sends an
 *                             upcall of command VSW_PACKET_CMD_ACTION.
 *   VSW_ACTION_ATTR_SET       nested enum vsw_set_attr, one or more fields to
 *                             rewrite. ETH_* needs nothing; IPV4_* needs the
 *                             flow to match eth_type 0x0800 exactly, IPV6_*
 *                             0x86dd and ARP_* 0x0806 (an ARP frame for
 *                             Ethernet and IPv4); VLAN_* needs the flow to
 *                             match VSW_VLAN_TAG_PRESENT set, or an earlier
 *                             PUSH_VLAN (after a POP_VLAN it is refused), and
 *                             keeps the tag's DEI bit; L4_*
 *                             needs an exact match on eth_type IPv4 or IPv6
 *                             and on ip_proto TCP or UDP. Checksums (IPv4
 *                             header, TCP/UDP/ICMPv6 pseudo header, not for a
 *                             new IPv6 destination past a routing header) are
 *                             fixed up.
 *   VSW_ACTION_ATTR_PUSH_VLAN nested enum vsw_vlan_attr: VID (u16, 0..4095),
 *                             optional PCP (u8, 0..7); pushes an 802.1Q tag.
 *   VSW_ACTION_ATTR_POP_VLAN  flag; removes the outer 802.1Q tag if any.
 * Invalid actions fail with -EINVAL and a message pointing at the attribute.
 *
 * vsw_packet commands (attributes: enum vsw_packet_attr)
 * --------------------------------------------------
 * VSW_PACKET_CMD_MISS (kernel to user): a packet matched no flow. Sent as a
 *   unicast to this CPU's PER_CPU_PIDS entry when the datapath has them, else
 *   to the UPCALL_PID of its ingress port, with PACKET (the frame from
 *   the Ethernet header, VLAN tag included, checksums completed; a GSO packet
 *   is sent as one upcall per segment), KEY (the extracted, unmasked key) and
 *   IN_PORT. If
 *   the port has no pid, or the receiver's queue is full, the packet is
 *   dropped and counted in vsw_dp_stats.n_lost.
 * VSW_PACKET_CMD_ACTION (kernel to user): sent by a userspace action, same
 *   attributes plus USERDATA (the action's cookie) if it had one.
 * VSW_PACKET_CMD_EXECUTE (user to kernel): run ACTIONS on PACKET. KEY is
 *   required: its in_port is the ingress port (used by USERSPACE pid 0 and
 *   reported in upcalls); the kernel re-extracts the rest from the packet.
 *   PACKET must be at least 14 bytes (an Ethernet header).
 */

#ifndef _UAPI_VSW_H
#define _UAPI_VSW_H

#include <linux/types.h>

#define VSW_PROTO_VERSION 1

#define VSW_DATAPATH_FAMILY "vsw_datapath"
#define VSW_VPORT_FAMILY "vsw_vport"
#define VSW_FLOW_FAMILY "vsw_flow"
#define VSW_PACKET_FAMILY "vsw_packet"

/* Port numbers. Port 0 is the datapath's own internal netdev. */
#define VSW_PORT_LOCAL 0
#define VSW_MAX_PORTS 1024

#define VSW_MAX_ACTIONS 32
#define VSW_MAX_COOKIE 64
/*
 * Bytes of an ACTIONS payload: VSW_MAX_ACTIONS times the largest action
 * (userspace with PID and a VSW_MAX_COOKIE cookie, 80 bytes).
 */
#define VSW_MAX_ACTIONS_LEN 2560

/* Per-datapath limits, reported in VSW_DP_ATTR_MAX_FLOWS and _MAX_MASKS. */
#define VSW_DP_MAX_FLOWS 1000000
#define VSW_DP_MAX_MASKS 4096

/* Follows the genlmsghdr in every vsw message. */
struct vsw_header {
	__s32 dp_ifindex; /* ifindex of the datapath's port 0; 0 = by NAME */
};

/* ---------------------------------------------------------------- datapath */

enum vsw_datapath_cmd {
	VSW_DP_CMD_UNSPEC,
	VSW_DP_CMD_NEW,
	VSW_DP_CMD_DEL,
	VSW_DP_CMD_GET,
	VSW_DP_CMD_SET,
	__VSW_DP_CMD_MAX
};
#define VSW_DP_CMD_MAX (__VSW_DP_CMD_MAX - 1)

enum vsw_datapath_attr {
	VSW_DP_ATTR_UNSPEC,
	VSW_DP_ATTR_NAME,	/* string, < IFNAMSIZ */
	VSW_DP_ATTR_UPCALL_PID, /* u32, upcall port id of port 0 */
	VSW_DP_ATTR_STATS,	/* struct vsw_dp_stats, read-only */
	VSW_DP_ATTR_VERSION,	/* u32 VSW_PROTO_VERSION, read-only */
	VSW_DP_ATTR_KEY_SIZE,	/* u32 sizeof(struct vsw_flow_key), read-only */
	VSW_DP_ATTR_FEATURES,	/* u32 VSW_DP_F_* the kernel supports, read-only */
	VSW_DP_ATTR_PER_CPU_PIDS, /* u32[1..nr_cpu_ids] upcall port ids by CPU; empty = off */
	VSW_DP_ATTR_MAX_FLOWS,	/* u32 most flows the datapath holds, read-only */
	VSW_DP_ATTR_MAX_MASKS,	/* u32 most distinct masks it holds, read-only */
	__VSW_DP_ATTR_MAX
};
#define VSW_DP_ATTR_MAX (__VSW_DP_ATTR_MAX - 1)

/* VSW_DP_ATTR_FEATURES bits. */
#define VSW_DP_F_PER_CPU_UPCALLS (1U << 0) /* VSW_DP_ATTR_PER_CPU_PIDS understood */
/* SET of VLAN_TCI, IPV6_*, ARP_* understood; key byte 102 is vlan_dei. */
#define VSW_DP_F_SET_EXT (1U << 1)

struct vsw_dp_stats {
	__u64 n_hit;	       /* packets that matched a flow */
	__u64 n_missed;	       /* packets that matched no flow (upcalled) */
	__u64 n_lost;	       /* upcalls dropped: no listener or queue full */
	__u64 n_flows;	       /* flows installed now */
	__u64 n_masks;	       /* distinct masks now */
	__u64 n_mask_hit;      /* masks probed, summed over hit+missed packets */
	__u64 n_microflow_hit; /* hits answered by the microflow cache */
};

/* ------------------------------------------------------------------- vport */

enum vsw_vport_cmd {
	VSW_VPORT_CMD_UNSPEC,
	VSW_VPORT_CMD_NEW,
	VSW_VPORT_CMD_DEL,
	VSW_VPORT_CMD_GET,
	VSW_VPORT_CMD_SET,
	__VSW_VPORT_CMD_MAX
};
#define VSW_VPORT_CMD_MAX (__VSW_VPORT_CMD_MAX - 1)

enum vsw_vport_type {
	VSW_VPORT_TYPE_UNSPEC,
	VSW_VPORT_TYPE_NETDEV,	 /* an existing netdev, via rx_handler */
	VSW_VPORT_TYPE_INTERNAL, /* the datapath's own netdev (port 0 only) */
	__VSW_VPORT_TYPE_MAX
};
#define VSW_VPORT_TYPE_MAX (__VSW_VPORT_TYPE_MAX - 1)

enum vsw_vport_attr {
	VSW_VPORT_ATTR_UNSPEC,
	VSW_VPORT_ATTR_PORT_NO,	   /* u32 */
	VSW_VPORT_ATTR_TYPE,	   /* u32 enum vsw_vport_type */
	VSW_VPORT_ATTR_NAME,	   /* string, < IFNAMSIZ */
	VSW_VPORT_ATTR_UPCALL_PID, /* u32 netlink port id for upcalls */
	VSW_VPORT_ATTR_STATS,	   /* struct vsw_vport_stats, read-only */
	VSW_VPORT_ATTR_IFINDEX,	   /* u32, read-only */
	__VSW_VPORT_ATTR_MAX
};
#define VSW_VPORT_ATTR_MAX (__VSW_VPORT_ATTR_MAX - 1)

struct vsw_vport_stats {
	__u64 rx_packets; /* received from the device into the datapath */
	__u64 tx_packets; /* sent by the datapath out of the device */
	__u64 rx_bytes;
	__u64 tx_bytes;
	__u64 rx_dropped;
	__u64 tx_dropped;
};

/* -------------------------------------------------------------------- flow */

enum vsw_flow_cmd {
	VSW_FLOW_CMD_UNSPEC,
	VSW_FLOW_CMD_NEW,
	VSW_FLOW_CMD_DEL,
	VSW_FLOW_CMD_GET,
	VSW_FLOW_CMD_SET,
	__VSW_FLOW_CMD_MAX
};
#define VSW_FLOW_CMD_MAX (__VSW_FLOW_CMD_MAX - 1)

enum vsw_flow_attr {
	VSW_FLOW_ATTR_UNSPEC,
	VSW_FLOW_ATTR_KEY,	 /* struct vsw_flow_key, exact length */
	VSW_FLOW_ATTR_MASK,	 /* struct vsw_flow_key, exact length */
	VSW_FLOW_ATTR_ACTIONS,	 /* nested enum vsw_action_attr */
	VSW_FLOW_ATTR_STATS,	 /* struct vsw_flow_stats, read-only */
	VSW_FLOW_ATTR_TCP_FLAGS, /* u16 host order, OR of flags seen, read-only */
	VSW_FLOW_ATTR_USED,	 /* u64 ms since last hit, read-only */
	VSW_FLOW_ATTR_CLEAR,	 /* flag: SET also clears stats */
	VSW_FLOW_ATTR_ID,	 /* u32 dump order id, read-only */
	VSW_FLOW_ATTR_PAD,
	__VSW_FLOW_ATTR_MAX
};
#define VSW_FLOW_ATTR_MAX (__VSW_FLOW_ATTR_MAX - 1)

struct vsw_flow_stats {
	__u64 n_packets;
	__u64 n_bytes;
};

/*
 * The flow key, used unchanged as the mask. Multi-byte fields marked __be are
 * in network byte order, the others in host order. Fields that a packet does
 * not have are zero (an IPv6 packet has zero ipv4_*, a non-ARP packet zero
 * arp_*). Packets with a truncated or malformed header get the fields up to
 * the last complete header; the rest stay zero.
 *
 * Layout is fixed: every field is naturally aligned, padding is explicit, the
 * size is a multiple of 8 (checked at compile time by the module).
 */
struct vsw_flow_key {
	__u32 in_port;	    /*  0: ingress port number */
	__u32 skb_mark;	    /*  4: skb->mark */
	__u8 eth_src[6];    /*  8 */
	__u8 eth_dst[6];    /* 14 */
	__be16 eth_type;    /* 20: after any VLAN tag; 0x05ff for 802.3 */
	__be16 vlan_tci;    /* 22: PCP|VSW_VLAN_TAG_PRESENT|VID, 0 untagged */
	__u8 ip_proto;	    /* 24: IPv4 protocol / IPv6 final next header */
	__u8 ip_tos;	    /* 25: IPv4 TOS / IPv6 traffic class */
	__u8 ip_ttl;	    /* 26: IPv4 TTL / IPv6 hop limit */
	__u8 ip_frag;	    /* 27: VSW_FRAG_* bits */
	__be32 ipv6_label;  /* 28: low 20 bits */
	__be32 ipv4_src;    /* 32 */
	__be32 ipv4_dst;    /* 36 */
	__u8 ipv6_src[16];  /* 40 */
	__u8 ipv6_dst[16];  /* 56 */
	__be16 tp_src;	    /* 72: TCP/UDP/SCTP source port */
	__be16 tp_dst;	    /* 74: TCP/UDP/SCTP destination port */
	__be16 tcp_flags;   /* 76: low 12 bits of TCP offset/flags word */
	__u8 icmp_type;	    /* 78: ICMP or ICMPv6 */
	__u8 icmp_code;	    /* 79 */
	__be32 arp_spa;	    /* 80 */
	__be32 arp_tpa;	    /* 84 */
	__u8 arp_sha[6];    /* 88 */
	__u8 arp_tha[6];    /* 94 */
	__be16 arp_op;	    /* 100 */
	__u8 vlan_dei;	    /* 102: the tag's DEI bit (0 or 1); 0 untagged */
	__u8 pad[1];	    /* 103: must be zero in key and mask */
};			    /* 104 bytes */

/*
 * As in openvswitch.ko, bit 12 of vlan_tci (the DEI bit's place, 0x1000 in host
 * order) says "tagged": a tag's own DEI bit is reported in vlan_dei instead.
 * Byte 102 was padding before (VSW_DP_F_SET_EXT kernels fill it): masks from
 * older userspace have it zero, so DEI stays wildcarded for them.
 */
#define VSW_VLAN_TAG_PRESENT 0x1000 /* in host order of vlan_tci */
#define VSW_VLAN_VID_MASK 0x0fff
#define VSW_VLAN_PCP_SHIFT 13

#define VSW_FRAG_ANY 0x01   /* packet is a fragment (first or later) */
#define VSW_FRAG_LATER 0x02 /* not the first fragment: no L4 header */
/*
 * ip_frag values: 0 = no, VSW_FRAG_ANY = first, ANY|LATER = later. For an
 * IPv6 later fragment the header walk stops at the fragment header, whose
 * next header is ip_proto (the rest is payload).
 */

/* ----------------------------------------------------------------- actions */

enum vsw_action_attr {
	VSW_ACTION_ATTR_UNSPEC,
	VSW_ACTION_ATTR_OUTPUT,	   /* u32 port number */
	VSW_ACTION_ATTR_USERSPACE, /* nested enum vsw_userspace_attr */
	VSW_ACTION_ATTR_SET,	   /* nested enum vsw_set_attr */
	VSW_ACTION_ATTR_PUSH_VLAN, /* nested enum vsw_vlan_attr */
	VSW_ACTION_ATTR_POP_VLAN,  /* flag */
	__VSW_ACTION_ATTR_MAX
};
#define VSW_ACTION_ATTR_MAX (__VSW_ACTION_ATTR_MAX - 1)

enum vsw_userspace_attr {
	VSW_USERSPACE_ATTR_UNSPEC,
	VSW_USERSPACE_ATTR_PID,	   /* u32, 0 = per-CPU or ingress port's pid */
	VSW_USERSPACE_ATTR_COOKIE, /* binary, 1..VSW_MAX_COOKIE bytes */
	__VSW_USERSPACE_ATTR_MAX
};
#define VSW_USERSPACE_ATTR_MAX (__VSW_USERSPACE_ATTR_MAX - 1)

enum vsw_set_attr {
	VSW_SET_ATTR_UNSPEC,
	VSW_SET_ATTR_ETH_SRC,  /* 6 bytes */
	VSW_SET_ATTR_ETH_DST,  /* 6 bytes */
	VSW_SET_ATTR_IPV4_SRC, /* __be32 */
	VSW_SET_ATTR_IPV4_DST, /* __be32 */
	VSW_SET_ATTR_IPV4_TOS, /* u8 (DSCP and ECN) */
	VSW_SET_ATTR_IPV4_TTL, /* u8, 1..255 */
	VSW_SET_ATTR_L4_SRC,   /* __be16 TCP/UDP source port */
	VSW_SET_ATTR_L4_DST,   /* __be16 TCP/UDP destination port */
	/* Since VSW_DP_F_SET_EXT: */
	VSW_SET_ATTR_VLAN_VID,	  /* u16, 0..4095: VID of the outer tag */
	VSW_SET_ATTR_VLAN_PCP,	  /* u8, 0..7: PCP of the outer tag */
	VSW_SET_ATTR_IPV6_SRC,	  /* 16 bytes */
	VSW_SET_ATTR_IPV6_DST,	  /* 16 bytes */
	VSW_SET_ATTR_IPV6_TCLASS, /* u8 (DSCP and ECN) */
	VSW_SET_ATTR_IPV6_LABEL,  /* __be32, 0..0xfffff */
	VSW_SET_ATTR_IPV6_HLIMIT, /* u8, 1..255 */
	VSW_SET_ATTR_ARP_OP,	  /* __be16 */
	VSW_SET_ATTR_ARP_SHA,	  /* 6 bytes */
	VSW_SET_ATTR_ARP_THA,	  /* 6 bytes */
	VSW_SET_ATTR_ARP_SPA,	  /* __be32 */
	VSW_SET_ATTR_ARP_TPA,	  /* __be32 */
	__VSW_SET_ATTR_MAX
};
#define VSW_SET_ATTR_MAX (__VSW_SET_ATTR_MAX - 1)

enum vsw_vlan_attr {
	VSW_VLAN_ATTR_UNSPEC,
	VSW_VLAN_ATTR_VID, /* u16, 0..4095 */
	VSW_VLAN_ATTR_PCP, /* u8, 0..7, default 0 */
	__VSW_VLAN_ATTR_MAX
};
#define VSW_VLAN_ATTR_MAX (__VSW_VLAN_ATTR_MAX - 1)

/* ------------------------------------------------------------------ packet */

enum vsw_packet_cmd {
	VSW_PACKET_CMD_UNSPEC,
	VSW_PACKET_CMD_MISS,	/* kernel to user: no flow matched */
	VSW_PACKET_CMD_ACTION,	/* kernel to user: userspace action */
	VSW_PACKET_CMD_EXECUTE, /* user to kernel: run actions on a packet */
	__VSW_PACKET_CMD_MAX
};
#define VSW_PACKET_CMD_MAX (__VSW_PACKET_CMD_MAX - 1)

enum vsw_packet_attr {
	VSW_PACKET_ATTR_UNSPEC,
	VSW_PACKET_ATTR_PACKET,	  /* binary frame from the Ethernet header */
	VSW_PACKET_ATTR_KEY,	  /* struct vsw_flow_key, exact length */
	VSW_PACKET_ATTR_ACTIONS,  /* nested enum vsw_action_attr (EXECUTE) */
	VSW_PACKET_ATTR_USERDATA, /* binary cookie (ACTION upcalls) */
	VSW_PACKET_ATTR_IN_PORT,  /* u32 ingress port (upcalls) */
	__VSW_PACKET_ATTR_MAX
};
#define VSW_PACKET_ATTR_MAX (__VSW_PACKET_ATTR_MAX - 1)

#endif /* _UAPI_VSW_H */
