// SPDX-License-Identifier: MIT
/*
 * The benchmark's worker: THREADS threads call one of the handlers in
 * handlers.S CALLS times each, over CHAINS chain names, and it prints the
 * wall time per call (each thread's elapsed time over its calls, averaged).
 *
 *   bench_worker FUNC THREADS CALLS CHAINS
 *   -> ns_per_call=1234.5 calls=400000
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int bench_nop5(const char *chain);
int bench_push(const char *chain);
int bench_endbr(const char *chain);
int bench_sstep(const char *chain);

static int (*fn)(const char *);
static long calls;
static int nchains;
static char **names;
static pthread_barrier_t start;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *run(void *arg)
{
	double *ns = arg, t0;
	volatile int sink = 0;

	pthread_barrier_wait(&start);
	t0 = now_ns();
	for (long i = 0; i < calls; i++)
		sink += fn(names[i % nchains]);
	*ns = now_ns() - t0;
	(void)sink;
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(const char *);
	} fns[] = {
		{ "bench_nop5", bench_nop5 }, { "bench_push", bench_push },
		{ "bench_endbr", bench_endbr }, { "bench_sstep", bench_sstep },
	};
	pthread_t th[64];
	double ns[64], sum = 0;
	int threads;

	if (argc != 5) {
		fprintf(stderr, "usage: %s FUNC THREADS CALLS CHAINS\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (!strcmp(argv[1], fns[i].name))
			fn = fns[i].fn;
	threads = atoi(argv[2]);
	calls = atol(argv[3]);
	nchains = atoi(argv[4]);
	if (!fn || threads < 1 || threads > 64 || calls < 1 || nchains < 1) {
		fprintf(stderr, "%s: bad arguments\n", argv[0]);
		return 2;
	}
	names = calloc((size_t)nchains, sizeof(*names));
	for (int i = 0; i < nchains; i++) {
		names[i] = malloc(32);
		snprintf(names[i], 32, "chain-%d", i);
	}
	pthread_barrier_init(&start, NULL, (unsigned)threads);
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, run, &ns[i]);
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		sum += ns[i];
	}
	printf("ns_per_call=%.1f calls=%ld\n", sum / threads / (double)calls, calls * threads);
	for (int i = 0; i < nchains; i++)
		free(names[i]);
	free(names);
	return 0;
}
