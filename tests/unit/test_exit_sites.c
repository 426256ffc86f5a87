// SPDX-License-Identifier: MIT
/*
 * exit_sites_find on hand-assembled x86-64. Each byte array carries its
 * disassembly (AT&T, as objdump prints it) at the addresses used below.
 * The function lives at 0x401000 but at file offset 0x1000, so a mix-up of
 * address and offset shows.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probe/exit_sites.h"

#define FN_ADDR 0x401000ULL
#define FN_OFF 0x1000ULL

static char err[256];

/* exit_sites_find on one part at FN_ADDR / FN_OFF. */
static int find(const uint8_t *code, size_t size, struct exit_site **out)
{
	struct code_part part = { .addr = FN_ADDR, .offset = FN_OFF, .bytes = code, .size = size };
	int n;

	memset(err, 0, sizeof(err));
	n = exit_sites_find(&part, 1, out, err, sizeof(err));
	if (n < 0)
		assert_null(*out);
	else
		assert_string_equal(err, "");
	return n;
}

/* The function must decode to `want` sites; prints the error if not. */
static struct exit_site *find_ok(const uint8_t *code, size_t size, int want)
{
	struct exit_site *sites = NULL;
	int n = find(code, size, &sites);

	if (n != want)
		print_error("expected %d sites, got %d (%s)\n", want, n, err);
	assert_int_equal(n, want);
	return sites;
}

/* `code` must be rejected with -`e` and an error mentioning `what`. */
static void find_fails(const uint8_t *code, size_t size, int e, const char *what)
{
	static struct exit_site stale;
	struct exit_site *sites = &stale; /* exit_sites_find must reset it */

	assert_int_equal(find(code, size, &sites), -e);
	if (!strstr(err, what))
		print_error("error '%s' does not mention '%s'\n", err, what);
	assert_non_null(strstr(err, what));
}

/* A site that leaves unconditionally at FN_ADDR + rel. */
static void assert_ret_site(const struct exit_site *s, uint64_t rel, const char *text)
{
	assert_int_equal(s->addr, FN_ADDR + rel);
	assert_int_equal(s->offset, FN_OFF + rel);
	assert_int_equal(s->rt.kind, INFLIGHT_SITE_RET);
	assert_int_equal(s->rt.base, INFLIGHT_NO_REG);
	assert_int_equal(s->rt.index, INFLIGHT_NO_REG);
	assert_string_equal(s->text, text);
}

/* The run-time range of a one-part function of `size` bytes, seen from site `rel`. */
static void assert_one_part_range(const struct exit_site *s, uint64_t rel, size_t size)
{
	assert_int_equal(s->rt.lo[0], -(int64_t)rel);
	assert_int_equal(s->rt.hi[0], -(int64_t)rel + (int64_t)size);
	/* no second part: an empty range */
	assert_int_equal(s->rt.lo[1], 0);
	assert_int_equal(s->rt.hi[1], 0);
}

static void test_frame_and_ret(void **state)
{
	static const uint8_t code[] = {
		0x55,             /* 401000: push %rbp */
		0x48, 0x89, 0xe5, /* 401001: mov %rsp,%rbp */
		0x5d,             /* 401004: pop %rbp */
		0xc3,             /* 401005: ret */
	};
	struct exit_site *s = find_ok(code, sizeof(code), 1);

	(void)state;
	assert_ret_site(&s[0], 5, "ret");
	free(s);
}

/* Modern toolchains start functions with endbr64: it must decode. */
static void test_endbr64_prologue(void **state)
{
	static const uint8_t code[] = {
		0xf3, 0x0f, 0x1e, 0xfa, /* 401000: endbr64 */
		0x48, 0x89, 0xf8,       /* 401004: mov %rdi,%rax */
		0xc3,                   /* 401007: ret */
	};
	struct exit_site *s = find_ok(code, sizeof(code), 1);

	(void)state;
	assert_ret_site(&s[0], 7, "ret");
	free(s);
}

/* Two rets; the jne between them stays inside, so it is not a site. */
static void test_early_return(void **state)
{
	static const uint8_t code[] = {
		0x55,             /* 401000: push %rbp */
		0x48, 0x85, 0xff, /* 401001: test %rdi,%rdi */
		0x75, 0x02,       /* 401004: jne 0x401008 */
		0x5d,             /* 401006: pop %rbp */
		0xc3,             /* 401007: ret */
		0x48, 0x89, 0xf8, /* 401008: mov %rdi,%rax */
		0x5d,             /* 40100b: pop %rbp */
		0xc3,             /* 40100c: ret */
	};
	struct exit_site *s = find_ok(code, sizeof(code), 2);

	(void)state;
	assert_ret_site(&s[0], 7, "ret");
	assert_ret_site(&s[1], 0xc, "ret");
	free(s);
}

/* ret imm16, repz ret (old gcc's AMD idiom) and bnd ret are all returns. */
static void test_ret_variants(void **state)
{
	static const uint8_t ret_imm[] = {
		0x48, 0x89, 0xf8, /* 401000: mov %rdi,%rax */
		0xc2, 0x08, 0x00, /* 401003: ret $0x8 */
	};
	static const uint8_t repz_ret[] = {
		0x48, 0x89, 0xf8, /* 401000: mov %rdi,%rax */
		0xf3, 0xc3,       /* 401003: repz ret */
	};
	static const uint8_t bnd_ret[] = {
		0x48, 0x89, 0xf8, /* 401000: mov %rdi,%rax */
		0xf2, 0xc3,       /* 401003: bnd ret */
	};
	struct exit_site *s;

	(void)state;
	s = find_ok(ret_imm, sizeof(ret_imm), 1);
	assert_ret_site(&s[0], 3, "ret 8");
	free(s);
	s = find_ok(repz_ret, sizeof(repz_ret), 1);
	assert_int_equal(s[0].addr, FN_ADDR + 3);
	assert_int_equal(s[0].rt.kind, INFLIGHT_SITE_RET);
	free(s);
	s = find_ok(bnd_ret, sizeof(bnd_ret), 1);
	assert_int_equal(s[0].addr, FN_ADDR + 3);
	assert_int_equal(s[0].rt.kind, INFLIGHT_SITE_RET);
	free(s);
}

/* An unconditional jump out of the function is a tail call: a RET site. */
static void test_tail_call_jmp(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x83, 0xc7, 0x01,       /* 401000: add $0x1,%rdi */
		0xe9, 0xf7, 0x0f, 0x00, 0x00, /* 401004: jmp 0x402000 */
	};
	struct exit_site *s = find_ok(code, sizeof(code), 1);

	(void)state;
	assert_ret_site(&s[0], 4, "jmp 0x402000");
	free(s);
}

/* A jmp back to the function's own start (a loop) does not leave. */
static void test_jmp_inside_is_not_exit(void **state)
{
	static const uint8_t code[] = {
		0x48, 0xff, 0xcf, /* 401000: dec %rdi */
		0x74, 0x02,       /* 401003: je 0x401007 */
		0xeb, 0xf9,       /* 401005: jmp 0x401000 */
		0xc3,             /* 401007: ret */
	};
	struct exit_site *s = find_ok(code, sizeof(code), 1);

	(void)state;
	assert_ret_site(&s[0], 7, "ret");
	free(s);
}

/* A conditional tail call: JCC with the condition the BPF side evaluates. */
static void test_conditional_tail_call(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x85, 0xff,                   /* 401000: test %rdi,%rdi */
		0x0f, 0x85, 0xf7, 0x1f, 0x00, 0x00, /* 401003: jne 0x403000 */
		0x31, 0xc0,                         /* 401009: xor %eax,%eax */
		0xc3,                               /* 40100b: ret */
	};
	struct exit_site *s = find_ok(code, sizeof(code), 2);

	(void)state;
	assert_int_equal(s[0].addr, FN_ADDR + 3);
	assert_int_equal(s[0].offset, FN_OFF + 3);
	assert_int_equal(s[0].rt.kind, INFLIGHT_SITE_JCC);
	assert_int_equal(s[0].rt.cc, INFLIGHT_CC_NE);
	assert_string_equal(s[0].text, "jne 0x403000");
	assert_ret_site(&s[1], 0xb, "ret");
	free(s);
}

/* A short jcc to exactly one past the end is outside (the next function). */
static void test_jcc_to_function_end(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x85, 0xff, /* 401000: test %rdi,%rdi */
		0x74, 0x03,       /* 401003: je 0x401008 (= end) */
		0x31, 0xc0,       /* 401005: xor %eax,%eax */
		0xc3,             /* 401007: ret */
	};
	struct exit_site *s = find_ok(code, sizeof(code), 2);

	(void)state;
	assert_int_equal(s[0].addr, FN_ADDR + 3);
	assert_int_equal(s[0].rt.kind, INFLIGHT_SITE_JCC);
	assert_int_equal(s[0].rt.cc, INFLIGHT_CC_E);
	assert_ret_site(&s[1], 7, "ret");
	free(s);
}

/* jmp *%reg: decided at run time from the register against the function's range. */
static void test_jmp_register(void **state)
{
	static const uint8_t rax[] = {
		0x48, 0x8b, 0x07, /* 401000: mov (%rdi),%rax */
		0xff, 0xe0,       /* 401003: jmp *%rax */
	};
	static const uint8_t notrack[] = {
		0x48, 0x8b, 0x07, /* 401000: mov (%rdi),%rax */
		0x3e, 0xff, 0xe0, /* 401003: notrack jmp *%rax (CET jump tables) */
	};
	static const uint8_t r11[] = {
		0x48, 0x8b, 0x07, /* 401000: mov (%rdi),%rax */
		0x41, 0xff, 0xe3, /* 401003: jmp *%r11 */
	};
	struct exit_site *s;

	(void)state;
	s = find_ok(rax, sizeof(rax), 1);
	assert_int_equal(s[0].addr, FN_ADDR + 3);
	assert_int_equal(s[0].offset, FN_OFF + 3);
	assert_int_equal(s[0].rt.kind, INFLIGHT_SITE_JMP_REG);
	assert_int_equal(s[0].rt.base, INFLIGHT_REG_AX);
	assert_int_equal(s[0].rt.index, INFLIGHT_NO_REG);
	/* lo[0] = function start - site = -3, hi[0] = lo[0] + 5 bytes */
	assert_one_part_range(&s[0], 3, sizeof(rax));
	free(s);

	s = find_ok(notrack, sizeof(notrack), 1);
	assert_int_equal(s[0].rt.kind, INFLIGHT_SITE_JMP_REG);
	assert_int_equal(s[0].rt.base, INFLIGHT_REG_AX);
	assert_one_part_range(&s[0], 3, sizeof(notrack));
	free(s);

	s = find_ok(r11, sizeof(r11), 1);
	assert_int_equal(s[0].rt.kind, INFLIGHT_SITE_JMP_REG);
	assert_int_equal(s[0].rt.base, INFLIGHT_REG_R11);
	free(s);
}

/* jmp *disp(%rip): disp becomes relative to the site, not the next insn. */
static void test_jmp_rip_relative(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x89, 0xf8,                   /* 401000: mov %rdi,%rax */
		0xff, 0x25, 0x10, 0x00, 0x00, 0x00, /* 401003: jmp *0x10(%rip) */
	};
	struct exit_site *s = find_ok(code, sizeof(code), 1);

	(void)state;
	assert_int_equal(s[0].addr, FN_ADDR + 3);
	assert_int_equal(s[0].rt.kind, INFLIGHT_SITE_JMP_MEM);
	assert_int_equal(s[0].rt.base, INFLIGHT_REG_IP);
	assert_int_equal(s[0].rt.index, INFLIGHT_NO_REG);
	assert_int_equal(s[0].rt.scale, 1);
	assert_int_equal(s[0].rt.disp, 0x10 + 6); /* + the 6-byte instruction */
	assert_one_part_range(&s[0], 3, sizeof(code));
	free(s);
}

/* Jump tables: jmp *(base,index,scale) and jmp *disp(,index,scale). */
static void test_jmp_sib(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x89, 0xf9,                         /* 401000: mov %rdi,%rcx */
		0xff, 0x24, 0xc8,                         /* 401003: jmp *(%rax,%rcx,8) */
		0xff, 0x24, 0xcd, 0x20, 0x00, 0x00, 0x00, /* 401006: jmp *0x20(,%rcx,8) */
	};
	struct exit_site *s = find_ok(code, sizeof(code), 2);

	(void)state;
	assert_int_equal(s[0].addr, FN_ADDR + 3);
	assert_int_equal(s[0].rt.kind, INFLIGHT_SITE_JMP_MEM);
	assert_int_equal(s[0].rt.base, INFLIGHT_REG_AX);
	assert_int_equal(s[0].rt.index, INFLIGHT_REG_CX);
	assert_int_equal(s[0].rt.scale, 8);
	assert_int_equal(s[0].rt.disp, 0);

	assert_int_equal(s[1].addr, FN_ADDR + 6);
	assert_int_equal(s[1].rt.kind, INFLIGHT_SITE_JMP_MEM);
	assert_int_equal(s[1].rt.base, INFLIGHT_NO_REG);
	assert_int_equal(s[1].rt.index, INFLIGHT_REG_CX);
	assert_int_equal(s[1].rt.scale, 8);
	assert_int_equal(s[1].rt.disp, 0x20); /* not rip-relative: unchanged */
	free(s);
}

/* Hot part at 0x401000 (offset 0x1000), .cold part at 0x402000 (offset 0x3000). */
static const uint8_t hot[] = {
	0x48, 0x85, 0xff,                   /* 401000: test %rdi,%rdi */
	0x0f, 0x84, 0xf7, 0x0f, 0x00, 0x00, /* 401003: je 0x402000 (cold part) */
	0x31, 0xc0,                         /* 401009: xor %eax,%eax */
	0xc3,                               /* 40100b: ret */
};
static const uint8_t cold[] = {
	0xb8, 0xff, 0xff, 0xff, 0xff,       /* 402000: mov $0xffffffff,%eax */
	0x85, 0xf6,                         /* 402005: test %esi,%esi */
	0x0f, 0x85, 0xfe, 0xef, 0xff, 0xff, /* 402007: jne 0x40100b (back to hot) */
	0xc3,                               /* 40200d: ret */
};

/* Jumps between the parts stay inside; the ret in the cold part is an exit. */
static void test_hot_and_cold_parts(void **state)
{
	const struct code_part parts[2] = {
		{ .addr = 0x401000, .offset = 0x1000, .bytes = hot, .size = sizeof(hot) },
		{ .addr = 0x402000, .offset = 0x3000, .bytes = cold, .size = sizeof(cold) },
	};
	struct exit_site *s = NULL;

	(void)state;
	assert_int_equal(exit_sites_find(parts, 2, &s, err, sizeof(err)), 2);
	assert_int_equal(s[0].addr, 0x40100b);
	assert_int_equal(s[0].offset, 0x100b);
	assert_int_equal(s[0].rt.kind, INFLIGHT_SITE_RET);
	assert_int_equal(s[1].addr, 0x40200d);
	assert_int_equal(s[1].offset, 0x300d); /* the cold part's own offset */
	assert_int_equal(s[1].rt.kind, INFLIGHT_SITE_RET);
	/* both parts' ranges, relative to the cold ret */
	assert_int_equal(s[1].rt.lo[0], 0x401000 - 0x40200d);
	assert_int_equal(s[1].rt.hi[0], 0x401000 - 0x40200d + (int64_t)sizeof(hot));
	assert_int_equal(s[1].rt.lo[1], -0xd);
	assert_int_equal(s[1].rt.hi[1], 1);
	free(s);
}

/* Control: without the cold part, the je into it is a conditional exit. */
static void test_hot_part_alone(void **state)
{
	struct exit_site *s = find_ok(hot, sizeof(hot), 2);

	(void)state;
	assert_int_equal(s[0].addr, FN_ADDR + 3);
	assert_int_equal(s[0].rt.kind, INFLIGHT_SITE_JCC);
	assert_int_equal(s[0].rt.cc, INFLIGHT_CC_E);
	assert_ret_site(&s[1], 0xb, "ret");
	free(s);
}

/* A thunk exits at its first instruction: probe its target instead. */
static void test_thunk_rejected(void **state)
{
	static const uint8_t ret_only[] = {
		0xc3, /* 401000: ret */
	};
	static const uint8_t jmp_only[] = {
		0xe9, 0xfb, 0x0f, 0x00, 0x00, /* 401000: jmp 0x402000 */
	};

	(void)state;
	find_fails(ret_only, sizeof(ret_only), EOPNOTSUPP, "first instruction");
	find_fails(jmp_only, sizeof(jmp_only), EOPNOTSUPP, "first instruction");
}

/* No ret and no jump out: the function never returns. */
static void test_no_exit_rejected(void **state)
{
	static const uint8_t code[] = {
		0x55,                         /* 401000: push %rbp */
		0xe8, 0xfb, 0x0f, 0x00, 0x00, /* 401001: call 0x402001 */
		0x0f, 0x0b,                   /* 401006: ud2 */
	};

	(void)state;
	find_fails(code, sizeof(code), ENOENT, "no return or tail jump");
}

/*
 * A symbol's size comes from the file: a function made of thousands of
 * rets (or claiming a gigabyte) is refused, not turned into that many probes.
 */
static void test_absurd_sizes_rejected(void **state)
{
	size_t n = EXIT_SITES_MAX + 10;
	uint8_t *rets = malloc(n);

	(void)state;
	assert_non_null(rets);
	rets[0] = 0x55; /* push %rbp: not a thunk */
	memset(rets + 1, 0xc3, n - 1);
	find_fails(rets, n, E2BIG, "exits, the most inflight probes");
	/* a size past the bound is refused before a byte is read */
	find_fails(rets, (size_t)EXIT_SITES_MAX_CODE + 1, E2BIG, "bytes of code, more than");
	free(rets);
}

/* Bytes that do not decode: the error names the address. */
static void test_undecodable_rejected(void **state)
{
	static const uint8_t invalid[] = {
		0x55, /* 401000: push %rbp */
		0x06, /* 401001: (bad): push %es is invalid in 64-bit mode */
		0xc3, /* 401002: ret */
	};
	static const uint8_t truncated[] = {
		0x55,             /* 401000: push %rbp */
		0xe9, 0x00, 0x00, /* 401001: jmp rel32 cut short */
	};

	(void)state;
	find_fails(invalid, sizeof(invalid), EILSEQ, "0x401001");
	find_fails(truncated, sizeof(truncated), EILSEQ, "0x401001");
}

/* Exits the BPF side cannot evaluate are errors, not silently skipped. */
static void test_unsupported_exits_rejected(void **state)
{
	static const uint8_t jrcxz_out[] = {
		0x48, 0x85, 0xff, /* 401000: test %rdi,%rdi */
		0xe3, 0x03,       /* 401003: jrcxz 0x401008 (= end: outside) */
		0x31, 0xc0,       /* 401005: xor %eax,%eax */
		0xc3,             /* 401007: ret */
	};
	static const uint8_t loop_out[] = {
		0x48, 0x85, 0xff, /* 401000: test %rdi,%rdi */
		0xe2, 0x03,       /* 401003: loop 0x401008 (= end: outside) */
		0x31, 0xc0,       /* 401005: xor %eax,%eax */
		0xc3,             /* 401007: ret */
	};
	static const uint8_t fs_jmp[] = {
		0x48, 0x89, 0xf8,                               /* 401000: mov %rdi,%rax */
		0x64, 0xff, 0x24, 0x25, 0x10, 0x00, 0x00, 0x00, /* 401003: jmp *%fs:0x10 */
	};
	static const uint8_t ljmp[] = {
		0x48, 0x89, 0xf8, /* 401000: mov %rdi,%rax */
		0xff, 0x2c, 0x24, /* 401003: ljmp *(%rsp) */
	};

	(void)state;
	find_fails(jrcxz_out, sizeof(jrcxz_out), EOPNOTSUPP, "jrcxz at 0x401003");
	find_fails(loop_out, sizeof(loop_out), EOPNOTSUPP, "loop at 0x401003");
	find_fails(fs_jmp, sizeof(fs_jmp), EOPNOTSUPP, "cannot follow");
	find_fails(ljmp, sizeof(ljmp), EOPNOTSUPP, "cannot follow");
}

/* jrcxz that stays inside is ordinary control flow. */
static void test_jrcxz_inside_ok(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x85, 0xff, /* 401000: test %rdi,%rdi */
		0xe3, 0x02,       /* 401003: jrcxz 0x401007 */
		0x31, 0xc0,       /* 401005: xor %eax,%eax */
		0xc3,             /* 401007: ret */
	};
	struct exit_site *s = find_ok(code, sizeof(code), 1);

	(void)state;
	assert_ret_site(&s[0], 7, "ret");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_and_ret),
		cmocka_unit_test(test_endbr64_prologue),
		cmocka_unit_test(test_early_return),
		cmocka_unit_test(test_ret_variants),
		cmocka_unit_test(test_tail_call_jmp),
		cmocka_unit_test(test_jmp_inside_is_not_exit),
		cmocka_unit_test(test_conditional_tail_call),
		cmocka_unit_test(test_jcc_to_function_end),
		cmocka_unit_test(test_jmp_register),
		cmocka_unit_test(test_jmp_rip_relative),
		cmocka_unit_test(test_jmp_sib),
		cmocka_unit_test(test_hot_and_cold_parts),
		cmocka_unit_test(test_hot_part_alone),
		cmocka_unit_test(test_thunk_rejected),
		cmocka_unit_test(test_no_exit_rejected),
		cmocka_unit_test(test_absurd_sizes_rejected),
		cmocka_unit_test(test_undecodable_rejected),
		cmocka_unit_test(test_unsupported_exits_rejected),
		cmocka_unit_test(test_jrcxz_inside_ok),
	};

	return cmocka_run_group_tests_name("exit_sites: finding instruction-mode exits",
					   tests, NULL, NULL);
}
