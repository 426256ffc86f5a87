/* SPDX-License-Identifier: MIT */
/* Turning a snapshot into what `inflight top` prints: a table or JSON lines. */
#ifndef INFLIGHT_RENDER_H
#define INFLIGHT_RENDER_H

#include <stdbool.h>
#include <stdio.h>
#include "cli/history.h"
#include "observe/observer.h"
#include "probe/snapshot.h"

/*
 * `rates[i]`: chain i's calls ended per second since the last reading, or
 * RATE_UNKNOWN (cli/rate.h); `rates` NULL: all unknown.
 */

/*
 * What `top` keeps across readings, beyond the reading itself: each
 * chain's in-flight history, and how to draw it. NULL: no history.
 */
struct render_extra {
	const struct history_table *history;
	bool ascii; /* the sparkline in ASCII: the locale is not UTF-8 */
};

/* One JSON object on one line:
 * {"ts":NS,"chains":[{"chain":"..","inflight":N,"entered":N,"exited":N,"released":N,
 *  "rate":X|null,"oldest_age":S|null,"history":[N,...]}],"dropped":N} */
void render_json(FILE *out, const struct snapshot *s, const double *rates,
		 const struct render_extra *x);

/*
 * The table. On a terminal, `erase_lines` is what the previous call
 * returned: those lines are overwritten in place, anything printed above
 * them stays. Returns the number of lines written.
 */
int render_table(FILE *out, const struct snapshot *s, const double *rates,
		 const struct target_info *info, bool tty, int erase_lines,
		 const struct render_extra *x);

#endif
