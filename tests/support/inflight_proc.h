/* SPDX-License-Identifier: MIT */
/* A running `inflight` command: its stderr read as it comes, until a line
 * says what the test waits for. */
#ifndef INFLIGHT_TEST_INFLIGHT_PROC_H
#define INFLIGHT_TEST_INFLIGHT_PROC_H

#include <stdio.h>
#include <sys/types.h>

struct inflight_proc {
	pid_t pid;
	int err_fd;
	FILE *out;      /* its stdout */
	char err[65536]; /* everything it wrote to stderr so far */
	size_t nerr;
};

/* The binary under test: $INFLIGHT_BIN, else build/inflight. */
const char *inflight_bin(void);

/*
 * A copy of `path` that any user can run (in a 0755 directory under /tmp,
 * removed at exit): tests that run as nobody cannot count on the checkout's
 * directories being open to it.
 */
const char *public_copy(const char *path);

/* Starts inflight with `args` (after argv[0]) and extra NAME=VALUE `env`. */
void inflight_start(struct inflight_proc *p, char *const args[], char *const env[]);
/* Starts any command the same way (argv[0] looked up in $PATH): setpriv ... inflight. */
void inflight_start_argv(struct inflight_proc *p, char *const argv[], char *const env[]);
/* Reads stderr until it contains `text` (or the deadline fails the test). */
void inflight_wait_stderr(struct inflight_proc *p, const char *text);
/* Sends `sig`, reads what remains, returns the wait status. */
int inflight_stop(struct inflight_proc *p, int sig);

#endif
