/* SPDX-License-Identifier: MIT */
/*
 * What `inflight stuck` prints: the calls in flight longer than the
 * threshold, each with its pid, tid, chain, age and stack, as text (one
 * block per call, like a py-spy dump) or as one JSON object.
 */
#ifndef INFLIGHT_STUCK_REPORT_H
#define INFLIGHT_STUCK_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* One frame: a Python function with file and line, or a native address. */
struct stuck_frame {
	char *func;      /* Python function or native symbol; NULL: none found */
	char *file;      /* source file (Python) or mapped file (native); NULL: none */
	int line;        /* Python: -1 unknown; native: unused (-1) */
	uint64_t addr;   /* native: the address (0 for Python frames) */
	uint64_t offset; /* native: addr - the symbol's start */
};

struct stuck_call {
	pid_t pid;
	pid_t tid;       /* 0: unknown */
	char *chain;
	uint64_t age_ns;
	/* false: the age counts from when inflight first saw the call (CPython): at least that */
	bool age_exact;
	struct stuck_frame *frames; /* innermost first; none: the stack could not be had */
	size_t nframes;
	bool truncated;  /* frames between the innermost ones and the call's own left out */
};

struct stuck_report {
	uint64_t older_than_ns;
	uint64_t ts_ns;  /* CLOCK_REALTIME of the reading */
	struct stuck_call *calls;
	size_t n, cap;
	size_t inflight; /* every call seen in flight at the reading, old or not */
};

/* A new call (zeroed, `chain` copied), or NULL out of memory. */
struct stuck_call *stuck_report_add(struct stuck_report *r, pid_t pid, pid_t tid,
				    const char *chain, uint64_t age_ns, bool age_exact);
/* Appends a frame to `c` (strings copied; NULL allowed). 0 or -ENOMEM. */
int stuck_call_add_frame(struct stuck_call *c, const char *func, const char *file, int line,
			 uint64_t addr, uint64_t offset);
/* Oldest first; then by pid, tid. */
void stuck_report_sort(struct stuck_report *r);
void stuck_report_free(struct stuck_report *r);

/*
 * The text: per call a line "PID 12 TID 14 CHAIN alpha AGE 31.2s" ("AGE
 * >=31.2s" for an age counted from first sight) and its frames indented;
 * "no call in flight for 30s or more" when there is none.
 */
void stuck_render_text(FILE *out, const struct stuck_report *r);
/*
 * One JSON object: {"ts":NS,"older_than":S,"inflight":N,"calls":[{"pid":N,
 * "tid":N|null,"chain":"..","age":S,"age_exact":B,"truncated":B,"stack":[
 * {"function":"..","file":"..","line":N} | {"address":"0x..","symbol":".."|null,
 * "offset":N,"file":".."|null}]}]}
 */
void stuck_render_json(FILE *out, const struct stuck_report *r);

/* "30s", "1.5s", "250ms", "2m": a duration as given back to the user. */
void stuck_format_duration(uint64_t ns, char *out, size_t size);

#endif
