// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "python/py_call_set.h"
#include "util/grow.h"

struct py_call_kept {
	struct py_call c; /* .stack and .chain set by py_call_set_finish */
	size_t frame0;    /* where its stack starts in `frames` */
	bool has_chain;
	char chain[INFLIGHT_CHAIN_LEN];
};

void py_call_set_clear(struct py_call_set *s)
{
	s->n = 0;
	s->nframes = 0;
	s->oom = false;
}

void py_call_set_add(void *set, const struct py_call *c)
{
	struct py_call_set *s = set;
	struct py_call_kept *k;
	struct py_frame_ref *f;

	if (s->oom)
		return;
	k = grow_array(s->v, &s->cap, s->n + 1, sizeof(*k));
	if (!k)
		goto oom;
	s->v = k;
	if (c->depth) {
		f = grow_array(s->frames, &s->capframes, s->nframes + c->depth, sizeof(*f));
		if (!f)
			goto oom;
		s->frames = f;
		memcpy(s->frames + s->nframes, c->stack, c->depth * sizeof(*c->stack));
	}
	k = &s->v[s->n++];
	k->c = *c;
	k->c.stack = NULL;
	k->c.chain = NULL;
	k->frame0 = s->nframes;
	k->has_chain = c->chain != NULL;
	if (c->chain)
		snprintf(k->chain, sizeof(k->chain), "%s", c->chain);
	s->nframes += c->depth;
	return;
oom:
	s->oom = true;
}

static int key_cmp(const struct py_call *x, const struct py_call *y)
{
	const uint64_t kx[] = { x->frame, x->code, x->arg, x->args };
	const uint64_t ky[] = { y->frame, y->code, y->arg, y->args };

	for (size_t i = 0; i < 4; i++)
		if (kx[i] != ky[i])
			return kx[i] < ky[i] ? -1 : 1;
	return 0;
}

static int kept_cmp(const void *a, const void *b)
{
	return key_cmp(&((const struct py_call_kept *)a)->c, &((const struct py_call_kept *)b)->c);
}

size_t py_call_set_finish(struct py_call_set *s)
{
	size_t n = 0;

	if (s->n) /* none: `v` may be NULL, which qsort must not get */
		qsort(s->v, s->n, sizeof(*s->v), kept_cmp);
	for (size_t i = 0; i < s->n; i++) {
		struct py_call_kept *k = &s->v[i];

		/* a call met twice is the same frame read twice: one is kept */
		if (n && !key_cmp(&s->v[n - 1].c, &k->c))
			continue;
		if (k != &s->v[n])
			s->v[n] = *k;
		k = &s->v[n++];
		/* pointers into the slot it now has */
		k->c.stack = s->frames + k->frame0;
		k->c.chain = k->has_chain ? k->chain : NULL;
	}
	s->n = n;
	return n;
}

const struct py_call *py_call_set_get(const struct py_call_set *s, size_t i)
{
	return &s->v[i].c;
}

void py_call_set_free(struct py_call_set *s)
{
	free(s->v);
	free(s->frames);
	memset(s, 0, sizeof(*s));
}
