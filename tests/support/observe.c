// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "support/observe.h"
#include "probe/pending_calls.h"
#include "support/worker_proc.h"

static struct inflight_fetch worker_fetch;

struct observer_config test_config(const char *binary, enum return_mode mode)
{
	struct observer_config c = { 0 };

	memset(&worker_fetch, 0, sizeof(worker_fetch));
	/* +0(%di):string */
	worker_fetch.base = INFLIGHT_BASE_REG;
	worker_fetch.reg = INFLIGHT_REG_DI;
	worker_fetch.type = INFLIGHT_T_STRING;
	worker_fetch.nderef = 1;
	c.target.binary = binary;
	c.target.func = "worker_handle";
	c.target.fetch = &worker_fetch;
	c.target.return_mode = mode;
	return c;
}

static struct observer *current;

struct observer *test_observe(const struct observer_config *cfg)
{
	char err[1024] = "";
	struct observer *o = observer_start(cfg, err, sizeof(err));

	if (!o)
		fail_msg("observer_start: %s", err);
	assert_null(current);
	current = o;
	return o;
}

void test_unobserve(struct observer *o)
{
	if (o == current)
		current = NULL;
	observer_stop(o);
}

int test_teardown(void **state)
{
	(void)state;
	worker_stop_all();
	if (current)
		test_unobserve(current);
	return 0;
}

static struct snapshot read_now(struct observer *o)
{
	struct snapshot s = { 0 };

	assert_int_equal(observer_read(o, &s), 0);
	return s;
}

void expect_chain(struct observer *o, const char *chain, int64_t inflight, uint64_t entered,
		  uint64_t exited)
{
	struct snapshot s = read_now(o);

	for (size_t i = 0; i < s.n; i++) {
		const struct chain_stat *c = &s.chains[i];

		if (strcmp(c->name, chain))
			continue;
		if (c->inflight != inflight || c->entered != entered ||
		    c->returned + c->released != exited) {
			char msg[256];

			snprintf(msg, sizeof(msg),
				 "chain '%s': inflight %lld entered %llu exited %llu (returned %llu released %llu); expected %lld %llu %llu",
				 chain, (long long)c->inflight, (unsigned long long)c->entered,
				 (unsigned long long)(c->returned + c->released),
				 (unsigned long long)c->returned, (unsigned long long)c->released,
				 (long long)inflight, (unsigned long long)entered,
				 (unsigned long long)exited);
			snapshot_free(&s);
			fail_msg("%s", msg);
		}
		snapshot_free(&s);
		return;
	}
	snapshot_free(&s);
	fail_msg("chain '%s' not seen", chain);
}

void expect_no_chain(struct observer *o, const char *chain)
{
	struct snapshot s = read_now(o);

	for (size_t i = 0; i < s.n; i++)
		if (!strcmp(s.chains[i].name, chain)) {
			snapshot_free(&s);
			fail_msg("chain '%s' was counted but should not have been", chain);
		}
	snapshot_free(&s);
}

void expect_total_inflight(struct observer *o, int64_t total)
{
	struct snapshot s = read_now(o);
	int64_t sum = 0;

	for (size_t i = 0; i < s.n; i++)
		sum += s.chains[i].inflight;
	snapshot_free(&s);
	assert_int_equal(sum, total);
}

uint64_t observed_stat(struct observer *o, enum inflight_stat which)
{
	struct snapshot s = read_now(o);
	uint64_t v = s.stats[which];

	snapshot_free(&s);
	return v;
}

uint64_t observed_returned(struct observer *o, const char *chain)
{
	struct snapshot s = read_now(o);
	uint64_t v = 0;

	for (size_t i = 0; i < s.n; i++)
		if (!strcmp(s.chains[i].name, chain))
			v = s.chains[i].returned;
	snapshot_free(&s);
	return v;
}

void expect_pending_frames(struct observer *o, uint64_t want)
{
	char where[512];
	uint64_t frames;
	int rc = observer_pending_frames(o, &frames, where, sizeof(where));

	if (rc)
		fail_msg("cannot look at the pending frames: %s", strerror(-rc));
	if (frames != want)
		fail_msg("%llu frames pending, expected %llu (pid/tid: frames) %s",
			 (unsigned long long)frames, (unsigned long long)want, where);
	expect_pending_calls(o, want);
}

void expect_pending_calls(struct observer *o, uint64_t want)
{
	struct pending_call *calls;
	size_t n;
	int rc = observer_pending_calls(o, &calls, &n);

	if (rc)
		fail_msg("cannot read the pending calls: %s", strerror(-rc));
	free(calls);
	if (n != want)
		fail_msg("the iterator read %zu pending calls, expected %llu", n,
			 (unsigned long long)want);
}

void expect_no_pending_frames(struct observer *o)
{
	expect_pending_frames(o, 0);
}
