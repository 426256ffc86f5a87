/* SPDX-License-Identifier: MIT */
/*
 * The little of protobuf's wire format OTLP needs: varints, fixed64,
 * length-delimited fields and nested messages; and a reader for the two
 * small messages a receiver answers with.
 */
#ifndef INFLIGHT_PROTOBUF_H
#define INFLIGHT_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

enum pb_wire { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

void pb_varint(struct buf *b, uint64_t v);
void pb_tag(struct buf *b, uint32_t field, enum pb_wire wire);
void pb_uint(struct buf *b, uint32_t field, uint64_t v);    /* varint field */
void pb_fixed64(struct buf *b, uint32_t field, uint64_t v); /* fixed64 / sfixed64 */
void pb_bytes(struct buf *b, uint32_t field, const void *p, size_t n);
void pb_double(struct buf *b, uint32_t field, double v);     /* double (wire I64) */
/* Packed repeated fixed64 / double fields: one length-delimited field. */
void pb_packed_fixed64(struct buf *b, uint32_t field, const uint64_t *v, size_t n);
void pb_packed_double(struct buf *b, uint32_t field, const double *v, size_t n);
void pb_string(struct buf *b, uint32_t field, const char *s);

/*
 * Nested message: pb_begin returns a mark; pb_end writes the length in
 * front of what was appended since (on allocation failure the buffer is
 * marked oom).
 */
size_t pb_begin(struct buf *b, uint32_t field);
void pb_end(struct buf *b, size_t mark);

/* Reading: one field at a time. */
struct pb_reader {
	const uint8_t *p, *end;
};
struct pb_field {
	uint32_t number;
	enum pb_wire wire;
	uint64_t varint;      /* PB_VARINT, PB_I64, PB_I32 */
	const uint8_t *data;  /* PB_LEN */
	size_t len;
};
/* 1 with a field, 0 at the end, -EBADMSG on malformed input. */
int pb_next(struct pb_reader *r, struct pb_field *f);

#endif
