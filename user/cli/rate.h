/* SPDX-License-Identifier: MIT */
/*
 * `inflight top`'s RATE: per chain, the calls that ended (returned or
 * released) per second between the last two readings.
 */
#ifndef INFLIGHT_RATE_H
#define INFLIGHT_RATE_H

#include <stddef.h>
#include <stdint.h>
#include "probe/snapshot.h"

/* No rate: the first reading, a frame snapshot (no call ends seen), a clock stepped back. */
#define RATE_UNKNOWN (-1.0)

struct rate_table {
	uint64_t *handled; /* by chain id: its calls ended at the last reading, 0 if absent */
	size_t nids;
	uint64_t last_ns;  /* the last reading's time; 0: none yet */
	double *rate;      /* by chain index of the last reading: calls/s, or RATE_UNKNOWN */
	size_t cap;
};

/*
 * Fills `t->rate[i]` for `s->chains[i]` from the previous reading, then
 * keeps `s` as the next one's base. 0 or -ENOMEM (then the rates are all
 * unknown and the base is left as it was).
 */
int rate_update(struct rate_table *t, const struct snapshot *s);
void rate_free(struct rate_table *t);

#endif
