/* SPDX-License-Identifier: MIT */
/*
 * How many terminal columns text takes: East Asian wide and fullwidth
 * characters (CJK, Hangul, fullwidth forms, most emoji) take two, combining
 * marks none, the rest one. A small table of our own rather than wcwidth(3),
 * which answers by the locale and is -1 for every non-ASCII character in
 * the C locale a collector usually runs in.
 */
#ifndef INFLIGHT_TEXT_WIDTH_H
#define INFLIGHT_TEXT_WIDTH_H

#include <stddef.h>
#include <stdint.h>

/* Columns of one code point: 0, 1 or 2. */
int text_width_cp(uint32_t cp);

/*
 * Decodes the UTF-8 sequence at `s` (valid UTF-8, as utf8_sanitize makes
 * it) into `cp`; returns its length in bytes (1 for a stray byte).
 */
size_t text_decode(const char *s, uint32_t *cp);

/* Columns of a valid UTF-8 string. */
int text_width(const char *s);

#endif
