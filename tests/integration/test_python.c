// SPDX-License-Identifier: MIT
/*
 * The CPython target against a stand-in for the conserver
 * (tests/python/conserver_standin.py) on every CPython this machine has
 * (pyenv's 3.10 to 3.13, Debian's 3.11) and on sid's 3.13, 3.14 and 3.15,
 * run from a Debian sid root (tools/sid-root.sh) in their own mount
 * namespace, the way a container's are, read through /proc/PID/root:
 * worker processes BLPOP vCon ids from a real Redis and run _handle_vcon.
 * Calls parked inside it are counted exactly per chain, serial and through
 * a thread pool, forked and spawned workers, the dead-letter path, an early
 * return, a non-ASCII chain, workers killed; and frames read while calls
 * churn never give a wrong name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
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
#include "support/inflight_proc.h"
#include "support/proc_info.h"
#include "support/pythons.h"
#include "support/observe.h"
#include "support/receiver.h"
#include "support/redis.h"
#include "support/standin.h"
#include "support/test_filter.h"
#include "support/worker_proc.h"

#define CAFE "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"
#define CHAINS                                                                          \
	"[{\"name\":\"transcribe\",\"ingress\":\"in_t\",\"links\":[\"park\"]},"         \
	"{\"name\":\"" CAFE "\",\"ingress\":\"in_c\",\"links\":[\"park\"]},"            \
	"{\"name\":\"risky\",\"ingress\":\"in_r\",\"links\":[\"park\",\"raise\"]},"     \
	"{\"name\":\"churn-a\",\"ingress\":\"in_a\",\"links\":[\"noop\"]},"             \
	"{\"name\":\"churn-b\",\"ingress\":\"in_b\",\"links\":[\"noop\"]}]"

static struct redis redis;
static struct observer *obs;
static struct receiver recv;
static struct inflight_proc run;
static pid_t worker_pids[8];

static int teardown(void **state)
{
	(void)state;
	if (obs)
		observer_stop(obs);
	obs = NULL;
	if (run.pid)
		inflight_stop(&run, SIGKILL);
	receiver_stop(&recv);
	worker_stop_all();
	/* the workers die with the stand-in (PR_SET_PDEATHSIG): wait for it */
	for (int i = 0; i < 8; i++) {
		while (worker_pids[i] && proc_alive(worker_pids[i]))
			sched_yield();
		worker_pids[i] = 0;
	}
	redis_stop(&redis);
	return 0;
}

/*
 * Starts the stand-in under `py` and waits for its workers to listen. In a
 * root of its own it runs chrooted, in its own mount namespace (the script
 * bound in at /mnt), and ends with the test's worker (--kill-child).
 */
static struct worker_proc *start_standin(const struct interp *py, int workers, const char *start,
					 int concurrency)
{
	char *argv[] = { py->python, "tests/python/conserver_standin.py", NULL };
	char script[1024];
	char *chrooted[] = { "unshare", "--mount", "--fork", "--kill-child", "sh", "-c", script, NULL };
	const struct standin_config cfg = { CHAINS, workers, start, concurrency, NULL };

	if (!py->root)
		return standin_start(&redis, argv, &cfg, worker_pids, 8);
	snprintf(script, sizeof(script),
		 "mount --bind tests/python %s/mnt && exec chroot %s %s /mnt/conserver_standin.py",
		 py->root, py->root, py->python);
	return standin_start(&redis, chrooted, &cfg, worker_pids, 8);
}

/* The observer, finding the stand-in's processes by command line. */
static struct observer *observe_standin_with(const char *func, const char *chain)
{
	struct observer_config cfg = { 0 };
	char err[1024] = "";

	cfg.python = true;
	cfg.python_exe = "conserver_standin";
	cfg.py_func = func;
	cfg.py_chain = chain;
	obs = observer_start(&cfg, err, sizeof(err));
	if (!obs)
		fail_msg("observer_start: %s", err);
	return obs;
}

static struct observer *observe_standin(void)
{
	return observe_standin_with(NULL, NULL);
}

static void push(const char *list, int n, const char *prefix)
{
	char id[64];

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s-%d", prefix, i);
		redis_rpush(&redis, list, id);
	}
}

static void wait_list(const char *list, int n)
{
	char v[128];

	for (int i = 0; i < n; i++)
		redis_blpop(&redis, list, v, sizeof(v));
}

static void release(int n)
{
	for (int i = 0; i < n; i++)
		redis_rpush(&redis, "release", "go");
}

/* The in-flight count of a chain, -1 if not seen at all. */
static int64_t count_of(const char *chain)
{
	struct snapshot s = { 0 };
	int64_t v = -1;

	assert_int_equal(observer_read(obs, &s), 0);
	assert_true(s.gauge_only);
	for (size_t i = 0; i < s.n; i++)
		if (!strcmp(s.chains[i].name, chain))
			v = s.chains[i].inflight;
	snapshot_free(&s);
	return v;
}

static void expect_count(const char *chain, int64_t want)
{
	int64_t got = count_of(chain);

	if (got != want)
		fail_msg("chain '%s': %lld in flight, expected %lld", chain, (long long)got,
			 (long long)want);
}

/*
 * Serial workers, forked: one call each in flight at a time; the DLQ path,
 * an early return, and workers killed mid-call.
 */
static void test_serial_forked(void **state)
{
	const struct interp *python = *state;

	start_standin(python, 2, "fork", 1);
	observe_standin();

	push("in_t", 1, "t");
	push("in_c", 1, "c");
	wait_list("entered", 2);
	expect_count("transcribe", 1);
	expect_count(CAFE, 1);
	release(2);
	wait_list("done", 2);
	expect_count("transcribe", 0);
	expect_count(CAFE, 0);

	/* the chain raises: _handle_vcon sends it to the DLQ and returns */
	push("in_r", 1, "r");
	wait_list("entered", 1);
	expect_count("risky", 1);
	release(1);
	wait_list("done", 1);
	expect_count("risky", 0);
	assert_int_equal(redis_llen(&redis, "dlq:in_r"), 1);

	/* an early return from before_processing */
	push("in_t", 1, "skip");
	wait_list("done", 1);
	expect_count("transcribe", 0);

	/* workers killed with calls inside: gone from the next reading */
	push("in_t", 2, "k");
	wait_list("entered", 2);
	expect_count("transcribe", 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(kill(worker_pids[i], SIGKILL), 0);
		/* not our children: dead once /proc shows a zombie (or nothing) */
		while (proc_alive(worker_pids[i]))
			sched_yield();
	}
	expect_count("transcribe", 0);
}

/* A thread pool in one spawned worker: several calls in flight per process. */
static void test_threadpool_spawned(void **state)
{
	const struct interp *python = *state;

	start_standin(python, 1, "spawn", 4);
	observe_standin();
	push("in_t", 3, "t");
	push("in_c", 1, "c");
	wait_list("entered", 4);
	expect_count("transcribe", 3);
	expect_count(CAFE, 1);
	release(4);
	wait_list("done", 4);
	expect_count("transcribe", 0);
	expect_count(CAFE, 0);
}

/*
 * stderr goes to a file while `fn` runs; what was written there, in `out`.
 * `fn` must not fail the test (that would leave stderr redirected).
 */
static void capture_stderr(void (*fn)(void), char *out, size_t outsz)
{
	FILE *tmp = tmpfile();
	int saved;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, outsz - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	fputs(out, stderr);
}

static int occurrences(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static int64_t unreadable_counts[2];

static void read_unreadable_twice(void)
{
	unreadable_counts[0] = count_of("(unreadable)");
	unreadable_counts[1] = count_of("(unreadable)");
}

/*
 * --py-chain naming an argument _handle_vcon does not have (a typo): its
 * calls are still in flight, counted under (unreadable), and one warning
 * names the arguments the function really has.
 */
static void test_typo_argument(void **state)
{
	const struct interp *python = *state;
	char log[8192];

	start_standin(python, 1, "fork", 2);
	observe_standin_with(NULL, "chain_detail[\"name\"]");
	push("in_t", 2, "t");
	wait_list("entered", 2);
	capture_stderr(read_unreadable_twice, log, sizeof(log));
	assert_int_equal(unreadable_counts[0], 2);
	assert_int_equal(unreadable_counts[1], 2);
	/* once, not at every reading */
	assert_int_equal(occurrences(log, "has no argument 'chain_detail'"), 1);
	assert_non_null(strstr(log, "worker_name, ingress_list, vcon_id, chain_details"));
	expect_count("transcribe", -1);
	release(2);
	wait_list("done", 2);
	expect_count("(unreadable)", 0);
}

/* A keyword-only argument by name: run_link(link, vcon_id, *, chain). */
static void test_keyword_only_argument(void **state)
{
	const struct interp *python = *state;

	start_standin(python, 1, "fork", 4);
	observe_standin_with("run_link", "chain");
	push("in_t", 2, "t");
	push("in_c", 1, "c");
	wait_list("entered", 3);
	expect_count("transcribe", 2);
	expect_count(CAFE, 1);
	release(3);
	wait_list("done", 3);
	expect_count("transcribe", 0);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A chain's oldest call in a reading: its age in ns, or -1 when not known. */
static int64_t oldest_of(const char *chain)
{
	struct snapshot s = { 0 };
	int64_t age = -2;

	assert_int_equal(observer_read(obs, &s), 0);
	for (size_t i = 0; i < s.n; i++)
		if (!strcmp(s.chains[i].name, chain))
			age = s.chains[i].oldest_known ? (int64_t)s.chains[i].oldest_age_ns : -1;
	snapshot_free(&s);
	if (age == -2)
		fail_msg("chain '%s' not in the reading", chain);
	return age;
}

/*
 * The oldest call's age, from its first sighting: 0 at the reading that
 * first sees it, then the time between the two readings, measured around
 * them by the test. A call that ends and the next one of the same chain
 * that starts in the same frame slot (one serial worker, the same
 * chain_details dict) between two readings is a new call, age 0 again.
 * Nothing in flight: no age.
 */
static void test_oldest_age(void **state)
{
	const struct interp *python = *state;
	uint64_t before1, after1, before2, after2;
	int64_t age;

	start_standin(python, 1, "fork", 1);
	observe_standin();
	push("in_t", 1, "a");
	wait_list("entered", 1);
	before1 = mono_ns();
	assert_int_equal(oldest_of("transcribe"), 0);
	after1 = mono_ns();
	poll(NULL, 0, 300);
	before2 = mono_ns();
	age = oldest_of("transcribe");
	after2 = mono_ns();
	if (age < (int64_t)(before2 - after1) || age > (int64_t)(after2 - before1))
		fail_msg("the call's age %lld ns, expected in [%llu, %llu]", (long long)age,
			 (unsigned long long)(before2 - after1), (unsigned long long)(after2 - before1));
	/* back to back in the same worker: another call, however alike its frame */
	release(1);
	wait_list("done", 1);
	push("in_t", 1, "b");
	wait_list("entered", 1);
	assert_int_equal(oldest_of("transcribe"), 0);
	release(1);
	wait_list("done", 1);
	assert_int_equal(oldest_of("transcribe"), -1);
}

/*
 * Torn reads: two forked workers with thread pools churn short calls while
 * readings go on back to back (at least 200, however slow the machine). Every name read is a real chain's, and no
 * count is negative or above the calls that can be in flight.
 */
static void test_torn_reads(void **state)
{
	const struct interp *python = *state;
	struct snapshot s = { 0 };
	int64_t until;
	long readings = 0, seen_busy = 0, pushed = 8, done;

	start_standin(python, 2, "fork", 4);
	observe_standin();
	/* eight loops of back-to-back calls: four per process, two chains */
	for (int i = 0; i < 4; i++) {
		redis_rpush(&redis, "in_a", "churn-1500");
		redis_rpush(&redis, "in_b", "churn-1500");
	}
	until = mono_ms() + 20000;
	for (;;) {
		int64_t total = 0;

		done = redis_llen(&redis, "done");
		if (done >= pushed || mono_ms() >= until)
			break;
		/* a slow machine reads less often: churn on until 200 readings */
		while (readings < 200 && pushed - done < 8) {
			redis_rpush(&redis, pushed % 2 ? "in_b" : "in_a", "churn-1500");
			pushed++;
		}
		assert_int_equal(observer_read(obs, &s), 0);
		readings++;
		for (size_t i = 0; i < s.n; i++) {
			const struct chain_stat *c = &s.chains[i];

			if (strcmp(c->name, "churn-a") && strcmp(c->name, "churn-b"))
				fail_msg("reading %ld: chain '%s' is no chain of the worker", readings,
					 c->name);
			assert_true(c->inflight >= 0);
			total += c->inflight;
		}
		/* two processes, four pool threads each */
		if (total > 8) {
			for (size_t i = 0; i < s.n; i++)
				printf("  %s %lld\n", s.chains[i].name, (long long)s.chains[i].inflight);
			fail_msg("reading %ld: %lld in flight, at most 8 can be", readings, (long long)total);
		}
		seen_busy += total > 0;
	}
	snapshot_free(&s);
	printf("torn reads: %ld readings while calls churned, %ld saw calls in flight\n",
	       readings, seen_busy);
	assert_int_equal(redis_llen(&redis, "done"), pushed);
	assert_true(readings > 100);
	assert_true(seen_busy > 0);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * The conserver deployment: `inflight run --python --python-exe PATTERN`
 * needs nothing else, and exports the same series as native targets. Run
 * as the DaemonSet runs it: uid 0 with only its capabilities, then
 * --user nobody keeping CAP_SYS_PTRACE alone to read the root-owned workers.
 */
static void test_run_exports(void **state)
{
	const struct interp *python = *state;
	char *args[] = { "setpriv", "--bounding-set",
			 "-all,+sys_admin,+sys_ptrace,+bpf,+perfmon,+setuid,+setgid", "--inh-caps=-all",
			 (char *)inflight_bin(), "run", "--python", "--python-exe", "conserver_standin",
			 "--user", "nobody", NULL };
	char endpoint[96];
	char *env[] = { endpoint, "OTEL_METRIC_EXPORT_INTERVAL=200", NULL };
	const struct rec_request *q = NULL;
	char field[64];
	uint64_t t, sent, parked;

	/* room for all four calls whichever worker takes them */
	start_standin(python, 2, "fork", 4);
	receiver_start(&recv, 0);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d",
		 recv.port);
	inflight_start_argv(&run, args, env);
	inflight_wait_stderr(&run, "watching CPython processes");
	/* nobody, CAP_SYS_PTRACE (bit 19) alone */
	proc_status(run.pid, "Uid:", field, sizeof(field));
	assert_string_equal(field, "65534");
	proc_status(run.pid, "CapEff:", field, sizeof(field));
	assert_string_equal(field, "0000000000080000");
	sent = realtime_ns();
	push("in_t", 3, "t");
	push("in_c", 1, "c");
	wait_list("entered", 4);
	parked = realtime_ns();
	/* the test's own clock: a second since the calls were all inside */
	while (realtime_ns() < parked + 1000000000ull)
		poll(NULL, 0, 10);
	t = realtime_ns();
	for (int seq = 1; !q; seq++) {
		receiver_wait(&recv, seq);
		q = receiver_request(&recv, seq);
		if (!q->npoints || q->points[0].time <= t)
			q = NULL;
	}
	assert_string_equal(q->metric, "conserver.vcons.inflight");
	assert_int_equal(q->npoints, 2);
	assert_int_equal(rec_point(q, "chain.name=transcribe")->value, 3);
	assert_int_equal(rec_point(q, "chain.name=" CAFE)->value, 1);
	/* a frame snapshot sees no call end: no handled calls for CPython */
	assert_null(rec_more_point(q, "conserver.vcons.inflight.handled", "chain.name=transcribe"));
	/* nor durations: it times no call */
	for (int i = 0; i < q->nmore; i++) {
		assert_string_not_equal(q->more[i].metric, "conserver.vcons.inflight.handled");
		assert_string_not_equal(q->more[i].metric, "conserver.vcons.inflight.duration");
	}
	/*
	 * The oldest call's age, since the first reading that saw it: no more
	 * than its true age (the reading less the send, plus the reading's own
	 * length), and less than one interval (200 ms) short of the time since
	 * the park, with the same slack for the reading before it.
	 */
	{
		const struct rec_point *o =
			rec_more_point(q, "conserver.vcons.inflight.oldest_age", "chain.name=transcribe");
		double lo = (double)(q->points[0].time - parked) / 1e9 - 0.2 - 0.25;
		double hi = (double)(q->points[0].time - sent) / 1e9 + 0.25;

		assert_non_null(o);
		assert_string_equal(o->vtype, "asDouble");
		printf("oldest_age %.6f s, expected in [%.6f, %.6f]\n", o->dvalue, lo, hi);
		if (o->dvalue < lo || o->dvalue > hi || o->dvalue < 1.0 - 0.2 - 0.25)
			fail_msg("transcribe's oldest call: %.6f s, expected in [%.6f, %.6f]",
				 o->dvalue, lo, hi);
	}
	release(4);
	wait_list("done", 4);
	/* nothing in flight: 0 */
	t = realtime_ns();
	q = NULL;
	for (int seq = recv.nreq + 1; !q; seq++) {
		receiver_wait(&recv, seq);
		q = receiver_request(&recv, seq);
		if (!q->npoints || q->points[0].time <= t)
			q = NULL;
	}
	assert_int_equal(rec_point(q, "chain.name=transcribe")->value, 0);
	assert_true(rec_more_point(q, "conserver.vcons.inflight.oldest_age", "chain.name=transcribe")
			    ->dvalue == 0);
	assert_true(WIFEXITED(inflight_stop(&run, SIGTERM)));
}

/*
 * Discovery (--match-cmdline), CPython alike: the stand-in starts after the
 * observer, in its own mount and PID namespace, from an interpreter copied
 * to a tmpfs only that namespace sees (read through /proc/PID/root), and
 * its calls are counted exactly.
 */
static void test_discovered_in_namespace(void **state)
{
	struct observer_config cfg = { 0 };
	char err[1024] = "";
	char script[] = "mount -t tmpfs inflight-test /mnt && cp /usr/bin/python3.11 /mnt/py &&"
			" exec /mnt/py tests/python/conserver_standin.py";
	/* --kill-child: the namespace's processes end with the test's worker */
	char *argv[] = { "unshare", "--mount", "--pid", "--fork", "--kill-child", "sh", "-c", script,
			 NULL };

	(void)state;
	if (access("/usr/bin/python3.11", X_OK))
		fail_msg("/usr/bin/python3.11: %s (Debian 12's python3 provides it)", strerror(errno));
	cfg.python = true;
	cfg.target.match_cmdline = "^/mnt/py tests/python/conserver_standin\\.py";
	obs = observer_start(&cfg, err, sizeof(err));
	if (!obs)
		fail_msg("observer_start: %s", err);
	expect_count("transcribe", -1);

	/* the copy finds its standard library by PYTHONHOME, not beside itself */
	standin_start(&redis, argv, &(struct standin_config){ CHAINS, 1, "fork", 2, "/usr" }, NULL, 0);
	/* the interpreter exists in the worker's namespace only */
	assert_int_not_equal(access("/mnt/py", F_OK), 0);

	push("in_t", 2, "t");
	wait_list("entered", 2);
	expect_count("transcribe", 2);
	release(2);
	wait_list("done", 2);
	expect_count("transcribe", 0);
}

/* No interpreter: a failure under CI=true (a run of zero tests is no pass), else a skip. */
static void test_no_interpreter(void **state)
{
	const char *ci = getenv("CI");

	(void)state;
	if (ci && !strcmp(ci, "true"))
		fail_msg("CI=true: the CPython tests need at least one CPython 3.10+, none found");
	printf("SKIP: no CPython 3.10+ on this machine\n");
	skip();
}

int main(void)
{
	static struct CMUnitTest tests[128];
	static const int wanted[] = { 10, 11, 12, 13, 14, 15 };
	struct interp *pythons;
	size_t np = find_pythons(&pythons), nt = 0, nfixed = 0;
	int rc;
	const char *ci = getenv("CI");
	bool in_ci = ci && !strcmp(ci, "true");
	const struct interp *newest = NULL;

	printf("CPython interpreters on this machine:");
	for (size_t i = 0; i < np; i++) {
		printf(" %s", pythons[i].label);
		if (!newest || pythons[i].minor > newest->minor)
			newest = &pythons[i];
	}
	printf("%s\n", np ? "" : " none");
	/* every minor the conserver may run on; CI must have them all */
	for (size_t w = 0; w < sizeof(wanted) / sizeof(wanted[0]); w++) {
		bool found = false;

		for (size_t i = 0; i < np; i++)
			found |= pythons[i].minor == wanted[w];
		if (found)
			continue;
		printf("%s: no CPython 3.%d (pyenv's 3.10-3.13; 3.13-3.15 from %s, which tools/sid-root.sh builds)\n",
		       in_ci ? "CI=true: failing" : "skipping its tests", wanted[w], SID_ROOT);
		if (in_ci)
			return 1;
	}
	if (!np) {
		tests[nt++] = (struct CMUnitTest){ "CPython interpreter present", test_no_interpreter,
						   NULL, NULL, NULL };
		nfixed++;
	}
	if (np) {
		/* the command line and export path, once: the counting is the same */
		tests[nt++] = (struct CMUnitTest){ "inflight run --python exports", test_run_exports, NULL,
						   teardown, (void *)newest };
		tests[nt++] = (struct CMUnitTest){ "discovered in its own namespaces",
						   test_discovered_in_namespace, NULL, teardown, NULL };
		tests[nt++] = (struct CMUnitTest){ "--py-chain names an argument the function lacks",
						   test_typo_argument, NULL, teardown, (void *)newest };
		tests[nt++] = (struct CMUnitTest){ "--py-chain names a keyword-only argument",
						   test_keyword_only_argument, NULL, teardown, (void *)newest };
		nfixed = nt;
	}
	for (size_t i = 0; i < np && nt + 4 <= sizeof(tests) / sizeof(tests[0]); i++) {
		static const struct {
			const char *name;
			CMUnitTestFunction fn;
		} kinds[] = {
			{ "serial, forked workers", test_serial_forked },
			{ "thread pool, spawned worker", test_threadpool_spawned },
			{ "torn reads", test_torn_reads },
			{ "oldest call's age", test_oldest_age },
		};

		for (size_t k = 0; k < 4; k++) {
			char *name;

			if (asprintf(&name, "%s [%s]", kinds[k].name, pythons[i].label) < 0)
				return 1;
			tests[nt++] = (struct CMUnitTest){ name, kinds[k].fn, NULL, teardown, &pythons[i] };
		}
	}
	apply_test_filter();
	rc = _cmocka_run_group_tests("CPython workers (conserver stand-in)", tests, nt, NULL, NULL);
	for (size_t i = nfixed; i < nt; i++) /* the fixed tests' names are literals */
		free((char *)tests[i].name);
	free_pythons(pythons, np);
	return rc;
}
