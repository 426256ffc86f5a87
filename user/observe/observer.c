// SPDX-License-Identifier: MIT
/*
 * The facade: one table of operations per backend, chosen at start. The
 * rest of the program never asks which backend it holds, and this is the
 * one file that branches on it.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "observe/observer.h"
#include "probe/discovery.h"
#include "probe/named_target.h"
#include "probe/pending_calls.h"
#include "probe/pin_state.h"
#include "probe/probe.h"
#include "python/py_defaults.h"
#include "python/py_observer.h"
#include "util/array_size.h"
#include "util/clock.h"
#include "util/errmsg.h"
#include "util/log.h"
#include "util/privileges.h"
#include "util/ticker.h"

struct observer_ops {
	/* the capabilities it needs once attached */
	uint64_t caps;
	int (*read)(struct observer *o, struct snapshot *out);
	void (*stop)(struct observer *o);
	void (*describe)(const struct observer *o, char *buf, size_t size);
	/* housekeeping between readings (NULL: none) */
	void (*poll)(struct observer *o);
	uint64_t (*poll_in_ms)(const struct observer *o);
	int (*event_fd)(const struct observer *o);
	void (*rescan)(struct observer *o);
	int (*pin_dirfd)(const struct observer *o);
	/* the BPF object behind it, NULL for a backend without one */
	struct probe *(*probe)(const struct observer *o);
	/* processes or files it could not attach to */
	uint64_t (*attach_failures)(const struct observer *o);
	size_t (*retire)(struct observer *o, const struct snapshot *s,
			 bool (*gone)(void *ctx, uint64_t cgroup), void *ctx, uint32_t *ids,
			 size_t max);
};

struct observer {
	const struct observer_ops *ops;
	struct target_info info;
	union {
		struct named_target *named;
		struct discovery *disc;
		struct py_observer *py;
	} u;
	/* native backends: the calls pending, one by one (NULL: not readable here) */
	struct pending_reader *pending;
	char pending_err[160];
};

/* Native backends: series of ids whose cgroup is gone and that hold no frame. */
static size_t native_retire(struct observer *o, const struct snapshot *s,
			    bool (*gone)(void *ctx, uint64_t cgroup), void *ctx, uint32_t *ids,
			    size_t max)
{
	size_t n = 0;

	/* gone: nobody can enter again; idle: no frame holds the id */
	for (size_t i = 0; i < s->n && n < max; i++) {
		const struct chain_stat *c = &s->chains[i];

		if (c->overflow || !c->cgroup || c->inflight || !gone(ctx, c->cgroup))
			continue;
		log_debug("retiring the series of chain %s in cgroup %llu (the cgroup is gone)",
			  c->name, (unsigned long long)c->cgroup);
		ids[n++] = c->id;
	}
	return probe_retire(o->ops->probe(o), ids, n);
}

/* Native backends: the counters, and what could not be attached to. */
static int native_read(struct observer *o, struct snapshot *out)
{
	int rc = probe_read(o->ops->probe(o), out);

	out->attach_failures = o->ops->attach_failures(o);
	return rc;
}

/* --- a named target: --binary and/or --pid */

static uint64_t named_attach_failures(const struct observer *o)
{
	return named_target_attach_failures(o->u.named);
}

static void named_stop(struct observer *o)
{
	named_target_stop(o->u.named);
}

static void named_describe(const struct observer *o, char *buf, size_t size)
{
	const struct target_info *i = &o->info;

	if (i->reused)
		snprintf(buf, size, "attached to %zu pinned probe%s in %s (counting since %llu s ago): %s:%s",
			 i->probes, i->probes == 1 ? "" : "s", i->pin_dir,
			 (unsigned long long)((clock_realtime_ns() - i->pinned_since_ns) / 1000000000ull),
			 i->binary, i->what);
	else
		snprintf(buf, size, "attached %zu probe%s to %s:%s%s (%s: %s)%s%s%s", i->probes,
			 i->probes == 1 ? "" : "s", i->binary, i->what,
			 i->after_endbr ? " after its endbr64"
			 : i->after_go_prologue ? " after its stack check" : "",
			 i->mode_label, i->mode_why,
			 i->go_version[0] ? ", frames per goroutine (" : "", i->go_version,
			 i->go_version[0] ? ")" : "");
}

static void named_poll(struct observer *o)
{
	named_target_poll(o->u.named);
}

static uint64_t named_poll_in_ms(const struct observer *o)
{
	return named_target_poll_in_ms(o->u.named);
}

static struct probe *named_probe(const struct observer *o)
{
	return named_target_probe(o->u.named);
}

static const struct observer_ops named_ops = {
	.read = native_read,
	.attach_failures = named_attach_failures,
	.stop = named_stop,
	.describe = named_describe,
	.poll = named_poll,
	.poll_in_ms = named_poll_in_ms,
	.probe = named_probe,
	.retire = native_retire,
};

/* --- discovery: --match-exe / --match-cmdline */

static uint64_t disc_attach_failures(const struct observer *o)
{
	return discovery_attach_failures(o->u.disc);
}

static void disc_stop(struct observer *o)
{
	discovery_stop(o->u.disc);
}

static void disc_describe(const struct observer *o, char *buf, size_t size)
{
	discovery_describe(o->u.disc, buf, size);
}

static void disc_poll(struct observer *o)
{
	discovery_poll(o->u.disc);
}

static uint64_t disc_poll_in_ms(const struct observer *o)
{
	return discovery_poll_in_ms(o->u.disc);
}

static int disc_event_fd(const struct observer *o)
{
	return discovery_event_fd(o->u.disc);
}

static void disc_rescan(struct observer *o)
{
	discovery_rescan(o->u.disc);
}

static int disc_pin_dirfd(const struct observer *o)
{
	return discovery_pin_dirfd(o->u.disc);
}

static struct probe *disc_probe(const struct observer *o)
{
	return discovery_probe(o->u.disc);
}

static const struct observer_ops disc_ops = {
	/* reads /proc/PID of other processes and attaches to new files */
	.caps = CAP_MASK(CAP_SYS_PTRACE) | CAP_MASK(CAP_SYS_ADMIN) | CAP_MASK(CAP_BPF) |
		CAP_MASK(CAP_PERFMON),
	.read = native_read,
	.attach_failures = disc_attach_failures,
	.stop = disc_stop,
	.describe = disc_describe,
	.poll = disc_poll,
	.poll_in_ms = disc_poll_in_ms,
	.event_fd = disc_event_fd,
	.rescan = disc_rescan,
	.pin_dirfd = disc_pin_dirfd,
	.probe = disc_probe,
	.retire = native_retire,
};

/* --- CPython frames: --python */

static int py_read(struct observer *o, struct snapshot *out)
{
	return py_observer_read(o->u.py, out);
}

static void py_stop(struct observer *o)
{
	py_observer_stop(o->u.py);
}

static void py_describe(const struct observer *o, char *buf, size_t size)
{
	snprintf(buf, size, "watching CPython processes (%s) for %s", o->info.binary + 7,
		 o->info.what);
}

static size_t py_retire(struct observer *o, const struct snapshot *s,
			bool (*gone)(void *ctx, uint64_t cgroup), void *ctx, uint32_t *ids,
			size_t max)
{
	(void)s;
	(void)gone;
	(void)ctx;
	return py_observer_retire(o->u.py, ids, max);
}

static const struct observer_ops py_ops = {
	/* reads process memory at every reading */
	.caps = CAP_MASK(CAP_SYS_PTRACE),
	.read = py_read,
	.stop = py_stop,
	.describe = py_describe,
	.retire = py_retire,
};

static int start_python(struct observer *o, const struct observer_config *cfg, char *err,
			size_t errlen)
{
	struct py_observer_config pc = {
		.pids = cfg->pids, .npids = cfg->npids, .exe_pattern = cfg->python_exe,
		.match_exe = cfg->target.match_exe, .match_cmdline = cfg->target.match_cmdline,
		.func = cfg->py_func, .file = cfg->py_file, .chain = cfg->py_chain,
		.max_chains = cfg->target.max_chains,
		.cgroup_key = cfg->target.by_cgroup ? cfg->cgroup_key : NULL,
		.cgroup_ctx = cfg->cgroup_ctx,
	};

	o->u.py = py_observer_start(&pc, err, errlen);
	if (!o->u.py)
		return -EINVAL; /* `err` says why: an option (or, rarely, memory) */
	snprintf(o->info.binary, sizeof(o->info.binary), "python:%s",
		 cfg->python_exe ? cfg->python_exe
		 : cfg->target.match_exe ? cfg->target.match_exe
		 : cfg->target.match_cmdline ? cfg->target.match_cmdline : "pid");
	snprintf(o->info.what, sizeof(o->info.what), "%s(%s)",
		 cfg->py_func ? cfg->py_func : PY_DEFAULT_FUNC,
		 cfg->py_chain ? cfg->py_chain : PY_DEFAULT_CHAIN);
	snprintf(o->info.mode_label, sizeof(o->info.mode_label), "python frames");
	o->info.mode_why = "CPython frames read at each reading";
	return 0;
}

struct observer *observer_start(const struct observer_config *cfg, char *err, size_t errlen)
{
	struct observer *o = calloc(1, sizeof(*o));

	if (!o) {
		errmsg(err, errlen, "out of memory");
		return NULL;
	}
	if (cfg->python) {
		o->ops = &py_ops;
		if (start_python(o, cfg, err, errlen))
			goto fail;
	} else if (cfg->target.match_exe || cfg->target.match_cmdline) {
		o->ops = &disc_ops;
		o->u.disc = discovery_start(&cfg->target, &o->info, err, errlen);
		if (!o->u.disc)
			goto fail;
	} else {
		o->ops = &named_ops;
		o->u.named = named_target_start(&cfg->target, &o->info, err, errlen);
		if (!o->u.named)
			goto fail;
	}
	/*
	 * Loaded now, while privileged; without it the counts stand and only the
	 * calls' ages are unknown, so it is a warning, not a failure.
	 */
	if (o->ops->probe &&
	    pending_reader_new(&o->pending, o->ops->probe(o), o->pending_err, sizeof(o->pending_err)))
		log_warn("calls' ages will not be known: %s", o->pending_err);
	return o;
fail:
	free(o);
	return NULL;
}

void observer_stop(struct observer *o)
{
	if (!o)
		return;
	pending_reader_free(o->pending);
	o->ops->stop(o);
	free(o);
}

const struct target_info *observer_info(const struct observer *o)
{
	return &o->info;
}

int observer_read(struct observer *o, struct snapshot *out)
{
	return o->ops->read(o, out);
}

uint64_t observer_series_start(struct observer *o, uint32_t id, uint64_t now_ns)
{
	struct probe *p = o->ops->probe ? o->ops->probe(o) : NULL;

	return p ? probe_series_start(p, id, now_ns) : now_ns;
}

void observer_describe(const struct observer *o, char *buf, size_t size)
{
	o->ops->describe(o, buf, size);
}

size_t observer_retire_gone(struct observer *o, const struct snapshot *s,
			    bool (*gone)(void *ctx, uint64_t cgroup), void *ctx, uint32_t *ids,
			    size_t max)
{
	return o->ops->retire(o, s, gone, ctx, ids, max);
}

int observer_pending_frames(const struct observer *o, uint64_t *frames, char *where,
			    size_t wsize)
{
	*frames = 0;
	if (where && wsize)
		where[0] = '\0';
	if (!o->ops->probe)
		return 0; /* CPython frames are read, not held */
	return probe_pending_frames(o->ops->probe(o), frames, where, wsize);
}

int observer_pending_calls(struct observer *o, struct pending_call **calls, size_t *n)
{
	*calls = NULL;
	*n = 0;
	if (!o->ops->probe)
		return -EOPNOTSUPP; /* CPython: frames are walked, not held by BPF */
	if (!o->pending)
		return -ENODEV; /* said when it could not be loaded */
	return pending_reader_read(o->pending, calls, n);
}

uint64_t observer_pending_goroutines(const struct observer *o, uint64_t *frames)
{
	*frames = 0;
	return o->ops->probe ? probe_pending_goroutines(o->ops->probe(o), frames) : 0;
}

volatile uint32_t *observer_test_next_id(struct observer *o)
{
	return o->ops->probe ? probe_test_next_id(o->ops->probe(o)) : NULL;
}

void observer_poll(struct observer *o)
{
	if (o->ops->poll)
		o->ops->poll(o);
}

void observer_rescan(struct observer *o)
{
	if (o->ops->rescan)
		o->ops->rescan(o);
}

int observer_event_fd(const struct observer *o)
{
	return o->ops->event_fd ? o->ops->event_fd(o) : -1;
}

uint64_t observer_poll_in_ms(const struct observer *o)
{
	return o->ops->poll_in_ms ? o->ops->poll_in_ms(o) : UINT64_MAX;
}

int observer_pin_dirfd(const struct observer *o)
{
	return o->ops->pin_dirfd ? o->ops->pin_dirfd(o) : -1;
}

bool observer_config_pins(const struct observer_config *cfg)
{
	return !cfg->python;
}

uint64_t observer_caps_needed(const struct observer *o)
{
	return o->ops->caps;
}

void observer_default_pin_dir(const struct observer_config *cfg, char *out, size_t size)
{
	pin_default_dir(&cfg->target, out, size);
}

int observers_wait_tick(struct observer *const *o, size_t n, struct ticker *t)
{
	for (;;) {
		int fds[16];
		uint64_t next = UINT64_MAX;
		size_t nfds = 0;
		int rc;

		for (size_t i = 0; i < n; i++) {
			uint64_t in = observer_poll_in_ms(o[i]);

			if (nfds < ARRAY_SIZE(fds))
				fds[nfds++] = observer_event_fd(o[i]);
			next = in < next ? in : next;
		}
		rc = ticker_wait_or(t, fds, nfds, next);
		if (rc != 2)
			return rc;
		for (size_t i = 0; i < n; i++)
			observer_poll(o[i]);
	}
}
