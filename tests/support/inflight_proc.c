// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "support/inflight_proc.h"

#define DEADLINE_MS 30000

const char *inflight_bin(void)
{
	const char *b = getenv("INFLIGHT_BIN");

	return b && *b ? b : "build/inflight";
}

static char public_dir[64];

static void remove_public_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", public_dir);
	if (public_dir[0] && system(cmd))
		fprintf(stderr, "could not remove %s\n", public_dir);
}

const char *public_copy(const char *path)
{
	static char out[8][256];
	static int slot;
	char cmd[600], *dst = out[slot++ & 7];
	const char *base = strrchr(path, '/');

	if (!public_dir[0]) {
		snprintf(public_dir, sizeof(public_dir), "/tmp/inflight-public-XXXXXX");
		assert_non_null(mkdtemp(public_dir));
		assert_int_equal(chmod(public_dir, 0755), 0);
		atexit(remove_public_dir);
	}
	snprintf(dst, sizeof(out[0]), "%s/%s", public_dir, base ? base + 1 : path);
	snprintf(cmd, sizeof(cmd), "cp %s %s && chmod 0755 %s", path, dst, dst);
	assert_int_equal(system(cmd), 0);
	return dst;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void inflight_start(struct inflight_proc *p, char *const args[], char *const env[])
{
	char *argv[64];
	int n = 0;

	argv[n++] = (char *)inflight_bin();
	while (args[n - 1] && n < 63) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	inflight_start_argv(p, argv, env);
}

void inflight_start_argv(struct inflight_proc *p, char *const argv[], char *const env[])
{
	int out[2], err[2];

	memset(p, 0, sizeof(*p));
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		for (int i = 0; env && env[i]; i++)
			putenv(env[i]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	p->out = fdopen(out[0], "r");
	p->err_fd = err[0];
}

/* Reads what stderr has; returns 0 at EOF. */
static int read_err(struct inflight_proc *p, int timeout)
{
	struct pollfd pf = { p->err_fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&pf, 1, timeout) <= 0)
		return 1;
	/* full (debug logs are long): keep the newer half */
	if (p->nerr > sizeof(p->err) / 2) {
		size_t keep = sizeof(p->err) / 4;

		memmove(p->err, p->err + p->nerr - keep, keep);
		p->nerr = keep;
		p->err[p->nerr] = '\0';
	}
	n = read(p->err_fd, p->err + p->nerr, sizeof(p->err) - 1 - p->nerr);
	if (n <= 0)
		return 0;
	p->nerr += (size_t)n;
	p->err[p->nerr] = '\0';
	return 1;
}

void inflight_wait_stderr(struct inflight_proc *p, const char *text)
{
	int64_t deadline = now_ms() + DEADLINE_MS;

	while (!strstr(p->err, text)) {
		if (now_ms() > deadline)
			fail_msg("inflight never wrote '%s'; its stderr:\n%s", text, p->err);
		if (!read_err(p, 1000))
			fail_msg("inflight exited before writing '%s'; its stderr:\n%s", text, p->err);
	}
}

int inflight_stop(struct inflight_proc *p, int sig)
{
	int64_t deadline = now_ms() + DEADLINE_MS;
	int status;

	if (sig)
		kill(p->pid, sig);
	/* until stderr closes: the process has exited */
	while (read_err(p, 1000)) {
		if (now_ms() > deadline) {
			kill(p->pid, SIGKILL);
			fail_msg("inflight did not exit after signal %d; its stderr:\n%s", sig, p->err);
		}
	}
	assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
	close(p->err_fd);
	fclose(p->out);
	p->pid = 0;
	return status;
}
