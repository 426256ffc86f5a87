// SPDX-License-Identifier: MIT
/*
 * A reading of the counters is consistent: a call that starts and ends
 * while the reader is between its passes (exits, then entries, then exits
 * again) is never counted in flight. The counters here are this test's own
 * memory, one CPU and one series (the overflow id, which needs no name);
 * the reader's test steps place a whole call (entry, then exit, as the BPF
 * side counts them) exactly between two passes, so each case is one
 * deterministic interleaving. One call is parked throughout: every reading
 * must say 1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "inflight.h"
#include "probe/snapshot.h"

#define ID_SPACE 2

struct fake {
	struct inflight_id_state states[ID_SPACE];
	uint64_t entries[ID_SPACE];       /* one CPU */
	uint64_t exits[ID_SPACE * 2];     /* returned, released */
	uint64_t stats[INFLIGHT_STAT__COUNT];
	uint32_t next_id;
	/* which steps of the reading a call starts and ends in (1-based) */
	const int *calls_at;
	int ncalls_at, steps, calls;
	bool every_step;
};

static void step(void *ctx)
{
	struct fake *f = ctx;
	bool call = f->every_step;

	f->steps++;
	for (int i = 0; i < f->ncalls_at; i++)
		call = call || f->calls_at[i] == f->steps;
	if (!call)
		return;
	f->entries[INFLIGHT_OVERFLOW_ID]++;
	f->exits[INFLIGHT_OVERFLOW_ID * 2]++;
	f->calls++;
}

static struct counts_reader *fake_reader(struct fake *f)
{
	struct counts_maps m = {
		.chain_ids_fd = -1, .id_states_fd = -1, .free_ids_fd = -1,
		.states = f->states, .entries = f->entries, .exits = f->exits,
		.stats = f->stats, .next_id = &f->next_id, .id_space = ID_SPACE, .ncpus = 1,
	};
	struct counts_reader *r;

	memset(f, 0, sizeof(*f));
	f->next_id = 1; /* only the overflow id holds counts */
	f->entries[INFLIGHT_OVERFLOW_ID] = 5;
	f->exits[INFLIGHT_OVERFLOW_ID * 2] = 4; /* one call parked */
	r = counts_reader_new(&m);
	assert_non_null(r);
	counts_reader_test_steps(r, step, f);
	return r;
}

/* One reading with calls at `at`; returns its in-flight count. */
static int64_t read_with_calls(struct counts_reader *r, struct fake *f, const int *at, int n)
{
	struct snapshot s = { 0 };
	int64_t v;

	f->calls_at = at;
	f->ncalls_at = n;
	f->steps = 0;
	assert_int_equal(counts_reader_read(r, &s), 0);
	assert_int_equal(s.n, 1);
	v = s.chains[0].inflight;
	snapshot_free(&s);
	return v;
}

/* The calls made during the readings are all counted in and out after. */
static void expect_settled(struct counts_reader *r, struct fake *f)
{
	struct snapshot s = { 0 };

	f->ncalls_at = 0;
	f->every_step = false;
	assert_int_equal(counts_reader_read(r, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.chains[0].inflight, 1);
	assert_int_equal(s.chains[0].entered, 5 + f->calls);
	assert_int_equal(s.chains[0].returned, 4 + f->calls);
	snapshot_free(&s);
}

/*
 * A call between the exits pass and the entries pass: its entry is read,
 * its exit was not. The exits read again after the entries moved, so the
 * series is read again.
 */
static void test_call_between_exits_and_entries(void **state)
{
	static const int at[] = { 1 };
	struct fake f;
	struct counts_reader *r = fake_reader(&f);

	(void)state;
	assert_int_equal(read_with_calls(r, &f, at, 1), 1);
	assert_int_equal(f.calls, 1);
	expect_settled(r, &f);
	counts_reader_free(r);
}

/* A call after the entries pass: neither side of it is read. */
static void test_call_after_entries(void **state)
{
	static const int at[] = { 2 };
	struct fake f;
	struct counts_reader *r = fake_reader(&f);

	(void)state;
	assert_int_equal(read_with_calls(r, &f, at, 1), 1);
	expect_settled(r, &f);
	counts_reader_free(r);
}

/*
 * The re-read is torn too (a call between its exits and its entries):
 * it is checked like the first and read once more.
 */
static void test_reread_torn_again(void **state)
{
	static const int at[] = { 1, 3 };
	struct fake f;
	struct counts_reader *r = fake_reader(&f);

	(void)state;
	assert_int_equal(read_with_calls(r, &f, at, 2), 1);
	assert_int_equal(f.calls, 2);
	expect_settled(r, &f);
	counts_reader_free(r);
}

/*
 * Calls end throughout every try: the reading gives up after its tries,
 * high rather than low (exits are read before entries), never below the
 * parked call.
 */
static void test_never_still(void **state)
{
	struct fake f;
	struct counts_reader *r = fake_reader(&f);
	int64_t v;

	(void)state;
	f.every_step = true;
	v = read_with_calls(r, &f, NULL, 0);
	if (v < 1)
		fail_msg("read %lld with one call parked", (long long)v);
	expect_settled(r, &f);
	counts_reader_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_between_exits_and_entries),
		cmocka_unit_test(test_call_after_entries),
		cmocka_unit_test(test_reread_torn_again),
		cmocka_unit_test(test_never_still),
	};

	return cmocka_run_group_tests_name("consistent readings", tests, NULL, NULL);
}
