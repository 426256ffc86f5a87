// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "support/receiver.h"
#include "support/redis.h"

/* A blocked BLPOP gives up after this: a broken test fails, not hangs. */
#define BLPOP_SECONDS "20"

static void send_command(struct redis *r, int argc, const char *const argv[])
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "*%d\r\n", argc);

	for (int i = 0; i < argc; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
	assert_true(n < (int)sizeof(buf));
	assert_int_equal(write(r->fd, buf, (size_t)n), n);
}

static void read_line(struct redis *r, char *line, size_t size)
{
	size_t n = 0;
	char c;

	while (n + 1 < size) {
		assert_int_equal(read(r->fd, &c, 1), 1);
		if (c == '\n')
			break;
		if (c != '\r')
			line[n++] = c;
	}
	line[n] = '\0';
}

/* Reads one reply; bulk strings into out (empty for nil). Returns the type byte. */
static char read_reply(struct redis *r, char *out, size_t size, long *num)
{
	char line[512];

	read_line(r, line, sizeof(line));
	if (line[0] == '-')
		fail_msg("redis: %s", line + 1);
	if (line[0] == ':' && num)
		*num = atol(line + 1);
	if (line[0] == '$') {
		long len = atol(line + 1);

		if (len < 0) {
			if (out)
				out[0] = '\0';
			return '$';
		}
		assert_true((size_t)len + 2 <= size);
		for (long got = 0; got < len + 2;) {
			ssize_t k = read(r->fd, out + got, (size_t)(len + 2 - got));

			assert_true(k > 0);
			got += k;
		}
		out[len] = '\0';
	}
	if (line[0] == '*') {
		long n = atol(line + 1);

		if (n < 0)
			return '*';
		/* BLPOP: [key, value]: keep the value */
		for (long i = 0; i < n; i++)
			read_reply(r, out, size, NULL);
	}
	return line[0];
}

void redis_start(struct redis *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char port[16], line[512];
	int out[2];
	FILE *f;

	memset(r, 0, sizeof(*r));
	r->port = free_port();
	snprintf(port, sizeof(port), "%d", r->port);
	snprintf(r->dir, sizeof(r->dir), "/tmp/inflight-redis-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	r->server = fork();
	assert_true(r->server >= 0);
	if (r->server == 0) {
		dup2(out[1], STDOUT_FILENO);
		/*
		 * It ends with the test, and holds none of the test's files: a
		 * test that died must not leave a server holding the suite's
		 * lock (flock's descriptor) for every other run to wait on.
		 */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		closefrom(3);
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
		       "--save", "", "--appendonly", "no", "--dir", r->dir, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	f = fdopen(out[0], "r");
	/* it says when it listens */
	while (fgets(line, sizeof(line), f) && !strstr(line, "Ready to accept connections"))
		;
	fclose(f);
	r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_port = htons((uint16_t)r->port);
	if (connect(r->fd, (struct sockaddr *)&a, sizeof(a)))
		fail_msg("redis-server did not start on port %d (make deps installs it)", r->port);
}

void redis_stop(struct redis *r)
{
	char cmd[128];

	if (!r->server)
		return;
	close(r->fd);
	kill(r->server, SIGTERM);
	waitpid(r->server, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", r->dir);
	r->server = 0;
}

void redis_rpush(struct redis *r, const char *key, const char *value)
{
	const char *argv[] = { "RPUSH", key, value };

	send_command(r, 3, argv);
	read_reply(r, NULL, 0, NULL);
}

void redis_blpop(struct redis *r, const char *key, char *out, size_t size)
{
	const char *argv[] = { "BLPOP", key, BLPOP_SECONDS };

	out[0] = '\0';
	send_command(r, 3, argv);
	if (read_reply(r, out, size, NULL) == '*' && !out[0])
		fail_msg("redis: nothing on '%s' within %s s", key, BLPOP_SECONDS);
}

long redis_llen(struct redis *r, const char *key)
{
	const char *argv[] = { "LLEN", key };
	long n = -1;

	send_command(r, 2, argv);
	read_reply(r, NULL, 0, &n);
	return n;
}
