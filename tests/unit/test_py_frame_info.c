// SPDX-License-Identifier: MIT
/*
 * Naming a CPython frame from memory read out of a process: here the
 * process is this one, and the code object, its strs and its location
 * table are built in a buffer as 3.12 lays them out. Names come back as
 * valid UTF-8 whatever the strs hold.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "python/py_frame_info.h"

/* the code object at 0, its qualname, name and file strs at 512, 768, 1024, its table at 1280 */
static _Alignas(8) uint8_t mem[2048];
static uint8_t type_marks[2];

static uint64_t at(size_t off)
{
	return (uint64_t)(uintptr_t)(mem + off);
}

static void w64(size_t off, uint64_t v)
{
	memcpy(mem + off, &v, sizeof(v));
}

/* A compact str at `off` of kind 1 (ASCII), 2 or 4, holding `n` code points. */
static void str_at(const struct py_layout *L, size_t off, int kind, const uint32_t *cp, size_t n)
{
	uint32_t state = 1u << L->state_compact_bit | (uint32_t)kind << L->state_kind_shift;
	uint8_t *d = mem + off + (kind == 1 ? L->unicode_ascii_data : L->unicode_compact_data);

	if (kind == 1)
		state |= 1u << L->state_ascii_bit;
	w64(off + (size_t)L->object_type, (uint64_t)(uintptr_t)&type_marks[0]);
	w64(off + (size_t)L->unicode_length, n);
	memcpy(mem + off + L->unicode_state, &state, sizeof(state));
	for (size_t i = 0; i < n; i++) {
		if (kind == 1)
			d[i] = (uint8_t)cp[i];
		else if (kind == 2)
			memcpy(d + 2 * i, &(uint16_t){ (uint16_t)cp[i] }, 2);
		else
			memcpy(d + 4 * i, &cp[i], 4);
	}
}

/* A 3.12 process (this one) whose code object at mem[0] is named by the strs given. */
static struct py_process process(void)
{
	struct py_process p;
	const struct py_layout *L = py_layout_for(12);
	/* one short-form entry: 8 code units at firstlineno */
	static const uint8_t table[] = { 0x80 | (3 << 3) | 7, 0x12 };
	int32_t first = 40;

	assert_non_null(L);
	memset(&p, 0, sizeof(p));
	memset(mem, 0, sizeof(mem));
	p.pid = getpid();
	p.minor = 12;
	p.L = *L;
	p.unicode_type = (uint64_t)(uintptr_t)&type_marks[0];
	p.code_type = (uint64_t)(uintptr_t)&type_marks[1];
	w64((size_t)L->object_type, p.code_type);
	w64((size_t)L->code_qualname, at(512));
	w64((size_t)L->code_name, at(768));
	w64((size_t)L->code_filename, at(1024));
	memcpy(mem + L->code_firstlineno, &first, sizeof(first));
	w64((size_t)L->code_linetable, at(1280));
	w64(1280 + (size_t)L->tuple_size, sizeof(table));
	memcpy(mem + 1280 + 32, table, sizeof(table)); /* a bytes object's data */
	return p;
}

static void test_names_and_line(void **state)
{
	static const uint32_t qual[] = { 'C', '.', 'f', 0xe9 }, file[] = { '/', 0x4e16, '.', 'p', 'y' };
	static const uint32_t name[] = { 'f' };
	struct py_process p = process();
	struct py_frame_ref f = { at(0), at((size_t)p.L.code_adaptive) + 2 * 3 };
	struct py_frame_info fi;

	(void)state;
	str_at(&p.L, 512, 1, qual, 3);
	str_at(&p.L, 768, 1, name, 1);
	str_at(&p.L, 1024, 2, file, 5);
	assert_int_equal(py_frame_describe(&p, &f, &fi), 0);
	assert_string_equal(fi.func, "C.f");
	assert_string_equal(fi.file, "/\xe4\xb8\x96.py");
	assert_int_equal(fi.line, 40);
	/* a UCS-1 str that is not ASCII */
	str_at(&p.L, 512, 4, qual, 4);
	assert_int_equal(py_frame_describe(&p, &f, &fi), 0);
	assert_string_equal(fi.func, "C.f\xc3\xa9");
}

/*
 * Code points no str holds (past U+10FFFF: a forged UCS-4 str), a lone
 * surrogate (a file name decoded with surrogateescape), bytes past 0x7f
 * in a str marked ASCII: each one U+FFFD, never bytes that are no UTF-8.
 */
static void test_forged_text_is_utf8(void **state)
{
	static const uint32_t wide[] = { 'a', 0x110000, 0xffffffff, 0xd800, 'b' };
	static const uint32_t ascii[] = { '/', 0xff, 0x80, 'c' };
	struct py_process p = process();
	struct py_frame_ref f = { at(0), PY_INSTR_UNKNOWN };
	struct py_frame_info fi;

	(void)state;
	str_at(&p.L, 512, 4, wide, 5);
	str_at(&p.L, 1024, 1, ascii, 4);
	assert_int_equal(py_frame_describe(&p, &f, &fi), 0);
	assert_string_equal(fi.func, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b");
	assert_string_equal(fi.file, "/\xef\xbf\xbd\xef\xbf\xbd" "c");
	assert_int_equal(fi.line, -1);
}

/*
 * A frame not yet at its first instruction (3.11, 3.12) is at the code's
 * first line: a negative one (forged) is no line, as the table refuses it.
 */
static void test_negative_firstlineno(void **state)
{
	static const uint32_t name[] = { 'f' };
	struct py_process p = process();
	struct py_frame_ref f = { at(0), at((size_t)p.L.code_adaptive) - 2 };
	struct py_frame_info fi;
	int32_t first = -5;

	(void)state;
	str_at(&p.L, 512, 1, name, 1);
	assert_int_equal(py_frame_describe(&p, &f, &fi), 0);
	assert_int_equal(fi.line, 40);
	memcpy(mem + p.L.code_firstlineno, &first, sizeof(first));
	assert_int_equal(py_frame_describe(&p, &f, &fi), 0);
	assert_int_equal(fi.line, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_line),
		cmocka_unit_test(test_forged_text_is_utf8),
		cmocka_unit_test(test_negative_firstlineno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
