/* SPDX-License-Identifier: MIT */
/*
 * When to try an export again, per the OTLP/HTTP spec: 429, 502, 503, 504
 * and connection failures are retryable, after Retry-After if the receiver
 * gave one, else after an exponential backoff with jitter; never past the
 * export's deadline.
 */
#ifndef INFLIGHT_RETRY_H
#define INFLIGHT_RETRY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define RETRY_INITIAL_MS 1000
#define RETRY_MAX_MS 16000

bool retry_status_retryable(long http_status);

/*
 * Parses a Retry-After value: delta-seconds, or an HTTP-date (IMF-fixdate,
 * RFC 850, asctime). Returns 0 with the delay from `now`, -ERANGE for more
 * than a year of seconds, or -EINVAL.
 */
int retry_after_parse(const char *value, time_t now, uint64_t *delay_ms);

/*
 * The delay before retry number `attempt` (0-based): RETRY_INITIAL_MS
 * doubling up to RETRY_MAX_MS, then scaled into [50%, 100%] by `random`
 * (uniform over 32 bits), so collectors restarted together spread out.
 */
uint64_t retry_backoff_ms(unsigned attempt, uint32_t random);

#endif
