/* SPDX-License-Identifier: MIT */
/*
 * A real Prometheus server (Debian's) for a test: on 127.0.0.1 on a free
 * port, its own storage in a temp dir, scraping the given targets every
 * 200 ms; PromQL answers read over its HTTP API. Stopped by pid.
 */
#ifndef INFLIGHT_TEST_PROMETHEUS_H
#define INFLIGHT_TEST_PROMETHEUS_H

#include <stdbool.h>
#include <sys/types.h>

struct prometheus {
	pid_t pid;
	int port;
	char dir[64];
};

/*
 * Whether the prometheus binary ($PROMETHEUS_BIN, else prometheus in
 * $PATH) is there. Under CI=true a missing one fails the test; elsewhere
 * it says why and the caller must skip().
 */
bool prometheus_available(void);
/* Starts it scraping `targets` (HOST:PORT, NULL-terminated) as job "inflight"; waits until ready. */
void prometheus_start(struct prometheus *p, const char *const targets[]);
void prometheus_stop(struct prometheus *p);
/*
 * Evaluates `query` until its vector, written "LABELVALUE=VALUE,..." (the
 * value of label `label` of each series, sorted), equals `want`; fails the
 * test with the last answer after 30 s.
 */
void prometheus_wait_vector(struct prometheus *p, const char *query, const char *label,
			    const char *want);
/* One GET of the HTTP API path (e.g. "/api/v1/metadata?metric=x"): the body, into `out`. */
void prometheus_get(struct prometheus *p, const char *path, char *out, size_t size);

#endif
