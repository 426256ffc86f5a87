/* SPDX-License-Identifier: MIT */
/*
 * The calls one walk of a process reports (py_walk_calls), kept until the
 * walk is known whole: a walk given up (a frame list that loops, the read
 * budget spent) is dropped with all it found, and a call met twice (a list
 * that loops back before the guard notices) is given once. The walker's
 * stack is only valid during its callback, so each call's frames are
 * copied.
 */
#ifndef INFLIGHT_PY_CALL_SET_H
#define INFLIGHT_PY_CALL_SET_H

#include <stdbool.h>
#include <stddef.h>
#include "inflight.h"
#include "python/py_walk.h"

struct py_call_kept;

struct py_call_set {
	struct py_call_kept *v;
	size_t n, cap;
	struct py_frame_ref *frames; /* every call's stack, one after another */
	size_t nframes, capframes;
	bool oom; /* a call could not be kept: the set is not whole */
};

/* Empties the set for the next walk (its memory is kept). */
void py_call_set_clear(struct py_call_set *s);
/* A py_call_fn: keeps a copy of the call (ctx: the set). */
void py_call_set_add(void *set, const struct py_call *c);
/*
 * The walk was whole: the calls sorted by what tells them apart (frame,
 * code, argument, argument values), each once, their stacks in place.
 * Returns how many; py_call_set_get gives each until the next add or clear.
 */
size_t py_call_set_finish(struct py_call_set *s);
const struct py_call *py_call_set_get(const struct py_call_set *s, size_t i);
void py_call_set_free(struct py_call_set *s);

#endif
