/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Chain ids: a call's chain key (its fetched name, and its cgroup when
 * split by cgroup) is numbered once, in a hash the collector reads back;
 * the counters are indexed by that number. Ids 0 and 1 are reserved
 * (overflow, the constant chain). A thread or goroutine remembers its last
 * few chains, so a repeated one costs no hash lookup.
 */
#ifndef INFLIGHT_CHAIN_IDS_BPF_H
#define INFLIGHT_CHAIN_IDS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "inflight.h"
#include "counters.bpf.h"
#include "fetch_spec.bpf.h"

/*
 * The includer's id table and the read-only settings that shape a key;
 * one constant instance, folded away when inlined. The settings are read
 * through their pointers where they are used, as the globals were.
 */
struct chain_table {
	void *ids;       /* HASH struct inflight_chain_key -> __u32 id */
	void *free_ids;  /* QUEUE of ids retired by the collector (dead cgroups) */
	void *id_states; /* ARRAY [id] of struct inflight_id_state */
	__u32 *next_id;  /* the next unused id (.data, read by the collector) */
	const volatile struct inflight_fetch *fetch;
	const volatile bool *by_cgroup;
	const volatile char *const_chain; /* the name of a constant chain */
	const struct counters *counters;  /* id_space, and the stats */
};

/* Finds or assigns the chain id for `key`; id 0 once the cap is reached. */
static __always_inline __u32 chain_ids_assign(const struct chain_table *t,
					      struct inflight_chain_key *key)
{
	__u32 *found, id;
	long err;

	found = bpf_map_lookup_elem(t->ids, key);
	if (found)
		return *found;

	/* a retired id first (only ever pushed when split by cgroup) */
	if (*t->by_cgroup && !bpf_map_pop_elem(t->free_ids, &id)) {
		struct inflight_id_state *st = bpf_map_lookup_elem(t->id_states, &id);

		if (st)
			st->retired = 0;
		err = bpf_map_update_elem(t->ids, key, &id, BPF_NOEXIST);
		if (!err)
			return id;
		/* another CPU added the key, or the table is full: the id goes back */
		if (st)
			st->retired = 1;
		bpf_map_push_elem(t->free_ids, &id, 0);
		found = bpf_map_lookup_elem(t->ids, key);
		if (found)
			return *found;
		goto overflow;
	}

	/*
	 * Past the cap no id is taken: next_id would otherwise climb with every
	 * new key and, after 2^32 of them, wrap onto ids in use. Concurrent
	 * takers can pass id_space by at most one each, never wrap.
	 */
	if (*(volatile __u32 *)t->next_id >= *t->counters->id_space)
		goto overflow;
	id = __sync_fetch_and_add(t->next_id, 1);
	if (id >= *t->counters->id_space)
		goto overflow;
	err = bpf_map_update_elem(t->ids, key, &id, BPF_NOEXIST);
	if (!err)
		return id;
	/* another CPU inserted it first: use theirs (our id stays unused) */
	found = bpf_map_lookup_elem(t->ids, key);
	if (found)
		return *found;
overflow:
	counters_stat_inc(t->counters, INFLIGHT_STAT_OVERFLOW);
	return INFLIGHT_OVERFLOW_ID;
}

static __always_inline bool chain_ids_same_key(const __u64 *a, const __u64 *b)
{
	bool same = true;

#pragma unroll
	for (int i = 0; i < INFLIGHT_KEY_WORDS; i++)
		same = same && a[i] == b[i];
	return same;
}

/*
 * The chain id of the call entering now: the key fetched by the spec (an
 * unreadable one is a key of its own), looked up in `p`'s recent chains,
 * else in the table, and remembered there.
 */
static __always_inline __u32 chain_ids_resolve(const struct chain_table *t,
					       struct pt_regs *ctx, bool usdt,
					       struct inflight_pending *p)
{
	struct inflight_chain_key key = {};
	const __u64 *w = (const __u64 *)&key;
	struct inflight_recent_chain *r;
	__u32 id, slot;

	if (t->fetch->base == INFLIGHT_BASE_CONST) {
		if (!*t->by_cgroup)
			return INFLIGHT_CONST_ID;
		__builtin_memcpy(key.name, (const void *)t->const_chain, sizeof(key.name));
	} else if (fetch_spec_eval(ctx, t->fetch, usdt, &key)) {
		__builtin_memset(&key, 0, sizeof(key));
		key.name[1] = INFLIGHT_KEY_UNREADABLE;
		counters_stat_inc(t->counters, INFLIGHT_STAT_FETCH_FAULT);
	}
	if (*t->by_cgroup)
		key.cgroup = bpf_get_current_cgroup_id();
	/* one of the thread's recent chains? then no hash lookup */
#pragma unroll
	for (int i = 0; i < INFLIGHT_THREAD_CHAINS; i++) {
		r = &p->recent[i];
		if (r->valid && chain_ids_same_key(w, r->key)) {
			if (r->id == INFLIGHT_OVERFLOW_ID)
				counters_stat_inc(t->counters, INFLIGHT_STAT_OVERFLOW);
			return r->id;
		}
	}
	id = chain_ids_assign(t, &key);
	slot = p->next_recent % INFLIGHT_THREAD_CHAINS;
	p->next_recent = slot + 1;
	r = &p->recent[slot];
#pragma unroll
	for (int i = 0; i < INFLIGHT_KEY_WORDS; i++)
		r->key[i] = w[i];
	r->id = id;
	r->valid = 1;
	return id;
}

#endif /* INFLIGHT_CHAIN_IDS_BPF_H */
