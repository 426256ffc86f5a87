/* SPDX-License-Identifier: MIT */
/*
 * The two clocks: monotonic for deadlines and periods (never stepped),
 * realtime for timestamps that leave the process (OTLP points, logs).
 */
#ifndef INFLIGHT_CLOCK_H
#define INFLIGHT_CLOCK_H

#include <stdint.h>

uint64_t clock_mono_ns(void);
uint64_t clock_mono_ms(void);
uint64_t clock_realtime_ns(void);

#endif
