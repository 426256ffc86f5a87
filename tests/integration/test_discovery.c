// SPDX-License-Identifier: MIT
/*
 * Discovery (--match-exe / --match-cmdline): workers started after the
 * observer are found at their exec, also in their own mount and PID
 * namespaces; one attachment per file, shared by its processes; only
 * matching processes count (a forked child of one too); an exec releases;
 * a file nobody runs any more is detached; pinned state is adopted by the
 * next collector. The observer's housekeeping (observer_poll) is called by
 * the test at known moments, so every count is exact.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
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
#include <unistd.h>
#include <cmocka.h>
#include "probe/pin.h"
#include "support/bpf_env.h"
#include "support/inflight_proc.h"
#include "support/observe.h"
#include "support/proc_info.h"
#include "support/receiver.h"
#include "support/test_filter.h"
#include "support/worker_proc.h"

#define PIN_DIR "/sys/fs/bpf/inflight-test-discovery"
/* a name no other test's process has, so the glob matches ours only */
#define WORKER_NAME "inflight-disc-worker"
#define NEVER_RESCAN 3600000

static char worker_copy[128];
static struct inflight_proc run;
static struct receiver rx;

static int setup_group(void **state)
{
	char dir[] = "/tmp/inflight-disc-XXXXXX";
	char cmd[512];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(worker_copy, sizeof(worker_copy), "%s/%s", dir, WORKER_NAME);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 0755 '%s' '%s'",
		 worker_path("native_worker"), worker_copy, dir, worker_copy);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown_group(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf \"$(dirname '%s')\"", worker_copy);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (run.pid)
		inflight_stop(&run, SIGKILL);
	receiver_stop(&rx);
	test_teardown(NULL);
	pin_remove(PIN_DIR);
	return 0;
}

static struct observer_config disc_config(const char *exe, const char *cmdline)
{
	struct observer_config cfg = test_config(NULL, RETURN_AUTO);

	cfg.target.binary = NULL;
	cfg.target.match_exe = exe;
	cfg.target.match_cmdline = cmdline;
	cfg.target.rescan_ms = NEVER_RESCAN; /* found at exec, or by an explicit rescan */
	return cfg;
}

/*
 * A worker that surely exec'd (it answered), with one call made before the
 * observer looked: that call must not count.
 */
static struct worker_proc *start_answered(char *const argv[])
{
	struct worker_proc *w = worker_start(argv);

	worker_send(w, "burst before 1");
	worker_expect(w, "B");
	return w;
}

/* A worker started after the observer is found at its exec and counted. */
static void test_found_at_exec(void **state)
{
	struct observer_config cfg = disc_config("*/" WORKER_NAME, NULL);
	char *argv[] = { worker_copy, NULL };
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	o = test_observe(&cfg);
	assert_int_equal(observer_info(o)->probes, 0);
	assert_true(observer_event_fd(o) >= 0);
	w = start_answered(argv);
	observer_poll(o); /* the exec events: no /proc scan is due */
	assert_true(observer_info(o)->probes > 0);
	worker_send(w, "park alpha 2");
	worker_expect(w, "EE");
	expect_chain(o, "alpha", 2, 2, 0);
	expect_no_chain(o, "before");
	worker_send(w, "release");
	worker_expect(w, "RR");
	expect_chain(o, "alpha", 0, 2, 2);
}

/*
 * Two processes of one file: one attachment. The file's probes come off
 * once no matching process runs it, two scans in a row.
 */
static void test_one_attachment_per_file(void **state)
{
	struct observer_config cfg = disc_config("*/" WORKER_NAME, NULL);
	char *argv[] = { worker_copy, NULL };
	struct worker_proc *a, *b;
	struct observer *o;
	size_t probes;

	(void)state;
	o = test_observe(&cfg);
	a = start_answered(argv);
	observer_poll(o);
	probes = observer_info(o)->probes;
	assert_true(probes > 0);
	b = start_answered(argv);
	observer_poll(o);
	assert_int_equal(observer_info(o)->probes, probes);
	worker_send(a, "park shared 1");
	worker_send(b, "park shared 2");
	worker_expect(a, "E");
	worker_expect(b, "EE");
	expect_chain(o, "shared", 3, 3, 0);
	/* a killed worker's calls leave the gauge at once */
	worker_stop(b);
	expect_chain(o, "shared", 1, 3, 2);
	worker_send(a, "release");
	worker_expect(a, "R");
	worker_send(a, "quit");
	assert_int_equal(WEXITSTATUS(worker_wait(a)), 0);
	observer_rescan(o);
	assert_int_equal(observer_info(o)->probes, probes);
	observer_rescan(o);
	assert_int_equal(observer_info(o)->probes, 0);
	expect_chain(o, "shared", 0, 3, 3);
}

/*
 * In a mount namespace of its own, from a file only that namespace sees,
 * as pid 1 of its own PID namespace: reached through /proc/PID.
 */
static void test_other_namespaces(void **state)
{
	struct observer_config cfg = disc_config("*/inflight-ns-worker", NULL);
	char script[512];
	char *argv[] = { "unshare", "--mount", "--pid", "--fork", "sh", "-c", script, NULL };
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	snprintf(script, sizeof(script),
		 "mount -t tmpfs inflight-test /mnt && cp '%s' /mnt/inflight-ns-worker && exec /mnt/inflight-ns-worker",
		 worker_copy);
	o = test_observe(&cfg);
	w = start_answered(argv);
	/* the file exists in the worker's namespace only */
	assert_int_not_equal(access("/mnt/inflight-ns-worker", F_OK), 0);
	observer_poll(o);
	assert_true(observer_info(o)->probes > 0);
	worker_send(w, "park contained 3");
	worker_expect(w, "EEE");
	expect_chain(o, "contained", 3, 3, 0);
	worker_send(w, "release");
	worker_expect(w, "RRR");
	expect_chain(o, "contained", 0, 3, 3);
	worker_send(w, "quit");
	worker_wait(w);
}

/* A worker exec'ing mid-call: the call is released at the exec. */
static void test_exec_releases(void **state)
{
	struct observer_config cfg = disc_config("*/" WORKER_NAME, NULL);
	char *argv[] = { worker_copy, NULL };
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	o = test_observe(&cfg);
	w = start_answered(argv);
	observer_poll(o);
	worker_send(w, "exec across");
	worker_expect(w, "E");
	expect_chain(o, "across", 1, 1, 0);
	worker_send(w, "doexec");
	worker_expect(w, "A");
	expect_chain(o, "across", 0, 1, 1);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_EXEC), 1);
	/* the new image said its word and exited */
	assert_int_equal(WEXITSTATUS(worker_wait(w)), 0);
	expect_no_pending_frames(o);
}

/*
 * --match-cmdline: of two processes of the same file only the matching
 * one counts; a child it forks counts too, before any rescan.
 */
static void test_cmdline_and_fork(void **state)
{
	struct observer_config cfg = disc_config(NULL, WORKER_NAME " --role=keep$");
	char *keep[] = { worker_copy, "--role=keep", NULL };
	char *other[] = { worker_copy, "--role=other", NULL };
	struct worker_proc *k, *x;
	struct observer *o;

	(void)state;
	o = test_observe(&cfg);
	k = start_answered(keep);
	x = start_answered(other);
	observer_poll(o);
	worker_send(k, "park mine 1");
	worker_send(x, "park mine 1");
	worker_expect(k, "E");
	worker_expect(x, "E");
	expect_chain(o, "mine", 1, 1, 0);
	worker_send(x, "release");
	worker_expect(x, "R");
	worker_send(k, "release");
	worker_expect(k, "R");
	expect_chain(o, "mine", 0, 1, 1);
	/* the child returns from the copied frame (no entry of its own), calls once, exits */
	worker_send(k, "fork forked");
	worker_expect(k, "E");
	expect_chain(o, "forked", 1, 1, 0);
	worker_send(k, "release");
	worker_expect(k, "RF");
	expect_chain(o, "forked", 0, 2, 2);
}

/*
 * Matched processes stay watched until they exec or exit, whatever their
 * command line becomes: PostgreSQL's backends (forked children) and its
 * postmaster rewrite theirs. A rescan must not drop them.
 */
static void test_renamed_stay_watched(void **state)
{
	struct observer_config cfg = disc_config(NULL, WORKER_NAME " --role=keep$");
	char *keep[] = { worker_copy, "--role=keep", NULL };
	struct worker_proc *k;
	struct observer *o;

	(void)state;
	o = test_observe(&cfg);
	k = start_answered(keep);
	observer_poll(o);
	/* a backend: forked, renamed, parked in a call across a rescan */
	worker_send(k, "forkchild backend postgres:_user_db_[local]_idle");
	worker_expect(k, "E");
	expect_chain(o, "backend", 1, 1, 0);
	observer_rescan(o);
	/* its next call (a later query) counts too */
	worker_send(k, "childstep");
	worker_expect(k, "RE");
	expect_chain(o, "backend", 1, 2, 1);
	worker_send(k, "childstep");
	worker_expect(k, "R");
	expect_chain(o, "backend", 0, 2, 2);
	/* the matched process itself renamed: still counted after rescans */
	worker_send(k, "setargv postgres:_checkpointer");
	worker_expect(k, "V");
	observer_rescan(o);
	observer_rescan(o);
	worker_send(k, "park renamed 1");
	worker_expect(k, "E");
	expect_chain(o, "renamed", 1, 1, 0);
	worker_send(k, "release");
	worker_expect(k, "R");
	expect_chain(o, "renamed", 0, 1, 1);
}

/*
 * The main thread calls pthread_exit while other threads work on: the
 * process lives (a zombie leader, no /proc/PID/exe). It stays watched and
 * its file stays probed across rescans.
 */
static void test_leader_exit(void **state)
{
	struct observer_config cfg = disc_config("*/" WORKER_NAME, NULL);
	char *argv[] = { worker_copy, NULL };
	struct worker_proc *w;
	struct observer *o;
	size_t probes;

	(void)state;
	o = test_observe(&cfg);
	w = start_answered(argv);
	observer_poll(o);
	probes = observer_info(o)->probes;
	assert_true(probes > 0);
	worker_send(w, "leaderexit");
	worker_expect(w, "Z");
	/* joined; the leader's exit completes a moment later (its state turns Z) */
	for (int i = 0; i < 5000 && proc_alive(w->pid); i++)
		usleep(1000);
	assert_false(proc_alive(w->pid));
	/*
	 * Before any rescan: the BPF side still watches it (a rescan would
	 * take it again, which hides a watch ended at the leader's exit).
	 */
	worker_send(w, "park orphaned 1");
	worker_expect(w, "E");
	expect_chain(o, "orphaned", 1, 1, 0);
	observer_rescan(o);
	observer_rescan(o);
	assert_int_equal(observer_info(o)->probes, probes);
	worker_send(w, "park orphaned 1");
	worker_expect(w, "E");
	expect_chain(o, "orphaned", 2, 2, 0);
	worker_send(w, "release");
	worker_expect(w, "RR");
	expect_chain(o, "orphaned", 0, 2, 2);
	expect_no_pending_frames(o);
}

/* Pinned: the next collector adopts the files' probes; the counts run on. */
static void test_pinned_restart(void **state)
{
	struct observer_config cfg = disc_config("*/" WORKER_NAME, NULL);
	char *argv[] = { worker_copy, NULL };
	struct worker_proc *w;
	struct observer *o;
	size_t probes, pinned_files = 0;
	struct dirent *d;
	DIR *dir;

	(void)state;
	pin_remove(PIN_DIR);
	cfg.target.pin_dir = PIN_DIR;
	o = test_observe(&cfg);
	w = start_answered(argv);
	observer_poll(o);
	probes = observer_info(o)->probes;
	worker_send(w, "park kept 2");
	worker_expect(w, "EE");
	expect_chain(o, "kept", 2, 2, 0);
	test_unobserve(o);
	/* no collector: the pinned probes count on */
	worker_send(w, "release");
	worker_expect(w, "RR");
	worker_send(w, "park kept 1");
	worker_expect(w, "E");
	o = test_observe(&cfg);
	assert_true(observer_info(o)->reused);
	assert_int_equal(observer_info(o)->probes, probes);
	expect_chain(o, "kept", 1, 3, 2);
	/* the rescan finds the file adopted: no second attachment */
	observer_rescan(o);
	assert_int_equal(observer_info(o)->probes, probes);
	worker_send(w, "release");
	worker_expect(w, "R");
	expect_chain(o, "kept", 0, 3, 3);
	worker_send(w, "quit");
	worker_wait(w);
	observer_rescan(o);
	observer_rescan(o);
	assert_int_equal(observer_info(o)->probes, 0);
	dir = opendir(PIN_DIR);
	assert_non_null(dir);
	while ((d = readdir(dir)))
		pinned_files += d->d_name[0] == 'f' && isdigit((unsigned char)d->d_name[1]);
	closedir(dir);
	assert_int_equal(pinned_files, 0);
}

/*
 * A collector that adopted pinned discovery state holds the files' probes
 * and its tracepoints as one that attached them does: the pin directory
 * cleared while it runs leaves them counting until it stops.
 */
static void test_adopted_holds_its_probes(void **state)
{
	char watching[64];
	char *args[] = { "run", "--pin-dir", PIN_DIR, "--match-exe", "*/" WORKER_NAME, "--func",
			 "worker_handle", "--chain", WORKER_CHAIN_SPEC, "--exporter", "none", NULL };
	char *env[] = { NULL };
	struct observer_config cfg = disc_config("*/" WORKER_NAME, NULL);
	char *argv[] = { worker_copy, NULL };
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	pin_remove(PIN_DIR);
	w = start_answered(argv);
	/* the first collector another process, gone: none of its fds hold the links */
	inflight_start(&run, args, env);
	snprintf(watching, sizeof(watching), "watching pid %d ", (int)w->pid);
	inflight_wait_stderr(&run, watching);
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
	cfg.target.pin_dir = PIN_DIR;
	o = test_observe(&cfg);
	assert_true(observer_info(o)->reused);
	assert_int_equal(pin_remove(PIN_DIR), 0);
	worker_send(w, "park held 2");
	worker_expect(w, "EE");
	expect_chain(o, "held", 2, 2, 0);
	worker_send(w, "release");
	worker_expect(w, "RR");
	expect_chain(o, "held", 0, 2, 2);
	worker_send(w, "quit");
	worker_wait(w);
	test_unobserve(o);
}

/*
 * The command: a worker started after `inflight run` is found at its exec
 * (no rescan due for an hour) and exported.
 */
static void test_run_finds_new_worker(void **state)
{
	char endpoint[96], watching[64];
	char *env[] = { endpoint, "OTEL_METRIC_EXPORT_INTERVAL=200", NULL };
	char *args[] = { "run", "--no-pin", "--match-exe", "*/" WORKER_NAME, "--rescan", "1h",
			 "--func", "worker_handle", "--chain", WORKER_CHAIN_SPEC, NULL };
	char *argv[] = { worker_copy, NULL };
	struct worker_proc *w;

	(void)state;
	receiver_start(&rx, 0);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d",
		 rx.port);
	inflight_start(&run, args, env);
	inflight_wait_stderr(&run, "discovering processes matching exe '*/" WORKER_NAME "': 0 processes");
	w = worker_start(argv);
	snprintf(watching, sizeof(watching), "watching pid %d ", (int)w->pid);
	inflight_wait_stderr(&run, watching);
	worker_send(w, "park late 2");
	worker_expect(w, "EE");
	for (int seq = 1;; seq++) {
		const struct rec_point *p;

		receiver_wait(&rx, seq);
		p = rec_point(receiver_request(&rx, seq), "chain.name=late");
		if (p && p->value == 2)
			break;
	}
	worker_send(w, "release");
	worker_expect(w, "RR");
}

/* Bad discovery input: exit 2, the flag named, nothing attached. */
static void test_bad_input(void **state)
{
	static const struct {
		const char *args[12];
		const char *says;
	} cases[] = {
		{ { "top", "--match-cmdline", "worker(", "--func", "f", NULL },
		  "--match-cmdline 'worker(': not a POSIX extended regular expression" },
		{ { "top", "--match-exe", "*/w", "--binary", "/bin/true", "--func", "f", NULL },
		  "give no --binary, --pid or --python-exe with them" },
		{ { "top", "--match-exe", "*/w", "--usdt", "a:b,a:c", NULL },
		  "--match-exe/--match-cmdline work with --func" },
		{ { "top", "--match-exe", "", "--func", "f", NULL }, "--match-exe '': expected a glob" },
		{ { "top", "--rescan", "5s", "--binary", "/bin/true", "--func", "f", NULL },
		  "--rescan goes with --match-exe or --match-cmdline" },
		{ { "top", "--match-exe", "*/w", "--rescan", "1ms", "--func", "f", NULL },
		  "--rescan '1ms': expected a duration from 100ms to 1h" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int status;

		inflight_start(&run, (char *const *)cases[i].args, NULL);
		status = inflight_stop(&run, 0);
		if (!strstr(run.err, cases[i].says))
			fail_msg("case %zu: stderr lacks '%s':\n%s", i, cases[i].says, run.err);
		assert_int_equal(WEXITSTATUS(status), 2);
	}
}

int main(void)
{
#define T(t) cmocka_unit_test_teardown(t, teardown)
	const struct CMUnitTest tests[] = {
		T(test_found_at_exec),
		T(test_one_attachment_per_file),
		T(test_other_namespaces),
		T(test_exec_releases),
		T(test_cmdline_and_fork),
		T(test_renamed_stay_watched),
		T(test_leader_exit),
		T(test_pinned_restart),
		T(test_adopted_holds_its_probes),
		T(test_run_finds_new_worker),
		T(test_bad_input),
	};
	static const CMUnitTestFunction bpf_free[] = { test_bad_input, NULL };

	apply_test_filter();
	return bpf_run_group_tests_name("discovery: workers found by matching processes",
					tests, bpf_free, setup_group, teardown_group);
}
