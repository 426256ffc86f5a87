// SPDX-License-Identifier: MIT
/* The native calls pending now: see pending_calls.h. */
#include "probe/pending_calls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "inflight.h"
#include "pending_iter.skel.h"
#include "probe/probe.h"
#include "util/errmsg.h"
#include "util/grow.h"

struct pending_reader {
	struct pending_iter_bpf *skel;
	struct bpf_link *link;
	int go_fd; /* -1: no Go frames */
};

int pending_reader_new(struct pending_reader **out, const struct probe *p, char *err,
		       size_t errlen)
{
	struct pending_reader *r;
	int rc;

	*out = NULL;
	if (probe_pending_fd(p) < 0)
		return errmsg_errno(err, errlen, ENOENT, "no frames map to read pending calls from");
	r = calloc(1, sizeof(*r));
	if (!r)
		return errmsg_errno(err, errlen, ENOMEM, "out of memory");
	r->go_fd = probe_go_pending_fd(p);
	r->skel = pending_iter_bpf__open();
	if (!r->skel) {
		rc = -errno;
		errmsg_errno(err, errlen, -rc, "cannot open the pending-calls iterator: %s",
			     strerror(-rc));
		goto fail;
	}
	/* the live frames: the probe object's map, not a new empty one */
	rc = bpf_map__reuse_fd(r->skel->maps.pending, probe_pending_fd(p));
	if (rc) {
		errmsg_errno(err, errlen, -rc, "cannot share the frames map with the iterator: %s",
			     strerror(-rc));
		goto fail;
	}
	rc = pending_iter_bpf__load(r->skel);
	if (rc) {
		errmsg_errno(err, errlen, -rc,
			     "cannot load the pending-calls iterator (task iterators need Linux 5.8+ and CAP_BPF): %s",
			     strerror(-rc));
		goto fail;
	}
	r->link = bpf_program__attach_iter(r->skel->progs.dump_pending, NULL);
	if (!r->link) {
		rc = -errno;
		errmsg_errno(err, errlen, -rc, "cannot attach the pending-calls iterator: %s",
			     strerror(-rc));
		goto fail;
	}
	*out = r;
	return 0;
fail:
	pending_reader_free(r);
	return rc < 0 ? rc : -EIO;
}

void pending_reader_free(struct pending_reader *r)
{
	if (!r)
		return;
	bpf_link__destroy(r->link);
	pending_iter_bpf__destroy(r->skel);
	free(r);
}

struct calls {
	struct pending_call *v;
	size_t n, cap;
};

static struct pending_call *calls_add(struct calls *c)
{
	struct pending_call *v = grow_array(c->v, &c->cap, c->n + 1, sizeof(*v));

	if (!v)
		return NULL;
	c->v = v;
	return memset(&c->v[c->n++], 0, sizeof(c->v[0]));
}

static int add_frames(struct calls *c, const struct inflight_pending_record *rec, int64_t goid)
{
	uint32_t depth = rec->depth > INFLIGHT_MAX_DEPTH ? INFLIGHT_MAX_DEPTH : rec->depth;

	for (uint32_t i = 0; i < depth; i++) {
		struct pending_call *pc = calls_add(c);

		if (!pc)
			return -ENOMEM;
		pc->pid = (pid_t)rec->tgid;
		pc->tid = (pid_t)rec->tid;
		pc->goid = goid;
		pc->chain = rec->frames[i].chain;
		pc->depth = i;
		pc->entry_ns = rec->frames[i].entry_ns;
		pc->sp = rec->frames[i].sp;
		pc->ip = rec->ip;
		pc->usp = rec->sp;
		pc->bp = rec->bp;
	}
	return 0;
}

/* Every thread's frames: one pass of the task iterator. */
static int read_threads(struct pending_reader *r, struct calls *c)
{
	struct inflight_pending_record rec;
	size_t have = 0;
	int fd = bpf_iter_create(bpf_link__fd(r->link)), rc = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t got = read(fd, (char *)&rec + have, sizeof(rec) - have);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -errno;
			break;
		}
		if (got == 0)
			break;
		have += (size_t)got;
		if (have < sizeof(rec))
			continue;
		have = 0;
		rc = add_frames(c, &rec, -1);
		if (rc)
			break;
	}
	close(fd);
	return rc;
}

/* A Go target's goroutines' frames, straight from their hash map. */
static int read_goroutines(struct pending_reader *r, struct calls *c)
{
	struct inflight_go_key key, next;
	struct inflight_pending v;
	int rc;

	if (r->go_fd < 0)
		return 0;
	for (rc = bpf_map_get_next_key(r->go_fd, NULL, &next); !rc;
	     rc = bpf_map_get_next_key(r->go_fd, &key, &next)) {
		struct inflight_pending_record rec = { .tgid = next.tgid, .tid = 0 };
		int e;

		key = next;
		if (bpf_map_lookup_elem(r->go_fd, &key, &v))
			continue; /* gone between the two calls: nothing pending there */
		rec.depth = v.depth;
		memcpy(rec.frames, v.frames, sizeof(rec.frames));
		e = add_frames(c, &rec, key.goid);
		if (e)
			return e;
	}
	return errno == ENOENT ? 0 : -errno;
}

static int call_order(const void *a, const void *b)
{
	const struct pending_call *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->goid != y->goid)
		return x->goid < y->goid ? -1 : 1;
	return x->depth < y->depth ? -1 : x->depth > y->depth;
}

size_t pending_calls_sort_unique(struct pending_call *v, size_t n)
{
	size_t kept = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(v[0]), call_order);
	for (size_t i = 1; i < n; i++)
		if (call_order(&v[kept], &v[i]))
			v[++kept] = v[i];
	return kept + 1;
}

int pending_reader_read(struct pending_reader *r, struct pending_call **calls, size_t *n)
{
	struct calls c = { 0 };
	int rc;

	*calls = NULL;
	*n = 0;
	rc = read_threads(r, &c);
	if (!rc)
		rc = read_goroutines(r, &c);
	if (rc) {
		free(c.v);
		return rc;
	}
	*calls = c.v;
	*n = pending_calls_sort_unique(c.v, c.n);
	return 0;
}
