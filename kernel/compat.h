/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - every kernel version check of the module lives here.
 * Supported: Debian 12's 6.1 and bookworm-backports' 6.12.
 */
#ifndef VSW_COMPAT_H
#define VSW_COMPAT_H

#include <linux/version.h>
#include <linux/netdevice.h>

/* 6.4 moved the GSO helpers (__skb_gso_segment) to their own header. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#include <net/gso.h>
#endif

/*
 * 6.2 named the attribute that exempts one variable from the zeroing of
 * CONFIG_INIT_STACK_ALL_ZERO (set in Debian's kernels); GCC 12, which builds
 * both kernels, has it.
 */
#ifndef __uninitialized
#define __uninitialized __attribute__((__uninitialized__))
#endif

/* 6.12 turned NETIF_F_LLTX and NETIF_F_NETNS_LOCAL into net_device bits. */
static inline void vsw_compat_dev_local_lltx(struct net_device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	dev->lltx = true;
	dev->netns_immutable = true;
#else
	dev->features |= NETIF_F_LLTX | NETIF_F_NETNS_LOCAL;
#endif
}

#endif /* VSW_COMPAT_H */
