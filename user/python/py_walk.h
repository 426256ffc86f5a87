/* SPDX-License-Identifier: MIT */
/*
 * Walks every thread's Python frames in a running CPython process, from
 * outside, and reports each frame of one function with the chain read from
 * its arguments. The process runs on meanwhile: a frame is reported only if
 * it still holds the same code and argument after its chain was read, so a
 * frame popped during the read is never reported with a wrong name.
 */
#ifndef INFLIGHT_PY_WALK_H
#define INFLIGHT_PY_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inflight.h"
#include "util/proc_mem.h"
#include "python/py_first_seen.h"
#include "python/py_process.h"

/* What to find: calls of one function, and the chain among its arguments. */
struct py_target {
	char func[128];        /* co_name, e.g. _handle_vcon */
	char file_suffix[256]; /* co_filename must end with this; "" for any */
	char arg_name[64];     /* the argument by name ("" to use arg_index) */
	int arg_index;         /* by position, 0-based */
	char key[64];          /* look this key up in it (a dict); "" for none */
	bool warned_no_arg;    /* the function lacks the argument: said once */
};

/*
 * Parses --py-chain: NAME or INDEX, optionally followed by ["KEY"] or
 * ['KEY'], e.g. chain_details["name"]. 0, or -EINVAL with `err` set.
 */
int py_chain_spec_parse(const char *spec, struct py_target *t, char *err, size_t errlen);

/* Per process: what is known of code objects seen, so each is read once. */
#define PY_CODE_CACHE 512
struct py_code_cache {
	uint64_t code[PY_CODE_CACHE];
	int16_t slot[PY_CODE_CACHE]; /* PY_SLOT_*, else the argument's slot */
};
#define PY_SLOT_UNKNOWN (-2) /* not looked at yet */
#define PY_SLOT_OTHER (-1)   /* another function */
#define PY_SLOT_NO_ARG (-3)  /* the function, without the argument: counted as unreadable */

struct py_walk_stats {
	uint64_t threads, frames, matches, skipped; /* skipped: changed while read */
};

/*
 * Called per in-flight call: `chain` is raw UTF-8 (at most 63 bytes), or
 * NULL if unreadable; `call` what tells the call from others at the next
 * reading (its frame, code and argument).
 */
typedef void (*py_found_fn)(void *ctx, const char *chain, const struct py_call_key *call);

/*
 * Walks the process once. 0, or -EFAULT if its runtime could not be read at
 * all, -EINVAL if its layout does not hold (checked once, by reading
 * sys.version back; said once with a warning: a reading goes on without
 * the process, so that is not an error of the caller's).
 */
int py_walk(struct py_process *p, struct py_target *t, struct py_code_cache *cache,
	    py_found_fn found, void *ctx, struct py_walk_stats *stats, uint64_t *reads);

void py_code_cache_reset(struct py_code_cache *c);

/* A Python frame as read: its code object and where it was in it. */
struct py_frame_ref {
	uint64_t code;
	/* 3.11+: the instruction pointer; 3.10: f_lasti (an index); PY_INSTR_UNKNOWN */
	uint64_t instr;
};
#define PY_INSTR_UNKNOWN UINT64_MAX
/* Frames kept per call: the innermost ones, and always the call's own last. */
#define PY_STACK_MAX 128

/* One call found, and where its thread is (for `inflight stuck`). */
struct py_call {
	uint64_t tid;              /* the thread's native id; 0 where unknown (3.10) */
	/*
	 * The same frame, code, argument and argument values (a fingerprint,
	 * as struct py_call_key's) at two readings: the same call.
	 */
	uint64_t frame, code, arg, args;
	const char *chain;         /* raw UTF-8, NULL if unreadable */
	/* the thread's frames, innermost first, down to the call's own */
	const struct py_frame_ref *stack;
	size_t depth;
	bool truncated;            /* frames between were left out (PY_STACK_MAX) */
};
typedef void (*py_call_fn)(void *ctx, const struct py_call *call);

/* py_walk, reporting each call with its thread's stack instead. */
int py_walk_calls(struct py_process *p, struct py_target *t, struct py_code_cache *cache,
		  py_call_fn fn, void *ctx, struct py_walk_stats *stats, uint64_t *reads);

#endif
