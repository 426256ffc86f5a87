// SPDX-License-Identifier: MIT
/*
 * sha256: the instance id is derived from it, so a wrong digest would
 * silently change every collector's service.instance.id. Expected digests
 * were computed with coreutils sha256sum, not taken from memory, e.g.
 *   printf abc | sha256sum
 *   head -c 1000000 /dev/zero | tr '\0' a | sha256sum
 *   python3 -c "import sys;sys.stdout.buffer.write(bytes((97+i%26) for i in range(55)))" | sha256sum
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/sha256.h"

/* Hashes `len` bytes from an exactly-sized heap copy (ASan sees over-reads). */
static void check(const void *data, size_t len, const char *expected_hex)
{
	uint8_t *copy = malloc(len ? len : 1), h[32];
	char hex[65];

	assert_non_null(copy);
	if (len)
		memcpy(copy, data, len);
	memset(h, 0xa5, sizeof(h));
	sha256(copy, len, h);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	assert_string_equal(hex, expected_hex);
	free(copy);
}

/* FIPS 180-4 / NIST example vectors. */
static void test_empty(void **state)
{
	(void)state;
	check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_abc(void **state)
{
	(void)state;
	check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* 56 bytes: the padding no longer fits in the first block. */
static void test_two_block_vector(void **state)
{
	const char *s = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	(void)state;
	assert_int_equal(strlen(s), 56);
	check(s, 56, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_million_a(void **state)
{
	size_t n = 1000000;
	char *s = malloc(n);

	(void)state;
	assert_non_null(s);
	memset(s, 'a', n);
	check(s, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(s);
}

/*
 * Lengths around the 64-byte block and the 55/56 padding boundary, where
 * an off-by-one in the padding shows. Both a constant fill and a varying
 * pattern (so a byte-order slip inside a word cannot cancel out).
 */
static void test_padding_boundaries_constant(void **state)
{
	static const struct {
		size_t len;
		const char *hex;
	} v[] = {
		{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
		{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
		{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
		{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
		{ 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
	};
	char s[65];

	(void)state;
	memset(s, 'a', sizeof(s));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		check(s, v[i].len, v[i].hex);
}

static void test_padding_boundaries_pattern(void **state)
{
	static const struct {
		size_t len;
		const char *hex;
	} v[] = {
		{ 55, "595615dbe4f0f407ae397d08b4c2cb870cb9b0e11937416f950c5160acf9c005" },
		{ 56, "784f623b787495078e93ff28a25b581df0584055a7e71d8cd90c454716b92f51" },
		{ 63, "5ca3e1ef5207490eac01a795e5cc94d59582a5118bf9534665c8668d87aa647c" },
		{ 64, "2fcd5a0d60e4c941381fcc4e00a4bf8be422c3ddfafb93c809e8d1e2bfffae8e" },
		{ 65, "1b3cd1877ab2f2f19f7be001722554f336cb799df0329de0bb4c118dc6abc06d" },
	};
	char s[65];

	(void)state;
	for (int i = 0; i < 65; i++)
		s[i] = (char)('a' + i % 26);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		check(s, v[i].len, v[i].hex);
}

/* The exact input resource_instance_id hashes for machine id "abc". */
static void test_instance_id_input(void **state)
{
	(void)state;
	check("inflight:abc", 12, "e0c7f7e47446504186116dd7002de856ec02c5a06d76c8fc0aae47b712fe8c4f");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_abc),
		cmocka_unit_test(test_two_block_vector),
		cmocka_unit_test(test_million_a),
		cmocka_unit_test(test_padding_boundaries_constant),
		cmocka_unit_test(test_padding_boundaries_pattern),
		cmocka_unit_test(test_instance_id_input),
	};

	return cmocka_run_group_tests_name("sha256: FIPS 180-4 digests", tests, NULL, NULL);
}
