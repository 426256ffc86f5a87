// SPDX-License-Identifier: MIT
/*
 * The chaos test's worker (tests/integration/test_chaos.c). THREADS threads
 * call chaos_handle() in a loop, each call on a random chain, holding a
 * random short time inside; some calls throw out of the handler (the caller
 * catches), some end their thread inside it (pthread_exit) and some the
 * whole process (_exit(42)). An ended thread is joined and replaced, and a
 * thread also leaves between calls now and then, so threads come and go.
 *
 *   chaos_worker SHM_FD SLOT SEED THREADS THROW_PPM TEXIT_PPM PEXIT_PPM CHAIN...
 *
 * *_PPM are per-call chances in parts per million (a thread leaving between
 * calls uses TEXIT_PPM too). SHM_FD is an inherited shared memory fd laid out
 * as chaos_shm.h says; this process keeps its own accounting
 * in slot SLOT: per chain, the calls inside the handler right now; and the
 * calls, throws caught and threads ended mid-call, and whether the process
 * ended mid-call.
 *
 * Commands on stdin, events on stdout:
 *   (start)  'S' once the threads run
 *   freeze   no call starts; calls inside the handler park there. 'F' once
 *            every thread is parked and every ended thread is joined: the
 *            accounting is exact and stays so until thaw
 *   thaw     calls go on
 *   quit     calls in the handler return, threads end; exit 0 (4 if the
 *            accounting does not come back to 0)
 * stdin closing (the test went away) ends the process with status 3.
 */
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>
#include "chaos_shm.h"

enum action { ACT_RETURN, ACT_THROW, ACT_THREAD_EXIT, ACT_PROC_EXIT };

struct chaos_error {
	int chain;
};

static chaos_slot *slot;
static const char *const *chains;
static int nchains;
static uint32_t throw_ppm, texit_ppm, pexit_ppm;
static uint64_t seed;

/* Everything below is guarded by mu. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t change; /* threads: freeze, thaw, quit */
static pthread_cond_t ctl;    /* main and the reaper: a thread parked or ended */
static bool frozen, quitting;
static int live, parked, joining;
static uint64_t spawned;
static std::vector<pthread_t> ended; /* to be joined */

static void emit(char c)
{
	if (write(STDOUT_FILENO, &c, 1) != 1)
		_exit(3);
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool chance(uint64_t *rng, uint32_t ppm)
{
	return splitmix(rng) % 1000000 < ppm;
}

/* With mu held: waits here while frozen, counted as parked. */
static void park_while_frozen()
{
	while (frozen && !quitting) {
		parked++;
		pthread_cond_broadcast(&ctl);
		pthread_cond_wait(&change, &mu);
		parked--;
	}
}

/* Outside the handler: false once the process is quitting. */
static bool may_start_call()
{
	bool go;

	pthread_mutex_lock(&mu);
	park_while_frozen();
	go = !quitting;
	pthread_mutex_unlock(&mu);
	return go;
}

/* The workload's hold inside the handler; parks on freeze. True if quitting. */
static bool hold(unsigned us)
{
	struct timespec until;
	bool q;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (long)us * 1000;
	until.tv_sec += until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	pthread_mutex_lock(&mu);
	while (us && !frozen && !quitting)
		if (pthread_cond_timedwait(&change, &mu, &until) == ETIMEDOUT)
			break;
	park_while_frozen();
	q = quitting;
	pthread_mutex_unlock(&mu);
	return q;
}

/* The calling thread ends: the reaper joins it (and replaces it). */
static void leave()
{
	pthread_mutex_lock(&mu);
	live--;
	ended.push_back(pthread_self());
	pthread_cond_broadcast(&ctl);
	pthread_mutex_unlock(&mu);
}

/* The probed function: the chain is the string its first argument points to. */
extern "C" __attribute__((noinline)) int chaos_handle(const char *chain, int c, int act,
						      unsigned hold_us)
{
	__atomic_add_fetch(&slot->inside[c], 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&slot->calls, 1, __ATOMIC_RELAXED);
	/* quitting: every call returns, so the process ends cleanly */
	if (hold(hold_us))
		act = ACT_RETURN;
	switch (act) {
	case ACT_THROW:
		__atomic_sub_fetch(&slot->inside[c], 1, __ATOMIC_SEQ_CST);
		throw chaos_error{ c };
	case ACT_THREAD_EXIT:
		__atomic_sub_fetch(&slot->inside[c], 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&slot->thread_exits, 1, __ATOMIC_RELAXED);
		leave();
		pthread_exit(nullptr);
	case ACT_PROC_EXIT:
		/* inside[] stays as it is: a dead process counts nothing */
		__atomic_store_n(&slot->proc_exit, 1, __ATOMIC_SEQ_CST);
		_exit(42);
	}
	__atomic_sub_fetch(&slot->inside[c], 1, __ATOMIC_SEQ_CST);
	/* a value, not a call: a tail call would end the frame early in insn mode */
	return chain[0] + c;
}

static void *thread_main(void *arg)
{
	uint64_t rng = (uint64_t)(uintptr_t)arg;

	while (may_start_call()) {
		int c = (int)(splitmix(&rng) % (uint64_t)nchains), act = ACT_RETURN;
		uint64_t r = splitmix(&rng);
		/* a quarter return at once, the rest hold up to 2 ms */
		unsigned hold_us = r % 4 == 0 ? 0 : (unsigned)((r >> 8) % 2000);

		if (chance(&rng, pexit_ppm))
			act = ACT_PROC_EXIT;
		else if (chance(&rng, texit_ppm))
			act = ACT_THREAD_EXIT;
		else if (chance(&rng, throw_ppm))
			act = ACT_THROW;
		try {
			chaos_handle(chains[c], c, act, hold_us);
		} catch (const chaos_error &) {
			__atomic_add_fetch(&slot->throws, 1, __ATOMIC_RELAXED);
		}
		if (chance(&rng, texit_ppm))
			break;
	}
	leave();
	return nullptr;
}

/* With mu held. */
static void spawn()
{
	pthread_t t;
	uint64_t s = seed ^ (++spawned * 0xd1b54a32d192ed03ull);
	int err;

	live++;
	err = pthread_create(&t, nullptr, thread_main, (void *)(uintptr_t)s);
	if (err) {
		std::fprintf(stderr, "chaos_worker: pthread_create: %s\n", std::strerror(err));
		_exit(5);
	}
}

/* Joins ended threads (so the kernel is done with them) and replaces them. */
static void *reaper(void *)
{
	pthread_mutex_lock(&mu);
	for (;;) {
		while (ended.empty() && !(quitting && live == 0))
			pthread_cond_wait(&ctl, &mu);
		if (ended.empty())
			break;
		pthread_t t = ended.back();
		ended.pop_back();
		joining++;
		pthread_mutex_unlock(&mu);
		pthread_join(t, nullptr);
		pthread_mutex_lock(&mu);
		joining--;
		if (!quitting)
			spawn();
		pthread_cond_broadcast(&ctl);
	}
	pthread_mutex_unlock(&mu);
	return nullptr;
}

int main(int argc, char **argv)
{
	pthread_condattr_t ca;
	pthread_t reaper_thread;
	chaos_shm_header *h;
	char line[64];
	long slot_no, threads;
	bool quit = false;
	void *base;

	if (argc < 9) {
		std::fprintf(stderr, "usage: chaos_worker SHM_FD SLOT SEED THREADS THROW_PPM TEXIT_PPM PEXIT_PPM CHAIN...\n");
		return 2;
	}
	slot_no = std::atol(argv[2]);
	seed = std::strtoull(argv[3], nullptr, 10);
	threads = std::atol(argv[4]);
	throw_ppm = (uint32_t)std::atol(argv[5]);
	texit_ppm = (uint32_t)std::atol(argv[6]);
	pexit_ppm = (uint32_t)std::atol(argv[7]);
	chains = argv + 8;
	nchains = argc - 8;
	h = static_cast<chaos_shm_header *>(
		mmap(nullptr, sizeof(*h), PROT_READ, MAP_SHARED, std::atoi(argv[1]), 0));
	if (h == MAP_FAILED || h->magic != CHAOS_MAGIC || h->slot_size != sizeof(chaos_slot) ||
	    slot_no < 0 || (uint64_t)slot_no >= h->nslots || nchains > CHAOS_MAX_CHAINS ||
	    threads < 1) {
		std::fprintf(stderr, "chaos_worker: bad shared memory or arguments\n");
		return 2;
	}
	base = mmap(nullptr, sizeof(*h) + h->nslots * sizeof(chaos_slot), PROT_READ | PROT_WRITE,
		    MAP_SHARED, std::atoi(argv[1]), 0);
	if (base == MAP_FAILED) {
		std::perror("chaos_worker: mmap");
		return 2;
	}
	slot = reinterpret_cast<chaos_slot *>(static_cast<char *>(base) + sizeof(*h)) + slot_no;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&change, &ca);
	pthread_cond_init(&ctl, nullptr);
	pthread_mutex_lock(&mu);
	for (long i = 0; i < threads; i++)
		spawn();
	pthread_mutex_unlock(&mu);
	if (pthread_create(&reaper_thread, nullptr, reaper, nullptr))
		_exit(5);
	emit('S');

	while (std::fgets(line, sizeof(line), stdin)) {
		if (!std::strncmp(line, "freeze", 6)) {
			pthread_mutex_lock(&mu);
			frozen = true;
			pthread_cond_broadcast(&change);
			/* every thread parked, none half-ended */
			while (parked != live || !ended.empty() || joining)
				pthread_cond_wait(&ctl, &mu);
			pthread_mutex_unlock(&mu);
			emit('F');
		} else if (!std::strncmp(line, "thaw", 4)) {
			pthread_mutex_lock(&mu);
			frozen = false;
			pthread_cond_broadcast(&change);
			pthread_mutex_unlock(&mu);
		} else if (!std::strncmp(line, "quit", 4)) {
			quit = true;
			break;
		}
	}
	if (!quit)
		_exit(3);
	pthread_mutex_lock(&mu);
	quitting = true;
	frozen = false;
	pthread_cond_broadcast(&change);
	pthread_cond_broadcast(&ctl);
	pthread_mutex_unlock(&mu);
	pthread_join(reaper_thread, nullptr);
	for (int c = 0; c < nchains; c++)
		if (__atomic_load_n(&slot->inside[c], __ATOMIC_SEQ_CST))
			return 4;
	return 0;
}
