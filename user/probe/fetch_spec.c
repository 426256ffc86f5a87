// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "probe/fetch_spec.h"
#include "util/array_size.h"

static const char *const reg_names[INFLIGHT_REG__COUNT] = {
	[INFLIGHT_REG_AX] = "ax", [INFLIGHT_REG_BX] = "bx", [INFLIGHT_REG_CX] = "cx",
	[INFLIGHT_REG_DX] = "dx", [INFLIGHT_REG_SI] = "si", [INFLIGHT_REG_DI] = "di",
	[INFLIGHT_REG_BP] = "bp", [INFLIGHT_REG_SP] = "sp", [INFLIGHT_REG_R8] = "r8",
	[INFLIGHT_REG_R9] = "r9", [INFLIGHT_REG_R10] = "r10", [INFLIGHT_REG_R11] = "r11",
	[INFLIGHT_REG_R12] = "r12", [INFLIGHT_REG_R13] = "r13", [INFLIGHT_REG_R14] = "r14",
	[INFLIGHT_REG_R15] = "r15", [INFLIGHT_REG_IP] = "ip", [INFLIGHT_REG_FLAGS] = "flags",
};

static const struct {
	const char *name;
	enum inflight_fetch_type type;
} type_names[] = {
	{ "string", INFLIGHT_T_STRING }, { "ustring", INFLIGHT_T_STRING },
	{ "u8", INFLIGHT_T_U8 }, { "u16", INFLIGHT_T_U16 },
	{ "u32", INFLIGHT_T_U32 }, { "u64", INFLIGHT_T_U64 },
	{ "s8", INFLIGHT_T_S8 }, { "s16", INFLIGHT_T_S16 },
	{ "s32", INFLIGHT_T_S32 }, { "s64", INFLIGHT_T_S64 },
	{ "x8", INFLIGHT_T_X8 }, { "x16", INFLIGHT_T_X16 },
	{ "x32", INFLIGHT_T_X32 }, { "x64", INFLIGHT_T_X64 },
	{ "gostring", INFLIGHT_T_GOSTRING },
};

/* Go's ABIInternal (amd64): integer arguments in this order. */
static const enum inflight_reg go_arg_regs[9] = {
	INFLIGHT_REG_AX, INFLIGHT_REG_BX, INFLIGHT_REG_CX, INFLIGHT_REG_DI, INFLIGHT_REG_SI,
	INFLIGHT_REG_R8, INFLIGHT_REG_R9, INFLIGHT_REG_R10, INFLIGHT_REG_R11,
};

/* System V x86-64: the first six integer arguments. */
static const enum inflight_reg arg_regs[6] = {
	INFLIGHT_REG_DI, INFLIGHT_REG_SI, INFLIGHT_REG_DX,
	INFLIGHT_REG_CX, INFLIGHT_REG_R8, INFLIGHT_REG_R9,
};

/* libbpf's USDT support reads at most this many arguments. */
#define USDT_MAX_ARGS 12

struct parser {
	const char *s;
	size_t pos;
	bool usdt;
	bool from_arg; /* the base was named $argN (System V's order) */
	struct inflight_fetch *f;
	struct fetch_spec_error *err;
};

static int fail(struct parser *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;

	p->err->column = (int)pos + 1;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *fetch_reg_name(unsigned reg)
{
	return reg < INFLIGHT_REG__COUNT ? reg_names[reg] : NULL;
}

/* Parses a decimal or 0x-hex unsigned number; returns chars consumed. */
static size_t parse_number(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return 0;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || v > max)
		return 0;
	*out = v;
	return (size_t)(end - s);
}

static size_t ident_len(const char *s)
{
	size_t n = 0;

	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	return n;
}

static int parse_arg(struct parser *p, int depth);

static int parse_deref(struct parser *p, int depth)
{
	size_t start = p->pos, n;
	bool neg = p->s[p->pos] == '-';
	uint64_t off;

	p->pos++; /* sign */
	if (p->s[p->pos] == 'u')
		p->pos++; /* user-memory marker: all our reads are of user memory */
	n = parse_number(p->s + p->pos, INT32_MAX, &off);
	if (!n)
		return fail(p, p->pos, "expected an offset (decimal or 0x hex) after '%c'",
			    neg ? '-' : '+');
	p->pos += n;
	if (p->s[p->pos] != '(')
		return fail(p, p->pos, "expected '(' after the offset");
	p->pos++;
	if (parse_arg(p, depth + 1))
		return -EINVAL;
	if (p->s[p->pos] != ')')
		return fail(p, p->pos, "expected ')'");
	p->pos++;
	if (p->f->nderef >= INFLIGHT_MAX_DEREF)
		return fail(p, start, "too many dereferences (at most %d)", INFLIGHT_MAX_DEREF);
	/* inner derefs complete first, so offsets are appended innermost-first */
	p->f->off[p->f->nderef++] = neg ? -(int64_t)off : (int64_t)off;
	return 0;
}

static int parse_reg(struct parser *p)
{
	size_t start = p->pos, n;
	const char *name = p->s + p->pos + 1;

	n = ident_len(name);
	for (unsigned r = 0; r < INFLIGHT_REG__COUNT; r++) {
		if (strlen(reg_names[r]) == n && !strncmp(name, reg_names[r], n)) {
			p->f->base = INFLIGHT_BASE_REG;
			p->f->reg = r;
			p->pos += 1 + n;
			return 0;
		}
	}
	if (!n)
		return fail(p, start + 1, "expected a register name after '%%'");
	return fail(p, start + 1, "unknown register '%%%.*s' (x86-64: %%ax %%bx %%cx %%dx %%si %%di %%bp %%sp %%r8-%%r15 %%ip)",
		    (int)n, name);
}

static int parse_var(struct parser *p)
{
	size_t start = p->pos, n;
	const char *name = p->s + p->pos + 1;
	uint64_t idx;

	n = ident_len(name);
	if (n >= 3 && !strncmp(name, "arg", 3)) {
		p->from_arg = true;
		if (n == 3 || !parse_number(name + 3, 1024, &idx) || idx < 1 ||
		    parse_number(name + 3, 1024, &idx) != n - 3)
			return fail(p, start + 4, "expected an argument number >= 1 after '$arg'");
		if (p->usdt) {
			if (idx > USDT_MAX_ARGS)
				return fail(p, start + 4, "USDT probes have at most %d arguments", USDT_MAX_ARGS);
			p->f->base = INFLIGHT_BASE_USDT;
			p->f->reg = (uint8_t)(idx - 1);
		} else if (idx <= 6) {
			p->f->base = INFLIGHT_BASE_REG;
			p->f->reg = arg_regs[idx - 1];
		} else {
			/* at entry [sp] is the return address, arg 7 is above it */
			p->f->base = INFLIGHT_BASE_STACK;
			p->f->base_off = (int32_t)(8 * (idx - 6));
		}
	} else if (n >= 5 && !strncmp(name, "stack", 5)) {
		if (n == 5) {
			p->f->base = INFLIGHT_BASE_REG;
			p->f->reg = INFLIGHT_REG_SP;
		} else {
			if (parse_number(name + 5, 4096, &idx) != n - 5)
				return fail(p, start + 6, "expected a word index after '$stack'");
			p->f->base = INFLIGHT_BASE_STACK;
			p->f->base_off = (int32_t)(8 * idx);
		}
	} else {
		return fail(p, start, "unknown variable '$%.*s' (supported: $argN, $stackN, $stack)",
			    (int)n, name);
	}
	p->pos += 1 + n;
	return 0;
}

static int parse_arg(struct parser *p, int depth)
{
	char c = p->s[p->pos];

	if (depth > INFLIGHT_MAX_DEREF)
		return fail(p, p->pos, "too many dereferences (at most %d)", INFLIGHT_MAX_DEREF);
	switch (c) {
	case '+':
	case '-':
		return parse_deref(p, depth);
	case '%':
		return parse_reg(p);
	case '$':
		return parse_var(p);
	case '@':
		return fail(p, p->pos, "'@' addresses are not supported; use %%REG, $argN or $stackN");
	case '\0':
		return fail(p, p->pos, "expected %%REG, $argN, $stackN or +OFF(...)");
	default:
		return fail(p, p->pos, "unexpected '%c': expected %%REG, $argN, $stackN or +OFF(...)", c);
	}
}

static int parse_type(struct parser *p)
{
	const char *name = p->s + p->pos;
	size_t n = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++) {
		if (!strcmp(name, type_names[i].name)) {
			p->f->type = type_names[i].type;
			p->pos += n;
			return 0;
		}
	}
	if (!n)
		return fail(p, p->pos, "expected a type after ':'");
	return fail(p, p->pos, "unknown type '%s' (supported: string, ustring, gostring, u8-u64, s8-s64, x8-x64)",
		    name);
}

/*
 * :gostring with no deref takes two places: a register and the next one in
 * Go's argument order (a string argument's pointer and length), or two
 * stack words. A deref reads the 16-byte string header instead.
 */
static int check_gostring(struct parser *p, size_t type_pos)
{
	struct inflight_fetch *f = p->f;

	if (f->nderef > 0 || f->base == INFLIGHT_BASE_STACK)
		return 0;
	if (p->from_arg && f->base == INFLIGHT_BASE_REG)
		return fail(p, type_pos, ":gostring: $argN is C's order; name Go's registers (%%ax:gostring: the first argument)");
	if (f->base == INFLIGHT_BASE_USDT)
		return fail(p, type_pos, ":gostring of a USDT argument needs a deref: +0($argN):gostring");
	for (size_t i = 0; i + 1 < ARRAY_SIZE(go_arg_regs); i++) {
		if (f->reg == go_arg_regs[i]) {
			f->len_reg = go_arg_regs[i + 1];
			return 0;
		}
	}
	return fail(p, 0, ":gostring: %%%s is not one of Go's argument registers followed by another (%%ax %%bx %%cx %%di %%si %%r8-%%r10)",
		    fetch_reg_name(f->reg));
}

int fetch_spec_parse(const char *spec, bool usdt, struct inflight_fetch *out,
		     struct fetch_spec_error *err)
{
	struct parser p = { .s = spec, .usdt = usdt, .f = out, .err = err };

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	out->type = INFLIGHT_T_U64;
	if (parse_arg(&p, 0))
		return -EINVAL;
	if (spec[p.pos] == ':') {
		size_t type_pos = ++p.pos;

		if (parse_type(&p))
			return -EINVAL;
		if (out->type == INFLIGHT_T_GOSTRING && check_gostring(&p, type_pos))
			return -EINVAL;
	}
	if (spec[p.pos] != '\0')
		return fail(&p, p.pos, "unexpected '%c' after the argument", spec[p.pos]);
	return 0;
}

void fetch_spec_format(const struct inflight_fetch *f, char *buf, size_t size)
{
	const char *type = "u64";
	size_t pos = 0;
	unsigned n = f->nderef < INFLIGHT_MAX_DEREF ? f->nderef : INFLIGHT_MAX_DEREF;

#define PUT(...)                                                                  \
	do {                                                                      \
		if (pos < size)                                                   \
			pos += (size_t)snprintf(buf + pos, size - pos, __VA_ARGS__); \
	} while (0)

	if (!size)
		return;
	buf[0] = '\0';
	if (f->base == INFLIGHT_BASE_CONST) {
		PUT("(constant)");
		return;
	}
	/* the outermost deref is the last offset */
	for (unsigned i = n; i-- > 0;) {
		long long off = (long long)f->off[i];

		PUT("%c%lld(", off < 0 ? '-' : '+', off < 0 ? -off : off);
	}
	if (f->base == INFLIGHT_BASE_REG)
		PUT("%%%s", fetch_reg_name(f->reg));
	else if (f->base == INFLIGHT_BASE_STACK)
		PUT("$stack%d", f->base_off / 8);
	else
		PUT("$arg%d", f->reg + 1);
	for (unsigned i = 0; i < n; i++)
		PUT(")");
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++) {
		if (type_names[i].type == f->type) {
			type = type_names[i].name;
			break;
		}
	}
	PUT(":%s", type);
#undef PUT
}
