// SPDX-License-Identifier: MIT
/*
 * py_layout_from_debug: the layout of a CPython 3.13+ taken from the
 * _Py_DebugOffsets at the start of its _PyRuntime. The blobs here are laid
 * out as each version's headers lay them out (the table's `debug`), with
 * the values a real interpreter holds; then one thing at a time is broken.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "python/py_debug_offsets.h"

static uint8_t raw[4096];

static void put(const struct py_layout *schema, enum py_debug_field f, uint64_t v)
{
	memcpy(raw + schema->debug[f], &v, sizeof(v));
}

/* A blob as 3.minor would hold it, its offsets those of `values`. */
static const struct py_layout *blob(int minor, const struct py_layout *values)
{
	const struct py_layout *s = py_debug_schema(minor);
	const struct py_layout *v = values;

	assert_non_null(s);
	memset(raw, 0, sizeof(raw));
	memcpy(raw, "xdebugpy", 8);
	put(s, PY_DBG_VERSION, 0x03000000u | (uint64_t)minor << 16 | 0x02f0);
	put(s, PY_DBG_RUNTIME_SIZE, 300000);
	put(s, PY_DBG_RUNTIME_INTERPRETERS_HEAD, (uint64_t)v->runtime_interpreters_head);
	put(s, PY_DBG_INTERP_SIZE, 100000);
	put(s, PY_DBG_INTERP_NEXT, (uint64_t)v->interp_next);
	put(s, PY_DBG_INTERP_THREADS_HEAD, (uint64_t)v->interp_threads_head);
	put(s, PY_DBG_INTERP_SYSDICT, (uint64_t)v->interp_sysdict);
	put(s, PY_DBG_TSTATE_SIZE, 1000);
	put(s, PY_DBG_TSTATE_NEXT, (uint64_t)v->tstate_next);
	put(s, PY_DBG_TSTATE_FRAME, (uint64_t)v->tstate_frame);
	put(s, PY_DBG_TSTATE_NATIVE_ID, (uint64_t)v->tstate_native_id);
	put(s, PY_DBG_FRAME_SIZE, (uint64_t)v->frame_localsplus + 8);
	put(s, PY_DBG_FRAME_PREVIOUS, (uint64_t)v->frame_previous);
	put(s, PY_DBG_FRAME_CODE, (uint64_t)v->frame_code);
	put(s, PY_DBG_FRAME_LOCALSPLUS, (uint64_t)v->frame_localsplus);
	put(s, PY_DBG_FRAME_OWNER, (uint64_t)v->frame_owner);
	put(s, PY_DBG_CODE_SIZE, 224);
	put(s, PY_DBG_CODE_VARNAMES, (uint64_t)v->code_varnames);
	put(s, PY_DBG_CODE_QUALNAME, (uint64_t)v->code_qualname);
	put(s, PY_DBG_CODE_NAME, (uint64_t)v->code_name);
	put(s, PY_DBG_CODE_FILENAME, (uint64_t)v->code_filename);
	put(s, PY_DBG_CODE_ARGCOUNT, (uint64_t)v->code_argcount);
	put(s, PY_DBG_FRAME_INSTR_PTR, (uint64_t)v->frame_instr);
	put(s, PY_DBG_CODE_LINETABLE, (uint64_t)v->code_linetable);
	put(s, PY_DBG_CODE_FIRSTLINENO, (uint64_t)v->code_firstlineno);
	put(s, PY_DBG_CODE_ADAPTIVE, (uint64_t)v->code_adaptive);
	put(s, PY_DBG_OBJECT_TYPE, (uint64_t)v->object_type);
	put(s, PY_DBG_TUPLE_SIZE, (uint64_t)v->tuple_size);
	put(s, PY_DBG_TUPLE_ITEMS, (uint64_t)v->tuple_items);
	put(s, PY_DBG_DICT_SIZE, 48);
	put(s, PY_DBG_DICT_MA_KEYS, (uint64_t)v->dict_ma_keys);
	put(s, PY_DBG_DICT_MA_VALUES, (uint64_t)v->dict_ma_values);
	put(s, PY_DBG_UNICODE_STATE, (uint64_t)v->unicode_state);
	put(s, PY_DBG_UNICODE_LENGTH, (uint64_t)v->unicode_length);
	put(s, PY_DBG_UNICODE_ASCII_DATA, (uint64_t)v->unicode_ascii_data);
	if (s->debug[PY_DBG_UNICODE_COMPACT_DATA])
		put(s, PY_DBG_UNICODE_COMPACT_DATA, (uint64_t)v->unicode_compact_data);
	return s;
}

/* 3.13 to 3.15: what the process says is the table's, from the headers. */
static void test_known_versions_match_the_headers(void **state)
{
	(void)state;
	for (int minor = 13; minor <= 15; minor++) {
		const struct py_layout *table = py_layout_for(minor);
		const struct py_layout *s;
		struct py_layout out;
		char why[256] = "";

		assert_non_null(table);
		s = blob(minor, table);
		assert_ptr_equal(s, table);
		assert_int_equal(py_layout_from_debug(minor, s, raw, sizeof(raw), &out, why, sizeof(why)), 0);
		assert_int_equal(memcmp(&out, table, sizeof(out)), 0);
	}
	/* before 3.13 there are none */
	assert_null(py_debug_schema(12));
}

/*
 * A custom build that moves fields: the process's offsets win, and what
 * the table supplies relative to them follows (co_kwonlyargcount after
 * co_argcount, the compact str data after the ASCII header).
 */
static void test_moved_fields_follow_the_process(void **state)
{
	struct py_layout moved = *py_layout_for(14), out;
	const struct py_layout *s;
	char why[256] = "";

	(void)state;
	moved.interp_threads_head += 64;
	moved.code_argcount += 16;
	moved.unicode_ascii_data += 8;
	moved.tuple_items += 8;
	s = blob(14, &moved);
	assert_int_equal(py_layout_from_debug(14, s, raw, sizeof(raw), &out, why, sizeof(why)), 0);
	assert_int_equal(out.interp_threads_head, moved.interp_threads_head);
	assert_int_equal(out.tuple_items, moved.tuple_items);
	assert_int_equal(out.code_kwonlyargcount, py_layout_for(14)->code_kwonlyargcount + 16);
	assert_int_equal(out.unicode_compact_data, py_layout_for(14)->unicode_compact_data + 8);
}

/* A minor newer than the table: read as the newest known lays them out. */
static void test_newer_minor_uses_the_newest_schema(void **state)
{
	const struct py_layout *s = py_debug_schema(16);
	struct py_layout out;
	char why[256] = "";

	(void)state;
	assert_non_null(s);
	assert_int_equal(s->minor, 15);
	blob(16, py_layout_for(15));
	assert_int_equal(py_layout_from_debug(16, s, raw, sizeof(raw), &out, why, sizeof(why)), 0);
	assert_int_equal(out.minor, 16);
	assert_int_equal(out.frame_localsplus, py_layout_for(15)->frame_localsplus);
}

static void expect_refused(int minor, const struct py_layout *s, int rc, const char *text)
{
	struct py_layout out;
	char why[256] = "";

	int got = py_layout_from_debug(minor, s, raw, sizeof(raw), &out, why, sizeof(why));

	/* which case failed: the message names it */
	if (got != rc)
		fail_msg("rc %d, expected %d refusing with '%s'", got, rc, text);
	if (!strstr(why, text))
		fail_msg("'%s' does not say '%s'", why, text);
}

static void test_refused_by_name(void **state)
{
	const struct py_layout *s;

	(void)state;
	/* free-threaded: named, not guessed at */
	s = blob(14, py_layout_for(14));
	put(s, PY_DBG_FREE_THREADED, 1);
	expect_refused(14, s, 1, "CPython 3.14 free-threaded build (3.14t, no GIL)");
	/* no cookie: not debug offsets at all */
	s = blob(15, py_layout_for(15));
	memcpy(raw, "xdebugpz", 8);
	expect_refused(15, s, -EINVAL, "cookie");
	/* another version than Py_Version said */
	s = blob(15, py_layout_for(15));
	put(s, PY_DBG_VERSION, 0x030e0af0);
	expect_refused(15, s, -EINVAL, "version 0x30e0af0");
	/* an offset outside its struct (a schema that does not fit) */
	s = blob(15, py_layout_for(15));
	put(s, PY_DBG_FRAME_LOCALSPLUS, 4096);
	expect_refused(15, s, -EINVAL, "frame localsplus at 4096");
	/* a frame header larger than the walker reads */
	s = blob(15, py_layout_for(15));
	put(s, PY_DBG_FRAME_SIZE, 1024);
	put(s, PY_DBG_FRAME_LOCALSPLUS, 1000);
	expect_refused(15, s, -EINVAL, "larger than inflight reads");
	/*
	 * an offset near 2^64: offset + width wrapped and passed, and the
	 * walker read a str's type at hdr - 1 (before its buffer)
	 */
	s = blob(15, py_layout_for(15));
	put(s, PY_DBG_OBJECT_TYPE, UINT64_MAX);
	expect_refused(15, s, -EINVAL, "object ob_type at 18446744073709551615");
	s = blob(15, py_layout_for(15));
	put(s, PY_DBG_UNICODE_LENGTH, UINT64_MAX - 7);
	expect_refused(15, s, -EINVAL, "str length at 18446744073709551608");
	/*
	 * a frame field inside a frame "size" the process chose, but past the
	 * fixed part the walker reads (up to localsplus): it was read 1 MB past
	 * the walker's 512-byte buffer
	 */
	s = blob(15, py_layout_for(15));
	put(s, PY_DBG_FRAME_SIZE, 2u << 20);
	put(s, PY_DBG_FRAME_CODE, 1u << 20);
	expect_refused(15, s, -EINVAL, "past the frame's localsplus");
	s = blob(13, py_layout_for(13));
	put(s, PY_DBG_FRAME_OWNER, (uint64_t)py_layout_for(13)->frame_localsplus);
	expect_refused(13, s, -EINVAL, "past the frame's localsplus");
	/* a str's type past its header (read uninitialised from the walker's buffer) */
	s = blob(14, py_layout_for(14));
	put(s, PY_DBG_OBJECT_TYPE, (uint64_t)py_layout_for(14)->unicode_ascii_data);
	expect_refused(14, s, -EINVAL, "past a str's header");
	/* a field off its alignment (the walker loads a str's type as a word) */
	s = blob(14, py_layout_for(14));
	put(s, PY_DBG_OBJECT_TYPE, 9);
	expect_refused(14, s, -EINVAL, "object ob_type at 9, not aligned");
	/*
	 * Frame fields inside the frame but past its fixed part, which is all
	 * the walker copies: read from beyond its 512-byte copy, they crashed it
	 */
	s = blob(15, py_layout_for(15));
	put(s, PY_DBG_FRAME_SIZE, 0x10000);
	put(s, PY_DBG_FRAME_CODE, 1000);
	expect_refused(15, s, -EINVAL, "past the frame's localsplus (80)");
	s = blob(13, py_layout_for(13));
	put(s, PY_DBG_FRAME_PREVIOUS, 72);
	expect_refused(13, s, -EINVAL, "past the frame's localsplus (72)");
	s = blob(14, py_layout_for(14));
	put(s, PY_DBG_FRAME_SIZE, 4096);
	put(s, PY_DBG_FRAME_OWNER, 600);
	expect_refused(14, s, -EINVAL, "past the frame's localsplus (80)");
	/*
	 * ob_type past a str's header: read_str copies the header up to its
	 * data and would compare bytes it never read with the str type
	 */
	s = blob(14, py_layout_for(14));
	put(s, PY_DBG_OBJECT_TYPE, 48);
	expect_refused(14, s, -EINVAL, "ob_type at 48, past a str's header (40 bytes)");
	/* too short a read */
	s = blob(15, py_layout_for(15));
	{
		struct py_layout out;
		char why[256] = "";

		assert_int_equal(py_layout_from_debug(15, s, raw, 64, &out, why, sizeof(why)), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_versions_match_the_headers),
		cmocka_unit_test(test_moved_fields_follow_the_process),
		cmocka_unit_test(test_newer_minor_uses_the_newest_schema),
		cmocka_unit_test(test_refused_by_name),
	};

	return cmocka_run_group_tests_name("CPython debug offsets", tests, NULL, NULL);
}
