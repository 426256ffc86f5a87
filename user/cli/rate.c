// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "cli/rate.h"

static uint64_t handled_of(const struct chain_stat *c)
{
	return c->returned + c->released;
}

int rate_update(struct rate_table *t, const struct snapshot *s)
{
	uint32_t top = 0;
	bool known;

	if (s->n > t->cap) {
		double *r = realloc(t->rate, s->n * sizeof(*r));

		if (!r)
			return -ENOMEM;
		t->rate = r;
		t->cap = s->n;
	}
	for (size_t i = 0; i < s->n; i++) {
		t->rate[i] = RATE_UNKNOWN;
		if (s->chains[i].id > top)
			top = s->chains[i].id;
	}
	if (s->n && top >= t->nids) {
		size_t n = (size_t)top + 64;
		uint64_t *grown = realloc(t->handled, n * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		memset(grown + t->nids, 0, (n - t->nids) * sizeof(*grown));
		t->handled = grown;
		t->nids = n;
	}
	/* CLOCK_REALTIME: a reading stamped before the last one has no interval */
	known = t->last_ns && !s->gauge_only && s->ts_ns > t->last_ns;
	for (size_t i = 0; i < s->n && known; i++) {
		const struct chain_stat *c = &s->chains[i];
		uint64_t now = handled_of(c), before = t->handled[c->id];

		/*
		 * A chain new since the last reading had ended none then. Fewer
		 * than before: its id was retired and handed out again, and the
		 * new series counts from 0.
		 */
		t->rate[i] = (double)(now >= before ? now - before : now) * 1e9 /
			     (double)(s->ts_ns - t->last_ns);
	}
	/* the base for the next reading: the chains absent now ended none */
	if (t->handled)
		memset(t->handled, 0, t->nids * sizeof(*t->handled));
	for (size_t i = 0; i < s->n; i++)
		t->handled[s->chains[i].id] = handled_of(&s->chains[i]);
	t->last_ns = s->ts_ns;
	return 0;
}

void rate_free(struct rate_table *t)
{
	free(t->handled);
	free(t->rate);
	memset(t, 0, sizeof(*t));
}
