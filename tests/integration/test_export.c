// SPDX-License-Identifier: MIT
/*
 * `inflight run` against a real OTLP/HTTP receiver that decodes with the
 * OpenTelemetry JS protobuf root (tests/receiver): the metric's shape, the
 * exact values of calls parked in a worker, the resource, transport
 * options, parity with the official JS SDK, and every failure the OTLP spec
 * names.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include "support/test_filter.h"
#include "support/bpf_env.h"
#include "support/inflight_proc.h"
#include "support/oldest_age.h"
#include "support/receiver.h"
#include "support/timed_calls.h"
#include "support/worker_proc.h"

static struct receiver rx;
static struct inflight_proc run;
static struct worker_proc *worker;

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int teardown(void **state)
{
	(void)state;
	if (run.pid)
		inflight_stop(&run, SIGKILL);
	worker_stop_all();
	receiver_stop(&rx);
	return 0;
}

/* A test's receiver, listening before the test begins; teardown stops it. */
static int start_receiver(void **state)
{
	(void)state;
	receiver_start(&rx, 0);
	return 0;
}

/* Starts the native worker, then `inflight run` on it with extra args/env. */
static void start_run(const char *endpoint_env, char *const extra_args[], char *const extra_env[])
{
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	/* no pinning: each test starts from nothing (test_restart covers pins) */
	char *args[32] = { "run", "--no-pin", "--binary", (char *)worker_path("native_worker"),
			   "--func", "worker_handle", "--chain", "+0(%di):string" };
	char *env[32];
	int na = 8, ne = 0;

	for (int i = 0; extra_args && extra_args[i]; i++)
		args[na++] = extra_args[i];
	args[na] = NULL;
	if (endpoint_env)
		env[ne++] = (char *)endpoint_env;
	env[ne++] = "OTEL_METRIC_EXPORT_INTERVAL=200";
	for (int i = 0; extra_env && extra_env[i]; i++)
		env[ne++] = extra_env[i];
	env[ne] = NULL;
	worker = worker_start(wargv);
	inflight_start(&run, args, env);
	inflight_wait_stderr(&run, "attached");
}

static char endpoint[128];

static const char *endpoint_of(int port)
{
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", port);
	return endpoint;
}

/* The first request accepted whose reading was taken after `after_ns`. */
static const struct rec_request *export_after(uint64_t after_ns)
{
	for (int seq = 1;; seq++) {
		const struct rec_request *q;

		receiver_wait(&rx, seq);
		q = receiver_request(&rx, seq);
		assert_non_null(q);
		if (q->status == 200 && q->npoints && q->points[0].time > after_ns)
			return q;
	}
}

static void expect_point(const struct rec_request *q, const char *attrs, long long value)
{
	const struct rec_point *p = rec_point(q, attrs);

	if (!p)
		fail_msg("request %d has no point with attributes '%s'", q->seq, attrs);
	assert_string_equal(p->vtype, "asInt");
	if (p->value != value)
		fail_msg("request %d, %s: value %lld, expected %lld", q->seq, attrs, p->value, value);
}

/* The metric's shape, the values, the resource, start times, headers. */
static void test_protobuf_export(void **state)
{
	char *env[] = { "OTEL_SERVICE_NAME=conserver",
			"OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod,team=voice%20ops",
			"K8S_NODE_NAME=node-7", NULL };
	const struct rec_request *q, *later;
	uint64_t t, alpha_start;

	(void)state;
	start_run(endpoint_of(rx.port), NULL, env);
	worker_send(worker, "park alpha 3");
	worker_send(worker, "park caf\\xc3\\xa9 1");
	worker_expect(worker, "EEEE");
	t = realtime_ns();
	q = export_after(t);

	assert_string_equal(q->path, "/v1/metrics");
	assert_string_equal(q->ctype, "application/x-protobuf");
	assert_false(q->gzip);
	assert_non_null(strstr(q->ua, "inflight/"));
	assert_string_equal(q->metric, "conserver.vcons.inflight");
	assert_string_equal(q->unit, "{vcon}");
	assert_false(q->monotonic);
	assert_int_equal(q->temporality, 2); /* CUMULATIVE */
	assert_int_equal(q->npoints, 2);
	expect_point(q, "chain.name=alpha", 3);
	expect_point(q, "chain.name=caf\xc3\xa9", 1);
	assert_true(q->points[0].start > 0 && q->points[0].start <= q->points[0].time);
	assert_string_equal(q->scope_name, "inflight");
	assert_string_equal(q->scope_version, INFLIGHT_VERSION);
	assert_string_equal(rec_resource(q, "service.name"), "conserver");
	assert_string_equal(rec_resource(q, "deployment.environment"), "prod");
	assert_string_equal(rec_resource(q, "team"), "voice ops");
	assert_string_equal(rec_resource(q, "k8s.node.name"), "node-7");
	assert_non_null(rec_resource(q, "host.name"));
	assert_int_equal(strlen(rec_resource(q, "service.instance.id")), 36);
	/* the SDK name is reserved for the official SDKs */
	assert_null(rec_resource(q, "telemetry.sdk.name"));

	/* the record is re-read below: keep what is compared later */
	alpha_start = rec_point(q, "chain.name=alpha")->start;
	worker_send(worker, "release");
	worker_expect(worker, "RRRR");
	t = realtime_ns();
	later = export_after(t);
	/* idle chains keep reporting, at 0, with their first start time */
	expect_point(later, "chain.name=alpha", 0);
	expect_point(later, "chain.name=caf\xc3\xa9", 0);
	assert_int_equal(rec_point(later, "chain.name=alpha")->start, alpha_start);

	assert_true(WIFEXITED(inflight_stop(&run, SIGTERM)));
}

/* http/json, gzip, headers from the variable, the _METRICS_ forms winning. */
static void test_json_gzip_headers(void **state)
{
	char *env[] = { "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
			"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/json",
			"OTEL_EXPORTER_OTLP_COMPRESSION=gzip",
			"OTEL_EXPORTER_OTLP_HEADERS=x-api-key=s%20cret,x-tenant=a",
			"OTEL_EXPORTER_OTLP_METRICS_HEADERS=x-tenant=b", NULL };
	char *args[] = { "--header", "x-extra=flag", NULL };
	const struct rec_request *q;
	uint64_t t;

	(void)state;
	start_run(endpoint_of(rx.port), args, env);
	worker_send(worker, "park j 2");
	worker_expect(worker, "EE");
	t = realtime_ns();
	q = export_after(t);
	assert_string_equal(q->ctype, "application/json");
	assert_true(q->gzip);
	assert_string_equal(rec_header(q, "content-encoding"), "gzip");
	/* the _METRICS_ headers variable replaces the generic one */
	assert_null(rec_header(q, "x-api-key"));
	assert_string_equal(rec_header(q, "x-tenant"), "b");
	assert_string_equal(rec_header(q, "x-extra"), "flag");
	expect_point(q, "chain.name=j", 2);
	assert_int_equal(q->temporality, 2);
	worker_send(worker, "release");
	worker_expect(worker, "RR");
}

#define OLDEST "conserver.vcons.inflight.oldest_age"

/* The oldest call's age of `attrs` in `q`: an asDouble point of the gauge's start and time. */
static double oldest_of(const struct rec_request *q, const char *attrs)
{
	const struct rec_point *o = rec_more_point(q, OLDEST, attrs);
	const struct rec_point *g = rec_point(q, attrs);

	if (!o)
		fail_msg("request %d has no %s point with attributes '%s'", q->seq, OLDEST, attrs);
	assert_non_null(g);
	assert_string_equal(o->vtype, "asDouble");
	assert_false(o->monotonic);
	assert_true(o->start == g->start);
	assert_true(o->time == g->time);
	return o->dvalue;
}

/* Our metric and the official JS SDK's match field for field. */
static void test_sdk_parity(void **state)
{
	char cmd[512], url[128];
	const struct rec_request *ours;
	int sdk_seq, rc;
	uint64_t t;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/metrics", rx.port);
	snprintf(cmd, sizeof(cmd), "node tests/receiver/sdk_reference.js --endpoint %s", url);
	assert_int_equal(system(cmd), 0);
	receiver_wait(&rx, 1);
	sdk_seq = 1;

	start_run(endpoint_of(rx.port), NULL, NULL);
	/* the SDK reference recorded alpha +3, beta +1-1, café +2 */
	worker_send(worker, "park beta 1");
	worker_expect(worker, "E");
	worker_send(worker, "release");
	worker_expect(worker, "R");
	worker_send(worker, "park alpha 3");
	worker_send(worker, "park caf\\xc3\\xa9 2");
	worker_expect(worker, "EEEEE");
	t = realtime_ns();
	ours = export_after(t);
	snprintf(cmd, sizeof(cmd), "node tests/receiver/compare.js %s/requests.jsonl --ours %d --sdk %d",
		 rx.dir, ours->seq, sdk_seq);
	rc = system(cmd);
	if (rc)
		fail_msg("compare.js found differences from the official SDK (see above)");
	/* the handled calls against the SDK's Counter: beta's one call ended */
	snprintf(cmd, sizeof(cmd),
		 "node tests/receiver/compare.js %s/requests.jsonl --ours %d --sdk %d --metric %s",
		 rx.dir, ours->seq, sdk_seq, "conserver.vcons.inflight.handled");
	rc = system(cmd);
	if (rc)
		fail_msg("compare.js: the handled calls differ from the official SDK's Counter (see above)");
	/* the oldest ages against the SDK's Gauge: the shape; the values are measured */
	snprintf(cmd, sizeof(cmd),
		 "node tests/receiver/compare.js %s/requests.jsonl --ours %d --sdk %d --metric %s --ignore-values",
		 rx.dir, ours->seq, sdk_seq, "conserver.vcons.inflight.oldest_age");
	rc = system(cmd);
	if (rc)
		fail_msg("compare.js: the oldest ages differ from the official SDK's Gauge (see above)");
	assert_true(oldest_of(ours, "chain.name=beta") == 0);
	assert_true(oldest_of(ours, "chain.name=alpha") > 0);
	worker_send(worker, "release");
	worker_expect(worker, "RRRRR");
}

/* Receiver down at start, then up: the next good export is right. */
static void test_receiver_down_then_up(void **state)
{
	int port = free_port();
	const struct rec_request *q;

	(void)state;
	start_run(endpoint_of(port), NULL, NULL);
	worker_send(worker, "park late 2");
	worker_expect(worker, "EE");
	inflight_wait_stderr(&run, "failed, retrying");
	receiver_start(&rx, port);
	q = export_after(0);
	expect_point(q, "chain.name=late", 2);
	inflight_wait_stderr(&run, "recovered");
	worker_send(worker, "release");
	worker_expect(worker, "RR");
}

/* 503 with Retry-After: 1 is retried no sooner than a second later. */
static void test_503_retry_after(void **state)
{
	int64_t t1, t2;
	const struct rec_request *q;

	(void)state;
	receiver_control(&rx, "{\"responses\":[{\"status\":503,\"headers\":{\"Retry-After\":\"1\"},"
				"\"status_message\":\"overloaded\"}]}");
	start_run(endpoint_of(rx.port), NULL, NULL);
	worker_send(worker, "park busy 1");
	worker_expect(worker, "E");
	receiver_wait(&rx, 1);
	t1 = mono_ms();
	assert_int_equal(receiver_request(&rx, 1)->status, 503);
	receiver_wait(&rx, 2);
	t2 = mono_ms();
	q = receiver_request(&rx, 2);
	assert_int_equal(q->status, 200);
	if (t2 - t1 < 900)
		fail_msg("retried %lld ms after a 503 with Retry-After: 1", (long long)(t2 - t1));
	inflight_wait_stderr(&run, "failed, retrying: HTTP 503: overloaded");
	expect_point(export_after(0), "chain.name=busy", 1);
	worker_send(worker, "release");
	worker_expect(worker, "R");
}

/* 429 without Retry-After: retried after a backoff of at least 500 ms. */
static void test_429_backoff(void **state)
{
	int64_t t1, t2;

	(void)state;
	receiver_control(&rx, "{\"responses\":[{\"status\":429}]}");
	start_run(endpoint_of(rx.port), NULL, NULL);
	worker_send(worker, "park throttled 1");
	worker_expect(worker, "E");
	receiver_wait(&rx, 1);
	t1 = mono_ms();
	assert_int_equal(receiver_request(&rx, 1)->status, 429);
	receiver_wait(&rx, 2);
	t2 = mono_ms();
	assert_int_equal(receiver_request(&rx, 2)->status, 200);
	if (t2 - t1 < 450)
		fail_msg("retried %lld ms after a 429", (long long)(t2 - t1));
	worker_send(worker, "release");
	worker_expect(worker, "R");
}

/* 400 with a Status: logged with its message, never retried. */
static void test_400_not_retried(void **state)
{
	const struct rec_request *a, *b;

	(void)state;
	receiver_control(&rx, "{\"responses\":[{\"status\":400,\"status_message\":\"bad things\"}]}");
	start_run(endpoint_of(rx.port), NULL, NULL);
	worker_send(worker, "park refused 1");
	worker_expect(worker, "E");
	receiver_wait(&rx, 3);
	a = receiver_request(&rx, 1);
	b = receiver_request(&rx, 2);
	assert_int_equal(a->status, 400);
	assert_int_equal(b->status, 200);
	/* the second request is the next reading, not the same one again */
	assert_true(b->points[0].time > a->points[0].time);
	/*
	 * The loss is exported too. The third request is read after the first
	 * was given up (the second may have been read while it was in flight).
	 */
	/* the gauge, its handled calls, durations and oldest age; the loss only from the third on */
	assert_int_equal(a->nmetrics, 4);
	{
		const struct rec_point *f =
			rec_more_point(receiver_request(&rx, 3), "inflight.exports.failed", "");

		assert_non_null(f);
		assert_int_equal(f->value, 1);
	}
	inflight_wait_stderr(&run, "failed, not retried: HTTP 400: bad things");
	worker_send(worker, "release");
	worker_expect(worker, "R");
}

/* A receiver slower than the timeout: the request is abandoned and retried. */
static void test_slow_receiver(void **state)
{
	char *env[] = { "OTEL_EXPORTER_OTLP_TIMEOUT=300", NULL };

	(void)state;
	receiver_control(&rx, "{\"responses\":[{\"status\":200,\"delayMs\":3000}]}");
	start_run(endpoint_of(rx.port), NULL, env);
	worker_send(worker, "park slow 2");
	worker_expect(worker, "EE");
	inflight_wait_stderr(&run, "Timeout");
	expect_point(export_after(realtime_ns()), "chain.name=slow", 2);
	inflight_wait_stderr(&run, "recovered");
	worker_send(worker, "release");
	worker_expect(worker, "RR");
}

/* A partial success is logged, not retried. */
static void test_partial_success(void **state)
{
	const struct rec_request *a, *b;

	(void)state;
	receiver_control(&rx, "{\"responses\":[{\"status\":200,\"partial\":{\"rejectedDataPoints\":2,"
				"\"errorMessage\":\"too old\"}}]}");
	start_run(endpoint_of(rx.port), NULL, NULL);
	worker_send(worker, "park part 1");
	worker_expect(worker, "E");
	receiver_wait(&rx, 2);
	a = receiver_request(&rx, 1);
	b = receiver_request(&rx, 2);
	assert_true(b->points[0].time > a->points[0].time);
	inflight_wait_stderr(&run, "partly rejected: 2 data points rejected: too old");
	worker_send(worker, "release");
	worker_expect(worker, "R");
}

/* SIGTERM: one last export with the current values, exit 0. */
static void test_sigterm_final_export(void **state)
{
	char *env[] = { "OTEL_METRIC_EXPORT_INTERVAL=600000", NULL };
	int status;

	(void)state;
	start_run(endpoint_of(rx.port), NULL, env);
	worker_send(worker, "park final 2");
	worker_expect(worker, "EE");
	status = inflight_stop(&run, SIGTERM);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	receiver_wait(&rx, 1);
	expect_point(receiver_request(&rx, 1), "chain.name=final", 2);
	worker_send(worker, "release");
	worker_expect(worker, "RR");
}

/* Past the chain cap: one series marked otel.metric.overflow=true. */
static void test_overflow_series(void **state)
{
	char *args[] = { "--max-chains", "1", NULL };
	const struct rec_request *q;
	long long named = 0;

	(void)state;
	start_run(endpoint_of(rx.port), args, NULL);
	worker_send(worker, "park a 1");
	worker_send(worker, "park b 1");
	worker_send(worker, "park c 1");
	worker_expect(worker, "EEE");
	q = export_after(realtime_ns());
	assert_int_equal(q->npoints, 2);
	expect_point(q, "otel.metric.overflow=true", 2);
	for (int i = 0; i < q->npoints; i++)
		if (strncmp(q->points[i].attrs, "otel.metric.overflow", 20))
			named += q->points[i].value;
	assert_int_equal(named, 1);
	/* and the collector says so in its own metric: two calls lumped together */
	{
		const struct rec_point *o = rec_more_point(q, "inflight.calls.overflowed", "");

		assert_non_null(o);
		assert_int_equal(o->value, 2);
		assert_true(o->start > 0 && o->start <= o->time);
		/* the gauge, inflight.calls.overflowed, the handled calls, their durations, the oldest age */
		assert_int_equal(q->nmetrics, 5);
	}
	worker_send(worker, "release");
	worker_expect(worker, "RRR");
}

/* Nothing seen yet: no request at all. */
static void test_no_points_not_sent(void **state)
{
	(void)state;
	start_run(endpoint_of(rx.port), NULL, NULL);
	/* said at the first collection, which had no series */
	inflight_wait_stderr(&run, "no calls seen yet: nothing is exported");
	receiver_wait(&rx, 0);
	assert_int_equal(rx.nreq, 0);
	worker_send(worker, "park first 1");
	worker_expect(worker, "E");
	expect_point(export_after(0), "chain.name=first", 1);
	worker_send(worker, "release");
	worker_expect(worker, "R");
}

/* Makes a CA, server and client certificates in a temporary directory. */
static void make_certs(char dir[64])
{
	char cmd[160];

	snprintf(dir, 64, "/tmp/inflight-certs-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "tests/receiver/make_certs.sh %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void remove_dir(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
}

/*
 * https with the OTEL_EXPORTER_OTLP_CERTIFICATE / _CLIENT_KEY /
 * _CLIENT_CERTIFICATE set: the receiver trusts only our client certificate.
 */
static void test_mutual_tls(void **state)
{
	char dir[64], cert[96], key[96], ca[96], client_ca[96], url[128];
	char env_ca[128], env_cert[128], env_key[128];
	const char *args[8];
	const struct rec_request *q;

	(void)state;
	make_certs(dir);
	snprintf(cert, sizeof(cert), "%s/server.pem", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(client_ca, sizeof(client_ca), "%s/ca.pem", dir);
	args[0] = "--tls-cert", args[1] = cert, args[2] = "--tls-key", args[3] = key;
	args[4] = "--client-ca", args[5] = client_ca, args[6] = NULL;
	receiver_start_args(&rx, 0, args);
	snprintf(url, sizeof(url), "OTEL_EXPORTER_OTLP_ENDPOINT=https://127.0.0.1:%d", rx.port);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(env_ca, sizeof(env_ca), "OTEL_EXPORTER_OTLP_CERTIFICATE=%s", ca);
	snprintf(env_cert, sizeof(env_cert), "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=%s/client.pem", dir);
	snprintf(env_key, sizeof(env_key), "OTEL_EXPORTER_OTLP_CLIENT_KEY=%s/client.key", dir);
	{
		char *env[] = { env_ca, env_cert, env_key, NULL };

		start_run(url, NULL, env);
	}
	worker_send(worker, "park secure 2");
	worker_expect(worker, "EE");
	q = export_after(realtime_ns());
	assert_string_equal(q->client, "inflight-client");
	expect_point(q, "chain.name=secure", 2);
	worker_send(worker, "release");
	worker_expect(worker, "RR");
	inflight_stop(&run, SIGTERM);
	remove_dir(dir);
}

/* https to a server whose CA we were not given: refused, said, nothing sent. */
static void test_tls_untrusted(void **state)
{
	char dir[64], cert[96], key[96], url[128];
	const char *args[6];

	(void)state;
	make_certs(dir);
	snprintf(cert, sizeof(cert), "%s/server.pem", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	args[0] = "--tls-cert", args[1] = cert, args[2] = "--tls-key", args[3] = key, args[4] = NULL;
	receiver_start_args(&rx, 0, args);
	snprintf(url, sizeof(url), "OTEL_EXPORTER_OTLP_ENDPOINT=https://127.0.0.1:%d", rx.port);
	start_run(url, NULL, NULL);
	worker_send(worker, "park insecure 1");
	worker_expect(worker, "E");
	inflight_wait_stderr(&run, "failed, retrying");
	assert_non_null(strcasestr(run.err, "certificate"));
	receiver_wait(&rx, 0);
	assert_int_equal(rx.nreq, 0);
	worker_send(worker, "release");
	worker_expect(worker, "R");
	inflight_stop(&run, SIGTERM);
	remove_dir(dir);
}

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
	struct buf_ctx {
		char *b;
		size_t len, cap;
	} *c = ctx;
	size_t len = size * n;

	if (c->len + len < c->cap) {
		memcpy(c->b + c->len, p, len);
		c->len += len;
		c->b[c->len] = '\0';
	}
	return len;
}

/* GET url: the status, the body into `body`. */
static long http_get(const char *url, char *body, size_t size)
{
	struct {
		char *b;
		size_t len, cap;
	} ctx = { body, 0, size };
	CURL *c = curl_easy_init();
	long status = 0;

	body[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

/* Sockets the process listens on (TCP, IPv4): from /proc. */
static int listening(pid_t pid)
{
	char path[64], link[64], line[512];
	unsigned long inodes[64];
	int n = 0, count = 0;
	FILE *f;

	for (int fd = 0; fd < 256 && n < 64; fd++) {
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &inodes[n]) == 1)
			n++;
	}
	f = fopen("/proc/net/tcp", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned st;
		unsigned long inode;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, "%*s %*s %*s %x %*s %*s %*s %*s %*s %lu", &st, &inode) != 2 || st != 0x0A)
			continue;
		for (int i = 0; i < n; i++)
			count += inodes[i] == inode;
	}
	fclose(f);
	return count;
}

/*
 * The health endpoint: off by default (no listening socket); with an
 * address, /healthz while the loop ticks, /readyz while exports succeed.
 */
static void test_health_endpoint(void **state)
{
	char health[32], url[96], body[256];
	char *args[] = { "--health-address", health, NULL };
	int port = free_port();

	(void)state;
	start_run(endpoint_of(rx.port), NULL, NULL);
	assert_int_equal(listening(run.pid), 0);
	inflight_stop(&run, SIGTERM);
	worker_stop_all();

	snprintf(health, sizeof(health), "127.0.0.1:%d", port);
	start_run(endpoint_of(rx.port), args, NULL);
	assert_int_equal(listening(run.pid), 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
	assert_int_equal(http_get(url, body, sizeof(body)), 200);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/readyz", port);
	assert_int_equal(http_get(url, body, sizeof(body)), 200);
	/* exports start failing: not ready, and it says why */
	receiver_control(&rx, "{\"responses\":[{\"status\":400},{\"status\":400},{\"status\":400},"
				"{\"status\":400},{\"status\":400},{\"status\":400}]}");
	worker_send(worker, "park h 1");
	worker_expect(worker, "E");
	inflight_wait_stderr(&run, "failed, not retried");
	while (http_get(url, body, sizeof(body)) == 200)
		receiver_wait(&rx, rx.nreq + 1);
	assert_non_null(strstr(body, "exports failing: HTTP 400"));
	/* and ready again once an export goes through */
	while (http_get(url, body, sizeof(body)) != 200)
		receiver_wait(&rx, rx.nreq + 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/nope", port);
	assert_int_equal(http_get(url, body, sizeof(body)), 404);
	worker_send(worker, "release");
	worker_expect(worker, "R");
}

#define HANDLED "conserver.vcons.inflight.handled"

/* The handled calls of `attrs` in `q`: a monotonic point of the gauge's start. */
static void expect_handled(const struct rec_request *q, const char *attrs, long long value)
{
	const struct rec_point *h = rec_more_point(q, HANDLED, attrs);
	const struct rec_point *g = rec_point(q, attrs);

	if (!h)
		fail_msg("request %d has no %s point with attributes '%s'", q->seq, HANDLED, attrs);
	assert_non_null(g);
	assert_string_equal(h->vtype, "asInt");
	assert_true(h->monotonic);
	if (h->value != value)
		fail_msg("request %d, %s %s: value %lld, expected %lld", q->seq, HANDLED, attrs,
			 h->value, value);
	/* one series: the gauge's start and time */
	assert_true(h->start == g->start);
	assert_true(h->time == g->time);
}

/*
 * <metric>.handled: every call a chain saw end, returned or released (a
 * thread that exits inside the handler), from 0 and never down.
 */
static void test_handled_calls(void **state)
{
	const struct rec_request *q;
	uint64_t alpha_start;

	(void)state;
	start_run(endpoint_of(rx.port), NULL, NULL);
	worker_send(worker, "park alpha 3");
	worker_send(worker, "exitthread gone");
	worker_expect(worker, "EEEE");
	q = export_after(realtime_ns());
	expect_point(q, "chain.name=alpha", 3);
	expect_handled(q, "chain.name=alpha", 0);
	expect_handled(q, "chain.name=gone", 0);
	alpha_start = rec_point(q, "chain.name=alpha")->start;

	worker_send(worker, "release");
	worker_expect(worker, "RRRX");
	q = export_after(realtime_ns());
	expect_point(q, "chain.name=alpha", 0);
	expect_handled(q, "chain.name=alpha", 3);
	/* released by the observer, not returned: ended all the same */
	expect_point(q, "chain.name=gone", 0);
	expect_handled(q, "chain.name=gone", 1);

	worker_send(worker, "park alpha 1");
	worker_expect(worker, "E");
	worker_send(worker, "release");
	worker_expect(worker, "R");
	worker_send(worker, "burst alpha 1");
	worker_expect(worker, "B");
	q = export_after(realtime_ns());
	expect_point(q, "chain.name=alpha", 0);
	expect_handled(q, "chain.name=alpha", 5);
	assert_true(rec_point(q, "chain.name=alpha")->start == alpha_start);
	expect_handled(q, "chain.name=gone", 1);
	assert_true(WIFEXITED(inflight_stop(&run, SIGTERM)));
}

/*
 * `flag`, then instead `env` (its variable set false), switches `metric` off:
 * a run started with each, `drive` parks and ends calls of chain alpha and
 * checks the rest of the export it returns (taken in that run); that export
 * has no point of `metric` for alpha, and `nmetrics` metrics, the others.
 */
static void expect_switched_off(const char *flag, const char *env, const char *metric, int nmetrics,
				const struct rec_request *(*drive)(void))
{
	char *args[] = { (char *)flag, NULL };
	char *envs[] = { (char *)env, NULL };

	for (int i = 0; i < 2; i++) {
		int first = rx.nreq + 1;
		const struct rec_request *q;

		start_run(endpoint_of(rx.port), i ? NULL : args, i ? envs : NULL);
		q = drive();
		assert_true(q->seq >= first);
		assert_null(rec_more_point(q, metric, "chain.name=alpha"));
		assert_int_equal(q->nmetrics, nmetrics);
		assert_true(WIFEXITED(inflight_stop(&run, SIGTERM)));
		worker_stop_all();
	}
}

/* Two calls parked and released: the gauge back at 0. */
static const struct rec_request *drive_no_handled(void)
{
	const struct rec_request *q;

	worker_send(worker, "park alpha 2");
	worker_expect(worker, "EE");
	worker_send(worker, "release");
	worker_expect(worker, "RR");
	q = export_after(realtime_ns());
	expect_point(q, "chain.name=alpha", 0);
	return q;
}

/* --no-handled, or INFLIGHT_HANDLED=false: the gauge alone. */
static void test_no_handled(void **state)
{
	(void)state;
	/* the gauge, its durations and its oldest calls' age */
	expect_switched_off("--no-handled", "INFLIGHT_HANDLED=false", HANDLED, 3, drive_no_handled);
}

#define DURATION "conserver.vcons.inflight.duration"

/* The duration histogram of `attrs` in `q`: the gauge's series, OTel's bounds, no min/max. */
static const struct rec_point *duration_point(const struct rec_request *q, const char *attrs)
{
	static const double bounds[] = { 0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
					 0.5, 0.75, 1, 2.5, 5, 7.5, 10 };
	const struct rec_point *d = rec_more_point(q, DURATION, attrs);
	const struct rec_point *g = rec_point(q, attrs);

	if (!d)
		fail_msg("request %d has no %s point with attributes '%s'", q->seq, DURATION, attrs);
	assert_non_null(g);
	assert_string_equal(d->vtype, "histogram");
	assert_true(d->start == g->start);
	assert_true(d->time == g->time);
	assert_true(d->has_sum);
	assert_false(d->has_min_max);
	assert_int_equal(d->nbuckets, 16);
	assert_int_equal(d->nbounds, 15);
	for (int i = 0; i < 15; i++)
		assert_true(d->bounds[i] == bounds[i]);
	return d;
}

/*
 * Each bucket of `d` holds exactly the calls of `t` (ntimed sets) that fall
 * in it, the count is theirs, and the sum lies within what the test timed.
 */
static void expect_durations(const struct rec_point *d, const struct timed_calls *t, int ntimed)
{
	long long want[16] = { 0 }, count = 0;
	int64_t lo = 0, hi = 0;

	for (int i = 0; i < ntimed; i++) {
		want[timed_bucket(&t[i])] += t[i].n;
		count += t[i].n;
		lo += t[i].n * t[i].lo_ns;
		hi += t[i].n * t[i].hi_ns;
	}
	for (int b = 0; b < 16; b++)
		if (d->buckets[b] != want[b])
			fail_msg("%s %s: bucket %d holds %lld calls, expected %lld", d->metric, d->attrs,
				 b, d->buckets[b], want[b]);
	if (d->value != count)
		fail_msg("%s %s: count %lld, expected %lld", d->metric, d->attrs, d->value, count);
	/* a microsecond of slack either way for the double's rounding */
	if (d->sum * 1e9 < (double)lo - 1000 || d->sum * 1e9 > (double)hi + 1000)
		fail_msg("%s %s: sum %s s, expected %.9f..%.9f", d->metric, d->attrs, d->sum_text,
			 lo / 1e9, hi / 1e9);
}

/*
 * <metric>.duration: calls of known durations (returning at once, held
 * ~35 ms, held ~300 ms) land in exactly their buckets, the sum within what
 * the test timed; a released call (thread exit) is not in it. Then the
 * official JS SDK's Histogram, recorded with values in the same buckets and
 * of the same sum, matches ours field for field.
 */
static void test_duration_histogram(void **state)
{
	struct timed_calls t[3];
	const struct rec_request *q;
	const struct rec_point *d;
	char cmd[2048], url[128], values[512];
	int sdk_seq, our_seq, rc;

	(void)state;
	start_run(endpoint_of(rx.port), NULL, NULL);
	t[0] = timed_burst(worker, "alpha", 3);
	t[1] = timed_park(worker, "alpha", 2, 35);
	t[2] = timed_park(worker, "alpha", 1, 300);
	worker_send(worker, "exitthread alpha");
	worker_expect(worker, "E");
	worker_send(worker, "release");
	worker_expect(worker, "X");
	q = export_after(realtime_ns());
	expect_handled(q, "chain.name=alpha", 7);
	d = duration_point(q, "chain.name=alpha");
	expect_durations(d, t, 3);
	assert_int_equal(d->buckets[1], 3);
	assert_int_equal(d->buckets[4], 2);
	assert_int_equal(d->buckets[8], 1);

	/*
	 * The SDK, given one value per call: dyadic ones inside each bucket
	 * (their sums are exact), the last one what makes the sum ours, as
	 * the SDK adds them up in order.
	 */
	{
		double partial = 0, last;
		size_t used = 0;

		for (int i = 0; i < 2; i++)
			for (int k = 0; k < t[i].n; k++) {
				double v = i == 0 ? 0.001953125 : 0.03125; /* 2^-9, 2^-5 */

				partial += v;
				used += (size_t)snprintf(values + used, sizeof(values) - used, "%s%.17g",
							 used ? "," : "", v);
			}
		last = d->sum - partial;
		assert_true(partial + last == d->sum);
		assert_int_equal(timed_bucket_of((int64_t)(last * 1e9)), 8);
		snprintf(values + used, sizeof(values) - used, ",%.17g", last);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/metrics", rx.port);
	snprintf(cmd, sizeof(cmd), "node tests/receiver/sdk_reference.js --endpoint %s --duration alpha=%s",
		 url, values);
	assert_int_equal(system(cmd), 0);
	/* the SDK's first request (of its two), after ours; `q` goes with the next wait */
	our_seq = q->seq;
	for (sdk_seq = our_seq + 1;; sdk_seq++) {
		const struct rec_request *r;

		receiver_wait(&rx, sdk_seq);
		r = receiver_request(&rx, sdk_seq);
		if (rec_resource(r, "service.name") &&
		    !strcmp(rec_resource(r, "service.name"), "inflight-sdk-reference"))
			break;
	}
	snprintf(cmd, sizeof(cmd),
		 "node tests/receiver/compare.js %s/requests.jsonl --ours %d --sdk %d --metric %s",
		 rx.dir, our_seq, sdk_seq, DURATION);
	rc = system(cmd);
	if (rc)
		fail_msg("compare.js: the durations differ from the official SDK's Histogram (see above)");
	assert_true(WIFEXITED(inflight_stop(&run, SIGTERM)));
}

/* Two timed calls: handled all the same. */
static const struct rec_request *drive_no_duration(void)
{
	const struct rec_request *q;

	timed_park(worker, "alpha", 2, 1);
	q = export_after(realtime_ns());
	expect_handled(q, "chain.name=alpha", 2);
	return q;
}

/* --no-duration, or INFLIGHT_DURATION=false: no histogram (the handled calls stay). */
static void test_no_duration(void **state)
{
	(void)state;
	/* the gauge, its handled calls and oldest age */
	expect_switched_off("--no-duration", "INFLIGHT_DURATION=false", DURATION, 3, drive_no_duration);
}

/*
 * <metric>.oldest_age: calls parked at a known moment (between the test's
 * send and the worker's answer) read, in the first export taken a second
 * or more later, the time from their entry to that reading: at least 1.0 s
 * and no more than the reading's time less the send, plus the time a
 * reading takes. A chain with nothing in flight reads 0; a second, newer
 * call does not make the chain younger.
 */
static void test_oldest_age(void **state)
{
	const struct rec_request *q;
	uint64_t sent, parked, waited;

	(void)state;
	start_run(endpoint_of(rx.port), NULL, NULL);
	worker_send(worker, "park idle 1");
	worker_expect(worker, "E");
	worker_send(worker, "release");
	worker_expect(worker, "R");
	park_alpha_a_second(worker, &sent, &parked);
	worker_send(worker, "park alpha 1"); /* a younger one beside it */
	worker_expect(worker, "E");
	waited = realtime_ns();
	q = export_after(waited);
	expect_point(q, "chain.name=alpha", 2);
	expect_oldest_age("export", oldest_of(q, "chain.name=alpha"), q->points[0].time, sent, parked,
			  0, NULL);
	assert_true(oldest_of(q, "chain.name=idle") == 0);

	worker_send(worker, "release");
	worker_expect(worker, "RR");
	q = export_after(realtime_ns());
	expect_point(q, "chain.name=alpha", 0);
	assert_true(oldest_of(q, "chain.name=alpha") == 0);
	assert_true(WIFEXITED(inflight_stop(&run, SIGTERM)));
}

/* Two calls parked over an export, then released. */
static const struct rec_request *drive_no_oldest_age(void)
{
	const struct rec_request *q;

	worker_send(worker, "park alpha 2");
	worker_expect(worker, "EE");
	q = export_after(realtime_ns());
	expect_point(q, "chain.name=alpha", 2);
	expect_handled(q, "chain.name=alpha", 0);
	worker_send(worker, "release");
	worker_expect(worker, "RR");
	return q;
}

/* --no-oldest-age, or INFLIGHT_OLDEST_AGE=false: no age, the rest as ever. */
static void test_no_oldest_age(void **state)
{
	(void)state;
	/* the gauge, its handled calls and durations */
	expect_switched_off("--no-oldest-age", "INFLIGHT_OLDEST_AGE=false", OLDEST, 3,
			    drive_no_oldest_age);
}

/* Bad configuration: exit 2, naming the variable or flag. */
static void test_config_errors(void **state)
{
	char *grpc[] = { "OTEL_EXPORTER_OTLP_PROTOCOL=grpc", NULL };
	char *interval[] = { "OTEL_METRIC_EXPORT_INTERVAL=often", NULL };
	char *bad_flag[] = { "--compression", "zip", NULL };
	char *handled[] = { "INFLIGHT_HANDLED=no", NULL };
	char *duration[] = { "INFLIGHT_DURATION=maybe", NULL };
	char *oldest[] = { "INFLIGHT_OLDEST_AGE=maybe", NULL };
	char *args[16];
	struct inflight_proc p;
	int status;

	(void)state;
	args[0] = "run";
	args[1] = "--binary";
	args[2] = (char *)worker_path("native_worker");
	args[3] = "--func";
	args[4] = "worker_handle";
	args[5] = NULL;

	inflight_start(&p, args, grpc);
	status = inflight_stop(&p, 0);
	assert_int_equal(WEXITSTATUS(status), 2);
	assert_non_null(strstr(p.err, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"));

	inflight_start(&p, args, interval);
	status = inflight_stop(&p, 0);
	assert_int_equal(WEXITSTATUS(status), 2);
	assert_non_null(strstr(p.err, "OTEL_METRIC_EXPORT_INTERVAL=often: expected milliseconds"));

	inflight_start(&p, args, handled);
	status = inflight_stop(&p, 0);
	assert_int_equal(WEXITSTATUS(status), 2);
	assert_non_null(strstr(p.err, "INFLIGHT_HANDLED=no: expected true or false"));

	inflight_start(&p, args, duration);
	status = inflight_stop(&p, 0);
	assert_int_equal(WEXITSTATUS(status), 2);
	assert_non_null(strstr(p.err, "INFLIGHT_DURATION=maybe: expected true or false"));
	inflight_start(&p, args, oldest);
	status = inflight_stop(&p, 0);
	assert_int_equal(WEXITSTATUS(status), 2);
	assert_non_null(strstr(p.err, "INFLIGHT_OLDEST_AGE=maybe: expected true or false"));

	args[5] = bad_flag[0];
	args[6] = bad_flag[1];
	args[7] = NULL;
	inflight_start(&p, args, NULL);
	status = inflight_stop(&p, 0);
	assert_int_equal(WEXITSTATUS(status), 2);
	assert_non_null(strstr(p.err, "--compression 'zip': expected gzip or none"));
}

int main(void)
{
#define T(t) cmocka_unit_test_teardown(t, teardown)
/* the tests whose receiver listens on a port of its choosing from the start */
#define R(t) cmocka_unit_test_setup_teardown(t, start_receiver, teardown)
	const struct CMUnitTest tests[] = {
		R(test_protobuf_export),
		R(test_json_gzip_headers),
		R(test_sdk_parity),
		T(test_receiver_down_then_up),
		R(test_503_retry_after),
		R(test_429_backoff),
		R(test_400_not_retried),
		R(test_slow_receiver),
		R(test_partial_success),
		R(test_sigterm_final_export),
		R(test_overflow_series),
		R(test_no_points_not_sent),
		R(test_handled_calls),
		R(test_no_handled),
		R(test_duration_histogram),
		R(test_no_duration),
		R(test_oldest_age),
		R(test_no_oldest_age),
		T(test_config_errors),
		T(test_mutual_tls),
		R(test_health_endpoint),
		T(test_tls_untrusted),
	};
	static const CMUnitTestFunction bpf_free[] = { test_config_errors, NULL };

	apply_test_filter();
	return bpf_run_group_tests_name("inflight run: OTLP export against a real receiver",
					tests, bpf_free, NULL, NULL);
}
