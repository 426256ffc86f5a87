/* SPDX-License-Identifier: MIT */
/* The conserver stand-in (tests/python/conserver_standin.py), started over a fresh Redis. */
#ifndef INFLIGHT_TEST_STANDIN_H
#define INFLIGHT_TEST_STANDIN_H

#include <sys/types.h>
#include "redis.h"
#include "worker_proc.h"

struct standin_config {
	const char *chains; /* the CHAINS JSON list */
	int workers;        /* worker processes */
	const char *start;  /* "fork" or "spawn" */
	int concurrency;    /* CONSERVER_VCON_CONCURRENCY */
	const char *pythonhome; /* PYTHONHOME for an interpreter copied elsewhere, or NULL */
};

/*
 * Starts Redis in `r`, then `argv` (the stand-in, or a command that runs it)
 * with `cfg` in its environment, and waits until each worker says it is
 * listening; their pids (as the workers see them) go to `pids`, up to
 * `npids`. The stand-in is the returned worker process.
 */
struct worker_proc *standin_start(struct redis *r, char *const argv[],
				  const struct standin_config *cfg, pid_t *pids, int npids);

#endif
