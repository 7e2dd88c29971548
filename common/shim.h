/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim.h - the few primitives common/ needs, mapped to the kernel or libc.
 *
 * common/ is compiled twice: into vsw.ko by Kbuild (__KERNEL__ defined) and
 * into the host library vsw_common for unit tests. It never calls either
 * side's API directly; it uses only these names:
 *
 *   vsw_zalloc(size)        zeroed memory, may sleep (writers only); charged
 *                           to the caller's memory cgroup
 *   vsw_free(ptr)           free now (object never published)
 *   vsw_free_rcu(ptr, f)    free after every current reader is done; f is
 *                           the struct vsw_rcu_head member
 *   vsw_deref(p)            reader-side load of an __rcu pointer
 *   vsw_deref_w(p)          writer-side load (writer lock held)
 *   vsw_publish(p, v)       store with release ordering
 *   VSW_READ_ONCE/WRITE_ONCE racy but tear-free counters
 *   vsw_call_rcu(head, fn)  call fn(head) after every current reader is done
 *   vsw_random_u32()        a random number (hash seeds)
 *   vsw_always_inline       inline even where the compiler would not
 *   vsw_counter_t           a per-CPU counter: vsw_counter_alloc/_free (writers),
 *                           vsw_counter_inc (readers, each CPU its own),
 *                           vsw_counter_sum (writers, racy but tear-free)
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

#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/mutex.h>
extern struct mutex vsw_mutex; /* the module's writer lock */
#define vsw_lock_is_held() lockdep_is_held(&vsw_mutex)

#define vsw_rcu_head rcu_head
#define vsw_zalloc(size) kvzalloc((size), GFP_KERNEL_ACCOUNT)
#define vsw_free(ptr) kvfree(ptr)
#define vsw_free_rcu(ptr, field) kvfree_rcu((ptr), field)
#define vsw_deref(p) rcu_dereference_check((p), vsw_lock_is_held())
#define vsw_deref_w(p) rcu_dereference_protected((p), vsw_lock_is_held())
#define vsw_publish(p, v) rcu_assign_pointer((p), (v))
#define vsw_init_ptr(p, v) RCU_INIT_POINTER((p), (v))
#define VSW_READ_ONCE(x) READ_ONCE(x)
#define VSW_WRITE_ONCE(x, v) WRITE_ONCE(x, v)
#define vsw_sort(base, n, size, cmp) sort((base), (n), (size), (cmp), NULL)
#define vsw_call_rcu(head, fn) call_rcu((head), (fn))
#define vsw_container_of(p, type, member) container_of(p, type, member)
#define vsw_always_inline __always_inline
#define vsw_random_u32() get_random_u32()
#define vsw_counter_t unsigned long __percpu *
#define vsw_counter_alloc() alloc_percpu_gfp(unsigned long, GFP_KERNEL_ACCOUNT)
#define vsw_counter_free(c) free_percpu(c)
#define vsw_counter_inc(c) this_cpu_inc(*(c))

static inline unsigned long vsw_counter_sum(unsigned long __percpu *c)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*per_cpu_ptr(c, cpu));
	return sum;
}

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
#define vsw_call_rcu(head, fn) ((fn)(head))
#define vsw_container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))
#define vsw_always_inline inline
#define vsw_random_u32() ((u32)rand())
#define vsw_counter_t unsigned long *
#define vsw_counter_alloc() ((unsigned long *)calloc(1, sizeof(unsigned long)))
#define vsw_counter_free(c) free(c)
#define vsw_counter_inc(c) __atomic_fetch_add((c), 1, __ATOMIC_RELAXED)
#define vsw_counter_sum(c) __atomic_load_n((c), __ATOMIC_RELAXED)
#endif

#endif /* VSW_COMMON_SHIM_H */
