/* SPDX-License-Identifier: MIT */
/* Strict numbers from flags, variables and files: the whole string, within range. */
#ifndef INFLIGHT_PARSE_NUMBER_H
#define INFLIGHT_PARSE_NUMBER_H

#include <stdint.h>

/* A decimal in [min, max], no sign. 0, -EINVAL (not one) or -ERANGE. */
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* "250ms", "2s", "1m", "1h", or plain seconds; 1 ms to a day. 0, -EINVAL or
 * -ERANGE. */
int parse_duration_ms(const char *s, uint64_t *out_ms);

#endif
