/* SPDX-License-Identifier: MIT */
/* A Redis server for a test, and just enough of a client (RESP) to drive it. */
#ifndef INFLIGHT_TEST_REDIS_H
#define INFLIGHT_TEST_REDIS_H

#include <stddef.h>
#include <sys/types.h>

struct redis {
	pid_t server;
	int port;
	int fd;
	char dir[64];
};

/* Starts redis-server on 127.0.0.1 and connects. Fails the test if it cannot. */
void redis_start(struct redis *r);
void redis_stop(struct redis *r);
/* RPUSH key value. */
void redis_rpush(struct redis *r, const char *key, const char *value);
/* BLPOP key with a deadline; the value into out. Fails the test on timeout. */
void redis_blpop(struct redis *r, const char *key, char *out, size_t size);
/* LLEN key. */
long redis_llen(struct redis *r, const char *key);

#endif
