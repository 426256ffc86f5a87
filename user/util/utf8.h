/* SPDX-License-Identifier: MIT */
/* Chain names come from worker memory: make them valid UTF-8 before use. */
#ifndef INFLIGHT_UTF8_H
#define INFLIGHT_UTF8_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * Encodes code point `cp` (at most U+10FFFF) into `out`; returns its length,
 * 1 to 4. Surrogates are encoded as they are: callers that take them from
 * outside pass the result through utf8_sanitize or replace them first.
 */
size_t utf8_encode(uint32_t cp, char out[4]);

#endif
