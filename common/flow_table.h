/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flow_table.h - the megaflow table and the microflow cache (portable C).
 *
 * See flow_table.c for the design essay. API by concurrency contract:
 *
 * Writers (callers serialise them: the module's vsw_mutex):
 *   vsw_table_init, vsw_table_insert, vsw_table_remove, vsw_table_flush,
 *   vsw_table_rebalance, vsw_table_destroy (no readers left).
 * Readers (under RCU in the module, may run concurrently with one writer):
 *   vsw_table_lookup, vsw_table_find, vsw_mfc_lookup (per-CPU cache: the
 *   caller guarantees one user of a given struct vsw_mfc at a time).
 */
#ifndef VSW_COMMON_FLOW_TABLE_H
#define VSW_COMMON_FLOW_TABLE_H

#include "shim.h"
#include "vsw.h"

#define VSW_KEY_WORDS (sizeof(struct vsw_flow_key) / sizeof(u64))

/* One flow key viewed as 64-bit words for masking, hashing, comparing. */
union vsw_key_words {
	struct vsw_flow_key key;
	u64 w[VSW_KEY_WORDS];
};

struct vsw_subtable;

/*
 * struct vsw_mflow - one megaflow as the table sees it; the module embeds it
 * in its flow object. Written by the table under the writer lock only.
 */
struct vsw_mflow {
	union vsw_key_words key;	     /* key & mask, zero outside mask */
	struct vsw_subtable *sub;	     /* owning subtable (its mask) */
	u32 hash;			     /* hash of key over the mask's words */
	struct vsw_mflow __rcu *next[2];     /* chain links, by bucket version */
};

/* struct vsw_buckets - one bucket array; replaced whole on resize. */
struct vsw_buckets {
	u32 n_buckets;			     /* power of two */
	u32 ver;			     /* which vsw_mflow.next[] it uses */
	struct vsw_rcu_head rcu;
	struct vsw_mflow __rcu *b[];
};

/* struct vsw_subtable - all megaflows sharing one mask. */
struct vsw_subtable {
	/* read by everyone, constant after creation */
	union vsw_key_words mask;
	u8 n_words;			     /* how many words hold mask bits */
	u8 words[VSW_KEY_WORDS];	     /* their indexes, ascending */
	u32 seed;			     /* the table's hash seed */
	/* readers */
	struct vsw_buckets __rcu *buckets;
	vsw_counter_t hits;		     /* per-CPU hits, for ordering */
	/* writers only */
	u32 n_flows;			     /* also the mask's reference count */
	unsigned long seen, score;	     /* hits at the last rebalance; decayed hits */
	struct vsw_rcu_head rcu;
};

/* struct vsw_masks - the subtables in probe order; immutable once published. */
struct vsw_masks {
	u32 count;
	struct vsw_rcu_head rcu;
	struct vsw_subtable *sub[];
};

struct vsw_table {
	struct vsw_masks __rcu *masks;	     /* readers: probe order */
	unsigned long gen;		     /* bumped on every removal */
	u32 n_flows;			     /* writers only */
	u32 seed;			     /* random hash seed; constant */
};

/* The microflow cache of one CPU: packet hash -> megaflow. */
#define VSW_MFC_SIZE 1024 /* entries, a power of two */

struct vsw_mfc_entry {
	unsigned long gen;		     /* vsw_table.gen when filled */
	u32 hash;			     /* full packet hash, 0 = empty */
	struct vsw_mflow *flow;
};

struct vsw_mfc {
	struct vsw_mfc_entry e[VSW_MFC_SIZE];
	u32 turn;			     /* which way a full pair evicts next */
};

/* Key helpers. */
void vsw_key_mask(struct vsw_flow_key *dst, const struct vsw_flow_key *key,
		  const struct vsw_flow_key *mask);
u32 vsw_key_hash(const union vsw_key_words *k, u32 basis);

/* Writers. */
void vsw_table_init(struct vsw_table *t);
int vsw_table_insert(struct vsw_table *t, struct vsw_mflow *f, const struct vsw_flow_key *key,
		     const struct vsw_flow_key *mask);
void vsw_table_remove(struct vsw_table *t, struct vsw_mflow *f);
void vsw_table_flush(struct vsw_table *t, void (*fn)(struct vsw_mflow *f, void *arg), void *arg);
void vsw_table_rebalance(struct vsw_table *t);
void vsw_table_destroy(struct vsw_table *t);
unsigned int vsw_table_n_masks(struct vsw_table *t);

/* Readers. */
struct vsw_mflow *vsw_table_lookup_masks(struct vsw_masks *ma, const void *key, u32 *n_probed);
struct vsw_mflow *vsw_table_find(struct vsw_table *t, const struct vsw_flow_key *key,
				 const struct vsw_flow_key *mask);
struct vsw_mflow *vsw_mfc_lookup(struct vsw_table *t, struct vsw_mfc *c,
				 const struct vsw_flow_key *key, u32 hash, u32 *n_probed,
				 bool *cache_hit);

/*
 * The probe, inline so that the module's packet path makes no call for a
 * table of one mask (flow_table.c describes the hash and the word list).
 */
static inline u64 vsw_kw(const void *k, unsigned int i)
{
	u64 v;

	memcpy(&v, (const u8 *)k + i * sizeof(u64), sizeof(v));
	return v;
}

/* One word into a running hash, and the final mix (64-bit Murmur steps). */
static inline u64 vsw_hash_step(u64 h, u64 v)
{
	h ^= v * 0x87c37b91114253d5ULL;
	return (h << 31 | h >> 33) * 0x4cf5ad432745937fULL;
}

static inline u32 vsw_hash_final(u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return (u32)(h ^ h >> 33);
}

/* Hash of @key & @sub's mask, over the mask's words only. */
static vsw_always_inline u32 vsw_hash_masked(const struct vsw_subtable *sub, const void *key)
{
	u64 h = sub->seed ^ 0x9e3779b97f4a7c15ULL;
	unsigned int j = 0, i;

	do { /* n_words >= 1 (subtable_alloc) */
		i = sub->words[j];
		h = vsw_hash_step(h, vsw_kw(key, i) & sub->mask.w[i]);
	} while (++j < sub->n_words);
	return vsw_hash_final(h);
}

static vsw_always_inline bool vsw_masked_equal(const struct vsw_subtable *sub, const void *key,
					       const struct vsw_mflow *f)
{
	unsigned int j = 0, i;

	do {
		i = sub->words[j];
		if ((vsw_kw(key, i) & sub->mask.w[i]) != f->key.w[i])
			return false;
	} while (++j < sub->n_words);
	return true;
}

/* The flow of @sub that @key (masked or not) matches, if any. */
static vsw_always_inline struct vsw_mflow *vsw_subtable_lookup(struct vsw_subtable *sub,
							       const void *key)
{
	struct vsw_buckets *b = vsw_deref(sub->buckets);
	u32 hash = vsw_hash_masked(sub, key);
	struct vsw_mflow *f;

	for (f = vsw_deref(b->b[hash & (b->n_buckets - 1)]); f; f = vsw_deref(f->next[b->ver]))
		if (f->hash == hash && vsw_masked_equal(sub, key, f))
			return f;
	return NULL;
}

/* The single-mask case apart: no loop, no hit counter, no register spills. */
static vsw_always_inline struct vsw_mflow *vsw_table_lookup(struct vsw_table *t,
							   const struct vsw_flow_key *key,
							   u32 *n_probed)
{
	struct vsw_masks *ma = vsw_deref(t->masks);

	if (ma && ma->count == 1) {
		*n_probed = 1;
		return vsw_subtable_lookup(ma->sub[0], key);
	}
	return vsw_table_lookup_masks(ma, key, n_probed);
}

#endif /* VSW_COMMON_FLOW_TABLE_H */
