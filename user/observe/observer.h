/* SPDX-License-Identifier: MIT */
/*
 * The observer: the one face of every kind of target. It resolves a
 * target, loads the BPF programs, attaches them, and reads per-chain
 * counts, from a backend chosen once at start: a named target or discovery
 * (probe/), or CPython frames (python/). Every failure leaves nothing
 * loaded or attached and says which input was wrong.
 */
#ifndef INFLIGHT_OBSERVER_H
#define INFLIGHT_OBSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "inflight.h"
#include "probe/return_mode.h"
#include "probe/snapshot.h"
#include "probe/target_spec.h"

struct observer_config {
	/*
	 * What the options name: a file and function or USDT pair, or the
	 * processes discovery matches (also which processes --python reads,
	 * its chain cap, by_cgroup, and where to pin).
	 */
	struct target_spec target;
	/* CPython workers: frames are read instead of probes attached */
	bool python;
	const pid_t *pids;       /* --pid, repeatable with --python */
	size_t npids;
	const char *python_exe;  /* --python-exe PATTERN */
	const char *py_func, *py_file, *py_chain;
	/*
	 * With target.by_cgroup, a series per chain and cgroup, for k8s
	 * attributes: native targets key series by cgroup id; CPython targets
	 * by `cgroup_key` of the process's cgroup path (required then).
	 */
	uint64_t (*cgroup_key)(void *ctx, const char *path);
	void *cgroup_ctx;
};

/* What was attached: struct target_info (probe/target_spec.h). */
struct observer;

/*
 * Starts observing. On failure returns NULL and writes one line to `err`
 * that names the input (e.g. "--func foo: no such function in /bin/x").
 */
struct observer *observer_start(const struct observer_config *cfg, char *err, size_t errlen);
void observer_stop(struct observer *o);
const struct target_info *observer_info(const struct observer *o);
int observer_read(struct observer *o, struct snapshot *out);

/* The one line that says what is being observed and how. */
void observer_describe(const struct observer *o, char *buf, size_t size);

/*
 * The start time of a series (by chain id), the first time it is asked
 * for; kept with pinned state so a restarted collector keeps it.
 */
uint64_t observer_series_start(struct observer *o, uint32_t id, uint64_t now_ns);

/* Whether such a target keeps state worth pinning (probes and counters: not CPython frames). */
bool observer_config_pins(const struct observer_config *cfg);
/* The capabilities it still needs once attached (CAP_MASK bits). */
uint64_t observer_caps_needed(const struct observer *o);

/* PIN_ROOT/<hash of the target>: one directory per observed target. */
void observer_default_pin_dir(const struct observer_config *cfg, char *out, size_t size);

/*
 * Discovery's housekeeping: attaches to workers that exec'd and, when due,
 * rescans /proc; for --binary PATH, follows the path to a new file when it
 * was replaced on disk. Call it when observer_event_fd is readable or
 * observer_poll_in_ms has passed; nothing to do for other targets.
 */
void observer_poll(struct observer *o);
int observer_event_fd(const struct observer *o);        /* -1: none */
/* A full /proc scan now, whatever the period says. */
void observer_rescan(struct observer *o);
uint64_t observer_poll_in_ms(const struct observer *o); /* UINT64_MAX: never */
/*
 * The pin directory's fd, for a target that pins after the privileges are
 * dropped (discovery: each new file's probes); -1 for others.
 */
int observer_pin_dirfd(const struct observer *o);

/* ticker_wait, doing the observers' housekeeping meanwhile. */
struct ticker;
int observers_wait_tick(struct observer *const *o, size_t n, struct ticker *t);

/*
 * Series split by cgroup whose cgroup is gone (a pod that ended), idle in
 * `s` (the last reading): retired, their ids free for new series, so pod
 * churn never exhausts the chain cap. `gone` says whether a cgroup id no
 * longer exists (CPython targets judge by their processes instead). Writes
 * the retired ids to `ids` (at most `max`), for the caller to forget those
 * series; returns how many.
 */
size_t observer_retire_gone(struct observer *o, const struct snapshot *s,
			    bool (*gone)(void *ctx, uint64_t cgroup), void *ctx, uint32_t *ids,
			    size_t max);

/*
 * Calls pending across all threads: the frames the BPF side holds in its
 * task storage, looked up for every thread on the machine (not entries less
 * exits; for a Go target, also the frames its goroutines hold). `where`
 * (if not NULL) gets "pid/tid: n, ..." of the threads holding some. 0, or -errno when they cannot be looked at.
 */
int observer_pending_frames(const struct observer *o, uint64_t *frames, char *where,
			    size_t wsize);

/*
 * Native targets: every call pending now (probe/pending_calls.h), in a
 * malloc'd array the caller frees. 0; -EOPNOTSUPP for CPython targets;
 * -ENODEV when the reader could not be loaded at start (warned then).
 */
struct pending_call;
int observer_pending_calls(struct observer *o, struct pending_call **calls, size_t *n);

/* For tests: the BPF side's next chain id (writable), or NULL when not loaded here. */
volatile uint32_t *observer_test_next_id(struct observer *o);

/*
 * A Go target: the goroutines holding pending frames (their entries in the
 * BPF map, read directly) and the frames they hold. 0 for other targets.
 */
uint64_t observer_pending_goroutines(const struct observer *o, uint64_t *frames);

#endif
