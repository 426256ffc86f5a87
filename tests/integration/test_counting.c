// SPDX-License-Identifier: MIT
/*
 * The counting rules, against the real kernel: calls parked inside a native
 * worker's handler are counted exactly; every way out of the handler brings
 * the count back. Each test runs in both return modes where they differ.
 */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "support/test_filter.h"
#include "support/bpf_env.h"
#include "support/observe.h"
#include "support/worker_proc.h"
#include "probe/pending_calls.h"
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static enum return_mode uret = RETURN_URETPROBE, insn = RETURN_INSN;

static enum return_mode mode_of(void **state)
{
	return *(enum return_mode *)*state;
}

static struct worker_proc *start_native(void)
{
	char *argv[] = { (char *)worker_path("native_worker"), NULL };

	return worker_start(argv);
}

/* Threads on three chains park, are counted exactly, return, count 0. */
static void test_parked_threads(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode_of(state));
	struct worker_proc *w;
	struct observer *o;

	o = test_observe(&cfg);
	assert_int_equal(observer_info(o)->mode, mode_of(state));
	w = start_native();

	worker_send(w, "park alpha 3");
	worker_send(w, "park beta 2");
	worker_send(w, "park gamma 1");
	worker_expect(w, "EEEEEE");
	expect_chain(o, "alpha", 3, 3, 0);
	expect_chain(o, "beta", 2, 2, 0);
	expect_chain(o, "gamma", 1, 1, 0);
	expect_pending_frames(o, 6);

	worker_send(w, "release");
	worker_expect(w, "RRRRRR");
	expect_chain(o, "alpha", 0, 3, 3);
	expect_chain(o, "beta", 0, 2, 2);
	expect_chain(o, "gamma", 0, 1, 1);
	/* all six came back through the return probe, none repaired */
	assert_int_equal(observed_returned(o, "alpha"), 3);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_UNMATCHED), 0);
	expect_no_pending_frames(o);

	worker_stop(w);
	test_unobserve(o);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The chain id the observer gave `name`; fails the test if unseen. */
static uint32_t chain_id(struct observer *o, const char *name)
{
	struct snapshot s = { 0 };
	uint32_t id = UINT32_MAX;

	assert_int_equal(observer_read(o, &s), 0);
	for (size_t i = 0; i < s.n; i++)
		if (!strcmp(s.chains[i].name, name))
			id = s.chains[i].id;
	snapshot_free(&s);
	if (id == UINT32_MAX)
		fail_msg("chain '%s' not seen", name);
	return id;
}

/*
 * The pending calls one by one (the task iterator): each parked call's
 * process, thread, chain, depth and entry time, and where its thread is.
 */
static void test_pending_calls(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode_of(state));
	struct pending_call *c;
	struct worker_proc *w;
	struct observer *o;
	uint32_t alpha, deep;
	uint64_t before, after;
	size_t n, nalpha = 0, ndeep = 0;
	pid_t alpha_tid[2] = { 0, 0 };

	o = test_observe(&cfg);
	w = start_native();
	before = mono_ns();
	worker_send(w, "park alpha 2");
	worker_send(w, "recurse deep 3");
	worker_expect(w, "EEE");
	after = mono_ns();
	alpha = chain_id(o, "alpha");
	deep = chain_id(o, "deep");

	assert_int_equal(observer_pending_calls(o, &c, &n), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		char task[64];

		assert_int_equal(c[i].pid, w->pid);
		snprintf(task, sizeof(task), "/proc/%d/task/%d", (int)w->pid, (int)c[i].tid);
		if (access(task, F_OK))
			fail_msg("call %zu: tid %d is no thread of the worker", i, (int)c[i].tid);
		assert_int_equal(c[i].goid, -1);
		if (c[i].entry_ns < before || c[i].entry_ns > after)
			fail_msg("call %zu entered at %llu, outside [%llu, %llu]", i,
				 (unsigned long long)c[i].entry_ns, (unsigned long long)before,
				 (unsigned long long)after);
		/* parked in a blocking call: its registers are where it sleeps */
		assert_true(c[i].ip != 0 && c[i].usp != 0 && c[i].usp < c[i].sp);
		if (c[i].chain == alpha) {
			assert_int_equal(c[i].depth, 0);
			if (nalpha < 2)
				alpha_tid[nalpha] = c[i].tid;
			nalpha++;
		} else if (c[i].chain == deep) {
			/* one thread, outermost first, each frame deeper on the stack */
			assert_int_equal(c[i].depth, ndeep);
			if (ndeep) {
				assert_int_equal(c[i].tid, c[i - 1].tid);
				assert_true(c[i].sp < c[i - 1].sp);
				/* each its own entry time: the inner call entered after the outer */
				assert_true(c[i].entry_ns > c[i - 1].entry_ns);
			}
			ndeep++;
		} else {
			fail_msg("call %zu: chain id %u is neither alpha nor deep", i, c[i].chain);
		}
	}
	assert_int_equal(nalpha, 2);
	assert_int_equal(ndeep, 3);
	/* the two alpha calls are on two threads */
	assert_true(alpha_tid[0] != alpha_tid[1]);
	free(c);

	worker_send(w, "release");
	worker_expect(w, "RRR");
	expect_pending_calls(o, 0);
	worker_stop(w);
	test_unobserve(o);
}

/* A chain's returned calls and how many of them were timed. */
static void returned_and_timed(struct observer *o, const char *name, uint64_t *returned,
			       uint64_t *timed)
{
	struct snapshot s = { 0 };

	*returned = *timed = UINT64_MAX;
	assert_int_equal(observer_read(o, &s), 0);
	for (size_t i = 0; i < s.n; i++)
		if (!strcmp(s.chains[i].name, name)) {
			*returned = s.chains[i].returned;
			*timed = s.chains[i].duration_count;
		}
	snapshot_free(&s);
	if (*returned == UINT64_MAX)
		fail_msg("chain '%s' not seen", name);
}

/*
 * Returns are timed into the histogram by default; untimed (run's
 * --no-duration) they are counted all the same, the probes read no clock
 * at return, and the entry time (for the calls' ages) is kept alike.
 */
static void test_untimed_returns(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode_of(state));
	struct worker_proc *w;
	struct observer *o;
	uint64_t returned, timed;

	for (int untimed = 0; untimed < 2; untimed++) {
		cfg.target.untimed = untimed;
		o = test_observe(&cfg);
		w = start_native();
		uint64_t before = mono_ns(), after;
		struct pending_call *c;
		size_t n;

		worker_send(w, "park timing 3");
		worker_expect(w, "EEE");
		after = mono_ns();
		assert_int_equal(observer_pending_calls(o, &c, &n), 0);
		assert_int_equal(n, 3);
		for (size_t i = 0; i < n; i++)
			if (c[i].entry_ns > after || c[i].entry_ns < before)
				fail_msg("%s call %zu entered at %llu, outside [%llu, %llu]",
					 untimed ? "untimed" : "timed", i,
					 (unsigned long long)c[i].entry_ns, (unsigned long long)before,
					 (unsigned long long)after);
		free(c);
		worker_send(w, "release");
		worker_expect(w, "RRR");
		returned_and_timed(o, "timing", &returned, &timed);
		assert_int_equal(returned, 3);
		assert_int_equal(timed, untimed ? 0 : 3);
		worker_stop(w);
		test_unobserve(o);
	}
}

/* Recursion counts once per frame. */
static void test_recursion(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode_of(state));
	struct worker_proc *w;
	struct observer *o;

	o = test_observe(&cfg);
	w = start_native();

	worker_send(w, "recurse deep 7");
	worker_send(w, "park flat 1");
	worker_expect(w, "EE");
	expect_chain(o, "deep", 7, 7, 0);
	expect_chain(o, "flat", 1, 1, 0);
	expect_pending_frames(o, 8);
	worker_send(w, "release");
	worker_expect(w, "RR");
	expect_chain(o, "deep", 0, 7, 7);
	assert_int_equal(observed_returned(o, "deep"), 7);
	expect_no_pending_frames(o);

	worker_stop(w);
	test_unobserve(o);
}

/*
 * longjmp out of the handler: no return probe fires. The probe on glibc's
 * longjmp releases the frame as it jumps; the thread's next call finds
 * nothing stale.
 */
static void test_longjmp(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode_of(state));
	struct worker_proc *w;
	struct observer *o;

	o = test_observe(&cfg);
	w = start_native();

	worker_send(w, "longjmp jumpy");
	worker_expect(w, "E");
	expect_chain(o, "jumpy", 1, 1, 0);
	/* released: it longjmps out, then calls again on the same thread and parks */
	worker_send(w, "release");
	worker_expect(w, "LE");
	expect_chain(o, "jumpy", 1, 2, 1);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_LONGJMP), 1);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_STALE), 0);
	worker_send(w, "release");
	worker_expect(w, "R");
	expect_chain(o, "jumpy", 0, 2, 2);
	expect_no_pending_frames(o);

	worker_stop(w);
	test_unobserve(o);
}

/*
 * siglongjmp out of three nested handler frames (PostgreSQL reports every
 * error so), then the thread sits idle: the count is 0 at the next reading,
 * not when the thread next calls.
 */
static void test_siglongjmp_idle(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode_of(state));
	struct worker_proc *w;
	struct observer *o;

	o = test_observe(&cfg);
	w = start_native();

	worker_send(w, "park other 1");
	worker_send(w, "siglongjmp pgerr 3");
	worker_expect(w, "EE");
	expect_chain(o, "pgerr", 3, 3, 0);
	expect_chain(o, "other", 1, 1, 0);
	/* the parked `other` returns; pgerr jumps out and waits outside */
	worker_send(w, "release");
	worker_expect(w, "RL");
	expect_chain(o, "pgerr", 0, 3, 3);
	expect_chain(o, "other", 0, 1, 1);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_LONGJMP), 3);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_UNMATCHED), 0);
	expect_no_pending_frames(o);
	worker_send(w, "release");
	worker_expect(w, "R");
	expect_chain(o, "pgerr", 0, 3, 3);

	worker_stop(w);
	test_unobserve(o);
}

/*
 * A handler that catches an error itself (PostgreSQL's PG_TRY inside a
 * function): the outer call sets the jump point and a nested call jumps
 * back to it. Only the frame below the jump point ends; the outer call
 * stays in flight until it returns, and that return is matched.
 */
static void test_longjmp_caught_inside(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode_of(state));
	struct worker_proc *w;
	struct observer *o;

	o = test_observe(&cfg);
	w = start_native();

	worker_send(w, "catchjmp caught");
	worker_expect(w, "E");
	expect_chain(o, "caught", 2, 2, 0);
	/* the nested call jumps back into the outer one, which waits inside */
	worker_send(w, "release");
	worker_expect(w, "L");
	expect_chain(o, "caught", 1, 2, 1);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_LONGJMP), 1);
	expect_pending_frames(o, 1);
	worker_send(w, "release");
	worker_expect(w, "R");
	expect_chain(o, "caught", 0, 2, 2);
	assert_int_equal(observed_returned(o, "caught"), 1);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_UNMATCHED), 0);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_STALE), 0);
	expect_no_pending_frames(o);

	worker_stop(w);
	test_unobserve(o);
}

/* pthread_exit inside the handler: the thread's exit releases its frame. */
static void test_thread_exit(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode_of(state));
	struct worker_proc *w;
	struct observer *o;
	uint64_t returned, timed;

	o = test_observe(&cfg);
	w = start_native();

	worker_send(w, "park stay 1");
	worker_send(w, "exitthread leaving");
	worker_expect(w, "EE");
	expect_chain(o, "leaving", 1, 1, 0);
	/* X comes after pthread_join: the thread is gone */
	worker_send(w, "release");
	worker_expect(w, "XR");
	expect_chain(o, "leaving", 0, 1, 1);
	expect_chain(o, "stay", 0, 1, 1);
	/* the released call is neither returned nor timed; the returned one is both */
	returned_and_timed(o, "leaving", &returned, &timed);
	assert_int_equal(returned, 0);
	assert_int_equal(timed, 0);
	returned_and_timed(o, "stay", &returned, &timed);
	assert_int_equal(returned, 1);
	assert_int_equal(timed, 1);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_EXIT), 1);
	expect_no_pending_frames(o);
	/* the worker survived the thread's unwinding */
	worker_send(w, "quit");
	assert_true(WIFEXITED(worker_wait(w)) && WEXITSTATUS(worker_wait(w)) == 0);

	worker_stop(w);
	test_unobserve(o);
}

/*
 * fork inside the handler: the child returns from a frame it never entered
 * (ignored), makes one call of its own (counted), exits.
 */
static void test_fork(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode_of(state));
	struct worker_proc *w;
	struct observer *o;

	o = test_observe(&cfg);
	w = start_native();

	worker_send(w, "fork forky");
	worker_expect(w, "E");
	expect_chain(o, "forky", 1, 1, 0);
	worker_send(w, "release");
	worker_expect(w, "FR");
	expect_chain(o, "forky", 0, 2, 2);
	assert_int_equal(observed_returned(o, "forky"), 2);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_UNMATCHED), 1);
	expect_no_pending_frames(o);

	worker_stop(w);
	test_unobserve(o);
}

/*
 * exec inside the handler: the exec'ing thread's frame is released by exec,
 * the other threads' by their exit.
 */
static void test_exec(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode_of(state));
	struct worker_proc *w;
	struct observer *o;

	o = test_observe(&cfg);
	w = start_native();

	worker_send(w, "park bystander 2");
	worker_send(w, "exec execer");
	worker_expect(w, "EEE");
	expect_chain(o, "bystander", 2, 2, 0);
	expect_chain(o, "execer", 1, 1, 0);
	/* A is written by the new program image */
	worker_send(w, "doexec");
	worker_expect(w, "A");
	expect_chain(o, "execer", 0, 1, 1);
	expect_chain(o, "bystander", 0, 2, 2);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_EXEC), 1);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_EXIT), 2);
	assert_true(WIFEXITED(worker_wait(w)));
	expect_no_pending_frames(o);

	worker_stop(w);
	test_unobserve(o);
}

/* SIGKILL with calls parked: every frame is released, nothing stays pending. */
static void test_sigkill(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode_of(state));
	struct worker_proc *w;
	struct observer *o;

	o = test_observe(&cfg);
	w = start_native();

	worker_send(w, "park doomed 3");
	worker_send(w, "recurse doomed-deep 4");
	worker_expect(w, "EEEE");
	expect_chain(o, "doomed", 3, 3, 0);
	expect_chain(o, "doomed-deep", 4, 4, 0);

	kill(w->pid, SIGKILL);
	/* reaped: every thread has been through do_exit */
	assert_true(WIFSIGNALED(worker_wait(w)));
	expect_chain(o, "doomed", 0, 3, 3);
	expect_chain(o, "doomed-deep", 0, 4, 4);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_EXIT), 7);
	/* and the frames of the dead threads are gone */
	expect_no_pending_frames(o);

	worker_stop(w);
	test_unobserve(o);
}

/* Two threads hammering eight chains: entered equals exited, exactly. */
static void test_stress_exact(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode_of(state));
	struct worker_proc *w;
	struct observer *o;
	char name[8];
	/* insn mode single-steps each exit: fewer calls keep the test short */
	long calls = mode_of(state) == RETURN_INSN ? 4000 : 20000;

	o = test_observe(&cfg);
	w = start_native();

	worker_send(w, "stress 2 %ld 8", calls);
	worker_expect(w, "S");
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		expect_chain(o, name, 0, (uint64_t)calls * 2 / 8, (uint64_t)calls * 2 / 8);
	}
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_UNMATCHED), 0);
	expect_no_pending_frames(o);

	worker_stop(w);
	test_unobserve(o);
}

/*
 * Live readings are consistent: with 2 threads calling back to back on one
 * chain, a reading taken at any moment lies in [0, 2]. A reading that sums
 * exits, then entries, counts the calls that started and ended between the
 * two passes as in flight; it must notice and read again.
 */
static void test_live_readings(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode_of(state));
	struct worker_proc *w;
	struct observer *o;
	long calls = mode_of(state) == RETURN_INSN ? 100000 : 400000;
	long readings = 0, outside = 0;
	int64_t worst = 0;
	bool done = false;

	o = test_observe(&cfg);
	w = start_native();
	worker_send(w, "stress 2 %ld 1", calls);
	while (!done) {
		struct pollfd pfd = { .fd = w->event_fd, .events = POLLIN };
		struct snapshot s = { 0 };

		assert_int_equal(observer_read(o, &s), 0);
		for (size_t i = 0; i < s.n; i++) {
			int64_t v = s.chains[i].inflight;

			if (v < 0 || v > 2) {
				outside++;
				if (v < 0 ? -v > (worst < 0 ? -worst : worst)
					  : v > (worst < 0 ? -worst : worst))
					worst = v;
			}
		}
		snapshot_free(&s);
		readings++;
		/* a look at the pipe every 64 readings: the reads stay back to back */
		if (!(readings & 63))
			done = poll(&pfd, 1, 0) == 1;
	}
	worker_expect(w, "S");
	if (outside)
		fail_msg("%ld of %ld readings outside [0, 2]; worst %lld", outside, readings,
			 (long long)worst);
	print_message("%ld readings, every one in [0, 2]\n", readings);
	expect_chain(o, "s0", 0, (uint64_t)calls * 2, (uint64_t)calls * 2);

	worker_stop(w);
	test_unobserve(o);
}

/* Parks two calls in one handler variant and checks the count while parked. */
static void park_variant(enum return_mode mode, const char *func, int variant,
			 int64_t parked_inflight)
{
	struct observer_config cfg = test_config(worker_path("native_worker"), mode);
	struct worker_proc *w;
	struct observer *o;

	cfg.target.func = func;
	o = test_observe(&cfg);
	w = start_native();
	worker_send(w, "park v%d 2 %d", variant, variant);
	worker_expect(w, "EE");
	{
		char chain[8];

		snprintf(chain, sizeof(chain), "v%d", variant);
		expect_chain(o, chain, parked_inflight, 2, (uint64_t)(2 - parked_inflight));
		worker_send(w, "release");
		worker_expect(w, "RR");
		expect_chain(o, chain, 0, 2, 2);
	}
	/* a jump misjudged as an exit would show as a return without entry */
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_UNMATCHED), 0);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_STALE), 0);
	expect_no_pending_frames(o);
	worker_stop(w);
	test_unobserve(o);
}

/*
 * Exits other than ret. A jump table (an indirect jump inside the function)
 * is no exit. A tail call is: in insn mode the handler's frame ends at the
 * jump, so a call parked in the tail-callee is no longer counted; a
 * uretprobe fires only when the tail-callee returns to the caller.
 */
static void test_exit_kinds(void **state)
{
	enum return_mode mode = mode_of(state);

	park_variant(mode, "worker_handle_switch", 3, 2);
	park_variant(mode, "worker_handle_tail", 1, mode == RETURN_INSN ? 0 : 2);
	park_variant(mode, "worker_handle_indirect", 2, mode == RETURN_INSN ? 0 : 2);
}

/*
 * A worker built with CET (endbr64 first in every function): the entry is
 * probed after the endbr64, and the counts are as exact.
 */
static void test_cet_worker(void **state)
{
	struct observer_config cfg = test_config(worker_path("native_worker_cet"), mode_of(state));
	char *argv[] = { (char *)worker_path("native_worker_cet"), NULL };
	struct worker_proc *w;
	struct observer *o;

	o = test_observe(&cfg);
	assert_true(observer_info(o)->after_endbr);
	w = worker_start(argv);
	worker_send(w, "park cet 2");
	worker_send(w, "recurse cetdeep 3");
	worker_expect(w, "EEE");
	expect_chain(o, "cet", 2, 2, 0);
	expect_chain(o, "cetdeep", 3, 3, 0);
	worker_send(w, "release");
	worker_expect(w, "RRR");
	expect_chain(o, "cet", 0, 2, 2);
	expect_chain(o, "cetdeep", 0, 3, 3);
	assert_int_equal(observed_returned(o, "cetdeep"), 3);
	expect_no_pending_frames(o);
	worker_stop(w);
	test_unobserve(o);
}

int main(void)
{
#define BOTH(t)                                                           \
	cmocka_unit_test_prestate_setup_teardown(t, NULL, test_teardown, &uret), \
	cmocka_unit_test_prestate_setup_teardown(t, NULL, test_teardown, &insn)
	const struct CMUnitTest tests[] = {
		BOTH(test_parked_threads),
		BOTH(test_recursion),
		BOTH(test_pending_calls),
		BOTH(test_untimed_returns),
		BOTH(test_longjmp),
		BOTH(test_siglongjmp_idle),
		BOTH(test_longjmp_caught_inside),
		BOTH(test_thread_exit),
		BOTH(test_fork),
		BOTH(test_exec),
		BOTH(test_sigkill),
		BOTH(test_stress_exact),
		BOTH(test_live_readings),
		BOTH(test_exit_kinds),
		BOTH(test_cet_worker),
	};

	apply_test_filter();
	return bpf_run_group_tests_name("counting rules (native worker, uretprobe and insn)",
					tests, NULL, NULL, NULL);
}
