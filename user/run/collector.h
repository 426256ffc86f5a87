/* SPDX-License-Identifier: MIT */
/*
 * The collector of `inflight run`: its targets started, the privileges
 * dropped, then a reading and an export every interval until SIGINT or
 * SIGTERM, and one last export.
 */
#ifndef INFLIGHT_COLLECTOR_H
#define INFLIGHT_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include "export/export_config.h"
#include "run/run_targets.h"

/* An export setting given as a flag, applied over the OTEL_* variables. */
struct export_flag {
	enum export_setting what;
	const char *value;
	const char *name; /* "--endpoint", for messages */
};

/* What `run` was told besides its targets, variables already applied. */
struct collector_settings {
	const struct export_flag *flags;
	size_t nflags;
	const char *health;     /* HOST:PORT of /healthz and /readyz, or NULL */
	const char *prometheus; /* HOST:PORT of /metrics, or NULL (the same: one listener) */
	const char *user;       /* the user to become once attached, or NULL */
	bool k8s;               /* container and pod attributes by cgroup */
	const char *cgroup_root, *k8s_log_dir; /* NULL: the defaults */
	bool no_pin;
	bool no_handled;        /* no <metric>.handled Sum beside each gauge */
	bool no_duration;       /* no <metric>.duration Histogram beside each gauge */
	bool no_oldest_age;     /* no <metric>.oldest_age Gauge beside each gauge */
};

/*
 * Runs the collector over `targets` (taken over: freed here, `*targets`
 * left empty). Logs what goes wrong; returns the exit status: 0, 2 for bad
 * input or targets that cannot be attached, 1 for a failure at run time.
 */
int collector_run(struct run_targets *targets, const struct collector_settings *s);

#endif
