// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli/stuck_python.h"
#include "inflight.h"
#include "python/py_first_seen.h"
#include "python/py_frame_info.h"
#include "python/py_process.h"
#include "python/py_walk.h"
#include "util/utf8.h"
#include "util/grow.h"

/* A process's calls, from the first reading that saw each (python/py_first_seen). */
struct watched {
	pid_t pid;
	uint64_t start_time; /* a reused pid is another process */
	uint64_t reading;    /* the last reading that gave one of its calls */
	struct py_first_seen calls;
};

struct stuck_py {
	struct watched *v;
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
	for (size_t i = 0; i < t->n; i++)
		py_first_seen_free(&t->v[i].calls);
	free(t->v);
	free(t);
}

/* The process's tracker, its reading begun; NULL when out of memory. */
static struct watched *watched_of(struct stuck_py *t, const struct py_process *p)
{
	struct watched *w = NULL;

	for (size_t i = 0; i < t->n && !w; i++)
		if (t->v[i].pid == p->pid && t->v[i].start_time == p->start_time)
			w = &t->v[i];
	if (!w) {
		struct watched *v = grow_array(t->v, &t->cap, t->n + 1, sizeof(*v));

		if (!v)
			return NULL;
		t->v = v;
		w = &t->v[t->n++];
		*w = (struct watched){ .pid = p->pid, .start_time = p->start_time };
	}
	if (w->reading != t->reading) {
		w->reading = t->reading;
		py_first_seen_begin(&w->calls);
	}
	return w;
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
	struct watched *w = watched_of(t, p);
	struct py_call_key key = { .frame = c->frame, .code = c->code, .arg = c->arg,
				   .args = c->args };
	uint64_t first;

	if (!w) {
		t->err = -ENOMEM;
		return;
	}
	/* each call comes once per reading (py_observer_calls) */
	first = py_first_seen_mark(&w->calls, &key, t->now_ns);
	if (!t->report)
		return;
	t->report->inflight++;
	if (t->now_ns - first >= t->report->older_than_ns &&
	    add_to_report(t, p, c, t->now_ns - first))
		t->err = -ENOMEM;
}

int stuck_py_reading(struct stuck_py *t, struct py_observer *po, uint64_t now_ns,
		     struct stuck_report *report)
{
	size_t keep = 0;
	int rc;

	t->reading++;
	t->now_ns = now_ns;
	t->report = report;
	t->err = 0;
	rc = py_observer_calls(po, on_call, t);
	/* a call not seen at this reading has ended: a later one at that frame is another */
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].reading == t->reading) {
			py_first_seen_end(&t->v[i].calls);
			t->v[keep++] = t->v[i];
		} else {
			py_first_seen_free(&t->v[i].calls);
		}
	}
	t->n = keep;
	t->report = NULL;
	return rc ? rc : t->err;
}

size_t stuck_py_watched(const struct stuck_py *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += t->v[i].calls.nlast;
	return n;
}
