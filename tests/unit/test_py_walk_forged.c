// SPDX-License-Identifier: MIT
/*
 * The walker on layouts a forged or unusual process can give it: for
 * 3.13+ the offsets come from the process's own _Py_DebugOffsets, and
 * py_layout_from_debug checks that they lie inside their structs, not
 * how they are aligned. The "process" is this test's memory, read through
 * process_vm_readv: one thread in _handle_vcon(chain), the chain a str.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "python/py_frame_info.h"
#include "python/py_walk.h"

struct fake {
	uint8_t runtime[1024], interp[8192], ts[256], frame[256], code[512], name[128], chain[128],
		names[64], str_type[8], code_type[8];
} __attribute__((aligned(16)));

static void put(uint8_t *obj, int off, const void *target)
{
	uint64_t v = (uint64_t)(uintptr_t)target;

	memcpy(obj + off, &v, 8);
}

/* A compact ASCII str at `o` in layout L. */
static void str(const struct py_layout *L, struct fake *f, uint8_t *o, const char *s)
{
	uint64_t n = strlen(s);
	uint32_t state = 1u << L->state_compact_bit | 1u << L->state_ascii_bit | 1u << L->state_kind_shift;

	put(o, L->object_type, f->str_type);
	memcpy(o + L->unicode_length, &n, 8);
	memcpy(o + L->unicode_state, &state, 4);
	memcpy(o + L->unicode_ascii_data, s, n);
}

static void fake_fill(const struct py_layout *L, struct fake *f)
{
	int32_t one = 1, zero = 0;

	memset(f, 0, sizeof(*f));
	put(f->runtime, L->runtime_interpreters_head, f->interp);
	put(f->interp, L->interp_threads_head, f->ts);
	put(f->ts, L->tstate_frame, f->frame);
	put(f->frame, L->frame_code, f->code);
	put(f->frame, L->frame_localsplus, f->chain);
	put(f->code, L->object_type, f->code_type);
	put(f->code, L->code_name, f->name);
	memcpy(f->code + L->code_argcount, &one, 4);
	memcpy(f->code + L->code_kwonlyargcount, &zero, 4);
	put(f->code, L->code_varnames, f->names);
	memcpy(f->names + L->tuple_size, &one, 4);
	str(L, f, f->name, "_handle_vcon");
	str(L, f, f->chain, "chain-a");
}

static char seen[INFLIGHT_CHAIN_LEN];
static int calls;

static void found(void *ctx, const char *chain, const struct py_call_key *call)
{
	(void)ctx;
	(void)call;
	calls++;
	snprintf(seen, sizeof(seen), "%s", chain ? chain : "(unreadable)");
}

/*
 * ob_type at an odd offset (debug offsets accept any before a str's
 * data): the str header copied to the stack was read through a
 * misaligned uint64_t pointer, undefined (UBSan stopped the walk).
 */
static void test_odd_ob_type_offset(void **state)
{
	static struct fake f;
	struct py_layout L = *py_layout_for(13);
	struct py_process p = { .pid = getpid(), .runtime = (uint64_t)(uintptr_t)f.runtime,
				 .layout_checked = true };
	struct py_target t = { .func = "_handle_vcon", .arg_index = 0 };
	static struct py_code_cache cache;
	struct py_frame_ref ref;
	struct py_frame_info fi;
	struct py_walk_stats st;
	uint64_t reads;

	(void)state;
	L.object_type = 1;
	p.L = L;
	p.unicode_type = (uint64_t)(uintptr_t)f.str_type;
	p.code_type = (uint64_t)(uintptr_t)f.code_type;
	fake_fill(&L, &f);
	py_code_cache_reset(&cache);
	calls = 0;
	assert_int_equal(py_walk(&p, &t, &cache, found, NULL, &st, &reads), 0);
	assert_int_equal(calls, 1);
	assert_string_equal(seen, "chain-a");
	/* `inflight stuck` names the frame through the same header */
	ref = (struct py_frame_ref){ (uint64_t)(uintptr_t)f.code, PY_INSTR_UNKNOWN };
	assert_int_equal(py_frame_describe(&p, &ref, &fi), 0);
	assert_string_equal(fi.func, "_handle_vcon");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_odd_ob_type_offset),
	};

	return cmocka_run_group_tests_name("python walk, forged layouts", tests, NULL, NULL);
}
