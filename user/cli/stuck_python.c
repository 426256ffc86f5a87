// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli/stuck_python.h"
#include "inflight.h"
#include "python/py_frame_info.h"
#include "python/py_process.h"
#include "python/py_walk.h"
#include "util/utf8.h"

struct seen_call {
	pid_t pid;
	uint64_t tid, frame, code, arg, args;
	uint64_t first_ns;
	uint64_t reading; /* the last reading that saw it */
};

struct stuck_py {
	struct seen_call *v;
	size_t n, cap;
	uint64_t reading;
	/* the reading under way */
	uint64_t now_ns;
	struct stuck_report *report;
	int err;
};

struct stuck_py *stuck_py_new(void)
{
	return calloc(1, sizeof(struct stuck_py));
}

void stuck_py_free(struct stuck_py *t)
{
	if (!t)
		return;
	free(t->v);
	free(t);
}

static struct seen_call *find_or_add(struct stuck_py *t, pid_t pid, const struct py_call *c)
{
	for (size_t i = 0; i < t->n; i++) {
		struct seen_call *s = &t->v[i];

		if (s->pid == pid && s->tid == c->tid && s->frame == c->frame && s->code == c->code &&
		    s->arg == c->arg && s->args == c->args)
			return s;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct seen_call *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n] = (struct seen_call){ .pid = pid, .tid = c->tid, .frame = c->frame,
					 .code = c->code, .arg = c->arg, .args = c->args,
					 .first_ns = t->now_ns,
					 .reading = 0 };
	return &t->v[t->n++];
}

/* An old enough call into the report, its frames named now. */
static int add_to_report(struct stuck_py *t, struct py_process *p, const struct py_call *c,
			 uint64_t age_ns)
{
	char chain[UTF8_SANITIZED_MAX(INFLIGHT_CHAIN_LEN)];
	struct stuck_call *sc;

	if (c->chain)
		utf8_sanitize(c->chain, strlen(c->chain), chain, sizeof(chain));
	else
		snprintf(chain, sizeof(chain), "(unreadable)");
	sc = stuck_report_add(t->report, p->pid, (pid_t)c->tid, chain, age_ns, false);
	if (!sc)
		return -ENOMEM;
	sc->truncated = c->truncated;
	for (size_t i = 0; i < c->depth; i++) {
		struct py_frame_info fi;

		/* a frame running no code (3.13+ shims) is no Python function */
		if (py_frame_describe(p, &c->stack[i], &fi) == -EINVAL)
			continue;
		if (stuck_call_add_frame(sc, fi.func, fi.file, fi.line, 0, 0))
			return -ENOMEM;
	}
	return 0;
}

static void on_call(void *ctx, struct py_process *p, const struct py_call *c)
{
	struct stuck_py *t = ctx;
	struct seen_call *s = find_or_add(t, p->pid, c);

	if (!s) {
		t->err = -ENOMEM;
		return;
	}
	/* once per reading: a frame list that loops must not report a call twice */
	if (s->reading == t->reading)
		return;
	s->reading = t->reading;
	if (!t->report)
		return;
	t->report->inflight++;
	if (t->now_ns - s->first_ns >= t->report->older_than_ns &&
	    add_to_report(t, p, c, t->now_ns - s->first_ns))
		t->err = -ENOMEM;
}

int stuck_py_reading(struct stuck_py *t, struct py_observer *po, uint64_t now_ns,
		     struct stuck_report *report)
{
	size_t keep = 0;

	t->reading++;
	t->now_ns = now_ns;
	t->report = report;
	t->err = 0;
	py_observer_calls(po, on_call, t);
	/* a call not seen at this reading has ended: a later one at that frame is another */
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].reading == t->reading)
			t->v[keep++] = t->v[i];
	t->n = keep;
	t->report = NULL;
	return t->err;
}

size_t stuck_py_watched(const struct stuck_py *t)
{
	return t->n;
}
