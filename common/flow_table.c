// SPDX-License-Identifier: GPL-2.0
/*
 * flow_table.c - megaflow table (tuple space search) and microflow cache.
 *
 * What?
 *   The datapath's flow cache. It stores megaflows (a masked key and, in the
 *   module, actions) and answers one question per packet: which megaflow
 *   matches this packet's full key?
 *
 * Goals
 *   A hit must cost a few cache lines and no lock; inserting and deleting
 *   flows must not stall lookups on other CPUs; flows with the same mask must
 *   cost one probe however many there are.
 *
 * Basic design
 *   Tuple space search: flows are grouped by mask. Each distinct mask has a
 *   subtable, a hash table keyed by (key & mask). A lookup masks the packet
 *   key with each subtable's mask in turn and probes that hash table. The
 *   simplest correct version is exactly this, with the masks in any order.
 *
 * Optimisation: first match wins
 *   Userspace installs only non-overlapping megaflows (see vsw.h), so the
 *   first subtable that matches is the answer. Without the invariant we would
 *   need priorities and to probe every subtable.
 *
 * Optimisation: masks ordered by hits
 *   Each subtable counts its hits per CPU, so no cache line bounces between
 *   CPUs. vsw_table_rebalance(), run periodically by the module, sums them
 *   into a decaying score (half the old score plus the new hits; the writer's
 *   own fields) and republishes the subtable array sorted by score, so busy
 *   masks are probed first. Cost: one per-CPU increment per table lookup
 *   (none while the table has a single mask: there is nothing to order) and
 *   a periodic sum and copy of the array.
 *
 * Optimisation: mask word list
 *   Each mask lists the 64-bit words holding any 1-bit; hash and compare
 *   touch only those. An eth_dst-only mask reads two words of the 13; an
 *   exact IPv4 5-tuple mask five (the words between them, IPv6 addresses,
 *   are skipped). A probe masks and hashes the packet's words in one pass and
 *   compares by re-masking: no copy of the masked key is made.
 *
 * Optimisation: microflow cache
 *   Per CPU, an array indexed by a hash of the packet (the skb's L4 hash
 *   when it has one, else vsw_key_hash(): the key's words summed and mixed)
 *   remembers the megaflow the last packet with that hash matched. A hit
 *   costs one masked compare against that megaflow (hash collisions are
 *   caught by the compare, so the cache never returns a flow the key does
 *   not match). Entries are not invalidated one by one: every removal bumps
 *   vsw_table.gen, and an entry filled under another generation is ignored.
 *   A hash may sit in two entries, e[hash] and e[hash >> 16], so two busy
 *   packets sharing a slot do not keep evicting each other (simulated, 1,000
 *   equally busy flows hit 86% of the time, against 64% with one entry; the
 *   datapath benchmark's 8-mask row hits 75%, its cold start included). The module
 *   consults it only with two or more masks: with one, the table lookup is
 *   already a single probe. Cost: 24 KiB per CPU and datapath, and a cold
 *   cache after every flow removal.
 *
 * Hashing and limits
 *   Every table draws a random hash seed, so keys crafted to share a bucket
 *   on one datapath do not on another. A table holds at most
 *   VSW_DP_MAX_MASKS subtables (-ENOSPC beyond).
 *
 * Resizing
 *   A subtable's bucket array doubles when it holds more flows than buckets
 *   and halves below a quarter. Each flow has two chain links; a bucket array
 *   uses link[ver] and the new array is built on link[ver ^ 1] while readers
 *   keep walking the old chains, then published; the old array is freed after
 *   a grace period.
 *
 * Invariants
 *   - f->key == key & mask, with zero outside the mask (vsw_table_insert).
 *   - no two flows in a table have the same masked key and mask
 *     (vsw_table_insert returns -EEXIST).
 *   - a subtable exists iff it holds a flow (vsw_table_remove frees it).
 *   - a published vsw_masks array is never modified, only replaced.
 *
 * Concurrency
 *   One writer at a time (the module's vsw_mutex); any number of readers
 *   under RCU. Writers publish with vsw_publish() and free replaced arrays
 *   and subtables with vsw_free_rcu(). Removed flows are handed back to the
 *   caller, which must free them only after a grace period. A lookup racing
 *   with a removal or resize may miss (the packet is upcalled), never touches
 *   freed memory and never loops. Microflow cache entries may point at a
 *   removed flow; the generation check, done under the same RCU read section
 *   that observed the old generation, keeps that flow alive while used.
 *
 * Tests
 *   tests/unit/common/ checks lookups against a linear scan over random
 *   flows and masks, plus resize, delete, flush and cache invalidation.
 */
#include "flow_table.h"

#define MIN_BUCKETS 8

/*
 * The microflow cache's hash of a whole key: the words summed, then mixed
 * once. Cheap (one add per word) rather than strong: a collision costs a
 * cache miss, never a wrong flow, as every hit is checked against the flow.
 */
u32 vsw_key_hash(const union vsw_key_words *k, u32 basis)
{
	const u64 *w = k->w;
	u64 h;

	/* The 13 words (main.c checks the key's size) written out: a loop costs more. */
	h = basis + w[0] + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7] + w[8] + w[9] +
	    w[10] + w[11] + w[12];
	return vsw_hash_final(h * 0x9e3779b97f4a7c15ULL) | 1;
}

void vsw_key_mask(struct vsw_flow_key *dst, const struct vsw_flow_key *key,
		  const struct vsw_flow_key *mask)
{
	unsigned int i;

	for (i = 0; i < VSW_KEY_WORDS; i++) {
		u64 v = vsw_kw(key, i) & vsw_kw(mask, i);

		memcpy((u8 *)dst + i * sizeof(u64), &v, sizeof(v));
	}
}

static struct vsw_buckets *buckets_alloc(u32 n, u32 ver)
{
	struct vsw_buckets *b;

	b = vsw_zalloc(sizeof(*b) + n * sizeof(b->b[0]));
	if (!b)
		return NULL;
	b->n_buckets = n;
	b->ver = ver;
	return b;
}

static void subtable_free_now(struct vsw_subtable *sub)
{
	if (sub->hits)
		vsw_counter_free(sub->hits);
	vsw_free(sub);
}

static void subtable_free_cb(struct vsw_rcu_head *head)
{
	subtable_free_now(vsw_container_of(head, struct vsw_subtable, rcu));
}

static struct vsw_subtable *subtable_alloc(const struct vsw_flow_key *mask, u32 seed)
{
	struct vsw_subtable *sub;
	struct vsw_buckets *b;
	unsigned int i;

	sub = vsw_zalloc(sizeof(*sub));
	if (!sub)
		return NULL;
	sub->hits = vsw_counter_alloc();
	b = sub->hits ? buckets_alloc(MIN_BUCKETS, 0) : NULL;
	if (!b) {
		subtable_free_now(sub);
		return NULL;
	}
	sub->seed = seed;
	memcpy(&sub->mask.key, mask, sizeof(*mask));
	for (i = 0; i < VSW_KEY_WORDS; i++)
		if (sub->mask.w[i])
			sub->words[sub->n_words++] = i;
	sub->n_words += !sub->n_words; /* an empty mask probes its zero word 0: no empty loop */
	vsw_init_ptr(sub->buckets, b);
	return sub;
}

/* Rebuild @sub's chains into a new array of @n buckets; keeps the old one on ENOMEM. */
static void subtable_resize(struct vsw_subtable *sub, u32 n)
{
	struct vsw_buckets *old = vsw_deref_w(sub->buckets);
	struct vsw_buckets *new;
	struct vsw_mflow *f;
	u32 i;

	new = buckets_alloc(n, old->ver ^ 1);
	if (!new)
		return;
	for (i = 0; i < old->n_buckets; i++) {
		for (f = vsw_deref_w(old->b[i]); f; f = vsw_deref_w(f->next[old->ver])) {
			u32 idx = f->hash & (n - 1);

			vsw_init_ptr(f->next[new->ver], vsw_deref_w(new->b[idx]));
			vsw_init_ptr(new->b[idx], f);
		}
	}
	vsw_publish(sub->buckets, new);
	vsw_free_rcu(old, rcu);
}

/* Publish a copy of the mask array with @add appended or @del left out. */
static int masks_replace(struct vsw_table *t, struct vsw_subtable *add, struct vsw_subtable *del)
{
	struct vsw_masks *old = vsw_deref_w(t->masks);
	u32 n = old ? old->count : 0;
	struct vsw_masks *new = NULL;
	u32 i, j = 0;

	if (add || n > 1) {
		new = vsw_zalloc(sizeof(*new) + (n + 1) * sizeof(new->sub[0]));
		if (!new)
			return -ENOMEM;
		for (i = 0; i < n; i++)
			if (old->sub[i] != del)
				new->sub[j++] = old->sub[i];
		if (add)
			new->sub[j++] = add;
		new->count = j;
	}
	vsw_publish(t->masks, new);
	if (old)
		vsw_free_rcu(old, rcu);
	return 0;
}

void vsw_table_init(struct vsw_table *t)
{
	memset(t, 0, sizeof(*t));
	t->seed = vsw_random_u32();
}

static struct vsw_subtable *find_subtable(struct vsw_table *t, const struct vsw_flow_key *mask)
{
	struct vsw_masks *ma = vsw_deref(t->masks);
	u32 i;

	for (i = 0; ma && i < ma->count; i++)
		if (!memcmp(&ma->sub[i]->mask.key, mask, sizeof(*mask)))
			return ma->sub[i];
	return NULL;
}

int vsw_table_insert(struct vsw_table *t, struct vsw_mflow *f, const struct vsw_flow_key *key,
		     const struct vsw_flow_key *mask)
{
	struct vsw_subtable *sub = find_subtable(t, mask);
	bool new_sub = false;
	struct vsw_buckets *b;
	u32 idx;

	if (!sub) {
		if (vsw_table_n_masks(t) >= VSW_DP_MAX_MASKS)
			return -ENOSPC;
		sub = subtable_alloc(mask, t->seed);
		if (!sub)
			return -ENOMEM;
		new_sub = true;
	}
	vsw_key_mask(&f->key.key, key, mask);
	f->sub = sub;
	f->hash = vsw_hash_masked(sub, &f->key);
	if (!new_sub && vsw_subtable_lookup(sub, &f->key))
		return -EEXIST;
	if (new_sub && masks_replace(t, sub, NULL)) {
		vsw_free(vsw_deref_w(sub->buckets));
		subtable_free_now(sub);
		return -ENOMEM;
	}
	b = vsw_deref_w(sub->buckets);
	if (sub->n_flows >= b->n_buckets) {
		subtable_resize(sub, b->n_buckets * 2);
		b = vsw_deref_w(sub->buckets);
	}
	idx = f->hash & (b->n_buckets - 1);
	vsw_init_ptr(f->next[b->ver], vsw_deref_w(b->b[idx]));
	vsw_publish(b->b[idx], f);
	sub->n_flows++;
	t->n_flows++;
	return 0;
}

static void subtable_free(struct vsw_subtable *sub)
{
	struct vsw_buckets *b = vsw_deref_w(sub->buckets);

	vsw_free_rcu(b, rcu);
	vsw_call_rcu(&sub->rcu, subtable_free_cb);
}

void vsw_table_remove(struct vsw_table *t, struct vsw_mflow *f)
{
	struct vsw_subtable *sub = f->sub;
	struct vsw_buckets *b = vsw_deref_w(sub->buckets);
	struct vsw_mflow __rcu **pp = &b->b[f->hash & (b->n_buckets - 1)];
	struct vsw_mflow *cur;

	while ((cur = vsw_deref_w(*pp)) && cur != f)
		pp = &cur->next[b->ver];
	if (!cur)
		return; /* not in the table: a caller bug, ignore */
	vsw_publish(*pp, vsw_deref_w(f->next[b->ver]));
	VSW_WRITE_ONCE(t->gen, t->gen + 1);
	t->n_flows--;
	if (--sub->n_flows == 0) {
		if (masks_replace(t, NULL, sub) == 0) {
			subtable_free(sub);
			return;
		}
		/* ENOMEM: keep the empty subtable; it is harmless. */
	}
	if (b->n_buckets > MIN_BUCKETS && sub->n_flows < b->n_buckets / 4)
		subtable_resize(sub, b->n_buckets / 2);
}

void vsw_table_flush(struct vsw_table *t, void (*fn)(struct vsw_mflow *f, void *arg), void *arg)
{
	struct vsw_masks *ma = vsw_deref_w(t->masks);
	u32 i, j;

	vsw_publish(t->masks, NULL);
	VSW_WRITE_ONCE(t->gen, t->gen + 1);
	t->n_flows = 0;
	if (!ma)
		return;
	for (i = 0; i < ma->count; i++) {
		struct vsw_subtable *sub = ma->sub[i];
		struct vsw_buckets *b = vsw_deref_w(sub->buckets);

		for (j = 0; j < b->n_buckets; j++) {
			struct vsw_mflow *f = vsw_deref_w(b->b[j]), *next;

			for (; f; f = next) {
				next = vsw_deref_w(f->next[b->ver]);
				if (fn)
					fn(f, arg);
			}
		}
		subtable_free(sub);
	}
	vsw_free_rcu(ma, rcu);
}

void vsw_table_destroy(struct vsw_table *t)
{
	vsw_table_flush(t, NULL, NULL);
}

unsigned int vsw_table_n_masks(struct vsw_table *t)
{
	struct vsw_masks *ma = vsw_deref(t->masks);

	return ma ? ma->count : 0;
}

static int cmp_score(const void *a, const void *b)
{
	unsigned long ha = (*(struct vsw_subtable *const *)a)->score;
	unsigned long hb = (*(struct vsw_subtable *const *)b)->score;

	return ha < hb ? 1 : ha > hb ? -1 : 0;
}

void vsw_table_rebalance(struct vsw_table *t)
{
	struct vsw_masks *old = vsw_deref_w(t->masks);
	struct vsw_masks *new;
	u32 i, sorted = 1;

	if (!old || old->count < 2)
		return;
	for (i = 0; i < old->count; i++) {
		struct vsw_subtable *sub = old->sub[i];
		unsigned long sum = vsw_counter_sum(sub->hits);

		sub->score = sub->score / 2 + (sum - sub->seen);
		sub->seen = sum;
		if (i && sub->score > old->sub[i - 1]->score)
			sorted = 0;
	}
	if (sorted)
		return;
	new = vsw_zalloc(sizeof(*new) + old->count * sizeof(new->sub[0]));
	if (!new)
		return;
	memcpy(new->sub, old->sub, old->count * sizeof(new->sub[0]));
	new->count = old->count;
	vsw_sort(new->sub, new->count, sizeof(new->sub[0]), cmp_score);
	vsw_publish(t->masks, new);
	vsw_free_rcu(old, rcu);
}

/* Two masks or more (or none): probe each in turn, count the hit. */
struct vsw_mflow *vsw_table_lookup_masks(struct vsw_masks *ma, const void *key, u32 *n_probed)
{
	struct vsw_mflow *f;
	u32 i;

	for (i = 0; ma && i < ma->count; i++) {
		struct vsw_subtable *sub = ma->sub[i];

		f = vsw_subtable_lookup(sub, key);
		if (f) {
			vsw_counter_inc(sub->hits);
			*n_probed = i + 1;
			return f;
		}
	}
	*n_probed = i;
	return NULL;
}

struct vsw_mflow *vsw_table_find(struct vsw_table *t, const struct vsw_flow_key *key,
				 const struct vsw_flow_key *mask)
{
	struct vsw_subtable *sub = find_subtable(t, mask);

	return sub ? vsw_subtable_lookup(sub, key) : NULL;
}

static inline bool mfc_valid(const struct vsw_mfc_entry *e, unsigned long gen)
{
	return e->gen == gen && e->flow;
}

/*
 * Two entries may hold a hash: e[hash] and e[hash >> 16] (two-way, so that
 * two busy keys sharing one slot do not evict each other). A miss fills a
 * free or stale one of the two, else each in turn.
 */
struct vsw_mflow *vsw_mfc_lookup(struct vsw_table *t, struct vsw_mfc *c,
				 const struct vsw_flow_key *key, u32 hash, u32 *n_probed,
				 bool *cache_hit)
{
	struct vsw_mfc_entry *a = &c->e[hash & (VSW_MFC_SIZE - 1)];
	struct vsw_mfc_entry *b = &c->e[(hash >> 16) & (VSW_MFC_SIZE - 1)];
	unsigned long gen = VSW_READ_ONCE(t->gen);
	struct vsw_mflow *f;

	*cache_hit = true;
	*n_probed = 1;
	if (a->hash == hash && mfc_valid(a, gen) && vsw_masked_equal(a->flow->sub, key, a->flow))
		return a->flow;
	if (b->hash == hash && mfc_valid(b, gen) && vsw_masked_equal(b->flow->sub, key, b->flow))
		return b->flow;
	*cache_hit = false;
	f = vsw_table_lookup(t, key, n_probed);
	if (!f || !hash)
		return f;
	c->turn ^= 1;
	if (mfc_valid(a, gen) && (!mfc_valid(b, gen) || c->turn))
		a = b;
	a->hash = hash;
	a->gen = gen;
	a->flow = f;
	return f;
}
