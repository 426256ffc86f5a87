/* SPDX-License-Identifier: MIT */
/*
 * The one JSON string escaper: the log's JSON lines, `top --json` and the
 * console exporter all quote through it, into a buffer or onto a stream.
 */
#ifndef INFLIGHT_JSON_ESCAPE_H
#define INFLIGHT_JSON_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Where json_escape sends its output: `n` bytes at `p`. */
typedef void json_emit_fn(void *ctx, const char *p, size_t n);

/*
 * Sends `s` as a JSON string literal, quotes included, to `emit`: '"', '\'
 * and \n \r \t by their short escapes, other control bytes and DEL as
 * \u00XX, every other byte (UTF-8 included) as it is, in runs.
 */
void json_escape(const char *s, json_emit_fn *emit, void *ctx);

/* Writes `s` as a JSON string literal (quotes included) to `out`. */
void json_write_string(FILE *out, const char *s);

#endif
