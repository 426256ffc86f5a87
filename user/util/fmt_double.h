/* SPDX-License-Identifier: MIT */
/* A double as the shortest decimal text that reads back as the same value. */
#ifndef INFLIGHT_FMT_DOUBLE_H
#define INFLIGHT_FMT_DOUBLE_H

#include <stddef.h>

/*
 * Writes `v` to `out` ("0.005", not 0.0050000000000000001; "10", "2.5e-07"),
 * for text formats whose readers parse it back (OTLP JSON, Prometheus).
 * Finite values only. `size` of 32 always suffices.
 */
void fmt_double(char *out, size_t size, double v);

#endif
