// SPDX-License-Identifier: MIT
/*
 * Restarts without loss: the probes and counts are pinned in bpffs, keep
 * counting while no collector runs, and the next collector picks them up
 * with the series' start times; other state is replaced explicitly, and
 * `inflight detach` removes it all.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "probe/pin.h"
#include "support/bpf_env.h"
#include "support/inflight_proc.h"
#include "support/observe.h"
#include "support/receiver.h"
#include "support/test_filter.h"
#include "support/timed_calls.h"
#include "support/worker_proc.h"

#define PIN_DIR "/sys/fs/bpf/inflight-test-restart"

static struct receiver recv;
static struct inflight_proc run;

static int teardown(void **state)
{
	(void)state;
	if (run.pid)
		inflight_stop(&run, SIGKILL);
	receiver_stop(&recv);
	test_teardown(NULL);
	pin_remove(PIN_DIR);
	return 0;
}

/* Nothing pinned before the test: what an earlier, killed run may have left is gone. */
static int unpinned(void **state)
{
	(void)state;
	pin_remove(PIN_DIR);
	return 0;
}

static struct worker_proc *start_worker(void)
{
	char *argv[] = { (char *)worker_path("native_worker"), NULL };

	return worker_start(argv);
}

/* In process: stop the collector, calls come and go, start it again. */
static void test_reuse_pinned(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), RETURN_AUTO);
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	cfg.target.pin_dir = PIN_DIR;
	o = test_observe(&cfg);
	assert_false(observer_info(o)->reused);
	w = start_worker();
	worker_send(w, "park kept 2");
	worker_expect(w, "EE");
	expect_chain(o, "kept", 2, 2, 0);
	/* the collector goes away; its probes stay */
	test_unobserve(o);
	worker_send(w, "release");
	worker_expect(w, "RR");
	worker_send(w, "park kept 1");
	worker_send(w, "park later 1");
	worker_expect(w, "EE");
	/* the next collector sees what happened meanwhile */
	o = test_observe(&cfg);
	assert_true(observer_info(o)->reused);
	expect_chain(o, "kept", 1, 3, 2);
	expect_chain(o, "later", 1, 1, 0);
	worker_send(w, "release");
	worker_expect(w, "RR");
	expect_chain(o, "kept", 0, 3, 3);
	expect_no_pending_frames(o);
}

/* A pinned state of another target or version is replaced, not misread. */
static void test_replace_incompatible(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), RETURN_AUTO);
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	cfg.target.pin_dir = PIN_DIR;
	o = test_observe(&cfg);
	w = start_worker();
	worker_send(w, "park old 1");
	worker_expect(w, "E");
	expect_chain(o, "old", 1, 1, 0);
	test_unobserve(o);
	/* a different chain cap: the same directory, another identity */
	cfg.target.max_chains = 7;
	o = test_observe(&cfg);
	assert_false(observer_info(o)->reused);
	expect_no_chain(o, "old");
	worker_send(w, "release");
	worker_expect(w, "R");
	/* the call that entered before the new probes is not miscounted */
	expect_no_chain(o, "old");
	expect_total_inflight(o, 0);
}

/* A --pin-dir off bpffs is refused with the reason; nothing is left. */
static void test_pin_dir_not_bpffs(void **state)
{
	char *args[] = { "run", "--pin-dir", "/tmp/inflight-not-bpffs", "--binary",
			 (char *)worker_path("native_worker"), "--func", "worker_handle", NULL };
	int status;

	(void)state;
	inflight_start(&run, args, NULL);
	status = inflight_stop(&run, 0);
	assert_int_equal(WEXITSTATUS(status), 2);
	assert_non_null(strstr(run.err, "--pin-dir /tmp/inflight-not-bpffs: not on a bpf filesystem"));
	rmdir("/tmp/inflight-not-bpffs");
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The first export read after `after_ns` with the chain in it. */
static const struct rec_point *point_after(uint64_t after_ns, const char *attrs, int *seq)
{
	for (;; (*seq)++) {
		const struct rec_request *q;
		const struct rec_point *p;

		receiver_wait(&recv, *seq);
		q = receiver_request(&recv, *seq);
		p = q ? rec_point(q, attrs) : NULL;
		if (p && p->time > after_ns)
			return p;
	}
}

/* Request `seq`'s handled calls of `attrs`: `value`, from `start`. */
static void expect_handled(int seq, const char *attrs, long long value, uint64_t start)
{
	const struct rec_point *h = rec_more_point(receiver_request(&recv, seq),
						   "conserver.vcons.inflight.handled", attrs);

	assert_non_null(h);
	assert_true(h->monotonic);
	assert_int_equal(h->value, value);
	assert_int_equal(h->start, start);
}

/* Request `seq`'s call durations of `attrs`: `count` calls, from `start` (0: any). */
static const struct rec_point *expect_duration(int seq, const char *attrs, long long count,
					       uint64_t start)
{
	const struct rec_point *d = rec_more_point(receiver_request(&recv, seq),
						   "conserver.vcons.inflight.duration", attrs);

	assert_non_null(d);
	assert_string_equal(d->vtype, "histogram");
	assert_int_equal(d->value, count);
	if (start)
		assert_int_equal(d->start, start);
	return d;
}

/*
 * A node without bpffs at /sys/fs/bpf (here: a private mount namespace with
 * a tmpfs there): the collector mounts one, says so, and counts as usual;
 * without CAP_SYS_ADMIN to mount it, it says what is missing and exits 2
 * before attaching anything.
 */
static void test_bpffs_not_mounted(void **state)
{
	char script[] = "mount -t tmpfs none /sys/fs/bpf && exec \"$@\"";
	char endpoint[96];
	char *env[] = { endpoint, "OTEL_METRIC_EXPORT_INTERVAL=200", NULL };
	char *argv[] = { "unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
			 (char *)inflight_bin(), "run", "--binary", (char *)worker_path("native_worker"),
			 "--func", "worker_handle", "--chain", WORKER_CHAIN_SPEC, NULL };
	char *denied[] = { "unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
			   "setpriv", "--bounding-set", "-sys_admin", (char *)inflight_bin(), "run",
			   "--binary", (char *)worker_path("native_worker"), "--func", "worker_handle",
			   NULL };
	struct worker_proc *w;
	int seq = 1, status;

	(void)state;
	receiver_start(&recv, 0);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d",
		 recv.port);
	w = start_worker();
	inflight_start_argv(&run, argv, env);
	inflight_wait_stderr(&run, "mounted a bpf filesystem at /sys/fs/bpf");
	inflight_wait_stderr(&run, "attached");
	worker_send(w, "park alpha 1");
	worker_expect(w, "E");
	assert_int_equal(point_after(0, "chain.name=alpha", &seq)->value, 1);
	worker_send(w, "release");
	worker_expect(w, "R");
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);

	inflight_start_argv(&run, denied, NULL);
	status = inflight_stop(&run, 0);
	assert_int_equal(WEXITSTATUS(status), 2);
	if (!strstr(run.err, "/sys/fs/bpf is no bpf filesystem and mounting one failed: Operation not permitted (CAP_SYS_ADMIN is needed"))
		fail_msg("stderr:\n%s", run.err);
	assert_null(strstr(run.err, "attached"));
}

/*
 * The collector SIGKILLed: calls enter and leave meanwhile, the next one
 * exports the exact counts under the same series start time; then
 * `inflight detach` removes the probes.
 */
static void test_sigkill_restart(void **state)
{
	char *args[] = { "run", "--pin-dir", PIN_DIR, "--binary", (char *)worker_path("native_worker"),
			 "--func", "worker_handle", "--chain", "+0(%di):string", NULL };
	char *detach[] = { "detach", "--pin-dir", PIN_DIR, NULL };
	char endpoint[96];
	char *env[] = { endpoint, "OTEL_METRIC_EXPORT_INTERVAL=200", NULL };
	struct worker_proc *w;
	struct timed_calls quick, held;
	uint64_t start, timed_start;
	int seq = 1, status;

	(void)state;
	receiver_start(&recv, 0);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d",
		 recv.port);
	inflight_start(&run, args, env);
	inflight_wait_stderr(&run, "attached");
	w = start_worker();
	quick = timed_burst(w, "timed", 3);
	worker_send(w, "park crash 2");
	worker_expect(w, "EE");
	start = point_after(realtime_ns(), "chain.name=crash", &seq)->start;
	timed_start = expect_duration(seq, "chain.name=timed", 3, 0)->start;

	inflight_stop(&run, SIGKILL);
	worker_send(w, "release");
	worker_expect(w, "RR");
	/* timed while no collector runs: into the pinned histogram */
	held = timed_park(w, "timed", 1, 35);
	worker_send(w, "park crash 1");
	worker_expect(w, "E");

	inflight_start(&run, args, env);
	inflight_wait_stderr(&run, "pinned probe");
	{
		const struct rec_point *p = point_after(realtime_ns(), "chain.name=crash", &seq);

		assert_int_equal(p->value, 1);
		assert_int_equal(p->start, start);
		/* the calls that ended while no collector ran: counted on, same start */
		expect_handled(seq, "chain.name=crash", 2, start);
		/* and timed: the histogram carries on, the same start */
		expect_duration(seq, "chain.name=crash", 2, start);
		{
			const struct rec_point *d =
				expect_duration(seq, "chain.name=timed", 4, timed_start);

			assert_int_equal(timed_bucket(&quick), 1);
			assert_int_equal(timed_bucket(&held), 4);
			for (int b = 0; b < 16; b++)
				assert_int_equal(d->buckets[b], b == 1 ? 3 : b == 4 ? 1 : 0);
			assert_true(d->sum * 1e9 >= (double)(3 * quick.lo_ns + held.lo_ns) - 1000 &&
				    d->sum * 1e9 <= (double)(3 * quick.hi_ns + held.hi_ns) + 1000);
		}
	}
	worker_send(w, "release");
	worker_expect(w, "R");
	assert_int_equal(point_after(realtime_ns(), "chain.name=crash", &seq)->value, 0);
	expect_handled(seq, "chain.name=crash", 3, start);
	expect_duration(seq, "chain.name=crash", 3, start);
	/* SIGTERM keeps the pins for the next collector */
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
	assert_true(pin_exists(PIN_DIR));

	inflight_start(&run, detach, NULL);
	status = inflight_stop(&run, 0);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_false(pin_exists(PIN_DIR));
	assert_int_not_equal(access(PIN_DIR, F_OK), 0);
}

/* Another build of this tree, made by `make upgrade-builds` beside the one under test. */
static const char *other_build(const char *name)
{
	static char path[2][512];
	static int slot;
	char *out = path[slot++ & 1];
	const char *bin = inflight_bin(), *slash = strrchr(bin, '/');

	snprintf(out, sizeof(path[0]), "%.*s/%s/inflight", slash ? (int)(slash - bin) : 1,
		 slash ? bin : ".", name);
	if (access(out, X_OK))
		fail_msg("%s is missing: make upgrade-builds (make check builds it)", out);
	return out;
}

/*
 * An upgrade: the collector replaced by another release of the same pin
 * layout (another BPF object) adopts the pinned state: a call parked
 * across the change is still counted, the series keeps its start time.
 * Then a build of another pin layout says what it loses, naming both
 * versions, and starts anew.
 */
static void test_upgrade(void **state)
{
	char *args[] = { "run", "--pin-dir", PIN_DIR, "--binary", (char *)worker_path("native_worker"),
			 "--func", "worker_handle", "--chain", "+0(%di):string", NULL };
	char *argv[16];
	char endpoint[96];
	char *env[] = { endpoint, "OTEL_METRIC_EXPORT_INTERVAL=200", NULL };
	struct worker_proc *w;
	const struct rec_point *p;
	uint64_t start;
	int seq = 1;

	(void)state;
	receiver_start(&recv, 0);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d",
		 recv.port);
	inflight_start(&run, args, env);
	inflight_wait_stderr(&run, "attached");
	w = start_worker();
	worker_send(w, "park upgrade 1");
	worker_expect(w, "E");
	start = point_after(realtime_ns(), "chain.name=upgrade", &seq)->start;
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
	/* between the two: one more call enters */
	worker_send(w, "park upgrade 1");
	worker_expect(w, "E");

	/* the next release: same layout, another object */
	argv[0] = (char *)other_build("upgrade-release");
	for (int i = 0; args[i]; i++)
		argv[i + 1] = args[i], argv[i + 2] = NULL;
	inflight_start_argv(&run, argv, env);
	inflight_wait_stderr(&run, "attached");
	if (!strstr(run.err, "pinned probe") || !strstr(run.err, "adopting the state pinned by inflight"))
		fail_msg("the other release did not adopt the pinned state; stderr:\n%s", run.err);
	p = point_after(realtime_ns(), "chain.name=upgrade", &seq);
	assert_int_equal(p->value, 2);
	assert_int_equal(p->start, start);
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);

	/* another layout: said, and a fresh start (the parked call is not seen) */
	argv[0] = (char *)other_build("upgrade-layout");
	inflight_start_argv(&run, argv, env);
	inflight_wait_stderr(&run, "attached");
	char ours[64];

	snprintf(ours, sizeof(ours), "with pin layout version %u; this is inflight",
		 (unsigned)INFLIGHT_PIN_LAYOUT);
	if (!strstr(run.err, ours) ||
	    !strstr(run.err, "with pin layout version 999999, which cannot read it: its in-flight counts and series start times are lost"))
		fail_msg("no warning naming both layout versions; stderr:\n%s", run.err);
	assert_null(strstr(run.err, "pinned probe"));
	/* the two calls parked under the old state leave unseen; a new one counts */
	worker_send(w, "release");
	worker_expect(w, "RR");
	worker_send(w, "park fresh 1");
	worker_expect(w, "E");
	p = point_after(realtime_ns(), "chain.name=fresh", &seq);
	assert_int_equal(p->value, 1);
	assert_true(p->start > start);
	assert_null(rec_point(receiver_request(&recv, seq), "chain.name=upgrade"));
	worker_send(w, "release");
	worker_expect(w, "R");
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
}

/*
 * A collector that picked pinned probes up holds them as one that attached
 * them does: the pin directory cleared while it runs (`inflight detach`,
 * an rm) leaves its probes counting until it stops. It held only the maps
 * before, and went on exporting a frozen gauge that looked exact.
 */
static void test_adopted_holds_its_probes(void **state)
{
	char *args[] = { "run", "--pin-dir", PIN_DIR, "--binary", (char *)worker_path("native_worker"),
			 "--func", "worker_handle", "--chain", "+0(%di):string", "--exporter", "none",
			 NULL };
	char *env[] = { NULL };
	struct observer_config cfg = test_config(worker_path("native_worker"), RETURN_AUTO);
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	/* the first collector another process, gone: none of its fds hold the links */
	inflight_start(&run, args, env);
	inflight_wait_stderr(&run, "attached");
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
	assert_true(pin_exists(PIN_DIR));
	cfg.target.pin_dir = PIN_DIR;
	o = test_observe(&cfg);
	assert_true(observer_info(o)->reused);
	assert_true(observer_info(o)->probes > 0);
	/* the pins go while the collector runs */
	assert_int_equal(pin_remove(PIN_DIR), 0);
	assert_false(pin_exists(PIN_DIR));
	w = start_worker();
	worker_send(w, "park held 2");
	worker_expect(w, "EE");
	expect_chain(o, "held", 2, 2, 0);
	worker_send(w, "release");
	worker_expect(w, "RR");
	expect_chain(o, "held", 0, 2, 2);
	expect_no_pending_frames(o);
	worker_stop(w);
	test_unobserve(o);
}

int main(void)
{
#define T(t) cmocka_unit_test_teardown(t, teardown)
/* the tests that pin, from an empty pin directory */
#define P(t) cmocka_unit_test_setup_teardown(t, unpinned, teardown)
	const struct CMUnitTest tests[] = {
		P(test_reuse_pinned),
		P(test_adopted_holds_its_probes),
		P(test_replace_incompatible),
		T(test_pin_dir_not_bpffs),
		P(test_sigkill_restart),
		T(test_bpffs_not_mounted),
		P(test_upgrade),
	};

	apply_test_filter();
	return bpf_run_group_tests_name("restarts: pinned probes and counts", tests, NULL, NULL, NULL);
}
