// SPDX-License-Identifier: MIT
/*
 * demo_worker: stands in for a conserver-like worker so `make demo` has
 * something live to observe. Six threads loop forever; each picks a chain
 * at random and calls handle_vcon(chain, vcon_id), which "works" for a
 * while. `inflight top --func handle_vcon --chain '+0(%di):string'` then
 * shows how many calls of each chain are in flight at any moment.
 *
 * SIGTERM or SIGINT: no new calls start, calls in flight finish, exit 0,
 * so an observer can watch every chain drain back to 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 6

struct chain {
	const char *name;
	unsigned weight;   /* relative share of the calls */
	unsigned min_ms;   /* a call sleeps uniformly in [min_ms, max_ms] */
	unsigned max_ms;
};

/* Different weights and durations, so the chains' in-flight counts differ visibly. */
static const struct chain chains[] = {
	{ "transcribe", 5, 150, 400 }, /* frequent and slow: usually the top row */
	{ "summarize", 3, 60, 250 },
	{ "redact", 2, 20, 120 },      /* rare and quick: often 0 or 1 */
};
#define NCHAINS (sizeof(chains) / sizeof(chains[0]))

static int stopping; /* __atomic: set once by main on SIGTERM/SIGINT */

/* Per-thread xorshift64*: rand() shares one lock-protected state. */
static __thread uint64_t rng;

static uint32_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32);
}

/* Uniform in [lo, hi]; the modulo bias is irrelevant for a demo. */
static unsigned rnd_between(unsigned lo, unsigned hi)
{
	return lo + rnd() % (hi - lo + 1);
}

static void sleep_ms(unsigned ms)
{
	struct timespec left = { ms / 1000, (long)(ms % 1000) * 1000000L };

	/* signals are blocked in the workers, but resume after EINTR anyway */
	while (nanosleep(&left, &left) && errno == EINTR)
		;
}

/*
 * The function the demo probes. noinline and noclone keep it a real,
 * separately called symbol: gcc -O2 could otherwise inline it or call a
 * specialised copy (handle_vcon.constprop.0) that the uprobe never sees.
 * chain_name is the first argument, so its pointer is in %rdi at entry.
 */
__attribute__((noinline, noclone)) int handle_vcon(const char *chain_name,
						    const char *vcon_id)
{
	const struct chain *c = NULL;

	for (size_t i = 0; i < NCHAINS; i++)
		if (chains[i].name == chain_name) {
			c = &chains[i];
			break;
		}
	/* about 1 call in 20: the vcon was already processed, return at once */
	if (!c || rnd() % 20 == 0)
		return 1;
	sleep_ms(rnd_between(c->min_ms, c->max_ms));
	/* touch vcon_id so the argument is really used */
	return vcon_id[0] == '\0' ? -1 : 0;
}

static const char *pick_chain(void)
{
	unsigned total = 0, r;

	for (size_t i = 0; i < NCHAINS; i++)
		total += chains[i].weight;
	r = rnd() % total;
	for (size_t i = 0; i < NCHAINS; i++) {
		if (r < chains[i].weight)
			return chains[i].name;
		r -= chains[i].weight;
	}
	return chains[0].name;
}

struct worker_stats {
	unsigned long calls;
	unsigned long skipped;
};

static void *worker(void *arg)
{
	struct worker_stats *st = arg;
	struct timespec now;
	char vcon_id[40];

	clock_gettime(CLOCK_MONOTONIC, &now);
	/* distinct non-zero seeds per thread (xorshift must not start at 0) */
	rng = ((uint64_t)now.tv_nsec << 20) ^ (uint64_t)(uintptr_t)st ^ 0x9E3779B97F4A7C15ULL;

	while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
		snprintf(vcon_id, sizeof(vcon_id), "vcon-%08x-%04x", rnd(), rnd() & 0xffff);
		if (handle_vcon(pick_chain(), vcon_id) == 1)
			st->skipped++;
		st->calls++;
		/* idle between calls, as a worker waiting for its queue would */
		sleep_ms(rnd_between(0, 100));
	}
	return NULL;
}

int main(void)
{
	pthread_t tids[NTHREADS];
	struct worker_stats stats[NTHREADS];
	unsigned long calls = 0, skipped = 0;
	sigset_t set;
	int sig = 0, rc;

	/*
	 * Block the stop signals before any thread starts, so every thread
	 * inherits the mask and only main takes them, synchronously, with
	 * sigwait: no handler, and no worker interrupted mid-call.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (rc) {
		fprintf(stderr, "demo_worker: pthread_sigmask: %s\n", strerror(rc));
		return 1;
	}

	memset(stats, 0, sizeof(stats));
	for (int i = 0; i < NTHREADS; i++) {
		rc = pthread_create(&tids[i], NULL, worker, &stats[i]);
		if (rc) {
			fprintf(stderr, "demo_worker: pthread_create: %s\n", strerror(rc));
			return 1;
		}
	}
	fprintf(stderr, "demo_worker: pid %ld, %d threads calling handle_vcon\n",
		(long)getpid(), NTHREADS);

	while (sigwait(&set, &sig))
		;

	/* stop starting calls, then let the ones in flight return */
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(tids[i], NULL);
		calls += stats[i].calls;
		skipped += stats[i].skipped;
	}
	fprintf(stderr, "demo_worker: %s: drained after %lu calls (%lu returned early), exiting\n",
		strsignal(sig), calls, skipped);
	return 0;
}
