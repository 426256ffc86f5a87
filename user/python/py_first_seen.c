// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>
#include "python/py_first_seen.h"
#include "util/grow.h"

static int key_cmp(const struct py_call_key *a, const struct py_call_key *b)
{
	if (a->frame != b->frame)
		return a->frame < b->frame ? -1 : 1;
	if (a->code != b->code)
		return a->code < b->code ? -1 : 1;
	if (a->arg != b->arg)
		return a->arg < b->arg ? -1 : 1;
	if (a->args != b->args)
		return a->args < b->args ? -1 : 1;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct py_first_seen_entry *x = a, *y = b;
	int c = key_cmp(&x->key, &y->key);

	/* the same call twice: the earlier sighting first, to be kept */
	if (!c && x->first_ns != y->first_ns)
		return x->first_ns < y->first_ns ? -1 : 1;
	return c;
}

/* bsearch: by key alone (the keys in `last` are distinct) */
static int entry_key_cmp(const void *a, const void *b)
{
	return key_cmp(&((const struct py_first_seen_entry *)a)->key,
		       &((const struct py_first_seen_entry *)b)->key);
}

void py_first_seen_begin(struct py_first_seen *t)
{
	t->ncur = 0;
}

uint64_t py_first_seen_mark(struct py_first_seen *t, const struct py_call_key *k, uint64_t now_ns)
{
	struct py_first_seen_entry probe = { .key = *k };
	const struct py_first_seen_entry *was;
	struct py_first_seen_entry *v;
	uint64_t first = now_ns;

	/* a worker has its few calls in flight, a forged process many: a sorted table */
	was = t->nlast ? bsearch(&probe, t->last, t->nlast, sizeof(*t->last), entry_key_cmp) : NULL;
	if (was)
		first = was->first_ns;
	v = grow_array(t->cur, &t->capcur, t->ncur + 1, sizeof(*v));
	if (!v)
		return first;
	t->cur = v;
	t->cur[t->ncur++] = (struct py_first_seen_entry){ .key = *k, .first_ns = first };
	return first;
}

void py_first_seen_end(struct py_first_seen *t)
{
	struct py_first_seen_entry *swap = t->last;
	size_t cap = t->caplast, n = 0;

	if (t->ncur) /* none yet: `cur` may be NULL, which qsort must not get */
		qsort(t->cur, t->ncur, sizeof(*t->cur), entry_cmp);
	/* one entry per key: bsearch in `last` needs the keys distinct */
	for (size_t i = 0; i < t->ncur; i++)
		if (!n || key_cmp(&t->cur[n - 1].key, &t->cur[i].key))
			t->cur[n++] = t->cur[i];
	t->last = t->cur;
	t->nlast = n;
	t->caplast = t->capcur;
	t->cur = swap;
	t->capcur = cap;
	t->ncur = 0;
}

void py_first_seen_free(struct py_first_seen *t)
{
	free(t->last);
	free(t->cur);
	memset(t, 0, sizeof(*t));
}
