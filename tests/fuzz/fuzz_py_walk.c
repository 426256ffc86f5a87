// SPDX-License-Identifier: MIT
/*
 * libFuzzer: a CPython process's memory, which the process controls (torn
 * while it runs, or forged), walked as the collector walks it (py_walk,
 * py_walk_calls and, for `inflight stuck`, py_frame_describe on each frame
 * of a call's stack) through process_vm_readv on this process.
 *
 * The input is a 16-byte header and an image of memory. The image is copied
 * to a 1 MiB region mapped at the fixed address REGION (the rest zeroed), so
 * that pointers in it can point into it: _PyRuntime is the region's start,
 * and the str, dict, code and cell types are fixed addresses in it. Header:
 *   [0] the layout: py_layouts[h[0] % py_layouts_count]
 *   [1] flags (F_*)
 *   [2] a page of the region made unreadable during the walk: page h[2] - 1; 0: none
 *   [3] the argument by position (F_ARG_INDEX): h[3] % 8
 *
 * Seeds: `PY_WALK_SEEDS=DIR fuzz_py_walk` writes well-formed processes of
 * every layout (runtime -> interpreter -> 2 threads -> frames -> code of
 * _handle_vcon -> its dict argument -> "name" -> a str) to DIR and exits;
 * tests/fuzz/corpus/py_walk holds them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "python/py_debug_offsets.h"
#include "python/py_frame_info.h"
#include "python/py_walk.h"
#include "util/log.h"

#define REGION 0x3e0000000000ull /* in ASan's high memory, away from its allocator */
#define REGION_LEN (1u << 20)
#define HEADER 16
#define PAGE 4096u
/* the collector's budget is 100000 reads; a walk stopped by this one costs ~10 ms here */
#define READS 5000

enum {
	F_DEBUG = 1,        /* 3.13+: the layout from the image's _Py_DebugOffsets */
	F_ARG_INDEX = 2,    /* the chain argument by position, not by name */
	F_NO_KEY = 4,       /* the argument is the chain itself, not a dict */
	F_FILE = 8,         /* co_filename must end with "main.py" */
	F_NO_CODE_TYPE = 16,
	F_NO_CELL_TYPE = 32,
	F_CHECK = 64,       /* read sys.version back first, as a first walk does */
};

/* Where the types are: fixed, the fuzzer finds them by comparison. */
#define T_STR 0x6100
#define T_DICT 0x6140
#define T_CODE 0x6180
#define T_CELL 0x61c0

/* UBSan's reports are failures here, as ASan's are */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static uint8_t *region;
static size_t dirty; /* bytes of the region the last input wrote */
static int seeding; /* writing seeds: each is walked and what it shows printed */
static int calls_found;

static void on_found(void *ctx, const char *chain, const struct py_call_key *call)
{
	(void)ctx;
	(void)call;
	if (chain && strlen(chain) >= INFLIGHT_CHAIN_LEN)
		abort();
	if (seeding) {
		printf("  call: chain %s\n", chain ? chain : "(unreadable)");
		calls_found += chain != NULL;
	}
}

static void on_call(void *ctx, const struct py_call *c)
{
	struct py_process *p = ctx;

	if (c->depth > PY_STACK_MAX || (c->chain && strlen(c->chain) >= INFLIGHT_CHAIN_LEN))
		abort();
	/* what `inflight stuck` does with an old enough call */
	for (size_t i = 0; i < c->depth; i++) {
		struct py_frame_info fi;

		py_frame_describe(p, &c->stack[i], &fi);
		if (strlen(fi.func) >= sizeof(fi.func) || strlen(fi.file) >= sizeof(fi.file))
			abort();
		if (seeding)
			printf("  tid %llu frame %zu: %s %s:%d\n", (unsigned long long)c->tid, i,
			       fi.func, fi.file, fi.line);
	}
}

static void walk_image(const uint8_t *h)
{
	const struct py_layout *L = &py_layouts[h[0] % py_layouts_count];
	static struct py_process p;
	static struct py_code_cache cache;
	struct py_target t = { .func = "_handle_vcon", .arg_name = "chain_details", .key = "name" };
	struct py_walk_stats st;
	uint64_t reads;
	char why[512];
	uint8_t flags = h[1];

	memset(&p, 0, sizeof(p));
	p.pid = getpid();
	p.runtime = REGION;
	p.minor = L->minor;
	p.L = *L;
	p.unicode_type = REGION + T_STR;
	p.dict_type = REGION + T_DICT;
	p.code_type = flags & F_NO_CODE_TYPE ? 0 : REGION + T_CODE;
	p.cell_type = flags & F_NO_CELL_TYPE ? 0 : REGION + T_CELL;
	p.layout_checked = !(flags & F_CHECK);
	if (flags & F_DEBUG) {
		const struct py_layout *schema = py_debug_schema(L->minor);
		struct proc_mem m = { .pid = p.pid };
		uint8_t raw[4096];

		/* as py_process_open: a layout the process describes badly is not walked */
		if (!schema || schema->debug[PY_DBG_END] > sizeof(raw) ||
		    proc_read(&m, p.runtime, raw, schema->debug[PY_DBG_END]) ||
		    py_layout_from_debug(L->minor, schema, raw, schema->debug[PY_DBG_END], &p.L, why,
					 sizeof(why)))
			return;
	}
	if (flags & F_ARG_INDEX) {
		t.arg_name[0] = '\0';
		t.arg_index = h[3] % 8;
	}
	if (flags & F_NO_KEY)
		t.key[0] = '\0';
	if (flags & F_FILE)
		snprintf(t.file_suffix, sizeof(t.file_suffix), "main.py");

	py_code_cache_reset(&cache);
	proc_budget_start(READS);
	py_walk(&p, &t, &cache, on_found, NULL, &st, &reads);
	proc_budget_end();

	py_code_cache_reset(&cache);
	p.layout_checked = !(flags & F_CHECK);
	p.layout_bad = false;
	proc_budget_start(READS);
	py_walk_calls(&p, &t, &cache, on_call, &p, &st, &reads);
	proc_budget_end();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n;
	uint8_t *hole = NULL;

	if (size < HEADER)
		return 0;
	n = size - HEADER < REGION_LEN ? size - HEADER : REGION_LEN;
	memcpy(region, data + HEADER, n);
	if (dirty > n)
		memset(region + n, 0, dirty - n);
	dirty = n;
	if (data[2]) {
		hole = region + (size_t)(data[2] - 1) * PAGE;
		if (mprotect(hole, PAGE, PROT_NONE))
			abort();
	}
	walk_image(data);
	if (hole && mprotect(hole, PAGE, PROT_READ | PROT_WRITE))
		abort();
	return 0;
}

/*
 * The seed generator: a well-formed process in the image, offsets from
 * REGION. Each version's structs at the table's offsets.
 */
enum {
	O_RUNTIME = 0, O_INTERP = 0x400, O_TS1 = 0x2400, O_CF1 = 0x2500, O_TS2 = 0x2600,
	O_CF2 = 0x2700, O_FRAME0 = 0x4400, O_FRAME1 = 0x4600, O_FRAME2 = 0x4800,
	O_CODE_HANDLE = 0x5000, O_CODE_HELPER = 0x5200, O_STRS = 0x5400, O_VARNAMES = 0x5a00,
	O_DICT = 0x5b00, O_KEYS = 0x5c00, O_SYSDICT = 0x5d00, O_SYSKEYS = 0x5e00,
	O_LT_HANDLE = 0x5f00, O_LT_HELPER = 0x6000, O_CELL = 0x6080, O_END = 0x6200,
	O_DEEP = 0x8000, DEEP_STRIDE = 0x100, DEEP_FRAMES = PY_STACK_MAX + 8,
	O_DEEP_END = O_DEEP + DEEP_STRIDE * DEEP_FRAMES,
};
enum { S_HANDLE, S_HELPER, S_VCON_ID, S_CHAIN_DETAILS, S_NAME, S_FILE, S_CHAIN, S_VERSION,
       S_VERSION_KEY, S_VCON, S_ID };

static uint8_t img[O_DEEP_END];

static void put64(size_t at, uint64_t v)
{
	if (at + 8 > sizeof(img))
		abort();
	memcpy(img + at, &v, 8);
}

static void put32(size_t at, uint32_t v)
{
	memcpy(img + at, &v, 4);
}

static void ptr(size_t at, size_t target)
{
	put64(at, REGION + target);
}

static size_t str_at(int i)
{
	return O_STRS + (size_t)i * 0x80;
}

/* A compact str: ASCII, or 2 bytes a character (`ucs2`). */
static void str(const struct py_layout *L, int i, const char *s, int ucs2)
{
	size_t o = str_at(i), n = strlen(s);

	ptr(o + L->object_type, T_STR);
	put64(o + L->unicode_length, n);
	if (ucs2) {
		put32(o + L->unicode_state, 1u << L->state_compact_bit | 2u << L->state_kind_shift);
		for (size_t k = 0; k < n; k++) {
			uint16_t c = k == 0 ? 0x00e9 : (uint8_t)s[k]; /* starts with an e-acute */

			memcpy(img + o + L->unicode_compact_data + 2 * k, &c, 2);
		}
	} else {
		put32(o + L->unicode_state, 1u << L->state_compact_bit | 1u << L->state_ascii_bit |
						   1u << L->state_kind_shift);
		memcpy(img + o + L->unicode_ascii_data, s, n);
	}
}

/* A dict of str keys: the version's own key table, indices 0..n-1. */
static void dict(const struct py_layout *L, size_t d, size_t keys, const int *k, const size_t *v,
		 int n)
{
	size_t base;

	ptr(d + L->object_type, T_DICT);
	ptr(d + L->dict_ma_keys, keys);
	put64(keys + L->keys_nentries, (uint64_t)n);
	if (L->keys_size >= 0) {
		put64(keys + L->keys_size, 8);
		base = keys + L->keys_indices + 8;
		for (int i = 0; i < n; i++) {
			put64(base + 24 * i, 0x1234 + i); /* the hash, unread */
			ptr(base + 24 * i + 8, str_at(k[i]));
			ptr(base + 24 * i + 16, v[i]);
		}
	} else {
		img[keys + L->keys_log2_size] = 3;
		img[keys + L->keys_log2_index_bytes] = 3;
		img[keys + L->keys_kind] = 1; /* str keys only */
		base = keys + L->keys_indices + 8;
		for (int i = 0; i < n; i++) {
			ptr(base + 16 * i, str_at(k[i]));
			ptr(base + 16 * i + 8, v[i]);
		}
	}
	for (int i = 0; i < n; i++)
		img[keys + L->keys_indices + i] = (uint8_t)i;
}

/* A code object of two positional arguments, with a location table. */
static void code(const struct py_layout *L, size_t c, int name, size_t table)
{
	/* 3.11+: 3 entries of 8 units (line +1, +2, no location); 3.10: (bytes, line) pairs */
	static const uint8_t lt[] = { 0xef, 0x02, 0xf3, 0x04, 0x00, 0x05, 0x06, 0xd1, 0x04, 0x07, 0xf8 };
	static const uint8_t lt310[] = { 6, 1, 10, 2, 4, 0x80, 20, 1 };
	const uint8_t *t = L->frame_lasti >= 0 ? lt310 : lt;
	size_t tn = L->frame_lasti >= 0 ? sizeof(lt310) : sizeof(lt);

	ptr(c + L->object_type, T_CODE);
	ptr(c + L->code_name, str_at(name));
	if (L->code_qualname >= 0)
		ptr(c + L->code_qualname, str_at(name));
	ptr(c + L->code_filename, str_at(S_FILE));
	put32(c + L->code_argcount, 2);
	put32(c + L->code_kwonlyargcount, 0);
	put32(c + L->code_firstlineno, 10);
	ptr(c + L->code_varnames, O_VARNAMES);
	ptr(c + L->code_linetable, table);
	put64(table + L->tuple_size, tn);
	memcpy(img + table + 32, t, tn); /* a bytes object's data */
}

static void frame(const struct py_layout *L, size_t f, size_t prev, size_t c, int owner, int unit)
{
	if (prev)
		ptr(f + L->frame_previous, prev);
	ptr(f + L->frame_code, c);
	if (L->frame_owner >= 0)
		img[f + L->frame_owner] = (uint8_t)owner;
	if (L->frame_state >= 0)
		img[f + L->frame_state] = (uint8_t)L->state_executing;
	if (L->frame_instr >= 0)
		ptr(f + L->frame_instr, c + L->code_adaptive + 2 * unit);
	else if (L->frame_lasti >= 0)
		put32(f + L->frame_lasti, unit);
}

/* The fields _Py_DebugOffsets gives, as py_layout_from_debug reads them. */
static void debug_offsets(const struct py_layout *L)
{
	static const struct { enum py_debug_field f; size_t m; } fields[] = {
#define F(f, m) { f, offsetof(struct py_layout, m) }
		F(PY_DBG_RUNTIME_INTERPRETERS_HEAD, runtime_interpreters_head),
		F(PY_DBG_INTERP_NEXT, interp_next), F(PY_DBG_INTERP_THREADS_HEAD, interp_threads_head),
		F(PY_DBG_INTERP_SYSDICT, interp_sysdict), F(PY_DBG_TSTATE_NEXT, tstate_next),
		F(PY_DBG_TSTATE_FRAME, tstate_frame), F(PY_DBG_TSTATE_NATIVE_ID, tstate_native_id),
		F(PY_DBG_FRAME_PREVIOUS, frame_previous), F(PY_DBG_FRAME_CODE, frame_code),
		F(PY_DBG_FRAME_LOCALSPLUS, frame_localsplus), F(PY_DBG_FRAME_OWNER, frame_owner),
		F(PY_DBG_CODE_VARNAMES, code_varnames), F(PY_DBG_CODE_QUALNAME, code_qualname),
		F(PY_DBG_CODE_NAME, code_name), F(PY_DBG_CODE_FILENAME, code_filename),
		F(PY_DBG_CODE_ARGCOUNT, code_argcount), F(PY_DBG_FRAME_INSTR_PTR, frame_instr),
		F(PY_DBG_CODE_LINETABLE, code_linetable), F(PY_DBG_CODE_FIRSTLINENO, code_firstlineno),
		F(PY_DBG_CODE_ADAPTIVE, code_adaptive), F(PY_DBG_DICT_MA_KEYS, dict_ma_keys),
		F(PY_DBG_DICT_MA_VALUES, dict_ma_values), F(PY_DBG_OBJECT_TYPE, object_type),
		F(PY_DBG_TUPLE_SIZE, tuple_size), F(PY_DBG_TUPLE_ITEMS, tuple_items),
		F(PY_DBG_UNICODE_STATE, unicode_state), F(PY_DBG_UNICODE_LENGTH, unicode_length),
		F(PY_DBG_UNICODE_ASCII_DATA, unicode_ascii_data),
#undef F
	};
	static const struct { enum py_debug_field f; uint64_t size; } sizes[] = {
		{ PY_DBG_RUNTIME_SIZE, O_INTERP }, { PY_DBG_INTERP_SIZE, O_TS1 - O_INTERP },
		{ PY_DBG_TSTATE_SIZE, O_CF1 - O_TS1 }, { PY_DBG_FRAME_SIZE, 0 },
		{ PY_DBG_CODE_SIZE, 0x200 }, { PY_DBG_DICT_SIZE, 48 },
	};

	memcpy(img, "xdebugpy", 8);
	put64(L->debug[PY_DBG_VERSION], 0x03000000u | (uint64_t)L->minor << 16 | 0x01f0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		put64(L->debug[sizes[i].f], sizes[i].size ? sizes[i].size : (uint64_t)L->frame_localsplus + 16);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		put64(L->debug[fields[i].f], (uint64_t)*(const int *)((const char *)L + fields[i].m));
	if (L->debug[PY_DBG_UNICODE_COMPACT_DATA])
		put64(L->debug[PY_DBG_UNICODE_COMPACT_DATA], (uint64_t)L->unicode_compact_data);
}

/* the chain in 2-byte characters; in a cell; below more frames than a stack keeps */
enum { V_UCS2 = 1, V_CELL = 2, V_DEEP = 4 };

static void write_seed(const char *dir, size_t li, uint8_t flags, int variant)
{
	const struct py_layout *L = &py_layouts[li];
	uint8_t h[HEADER] = { (uint8_t)li, flags, 0, 1 };
	int dk[] = { S_ID, S_NAME }, sk[] = { S_VERSION_KEY };
	size_t dv[] = { str_at(S_VCON), str_at(S_CHAIN) }, sv[] = { str_at(S_VERSION) };
	char path[4096], version[32];
	size_t len = variant & V_DEEP ? O_DEEP_END : O_END;
	int shim = L->owner_shim >= 0 ? L->owner_shim : 0;
	FILE *f;

	memset(img, 0, sizeof(img));
	if (flags & F_DEBUG)
		debug_offsets(L);
	ptr(O_RUNTIME + L->runtime_interpreters_head, O_INTERP);
	ptr(O_INTERP + L->interp_threads_head, O_TS1);
	ptr(O_INTERP + L->interp_sysdict, O_SYSDICT);
	/* thread 1: helper -> _handle_vcon -> a shim (3.12+) or helper; thread 2: that last one */
	ptr(O_TS1 + L->tstate_next, O_TS2);
	if (L->tstate_native_id >= 0) {
		put64(O_TS1 + L->tstate_native_id, 4242);
		put64(O_TS2 + L->tstate_native_id, 4243);
	}
	if (L->cframe_current_frame >= 0) {
		ptr(O_TS1 + L->tstate_frame, O_CF1);
		ptr(O_CF1 + L->cframe_current_frame, O_FRAME0);
		ptr(O_TS2 + L->tstate_frame, O_CF2);
		ptr(O_CF2 + L->cframe_current_frame, O_FRAME2);
	} else {
		ptr(O_TS1 + L->tstate_frame, O_FRAME0);
		ptr(O_TS2 + L->tstate_frame, O_FRAME2);
	}
	if (variant & V_DEEP) {
		if (L->frame_localsplus + 16 > DEEP_STRIDE)
			abort();
		if (L->cframe_current_frame >= 0)
			ptr(O_CF1 + L->cframe_current_frame, O_DEEP);
		else
			ptr(O_TS1 + L->tstate_frame, O_DEEP);
		for (size_t k = 0; k < DEEP_FRAMES; k++)
			frame(L, O_DEEP + k * DEEP_STRIDE,
			      k + 1 < DEEP_FRAMES ? O_DEEP + (k + 1) * DEEP_STRIDE : O_FRAME0,
			      O_CODE_HELPER, 0, 1);
	}
	frame(L, O_FRAME0, O_FRAME1, O_CODE_HELPER, 0, 3);
	frame(L, O_FRAME1, O_FRAME2, O_CODE_HANDLE, 0, 12);
	frame(L, O_FRAME2, 0, O_CODE_HELPER, shim, 0);
	ptr(O_FRAME1 + L->frame_localsplus, str_at(S_VCON));
	if (variant & V_CELL) {
		/* an argument a closure captures: a cell holding the dict */
		ptr(O_FRAME1 + L->frame_localsplus + 8, O_CELL);
		ptr(O_CELL + L->object_type, T_CELL);
		ptr(O_CELL + 16, O_DICT);
	} else {
		ptr(O_FRAME1 + L->frame_localsplus + 8, O_DICT);
	}
	ptr(O_FRAME0 + L->frame_localsplus, str_at(S_VCON));
	code(L, O_CODE_HANDLE, S_HANDLE, O_LT_HANDLE);
	code(L, O_CODE_HELPER, S_HELPER, O_LT_HELPER);
	put64(O_VARNAMES + L->tuple_size, 2);
	ptr(O_VARNAMES + L->tuple_items, str_at(S_VCON_ID));
	ptr(O_VARNAMES + L->tuple_items + 8, str_at(S_CHAIN_DETAILS));
	dict(L, O_DICT, O_KEYS, dk, dv, 2);
	dict(L, O_SYSDICT, O_SYSKEYS, sk, sv, 1);
	snprintf(version, sizeof(version), "3.%d.1 (main)", L->minor);
	str(L, S_HANDLE, "_handle_vcon", 0);
	str(L, S_HELPER, "worker_loop", 0);
	str(L, S_VCON_ID, "vcon_id", 0);
	str(L, S_CHAIN_DETAILS, "chain_details", 0);
	str(L, S_NAME, "name", 0);
	str(L, S_FILE, "/app/server/main.py", 0);
	str(L, S_CHAIN, "chain-a", variant & V_UCS2);
	str(L, S_VERSION, version, 0);
	str(L, S_VERSION_KEY, "version", 0);
	str(L, S_VCON, "vcon-1", 0);
	str(L, S_ID, "id", 0);

	snprintf(path, sizeof(path), "%s/3.%d-%02x-%d", dir, L->minor, flags, variant);
	f = fopen(path, "wb");
	if (!f || fwrite(h, 1, sizeof(h), f) != sizeof(h) || fwrite(img, 1, len, f) != len ||
	    fclose(f)) {
		perror(path);
		exit(1);
	}
	/* a seed that does not reach the chain would start the fuzzer shallow */
	printf("%s\n", path);
	memcpy(region, img, len);
	dirty = len;
	calls_found = 0;
	walk_image(h);
	if (calls_found != 1) {
		fprintf(stderr, "%s: %d chains found, not 1\n", path, calls_found);
		exit(1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("PY_WALK_SEEDS");

	(void)argc;
	(void)argv;
	region = mmap((void *)(uintptr_t)REGION, REGION_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (region != (void *)(uintptr_t)REGION) {
		perror("fuzz_py_walk: mmap at the fixed address");
		exit(1);
	}
	/* the walk's warnings (a layout that does not hold...) would flood the output */
	log_set_level(INFLIGHT_LOG_ERROR);
	if (seeds) {
		seeding = 1;
		for (size_t i = 0; i < py_layouts_count; i++) {
			write_seed(seeds, i, F_CHECK | F_FILE, 0);
			write_seed(seeds, i, 0, i % 2 ? V_UCS2 : V_CELL);
			if (py_layouts[i].debug[PY_DBG_END])
				write_seed(seeds, i, F_DEBUG | F_CHECK, 0);
			if (py_layouts[i].minor == 12 || py_layouts[i].minor == 14)
				write_seed(seeds, i, 0, V_DEEP);
		}
		exit(0);
	}
	return 0;
}
