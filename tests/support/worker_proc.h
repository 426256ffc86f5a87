/* SPDX-License-Identifier: MIT */
/*
 * Driving a test worker: commands down a pipe, single-byte events back.
 * Waits are on the pipe, bounded by a deadline so a broken test fails
 * instead of hanging; nothing sleeps to synchronise.
 */
#ifndef INFLIGHT_TEST_WORKER_PROC_H
#define INFLIGHT_TEST_WORKER_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct worker_proc {
	pid_t pid;
	int cmd_fd;   /* worker's stdin */
	int event_fd; /* worker's stdout */
	bool reaped;
	int status;
};

/*
 * Starts argv[0] with pipes on stdin/stdout. Fails the test on error. The
 * worker lives in a static pool, so teardown can stop it after a failed
 * assertion jumped out of the test.
 */
struct worker_proc *worker_start(char *const argv[]);
/* Sends one command line (a newline is added). */
void worker_send(struct worker_proc *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Reads exactly the event bytes in `expect` (as a multiset: order free). */
void worker_expect(struct worker_proc *w, const char *expect);
/*
 * Reads one event byte `tag` followed by text up to a newline (the
 * worker's `timedburst`), into `out` without the newline.
 */
void worker_expect_text(struct worker_proc *w, char tag, char *out, size_t size);
/* Waits for the worker to exit; returns its wait status. */
int worker_wait(struct worker_proc *w);
/* SIGKILLs (if still running) and reaps; closes the pipes. */
void worker_stop(struct worker_proc *w);

/* Stops every worker still running. */
void worker_stop_all(void);
/* A cmocka teardown that stops every worker. */
int worker_teardown(void **state);

/* The directory holding the built test workers. */
const char *workers_dir(void);
/* workers_dir()/name in a static buffer rotation (4 slots). */
const char *worker_path(const char *name);

#endif
