// SPDX-License-Identifier: MIT
/*
 * `inflight run --config FILE`: several targets in one collector, each
 * exported under its own metric in the same request, with exact values; a
 * file's mistakes named by line; a target that cannot start takes the
 * others down with it, leaving nothing attached or pinned.
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
#include <unistd.h>
#include <cmocka.h>
#include "observe/observer.h"
#include "probe/pin.h"
#include "support/bpf_env.h"
#include "support/inflight_proc.h"
#include "support/observe.h"
#include "support/receiver.h"
#include "support/test_filter.h"
#include "support/worker_proc.h"

static struct inflight_proc run;
static struct receiver rx;
static char conf[64];

static int teardown(void **state)
{
	(void)state;
	if (run.pid)
		inflight_stop(&run, SIGKILL);
	receiver_stop(&rx);
	worker_stop_all();
	if (conf[0])
		unlink(conf);
	return 0;
}

static void write_conf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void write_conf(const char *fmt, ...)
{
	va_list ap;
	FILE *f;
	int fd;

	snprintf(conf, sizeof(conf), "/tmp/inflight-conf-XXXXXX");
	fd = mkstemp(conf);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
}

static const struct rec_point *more_or_first(const struct rec_request *q, const char *metric,
					     const char *attrs)
{
	if (!strcmp(q->metric, metric))
		return rec_point(q, attrs);
	return rec_more_point(q, metric, attrs);
}

/* Two targets, two metrics, one request: each value exact. */
static void test_two_targets(void **state)
{
	char endpoint[96];
	char *env[] = { endpoint, "OTEL_METRIC_EXPORT_INTERVAL=200", NULL };
	char *args[] = { "run", "--no-pin", "--config", conf, NULL };
	char *a_argv[] = { (char *)worker_path("native_worker"), NULL };
	char *b_argv[] = { (char *)worker_path("native_worker_shared"), NULL };
	struct worker_proc *a, *b;

	(void)state;
	write_conf("# two kinds of worker on one node\n"
		   "[target jobs]\n"
		   "binary = %s\n"
		   "func = worker_handle\n"
		   "chain = %s\n"
		   "metric-name = jobs.inflight\n"
		   "\n"
		   "[target tasks]\n"
		   "binary = %s\n"
		   "func = worker_handle\n"
		   "chain-name = every-task\n"
		   "metric-name = tasks.inflight\n"
		   "metric-unit = {task}\n",
		   worker_path("native_worker"), WORKER_CHAIN_SPEC, worker_path("libworker_handler.so"));
	receiver_start(&rx, 0);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d",
		 rx.port);
	inflight_start(&run, args, env);
	inflight_wait_stderr(&run, "target tasks: attached");
	inflight_wait_stderr(&run, "exporting the targets' metrics every 200 ms");
	a = worker_start(a_argv);
	b = worker_start(b_argv);
	worker_send(a, "park alpha 2");
	worker_send(b, "park whatever 3");
	worker_expect(a, "EE");
	worker_expect(b, "EEE");
	for (int seq = 1;; seq++) {
		const struct rec_request *q;
		const struct rec_point *pa, *pb;

		receiver_wait(&rx, seq);
		q = receiver_request(&rx, seq);
		pa = more_or_first(q, "jobs.inflight", "chain.name=alpha");
		pb = more_or_first(q, "tasks.inflight", "chain.name=every-task");
		if (!pa || !pb || pa->value != 2 || pb->value != 3)
			continue;
		/* each target's gauge, its handled calls, durations and oldest age, under its own name */
		assert_int_equal(q->nmetrics, 8);
		assert_non_null(rec_more_point(q, "jobs.inflight.oldest_age", "chain.name=alpha"));
		assert_non_null(rec_more_point(q, "tasks.inflight.oldest_age", "chain.name=every-task"));
		pa = rec_more_point(q, "jobs.inflight.handled", "chain.name=alpha");
		pb = rec_more_point(q, "tasks.inflight.handled", "chain.name=every-task");
		assert_non_null(pa);
		assert_non_null(pb);
		assert_int_equal(pa->value, 0);
		assert_int_equal(pb->value, 0);
		break;
	}
	worker_send(a, "release");
	worker_send(b, "release");
	worker_expect(a, "RR");
	worker_expect(b, "RRR");
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
}

/*
 * The second target cannot start: exit 2 naming its section, and the first
 * target's probes and pinned state are gone too.
 */
static void test_all_or_nothing(void **state)
{
	char *args[] = { "run", "--config", conf, NULL };
	struct observer_config first = test_config(worker_path("native_worker"), RETURN_AUTO);
	char pin_dir[512];
	int status;

	(void)state;
	write_conf("[target good]\n"
		   "binary = %s\n"
		   "func = worker_handle\n"
		   "chain = %s\n"
		   "metric-name = good.inflight\n"
		   "[target bad]\n"
		   "binary = %s\n"
		   "func = no_such_function\n"
		   "chain-name = x\n",
		   worker_path("native_worker"), WORKER_CHAIN_SPEC, worker_path("native_worker"));
	observer_default_pin_dir(&first, pin_dir, sizeof(pin_dir));
	pin_remove(pin_dir);
	inflight_start(&run, args, NULL);
	status = inflight_stop(&run, 0);
	assert_int_equal(WEXITSTATUS(status), 2);
	if (!strstr(run.err, ":6 [target bad]: --func no_such_function: no such function"))
		fail_msg("stderr:\n%s", run.err);
	/* the good target was attached and pinned first: undone */
	assert_false(pin_exists(pin_dir));
	assert_int_not_equal(access(pin_dir, F_OK), 0);
}

/* Mistakes in the file or beside it: exit 2, the line named. */
static void test_bad_config(void **state)
{
	static const struct {
		const char *text;
		const char *extra; /* one more argument, or NULL */
		const char *says;
	} cases[] = {
		{ "[target a]\nfunc = f\nfunk = g\n", NULL, ":3: unknown key 'funk'" },
		{ "[target a]\nbinary = /bin/true\nfunc = f\nmax-chains = lots\n", NULL,
		  ":4: max-chains=lots: expected a number from 1 to 1048576" },
		{ "[target a]\nbinary = /bin/true\nfunc = f\nchain = +0(%di\n", NULL,
		  ":1 [target a]: --chain '+0(%di': expected ')'" },
		{ "[target a]\nfunc = f\n", NULL,
		  ":1 [target a]: no target: give --binary PATH, --pid PID" },
		{ "[target a]\nbinary = /bin/true\nfunc = f\n[target b]\nbinary = /bin/true\nfunc = g\n",
		  NULL, ":4 [target b]: target 'a' exports conserver.vcons.inflight too" },
		{ "[target a]\nbinary = /bin/true\nfunc = f\n[target b]\nbinary = /bin/true\nfunc = g\n"
		  "metric-name = conserver.vcons.inflight.handled\n",
		  NULL, ":4 [target b]: target 'b' exports conserver.vcons.inflight.handled, the name of the handled calls of target 'a'" },
		{ "[target a]\nbinary = /bin/true\nfunc = f\n[target b]\nbinary = /bin/true\nfunc = g\n"
		  "metric-name = conserver.vcons.inflight.duration\n",
		  NULL, ":4 [target b]: target 'b' exports conserver.vcons.inflight.duration, the name of the duration metric of target 'a'" },
		{ "[target a]\nbinary = /bin/true\nfunc = f\n[target b]\nbinary = /bin/true\nfunc = g\n"
		  "metric-name = conserver.vcons.inflight.oldest_age\n",
		  NULL, ":4 [target b]: target 'b' exports conserver.vcons.inflight.oldest_age, the name of the oldest_age metric of target 'a'" },
		{ "[target a]\nbinary = /bin/true\nfunc = f\npin-dir = relative\n", NULL,
		  ":4: pin-dir 'relative': expected an absolute path" },
		{ "[target a]\nbinary = /bin/true\nfunc = f\n", "--func=g",
		  "--func is given too: with a config file the targets come from it alone" },
		{ "[target a]\nbinary = /bin/true\nfunc = f\n", "--pin-dir=/sys/fs/bpf/x",
		  "--pin-dir (or INFLIGHT_PIN_DIR) names one target's directory" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *args[] = { "run", "--config", conf, (char *)cases[i].extra, NULL };
		int status;

		write_conf("%s", cases[i].text);
		inflight_start(&run, args, NULL);
		status = inflight_stop(&run, 0);
		if (!strstr(run.err, cases[i].says))
			fail_msg("case %zu: stderr lacks '%s':\n%s", i, cases[i].says, run.err);
		assert_int_equal(WEXITSTATUS(status), 2);
		unlink(conf);
	}
	{
		char *args[] = { "run", "--config", "/nonexistent/inflight.conf", NULL };
		int status;

		inflight_start(&run, args, NULL);
		status = inflight_stop(&run, 0);
		assert_non_null(strstr(run.err, "--config /nonexistent/inflight.conf: No such file or directory"));
		assert_int_equal(WEXITSTATUS(status), 2);
	}
}

int main(void)
{
#define T(t) cmocka_unit_test_teardown(t, teardown)
	const struct CMUnitTest tests[] = {
		T(test_two_targets),
		T(test_all_or_nothing),
		T(test_bad_config),
	};
	static const CMUnitTestFunction bpf_free[] = { test_bad_config, NULL };

	apply_test_filter();
	return bpf_run_group_tests_name("config: several targets in one collector",
					tests, bpf_free, NULL, NULL);
}
