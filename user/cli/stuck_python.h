/* SPDX-License-Identifier: MIT */
/*
 * `inflight stuck` on CPython targets. A frame carries no start time, so a
 * call's age counts from the reading of `stuck`'s that first saw it, with
 * the collector's own tracker (python/py_first_seen: the same frame, code,
 * argument and argument values in the same process), driven by `stuck`'s
 * reading times. Seen at every reading since, a call has been in flight
 * at least from the first to the last.
 */
#ifndef INFLIGHT_STUCK_PYTHON_H
#define INFLIGHT_STUCK_PYTHON_H

#include <stdint.h>
#include "cli/stuck_report.h"
#include "python/py_observer.h"

struct stuck_py;

struct stuck_py *stuck_py_new(void);
void stuck_py_free(struct stuck_py *t);

/*
 * One reading at `now_ns` (CLOCK_MONOTONIC), after py_observer_read found
 * the processes: calls new since the last reading are first seen now,
 * calls not seen again are forgotten. With `report`, the calls seen for
 * `report->older_than_ns` or more are added to it with their stacks
 * (named now) and report->inflight counts every call. 0 or -ENOMEM.
 */
int stuck_py_reading(struct stuck_py *t, struct py_observer *po, uint64_t now_ns,
		     struct stuck_report *report);
/* Calls being watched (seen at the last reading). */
size_t stuck_py_watched(const struct stuck_py *t);

#endif
