/* SPDX-License-Identifier: MIT */
/*
 * Discovery: the workers are the processes matching --match-exe and/or
 * --match-cmdline, in any PID or mount namespace on the node, found at
 * exec and by periodic /proc scans; each file they run gets probes once.
 */
#ifndef INFLIGHT_DISCOVERY_H
#define INFLIGHT_DISCOVERY_H

#include <stdint.h>
#include "probe/probe.h"
#include "probe/target_spec.h"

struct discovery;

/*
 * Loads one BPF object for every file to come (or adopts the pinned one),
 * attaches its tracepoints and scans /proc once. `info` must outlive it.
 * NULL with `err` naming the input.
 */
struct discovery *discovery_start(const struct target_spec *spec, struct target_info *info,
				  char *err, size_t errlen);
void discovery_stop(struct discovery *d);
struct probe *discovery_probe(const struct discovery *d);

/* Attaches to workers that exec'd and, when due, rescans /proc. */
void discovery_poll(struct discovery *d);
/* A full /proc scan now, whatever the period says. */
void discovery_rescan(struct discovery *d);
int discovery_event_fd(const struct discovery *d);        /* readable: execs to look at */
uint64_t discovery_poll_in_ms(const struct discovery *d); /* until the next full scan */
/* The pin directory's fd (files' probes are pinned after the drop); -1 if not pinned. */
int discovery_pin_dirfd(const struct discovery *d);
/* Matching processes that could not be observed. */
uint64_t discovery_attach_failures(const struct discovery *d);
void discovery_describe(const struct discovery *d, char *buf, size_t size);

#endif
