// SPDX-License-Identifier: MIT
/*
 * Every kind of target and chain, against the real kernel: a process by pid
 * (also in another mount namespace), a shared library, a USDT pair, a C++
 * handler that throws; chains from strings, numbers, constants, unreadable
 * memory, invalid UTF-8, and past the chain cap.
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
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "support/test_filter.h"
#include "probe/fetch_spec.h"
#include "support/bpf_env.h"
#include "support/observe.h"
#include "support/worker_proc.h"

static struct worker_proc *start(const char *name)
{
	char *argv[] = { (char *)worker_path(name), NULL };

	return worker_start(argv);
}

static struct inflight_fetch parse_spec(const char *spec, bool usdt)
{
	struct inflight_fetch f;
	struct fetch_spec_error e;

	if (fetch_spec_parse(spec, usdt, &f, &e))
		fail_msg("spec '%s': %s at column %d", spec, e.msg, e.column);
	return f;
}

/* --pid counts that process only, though another maps the same binary. */
static void test_pid_filter(void **state)
{
	struct observer_config cfg = test_config(NULL, RETURN_AUTO);
	struct worker_proc *mine, *other;
	struct observer *o;

	(void)state;
	mine = start("native_worker");
	other = start("native_worker");
	/* the worker's image is running once it answers */
	worker_send(mine, "burst warmup 1");
	worker_expect(mine, "B");
	cfg.target.pid = mine->pid;
	o = test_observe(&cfg);
	assert_non_null(strstr(observer_info(o)->binary, "/root/"));

	worker_send(mine, "park mine 2");
	worker_send(other, "park other 3");
	worker_expect(mine, "EE");
	worker_expect(other, "EEE");
	expect_chain(o, "mine", 2, 2, 0);
	expect_no_chain(o, "other");
	worker_send(mine, "release");
	worker_send(other, "release");
	worker_expect(mine, "RR");
	worker_expect(other, "RRR");
	expect_chain(o, "mine", 0, 2, 2);
	expect_no_pending_frames(o);
}

/*
 * A worker whose binary exists only inside its own mount namespace: found
 * through /proc/PID/root.
 */
static void test_mount_namespace(void **state)
{
	struct observer_config cfg = test_config(NULL, RETURN_AUTO);
	char dir[] = "/tmp/inflight-mntns-XXXXXX", script[8192], hidden[4200];
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script),
		 "mount -t tmpfs tmpfs %s && cp %s %s/private_worker && exec %s/private_worker",
		 dir, worker_path("native_worker"), dir, dir);
	{
		char *argv[] = { "unshare", "--mount", "--propagation", "private", "sh", "-c",
				 script, NULL };

		w = worker_start(argv);
	}
	worker_send(w, "burst warmup 1");
	worker_expect(w, "B");
	/* the host cannot see the binary the worker runs */
	snprintf(hidden, sizeof(hidden), "%s/private_worker", dir);
	assert_int_not_equal(access(hidden, F_OK), 0);

	cfg.target.pid = w->pid;
	o = test_observe(&cfg);
	assert_non_null(strstr(observer_info(o)->binary, "/private_worker"));
	worker_send(w, "park isolated 3");
	worker_expect(w, "EEE");
	expect_chain(o, "isolated", 3, 3, 0);
	worker_send(w, "release");
	worker_expect(w, "RRR");
	expect_chain(o, "isolated", 0, 3, 3);
	expect_no_pending_frames(o);
	worker_stop(w);
	rmdir(dir);
}

/* The handler in a shared library: attach to the library file. */
static void test_shared_library(void **state)
{
	struct observer_config cfg = test_config(worker_path("libworker_handler.so"), RETURN_AUTO);
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	o = test_observe(&cfg);
	w = start("native_worker_shared");
	worker_send(w, "park lib 2");
	worker_send(w, "recurse libdeep 3");
	worker_expect(w, "EEE");
	expect_chain(o, "lib", 2, 2, 0);
	expect_chain(o, "libdeep", 3, 3, 0);
	worker_send(w, "release");
	worker_expect(w, "RRR");
	expect_chain(o, "lib", 0, 2, 2);
	expect_chain(o, "libdeep", 0, 3, 3);
	expect_no_pending_frames(o);
}

/* --pid alone finds the function in a library the process mapped. */
static void test_pid_finds_library(void **state)
{
	struct observer_config cfg = test_config(NULL, RETURN_AUTO);
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	w = start("native_worker_shared");
	worker_send(w, "burst warmup 1");
	worker_expect(w, "B");
	cfg.target.pid = w->pid;
	o = test_observe(&cfg);
	assert_non_null(strstr(observer_info(o)->binary, "libworker_handler.so"));
	worker_send(w, "park found 1");
	worker_expect(w, "E");
	expect_chain(o, "found", 1, 1, 0);
	worker_send(w, "release");
	worker_expect(w, "R");
	expect_chain(o, "found", 0, 1, 1);
}

/*
 * Once the process has mapped its library, the library's name inside its
 * root leads to another copy (a bind mount in its own mount namespace, as a
 * container can make). The probes go on the file it mapped, opened through
 * map_files and attached by that descriptor, never by the name: on the
 * copy, which nothing runs, they would count nothing.
 */
static void test_pid_library_name_moved(void **state)
{
	char dir[] = "/tmp/inflight-moved-XXXXXX", exe[64], cmd[512];
	char *argv[] = { "unshare", "--mount", "--propagation", "private", exe, NULL };
	struct observer_config cfg = test_config(NULL, RETURN_AUTO);
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(exe, sizeof(exe), "%s/native_worker_shared", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' '%s/' && cp '%s' '%s/copy.so'",
		 worker_path("native_worker_shared"), worker_path("libworker_handler.so"), dir,
		 worker_path("libworker_handler.so"), dir);
	assert_int_equal(system(cmd), 0);
	w = worker_start(argv);
	worker_send(w, "burst warmup 1");
	worker_expect(w, "B");
	snprintf(cmd, sizeof(cmd), "nsenter -t %d -m mount --bind '%s/copy.so' '%s/libworker_handler.so'",
		 (int)w->pid, dir, dir);
	assert_int_equal(system(cmd), 0);

	cfg.target.pid = w->pid;
	o = test_observe(&cfg);
	assert_non_null(strstr(observer_info(o)->binary, "libworker_handler.so"));
	worker_send(w, "park moved 2");
	worker_expect(w, "EE");
	expect_chain(o, "moved", 2, 2, 0);
	worker_send(w, "release");
	worker_expect(w, "RR");
	expect_chain(o, "moved", 0, 2, 2);
	worker_stop(w);
	test_unobserve(o);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A USDT entry/return pair, the chain from the probe's first argument. */
static void test_usdt(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), RETURN_AUTO);
	struct inflight_fetch f = parse_spec("+0($arg1):string", true);
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	cfg.target.func = NULL;
	cfg.target.usdt = "inflight_test:handle_entry,inflight_test:handle_return";
	cfg.target.fetch = &f;
	o = test_observe(&cfg);
	w = start("native_worker");
	worker_send(w, "park marked 2");
	worker_send(w, "recurse nested 4");
	worker_expect(w, "EEE");
	expect_chain(o, "marked", 2, 2, 0);
	expect_chain(o, "nested", 4, 4, 0);
	worker_send(w, "release");
	worker_expect(w, "RRR");
	expect_chain(o, "marked", 0, 2, 2);
	expect_chain(o, "nested", 0, 4, 4);
	expect_no_pending_frames(o);
}

/*
 * C++: auto picks instruction mode; an exception thrown out of the handler
 * is caught by the caller, the worker lives, and the catch releases the
 * frames at once.
 */
static void test_cxx_throw(void **state)
{
	struct observer_config cfg = test_config(worker_path("cxx_worker"), RETURN_AUTO);
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	cfg.target.func = "cxx_handle";
	o = test_observe(&cfg);
	assert_int_equal(observer_info(o)->mode, RETURN_INSN);
	assert_true(observer_info(o)->catch_probe);
	w = start("cxx_worker");

	worker_send(w, "park calm 1");
	worker_send(w, "throw thrower 2");
	worker_send(w, "inner careful 1");
	worker_expect(w, "EEEE");
	expect_chain(o, "calm", 1, 1, 0);
	expect_chain(o, "thrower", 2, 2, 0);
	/* an exception caught inside the handler leaves its frame alone */
	expect_chain(o, "careful", 1, 1, 0);

	worker_send(w, "release");
	worker_expect(w, "RRCC");
	expect_chain(o, "calm", 0, 1, 1);
	expect_chain(o, "thrower", 0, 2, 2);
	expect_chain(o, "careful", 0, 1, 1);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_CATCH), 2);
	expect_no_pending_frames(o);

	worker_send(w, "quit");
	assert_true(WIFEXITED(worker_wait(w)));
	assert_int_equal(WEXITSTATUS(worker_wait(w)), 0);
}

/*
 * Why auto avoids uretprobes in C++: forced on, the same exception kills
 * the worker (the unwinder cannot walk past the return trampoline).
 */
static void test_cxx_uretprobe_kills(void **state)
{
	struct observer_config cfg = test_config(worker_path("cxx_worker"), RETURN_URETPROBE);
	struct worker_proc *w;
	struct observer *o;
	int status;

	(void)state;
	cfg.target.func = "cxx_handle";
	o = test_observe(&cfg);
	w = start("cxx_worker");
	worker_send(w, "throw doomed 1");
	worker_expect(w, "E");
	printf("expected next: the C++ worker's own 'terminate called after throwing'\n");
	worker_send(w, "release");
	status = worker_wait(w);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	/* and even then the count comes back: the process exit released it */
	expect_chain(o, "doomed", 0, 1, 1);
}

/* Past the chain cap, calls count under the overflow series, and say so. */
static void test_chain_cap(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), RETURN_AUTO);
	struct snapshot s = { 0 };
	struct worker_proc *w;
	struct observer *o;
	int named = 0, overflow = 0;

	(void)state;
	cfg.target.max_chains = 3;
	o = test_observe(&cfg);
	w = start("native_worker");
	for (int i = 1; i <= 5; i++)
		worker_send(w, "park c%d 1", i);
	worker_expect(w, "EEEEE");
	assert_int_equal(observer_read(o, &s), 0);
	for (size_t i = 0; i < s.n; i++) {
		if (s.chains[i].overflow) {
			overflow += (int)s.chains[i].inflight;
			assert_string_equal(s.chains[i].name, "(overflow)");
		} else {
			assert_int_equal(s.chains[i].inflight, 1);
			named++;
		}
	}
	assert_int_equal(named, 3);
	assert_int_equal(overflow, 2);
	assert_int_equal(s.stats[INFLIGHT_STAT_OVERFLOW], 2);
	snapshot_free(&s);

	worker_send(w, "release");
	worker_expect(w, "RRRRR");
	expect_total_inflight(o, 0);
	expect_chain(o, "(overflow)", 0, 2, 2);
	expect_no_pending_frames(o);
}

/*
 * Past the cap, ids are no longer handed out: next_id does not climb with
 * every new key, so it cannot wrap around to 0 and 1 (which would put new
 * keys on the overflow and constant ids and hide every id above next_id).
 * 2^32 keys take an hour at 1M calls/s; next_id is set near the end instead.
 */
static void test_chain_ids_no_wrap(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), RETURN_AUTO);
	struct worker_proc *w;
	struct observer *o;
	volatile __u32 *next_id;

	(void)state;
	cfg.target.max_chains = 3;
	o = test_observe(&cfg);
	w = start("native_worker");
	worker_send(w, "park parked 1");
	worker_expect(w, "E");
	expect_chain(o, "parked", 1, 1, 0);

	next_id = observer_test_next_id(o);
	assert_non_null(next_id);
	*next_id = 0xfffffffe;
	for (int i = 1; i <= 4; i++) {
		worker_send(w, "burst new%d 1", i);
		worker_expect(w, "B");
	}
	/* every new key went to the overflow series; nothing wrapped */
	expect_chain(o, "parked", 1, 1, 0);
	expect_chain(o, "(overflow)", 0, 4, 4);
	for (int i = 1; i <= 4; i++) {
		char name[8];

		snprintf(name, sizeof(name), "new%d", i);
		expect_no_chain(o, name);
	}
	assert_true(*next_id >= 0xfffffffe);

	worker_send(w, "release");
	worker_expect(w, "R");
	expect_chain(o, "parked", 0, 1, 1);
	expect_no_pending_frames(o);
}

/* Installs `from` at `to` as a package upgrade does: a new file renamed over the old. */
static void replace_file(const char *from, const char *to)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s.new' && chmod 0755 '%s.new' && mv '%s.new' '%s'",
		 from, to, to, to, to);
	assert_int_equal(system(cmd), 0);
}

static uint64_t attach_failures(struct observer *o)
{
	struct snapshot s = { 0 };
	uint64_t n;

	assert_int_equal(observer_read(o, &s), 0);
	n = s.attach_failures;
	snapshot_free(&s);
	return n;
}

/*
 * --binary PATH replaced on disk (new inode): processes started from the
 * new file count too, those still running the old one count on. A new
 * file without the function is said once and counted as an attach failure.
 */
static void test_binary_replaced(void **state)
{
	char dir[] = "/tmp/inflight-follow-XXXXXX", path[64], cmd[128];
	enum return_mode modes[] = { RETURN_URETPROBE, RETURN_INSN };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/worker", dir);
	for (int m = 0; m < 2; m++) {
		struct observer_config cfg;
		char *argv[] = { path, NULL };
		struct worker_proc *old, *new;
		struct observer *o;
		size_t probes;

		replace_file(worker_path("native_worker"), path);
		cfg = test_config(path, modes[m]);
		o = test_observe(&cfg);
		probes = observer_info(o)->probes;
		old = worker_start(argv);
		worker_send(old, "park old 1");
		worker_expect(old, "E");

		replace_file(worker_path("native_worker"), path);
		observer_poll(o);
		assert_int_equal(observer_info(o)->probes, 2 * probes);
		new = worker_start(argv);
		worker_send(new, "park new 2");
		worker_expect(new, "EE");
		expect_chain(o, "old", 1, 1, 0);
		expect_chain(o, "new", 2, 2, 0);
		assert_int_equal(attach_failures(o), 0);
		worker_send(old, "release");
		worker_send(new, "release");
		worker_expect(old, "R");
		worker_expect(new, "RR");
		expect_chain(o, "old", 0, 1, 1);
		expect_chain(o, "new", 0, 2, 2);
		assert_int_equal(observed_stat(o, INFLIGHT_STAT_UNMATCHED), 0);
		expect_no_pending_frames(o);

		/* no worker_handle in the new file: said once, counted once */
		replace_file("/bin/true", path);
		observer_poll(o);
		observer_poll(o);
		assert_int_equal(attach_failures(o), 1);
		worker_stop(old);
		worker_stop(new);
		test_unobserve(o);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The chain as a number (a field of the second argument), per frame. */
static void test_numeric_chain(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), RETURN_AUTO);
	/* worker_handle(chain, job): job->depth is the first int */
	struct inflight_fetch f = parse_spec("+0(%si):s32", false);
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	cfg.target.fetch = &f;
	o = test_observe(&cfg);
	w = start("native_worker");
	worker_send(w, "recurse ignored 3");
	worker_expect(w, "E");
	expect_chain(o, "3", 1, 1, 0);
	expect_chain(o, "2", 1, 1, 0);
	expect_chain(o, "1", 1, 1, 0);
	worker_send(w, "release");
	worker_expect(w, "R");
	expect_total_inflight(o, 0);
}

/* A constant chain name: every call counts under it. */
static void test_constant_chain(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), RETURN_AUTO);
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	cfg.target.fetch = NULL;
	cfg.target.chain_name = "jobs";
	o = test_observe(&cfg);
	w = start("native_worker");
	worker_send(w, "park a 2");
	worker_send(w, "park b 1");
	worker_expect(w, "EEE");
	expect_chain(o, "jobs", 3, 3, 0);
	expect_no_chain(o, "a");
	worker_send(w, "release");
	worker_expect(w, "RRR");
	expect_chain(o, "jobs", 0, 3, 3);
}

/* A fetch that faults counts under "(unreadable)" and is reported. */
static void test_unreadable_chain(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), RETURN_AUTO);
	/* job->arg is NULL for parked calls: the string read faults */
	struct inflight_fetch f = parse_spec("+0(+16(%si)):string", false);
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	cfg.target.fetch = &f;
	o = test_observe(&cfg);
	w = start("native_worker");
	worker_send(w, "park x 2");
	worker_expect(w, "EE");
	expect_chain(o, "(unreadable)", 2, 2, 0);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_FETCH_FAULT), 2);
	worker_send(w, "release");
	worker_expect(w, "RR");
	expect_chain(o, "(unreadable)", 0, 2, 2);
}

/* Names are made valid UTF-8 and capped at 63 bytes. */
static void test_names_sanitised(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), RETURN_AUTO);
	char longname[101];
	struct worker_proc *w;
	struct observer *o;

	(void)state;
	memset(longname, 'n', 100);
	longname[100] = '\0';
	o = test_observe(&cfg);
	w = start("native_worker");
	worker_send(w, "park caf\\xc3\\xa9 1");
	worker_send(w, "park bad\\xff\\xfe 1");
	worker_send(w, "park %s 1", longname);
	worker_expect(w, "EEE");
	expect_chain(o, "caf\xc3\xa9", 1, 1, 0);
	expect_chain(o, "bad\xef\xbf\xbd\xef\xbf\xbd", 1, 1, 0);
	longname[63] = '\0';
	expect_chain(o, longname, 1, 1, 0);
	worker_send(w, "release");
	worker_expect(w, "RRR");
	expect_total_inflight(o, 0);
}

int main(void)
{
#define T(t) cmocka_unit_test_teardown(t, test_teardown)
	const struct CMUnitTest tests[] = {
		T(test_pid_filter),
		T(test_mount_namespace),
		T(test_shared_library),
		T(test_pid_finds_library),
		T(test_pid_library_name_moved),
		T(test_usdt),
		T(test_cxx_throw),
		T(test_cxx_uretprobe_kills),
		T(test_chain_cap),
		T(test_chain_ids_no_wrap),
		T(test_binary_replaced),
		T(test_numeric_chain),
		T(test_constant_chain),
		T(test_unreadable_chain),
		T(test_names_sanitised),
	};

	apply_test_filter();
	return bpf_run_group_tests_name("targets and chains", tests, NULL, NULL, NULL);
}
