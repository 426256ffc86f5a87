/* SPDX-License-Identifier: MIT */
/*
 * How long a CPython call has been running, from outside: a frame snapshot
 * holds no entry time, so each call is remembered from the first reading
 * that saw it. A call is the same call at the next reading when its frame
 * sits at the same address and holds the same code object, the same chain
 * argument and the same argument values (python/py_walk.c: a fingerprint
 * of its first arguments, str by their text); one missing from a reading
 * is forgotten. The values tell back-to-back calls apart: a serial worker
 * runs each call of a chain in the same frame slot with the same chain
 * object (conserver's chain_details), and only, say, its vcon_id differs.
 *
 * The age is the time since the first reading that saw the call: a lower
 * bound of its true age, short by less than the time from the previous
 * reading (which did not see it) to that one, i.e. one interval. A call
 * already running at the first reading counts from that reading. Two calls
 * that follow each other between two readings in the same frame slot with
 * the same argument values (the same vCon handled twice back to back) look
 * like one: the age then runs on.
 */
#ifndef INFLIGHT_PY_FIRST_SEEN_H
#define INFLIGHT_PY_FIRST_SEEN_H

#include <stddef.h>
#include <stdint.h>

/* What tells one call from another across readings (python/py_walk.h reports it). */
struct py_call_key {
	uint64_t frame; /* the frame's address */
	uint64_t code;  /* its code object */
	uint64_t arg;   /* the chain argument's object (0 when unreadable) */
	uint64_t args;  /* a fingerprint of the argument values */
};

struct py_first_seen_entry {
	struct py_call_key key;
	uint64_t first_ns;
};

/* The calls of one process: those of the last reading, and the one being made. */
struct py_first_seen {
	struct py_first_seen_entry *last, *cur; /* `last` sorted by key */
	size_t nlast, ncur, caplast, capcur;
};

/* A reading of the process begins: nothing marked yet. */
void py_first_seen_begin(struct py_first_seen *t);
/*
 * Call `k` is in this reading, taken at `now_ns` (CLOCK_MONOTONIC): returns
 * when it was first seen, `now_ns` if it is new. Out of memory: `now_ns`,
 * and the call is not remembered (its age starts anew next time).
 */
uint64_t py_first_seen_mark(struct py_first_seen *t, const struct py_call_key *k, uint64_t now_ns);
/* The reading is whole: the calls it did not mark are forgotten. */
void py_first_seen_end(struct py_first_seen *t);
void py_first_seen_free(struct py_first_seen *t);

#endif
