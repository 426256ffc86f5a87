/* SPDX-License-Identifier: MIT */
/*
 * Sends encoded exports from a thread of its own, so reading the maps never
 * waits on the network. It holds at most one export waiting: a newer one
 * replaces it (values are cumulative, the newest says everything), so an
 * endpoint that is down for an hour costs no memory, and the first success
 * after it carries the current values.
 */
#ifndef INFLIGHT_EXPORTER_H
#define INFLIGHT_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"
#include "export/export_config.h"

struct exporter_stats {
	uint64_t sent;       /* accepted by the receiver */
	uint64_t failed;     /* given up: not retryable, or out of time */
	uint64_t superseded; /* replaced by a newer export before it went out */
	uint64_t attempts;   /* HTTP requests made */
};

struct exporter;

/* Starts the sending thread. NULL with `err` set on failure. */
struct exporter *exporter_start(const struct export_config *c, char *err, size_t errlen);

/*
 * Hands over an encoded export: `payload`'s bytes move to the exporter and
 * `payload` gets a spare buffer back, for the next export.
 */
void exporter_submit(struct exporter *e, struct buf *payload);

/* Exports given up so far (the collector reports it as a metric). */
uint64_t exporter_failed(struct exporter *e);

/* False while exports fail (for readiness); `why` gets the last error. */
bool exporter_healthy(struct exporter *e, char *why, size_t size);

/*
 * Sends what is waiting, retrying until `timeout_ms` from now at most, then
 * stops the thread and frees everything. Returns 0 if nothing was left
 * unsent, else -ETIMEDOUT.
 */
int exporter_stop(struct exporter *e, uint64_t timeout_ms, struct exporter_stats *stats);

#endif
