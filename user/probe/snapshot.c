// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "util/clock.h"
#include "util/log.h"
#include "probe/percpu.h"
#include "probe/snapshot.h"
#include "util/utf8.h"

/* A duration slot as u64 fields: the buckets, then the sum. */
#define DURATION_FIELDS (sizeof(struct inflight_duration) / sizeof(uint64_t))

struct counts_reader {
	struct counts_maps m;
	uint64_t *exits;   /* id_space * 2 */
	uint64_t *exits_after; /* the same, read again after the entries */
	uint64_t *entered;
	char **names;      /* by chain id, filled as ids appear */
	uint64_t *cgroups; /* by chain id, with the names */
	uint64_t *durations; /* id_space * DURATION_FIELDS: buckets, then sum_ns */
	struct inflight_duration *zeroes; /* ncpus of them, to reset a retired id */
	__u32 *zero_keys;                 /* the slots of one id, ncpus of them */
	void (*test_step)(void *ctx); /* tests: runs between the passes */
	void *test_ctx;
};

void counts_reader_test_steps(struct counts_reader *r, void (*fn)(void *ctx), void *ctx)
{
	r->test_step = fn;
	r->test_ctx = ctx;
}

static void step(const struct counts_reader *r)
{
	if (r->test_step)
		r->test_step(r->test_ctx);
}

struct counts_reader *counts_reader_new(const struct counts_maps *maps)
{
	struct counts_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->m = *maps;
	r->exits = calloc((size_t)maps->id_space * 2, sizeof(uint64_t));
	r->exits_after = calloc((size_t)maps->id_space * 2, sizeof(uint64_t));
	r->entered = calloc(maps->id_space, sizeof(uint64_t));
	r->names = calloc(maps->id_space, sizeof(char *));
	r->cgroups = calloc(maps->id_space, sizeof(uint64_t));
	r->durations = calloc((size_t)maps->id_space * DURATION_FIELDS, sizeof(uint64_t));
	r->zeroes = calloc(maps->ncpus ? maps->ncpus : 1, sizeof(*r->zeroes));
	r->zero_keys = calloc(maps->ncpus ? maps->ncpus : 1, sizeof(*r->zero_keys));
	if (!r->exits || !r->exits_after || !r->entered || !r->names || !r->cgroups ||
	    !r->durations || !r->zeroes || !r->zero_keys) {
		counts_reader_free(r);
		return NULL;
	}
	return r;
}

void counts_reader_free(struct counts_reader *r)
{
	if (!r)
		return;
	if (r->names)
		for (uint32_t i = 0; i < r->m.id_space; i++)
			free(r->names[i]);
	free(r->names);
	free(r->cgroups);
	free(r->exits);
	free(r->exits_after);
	free(r->entered);
	free(r->durations);
	free(r->zeroes);
	free(r->zero_keys);
	free(r);
}

void chain_key_display(const struct inflight_chain_key *key, char *out, size_t outsz)
{
	if (key->name[0] == '\0' && key->name[1] == INFLIGHT_KEY_UNREADABLE) {
		snprintf(out, outsz, "(unreadable)");
		return;
	}
	utf8_sanitize(key->name, sizeof(key->name), out, outsz);
}

static int load_names(struct counts_reader *r)
{
	struct inflight_chain_key key, next;
	void *prev = NULL;
	char buf[UTF8_SANITIZED_MAX(INFLIGHT_CHAIN_LEN)];
	__u32 id;

	while (!bpf_map_get_next_key(r->m.chain_ids_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(r->m.chain_ids_fd, &key, &id) || id >= r->m.id_space ||
		    r->names[id])
			continue;
		chain_key_display(&key, buf, sizeof(buf));
		r->cgroups[id] = key.cgroup;
		r->names[id] = strdup(buf);
		if (!r->names[id])
			return -ENOMEM;
	}
	return 0;
}

/*
 * Whether id `id` holds a series now: entered since it was (re)handed out,
 * and not retired waiting on the free queue. Never-retired ids have a zero
 * base.
 */
static bool in_use(const struct counts_reader *r, uint32_t id)
{
	const volatile struct inflight_id_state *st = &r->m.states[id];

	return !st->retired && r->entered[id] > st->entered;
}

/* Sums id `id`'s counters over the CPUs, exits first (as a snapshot does). */
static void sum_one(const struct counts_reader *r, uint32_t id, uint64_t *entered,
		    uint64_t *returned, uint64_t *released)
{
	*entered = *returned = *released = 0;
	for (uint32_t cpu = 0; cpu < r->m.ncpus; cpu++) {
		size_t slot = (size_t)cpu * r->m.id_space + id;

		*returned += r->m.exits[slot * 2];
		*released += r->m.exits[slot * 2 + 1];
	}
	step(r);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	for (uint32_t cpu = 0; cpu < r->m.ncpus; cpu++)
		*entered += r->m.entries[(size_t)cpu * r->m.id_space + id];
}

/*
 * Tries per id whose exits moved while its entries were summed; each try
 * is a few loads per CPU, and a try fails only if a call on that chain
 * ended during it.
 */
#define CONSISTENT_READ_TRIES 1000

/*
 * Reads id `id` again until its exits stand still around its entries: then
 * no call can have both started and ended between the two passes, and
 * entered - exited is the in-flight count at a moment within the read.
 * Returns false if they never stood still (the last try is kept: exits
 * before entries, so it can read high, never negative).
 */
static bool reread_one(struct counts_reader *r, uint32_t id)
{
	uint64_t e, ret, rel, ret2, rel2;

	for (int i = 0; i < CONSISTENT_READ_TRIES; i++) {
		sum_one(r, id, &e, &ret, &rel);
		step(r);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		ret2 = rel2 = 0;
		for (uint32_t cpu = 0; cpu < r->m.ncpus; cpu++) {
			size_t slot = (size_t)cpu * r->m.id_space + id;

			ret2 += __atomic_load_n(&r->m.exits[slot * 2], __ATOMIC_RELAXED);
			rel2 += __atomic_load_n(&r->m.exits[slot * 2 + 1], __ATOMIC_RELAXED);
		}
		r->entered[id] = e;
		r->exits[id * 2] = ret;
		r->exits[id * 2 + 1] = rel;
		if (ret == ret2 && rel == rel2)
			return true;
	}
	return false;
}

/*
 * Empties id `id`'s duration histogram on every CPU, in one syscall: a
 * histogram has no base to subtract as the counters do, so it restarts
 * from 0. -1 with errno on failure.
 */
static int durations_zero(struct counts_reader *r, uint32_t id)
{
	__u32 count = r->m.ncpus;

	if (!r->m.durations) /* a reader without histograms (tests) */
		return 0;
	for (uint32_t cpu = 0; cpu < r->m.ncpus; cpu++)
		r->zero_keys[cpu] = cpu * r->m.id_space + id;
	return bpf_map_update_batch(r->m.durations_fd, r->zero_keys, r->zeroes, &count, NULL) ? -1
												: 0;
}

/* Retires one id whose key is `key`; 0 or -errno (-EBUSY: calls in flight). */
static int retire_one(struct counts_reader *r, uint32_t id, const struct inflight_chain_key *key)
{
	struct inflight_id_state st = { .retired = 1 };
	uint64_t e, ret, rel;

	sum_one(r, id, &e, &ret, &rel);
	if (e != ret + rel)
		return -EBUSY;
	st.entered = e;
	st.returned = ret;
	st.released = rel;
	/*
	 * Key first: once it is gone no entry can find the id. Then its
	 * histogram is emptied (nothing is in flight on it to return into it),
	 * then the base, then the queue: the id is handed out only with its
	 * base in place and its histogram empty.
	 */
	if (bpf_map_delete_elem(r->m.chain_ids_fd, key) || durations_zero(r, id) ||
	    bpf_map_update_elem(r->m.id_states_fd, &id, &st, BPF_ANY) ||
	    bpf_map_update_elem(r->m.free_ids_fd, NULL, &id, BPF_ANY))
		return -errno;
	free(r->names[id]);
	r->names[id] = NULL;
	r->cgroups[id] = 0;
	return 0;
}

size_t counts_reader_retire(struct counts_reader *r, uint32_t *ids, size_t n)
{
	struct inflight_chain_key key, next, *keys;
	void *prev = NULL;
	size_t kept = 0, left = n;
	bool *found;
	__u32 v;

	keys = calloc(n ? n : 1, sizeof(*keys));
	found = calloc(n ? n : 1, sizeof(*found));
	if (!keys || !found)
		goto out;
	/* their keys, in one walk of the table (it maps keys to ids) */
	while (left && !bpf_map_get_next_key(r->m.chain_ids_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(r->m.chain_ids_fd, &key, &v))
			continue;
		for (size_t i = 0; i < n; i++) {
			if (found[i] || ids[i] != v)
				continue;
			keys[i] = key;
			found[i] = true;
			left--;
		}
	}
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (!found[i] || ids[i] <= INFLIGHT_CONST_ID || ids[i] >= r->m.id_space)
			continue;
		rc = retire_one(r, ids[i], &keys[i]);
		if (rc)
			log_debug("chain id %u not retired: %s", ids[i], strerror(-rc));
		else
			ids[kept++] = ids[i];
	}
out:
	free(keys);
	free(found);
	return kept;
}

static int cmp_chain(const void *a, const void *b)
{
	const struct chain_stat *x = a, *y = b;

	int c;

	if (x->overflow != y->overflow)
		return x->overflow ? 1 : -1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->cgroup < y->cgroup ? -1 : x->cgroup > y->cgroup;
}

/* Id `id`'s histogram, summed over the CPUs by the last pass, into `c`. */
static void fill_durations(const struct counts_reader *r, uint32_t id, struct chain_stat *c)
{
	const uint64_t *d = &r->durations[(size_t)id * DURATION_FIELDS];

	c->duration_count = 0;
	for (int b = 0; b < INFLIGHT_DURATION_BUCKETS; b++) {
		c->duration_bucket[b] = r->m.durations ? d[b] : 0;
		c->duration_count += c->duration_bucket[b];
	}
	c->duration_sum_ns = r->m.durations ? d[INFLIGHT_DURATION_BUCKETS] : 0;
}

int counts_reader_read(struct counts_reader *r, struct snapshot *out)
{
	uint64_t stats[INFLIGHT_STAT__COUNT];
	struct chain_stat *chains;
	bool need_names = false;
	uint32_t used;
	size_t n = 0;
	int err;

	out->ts_ns = clock_realtime_ns();

	/* only the ids handed out so far hold counts */
	used = __atomic_load_n(r->m.next_id, __ATOMIC_ACQUIRE);
	if (used > r->m.id_space)
		used = r->m.id_space;
	/*
	 * Exits before entries: any exit counted here has its entry counted
	 * when entries are read next, so in-flight never reads negative. Then
	 * exits again: a chain whose exits moved meanwhile may have calls that
	 * started and ended between the passes, counted in but not out (one
	 * reading in 250 000 read high, by up to thousands): read it again.
	 */
	percpu_sum(r->m.exits, r->m.ncpus, r->m.id_space, 2, used, r->exits);
	step(r);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	percpu_sum(r->m.entries, r->m.ncpus, r->m.id_space, 1, used, r->entered);
	step(r);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	percpu_sum(r->m.exits, r->m.ncpus, r->m.id_space, 2, used, r->exits_after);
	for (uint32_t id = 0; id < used; id++) {
		if (r->exits[id * 2] == r->exits_after[id * 2] &&
		    r->exits[id * 2 + 1] == r->exits_after[id * 2 + 1])
			continue;
		if (!reread_one(r, id))
			log_debug("chain id %u: calls ended throughout %d reads; this reading may be high",
				  id, CONSISTENT_READ_TRIES);
	}
	percpu_sum(r->m.stats, r->m.ncpus, INFLIGHT_STAT__COUNT, 1, INFLIGHT_STAT__COUNT, stats);
	/* after the exits: a return seen there has its duration counted (BPF times it first) */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (r->m.durations)
		percpu_sum((const volatile uint64_t *)r->m.durations, r->m.ncpus, r->m.id_space,
			   DURATION_FIELDS, used, r->durations);

	for (uint32_t id = 0; id < used; id++) {
		if (!in_use(r, id))
			continue;
		n++;
		if (id != INFLIGHT_OVERFLOW_ID && !r->names[id])
			need_names = true;
	}
	if (need_names && (err = load_names(r)))
		return err;

	chains = realloc(out->chains, (n ? n : 1) * sizeof(*chains));
	if (!chains)
		return -ENOMEM;
	out->chains = chains;
	out->n = 0;
	for (uint32_t id = 0; id < used && out->n < n; id++) {
		const volatile struct inflight_id_state *st = &r->m.states[id];
		struct chain_stat *c;

		if (!in_use(r, id))
			continue;
		c = &chains[out->n++];
		c->id = id;
		c->overflow = id == INFLIGHT_OVERFLOW_ID;
		c->name = c->overflow ? "(overflow)" : r->names[id] ? r->names[id] : "(unnamed)";
		c->cgroup = r->cgroups[id];
		/* a reused id counts from where its last series left it */
		c->entered = r->entered[id] - st->entered;
		c->returned = r->exits[id * 2] - st->returned;
		c->released = r->exits[id * 2 + 1] - st->released;
		c->inflight = (int64_t)(c->entered - c->returned - c->released);
		fill_durations(r, id, c);
		/* the counters hold no entry times: the observer adds the ages */
		c->oldest_known = false;
		c->oldest_age_ns = 0;
	}
	snapshot_sort(out);
	out->gauge_only = false;
	memcpy(out->stats, stats, sizeof(stats));
	return 0;
}

void snapshot_sort(struct snapshot *s)
{
	qsort(s->chains, s->n, sizeof(*s->chains), cmp_chain);
}

void snapshot_free(struct snapshot *s)
{
	free(s->chains);
	s->chains = NULL;
	s->n = 0;
}
