// SPDX-License-Identifier: MIT
/*
 * fetch_spec_parse / fetch_spec_format: the uprobe_events FETCHARG subset the
 * operator writes with --chain. The parsed struct is what the BPF side
 * evaluates, so every field is checked, not just the return code.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "probe/fetch_spec.h"

/* Parses `spec`, which must be valid, and returns the result by value. */
static struct inflight_fetch parse_ok(const char *spec, bool usdt)
{
	struct inflight_fetch f;
	struct fetch_spec_error err;
	int rc;

	rc = fetch_spec_parse(spec, usdt, &f, &err);
	if (rc != 0)
		print_error("'%s' rejected at column %d: %s\n", spec, err.column, err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(err.column, 0);
	return f;
}

/* `spec` must fail at 1-based `column` with a message containing `msg`. */
static void expect_error(const char *spec, bool usdt, int column, const char *msg)
{
	struct inflight_fetch f;
	struct fetch_spec_error err;

	assert_int_equal(fetch_spec_parse(spec, usdt, &f, &err), -EINVAL);
	if (err.column != column || !strstr(err.msg, msg))
		print_error("'%s': column %d, msg '%s'; wanted column %d, msg with '%s'\n",
			    spec, err.column, err.msg, column, msg);
	assert_int_equal(err.column, column);
	assert_non_null(strstr(err.msg, msg));
}

/* A plain register: base REG, default type u64, nothing else set. */
static void test_register_default_type(void **state)
{
	struct inflight_fetch f = parse_ok("%di", false);

	(void)state;
	assert_int_equal(f.base, INFLIGHT_BASE_REG);
	assert_int_equal(f.reg, INFLIGHT_REG_DI);
	assert_int_equal(f.type, INFLIGHT_T_U64);
	assert_int_equal(f.nderef, 0);
	assert_int_equal(f.base_off, 0);
}

static void test_register_with_type(void **state)
{
	struct inflight_fetch f = parse_ok("%r12:u32", false);

	(void)state;
	assert_int_equal(f.base, INFLIGHT_BASE_REG);
	assert_int_equal(f.reg, INFLIGHT_REG_R12);
	assert_int_equal(f.type, INFLIGHT_T_U32);
	assert_int_equal(f.nderef, 0);
}

/* Every register name fetch_reg_name knows parses back to its own index. */
static void test_every_register_name(void **state)
{
	char spec[16];

	(void)state;
	for (unsigned r = 0; r < INFLIGHT_REG__COUNT; r++) {
		struct inflight_fetch f;

		assert_non_null(fetch_reg_name(r));
		snprintf(spec, sizeof(spec), "%%%s", fetch_reg_name(r));
		f = parse_ok(spec, false);
		assert_int_equal(f.base, INFLIGHT_BASE_REG);
		assert_int_equal(f.reg, r);
	}
	assert_string_equal(fetch_reg_name(INFLIGHT_REG_AX), "ax");
	assert_string_equal(fetch_reg_name(INFLIGHT_REG_R15), "r15");
	assert_string_equal(fetch_reg_name(INFLIGHT_REG_IP), "ip");
	assert_null(fetch_reg_name(INFLIGHT_REG__COUNT));
	assert_null(fetch_reg_name(1000));
}

/* $arg1..$arg6 are the System V integer argument registers. */
static void test_args_in_registers(void **state)
{
	static const struct {
		const char *spec;
		enum inflight_reg reg;
	} cases[] = {
		{ "$arg1", INFLIGHT_REG_DI }, { "$arg2", INFLIGHT_REG_SI },
		{ "$arg3", INFLIGHT_REG_DX }, { "$arg4", INFLIGHT_REG_CX },
		{ "$arg5", INFLIGHT_REG_R8 }, { "$arg6", INFLIGHT_REG_R9 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct inflight_fetch f = parse_ok(cases[i].spec, false);

		assert_int_equal(f.base, INFLIGHT_BASE_REG);
		assert_int_equal(f.reg, cases[i].reg);
		assert_int_equal(f.type, INFLIGHT_T_U64);
		assert_int_equal(f.base_off, 0);
	}
}

/* $arg7 onwards live on the stack, above the return address at [sp]. */
static void test_args_on_stack(void **state)
{
	struct inflight_fetch f;

	(void)state;
	f = parse_ok("$arg7", false);
	assert_int_equal(f.base, INFLIGHT_BASE_STACK);
	assert_int_equal(f.base_off, 8);
	assert_int_equal(f.nderef, 0);

	f = parse_ok("$arg8", false);
	assert_int_equal(f.base, INFLIGHT_BASE_STACK);
	assert_int_equal(f.base_off, 16);

	/* outside USDT, $arg13 is just another stack word */
	f = parse_ok("$arg13", false);
	assert_int_equal(f.base, INFLIGHT_BASE_STACK);
	assert_int_equal(f.base_off, 56);
}

static void test_stack_variables(void **state)
{
	struct inflight_fetch f;

	(void)state;
	/* bare $stack is the stack pointer itself */
	f = parse_ok("$stack", false);
	assert_int_equal(f.base, INFLIGHT_BASE_REG);
	assert_int_equal(f.reg, INFLIGHT_REG_SP);
	assert_int_equal(f.base_off, 0);

	f = parse_ok("$stack3", false);
	assert_int_equal(f.base, INFLIGHT_BASE_STACK);
	assert_int_equal(f.base_off, 24);

	f = parse_ok("$stack0", false);
	assert_int_equal(f.base, INFLIGHT_BASE_STACK);
	assert_int_equal(f.base_off, 0);
}

static void test_deref_string(void **state)
{
	struct inflight_fetch f = parse_ok("+0(%di):string", false);

	(void)state;
	assert_int_equal(f.base, INFLIGHT_BASE_REG);
	assert_int_equal(f.reg, INFLIGHT_REG_DI);
	assert_int_equal(f.type, INFLIGHT_T_STRING);
	assert_int_equal(f.nderef, 1);
	assert_int_equal(f.off[0], 0);
}

/* Offsets are stored innermost first: the BPF side applies off[0] first. */
static void test_nested_deref_order(void **state)
{
	struct inflight_fetch f = parse_ok("+8(+16(%si)):string", false);

	(void)state;
	assert_int_equal(f.base, INFLIGHT_BASE_REG);
	assert_int_equal(f.reg, INFLIGHT_REG_SI);
	assert_int_equal(f.type, INFLIGHT_T_STRING);
	assert_int_equal(f.nderef, 2);
	assert_int_equal(f.off[0], 16);
	assert_int_equal(f.off[1], 8);
	assert_int_equal(f.off[2], 0);
}

static void test_negative_and_hex_offsets(void **state)
{
	struct inflight_fetch f;

	(void)state;
	f = parse_ok("-8(%bp):s32", false);
	assert_int_equal(f.reg, INFLIGHT_REG_BP);
	assert_int_equal(f.type, INFLIGHT_T_S32);
	assert_int_equal(f.nderef, 1);
	assert_int_equal(f.off[0], -8);

	f = parse_ok("+0x10(%di):x64", false);
	assert_int_equal(f.reg, INFLIGHT_REG_DI);
	assert_int_equal(f.type, INFLIGHT_T_X64);
	assert_int_equal(f.nderef, 1);
	assert_int_equal(f.off[0], 16);

	/* the largest offset accepted: the limit is INT32_MAX */
	f = parse_ok("-2147483647(%di)", false);
	assert_int_equal(f.off[0], -2147483647LL);
}

/* '+u8(...)': the kernel's user-memory marker is accepted and ignored. */
static void test_user_memory_marker(void **state)
{
	struct inflight_fetch f = parse_ok("+u8(%di):u8", false);

	(void)state;
	assert_int_equal(f.base, INFLIGHT_BASE_REG);
	assert_int_equal(f.reg, INFLIGHT_REG_DI);
	assert_int_equal(f.type, INFLIGHT_T_U8);
	assert_int_equal(f.nderef, 1);
	assert_int_equal(f.off[0], 8);

	f = parse_ok("-u0x20(%si)", false);
	assert_int_equal(f.off[0], -32);
}

/* Every type name maps to its enum; ustring is an alias of string. */
static void test_every_type_name(void **state)
{
	static const struct {
		const char *name;
		enum inflight_fetch_type type;
	} cases[] = {
		{ "string", INFLIGHT_T_STRING }, { "ustring", INFLIGHT_T_STRING },
		{ "u8", INFLIGHT_T_U8 },   { "u16", INFLIGHT_T_U16 },
		{ "u32", INFLIGHT_T_U32 }, { "u64", INFLIGHT_T_U64 },
		{ "s8", INFLIGHT_T_S8 },   { "s16", INFLIGHT_T_S16 },
		{ "s32", INFLIGHT_T_S32 }, { "s64", INFLIGHT_T_S64 },
		{ "x8", INFLIGHT_T_X8 },   { "x16", INFLIGHT_T_X16 },
		{ "x32", INFLIGHT_T_X32 }, { "x64", INFLIGHT_T_X64 },
	};
	char spec[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct inflight_fetch f;

		snprintf(spec, sizeof(spec), "+0(%%di):%s", cases[i].name);
		f = parse_ok(spec, false);
		assert_int_equal(f.type, cases[i].type);
		assert_int_equal(f.nderef, 1);
	}
}

/* With a deref but no ':TYPE' the default is still u64. */
static void test_deref_default_type(void **state)
{
	struct inflight_fetch f = parse_ok("+24(%ax)", false);

	(void)state;
	assert_int_equal(f.type, INFLIGHT_T_U64);
	assert_int_equal(f.nderef, 1);
	assert_int_equal(f.off[0], 24);
}

/* In a USDT probe $argN is the probe's Nth argument (libbpf reads 12). */
static void test_usdt_args(void **state)
{
	struct inflight_fetch f;

	(void)state;
	f = parse_ok("$arg1", true);
	assert_int_equal(f.base, INFLIGHT_BASE_USDT);
	assert_int_equal(f.reg, 0);
	assert_int_equal(f.base_off, 0);

	/* no stack fallback for USDT: arg 7 is still a USDT argument */
	f = parse_ok("$arg7", true);
	assert_int_equal(f.base, INFLIGHT_BASE_USDT);
	assert_int_equal(f.reg, 6);

	f = parse_ok("+0($arg12):string", true);
	assert_int_equal(f.base, INFLIGHT_BASE_USDT);
	assert_int_equal(f.reg, 11);
	assert_int_equal(f.nderef, 1);
	assert_int_equal(f.type, INFLIGHT_T_STRING);

	expect_error("$arg13", true, 5, "at most 12");
}

/* Builds `depth` nested derefs of %di with offsets 1..depth, outermost first. */
static void nested_spec(char *buf, size_t size, int depth)
{
	size_t pos = 0;

	for (int i = 1; i <= depth; i++)
		pos += (size_t)snprintf(buf + pos, size - pos, "+%d(", i);
	pos += (size_t)snprintf(buf + pos, size - pos, "%%di");
	for (int i = 0; i < depth; i++)
		pos += (size_t)snprintf(buf + pos, size - pos, ")");
	pos += (size_t)snprintf(buf + pos, size - pos, ":string");
}

static void test_deref_limit(void **state)
{
	struct inflight_fetch f;
	char spec[128];

	(void)state;
	/* eight is INFLIGHT_MAX_DEREF: accepted, innermost offset first */
	nested_spec(spec, sizeof(spec), INFLIGHT_MAX_DEREF);
	f = parse_ok(spec, false);
	assert_int_equal(f.nderef, INFLIGHT_MAX_DEREF);
	for (int i = 0; i < INFLIGHT_MAX_DEREF; i++)
		assert_int_equal(f.off[i], INFLIGHT_MAX_DEREF - i);

	/* nine: "+1(" x 9 is 27 characters, so %di sits at column 28 */
	nested_spec(spec, sizeof(spec), INFLIGHT_MAX_DEREF + 1);
	expect_error(spec, false, 28, "too many dereferences (at most 8)");
}

/* Fields not set by the spec are zeroed, whatever the caller's struct held. */
static void test_parse_clears_output(void **state)
{
	struct inflight_fetch f, zero_tail;
	struct fetch_spec_error err;

	(void)state;
	memset(&f, 0xa5, sizeof(f));
	memset(&err, 0xa5, sizeof(err));
	assert_int_equal(fetch_spec_parse("+8(%di)", false, &f, &err), 0);
	assert_int_equal(err.column, 0);
	assert_int_equal(f.base_off, 0);
	assert_int_equal(f.off[0], 8);
	memset(&zero_tail, 0, sizeof(zero_tail));
	assert_memory_equal(&f.off[1], &zero_tail.off[1],
			    sizeof(f.off) - sizeof(f.off[0]));
}

/*
 * A Go string in registers: its length is in the next register of Go's
 * argument order (ax bx cx di si r8 r9 r10 r11); in memory, the header.
 */
static void test_gostring(void **state)
{
	static const struct {
		const char *spec;
		enum inflight_reg ptr, len;
	} regs[] = {
		{ "%ax:gostring", INFLIGHT_REG_AX, INFLIGHT_REG_BX },
		{ "%bx:gostring", INFLIGHT_REG_BX, INFLIGHT_REG_CX },
		{ "%cx:gostring", INFLIGHT_REG_CX, INFLIGHT_REG_DI },
		{ "%di:gostring", INFLIGHT_REG_DI, INFLIGHT_REG_SI },
		{ "%si:gostring", INFLIGHT_REG_SI, INFLIGHT_REG_R8 },
		{ "%r10:gostring", INFLIGHT_REG_R10, INFLIGHT_REG_R11 },
	};
	struct inflight_fetch f;

	(void)state;
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		f = parse_ok(regs[i].spec, false);
		assert_int_equal(f.type, INFLIGHT_T_GOSTRING);
		assert_int_equal(f.base, INFLIGHT_BASE_REG);
		assert_int_equal(f.reg, regs[i].ptr);
		assert_int_equal(f.len_reg, regs[i].len);
		assert_int_equal(f.nderef, 0);
	}
	/* a string field of a struct: the header at the address, no length register */
	f = parse_ok("+16(%ax):gostring", false);
	assert_int_equal(f.nderef, 1);
	assert_int_equal(f.off[0], 16);
	assert_int_equal(f.len_reg, 0);
	f = parse_ok("$stack1:gostring", false);
	assert_int_equal(f.base, INFLIGHT_BASE_STACK);
	assert_int_equal(f.base_off, 8);
	expect_error("$arg1:gostring", true, 7, "USDT argument needs a deref");
}

static void test_errors(void **state)
{
	static const struct {
		const char *spec;
		int column;
		const char *msg;
	} cases[] = {
		{ "", 1, "expected %REG" },
		{ "%xx", 2, "unknown register '%xx'" },
		{ "%", 2, "expected a register name" },
		{ "%DI", 2, "unknown register" },
		{ "+8(%di", 7, "expected ')'" },
		{ "+(%di)", 2, "expected an offset" },
		{ "+u(%di)", 3, "expected an offset" },
		{ "+2147483648(%di)", 2, "expected an offset" },
		{ "+8%di", 3, "expected '('" },
		{ "%di:strin", 5, "unknown type 'strin'" },
		{ "%di:", 5, "expected a type" },
		{ "%di:u64:u64", 5, "unknown type" },
		{ "$arg0", 5, "argument number >= 1" },
		{ "$arg", 5, "argument number >= 1" },
		{ "$arg1x", 5, "argument number >= 1" },
		{ "$stackx", 7, "word index" },
		{ "$foo", 1, "unknown variable '$foo'" },
		{ "@0x1234", 1, "'@' addresses are not supported" },
		{ "%di junk", 4, "unexpected ' ' after the argument" },
		{ "+8(%di))", 8, "unexpected ')' after the argument" },
		{ "di", 1, "unexpected 'd'" },
		{ "%r11:gostring", 1, "%r11 is not one of Go's argument registers" },
		{ "%sp:gostring", 1, "%sp is not one of Go's argument registers" },
		{ "$arg1:gostring", 7, "$argN is C's order" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(cases[i].spec, false, cases[i].column, cases[i].msg);
}

/* format(parse(s)) is the canonical text, and the canonical text is a fixed point. */
static void test_format_round_trip(void **state)
{
	static const struct {
		const char *spec;
		bool usdt;
		const char *canonical;
	} cases[] = {
		{ "%di", false, "%di:u64" },
		{ "%r12:u32", false, "%r12:u32" },
		{ "$arg1", false, "%di:u64" },
		{ "$arg6", false, "%r9:u64" },
		{ "$arg7", false, "$stack1:u64" },
		{ "$arg8:s64", false, "$stack2:s64" },
		{ "$stack", false, "%sp:u64" },
		{ "$stack3", false, "$stack3:u64" },
		{ "+0(%di):string", false, "+0(%di):string" },
		{ "+0(%di):ustring", false, "+0(%di):string" },
		{ "+8(+16(%si)):string", false, "+8(+16(%si)):string" },
		{ "-8(%bp):s32", false, "-8(%bp):s32" },
		{ "+0x10(%di):x64", false, "+16(%di):x64" },
		{ "+u8(%di):u8", false, "+8(%di):u8" },
		{ "-0(%di)", false, "+0(%di):u64" },
		{ "+8(-16($stack2)):x16", false, "+8(-16($stack2)):x16" },
		{ "$arg1", true, "$arg1:u64" },
		{ "+0($arg12):string", true, "+0($arg12):string" },
		{ "%ax:gostring", false, "%ax:gostring" },
		{ "%r10:gostring", false, "%r10:gostring" },
		{ "+8(%ax):gostring", false, "+8(%ax):gostring" },
		{ "$stack1:gostring", false, "$stack1:gostring" },
		{ "+0($arg2):gostring", true, "+0($arg2):gostring" },
	};
	char buf[128], again[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct inflight_fetch f = parse_ok(cases[i].spec, cases[i].usdt), g;

		fetch_spec_format(&f, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].canonical);
		/* the canonical text parses to the very same struct */
		g = parse_ok(buf, cases[i].usdt);
		assert_memory_equal(&f, &g, sizeof(f));
		fetch_spec_format(&g, again, sizeof(again));
		assert_string_equal(again, buf);
	}
}

static void test_format_constant(void **state)
{
	struct inflight_fetch f;
	char buf[32];

	(void)state;
	memset(&f, 0, sizeof(f));
	f.base = INFLIGHT_BASE_CONST;
	fetch_spec_format(&f, buf, sizeof(buf));
	assert_string_equal(buf, "(constant)");
}

/* A short buffer gets a NUL-terminated prefix; size 0 writes nothing. */
static void test_format_truncates(void **state)
{
	struct inflight_fetch f = parse_ok("+8(+16(%si)):string", false);
	char buf[8], untouched = 'Z';

	(void)state;
	memset(buf, 'Z', sizeof(buf));
	fetch_spec_format(&f, buf, sizeof(buf));
	assert_string_equal(buf, "+8(+16(");

	fetch_spec_format(&f, &untouched, 0);
	assert_int_equal(untouched, 'Z');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_default_type),
		cmocka_unit_test(test_register_with_type),
		cmocka_unit_test(test_every_register_name),
		cmocka_unit_test(test_args_in_registers),
		cmocka_unit_test(test_args_on_stack),
		cmocka_unit_test(test_stack_variables),
		cmocka_unit_test(test_deref_string),
		cmocka_unit_test(test_gostring),
		cmocka_unit_test(test_nested_deref_order),
		cmocka_unit_test(test_negative_and_hex_offsets),
		cmocka_unit_test(test_user_memory_marker),
		cmocka_unit_test(test_every_type_name),
		cmocka_unit_test(test_deref_default_type),
		cmocka_unit_test(test_usdt_args),
		cmocka_unit_test(test_deref_limit),
		cmocka_unit_test(test_parse_clears_output),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_format_constant),
		cmocka_unit_test(test_format_truncates),
	};

	return cmocka_run_group_tests_name("fetch_spec: parsing and formatting --chain specs",
					   tests, NULL, NULL);
}
