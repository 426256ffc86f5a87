/* SPDX-License-Identifier: MIT */
/* `inflight top`'s OLDEST: a call's age in a few characters. */
#ifndef INFLIGHT_AGE_TEXT_H
#define INFLIGHT_AGE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text: "99999h59m" and more fit. */
#define AGE_TEXT_MAX 24

/*
 * "0.4s" (under 10 s, tenths), "42s", "3m05s", "2h01m"; "-" when not
 * `known`. Rounded down: an age never reads older than it is.
 */
void age_text(uint64_t ns, bool known, char *out, size_t size);

#endif
