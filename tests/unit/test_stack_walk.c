// SPDX-License-Identifier: MIT
/*
 * The native stack walker on a live process: a child parks inside
 * sw_outer -> sw_middle -> sw_inner (frame pointers kept), optionally one
 * call deeper in a function without a frame pointer, and reports its
 * registers there; the walk from outside names each frame, innermost
 * first. A bad frame pointer, the depth limit and a gone process give
 * what can be had, nothing wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "probe/stack_walk.h"
#include "util/proc_mem.h"

#define FP __attribute__((noinline, noclone, optimize("no-omit-frame-pointer")))
#define NOFP __attribute__((noinline, noclone, optimize("omit-frame-pointer")))

static int report_fd, park_fd;
static volatile int depth_sink;

/* Reports ip, sp and bp as they are here, then parks: the stack stays as it is. */
#define REPORT_AND_PARK()                                                                  \
	do {                                                                               \
		uint64_t r[3];                                                             \
		char c;                                                                    \
		__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"      \
				 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]));                    \
		if (write(report_fd, r, sizeof(r)) != sizeof(r) || read(park_fd, &c, 1) < 0) \
			_exit(3);                                                          \
	} while (0)

NOFP void sw_leaf_nofp(void)
{
	REPORT_AND_PARK();
}

FP void sw_inner(int leaf)
{
	if (leaf)
		sw_leaf_nofp();
	else
		REPORT_AND_PARK();
	depth_sink++; /* work after the calls: real calls, no tail jumps */
}

FP void sw_middle(int leaf)
{
	sw_inner(leaf);
	depth_sink++;
}

FP void sw_outer(int leaf)
{
	sw_middle(leaf);
	depth_sink++;
}

/* sw_outer called from `depth` + 1 nested sw_deep frames (frame pointers kept). */
FP void sw_deep(int depth, int leaf)
{
	if (depth)
		sw_deep(depth - 1, leaf);
	else
		sw_outer(leaf);
	depth_sink++;
}

static int deep_calls; /* the child's sw_deep depth (set before park) */

struct parked {
	pid_t pid;
	uint64_t ip, sp, bp;
	int release_fd;
};

static struct parked park(int leaf)
{
	int rep[2], hold[2];
	struct parked p;
	uint64_t r[3];

	assert_int_equal(pipe(rep), 0);
	assert_int_equal(pipe(hold), 0);
	p.pid = fork();
	assert_true(p.pid >= 0);
	if (p.pid == 0) {
		/* the test's end of the park pipe closed here: its close releases us */
		close(rep[0]);
		close(hold[1]);
		report_fd = rep[1];
		park_fd = hold[0];
		sw_deep(deep_calls, leaf);
		_exit(0);
	}
	close(rep[1]);
	close(hold[0]);
	assert_int_equal(read(rep[0], r, sizeof(r)), (ssize_t)sizeof(r));
	close(rep[0]);
	p.ip = r[0];
	p.sp = r[1];
	p.bp = r[2];
	p.release_fd = hold[1];
	return p;
}

static void release(struct parked *p)
{
	int status;

	close(p->release_fd);
	assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The names of the walk's first `n` frames must be `want`, in order. */
static void expect_frames(pid_t pid, const uint64_t *pcs, size_t n, const char *const *want,
			  size_t nwant)
{
	struct symbolizer *s = symbolizer_new(pid);
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

	assert_non_null(s);
	assert_true(len > 0);
	self[len] = '\0';
	if (n < nwant) {
		symbolizer_free(s);
		fail_msg("%zu frames, expected at least %zu", n, nwant);
	}
	for (size_t i = 0; i < nwant; i++) {
		struct stack_sym sym;

		/* the failure message is made before the symbolizer goes: no leak on failing */
		if (symbolize(s, pcs[i], i > 0, &sym) || strcmp(sym.func, want[i]) || !sym.offset ||
		    sym.offset >= 512 || strcmp(sym.file, self)) {
			symbolizer_free(s);
			fail_msg("frame %zu at %#llx: '%s+%#llx' in '%s', expected %s in %s", i,
				 (unsigned long long)pcs[i], sym.func, (unsigned long long)sym.offset,
				 sym.file, want[i], self);
		}
	}
	symbolizer_free(s);
}

/* A walk of `pid`'s thread over the process's maps as they are now. */
static size_t walk(pid_t pid, uint64_t ip, uint64_t sp, uint64_t bp, uint64_t *pcs, size_t max)
{
	struct symbolizer *s = symbolizer_new(pid);
	size_t n;

	assert_non_null(s);
	n = stack_walk(s, ip, sp, bp, pcs, max);
	symbolizer_free(s);
	return n;
}

static void test_frame_pointer_chain(void **state)
{
	static const char *const want[] = { "sw_inner", "sw_middle", "sw_outer" };
	struct parked p = park(0);
	uint64_t pcs[STACK_WALK_MAX];
	size_t n = walk(p.pid, p.ip, p.sp, p.bp, pcs, STACK_WALK_MAX);

	(void)state;
	expect_frames(p.pid, pcs, n, want, 3);
	/* the offsets are from each function's start: a return address's is its own, not the call's */
	{
		struct symbolizer *s = symbolizer_new(p.pid);
		struct stack_sym sym;
		uint64_t off0, off1;

		assert_non_null(s);
		assert_int_equal(symbolize(s, pcs[0], 0, &sym), 0);
		off0 = sym.offset;
		assert_int_equal(symbolize(s, pcs[1], 1, &sym), 0);
		off1 = sym.offset;
		symbolizer_free(s);
		assert_int_equal(off0, pcs[0] - (uint64_t)(uintptr_t)sw_inner);
		assert_int_equal(off1, pcs[1] - (uint64_t)(uintptr_t)sw_middle);
	}
	/* the depth limit holds */
	assert_int_equal(walk(p.pid, p.ip, p.sp, p.bp, pcs, 2), 2);
	release(&p);
}

/* Parked in a function without a frame pointer: its caller found by the call before its return address. */
static void test_leaf_without_frame_pointer(void **state)
{
	static const char *const want[] = { "sw_leaf_nofp", "sw_inner", "sw_middle", "sw_outer" };
	struct parked p = park(1);
	uint64_t pcs[STACK_WALK_MAX];
	size_t n = walk(p.pid, p.ip, p.sp, p.bp, pcs, STACK_WALK_MAX);

	(void)state;
	expect_frames(p.pid, pcs, n, want, 4);
	release(&p);
}

/*
 * A bp that is no frame (a register used for something else): the frames
 * are found from sp by their return addresses, and the chain resumes at
 * the saved bp below one; never a wrong frame.
 */
static void test_bad_frame_pointers(void **state)
{
	static const char *const want[] = { "sw_inner", "sw_middle", "sw_outer" };
	struct parked p = park(0);
	uint64_t pcs[STACK_WALK_MAX];
	static int on_data;
	const uint64_t bad[] = { 0, p.sp - 64, (uint64_t)(uintptr_t)&on_data, p.bp + 1 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = walk(p.pid, p.ip, p.sp, bad[i], pcs, STACK_WALK_MAX);

		expect_frames(p.pid, pcs, n, want, 3);
	}
	/* an sp in no stack: the ip alone */
	assert_int_equal(walk(p.pid, p.ip, 16, p.bp, pcs, STACK_WALK_MAX), 1);
	/* no ip: nothing */
	assert_int_equal(walk(p.pid, 0, p.sp, p.bp, pcs, STACK_WALK_MAX), 0);
	release(&p);
	/* the process gone: the ip alone, unnamed */
	assert_int_equal(walk(p.pid, p.ip, p.sp, p.bp, pcs, STACK_WALK_MAX), 1);
	{
		struct symbolizer *s = symbolizer_new(p.pid);
		struct stack_sym sym;

		assert_non_null(s);
		assert_int_equal(symbolize(s, p.ip, 0, &sym), -ENOENT);
		assert_string_equal(sym.func, "");
		symbolizer_free(s);
	}
}

/*
 * A deep chain (more frames than the scan takes): followed to its end from
 * the thread's bp, every sw_deep frame named once, in order.
 */
static void test_deep_chain(void **state)
{
	enum { DEEP = 12 };
	const char *want[3 + DEEP + 1] = { "sw_inner", "sw_middle", "sw_outer" };
	struct parked p;
	uint64_t pcs[STACK_WALK_MAX];

	(void)state;
	for (int i = 3; i < 3 + DEEP + 1; i++)
		want[i] = "sw_deep";
	deep_calls = DEEP;
	p = park(0);
	deep_calls = 0;
	expect_frames(p.pid, pcs, walk(p.pid, p.ip, p.sp, p.bp, pcs, STACK_WALK_MAX), want,
		      3 + DEEP + 1);
	/*
	 * bp not a frame pointer: the chain is found again by scanning, and a
	 * stale return address left above a stale saved bp (the child's own
	 * earlier fork frames) is not taken for a frame.
	 */
	expect_frames(p.pid, pcs, walk(p.pid, p.ip, p.sp, 0, pcs, STACK_WALK_MAX), want,
		      3 + DEEP + 1);
	release(&p);
}

/*
 * A bp within 16 bytes of 2^64 (a register holding anything): bp + 16
 * wrapped past the stack's end check and the frame was read there. The
 * read fails, but it is one too many: with a budget of one read, the
 * scan's own read of the stack (a page of zeros of this process) was
 * refused.
 */
static void test_bp_near_top_of_addresses(void **state)
{
	const uint64_t bps[] = { UINT64_MAX - 15, UINT64_MAX - 7 };
	/* a mapping of its own between two guard pages: the scan reads its last 8 words */
	uint8_t *area = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *page = area + 4096;
	uint64_t pcs[STACK_WALK_MAX], sp = (uint64_t)(uintptr_t)page + 4096 - 64;
	struct symbolizer *s;

	(void)state;
	assert_true(area != MAP_FAILED);
	assert_int_equal(mprotect(page, 4096, PROT_READ | PROT_WRITE), 0);
	s = symbolizer_new(getpid());
	assert_non_null(s);
	for (size_t i = 0; i < sizeof(bps) / sizeof(bps[0]); i++) {
		size_t n;

		proc_budget_start(1);
		n = stack_walk(s, 0x1234, sp, bps[i], pcs, STACK_WALK_MAX);
		assert_int_equal(proc_budget_end(), PROC_BUDGET_OK);
		assert_int_equal(n, 1);
	}
	symbolizer_free(s);
	munmap(area, 3 * 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_pointer_chain),
		cmocka_unit_test(test_leaf_without_frame_pointer),
		cmocka_unit_test(test_bad_frame_pointers),
		cmocka_unit_test(test_deep_chain),
		cmocka_unit_test(test_bp_near_top_of_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
