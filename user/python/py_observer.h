/* SPDX-License-Identifier: MIT */
/*
 * The CPython target: finds the worker processes (by pid, or every process
 * whose executable or command line matches a pattern, and their children),
 * and at each reading counts, per chain, the frames of the handle function
 * on every thread. An UpDownCounter exported cumulatively carries only its
 * value at each collection, which is exactly this count.
 */
#ifndef INFLIGHT_PY_OBSERVER_H
#define INFLIGHT_PY_OBSERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "probe/snapshot.h"

struct py_observer_config {
	const pid_t *pids;       /* explicit processes, or NULL */
	size_t npids;
	const char *exe_pattern; /* match executables / command lines, or NULL */
	const char *match_exe;     /* --match-exe GLOB, or NULL */
	const char *match_cmdline; /* --match-cmdline REGEX, or NULL */
	const char *func;        /* default PY_DEFAULT_FUNC (python/py_defaults.h) */
	const char *file;        /* co_filename suffix, or NULL */
	const char *chain;       /* default PY_DEFAULT_CHAIN */
	unsigned max_chains;
	/*
	 * A series per chain and container: the key standing for a process's
	 * cgroup path (the "0::" line of /proc/PID/cgroup), or NULL for none.
	 */
	uint64_t (*cgroup_key)(void *ctx, const char *path);
	void *cgroup_ctx;
};

/* The cost of the last reading, for logs and the benchmark. */
struct py_observer_cost {
	size_t processes;   /* CPython processes read */
	uint64_t reads;     /* process_vm_readv calls */
	uint64_t frames;    /* frames visited */
	uint64_t ns;        /* wall time of the reading, the process scan included */
	uint64_t walk_ns;   /* of which reading the processes' frames */
};

struct py_observer;

/* NULL with `err` naming the input on failure. */
struct py_observer *py_observer_start(const struct py_observer_config *cfg, char *err,
				      size_t errlen);
int py_observer_read(struct py_observer *o, struct snapshot *out);
void py_observer_cost(const struct py_observer *o, struct py_observer_cost *out);
/*
 * With a series per cgroup: the series of cgroups no process of ours is in
 * any more, idle at the last reading, are retired (their ids reused);
 * writes the ids to `ids` (at most `max`), returns how many.
 */
size_t py_observer_retire(struct py_observer *o, uint32_t *ids, size_t max);
void py_observer_stop(struct py_observer *o);

/*
 * Every call in flight now, with its thread's stack (`inflight stuck`):
 * walks each process the last py_observer_read found, then calls `fn` per
 * call with the process (for py_frame_describe), each call once, in the
 * order of their keys. A process whose walk is given up (a frame list that
 * loops, the read budget spent) gives none, as in a reading; what `fn`
 * reads of a process has a budget of its own. 0, or -ENOMEM.
 */
struct py_process;
struct py_call;
typedef void (*py_observer_call_fn)(void *ctx, struct py_process *p, const struct py_call *c);
int py_observer_calls(struct py_observer *o, py_observer_call_fn fn, void *ctx);

#endif
