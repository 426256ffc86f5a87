// SPDX-License-Identifier: MIT
/*
 * `inflight run --prometheus-address` scraped by a real Prometheus
 * (Debian's): PromQL over its HTTP API sees the exact number of calls
 * parked in a worker, then 0 once they return; the names are the ones the
 * OpenTelemetry-to-Prometheus rules give; with OTLP on as well, both carry
 * the same values.
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
#include "support/test_filter.h"
#include "support/bpf_env.h"
#include "support/inflight_proc.h"
#include "support/prometheus.h"
#include "support/receiver.h"
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
	worker_send(w, "release");
	worker_expect(w, "RRRR");
	prometheus_wait_vector(&prom, "conserver_vcons_inflight", "chain_name",
			       "alpha=0,caf\xc3\xa9=0");
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

/* Bad addresses: exit 2 naming the flag; nothing attached. */
static void test_prometheus_address_errors(void **state)
{
	char *bad[] = { "run", "--binary", (char *)worker_path("native_worker"), "--func",
			"worker_handle", "--prometheus-address", "localhost", NULL };
	char *same[] = { "run", "--binary", (char *)worker_path("native_worker"), "--func",
			 "worker_handle", "--prometheus-address", "127.0.0.1:19999",
			 "--health-address", "127.0.0.1:19999", NULL };
	char *env_bad[] = { "INFLIGHT_PROMETHEUS_ADDRESS=127.0.0.1:99999", NULL };
	char *from_env[] = { "run", "--binary", (char *)worker_path("native_worker"), "--func",
			     "worker_handle", NULL };
	struct inflight_proc p;

	(void)state;
	inflight_start(&p, bad, NULL);
	assert_int_equal(WEXITSTATUS(inflight_stop(&p, 0)), 2);
	assert_non_null(strstr(p.err, "--prometheus-address localhost: expected HOST:PORT"));
	inflight_start(&p, same, NULL);
	assert_int_equal(WEXITSTATUS(inflight_stop(&p, 0)), 2);
	assert_non_null(strstr(p.err, "the health endpoint listens there already"));
	inflight_start(&p, from_env, env_bad);
	assert_int_equal(WEXITSTATUS(inflight_stop(&p, 0)), 2);
	assert_non_null(strstr(p.err, "127.0.0.1:99999: expected an IPv4 HOST:PORT"));
	assert_null(strstr(p.err, "attached"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_prometheus_scrapes_parked_calls, teardown),
		cmocka_unit_test_teardown(test_prometheus_with_otlp, teardown),
		cmocka_unit_test_teardown(test_prometheus_address_errors, teardown),
	};
	static const CMUnitTestFunction bpf_free[] = { test_prometheus_address_errors, NULL };

	apply_test_filter();
	return bpf_run_group_tests_name("prometheus: scraped by a real Prometheus",
					tests, bpf_free, NULL, NULL);
}
