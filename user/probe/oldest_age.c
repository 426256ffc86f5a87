// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include "probe/oldest_age.h"

static int by_chain_then_entry(const void *a, const void *b)
{
	const struct pending_call *x = a, *y = b;

	if (x->chain != y->chain)
		return x->chain < y->chain ? -1 : 1;
	if (x->entry_ns != y->entry_ns)
		return x->entry_ns < y->entry_ns ? -1 : 1;
	return 0;
}

/* The first of chain `id`'s calls (its earliest), or NULL: `calls` sorted. */
static const struct pending_call *earliest(const struct pending_call *calls, size_t n, uint32_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (calls[mid].chain < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && calls[lo].chain == id ? &calls[lo] : NULL;
}

void oldest_age_fill(struct snapshot *s, struct pending_call *calls, size_t n, uint64_t now_ns)
{
	if (calls && n)
		qsort(calls, n, sizeof(*calls), by_chain_then_entry);
	for (size_t i = 0; i < s->n; i++) {
		struct chain_stat *c = &s->chains[i];
		const struct pending_call *p = c->inflight > 0 ? earliest(calls, n, c->id) : NULL;

		/*
		 * The counters and the frames are read one after the other: a
		 * chain whose calls all ended in between has none here (unknown
		 * this once), not a made-up age.
		 */
		c->oldest_known = p != NULL;
		c->oldest_age_ns = p && now_ns > p->entry_ns ? now_ns - p->entry_ns : 0;
	}
}
