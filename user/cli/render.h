/* SPDX-License-Identifier: MIT */
/* Turning a snapshot into what `inflight top` prints: a table or JSON lines. */
#ifndef INFLIGHT_RENDER_H
#define INFLIGHT_RENDER_H

#include <stdbool.h>
#include <stdio.h>
#include "observe/observer.h"
#include "probe/snapshot.h"

/* One JSON object on one line:
 * {"ts":NS,"chains":[{"chain":"..","inflight":N,"entered":N,"exited":N,"released":N}],"dropped":N} */
void render_json(FILE *out, const struct snapshot *s);

/*
 * The table. On a terminal, `erase_lines` is what the previous call
 * returned: those lines are overwritten in place, anything printed above
 * them stays. Returns the number of lines written.
 */
int render_table(FILE *out, const struct snapshot *s, const struct target_info *info,
		 bool tty, int erase_lines);

#endif
