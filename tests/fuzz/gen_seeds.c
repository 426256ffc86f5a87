// SPDX-License-Identifier: MIT
/*
 * Writes the seed corpora of the harnesses that play a remote process
 * (fuzz_py_linetable, fuzz_stack_walk, fuzz_py_frame_info,
 * fuzz_py_debug_offsets): small inputs,
 * each well formed, so that coverage starts deep. Run from the checkout:
 *   cc -Iinclude -Iuser -Itests/unit tests/fuzz/gen_seeds.c \
 *      user/python/py_layouts.c -o /tmp/gen_seeds && /tmp/gen_seeds tests/fuzz/corpus
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "python/py_layout.h"
#include "py_linetable_fixture.h"
#include "fuzz_addrs.h"

static const char *root;

static void put(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, dir);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void w64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void w32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static const struct linetable_case *fixture(int minor, const char *func)
{
	for (size_t i = 0; i < sizeof(linetable_cases) / sizeof(linetable_cases[0]); i++)
		if (linetable_cases[i].minor == minor && !strcmp(linetable_cases[i].func, func))
			return &linetable_cases[i];
	return NULL;
}

/* flags (bit 0: 3.10), firstlineno, cut, table: a few real tables per minor */
static void linetable_seeds(void)
{
	static const char *const funcs[] = { "loops", "guarded", "far" };
	uint8_t buf[2048];
	char name[64];

	for (int minor = 10; minor <= 15; minor++) {
		for (size_t k = 0; k < sizeof(funcs) / sizeof(funcs[0]); k++) {
			const struct linetable_case *c = fixture(minor, funcs[k]);

			if (!c || c->len + 7 > sizeof(buf))
				continue;
			buf[0] = minor == 10;
			w32(buf + 1, (uint32_t)c->firstlineno);
			buf[5] = (uint8_t)(c->len / 2);
			buf[6] = (uint8_t)(c->len / 2 >> 8);
			memcpy(buf + 7, c->table, c->len);
			snprintf(name, sizeof(name), "3.%d-%s", minor, c->func);
			put("py_linetable", name, buf, c->len + 7);
		}
	}
}

/*
 * A stack and its code: calls at CODE+0x100, +0x200, +0x300 (e8 rel32),
 * each returning 5 bytes on; frame records (saved bp, return address)
 * chained up the stack from bp. `scan`: a return address between sp and
 * the first frame too, after a direct call into the function ip is in.
 * `resume`: no bp to start from, the chain found by the scan (a saved bp
 * below a return address after an indirect call, ff d0). `plt`: the
 * scanned call goes through a PLT stub (endbr64, bnd jmp *GOT(%rip)).
 */
static void stack_seed(const char *name, int scan, int resume, int plt)
{
	uint8_t in[FUZZ_STACK_HDR + 0x800 + 0x900];
	uint8_t *st = in + FUZZ_STACK_HDR, *code = st + 0x800;
	const uint64_t ip = 0x40, sp = 0x100, bp = 0x200;

	memset(in, 0, sizeof(in));
	in[0] = 7; /* ip, sp, bp inside */
	in[1] = 64;
	w64(in + 2, ip);
	w64(in + 10, sp);
	w64(in + 18, resume ? 0x123 : bp);
	in[26] = 0x00;
	in[27] = 0x08; /* 0x800 bytes of stack */
	for (int i = 1; i <= 3; i++) {
		uint64_t call = 0x100ull * i, target = 0x10 * i;

		code[call] = 0xe8;
		w32(code + call + 1, (uint32_t)(target - (call + 5)));
	}
	/* frame records at 0x200 -> 0x300 -> 0x400 (its saved bp 0 ends the chain) */
	for (int i = 0; i < 3; i++) {
		uint64_t at = bp + 0x100ull * i;

		w64(st + at, i < 2 ? FUZZ_STACK + at + 0x100 : 0);
		w64(st + at + 8, FUZZ_CODE + 0x100ull * (i + 1) + 5);
	}
	if (scan) {
		/* a call at 0x500 to the function at 0x0 (ip 0x40 is in it) */
		uint64_t call = 0x500, target = plt ? 0x800 : 0x0;

		code[call] = 0xe8;
		w32(code + call + 1, (uint32_t)(target - (call + 5)));
		if (plt) {
			/* f3 0f 1e fa f2 ff 25 rel32: GOT at 0x880 holds CODE+0x0 */
			memcpy(code + 0x800, "\xf3\x0f\x1e\xfa\xf2\xff\x25", 7);
			w32(code + 0x807, 0x880 - (0x800 + 4 + 1 + 6));
			w64(code + 0x880, FUZZ_CODE);
		}
		w64(st + sp + 0x10, FUZZ_CODE + call + 5);
	}
	if (resume) {
		/* an indirect call (ff d0) at 0x600; below its return address the saved bp */
		code[0x600] = 0xff;
		code[0x601] = 0xd0;
		w64(st + sp + 0x20, FUZZ_STACK + bp);
		w64(st + sp + 0x28, FUZZ_CODE + 0x602);
	}
	put("stack_walk", name, in, sizeof(in));
}

static void stack_seeds(void)
{
	stack_seed("chain", 0, 0, 0);
	stack_seed("scan", 1, 0, 0);
	stack_seed("plt", 1, 0, 1);
	stack_seed("resume", 0, 1, 0);
}

/* A compact str at `at`: kind 1 ASCII, or kind 2 / 4 (UCS-2, UCS-4) of code points `cp`. */
static void str_at(const struct py_layout *L, uint8_t *mem, size_t at, int kind,
		   const uint32_t *cp, size_t n)
{
	uint8_t *o = mem + at;
	uint32_t state = 1u << L->state_compact_bit | (uint32_t)kind << L->state_kind_shift;

	if (kind == 1)
		state |= 1u << L->state_ascii_bit;
	w64(o + L->object_type, FUZZ_STR_TYPE);
	w64(o + L->unicode_length, n);
	w32(o + L->unicode_state, state);
	for (size_t i = 0; i < n; i++) {
		uint8_t *d = o + (kind == 1 ? L->unicode_ascii_data : L->unicode_compact_data);

		if (kind == 1)
			d[i] = (uint8_t)cp[i];
		else if (kind == 2)
			memcpy(d + 2 * i, &(uint16_t){ (uint16_t)cp[i] }, 2);
		else
			w32(d + 4 * i, cp[i]);
	}
}

/*
 * Per layout: a code object at 0x40 (its qualname, name and file strs at
 * 0x180, 0x200, 0x280; its location table, a bytes object, at 0x300) with
 * the frame at one of its instructions.
 */
static void frame_seed(size_t layout, int kind)
{
	static const uint32_t qual[] = { 'C', '.', 'l', 'o', 'o', 'p', 's' };
	static const uint32_t wide[] = { 'G', 'r', 0xfc, 0x3b1, 0x4e16, 0x1f600 };
	static const uint32_t file[] = { '/', 'a', '.', 'p', 'y' };
	const struct py_layout *L = &py_layouts[layout];
	const struct linetable_case *c = fixture(L->minor, "loops");
	uint8_t in[FUZZ_PY_HDR + 0x400 + 2048], *mem = in + FUZZ_PY_HDR;
	const size_t code = 0x40;
	char name[64];
	size_t n;

	if (!c)
		return;
	memset(in, 0, sizeof(in));
	in[0] = (uint8_t)layout;
	in[1] = 1; /* the instruction relative to the bytecode (3.10: an index) */
	in[2] = (uint8_t)code;
	w64(in + 4, L->code_adaptive >= 0 ? 2 * 7 : 7);
	w64(mem + code + L->object_type, FUZZ_CODE_TYPE);
	if (L->code_qualname >= 0)
		w64(mem + code + L->code_qualname, FUZZ_PY + 0x180);
	w64(mem + code + L->code_name, FUZZ_PY + 0x200);
	w64(mem + code + L->code_filename, FUZZ_PY + 0x280);
	w32(mem + code + L->code_firstlineno, (uint32_t)c->firstlineno);
	w64(mem + code + L->code_linetable, FUZZ_PY + 0x300);
	if (kind == 1)
		str_at(L, mem, 0x180, 1, qual, sizeof(qual) / sizeof(qual[0]));
	else
		str_at(L, mem, 0x180, kind, wide, kind == 2 ? 5 : 6);
	str_at(L, mem, 0x200, 1, qual + 2, 5);
	str_at(L, mem, 0x280, 1, file, sizeof(file) / sizeof(file[0]));
	w64(mem + 0x300 + L->tuple_size, c->len);
	memcpy(mem + 0x300 + 32, c->table, c->len);
	n = FUZZ_PY_HDR + 0x300 + 32 + c->len;
	snprintf(name, sizeof(name), "3.%d-kind%d", L->minor, kind);
	put("py_frame_info", name, in, n);
}

/* _Py_DebugOffsets of 3.minor holding the table's offsets (what a real interpreter holds) */
static void debug_seed(int minor)
{
	const struct py_layout *s = py_layout_for(minor);
	uint8_t in[1 + 4096], *raw = in + 1;
	const struct {
		enum py_debug_field f;
		uint64_t v;
	} v[] = {
		{ PY_DBG_VERSION, 0x03000000u | (uint64_t)minor << 16 | 0x02f0 },
		{ PY_DBG_RUNTIME_SIZE, 300000 },
		{ PY_DBG_RUNTIME_INTERPRETERS_HEAD, (uint64_t)s->runtime_interpreters_head },
		{ PY_DBG_INTERP_SIZE, 100000 },
		{ PY_DBG_INTERP_NEXT, (uint64_t)s->interp_next },
		{ PY_DBG_INTERP_THREADS_HEAD, (uint64_t)s->interp_threads_head },
		{ PY_DBG_INTERP_SYSDICT, (uint64_t)s->interp_sysdict },
		{ PY_DBG_TSTATE_SIZE, 1000 },
		{ PY_DBG_TSTATE_NEXT, (uint64_t)s->tstate_next },
		{ PY_DBG_TSTATE_FRAME, (uint64_t)s->tstate_frame },
		{ PY_DBG_TSTATE_NATIVE_ID, (uint64_t)s->tstate_native_id },
		{ PY_DBG_FRAME_SIZE, (uint64_t)s->frame_localsplus + 8 },
		{ PY_DBG_FRAME_PREVIOUS, (uint64_t)s->frame_previous },
		{ PY_DBG_FRAME_CODE, (uint64_t)s->frame_code },
		{ PY_DBG_FRAME_LOCALSPLUS, (uint64_t)s->frame_localsplus },
		{ PY_DBG_FRAME_OWNER, (uint64_t)s->frame_owner },
		{ PY_DBG_CODE_SIZE, 224 },
		{ PY_DBG_CODE_VARNAMES, (uint64_t)s->code_varnames },
		{ PY_DBG_CODE_QUALNAME, (uint64_t)s->code_qualname },
		{ PY_DBG_CODE_NAME, (uint64_t)s->code_name },
		{ PY_DBG_CODE_FILENAME, (uint64_t)s->code_filename },
		{ PY_DBG_CODE_ARGCOUNT, (uint64_t)s->code_argcount },
		{ PY_DBG_FRAME_INSTR_PTR, (uint64_t)s->frame_instr },
		{ PY_DBG_CODE_LINETABLE, (uint64_t)s->code_linetable },
		{ PY_DBG_CODE_FIRSTLINENO, (uint64_t)s->code_firstlineno },
		{ PY_DBG_CODE_ADAPTIVE, (uint64_t)s->code_adaptive },
		{ PY_DBG_OBJECT_TYPE, (uint64_t)s->object_type },
		{ PY_DBG_TUPLE_SIZE, (uint64_t)s->tuple_size },
		{ PY_DBG_TUPLE_ITEMS, (uint64_t)s->tuple_items },
		{ PY_DBG_DICT_SIZE, 48 },
		{ PY_DBG_DICT_MA_KEYS, (uint64_t)s->dict_ma_keys },
		{ PY_DBG_DICT_MA_VALUES, (uint64_t)s->dict_ma_values },
		{ PY_DBG_UNICODE_STATE, (uint64_t)s->unicode_state },
		{ PY_DBG_UNICODE_LENGTH, (uint64_t)s->unicode_length },
		{ PY_DBG_UNICODE_ASCII_DATA, (uint64_t)s->unicode_ascii_data },
		{ PY_DBG_UNICODE_COMPACT_DATA, (uint64_t)s->unicode_compact_data },
	};
	char name[32];

	memset(in, 0, sizeof(in));
	in[0] = (uint8_t)(minor - 13);
	memcpy(raw, "xdebugpy", 8);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (s->debug[v[i].f])
			w64(raw + s->debug[v[i].f], v[i].v);
	snprintf(name, sizeof(name), "3.%d", minor);
	put("py_debug_offsets", name, in, 1 + (size_t)s->debug[PY_DBG_END]);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	root = argv[1];
	linetable_seeds();
	stack_seeds();
	for (size_t i = 0; i < py_layouts_count; i++)
		for (int kind = 1; kind <= 4; kind *= 2)
			frame_seed(i, kind);
	for (int minor = 13; minor <= 15; minor++)
		debug_seed(minor);
	return 0;
}
