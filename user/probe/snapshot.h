/* SPDX-License-Identifier: MIT */
/* One reading of the per-chain counters, summed over CPUs. */
#ifndef INFLIGHT_SNAPSHOT_H
#define INFLIGHT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inflight.h"

struct chain_stat {
	uint32_t id;
	const char *name; /* valid UTF-8, owned by the reader */
	bool overflow;    /* the series past the chain cap */
	uint64_t cgroup;  /* the callers' cgroup v2 id when split by cgroup, else 0 */
	uint64_t entered;
	uint64_t returned;
	uint64_t released;
	int64_t inflight; /* entered - returned - released */
	/*
	 * The durations of the calls that returned (released ones are not
	 * timed): per bucket of INFLIGHT_DURATION_BOUNDS_NS (not cumulative),
	 * their count and sum. All 0 when gauge_only.
	 */
	uint64_t duration_bucket[INFLIGHT_DURATION_BUCKETS];
	uint64_t duration_count;
	uint64_t duration_sum_ns;
	/*
	 * The age of the chain's oldest call in flight at the reading, when
	 * known (false: nothing in flight, or its start cannot be had). Native
	 * targets: from the entry time in each pending frame, exact. CPython:
	 * since the first reading that saw the call (python/py_first_seen.h),
	 * a lower bound short by less than one interval.
	 */
	bool oldest_known;
	uint64_t oldest_age_ns;
};

/* What the CPython reader left out, for the self-metrics (cumulative). */
enum {
	PY_STAT_OVER_BUDGET_READS, /* process readings given up: read budget spent */
	PY_STAT_OVER_BUDGET_CYCLE, /* process readings given up: a list loops */
	PY_STAT_CHAINS_CAPPED,     /* calls under overflow: too many chains in one process */
	PY_STAT__COUNT,
};

struct snapshot {
	uint64_t ts_ns; /* CLOCK_REALTIME when reading began */
	struct chain_stat *chains; /* sorted by name; overflow last */
	size_t n;
	uint64_t stats[INFLIGHT_STAT__COUNT];
	uint64_t attach_failures; /* discovery: matching processes that could not be probed */
	uint64_t py_stats[PY_STAT__COUNT];
	/* only in-flight counts are known (a frame snapshot): no entered/exited */
	bool gauge_only;
};

struct counts_reader;

/* The BPF side's counters, mapped into our memory: reading them is no syscall. */
struct counts_maps {
	int chain_ids_fd;
	int id_states_fd, free_ids_fd; /* for retiring ids */
	const volatile struct inflight_id_state *states; /* [id_space] */
	const volatile uint64_t *entries; /* [ncpus][id_space] */
	const volatile uint64_t *exits;   /* [ncpus][id_space][returned, released] */
	const volatile uint64_t *stats;   /* [ncpus][INFLIGHT_STAT__COUNT] */
	const volatile uint32_t *next_id; /* chain ids handed out so far */
	uint32_t id_space, ncpus;
	/* [ncpus][id_space] struct inflight_duration; zeroed by fd when an id is retired */
	const volatile struct inflight_duration *durations;
	int durations_fd;
};

struct counts_reader *counts_reader_new(const struct counts_maps *maps);
void counts_reader_free(struct counts_reader *r);
/* Fills `out` (its chains array is reused across calls). 0 or -errno. */
int counts_reader_read(struct counts_reader *r, struct snapshot *out);
/*
 * Tests only: `fn(ctx)` runs between a reading's passes over the counters
 * (after the exits, after the entries, and within each re-read), where the
 * BPF side may count calls that start and end: a test places them there.
 */
void counts_reader_test_steps(struct counts_reader *r, void (*fn)(void *ctx), void *ctx);

/*
 * Retires the chain ids `ids`, whose cgroups are gone, for the BPF side to
 * hand out again: each key leaves the chain table, the id's counts now
 * become the base the next series on it is counted from, and it goes on
 * the free queue (its duration histogram is zeroed: the new series' starts
 * empty). Only for series nobody can enter any more; an id with
 * calls still in flight is left alone. Keeps the retired ids at the front
 * of `ids`; returns how many.
 */
size_t counts_reader_retire(struct counts_reader *r, uint32_t *ids, size_t n);
void snapshot_free(struct snapshot *s);
/* Sorts by name, the overflow series last. */
void snapshot_sort(struct snapshot *s);

/* Display name of a chain key as captured by BPF (special keys included). */
void chain_key_display(const struct inflight_chain_key *key, char *out, size_t outsz);

#endif
