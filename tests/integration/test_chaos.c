// SPDX-License-Identifier: MIT
/*
 * Chaos, bounded: for CHAOS_SECONDS (default 60) C++ worker processes
 * (tests/workers/chaos_worker.cpp) come and go, their threads come and go,
 * calls throw out of the handler, threads and whole processes end inside
 * it, processes are SIGKILLed; meanwhile the collector is restarted twice
 * on the same pinned state (SIGKILL, then SIGTERM) and the receiver goes
 * away once. Every export is checked: at checkpoints, with the workers
 * frozen, each chain's value must equal the workers' own accounting
 * exactly; in between, within [0, the most calls that can be in flight].
 * At the end every chain is 0 in the last export and in the pinned maps.
 *
 * CHAOS_SEED replays a run's random choices (the seed is printed); the
 * threads' timing is the kernel's, so a replay is close, not identical.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "probe/fetch_spec.h"
#include "probe/pin.h"
#include "support/bpf_env.h"
#include "support/inflight_proc.h"
#include "support/observe.h"
#include "support/receiver.h"
#include "support/test_filter.h"
#include "support/worker_proc.h"
#include "workers/chaos_shm.h"

/*
 * This run's pin directory is PIN_PREFIX and its pid, not one fixed name:
 * another worktree's run on the same directory would pin_remove it at its
 * start, and a collector that picked the pinned probes up holds only their
 * maps, not their links, so its probes would detach and its gauge freeze
 * (a checkpoint then reads stale values as if they were exact).
 */
#define PIN_PREFIX "inflight-test-chaos-"
#define BPFFS "/sys/fs/bpf"
#define FUNC "chaos_handle"
#define GAUGE "conserver.vcons.inflight"

/* Workers at once, threads per worker: at most their product is in flight. */
#define MAX_WORKERS 4
#define MAX_THREADS 4
#define MAX_INFLIGHT (MAX_WORKERS * MAX_THREADS)
/* per call, parts per million: a throw, a thread's end, the process's end */
#define THROW_PPM "30000"
#define TEXIT_PPM "200"
#define PEXIT_PPM "15"
/* a worker never reuses a slot: its figures stay readable after it died */
#define NSLOTS 1024
#define EVENT_DEADLINE_MS 20000

struct chaos_shm {
	struct chaos_shm_header h;
	struct chaos_slot slot[];
};

static const char *const chains[] = { "alpha", "beta", "gamma", "delta", "epsilon" };
#define NCHAINS ((int)(sizeof(chains) / sizeof(chains[0])))

struct live {
	struct worker_proc *w;
	int slot;
};

static struct {
	uint64_t seed, rng;
	struct chaos_shm *shm;
	size_t shm_size;
	int shm_fd, next_slot;
	struct live workers[MAX_WORKERS];
	int nworkers;

	struct receiver rx;
	int port;
	bool rx_up;
	int checked;              /* requests of this receiver already checked */
	uint64_t start[NCHAINS];  /* each series' start time, once seen */
	uint64_t last_time;       /* the latest point time checked */
	char endpoint[96];
	struct inflight_proc run;
	char pin_dir[64];         /* BPFFS/PIN_PREFIX<pid> */

	/* the figures of the summary */
	int spawned, killed, proc_exits, restarts, exports, checkpoints;
	int64_t outage_ms;
} C;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(void)
{
	uint64_t z = (C.rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int rnd_below(int n)
{
	return (int)(rnd() % (uint64_t)n);
}

static int teardown(void **state)
{
	(void)state;
	if (C.run.pid)
		inflight_stop(&C.run, SIGKILL);
	test_teardown(NULL); /* the workers, and the map reader if one is open */
	receiver_stop(&C.rx);
	if (C.pin_dir[0])
		pin_remove(C.pin_dir);
	if (C.shm)
		munmap(C.shm, C.shm_size);
	if (C.shm_fd > 0)
		close(C.shm_fd);
	memset(&C, 0, sizeof(C));
	return 0;
}

/* An anonymous shared region the workers inherit (not close-on-exec). */
static void shm_setup(void)
{
	C.shm_size = sizeof(struct chaos_shm) + NSLOTS * sizeof(struct chaos_slot);
	C.shm_fd = memfd_create("inflight-chaos", 0);
	assert_true(C.shm_fd > 0);
	assert_int_equal(ftruncate(C.shm_fd, (off_t)C.shm_size), 0);
	C.shm = mmap(NULL, C.shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, C.shm_fd, 0);
	assert_true(C.shm != MAP_FAILED);
	C.shm->h.magic = CHAOS_MAGIC;
	C.shm->h.slot_size = sizeof(struct chaos_slot);
	C.shm->h.nslots = NSLOTS;
}

static int64_t inside(int slot, int chain)
{
	return __atomic_load_n(&C.shm->slot[slot].inside[chain], __ATOMIC_SEQ_CST);
}

/* The worker's next event byte, or -1 when it closed stdout (it exited). */
static int next_event(struct worker_proc *w)
{
	int64_t deadline = mono_ms() + EVENT_DEADLINE_MS;

	for (;;) {
		struct pollfd p = { w->event_fd, POLLIN, 0 };
		int64_t left = deadline - mono_ms();
		unsigned char c;
		ssize_t n;

		if (left <= 0)
			fail_msg("chaos_worker %d: no event within %d ms", (int)w->pid,
				 EVENT_DEADLINE_MS);
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(w->event_fd, &c, 1);
		if (n == 1)
			return c;
		if (n == 0)
			return -1;
		if (errno != EINTR)
			fail_msg("chaos_worker %d: read: %s", (int)w->pid, strerror(errno));
	}
}

/*
 * Sends a command line. A worker may have ended itself a moment ago: the
 * write then fails with EPIPE (SIGPIPE ignored just for it, so children
 * started later do not inherit the ignoring) and its next_event says EOF.
 */
static void tell(struct worker_proc *w, const char *cmd)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	char line[16];
	int n = snprintf(line, sizeof(line), "%s\n", cmd);
	ssize_t wr;

	sigaction(SIGPIPE, &ign, &old);
	wr = write(w->cmd_fd, line, (size_t)n);
	sigaction(SIGPIPE, &old, NULL);
	if (wr != n && !(wr < 0 && errno == EPIPE))
		fail_msg("chaos_worker %d: cannot send '%s': %s", (int)w->pid, cmd, strerror(errno));
}

static void describe_status(int st, char *buf, size_t size)
{
	if (WIFEXITED(st))
		snprintf(buf, size, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, size, "signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, size, "status 0x%x", st);
}

/*
 * A worker that exited by itself: only _exit(42) inside the handler is
 * expected. A C++ worker dying of SIGABRT would be the unwinder failing
 * through a probe ("terminate called after throwing").
 */
static void reap_self_exit(struct worker_proc *w, int slot)
{
	int st = worker_wait(w);
	char what[64];

	describe_status(st, what, sizeof(what));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 42 ||
	    !__atomic_load_n(&C.shm->slot[slot].proc_exit, __ATOMIC_SEQ_CST))
		fail_msg("chaos_worker %d (slot %d) ended by itself with %s; only _exit(42) inside the handler is expected",
			 (int)w->pid, slot, what);
	C.proc_exits++;
	worker_stop(w);
}

static void forget_worker(int i)
{
	C.workers[i] = C.workers[--C.nworkers];
}

static void spawn_worker(void)
{
	char fd[16], slot[16], seed[24], threads[8];
	char *argv[16] = { (char *)worker_path("chaos_worker"), fd, slot, seed, threads,
			   THROW_PPM, TEXIT_PPM, PEXIT_PPM };
	struct worker_proc *w;
	int n = 8, s = C.next_slot++, ev;

	if (s >= NSLOTS)
		fail_msg("more than %d chaos workers: raise NSLOTS", NSLOTS);
	for (int i = 0; i < NCHAINS; i++)
		argv[n++] = (char *)chains[i];
	argv[n] = NULL;
	snprintf(fd, sizeof(fd), "%d", C.shm_fd);
	snprintf(slot, sizeof(slot), "%d", s);
	snprintf(seed, sizeof(seed), "%" PRIu64, rnd());
	snprintf(threads, sizeof(threads), "%d", 1 + rnd_below(MAX_THREADS));
	w = worker_start(argv);
	C.spawned++;
	ev = next_event(w);
	if (ev == -1) {
		/* it may end itself before it says it runs */
		reap_self_exit(w, s);
		return;
	}
	if (ev != 'S')
		fail_msg("chaos_worker %d: event '%c' before 'S'", (int)w->pid, ev);
	C.workers[C.nworkers++] = (struct live){ w, s };
}

static void kill_worker(int i)
{
	struct worker_proc *w = C.workers[i].w;
	int st;

	kill(w->pid, SIGKILL);
	/* reaped: every thread has been through exit, the kernel released its frames */
	st = worker_wait(w);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
		C.killed++;
		worker_stop(w);
	} else {
		reap_self_exit(w, C.workers[i].slot); /* it ended itself first */
	}
	forget_worker(i);
}

/* Reaps workers that ended themselves; no other event comes unasked. */
static void reap_exited(void)
{
	for (int i = 0; i < C.nworkers; i++) {
		struct pollfd p = { C.workers[i].w->event_fd, POLLIN, 0 };

		if (poll(&p, 1, 0) <= 0)
			continue;
		if (next_event(C.workers[i].w) != -1)
			fail_msg("chaos_worker %d: an event nobody asked for", (int)C.workers[i].w->pid);
		reap_self_exit(C.workers[i].w, C.workers[i].slot);
		forget_worker(i--);
	}
}

static int chain_index(const char *attrs)
{
	for (int i = 0; i < NCHAINS; i++)
		if (!strncmp(attrs, "chain.name=", 11) && !strcmp(attrs + 11, chains[i]))
			return i;
	return -1;
}

/*
 * What every export must be, whenever it was read: series of our chains
 * only, each within [0, MAX_INFLIGHT] and their sum too, each keeping its
 * start time (across collector restarts too), readings in order, and none
 * of the collector's "the gauge is not exact" counters.
 */
static void check_export(const struct rec_request *q)
{
	static const char *const inexact[] = { "inflight.calls.uncounted",
					       "inflight.calls.overflowed",
					       "inflight.chains.unreadable" };
	long long sum = 0;

	if (q->status != 200)
		fail_msg("export %d: the receiver answered %d", q->seq, q->status);
	if (strcmp(q->metric, GAUGE) || !q->npoints)
		fail_msg("export %d: metric '%s' with %d points, expected %s first", q->seq,
			 q->metric, q->npoints, GAUGE);
	for (int i = 0; i < q->npoints; i++) {
		const struct rec_point *p = &q->points[i];
		int c = chain_index(p->attrs);

		if (c < 0)
			fail_msg("export %d: a series '%s' no worker makes", q->seq, p->attrs);
		if (p->value < 0 || p->value > MAX_INFLIGHT)
			fail_msg("export %d: %s = %lld, outside [0, %d] (seed %" PRIu64 ")", q->seq,
				 p->attrs, p->value, MAX_INFLIGHT, C.seed);
		sum += p->value;
		if (!C.start[c])
			C.start[c] = p->start;
		if (p->start != C.start[c])
			fail_msg("export %d: %s starts at %" PRIu64 ", first seen starting at %" PRIu64,
				 q->seq, p->attrs, p->start, C.start[c]);
		if (p->time < C.last_time)
			fail_msg("export %d: %s read at %" PRIu64 ", before an earlier export's %" PRIu64,
				 q->seq, p->attrs, p->time, C.last_time);
	}
	if (sum > MAX_INFLIGHT)
		fail_msg("export %d: %lld calls in flight in all, more than the %d threads that can exist",
			 q->seq, sum, MAX_INFLIGHT);
	for (int i = 0; i < q->nmore; i++)
		for (size_t k = 0; k < sizeof(inexact) / sizeof(inexact[0]); k++)
			if (!strcmp(q->more[i].metric, inexact[k]))
				fail_msg("export %d: %s %s = %lld: the gauge is not exact", q->seq,
					 inexact[k], q->more[i].attrs, q->more[i].value);
	C.last_time = q->points[0].time;
	C.exports++;
}

/* Checks every export recorded since the last look. */
static void check_new_exports(void)
{
	if (!C.rx_up)
		return;
	receiver_wait(&C.rx, 0); /* re-reads the record */
	for (; C.checked < C.rx.nreq; C.checked++)
		check_export(&C.rx.req[C.checked]);
}

/* The first export read after `after_ns`, every one before it checked too. */
static const struct rec_request *export_after(uint64_t after_ns)
{
	for (;;) {
		const struct rec_request *q;

		receiver_wait(&C.rx, C.checked + 1);
		q = &C.rx.req[C.checked++];
		check_export(q);
		if (q->points[0].time > after_ns)
			return q;
	}
}

/* One random step of the workload: a worker more, one SIGKILLed, or neither. */
static void chaos_step(void)
{
	int r = rnd_below(100);

	reap_exited();
	if (r < 40 && C.nworkers < MAX_WORKERS)
		spawn_worker();
	else if (r >= 40 && r < 48 && C.nworkers > 0)
		kill_worker(rnd_below(C.nworkers));
}

/* Chaos until the monotonic time `until_ms`, checking exports as they come. */
static void chaos_until(int64_t until_ms)
{
	while (mono_ms() < until_ms) {
		int64_t pause = 20 + rnd_below(280), left = until_ms - mono_ms();

		chaos_step();
		check_new_exports();
		/* the pace of the chaos, not a synchronisation */
		poll(NULL, 0, (int)(pause < left ? pause : left > 0 ? left : 0));
	}
}

/*
 * Freezes every worker (no call starts, calls inside the handler park
 * there), then waits for an export read after that: each chain must be
 * exactly the sum of the live workers' own accounting. Then thaws them.
 */
static void checkpoint(const char *when)
{
	int64_t expected[NCHAINS] = { 0 };
	const struct rec_request *q;
	uint64_t frozen_ns;

	reap_exited();
	for (int i = 0; i < C.nworkers; i++)
		tell(C.workers[i].w, "freeze");
	for (int i = 0; i < C.nworkers; i++) {
		int ev = next_event(C.workers[i].w);

		if (ev == -1) {
			/* ended itself before it froze: reaped, so its frames are released */
			reap_self_exit(C.workers[i].w, C.workers[i].slot);
			forget_worker(i--);
		} else if (ev != 'F') {
			fail_msg("chaos_worker %d: event '%c' instead of 'F'", (int)C.workers[i].w->pid, ev);
		}
	}
	frozen_ns = realtime_ns();
	for (int i = 0; i < C.nworkers; i++)
		for (int c = 0; c < NCHAINS; c++)
			expected[c] += inside(C.workers[i].slot, c);
	q = export_after(frozen_ns);
	for (int c = 0; c < NCHAINS; c++) {
		char attrs[64];
		const struct rec_point *p;

		snprintf(attrs, sizeof(attrs), "chain.name=%s", chains[c]);
		p = rec_point(q, attrs);
		/* a chain once seen is always exported; one never entered may be absent */
		if (!p && (expected[c] || C.start[c]))
			fail_msg("checkpoint %s: export %d has no %s (workers account %lld inside)",
				 when, q->seq, attrs, (long long)expected[c]);
		if (p && p->value != expected[c]) {
			char all[512] = "";

			for (int k = 0; k < NCHAINS; k++) {
				const struct rec_point *o;
				char one[64];

				snprintf(attrs, sizeof(attrs), "chain.name=%s", chains[k]);
				o = rec_point(q, attrs);
				snprintf(one, sizeof(one), " %s %lld/%lld", chains[k],
					 o ? o->value : 0, (long long)expected[k]);
				strncat(all, one, sizeof(all) - strlen(all) - 1);
			}
			/* a collector that picked the pins up detaches when they go */
			fail_msg("checkpoint %s (%d workers frozen): export %d says %s = %lld, the workers account %lld inside; exported/accounted:%s (seed %" PRIu64 ")%s",
				 when, C.nworkers, q->seq, chains[c], p->value, (long long)expected[c], all,
				 C.seed,
				 pin_exists(C.pin_dir) ? ""
						       : "; the pin directory is gone: something else removed it and the probes detached");
		}
	}
	C.checkpoints++;
	printf("chaos: checkpoint %s: %d workers frozen, export %d read %" PRIu64 " ms later:", when,
	       C.nworkers, q->seq, (q->points[0].time - frozen_ns) / 1000000);
	for (int c = 0; c < NCHAINS; c++)
		printf(" %s=%lld", chains[c], (long long)expected[c]);
	printf("\n");
	for (int i = 0; i < C.nworkers; i++)
		tell(C.workers[i].w, "thaw");
}

static void start_collector(bool again)
{
	char *args[] = { "run", "--pin-dir", C.pin_dir, "--binary", (char *)worker_path("chaos_worker"),
			 "--func", FUNC, "--chain", WORKER_CHAIN_SPEC, "--interval", "200ms", NULL };
	char *env[] = { C.endpoint, NULL };

	inflight_start(&C.run, args, env);
	/* a restarted collector must pick the pinned probes up, not start anew */
	inflight_wait_stderr(&C.run, again ? "pinned probe" : "attached");
	if (strstr(C.run.err, "replacing it"))
		fail_msg("the collector replaced the pinned state: %s", C.run.err);
}

/* The collector goes (SIGKILL: a crash; SIGTERM: an upgrade) and comes back. */
static void restart_collector(int sig)
{
	int st = inflight_stop(&C.run, sig);
	char what[64];

	describe_status(st, what, sizeof(what));
	if (sig == SIGKILL ? !(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
			   : !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		fail_msg("the collector ended with %s after signal %d; its stderr:\n%s", what, sig,
			 C.run.err);
	assert_true(pin_exists(C.pin_dir));
	/* the probes count on without a collector */
	chaos_until(mono_ms() + 1000 + rnd_below(1500));
	start_collector(true);
	C.restarts++;
	checkpoint(sig == SIGKILL ? "after the SIGKILL restart" : "after the SIGTERM restart");
}

/* The receiver goes away for a few seconds and comes back on its port. */
static void receiver_outage(void)
{
	int64_t t0;

	check_new_exports();
	receiver_stop(&C.rx);
	C.rx_up = false;
	t0 = mono_ms();
	chaos_until(t0 + 2000 + rnd_below(2000));
	receiver_start(&C.rx, C.port);
	C.outage_ms = mono_ms() - t0;
	C.rx_up = true;
	C.checked = 0;
	/* the first export delivered after it carries the current values */
	checkpoint("after the receiver outage");
}

/* Every chain exactly 0 in an export read after `after_ns`. */
static void expect_all_zero(const struct rec_request *q, uint64_t after_ns, const char *which)
{
	if (q->points[0].time <= after_ns)
		fail_msg("%s: export %d was read before the workers were gone", which, q->seq);
	for (int c = 0; c < NCHAINS; c++) {
		char attrs[64];
		const struct rec_point *p;

		snprintf(attrs, sizeof(attrs), "chain.name=%s", chains[c]);
		p = rec_point(q, attrs);
		if (!p)
			fail_msg("%s: export %d has no %s", which, q->seq, attrs);
		if (p->value != 0)
			fail_msg("%s: export %d says %s = %lld with every worker gone", which, q->seq,
				 chains[c], p->value);
	}
}

/*
 * The pinned maps read directly (the library, picking up the pins as a
 * restarted collector does): every chain 0, every entry matched by an exit,
 * no frame pending. Returns the entries counted, for the summary.
 */
static uint64_t expect_maps_zero(uint64_t *released_catch, uint64_t *released_exit)
{
	static struct inflight_fetch fetch;
	struct fetch_spec_error ferr;
	struct observer_config cfg = test_config(worker_path("chaos_worker"), RETURN_AUTO);
	struct snapshot s = { 0 };
	struct observer *o;
	uint64_t entered = 0;

	assert_int_equal(fetch_spec_parse(WORKER_CHAIN_SPEC, false, &fetch, &ferr), 0);
	cfg.target.fetch = &fetch;
	cfg.target.func = FUNC;
	cfg.target.pin_dir = C.pin_dir;
	o = test_observe(&cfg);
	if (!observer_info(o)->reused)
		fail_msg("the pinned state in %s was not picked up", C.pin_dir);
	assert_int_equal(observer_read(o, &s), 0);
	if ((int)s.n != NCHAINS)
		fail_msg("the maps hold %zu chains, expected %d", s.n, NCHAINS);
	for (size_t i = 0; i < s.n; i++) {
		const struct chain_stat *c = &s.chains[i];

		if (c->inflight != 0 || c->entered != c->returned + c->released)
			fail_msg("maps: chain '%s' inflight %lld, entered %" PRIu64 ", returned %" PRIu64 ", released %" PRIu64,
				 c->name, (long long)c->inflight, c->entered, c->returned, c->released);
		entered += c->entered;
	}
	for (int k = INFLIGHT_STAT_OVERFLOW; k <= INFLIGHT_STAT_FETCH_FAULT; k++)
		if (s.stats[k])
			fail_msg("maps: stat %d = %" PRIu64 ": some calls were not counted exactly", k,
				 s.stats[k]);
	*released_catch = s.stats[INFLIGHT_STAT_RELEASED_CATCH];
	*released_exit = s.stats[INFLIGHT_STAT_RELEASED_EXIT];
	snapshot_free(&s);
	expect_no_pending_frames(o);
	test_unobserve(o);
	return entered;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

/*
 * The pin directories of runs that are gone (killed before their teardown):
 * their probes stay attached until the pins go. A live run's is left alone.
 */
static void remove_dead_runs_pins(void)
{
	DIR *d = opendir(BPFFS);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[sizeof(BPFFS) + 256 + 1], *end;
		long pid;

		if (strncmp(e->d_name, PIN_PREFIX, strlen(PIN_PREFIX)))
			continue;
		pid = strtol(e->d_name + strlen(PIN_PREFIX), &end, 10);
		if (*end || pid <= 0 || !(kill((pid_t)pid, 0) && errno == ESRCH))
			continue;
		snprintf(path, sizeof(path), BPFFS "/%s", e->d_name);
		pin_remove(path);
	}
	closedir(d);
}

static void test_chaos(void **state)
{
	char *detach[] = { "detach", "--pin-dir", C.pin_dir, NULL };
	uint64_t seconds = env_u64("CHAOS_SECONDS", 60), seed, done_ns, entered;
	uint64_t calls = 0, throws = 0, thread_exits = 0, released_catch, released_exit;
	const struct rec_request *q;
	int64_t t0, span;
	int st, seq;

	(void)state;
	REQUIRE_BPF();
	seed = env_u64("CHAOS_SEED", realtime_ns() ^ (uint64_t)getpid());
	printf("chaos: seed %" PRIu64 " (replay: CHAOS_SEED=%" PRIu64 "), %" PRIu64 " s\n", seed,
	       seed, seconds);
	fflush(stdout);
	C.seed = C.rng = seed;
	remove_dead_runs_pins();
	snprintf(C.pin_dir, sizeof(C.pin_dir), BPFFS "/" PIN_PREFIX "%d", (int)getpid());
	pin_remove(C.pin_dir);
	shm_setup();
	receiver_start(&C.rx, 0);
	C.port = C.rx.port;
	C.rx_up = true;
	snprintf(C.endpoint, sizeof(C.endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d",
		 C.port);
	start_collector(false);
	if (strstr(C.run.err, "tail jump"))
		fail_msg("the handler has a tail jump, its frame would end early: %s", C.run.err);
	for (int i = 0; i < MAX_WORKERS - 1; i++)
		spawn_worker();

	t0 = mono_ms();
	span = (int64_t)seconds * 1000;
	chaos_until(t0 + span * 15 / 100);
	checkpoint("1");
	chaos_until(t0 + span * 25 / 100);
	restart_collector(SIGKILL);
	chaos_until(t0 + span * 40 / 100);
	checkpoint("2");
	chaos_until(t0 + span * 50 / 100);
	receiver_outage();
	chaos_until(t0 + span * 65 / 100);
	restart_collector(SIGTERM);
	chaos_until(t0 + span * 80 / 100);
	checkpoint("3");
	chaos_until(t0 + span * 92 / 100);
	checkpoint("4");
	chaos_until(t0 + span);

	/* the end: every worker stops cleanly (calls in the handler return) */
	reap_exited();
	for (int i = 0; i < C.nworkers; i++)
		tell(C.workers[i].w, "quit");
	while (C.nworkers) {
		struct live *l = &C.workers[0];
		char what[64];

		/* stdout closes as it exits: a bounded wait, where waitpid has none */
		if (next_event(l->w) != -1)
			fail_msg("chaos_worker %d: an event after quit", (int)l->w->pid);
		st = worker_wait(l->w);
		describe_status(st, what, sizeof(what));
		if (WIFEXITED(st) && WEXITSTATUS(st) == 42) {
			reap_self_exit(l->w, l->slot); /* its _exit came before the quit */
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			worker_stop(l->w);
		} else {
			fail_msg("chaos_worker %d did not quit cleanly: %s%s", (int)l->w->pid, what,
				 WIFEXITED(st) && WEXITSTATUS(st) == 4 ? " (its accounting is not 0)" : "");
		}
		forget_worker(0);
	}
	done_ns = realtime_ns();
	q = export_after(done_ns);
	expect_all_zero(q, done_ns, "the first export after the workers");
	seq = q->seq;

	/* SIGTERM: the last export, then the pins are read and removed */
	st = inflight_stop(&C.run, SIGTERM);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("the collector did not exit 0 on SIGTERM; its stderr:\n%s", C.run.err);
	if (strstr(C.run.err, "could not be delivered"))
		fail_msg("the collector's last export was not delivered; its stderr:\n%s", C.run.err);
	check_new_exports();
	q = &C.rx.req[C.rx.nreq - 1];
	assert_true(q->seq > seq);
	expect_all_zero(q, done_ns, "the collector's last export");
	entered = expect_maps_zero(&released_catch, &released_exit);

	inflight_start(&C.run, detach, NULL);
	st = inflight_stop(&C.run, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("inflight detach --pin-dir failed: %s", C.run.err);
	assert_false(pin_exists(C.pin_dir));
	assert_int_not_equal(access(C.pin_dir, F_OK), 0);

	for (int s = 0; s < C.next_slot; s++) {
		calls += C.shm->slot[s].calls;
		throws += C.shm->slot[s].throws;
		thread_exits += C.shm->slot[s].thread_exits;
	}
	/*
	 * Every call a worker made was counted by the probes, whichever
	 * collector ran: only a call entered and killed before the worker
	 * counted it is counted by the probes alone.
	 */
	if (entered < calls || entered - calls > (uint64_t)(C.killed + C.proc_exits) * MAX_THREADS)
		fail_msg("the probes counted %" PRIu64 " entries, the workers made %" PRIu64 " calls",
			 entered, calls);
	/* each throw caught is released by its catch (a kill may come between) */
	if (released_catch < throws ||
	    released_catch - throws > (uint64_t)(C.killed + C.proc_exits) * MAX_THREADS)
		fail_msg("%" PRIu64 " frames released at a catch, the workers caught %" PRIu64 " throws",
			 released_catch, throws);
	printf("chaos: %" PRIu64 " s, seed %" PRIu64 ": %" PRIu64 " calls, %" PRIu64 " throws, %" PRIu64
	       " threads exited mid-call, %d processes exited mid-call, %d processes SIGKILLed (%d started), %d collector restarts (SIGKILL, SIGTERM), receiver down %.1f s, %d exports checked, %d checkpoints exact, %" PRIu64
	       " frames released at thread exit; every chain 0 at the end in the last export and the maps\n",
	       seconds, seed, calls, throws, thread_exits, C.proc_exits, C.killed, C.spawned,
	       C.restarts, (double)C.outage_ms / 1000, C.exports, C.checkpoints, released_exit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_chaos, teardown),
	};

	apply_test_filter();
	return cmocka_run_group_tests_name("chaos: workers, collector and receiver come and go", tests,
					   NULL, NULL);
}
