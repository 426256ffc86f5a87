/* SPDX-License-Identifier: MIT */
/*
 * `inflight top`'s history: per chain, its in-flight count at the last
 * HISTORY_LEN readings, and the sparkline that shows them.
 */
#ifndef INFLIGHT_HISTORY_H
#define INFLIGHT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "probe/snapshot.h"

#define HISTORY_LEN 20

struct history_ring {
	int64_t v[HISTORY_LEN];
	uint32_t n;    /* readings held, at most HISTORY_LEN */
	uint32_t next; /* where the next one goes */
};

struct history_table {
	struct history_ring *by_id; /* by chain id */
	size_t nids;
};

/* Each chain of `s` adds its in-flight count to its ring. 0 or -ENOMEM (nothing added). */
int history_update(struct history_table *t, const struct snapshot *s);
/* Chain `id`'s counts, oldest first, into `out` (HISTORY_LEN room); returns how many. */
size_t history_of(const struct history_table *t, uint32_t id, int64_t *out);
void history_free(struct history_table *t);

/*
 * A sparkline: one character per value, scaled to the largest (which
 * draws a full block; any value above 0 at least the second lowest, 0 the
 * lowest), U+2581..U+2588, or `ascii` "_.:-=+*#". Left-padded with spaces
 * to `width` characters. Writes a NUL-terminated string; `size` must hold
 * 3 bytes per character (or 1 with `ascii`) plus one.
 */
void sparkline(const int64_t *v, size_t n, size_t width, bool ascii, char *out, size_t size);

/*
 * Whether the locale (LC_ALL, else LC_CTYPE, else LANG) says UTF-8;
 * `inflight top` draws its sparklines in ASCII otherwise.
 */
bool locale_is_utf8(void);

#endif
