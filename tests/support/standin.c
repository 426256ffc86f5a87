// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include "standin.h"

struct worker_proc *standin_start(struct redis *r, char *const argv[],
				  const struct standin_config *cfg, pid_t *pids, int npids)
{
	char port[16], n[16], c[16], pid[32];
	struct worker_proc *w;

	redis_start(r);
	snprintf(port, sizeof(port), "%d", r->port);
	snprintf(n, sizeof(n), "%d", cfg->workers);
	snprintf(c, sizeof(c), "%d", cfg->concurrency);
	/* the stand-in's configuration, for this child only */
	setenv("REDIS_PORT", port, 1);
	setenv("CHAINS", cfg->chains, 1);
	setenv("WORKERS", n, 1);
	setenv("START", cfg->start, 1);
	setenv("CONSERVER_VCON_CONCURRENCY", c, 1);
	if (cfg->pythonhome)
		setenv("PYTHONHOME", cfg->pythonhome, 1);
	w = worker_start(argv);
	unsetenv("REDIS_PORT");
	unsetenv("CHAINS");
	unsetenv("WORKERS");
	unsetenv("START");
	unsetenv("CONSERVER_VCON_CONCURRENCY");
	unsetenv("PYTHONHOME");
	/* each worker says so from worker_loop, just before its first BLPOP */
	for (int i = 0; i < cfg->workers; i++) {
		redis_blpop(r, "workers", pid, sizeof(pid));
		if (i < npids)
			pids[i] = (pid_t)atoi(pid);
	}
	return w;
}
