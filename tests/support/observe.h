/* SPDX-License-Identifier: MIT */
/* Observer helpers for integration tests: start, read, assert exact counts. */
#ifndef INFLIGHT_TEST_OBSERVE_H
#define INFLIGHT_TEST_OBSERVE_H

#include <stdint.h>
#include "inflight.h"
#include "observe/observer.h"

/* The spec every native test worker's handler takes its chain with. */
#define WORKER_CHAIN_SPEC "+0(%di):string"

/* A config for native_worker's worker_handle with the usual chain spec. */
struct observer_config test_config(const char *binary, enum return_mode mode);

/*
 * Starts the observer or fails the test with its error line. The observer
 * is stopped by test_teardown if the test does not stop it itself.
 */
struct observer *test_observe(const struct observer_config *cfg);

/* Asserts one chain's exact counts; exited = returned + released. */
void expect_chain(struct observer *o, const char *chain, int64_t inflight, uint64_t entered,
		  uint64_t exited);
/* Asserts the chain has not been seen at all. */
void expect_no_chain(struct observer *o, const char *chain);
/* Asserts the sum of in-flight over every chain. */
void expect_total_inflight(struct observer *o, int64_t total);
uint64_t observed_stat(struct observer *o, enum inflight_stat which);
uint64_t observed_returned(struct observer *o, const char *chain);
/*
 * Asserts the frames the BPF side holds in its per-thread storage, summed
 * over every thread on the machine (the frames themselves, not entries less
 * exits).
 */
void expect_pending_frames(struct observer *o, uint64_t frames);
/*
 * Asserts the calls the pending-calls iterator reads (observer_pending_calls),
 * one per frame: expect_pending_frames checks them too.
 */
void expect_pending_calls(struct observer *o, uint64_t calls);
/* Asserts no thread has a pending frame. */
void expect_no_pending_frames(struct observer *o);

/* Stops the observers and workers a test left behind (a cmocka teardown). */
int test_teardown(void **state);
/* Stops an observer started with test_observe. */
void test_unobserve(struct observer *o);

#endif
