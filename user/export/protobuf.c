// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include "export/protobuf.h"

/* Encodes `v` into tmp[0..10); returns its length. */
static size_t encode_varint(uint8_t tmp[10], uint64_t v)
{
	size_t n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

void pb_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];

	buf_append(b, tmp, encode_varint(tmp, v));
}

void pb_tag(struct buf *b, uint32_t field, enum pb_wire wire)
{
	pb_varint(b, ((uint64_t)field << 3) | wire);
}

void pb_uint(struct buf *b, uint32_t field, uint64_t v)
{
	pb_tag(b, field, PB_VARINT);
	pb_varint(b, v);
}

void pb_fixed64(struct buf *b, uint32_t field, uint64_t v)
{
	uint8_t le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	pb_tag(b, field, PB_I64);
	buf_append(b, le, 8);
}

/* v as 8 little-endian bytes, as fixed64 and double go on the wire */
static void put_le64(struct buf *b, uint64_t v)
{
	uint8_t le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	buf_append(b, le, 8);
}

static uint64_t double_bits(double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	return bits;
}

void pb_double(struct buf *b, uint32_t field, double v)
{
	pb_fixed64(b, field, double_bits(v));
}

void pb_packed_fixed64(struct buf *b, uint32_t field, const uint64_t *v, size_t n)
{
	pb_tag(b, field, PB_LEN);
	pb_varint(b, n * 8);
	for (size_t i = 0; i < n; i++)
		put_le64(b, v[i]);
}

void pb_packed_double(struct buf *b, uint32_t field, const double *v, size_t n)
{
	pb_tag(b, field, PB_LEN);
	pb_varint(b, n * 8);
	for (size_t i = 0; i < n; i++)
		put_le64(b, double_bits(v[i]));
}

void pb_bytes(struct buf *b, uint32_t field, const void *p, size_t n)
{
	pb_tag(b, field, PB_LEN);
	pb_varint(b, n);
	buf_append(b, p, n);
}

void pb_string(struct buf *b, uint32_t field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

/* One byte is reserved for the length; longer lengths shift the body. */
size_t pb_begin(struct buf *b, uint32_t field)
{
	pb_tag(b, field, PB_LEN);
	buf_putc(b, 0);
	return b->len;
}

void pb_end(struct buf *b, size_t mark)
{
	uint8_t tmp[10];
	size_t body, n;

	if (b->oom)
		return;
	body = b->len - mark;
	n = encode_varint(tmp, body);
	if (n > 1) {
		buf_append(b, tmp, n - 1); /* grow by the extra length bytes */
		if (b->oom)
			return;
		memmove(b->data + mark + n - 1, b->data + mark, body);
	}
	memcpy(b->data + mark - 1, tmp, n);
}

static int read_varint(struct pb_reader *r, uint64_t *out)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return -EBADMSG;
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		if (!(*r->p++ & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -EBADMSG;
}

int pb_next(struct pb_reader *r, struct pb_field *f)
{
	uint64_t key, len;

	if (r->p >= r->end)
		return 0;
	if (read_varint(r, &key))
		return -EBADMSG;
	memset(f, 0, sizeof(*f));
	f->number = (uint32_t)(key >> 3);
	f->wire = (enum pb_wire)(key & 7);
	switch (f->wire) {
	case PB_VARINT:
		return read_varint(r, &f->varint) ? -EBADMSG : 1;
	case PB_I64:
	case PB_I32: {
		size_t n = f->wire == PB_I64 ? 8 : 4;

		if ((size_t)(r->end - r->p) < n)
			return -EBADMSG;
		for (size_t i = 0; i < n; i++)
			f->varint |= (uint64_t)r->p[i] << (8 * i);
		r->p += n;
		return 1;
	}
	case PB_LEN:
		if (read_varint(r, &len) || len > (uint64_t)(r->end - r->p))
			return -EBADMSG;
		f->data = r->p;
		f->len = (size_t)len;
		r->p += len;
		return 1;
	default:
		return -EBADMSG;
	}
}
