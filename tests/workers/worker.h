/* SPDX-License-Identifier: MIT */
/* The observed test worker: a handle function and what runs inside it. */
#ifndef INFLIGHT_TEST_WORKER_H
#define INFLIGHT_TEST_WORKER_H

struct job;
typedef int (*job_body_fn)(struct job *job, const char *chain);

struct job {
	int depth;         /* recursion depth still to go */
	job_body_fn body;  /* what runs at the innermost frame */
	void *arg;
};

/* The probed function: chain in %di (arg 1), as the tests' fetch spec expects. */
int worker_handle(const char *chain, struct job *job);

/* Variants whose exits are tail jumps, indirect jumps, jump tables. */
int worker_handle_tail(const char *chain, struct job *job);
int worker_handle_indirect(const char *chain, struct job *job);
int worker_handle_switch(const char *chain, struct job *job);

#endif
