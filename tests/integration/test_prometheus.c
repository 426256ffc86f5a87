// SPDX-License-Identifier: MIT
/*
 * `inflight run --prometheus-address` scraped by a real Prometheus
 * (Debian's): PromQL over its HTTP API sees the exact number of calls
 * parked in a worker, then 0 once they return; the names are the ones the
 * OpenTelemetry-to-Prometheus rules give; with OTLP on as well, both carry
 * the same values. Served beside the health endpoint on one port, /metrics
 * stays answered while idle clients hold connections and while a scraper
 * stops reading a reply larger than the socket buffers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "support/test_filter.h"
#include "support/bpf_env.h"
#include "support/inflight_proc.h"
#include "support/prometheus.h"
#include "support/receiver.h"
#include "support/timed_calls.h"
#include "support/worker_proc.h"

static struct prometheus prom;
static struct receiver rx;
static struct inflight_proc run;

static int teardown(void **state)
{
	(void)state;
	if (run.pid)
		inflight_stop(&run, SIGKILL);
	run.pid = 0;
	worker_stop_all();
	prometheus_stop(&prom);
	receiver_stop(&rx);
	return 0;
}

/* inflight on native_worker, serving /metrics at `addr`, with extra env. */
static void start_run(const char *addr, char *const env[])
{
	char *args[] = { "run", "--no-pin", "--binary", (char *)worker_path("native_worker"),
			 "--func", "worker_handle", "--chain", "+0(%di):string",
			 "--prometheus-address", (char *)addr, "--interval", "100ms", NULL };

	inflight_start(&run, args, env);
	inflight_wait_stderr(&run, "serving Prometheus metrics");
}

/* Prometheus alone: the gauge's name, type, labels and exact values, then 0. */
static void test_prometheus_scrapes_parked_calls(void **state)
{
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	char *env[] = { "OTEL_SERVICE_NAME=conserver", NULL };
	static char meta[65536];
	char addr[32];
	const char *targets[] = { addr, NULL };
	struct worker_proc *w;

	(void)state;
	if (!prometheus_available())
		skip();
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", free_port());
	w = worker_start(wargv);
	start_run(addr, env);
	prometheus_start(&prom, targets);
	worker_send(w, "park alpha 3");
	worker_send(w, "park caf\\xc3\\xa9 1");
	worker_expect(w, "EEEE");
	prometheus_wait_vector(&prom, "conserver_vcons_inflight", "chain_name",
			       "alpha=3,caf\xc3\xa9=1");
	prometheus_wait_vector(&prom, "sum(conserver_vcons_inflight)", "chain_name", "=4");
	/* the resource as target_info; the scope on every series */
	prometheus_wait_vector(&prom, "target_info", "service_name", "conserver=1");
	prometheus_wait_vector(&prom, "count(conserver_vcons_inflight{otel_scope_name=\"inflight\"})",
			       "", "=2");
	/* negotiated OpenMetrics: its metadata reached Prometheus as a gauge */
	prometheus_get(&prom, "/api/v1/metadata?metric=conserver_vcons_inflight", meta, sizeof(meta));
	if (!strstr(meta, "\"type\":\"gauge\""))
		fail_msg("metadata of conserver_vcons_inflight: %s", meta);
	/* each chain's oldest call: an age in seconds, above 0 while parked */
	prometheus_wait_vector(&prom, "count(conserver_vcons_inflight_oldest_age_seconds > 0)", "",
			       "=2");
	prometheus_get(&prom, "/api/v1/metadata?metric=conserver_vcons_inflight_oldest_age_seconds",
		       meta, sizeof(meta));
	if (!strstr(meta, "\"type\":\"gauge\"") || !strstr(meta, "\"unit\":\"seconds\""))
		fail_msg("metadata of conserver_vcons_inflight_oldest_age_seconds: %s", meta);
	worker_send(w, "release");
	worker_expect(w, "RRRR");
	prometheus_wait_vector(&prom, "conserver_vcons_inflight", "chain_name",
			       "alpha=0,caf\xc3\xa9=0");
	prometheus_wait_vector(&prom, "conserver_vcons_inflight_oldest_age_seconds", "chain_name",
			       "alpha=0,caf\xc3\xa9=0");
	/* the calls that ended: a counter, the same labels */
	prometheus_wait_vector(&prom, "conserver_vcons_inflight_handled_total", "chain_name",
			       "alpha=3,caf\xc3\xa9=1");
	prometheus_get(&prom, "/api/v1/metadata?metric=conserver_vcons_inflight_handled", meta,
		       sizeof(meta));
	if (!strstr(meta, "\"type\":\"counter\""))
		fail_msg("metadata of conserver_vcons_inflight_handled: %s", meta);
	/* console export off when Prometheus alone is asked for */
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
	run.pid = 0;
	assert_null(strstr(run.err, "error"));
}

/* The first accepted OTLP request with a point read after `after_ns`. */
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

/*
 * With OTLP too: the same values both ways, and a self-metric (a monotonic
 * Sum) arrives as a counter named with _total.
 */
static void test_prometheus_with_otlp(void **state)
{
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	char endpoint[96], addr[32];
	char *env[] = { endpoint, NULL };
	const char *targets[] = { addr, NULL };
	const struct rec_request *q;
	const struct rec_point *pt;
	struct timespec ts;
	struct worker_proc *w;
	uint64_t t;

	(void)state;
	if (!prometheus_available())
		skip();
	receiver_start(&rx, 0);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", rx.port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", free_port());
	w = worker_start(wargv);
	start_run(addr, env);
	prometheus_start(&prom, targets);
	/* a thread that exits inside the handler: released by the observer (inflight.calls.released) */
	worker_send(w, "exitthread gone");
	worker_expect(w, "E");
	worker_send(w, "release");
	worker_expect(w, "X");
	worker_send(w, "park beta 2");
	worker_expect(w, "EE");
	clock_gettime(CLOCK_REALTIME, &ts);
	t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	q = export_after(t);
	pt = rec_point(q, "chain.name=beta");
	assert_non_null(pt);
	assert_int_equal(pt->value, 2);
	prometheus_wait_vector(&prom, "conserver_vcons_inflight", "chain_name", "beta=2,gone=0");
	prometheus_wait_vector(&prom, "inflight_calls_released_total", "reason", "thread_exit=1");
	worker_send(w, "release");
	worker_expect(w, "RR");
	prometheus_wait_vector(&prom, "conserver_vcons_inflight", "chain_name", "beta=0,gone=0");
}

/* A kubelet's or scraper's patience, with room for a loaded machine. */
#define PROBE_TIMEOUT_MS 5000
#define IDLE 50

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends GET `path` (Accept: `accept` if not NULL) once `fd` is connected. */
static void send_get(int fd, const char *path, const char *accept)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	char req[512];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s\r\n", path,
			 accept ? "Accept: " : "", accept ? accept : "", accept ? "\r\n" : "");

	assert_int_equal(poll(&p, 1, PROBE_TIMEOUT_MS), 1);
	assert_int_equal(write(fd, req, (size_t)n), n);
}

struct reply {
	int status; /* 0: no (complete) answer in time */
	char ctype[128];
	long content_length;
	char *raw, *body; /* body: into raw, NUL-terminated */
	size_t len;       /* of body */
};

static void reply_free(struct reply *r)
{
	free(r->raw);
	*r = (struct reply){ 0 };
}

/* Reads the reply on `fd` until the server closes it, within PROBE_TIMEOUT_MS; closes `fd`. */
static void read_reply(int fd, struct reply *r)
{
	int64_t deadline = mono_ms() + PROBE_TIMEOUT_MS;
	size_t got = 0, cap = 65536;
	const char *v;

	*r = (struct reply){ .content_length = -1, .raw = malloc(cap) };
	assert_non_null(r->raw);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = deadline - mono_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			break;
		if (got + 1 == cap) {
			r->raw = realloc(r->raw, cap *= 2);
			assert_non_null(r->raw);
		}
		n = read(fd, r->raw + got, cap - 1 - got);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0) {
			/* EOF: the whole reply is in */
			r->raw[got] = '\0';
			r->body = strstr(r->raw, "\r\n\r\n");
			if (r->body && sscanf(r->raw, "HTTP/1.1 %d", &r->status) == 1) {
				r->body += 4;
				r->len = got - (size_t)(r->body - r->raw);
			} else {
				r->status = 0;
			}
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (!r->status)
		return;
	v = strstr(r->raw, "Content-Length: ");
	if (v && v < r->body)
		r->content_length = atol(v + 16);
	v = strstr(r->raw, "Content-Type: ");
	if (v && v < r->body)
		snprintf(r->ctype, sizeof(r->ctype), "%.*s", (int)strcspn(v + 14, "\r\n"), v + 14);
}

/* GET http://127.0.0.1:port/path: the status, the reply in `r` (to free). */
static int http_get(int port, const char *path, const char *accept, struct reply *r)
{
	int fd = connect_nb(port, 0);

	send_get(fd, path, accept);
	read_reply(fd, r);
	return r->status;
}

/* name{chain_name="chain",...} in a scrape as a double, or -1 if absent. */
static double sample_double(const struct reply *r, const char *name, const char *chain)
{
	char key[192];
	const char *l, *end;

	snprintf(key, sizeof(key), "\n%s{chain_name=\"%s\",", name, chain);
	l = r->body ? strstr(r->body, key) : NULL;
	if (!l)
		return -1;
	end = strchr(l + 1, '\n');
	assert_non_null(end);
	while (end > l && end[-1] != ' ')
		end--;
	return strtod(end, NULL);
}

/* name{chain_name="chain",...} in a scrape, or -1 if absent. */
static long sample_value(const struct reply *r, const char *name, const char *chain)
{
	return (long)sample_double(r, name, chain);
}

/* conserver_vcons_inflight{chain_name="chain",...} in a scrape, or -1 if absent. */
static long chain_value(const struct reply *r, const char *chain)
{
	return sample_value(r, "conserver_vcons_inflight", chain);
}

/* Scrapes until `chain` reads `want` (a collection every 100 ms). */
static void wait_chain(int port, const char *chain, long want)
{
	int64_t deadline = mono_ms() + 10000;
	struct reply r;
	long v;

	for (;;) {
		assert_int_equal(http_get(port, "/metrics", NULL, &r), 200);
		v = chain_value(&r, chain);
		reply_free(&r);
		if (v == want)
			return;
		if (mono_ms() > deadline)
			fail_msg("/metrics: %s reads %ld, expected %ld", chain, v, want);
		poll(NULL, 0, 50);
	}
}

/* Connections the server has closed (EOF waiting on our side). */
static int closed_by_server(const int *fds, int n)
{
	int closed = 0;

	for (int i = 0; i < n; i++) {
		struct pollfd p = { fds[i], POLLIN, 0 };
		char c;

		if (poll(&p, 1, 0) == 1 && read(fds[i], &c, 1) == 0)
			closed++;
	}
	return closed;
}

/* Both endpoints at `addr`: one port, with extra env; waits for the first collection. */
static void start_both(const char *addr, char *const env[])
{
	char *args[] = { "run", "--no-pin", "--binary", (char *)worker_path("native_worker"),
			 "--func", "worker_handle", "--chain", "+0(%di):string",
			 "--health-address", (char *)addr, "--prometheus-address", (char *)addr,
			 "--interval", "100ms", NULL };

	inflight_start(&run, args, env);
	/* said by the first collection: after the endpoints answer, and ready */
	inflight_wait_stderr(&run, "no calls seen yet");
}

/*
 * --health-address and --prometheus-address at one HOST:PORT: one
 * listener answers /healthz, /readyz and /metrics, the last with the exact
 * counts of the calls parked, in both formats, then 0.
 */
static void test_health_and_metrics_one_port(void **state)
{
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	char *env[] = { "OTEL_SERVICE_NAME=conserver", NULL };
	int port = free_port();
	struct worker_proc *w;
	struct reply r;
	char addr[32];

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	w = worker_start(wargv);
	start_both(addr, env);
	assert_int_equal(http_get(port, "/healthz", NULL, &r), 200);
	assert_string_equal(r.body, "ok\n");
	reply_free(&r);
	assert_int_equal(http_get(port, "/readyz", NULL, &r), 200);
	assert_string_equal(r.body, "ready\n");
	reply_free(&r);

	worker_send(w, "park alpha 3");
	worker_send(w, "park beta 1");
	worker_expect(w, "EEEE");
	wait_chain(port, "alpha", 3);
	wait_chain(port, "beta", 1);
	assert_int_equal(http_get(port, "/metrics", NULL, &r), 200);
	assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	assert_int_equal(chain_value(&r, "alpha"), 3);
	assert_int_equal(chain_value(&r, "beta"), 1);
	assert_int_equal(r.content_length, (long)r.len);
	reply_free(&r);
	/* the scraper's format negotiation works on the shared port too */
	assert_int_equal(http_get(port, "/metrics?x=1",
				  "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;q=0.2",
				  &r),
			 200);
	assert_non_null(strstr(r.ctype, "application/openmetrics-text"));
	assert_int_equal(chain_value(&r, "alpha"), 3);
	assert_true(r.len >= 6 && !strcmp(r.body + r.len - 6, "# EOF\n"));
	reply_free(&r);
	/* an unknown path: 404, naming the three */
	assert_int_equal(http_get(port, "/nothing", NULL, &r), 404);
	assert_string_equal(r.body, "GET /healthz, /readyz, /metrics\n");
	reply_free(&r);

	worker_send(w, "release");
	worker_expect(w, "RRRR");
	wait_chain(port, "alpha", 0);
	wait_chain(port, "beta", 0);
	/* the calls that ended, a counter with the same labels: exact once all returned */
	assert_int_equal(http_get(port, "/metrics", NULL, &r), 200);
	assert_int_equal(sample_value(&r, "conserver_vcons_inflight_handled_total", "alpha"), 3);
	assert_int_equal(sample_value(&r, "conserver_vcons_inflight_handled_total", "beta"), 1);
	assert_non_null(strstr(r.body, "\n# TYPE conserver_vcons_inflight_handled_total counter\n"));
	reply_free(&r);
	assert_int_equal(http_get(port, "/metrics", "application/openmetrics-text;version=1.0.0", &r),
			 200);
	assert_int_equal(sample_value(&r, "conserver_vcons_inflight_handled_total", "alpha"), 3);
	assert_non_null(strstr(r.body, "\n# TYPE conserver_vcons_inflight_handled counter\n"));
	reply_free(&r);
	assert_int_equal(http_get(port, "/healthz", NULL, &r), 200);
	reply_free(&r);
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
	run.pid = 0;
	assert_null(strstr(run.err, "error"));
}

#define OLDEST "conserver_vcons_inflight_oldest_age_seconds"

/*
 * /metrics carries each chain's oldest call's age, a gauge in seconds
 * (HELP, TYPE, and UNIT in OpenMetrics): a call parked at a known moment
 * reads 1.0 s in the first scrape that reaches it, no later than one
 * interval (100 ms) after the call was a second old, plus the slack of a
 * loaded 2-core machine (250 ms: a reading's duration, the ticker's
 * wake-up, our 10 ms polls); never more than the time since the send.
 * 0 once released; a chain never busy reads 0.
 */
static void test_oldest_age_scraped(void **state)
{
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	int port = free_port();
	struct worker_proc *w;
	struct reply r;
	char addr[32];
	int64_t sent, parked, before, after;
	double age;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	w = worker_start(wargv);
	start_both(addr, NULL);
	worker_send(w, "park idle 1");
	worker_expect(w, "E");
	worker_send(w, "release");
	worker_expect(w, "R");
	sent = mono_ms();
	worker_send(w, "park alpha 1");
	worker_expect(w, "E");
	parked = mono_ms();
	for (;;) {
		before = mono_ms();
		assert_int_equal(http_get(port, "/metrics", NULL, &r), 200);
		after = mono_ms();
		age = sample_double(&r, OLDEST, "alpha");
		if (age >= 1.0)
			break;
		reply_free(&r);
		if (before > parked + 10000)
			fail_msg("/metrics: alpha's oldest call reads %f s, 10 s after the park", age);
		poll(NULL, 0, 10);
	}
	printf("oldest_age %.6f s at a scrape %lld-%lld ms after the park (sent %lld ms before it)\n",
	       age, (long long)(before - parked), (long long)(after - parked),
	       (long long)(parked - sent));
	if (age > (double)(after - sent) / 1e3 + 0.001)
		fail_msg("alpha's oldest call: %f s, more than the %lld ms since it was sent", age,
			 (long long)(after - sent));
	if (before > parked + 1000 + 100 + 250)
		fail_msg("alpha's oldest call read 1 s only %lld ms after the park",
			 (long long)(before - parked));
	assert_true(sample_double(&r, OLDEST, "idle") == 0);
	assert_non_null(strstr(r.body, "\n# TYPE " OLDEST " gauge\n"));
	assert_non_null(strstr(r.body, "\n# HELP " OLDEST " Age of the oldest call counted by "
				       "conserver.vcons.inflight still in flight (0 when none is)\n"));
	reply_free(&r);
	assert_int_equal(http_get(port, "/metrics", "application/openmetrics-text;version=1.0.0", &r),
			 200);
	assert_true(sample_double(&r, OLDEST, "alpha") >= 1.0);
	assert_non_null(strstr(r.body, "\n# TYPE " OLDEST " gauge\n# UNIT " OLDEST " seconds\n"));
	reply_free(&r);

	worker_send(w, "release");
	worker_expect(w, "R");
	wait_chain(port, "alpha", 0);
	assert_int_equal(http_get(port, "/metrics", NULL, &r), 200);
	assert_true(sample_double(&r, OLDEST, "alpha") == 0);
	reply_free(&r);
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
	run.pid = 0;
}

/*
 * 50 clients connect and send nothing: /metrics is still answered at once,
 * with the exact count, and the oldest idle ones made room.
 */
static void test_metrics_with_idle_connections(void **state)
{
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	char *env[] = { "OTEL_SERVICE_NAME=conserver", NULL };
	int idle[IDLE], port = free_port();
	struct worker_proc *w;
	struct reply r;
	char addr[32];

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	w = worker_start(wargv);
	start_run(addr, env);
	worker_send(w, "park alpha 2");
	worker_expect(w, "EE");
	wait_chain(port, "alpha", 2);

	for (int i = 0; i < IDLE; i++)
		idle[i] = connect_nb(port, 0);
	/* one scrape, within the probe timeout */
	assert_int_equal(http_get(port, "/metrics", NULL, &r), 200);
	assert_int_equal(chain_value(&r, "alpha"), 2);
	reply_free(&r);
	/* at most 16 held (HTTP_MAX_CONNECTIONS) */
	assert_true(closed_by_server(idle, IDLE) >= IDLE - 16);
	for (int i = 0; i < IDLE; i++)
		close(idle[i]);
	worker_send(w, "release");
	worker_expect(w, "RR");
	wait_chain(port, "alpha", 0);
}

/* The fd number, in `pid`, of its socket listening on 127.0.0.1:port; -1 if none. */
static int listener_fd(pid_t pid, int port)
{
	char line[512], path[320], want[64], link[64], local[64];
	unsigned long inode = 0;
	struct dirent *e;
	int fd = -1;
	FILE *f = fopen("/proc/net/tcp", "r");
	DIR *d;

	assert_non_null(f);
	snprintf(want, sizeof(want), "0100007F:%04X", port);
	while (fgets(line, sizeof(line), f)) {
		unsigned st;
		unsigned long ino;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, "%*s %63s %*s %x %*s %*s %*s %*s %*s %lu", local, &st, &ino) == 3 &&
		    st == 0x0A && !strcmp(local, want))
			inode = ino;
	}
	fclose(f);
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while (inode && (e = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!strcmp(link, want))
			fd = atoi(e->d_name);
	}
	closedir(d);
	return fd;
}

/*
 * Shrinks the send buffer of the collector's listening socket (its accepted
 * connections inherit it), through a copy of its fd (pidfd_getfd, as root):
 * a reply then outgrows the buffers with hundreds of series, where the
 * default (autotuned up to tcp_wmem's 4 MB) would need tens of thousands.
 * The size set.
 */
static int shrink_sndbuf(pid_t pid, int port)
{
	int lfd = listener_fd(pid, port), pidfd, fd, size = 4096;
	socklen_t len = sizeof(size);

	assert_true(lfd >= 0);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		fail_msg("pidfd_open: %s", strerror(errno));
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, lfd, 0);
	if (fd < 0)
		fail_msg("pidfd_getfd: %s", strerror(errno));
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len), 0);
	close(fd);
	close(pidfd);
	return size;
}

/*
 * A scraper that asks for /metrics and stops reading, its reply larger
 * than both socket buffers: /healthz and another scrape are answered while
 * it waits, and once it reads, it gets the whole reply.
 */
static void test_metrics_slow_reader_one_port(void **state)
{
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	char *env[] = { "OTEL_SERVICE_NAME=conserver", NULL };
	int port = free_port(), slow, sndbuf, rcvbuf;
	socklen_t len = sizeof(rcvbuf);
	struct worker_proc *w;
	struct reply r, full;
	struct pollfd p;
	char addr[32];

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	w = worker_start(wargv);
	start_both(addr, env);
	/* 800 chains, s0..s799, their calls returned: 800 series at 0 (the cap is 1024) */
	worker_send(w, "stress 1 800 800");
	worker_expect(w, "S");
	wait_chain(port, "s799", 0);
	worker_send(w, "park alpha 2");
	worker_expect(w, "EE");
	wait_chain(port, "alpha", 2);

	sndbuf = shrink_sndbuf(run.pid, port);
	slow = connect_nb(port, 4096);
	assert_int_equal(getsockopt(slow, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len), 0);
	send_get(slow, "/metrics", NULL);
	/* the reply has begun; the rest waits on us */
	p = (struct pollfd){ slow, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, PROBE_TIMEOUT_MS), 1);

	assert_int_equal(http_get(port, "/healthz", NULL, &r), 200);
	reply_free(&r);
	assert_int_equal(http_get(port, "/readyz", NULL, &r), 200);
	reply_free(&r);
	assert_int_equal(http_get(port, "/metrics", NULL, &full), 200);
	assert_int_equal(chain_value(&full, "alpha"), 2);
	/*
	 * more than twice what both buffers hold (their sizes count the
	 * kernel's overhead too): the server had to wait for the slow reader
	 */
	if (full.len <= 2 * (size_t)(sndbuf + rcvbuf))
		fail_msg("a body of %zu bytes fits the buffers (%d + %d)", full.len, sndbuf, rcvbuf);

	read_reply(slow, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.content_length, (long)r.len);
	assert_int_equal(chain_value(&r, "alpha"), 2);
	assert_int_equal(chain_value(&r, "s0"), 0);
	assert_true(r.len >= full.len / 2);
	reply_free(&r);
	reply_free(&full);
	worker_send(w, "release");
	worker_expect(w, "RR");
}

/* Bad addresses: exit 2 naming the flag; nothing attached. */
static void test_prometheus_address_errors(void **state)
{
	char *bad[] = { "run", "--binary", (char *)worker_path("native_worker"), "--func",
			"worker_handle", "--prometheus-address", "localhost", NULL };
	char any[32], loopback[32];
	/* one port, two addresses: two sockets that cannot both bind */
	char *same_port[] = { "run", "--binary", (char *)worker_path("native_worker"), "--func",
			      "worker_handle", "--health-address", any, "--prometheus-address",
			      loopback, NULL };
	char *env_bad[] = { "INFLIGHT_PROMETHEUS_ADDRESS=127.0.0.1:99999", NULL };
	char *from_env[] = { "run", "--binary", (char *)worker_path("native_worker"), "--func",
			     "worker_handle", NULL };
	struct inflight_proc p;
	int port;

	(void)state;
	inflight_start(&p, bad, NULL);
	assert_int_equal(WEXITSTATUS(inflight_stop(&p, 0)), 2);
	assert_non_null(strstr(p.err, "--prometheus-address localhost: expected HOST:PORT"));
	port = free_port();
	snprintf(any, sizeof(any), "0.0.0.0:%d", port);
	snprintf(loopback, sizeof(loopback), "127.0.0.1:%d", port);
	inflight_start(&p, same_port, NULL);
	assert_int_equal(WEXITSTATUS(inflight_stop(&p, 0)), 2);
	assert_non_null(strstr(p.err, "cannot listen: Address already in use (--health-address "
				      "listens on that port: give both the same HOST:PORT"));
	inflight_start(&p, from_env, env_bad);
	assert_int_equal(WEXITSTATUS(inflight_stop(&p, 0)), 2);
	assert_non_null(strstr(p.err, "127.0.0.1:99999: expected an IPv4 HOST:PORT"));
	assert_null(strstr(p.err, "attached"));
}

#define DURATION_FAMILY "conserver_vcons_inflight_duration_seconds"

/* The _sum of chain alpha's durations in a scrape, or -1 if absent. */
static double duration_sum(const struct reply *r)
{
	const char *l = r->body ? strstr(r->body, "\n" DURATION_FAMILY "_sum{chain_name=\"alpha\",") : NULL;

	return l ? strtod(strchr(l, '}') + 2, NULL) : -1;
}

/*
 * One scrape's histogram of chain alpha: its metadata, every cumulative
 * _bucket by le (as the format writes them), _count, and _sum within what
 * the test timed.
 */
static void expect_duration_scrape(const struct reply *r, bool om, const long want[16], int64_t lo,
				   int64_t hi)
{
	static const char *const le[16] = { "0", "0.005", "0.01", "0.025", "0.05", "0.075",
					    "0.1", "0.25", "0.5", "0.75", "1", "2.5",
					    "5", "7.5", "10", "+Inf" };
	long cumulative = 0;
	double sum = duration_sum(r);
	char name[128], line[256];

	assert_non_null(strstr(r->body, "\n# TYPE " DURATION_FAMILY " histogram\n"));
	if (om)
		assert_non_null(strstr(r->body, "\n# UNIT " DURATION_FAMILY " seconds\n"));
	for (int b = 0; b < 16; b++) {
		/* OpenMetrics writes whole bounds as floats: 0.0, 1.0 */
		bool whole = om && !strchr(le[b], '.') && b < 15;

		cumulative += want[b];
		snprintf(line, sizeof(line),
			 "\n" DURATION_FAMILY "_bucket{chain_name=\"alpha\",le=\"%s%s\",otel_scope_name=\"inflight\",otel_scope_version=\"%s\"} %ld\n",
			 le[b], whole ? ".0" : "", INFLIGHT_VERSION, cumulative);
		if (!strstr(r->body, line))
			fail_msg("scrape lacks%sin:\n%s", line, r->body);
	}
	snprintf(name, sizeof(name), DURATION_FAMILY "_count");
	assert_int_equal(sample_value(r, name, "alpha"), cumulative);
	if (sum * 1e9 < (double)lo - 1000 || sum * 1e9 > (double)hi + 1000)
		fail_msg("_sum %.9f s, expected %.9f..%.9f", sum, lo / 1e9, hi / 1e9);
}

/*
 * <metric>.duration as a Prometheus histogram: calls of known durations
 * (at once, held ~35 ms) in exactly their cumulative buckets, in both
 * formats; a real Prometheus takes it as a histogram.
 */
static void test_duration_histogram(void **state)
{
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	int port = free_port();
	const char *targets[2] = { NULL, NULL };
	static char meta[65536];
	struct timed_calls quick, held;
	long want[16] = { 0 };
	int64_t deadline = mono_ms() + 10000;
	struct worker_proc *w;
	struct reply r;
	char addr[32];

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	targets[0] = addr;
	w = worker_start(wargv);
	start_run(addr, NULL);
	quick = timed_burst(w, "alpha", 2);
	held = timed_park(w, "alpha", 1, 35);
	want[timed_bucket(&quick)] += 2;
	want[timed_bucket(&held)] += 1;
	assert_int_equal(want[1], 2);
	assert_int_equal(want[4], 1);
	/* collected every 100 ms: until the three calls are in */
	for (;;) {
		assert_int_equal(http_get(port, "/metrics", NULL, &r), 200);
		if (sample_value(&r, DURATION_FAMILY "_count", "alpha") == 3)
			break;
		reply_free(&r);
		if (mono_ms() > deadline)
			fail_msg("/metrics: no _count of 3 for alpha's durations");
		poll(NULL, 0, 50);
	}
	expect_duration_scrape(&r, false, want, 2 * quick.lo_ns + held.lo_ns,
			       2 * quick.hi_ns + held.hi_ns);
	reply_free(&r);
	assert_int_equal(http_get(port, "/metrics", "application/openmetrics-text;version=1.0.0", &r),
			 200);
	expect_duration_scrape(&r, true, want, 2 * quick.lo_ns + held.lo_ns,
			       2 * quick.hi_ns + held.hi_ns);
	reply_free(&r);

	if (!prometheus_available())
		return;
	prometheus_start(&prom, targets);
	prometheus_wait_vector(&prom, DURATION_FAMILY "_count", "chain_name", "alpha=3");
	prometheus_wait_vector(&prom, DURATION_FAMILY "_bucket{le=\"0.025\"}", "chain_name", "alpha=2");
	prometheus_wait_vector(&prom, DURATION_FAMILY "_bucket{le=\"0.05\"}", "chain_name", "alpha=3");
	prometheus_get(&prom, "/api/v1/metadata?metric=" DURATION_FAMILY, meta, sizeof(meta));
	if (!strstr(meta, "\"type\":\"histogram\""))
		fail_msg("metadata of " DURATION_FAMILY ": %s", meta);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_prometheus_scrapes_parked_calls, teardown),
		cmocka_unit_test_teardown(test_prometheus_with_otlp, teardown),
		cmocka_unit_test_teardown(test_health_and_metrics_one_port, teardown),
		cmocka_unit_test_teardown(test_oldest_age_scraped, teardown),
		cmocka_unit_test_teardown(test_metrics_with_idle_connections, teardown),
		cmocka_unit_test_teardown(test_metrics_slow_reader_one_port, teardown),
		cmocka_unit_test_teardown(test_prometheus_address_errors, teardown),
		cmocka_unit_test_teardown(test_duration_histogram, teardown),
	};
	static const CMUnitTestFunction bpf_free[] = { test_prometheus_address_errors, NULL };

	apply_test_filter();
	return bpf_run_group_tests_name("prometheus: scraped by a real Prometheus",
					tests, bpf_free, NULL, NULL);
}
