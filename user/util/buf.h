/* SPDX-License-Identifier: MIT */
/* A growable byte buffer: encoders write into it, the exporter sends it. */
#ifndef INFLIGHT_BUF_H
#define INFLIGHT_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len, cap;
	bool oom; /* an append failed: the content is incomplete */
};

void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Appends; on allocation failure sets b->oom and drops the bytes. */
void buf_append(struct buf *b, const void *p, size_t n);
/* Room for `n` more bytes after len: where to write them, or NULL (oom). */
uint8_t *buf_reserve(struct buf *b, size_t n);
void buf_putc(struct buf *b, char c);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `s` as a JSON string literal, quotes included. */
void buf_json_string(struct buf *b, const char *s);

#endif
