/* SPDX-License-Identifier: MIT */
/*
 * The two clocks: monotonic for deadlines and periods (never stepped),
 * realtime for timestamps that leave the process (OTLP points, logs).
 */
#ifndef INFLIGHT_CLOCK_H
#define INFLIGHT_CLOCK_H

#include <stddef.h>
#include <stdint.h>

uint64_t clock_mono_ns(void);
uint64_t clock_mono_ms(void);
uint64_t clock_realtime_ns(void);
/*
 * A realtime timestamp as UTC ISO 8601 to the millisecond,
 * "2026-11-25T16:07:16.343Z" (24 characters): log lines, the console exporter.
 */
void clock_iso8601_ms(uint64_t realtime_ns, char *out, size_t size);

#endif
