// SPDX-License-Identifier: MIT
/*
 * Bounded work per reading: a process's memory is the process's to forge.
 * A frame or thread list that loops is caught within a few steps, a read
 * budget stops any walk, and neither touches a well-formed list. The
 * "process" here is this test's own memory, laid out as each supported
 * CPython's runtime -> interpreter -> thread -> frames, read through
 * process_vm_readv like any other.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/proc_mem.h"
#include "python/py_layout.h"
#include "python/py_walk.h"

#define NFRAMES 1000
#define OBJ 8192 /* room for the runtime, interpreter and thread states */
#define FRAME 1024 /* the walker reads at most 512 bytes of a frame */

struct fake {
	uint8_t runtime[OBJ], interp[OBJ], ts[OBJ], cframe[OBJ];
	uint8_t frames[NFRAMES][FRAME];
};

static void put(uint8_t *obj, int off, const void *target)
{
	uint64_t v = (uint64_t)(uintptr_t)target;

	assert_true(off >= 0 && off + 8 <= FRAME * 8);
	memcpy(obj + off, &v, 8);
}

/* One interpreter, one thread, `n` frames linked innermost first. */
static struct fake *fake_new(const struct py_layout *L, size_t n)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	put(f->runtime, L->runtime_interpreters_head, f->interp);
	put(f->interp, L->interp_threads_head, f->ts);
	if (L->cframe_current_frame >= 0) {
		put(f->ts, L->tstate_frame, f->cframe);
		put(f->cframe, L->cframe_current_frame, f->frames[0]);
	} else {
		put(f->ts, L->tstate_frame, f->frames[0]);
	}
	for (size_t i = 0; i + 1 < n; i++)
		put(f->frames[i], L->frame_previous, f->frames[i + 1]);
	return f;
}

static void found(void *ctx, const char *chain, const struct py_call_key *call)
{
	(void)chain;
	(void)call;
	(*(int *)ctx)++;
}

/* Walks the fake under a budget of `max_reads`; returns how the budget ended. */
static enum proc_budget_state walk(const struct py_layout *L, struct fake *f, uint64_t max_reads,
				   struct py_walk_stats *st)
{
	struct py_process p = { .pid = getpid(), .L = *L, .runtime = (uint64_t)(uintptr_t)f->runtime,
				 .layout_checked = true };
	struct py_target t = { .func = "_handle_vcon" };
	static struct py_code_cache cache;
	uint64_t reads;
	int calls = 0;

	py_code_cache_reset(&cache);
	proc_budget_start(max_reads);
	py_walk(&p, &t, &cache, found, &calls, st, &reads);
	return proc_budget_end();
}

static void test_well_formed_list_walked_whole(void **state)
{
	(void)state;
	for (size_t i = 0; i < py_layouts_count; i++) {
		const struct py_layout *L = &py_layouts[i];
		struct fake *f = fake_new(L, 3);
		struct py_walk_stats st;

		assert_int_equal(walk(L, f, 100000, &st), PROC_BUDGET_OK);
		assert_int_equal(st.threads, 1);
		assert_int_equal(st.frames, 3);
		free(f);
	}
}

/* A frame whose previous is an earlier frame: without the guard, 2048 frames a thread. */
static void test_frame_cycle_caught(void **state)
{
	(void)state;
	for (size_t i = 0; i < py_layouts_count; i++) {
		const struct py_layout *L = &py_layouts[i];
		struct fake *f = fake_new(L, 5);
		struct py_walk_stats st;

		put(f->frames[4], L->frame_previous, f->frames[2]); /* 0 1 2 3 4 2 3 4 ... */
		assert_int_equal(walk(L, f, 100000, &st), PROC_BUDGET_CYCLE);
		/* caught within the tail plus twice the loop */
		if (st.frames > 2 + 2 * 3 + 1)
			fail_msg("3.%d: %llu frames read before the loop was caught", L->minor,
				 (unsigned long long)st.frames);
		free(f);
	}
}

/* A thread state that is its own next: without the guard, 4096 threads. */
static void test_thread_cycle_caught(void **state)
{
	(void)state;
	for (size_t i = 0; i < py_layouts_count; i++) {
		const struct py_layout *L = &py_layouts[i];
		struct fake *f = fake_new(L, 1);
		struct py_walk_stats st;

		put(f->ts, L->tstate_next, f->ts);
		assert_int_equal(walk(L, f, 100000, &st), PROC_BUDGET_CYCLE);
		assert_true(st.threads <= 2);
		free(f);
	}
}

/*
 * An interpreter that is its own next: without the guard, its threads are
 * walked 64 times and their calls counted 64 times in one reading.
 */
static void test_interpreter_cycle_caught(void **state)
{
	(void)state;
	for (size_t i = 0; i < py_layouts_count; i++) {
		const struct py_layout *L = &py_layouts[i];
		struct fake *f = fake_new(L, 1);
		struct py_walk_stats st;

		put(f->interp, L->interp_next, f->interp);
		assert_int_equal(walk(L, f, 100000, &st), PROC_BUDGET_CYCLE);
		if (st.threads > 2)
			fail_msg("3.%d: %llu threads walked before the loop was caught", L->minor,
				 (unsigned long long)st.threads);
		free(f);
	}
}

/*
 * A frame whose previous is an address within a frame's length of 2^64
 * (torn memory: a small negative number): the frame read from the walker's
 * window must not wrap past its end. Each such address is only given up.
 */
static void test_frame_near_top_of_addresses(void **state)
{
	(void)state;
	for (size_t i = 0; i < py_layouts_count; i++) {
		const struct py_layout *L = &py_layouts[i];

		for (uint64_t back = 1; back <= 512; back *= 2) {
			struct fake *f = fake_new(L, 2);
			struct py_walk_stats st;

			put(f->frames[1], L->frame_previous, (void *)(uintptr_t)(0 - back));
			assert_int_equal(walk(L, f, 100000, &st), PROC_BUDGET_OK);
			assert_int_equal(st.frames, 2);
			free(f);
		}
	}
}

/* A long list, well formed but longer than the budget allows, stops at the budget. */
static void test_budget_stops_walk(void **state)
{
	(void)state;
	for (size_t i = 0; i < py_layouts_count; i++) {
		const struct py_layout *L = &py_layouts[i];
		struct fake *f = fake_new(L, NFRAMES);
		struct py_walk_stats st;

		assert_int_equal(walk(L, f, 50, &st), PROC_BUDGET_SPENT);
		/* one read may bring a few frames (the walker's window), never all */
		assert_true(st.frames < NFRAMES / 4);
		/* the same list with room enough: every frame */
		assert_int_equal(walk(L, f, 100000, &st), PROC_BUDGET_OK);
		assert_int_equal(st.frames, NFRAMES);
		free(f);
	}
}

/*
 * 4096 threads sharing one list of 2048 frames packed 16 or 32 bytes
 * apart (each frame's previous the next word pair, its code NULL): the
 * walker's window serves a thread's frames in a few reads, so without a
 * cost per frame served the budget let through about 300 frames a read
 * (3 million here, 20 million under the collector's 100000).
 */
#define DENSE_FRAMES 2048
#define DENSE_THREADS 4096
#define TS_STRIDE 256

static void test_window_frames_spend_budget(void **state)
{
	(void)state;
	for (size_t i = 0; i < py_layouts_count; i++) {
		const struct py_layout *L = &py_layouts[i];
		uint64_t stride = (L->frame_previous - L->frame_code) % 16 ? 16 : 32;
		size_t flen = DENSE_FRAMES * stride + 512;
		uint8_t *frames = calloc(1, flen), *ts = calloc(DENSE_THREADS, TS_STRIDE);
		uint8_t cframe[64] = { 0 }, runtime[1024] = { 0 }, *interp = calloc(1, OBJ);
		struct py_process p = { .pid = getpid(), .L = *L,
					 .runtime = (uint64_t)(uintptr_t)runtime, .layout_checked = true };
		struct py_target t = { .func = "_handle_vcon" };
		static struct py_code_cache cache;
		struct py_walk_stats st;
		uint64_t reads;

		assert_true(frames && ts && interp);
		for (size_t k = 0; k + 1 < DENSE_FRAMES; k++)
			put(frames + k * stride, L->frame_previous, frames + (k + 1) * stride);
		put(runtime, L->runtime_interpreters_head, interp);
		put(interp, L->interp_threads_head, ts);
		if (L->cframe_current_frame >= 0)
			put(cframe, L->cframe_current_frame, frames);
		for (size_t k = 0; k < DENSE_THREADS; k++) {
			uint8_t *th = ts + k * TS_STRIDE;

			if (k + 1 < DENSE_THREADS)
				put(th, L->tstate_next, th + TS_STRIDE);
			put(th, L->tstate_frame, L->cframe_current_frame >= 0 ? (void *)cframe : frames);
		}
		py_code_cache_reset(&cache);
		proc_budget_start(10000);
		py_walk(&p, &t, &cache, found, &(int){ 0 }, &st, &reads);
		assert_int_equal(proc_budget_end(), PROC_BUDGET_SPENT);
		if (st.frames > 16 * 10000 + DENSE_FRAMES)
			fail_msg("3.%d: %llu frames walked on a budget of 10000 reads", L->minor,
				 (unsigned long long)st.frames);
		/* a well-formed thread's frames are still all walked */
		proc_budget_start(100000);
		put(ts, L->tstate_next, NULL);
		py_walk(&p, &t, &cache, found, &(int){ 0 }, &st, &reads);
		assert_int_equal(proc_budget_end(), PROC_BUDGET_OK);
		assert_int_equal(st.frames, DENSE_FRAMES);
		free(frames);
		free(ts);
		free(interp);
	}
}

/* The budget counts reads, refuses past it without a syscall, and ends cleanly. */
static void test_budget_counts_reads(void **state)
{
	struct proc_mem m = { .pid = getpid() };
	uint64_t word = 42, v;

	(void)state;
	proc_budget_start(10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(proc_read(&m, (uint64_t)(uintptr_t)&word, &v, sizeof(v)), 0);
	assert_int_equal(proc_read(&m, (uint64_t)(uintptr_t)&word, &v, sizeof(v)), -EAGAIN);
	assert_int_equal(m.reads, 10);
	assert_int_equal(proc_budget_end(), PROC_BUDGET_SPENT);
	/* no budget: no limit */
	for (int i = 0; i < 100; i++)
		assert_int_equal(proc_read(&m, (uint64_t)(uintptr_t)&word, &v, sizeof(v)), 0);
}

/* Brent's guard: loops of any shape caught within 2 x (tail + loop) + loop steps, straight lists never. */
static void test_list_guard(void **state)
{
	(void)state;
	for (uint64_t tail = 0; tail < 40; tail++) {
		for (uint64_t loop = 1; loop < 40; loop++) {
			struct list_guard g = { 0 };
			uint64_t steps = 0, node = 0;

			while (!list_guard_loops(&g, 0x1000 + node)) {
				node = node + 1 < tail + loop ? node + 1 : tail;
				steps++;
				assert_true(steps <= 2 * (tail + loop) + loop);
			}
		}
	}
	{
		struct list_guard g = { 0 };

		for (uint64_t a = 1; a < 100000; a++)
			assert_false(list_guard_loops(&g, a * 16));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed_list_walked_whole),
		cmocka_unit_test(test_frame_cycle_caught),
		cmocka_unit_test(test_thread_cycle_caught),
		cmocka_unit_test(test_interpreter_cycle_caught),
		cmocka_unit_test(test_frame_near_top_of_addresses),
		cmocka_unit_test(test_budget_stops_walk),
		cmocka_unit_test(test_window_frames_spend_budget),
		cmocka_unit_test(test_budget_counts_reads),
		cmocka_unit_test(test_list_guard),
	};

	return cmocka_run_group_tests_name("read budget", tests, NULL, NULL);
}
