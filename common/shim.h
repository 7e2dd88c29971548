/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim.h - the few primitives common/ needs, mapped to the kernel or libc.
 *
 * common/ is compiled twice: into vsw.ko by Kbuild (__KERNEL__ defined) and
 * into the host library vsw_common for unit tests. It never calls either
 * side's API directly; it uses only these names:
 *
 *   vsw_zalloc(size)        zeroed memory, may sleep (writers only)
 *   vsw_free(ptr)           free now (object never published)
 *   vsw_free_rcu(ptr, f)    free after every current reader is done; f is
 *                           the struct vsw_rcu_head member
 *   vsw_deref(p)            reader-side load of an __rcu pointer
 *   vsw_deref_w(p)          writer-side load (writer lock held)
 *   vsw_publish(p, v)       store with release ordering
 *   VSW_READ_ONCE/WRITE_ONCE racy but tear-free counters
 *
 * In the kernel the writer lock is the module's vsw_mutex, checked by
 * lockdep through vsw_lock_is_held(). On the host every caller is a
 * single thread (or the test serialises), and "after every reader" is "now".
 */
#ifndef VSW_COMMON_SHIM_H
#define VSW_COMMON_SHIM_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#include <linux/sort.h>

#include <linux/mutex.h>
extern struct mutex vsw_mutex; /* the module's writer lock */
#define vsw_lock_is_held() lockdep_is_held(&vsw_mutex)

#define vsw_rcu_head rcu_head
#define vsw_zalloc(size) kvzalloc((size), GFP_KERNEL)
#define vsw_free(ptr) kvfree(ptr)
#define vsw_free_rcu(ptr, field) kvfree_rcu((ptr), field)
#define vsw_deref(p) rcu_dereference_check((p), vsw_lock_is_held())
#define vsw_deref_w(p) rcu_dereference_protected((p), vsw_lock_is_held())
#define vsw_publish(p, v) rcu_assign_pointer((p), (v))
#define vsw_init_ptr(p, v) RCU_INIT_POINTER((p), (v))
#define VSW_READ_ONCE(x) READ_ONCE(x)
#define VSW_WRITE_ONCE(x, v) WRITE_ONCE(x, v)
#define vsw_sort(base, n, size, cmp) sort((base), (n), (size), (cmp), NULL)

#else /* host */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

struct vsw_rcu_head {
	void *unused;
};

#define __rcu
#define vsw_zalloc(size) calloc(1, (size))
#define vsw_free(ptr) free(ptr)
#define vsw_free_rcu(ptr, field) free(ptr)
#define vsw_deref(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define vsw_deref_w(p) (p)
#define vsw_publish(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define vsw_init_ptr(p, v) ((p) = (v))
#define VSW_READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define VSW_WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define vsw_sort(base, n, size, cmp) qsort((base), (n), (size), (cmp))
#endif

#endif /* VSW_COMMON_SHIM_H */
