/* SPDX-License-Identifier: MIT */
/* Chain names come from worker memory: make them valid UTF-8 before use. */
#ifndef INFLIGHT_UTF8_H
#define INFLIGHT_UTF8_H

#include <stddef.h>

/* U+FFFD is 3 bytes: the worst case is every input byte replaced. */
#define UTF8_SANITIZED_MAX(n) ((n) * 3 + 1)

/*
 * Copies `in` (up to `len` bytes or the first NUL) to `out` as valid UTF-8:
 * every byte that does not begin a complete, valid sequence (invalid,
 * overlong, surrogate, truncated) becomes one U+FFFD.
 * Always NUL-terminates (outsz > 0); never splits a character. Returns the
 * output length.
 */
size_t utf8_sanitize(const char *in, size_t len, char *out, size_t outsz);

#endif
