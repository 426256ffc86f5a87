// SPDX-License-Identifier: MIT
/*
 * protobuf: the wire-format writer behind the OTLP encoder and the reader
 * behind response parsing. Writers are checked byte for byte; pb_begin /
 * pb_end reserve one length byte and shift the body when the length needs
 * more, which is where an off-by-one would corrupt every larger export.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/buf.h"
#include "export/protobuf.h"

static void assert_bytes(const struct buf *b, const uint8_t *expected, size_t n)
{
	assert_false(b->oom);
	assert_int_equal(b->len, n);
	assert_memory_equal(b->data, expected, n);
}

static void check_varint(uint64_t v, const uint8_t *expected, size_t n)
{
	struct buf b = { 0 };

	pb_varint(&b, v);
	assert_bytes(&b, expected, n);
	buf_free(&b);
}

static void test_varints(void **state)
{
	(void)state;
	check_varint(0, (const uint8_t[]){ 0x00 }, 1);
	check_varint(1, (const uint8_t[]){ 0x01 }, 1);
	check_varint(127, (const uint8_t[]){ 0x7f }, 1);
	check_varint(128, (const uint8_t[]){ 0x80, 0x01 }, 2);
	check_varint(300, (const uint8_t[]){ 0xac, 0x02 }, 2);
	check_varint(16383, (const uint8_t[]){ 0xff, 0x7f }, 2);
	check_varint(16384, (const uint8_t[]){ 0x80, 0x80, 0x01 }, 3);
	/* the longest: ten bytes, the last carrying the top bit */
	check_varint(UINT64_MAX,
		     (const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 },
		     10);
	/* a negative int64 cast to uint64 (how int attributes are written) */
	check_varint((uint64_t)(int64_t)-2,
		     (const uint8_t[]){ 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 },
		     10);
}

/* Tags are (field << 3) | wire, themselves varints. */
static void test_tags_and_uint(void **state)
{
	struct buf b = { 0 };

	(void)state;
	pb_tag(&b, 1, PB_VARINT);
	pb_tag(&b, 2, PB_LEN);
	pb_tag(&b, 3, PB_I64);
	pb_tag(&b, 5, PB_I32);
	pb_tag(&b, 16, PB_VARINT); /* first field number needing a 2-byte tag */
	pb_uint(&b, 1, 150);       /* the protobuf docs' example: 08 96 01 */
	pb_uint(&b, 2, 0);         /* an explicit zero is still written */
	assert_bytes(&b,
		     (const uint8_t[]){ 0x08, 0x12, 0x19, 0x2d, 0x80, 0x01, 0x08, 0x96, 0x01, 0x10,
					0x00 },
		     11);
	buf_free(&b);
}

static void test_fixed64_little_endian(void **state)
{
	struct buf b = { 0 };

	(void)state;
	pb_fixed64(&b, 1, 0x0102030405060708ull);
	pb_fixed64(&b, 2, 0);
	pb_fixed64(&b, 6, (uint64_t)(int64_t)-2); /* sfixed64 -2, as as_int is written */
	assert_bytes(&b,
		     (const uint8_t[]){
			     0x09, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* field 1 */
			     0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* field 2 */
			     0x31, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* field 6 */
		     },
		     27);
	buf_free(&b);
}

static void test_string_and_bytes(void **state)
{
	struct buf b = { 0 };

	(void)state;
	pb_string(&b, 2, "hi");
	pb_string(&b, 1, ""); /* empty: tag and a zero length */
	pb_string(&b, 3, "caf\xc3\xa9"); /* UTF-8 bytes are copied, length in bytes */
	pb_bytes(&b, 4, "\x00\x01", 2); /* bytes may hold NUL */
	assert_bytes(&b,
		     (const uint8_t[]){ 0x12, 0x02, 'h', 'i', 0x0a, 0x00, 0x1a, 0x05, 'c', 'a', 'f',
					0xc3, 0xa9, 0x22, 0x02, 0x00, 0x01 },
		     17);
	buf_free(&b);
}

/*
 * A nested message of `body` bytes behind a 2-byte prefix and followed by
 * a trailer: the length prefix must be `prefix` bytes, the body intact
 * after the shift, and the trailer after the body.
 */
static void check_nested(size_t body, const uint8_t *prefix, size_t nprefix)
{
	struct buf b = { 0 };
	uint8_t *content = malloc(body ? body : 1);
	size_t mark, off;

	assert_non_null(content);
	for (size_t i = 0; i < body; i++)
		content[i] = (uint8_t)(i * 7 + 3);
	pb_uint(&b, 15, 1); /* something before: the mark is not at offset 0 */
	mark = pb_begin(&b, 1);
	assert_int_equal(mark, 4); /* 78 01, then tag 0a and the reserved byte */
	buf_append(&b, content, body);
	pb_end(&b, mark);
	pb_uint(&b, 2, 5); /* something after */
	assert_false(b.oom);
	assert_int_equal(b.len, 2 + 1 + nprefix + body + 2);
	assert_int_equal(b.data[0], 0x78);
	assert_int_equal(b.data[1], 0x01);
	assert_int_equal(b.data[2], 0x0a);
	assert_memory_equal(b.data + 3, prefix, nprefix);
	off = 3 + nprefix;
	if (body)
		assert_memory_equal(b.data + off, content, body);
	assert_int_equal(b.data[off + body], 0x10);
	assert_int_equal(b.data[off + body + 1], 0x05);
	free(content);
	buf_free(&b);
}

static void test_nested_lengths(void **state)
{
	(void)state;
	check_nested(0, (const uint8_t[]){ 0x00 }, 1);
	check_nested(1, (const uint8_t[]){ 0x01 }, 1);
	check_nested(127, (const uint8_t[]){ 0x7f }, 1);
	check_nested(128, (const uint8_t[]){ 0x80, 0x01 }, 2);
	check_nested(16383, (const uint8_t[]){ 0xff, 0x7f }, 2);
	check_nested(16384, (const uint8_t[]){ 0x80, 0x80, 0x01 }, 3);
	check_nested(20000, (const uint8_t[]){ 0xa0, 0x9c, 0x01 }, 3); /* 20000 = 0x4e20 */
}

/*
 * Nested in nested, the inner one long enough to shift: the outer length
 * must count the inner's grown prefix (both shifts compose).
 */
static void test_nested_in_nested(void **state)
{
	struct buf b = { 0 };
	uint8_t body[200];
	size_t outer, inner;
	struct pb_reader r;
	struct pb_field f, g;

	(void)state;
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(255 - i);
	outer = pb_begin(&b, 1);
	pb_uint(&b, 3, 9);
	inner = pb_begin(&b, 2);
	buf_append(&b, body, sizeof(body));
	pb_end(&b, inner);
	pb_string(&b, 4, "z");
	pb_end(&b, outer);
	/* outer body: 18 09 | 12 c8 01 <200> | 22 01 7a = 2 + 3 + 200 + 3 = 208 */
	assert_false(b.oom);
	assert_int_equal(b.len, 1 + 2 + 208);
	assert_memory_equal(b.data, ((const uint8_t[]){ 0x0a, 0xd0, 0x01, 0x18, 0x09, 0x12, 0xc8, 0x01 }),
			    8);
	assert_memory_equal(b.data + 8, body, sizeof(body));
	assert_memory_equal(b.data + 208, ((const uint8_t[]){ 0x22, 0x01, 'z' }), 3);

	/* and the reader agrees */
	r = (struct pb_reader){ b.data, b.data + b.len };
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.number, 1);
	assert_int_equal(f.wire, PB_LEN);
	assert_int_equal(f.len, 208);
	assert_int_equal(pb_next(&r, &f), 0);
	r = (struct pb_reader){ f.data, f.data + f.len };
	assert_int_equal(pb_next(&r, &g), 1);
	assert_int_equal(g.number, 3);
	assert_int_equal(g.varint, 9);
	assert_int_equal(pb_next(&r, &g), 1);
	assert_int_equal(g.number, 2);
	assert_int_equal(g.wire, PB_LEN);
	assert_int_equal(g.len, 200);
	assert_memory_equal(g.data, body, 200);
	assert_int_equal(pb_next(&r, &g), 1);
	assert_int_equal(g.number, 4);
	assert_int_equal(g.len, 1);
	assert_int_equal(g.data[0], 'z');
	assert_int_equal(pb_next(&r, &g), 0);
	buf_free(&b);
}

/* Every wire type the reader knows, written and read back. */
static void test_read_every_wire_type(void **state)
{
	struct buf b = { 0 };
	static const uint8_t i32[] = { 0x2d, 0x78, 0x56, 0x34, 0x12 }; /* field 5, fixed32 */
	struct pb_reader r;
	struct pb_field f;

	(void)state;
	pb_uint(&b, 1, 300);
	pb_uint(&b, 2, UINT64_MAX);
	pb_fixed64(&b, 3, 0x8877665544332211ull);
	pb_string(&b, 4, "hello");
	buf_append(&b, i32, sizeof(i32));
	pb_uint(&b, 100000, 7); /* a field number needing a 3-byte tag */
	pb_string(&b, 6, "");
	assert_false(b.oom);

	r = (struct pb_reader){ b.data, b.data + b.len };
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.number, 1);
	assert_int_equal(f.wire, PB_VARINT);
	assert_int_equal(f.varint, 300);

	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.number, 2);
	assert_int_equal(f.wire, PB_VARINT);
	assert_true(f.varint == UINT64_MAX);

	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.number, 3);
	assert_int_equal(f.wire, PB_I64);
	assert_true(f.varint == 0x8877665544332211ull);

	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.number, 4);
	assert_int_equal(f.wire, PB_LEN);
	assert_int_equal(f.len, 5);
	assert_memory_equal(f.data, "hello", 5);

	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.number, 5);
	assert_int_equal(f.wire, PB_I32);
	assert_int_equal(f.varint, 0x12345678);

	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.number, 100000);
	assert_int_equal(f.wire, PB_VARINT);
	assert_int_equal(f.varint, 7);

	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.number, 6);
	assert_int_equal(f.wire, PB_LEN);
	assert_int_equal(f.len, 0);

	assert_int_equal(pb_next(&r, &f), 0);
	assert_int_equal(pb_next(&r, &f), 0); /* and stays at the end */
	assert_ptr_equal(r.p, b.data + b.len);
	buf_free(&b);
}

static void test_read_empty(void **state)
{
	static const uint8_t none[1] = { 0 };
	struct pb_reader r = { none, none };
	struct pb_field f;

	(void)state;
	assert_int_equal(pb_next(&r, &f), 0);
}

/* Reads `n` bytes from an exactly-sized heap copy: a read past it is an ASan error. */
static int read_all(const uint8_t *in, size_t n)
{
	uint8_t *copy = malloc(n);
	struct pb_reader r;
	struct pb_field f;
	int rc;

	assert_non_null(copy);
	memcpy(copy, in, n);
	r = (struct pb_reader){ copy, copy + n };
	while ((rc = pb_next(&r, &f)) > 0)
		;
	free(copy);
	return rc;
}

#define READ_ALL(...) read_all((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void test_malformed(void **state)
{
	(void)state;
	/* truncated varint value: continuation bit set on the last byte */
	assert_int_equal(READ_ALL(0x08, 0x80), -EBADMSG);
	assert_int_equal(READ_ALL(0x08, 0xff, 0xff), -EBADMSG);
	/* varint field with no value at all */
	assert_int_equal(READ_ALL(0x08), -EBADMSG);
	/* truncated key */
	assert_int_equal(READ_ALL(0x80), -EBADMSG);
	/* length past the end (by one, and wildly) */
	assert_int_equal(READ_ALL(0x0a, 0x05, 'a', 'b', 'c', 'd'), -EBADMSG);
	assert_int_equal(READ_ALL(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'), -EBADMSG);
	/* a length of 2^64-1: must not wrap the pointer */
	assert_int_equal(READ_ALL(0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
			 -EBADMSG);
	/* truncated length varint */
	assert_int_equal(READ_ALL(0x0a, 0x80), -EBADMSG);
	/* 11-byte varint: longer than any 64-bit value */
	assert_int_equal(READ_ALL(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				  0x01),
			 -EBADMSG);
	/* 11-byte key */
	assert_int_equal(READ_ALL(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00),
			 -EBADMSG);
	/* truncated fixed64 and fixed32 */
	assert_int_equal(READ_ALL(0x09, 1, 2, 3, 4, 5, 6, 7), -EBADMSG);
	assert_int_equal(READ_ALL(0x0d, 1, 2, 3), -EBADMSG);
	/* wire types 3, 4 (groups), 6, 7 are not supported */
	assert_int_equal(READ_ALL(0x0b), -EBADMSG);
	assert_int_equal(READ_ALL(0x0c), -EBADMSG);
	assert_int_equal(READ_ALL(0x0e, 0x00), -EBADMSG);
	assert_int_equal(READ_ALL(0x0f, 0x00), -EBADMSG);
	/* a good field followed by garbage: the garbage is still reported */
	assert_int_equal(READ_ALL(0x08, 0x01, 0x0a, 0x03, 'x'), -EBADMSG);
	/* exactly fitting inputs are fine */
	assert_int_equal(READ_ALL(0x0a, 0x01, 'x'), 0);
	assert_int_equal(READ_ALL(0x09, 1, 2, 3, 4, 5, 6, 7, 8), 0);
	assert_int_equal(READ_ALL(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varints),
		cmocka_unit_test(test_tags_and_uint),
		cmocka_unit_test(test_fixed64_little_endian),
		cmocka_unit_test(test_string_and_bytes),
		cmocka_unit_test(test_nested_lengths),
		cmocka_unit_test(test_nested_in_nested),
		cmocka_unit_test(test_read_every_wire_type),
		cmocka_unit_test(test_read_empty),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests_name("protobuf: wire-format writer and reader", tests, NULL,
					   NULL);
}
