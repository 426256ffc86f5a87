// SPDX-License-Identifier: MIT
/*
 * Go workers (tests/workers/go_worker.go, built by each Go in
 * build/workers/go_worker_1.NN): goroutines parked inside main.handle move
 * between threads and have their stacks copied, end with runtime.Goexit or
 * a recovered panic; every count is exact, then 0, and no goroutine keeps
 * a pending frame. Each test runs for every Go version built.
 */
#define _GNU_SOURCE /* memmem */
#include <signal.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "probe/fetch_spec.h"
#include "support/test_filter.h"
#include "support/bpf_env.h"
#include "support/observe.h"
#include "support/worker_proc.h"

static const char *go_1_19 = "go_worker_1.19", *go_1_22 = "go_worker_1.22";

static const char *worker_of(void **state)
{
	return *(const char **)*state;
}

static struct inflight_fetch go_fetch;

/* main.handle(chain string, ...): the chain in %ax (pointer) and %bx (length) */
static struct observer_config go_config(void **state)
{
	struct observer_config c = { 0 };
	struct fetch_spec_error err;

	assert_int_equal(fetch_spec_parse("%ax:gostring", false, &go_fetch, &err), 0);
	c.target.binary = worker_path(worker_of(state));
	c.target.func = "main.handle";
	c.target.fetch = &go_fetch;
	c.target.return_mode = RETURN_AUTO;
	return c;
}

static struct worker_proc *start_go(void **state)
{
	char *argv[] = { (char *)worker_path(worker_of(state)), NULL };

	if (access(argv[0], X_OK))
		fail_msg("%s missing: `make workers` builds it with each Go (tools/install-deps.sh installs them)",
			 argv[0]);
	return worker_start(argv);
}

static struct observer *observe_go(void **state)
{
	struct observer_config cfg = go_config(state);
	struct observer *o = test_observe(&cfg);
	char want[16];

	assert_int_equal(observer_info(o)->mode, RETURN_INSN);
	/* the version read from .go.buildinfo is the Go that built the worker */
	snprintf(want, sizeof(want), "go%s.", worker_of(state) + strlen("go_worker_"));
	assert_memory_equal(observer_info(o)->go_version, want, strlen(want));
	return o;
}

static void expect_goroutines(struct observer *o, uint64_t goroutines, uint64_t frames)
{
	uint64_t f, g = observer_pending_goroutines(o, &f);

	if (g != goroutines || f != frames)
		fail_msg("%llu goroutines hold %llu pending frames; expected %llu and %llu",
			 (unsigned long long)g, (unsigned long long)f,
			 (unsigned long long)goroutines, (unsigned long long)frames);
}

/* A chain that was called and has nothing in flight now. */
static void expect_idle(struct observer *o, const char *chain)
{
	struct snapshot s = { 0 };
	int64_t inflight = -1;
	uint64_t entered = 0;

	assert_int_equal(observer_read(o, &s), 0);
	for (size_t i = 0; i < s.n; i++)
		if (!strcmp(s.chains[i].name, chain)) {
			inflight = s.chains[i].inflight;
			entered = s.chains[i].entered;
		}
	snapshot_free(&s);
	if (inflight != 0 || entered == 0)
		fail_msg("chain '%s': %lld in flight after %llu calls; expected 0 after some",
			 chain, (long long)inflight, (unsigned long long)entered);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Parked goroutines on three chains while eight others call handle in a
 * loop: their stacks are copied (deep recursion inside handle), they move
 * to other threads; exact all along, then 0 with every call returned.
 */
static void test_go_parked(void **state)
{
	struct worker_proc *w;
	struct observer *o;
	uint64_t sent, parked;

	o = observe_go(state);
	w = start_go(state);

	worker_send(w, "spin busy 8");
	sent = mono_ns();
	worker_send(w, "park alpha 3");
	worker_send(w, "park beta 2");
	worker_send(w, "park gamma 1");
	worker_expect(w, "EEEEEE");
	parked = mono_ns();
	expect_chain(o, "alpha", 3, 3, 0);
	expect_chain(o, "beta", 2, 2, 0);
	expect_chain(o, "gamma", 1, 1, 0);

	/* stacks copied while parked inside handle, and threads changed */
	worker_send(w, "grow alpha");
	worker_send(w, "hop beta");
	worker_send(w, "grow gamma");
	worker_expect(w, "GGGMMG");
	worker_send(w, "hop gamma");
	worker_send(w, "hop alpha");
	worker_expect(w, "MMMM");
	expect_chain(o, "alpha", 3, 3, 0);
	expect_chain(o, "beta", 2, 2, 0);
	expect_chain(o, "gamma", 1, 1, 0);
	/* each goroutine's entry time went along with its frames: the ages hold */
	expect_oldest_between(o, "alpha", sent, parked);
	expect_oldest_between(o, "beta", sent, parked);
	expect_oldest_between(o, "gamma", sent, parked);

	worker_send(w, "stop");
	worker_expect(w, "S");
	expect_idle(o, "busy");
	expect_goroutines(o, 6, 6);

	worker_send(w, "release alpha");
	worker_send(w, "release beta");
	worker_send(w, "release gamma");
	worker_expect(w, "RRRRRR");
	expect_chain(o, "alpha", 0, 3, 3);
	expect_chain(o, "beta", 0, 2, 2);
	expect_chain(o, "gamma", 0, 1, 1);
	/* each came back through its return, on whatever thread, at its new stack */
	assert_int_equal(observed_returned(o, "alpha"), 3);
	assert_int_equal(observed_returned(o, "beta"), 2);
	assert_int_equal(observed_returned(o, "gamma"), 1);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_UNMATCHED), 0);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_STALE), 0);
	expect_total_inflight(o, 0);
	expect_goroutines(o, 0, 0);

	worker_stop(w);
	test_unobserve(o);
}

/*
 * runtime.Goexit inside handle: the goroutine ends without returning. New
 * goroutines then run on the freed g structs and inherit nothing.
 */
static void test_go_goexit(void **state)
{
	struct worker_proc *w;
	struct observer *o;

	o = observe_go(state);
	w = start_go(state);

	worker_send(w, "park quitter 4");
	worker_expect(w, "EEEE");
	expect_chain(o, "quitter", 4, 4, 0);
	worker_send(w, "goexit quitter");
	worker_expect(w, "XXXX");
	expect_chain(o, "quitter", 0, 4, 4);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_GOEXIT), 4);
	expect_goroutines(o, 0, 0);

	/* the dead goroutines' g structs are reused by these */
	worker_send(w, "park next 4");
	worker_expect(w, "EEEE");
	expect_chain(o, "quitter", 0, 4, 4);
	expect_chain(o, "next", 4, 4, 0);
	expect_goroutines(o, 4, 4);
	worker_send(w, "release next");
	worker_expect(w, "RRRR");
	expect_chain(o, "next", 0, 4, 4);
	assert_int_equal(observed_returned(o, "next"), 4);
	expect_goroutines(o, 0, 0);

	worker_stop(w);
	test_unobserve(o);
}

/*
 * A panic inside handle, recovered by a deferred call in its caller: the
 * frame is gone when the caller resumes. The same goroutines then call
 * handle again at the same depth, park, return.
 */
static void test_go_recovered_panic(void **state)
{
	struct worker_proc *w;
	struct observer *o;

	o = observe_go(state);
	w = start_go(state);

	worker_send(w, "park oops 3");
	worker_expect(w, "EEE");
	expect_chain(o, "oops", 3, 3, 0);
	worker_send(w, "panic oops");
	worker_expect(w, "PPP");
	expect_chain(o, "oops", 0, 3, 3);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_RECOVER), 3);
	expect_goroutines(o, 0, 0);

	worker_send(w, "again oops");
	worker_expect(w, "EEE");
	expect_chain(o, "oops", 3, 6, 3);
	worker_send(w, "release oops");
	worker_expect(w, "RRR");
	expect_chain(o, "oops", 0, 6, 6);
	assert_int_equal(observed_returned(o, "oops"), 3);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_UNMATCHED), 0);
	expect_goroutines(o, 0, 0);

	worker_stop(w);
	test_unobserve(o);
}

/* The process dies with goroutines parked: their frames go with it. */
static void test_go_process_exit(void **state)
{
	struct worker_proc *w;
	struct observer *o;

	o = observe_go(state);
	w = start_go(state);

	worker_send(w, "park doomed 3");
	worker_send(w, "park fated 2");
	worker_expect(w, "EEEEE");
	expect_chain(o, "doomed", 3, 3, 0);
	expect_chain(o, "fated", 2, 2, 0);
	expect_goroutines(o, 5, 5);
	kill(w->pid, SIGKILL);
	worker_wait(w);
	expect_chain(o, "doomed", 0, 3, 3);
	expect_chain(o, "fated", 0, 2, 2);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_EXIT), 5);
	expect_goroutines(o, 0, 0);

	worker_stop(w);
	test_unobserve(o);
}

/* exec with goroutines parked: the old image's frames go at the exec. */
static void test_go_exec(void **state)
{
	struct worker_proc *w;
	struct observer *o;

	o = observe_go(state);
	w = start_go(state);

	worker_send(w, "park before 3");
	worker_expect(w, "EEE");
	expect_chain(o, "before", 3, 3, 0);
	worker_send(w, "exec");
	worker_expect(w, "A");
	expect_chain(o, "before", 0, 3, 3);
	assert_int_equal(observed_stat(o, INFLIGHT_STAT_RELEASED_EXEC), 3);
	expect_goroutines(o, 0, 0);
	/* the new image counts as any other process */
	worker_send(w, "park after 2");
	worker_expect(w, "EE");
	expect_chain(o, "after", 2, 2, 0);
	worker_send(w, "release after");
	worker_expect(w, "RR");
	expect_chain(o, "after", 0, 2, 2);
	expect_goroutines(o, 0, 0);

	worker_stop(w);
	test_unobserve(o);
}

/* A uretprobe on a Go function would corrupt moving stacks: refused by name. */
static void test_go_refuses_uretprobe(void **state)
{
	struct observer_config cfg = go_config(state);
	char err[1024] = "";
	struct observer *o;

	cfg.target.return_mode = RETURN_URETPROBE;
	o = observer_start(&cfg, err, sizeof(err));
	if (o)
		observer_stop(o);
	assert_null(o);
	assert_non_null(strstr(err, "--return=uretprobe"));
	assert_non_null(strstr(err, "is a Go binary"));
}

/*
 * A Go whose g layout inflight does not know is refused by name: the 1.22
 * worker with its buildinfo saying go1.20 (the one version between the
 * known ones that Debian does not ship).
 */
static void test_go_unknown_version(void **state)
{
	struct observer_config cfg = go_config(state);
	char path[] = "/tmp/inflight-go120-XXXXXX", err[1024] = "";
	static char bytes[16 << 20];
	struct observer *o;
	FILE *f;
	size_t n;
	char *bi, *v;
	int fd;

	f = fopen(worker_path(go_1_22), "rb");
	assert_non_null(f);
	n = fread(bytes, 1, sizeof(bytes), f);
	fclose(f);
	assert_true(n > 0 && n < sizeof(bytes));
	bi = memmem(bytes, n, "\xff Go buildinf:", 14);
	assert_non_null(bi);
	v = memmem(bi, 64, "go1.22.", 7);
	assert_non_null(v);
	v[5] = '0';
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	close(fd);

	cfg.target.binary = path;
	o = observer_start(&cfg, err, sizeof(err));
	unlink(path);
	if (o)
		observer_stop(o);
	assert_null(o);
	if (!strstr(err, "built with go1.20.12, whose goroutine layout inflight does not know"))
		fail_msg("unexpected error: %s", err);
}

int main(void)
{
#define EACH_GO(t)                                                                \
	cmocka_unit_test_prestate_setup_teardown(t, NULL, test_teardown, &go_1_19), \
	cmocka_unit_test_prestate_setup_teardown(t, NULL, test_teardown, &go_1_22)
	const struct CMUnitTest tests[] = {
		EACH_GO(test_go_parked),
		EACH_GO(test_go_goexit),
		EACH_GO(test_go_recovered_panic),
		EACH_GO(test_go_process_exit),
		EACH_GO(test_go_exec),
		EACH_GO(test_go_refuses_uretprobe),
		cmocka_unit_test_prestate_setup_teardown(test_go_unknown_version, NULL,
							 test_teardown, &go_1_22),
	};

	apply_test_filter();
	return bpf_run_group_tests_name("Go workers (goroutines, Go 1.19 and 1.22)",
					tests, NULL, NULL, NULL);
}
