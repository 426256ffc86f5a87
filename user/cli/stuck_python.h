/* SPDX-License-Identifier: MIT */
/*
 * `inflight stuck` on CPython targets. A frame carries no start time, so a
 * call's age counts from when `stuck` first saw it: a call is the same
 * call at the next reading when the same process and thread show a frame
 * at the same address running the same code with the same argument. Seen
 * at every reading since, its age is at least now - first seen. (A
 * minimal local tracker: the collector's own first-seen tracker for the
 * oldest-age metric is being written beside this one.)
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
