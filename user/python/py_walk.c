// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/errmsg.h"
#include "util/log.h"
#include "python/py_str.h"
#include "python/py_walk.h"

/* Bounds that stop a walk through memory that changed under it. */
#define MAX_INTERPRETERS 64
#define MAX_THREADS 4096
#define MAX_DEPTH 2048
#define MAX_DICT_ENTRIES 256
#define MAX_ARGS 255

int py_chain_spec_parse(const char *spec, struct py_target *t, char *err, size_t errlen)
{
	const char *p = spec;
	size_t n = 0;

	t->arg_name[0] = t->key[0] = '\0';
	t->arg_index = -1;
	if (isdigit((unsigned char)*p)) {
		char *end;
		long v = strtol(p, &end, 10);

		if (v > MAX_ARGS)
			return errmsg(err, errlen, "--py-chain '%s': argument index %ld is too large",
				      spec, v);
		t->arg_index = (int)v;
		p = end;
	} else {
		while (isalnum((unsigned char)p[n]) || p[n] == '_')
			n++;
		if (!n || isdigit((unsigned char)*p) || n >= sizeof(t->arg_name))
			return errmsg(err, errlen,
				      "--py-chain '%s': expected an argument name or index at column 1",
				      spec);
		memcpy(t->arg_name, p, n);
		t->arg_name[n] = '\0';
		p += n;
	}
	if (*p == '[') {
		char q = p[1];
		const char *end;

		if (q != '"' && q != '\'')
			return errmsg(err, errlen,
				      "--py-chain '%s': expected a quoted key after '[' at column %d", spec,
				      (int)(p - spec) + 2);
		end = strchr(p + 2, q);
		if (!end || end[1] != ']' || end == p + 2 || (size_t)(end - p - 2) >= sizeof(t->key))
			return errmsg(err, errlen, "--py-chain '%s': expected %c]%s at column %d", spec, q,
				      end == p + 2 ? " after a non-empty key" : "", (int)(p - spec) + 3);
		memcpy(t->key, p + 2, (size_t)(end - p - 2));
		t->key[end - p - 2] = '\0';
		p = end + 2;
	}
	if (*p)
		return errmsg(err, errlen, "--py-chain '%s': unexpected '%c' at column %d", spec, *p,
			      (int)(p - spec) + 1);
	return 0;
}

void py_code_cache_reset(struct py_code_cache *c)
{
	memset(c->code, 0, sizeof(c->code));
	for (size_t i = 0; i < PY_CODE_CACHE; i++)
		c->slot[i] = PY_SLOT_UNKNOWN;
}

/*
 * Frames of one thread sit next to each other (3.11+: in the thread's data
 * stack, each caller just below its callee), so one read of the pages below
 * a frame serves the frames of many calls: one process_vm_readv for a few
 * dozen frames instead of one each.
 */
#define FRAME_WINDOW 16384
#define PAGE 4096ull
/*
 * Frames the window serves cost no read but are work all the same: a
 * forged process whose threads share one list of frames 16 bytes apart
 * got 2048 frames a thread for a few reads, about 20 million a reading.
 * This many of them spend one read of the budget.
 */
#define WINDOW_FRAMES_PER_READ 16

struct frame_window {
	uint64_t base;
	size_t len;      /* 0: empty */
	bool big_failed; /* this thread's memory below is not all mapped */
	uint8_t buf[FRAME_WINDOW];
};

struct walker {
	struct py_process *p;
	const struct py_layout *L;
	struct proc_mem mem;
	struct py_target *t;
	struct frame_window win;
	uint64_t window_frames; /* served from the window, this walk */
	/* py_walk_calls: each call with the frames above it */
	py_call_fn call_fn;
	uint64_t tid;
	size_t depth;
	bool truncated;
	struct py_frame_ref stack[PY_STACK_MAX];
};

static int64_t read_i64(struct walker *w, uint64_t addr)
{
	return (int64_t)proc_read_ptr(&w->mem, addr);
}

/*
 * The object a frame slot refers to. 3.14+ keep _PyStackRefs there: the
 * low two bits are tags (1: a borrowed or immortal reference, and NULL is
 * 1; 3: a small int, no object). Older slots hold plain, aligned pointers,
 * which the mask leaves alone.
 */
static uint64_t slot_object(uint64_t ref)
{
	return (ref & 3) == 3 ? 0 : ref & ~3ull;
}

/* A str as UTF-8, whole characters that fit `outsz` (python/py_str). */
static int read_str(struct walker *w, uint64_t obj, char *out, size_t outsz)
{
	return py_str_read(w->p, &w->mem, obj, out, outsz);
}

/* Does the str at `obj` equal `s`? */
static bool str_equals(struct walker *w, uint64_t obj, const char *s)
{
	char buf[INFLIGHT_CHAIN_LEN];

	return !read_str(w, obj, buf, sizeof(buf)) && !strcmp(buf, s);
}

/* Reads the str and checks that `s` ends it (co_filename suffix). */
static bool str_ends_with(struct walker *w, uint64_t obj, const char *s)
{
	const struct py_layout *L = w->L;
	uint8_t hdr[128];
	int64_t len;
	uint32_t state;
	size_t n = strlen(s);
	char tail[256];

	if (!n)
		return true;
	if (n >= sizeof(tail) || proc_read(&w->mem, obj, hdr, (size_t)L->unicode_ascii_data))
		return false;
	memcpy(&len, hdr + L->unicode_length, sizeof(len));
	memcpy(&state, hdr + L->unicode_state, sizeof(state));
	/* file names are ASCII in practice; a non-ASCII one does not match */
	if (!((state >> L->state_ascii_bit) & 1) || !((state >> L->state_compact_bit) & 1) ||
	    len < (int64_t)n)
		return false;
	if (proc_read(&w->mem, obj + (uint64_t)L->unicode_ascii_data + (uint64_t)len - n, tail, n))
		return false;
	return !memcmp(tail, s, n);
}

/* dict[key] for a dict with str keys; 0 if absent or unreadable. */
static uint64_t dict_get(struct walker *w, uint64_t dict, const char *key)
{
	const struct py_layout *L = w->L;
	uint64_t keys, base, key_off;
	uint8_t hdr[64], entries[MAX_DICT_ENTRIES * 24];
	int64_t nentries, esz;

	if (proc_read_ptr(&w->mem, dict + (uint64_t)L->object_type) != w->p->dict_type)
		return 0;
	keys = proc_read_ptr(&w->mem, dict + (uint64_t)L->dict_ma_keys);
	/* a split table keeps its values elsewhere: not read */
	if (!keys || proc_read_ptr(&w->mem, dict + (uint64_t)L->dict_ma_values))
		return 0;
	if (proc_read(&w->mem, keys, hdr, sizeof(hdr)))
		return 0;
	memcpy(&nentries, hdr + L->keys_nentries, sizeof(nentries));
	if (L->keys_size >= 0) {
		/* 3.10: the index width follows the table size */
		int64_t size;
		uint64_t ix;

		memcpy(&size, hdr + L->keys_size, sizeof(size));
		if (size <= 0 || size > (1 << 30))
			return 0;
		ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
		base = keys + (uint64_t)L->keys_indices + (uint64_t)size * ix;
		esz = L->general_entry_size;
		key_off = 8;
	} else {
		uint8_t log2_index_bytes = hdr[L->keys_log2_index_bytes];
		bool general = hdr[L->keys_kind] == L->keys_general_kind;

		if (log2_index_bytes > 40)
			return 0;
		base = keys + (uint64_t)L->keys_indices + (1ull << log2_index_bytes);
		esz = general ? L->general_entry_size : L->unicode_entry_size;
		key_off = general ? 8 : 0;
	}
	if (nentries <= 0 || nentries > MAX_DICT_ENTRIES)
		return 0;
	if (proc_read(&w->mem, base, entries, (size_t)(nentries * esz)))
		return 0;
	for (int64_t i = 0; i < nentries; i++) {
		uint64_t k, v;

		memcpy(&k, entries + i * esz + key_off, 8);
		memcpy(&v, entries + i * esz + key_off + 8, 8);
		if (k && v && str_equals(w, k, key))
			return v;
	}
	return 0;
}

/* The first `n` names of a code object's locals, comma-separated, for messages. */
static void arg_names(struct walker *w, uint64_t names, int64_t n, char *out, size_t outsz)
{
	size_t o = 0;

	out[0] = '\0';
	for (int64_t i = 0; i < n && i < MAX_ARGS; i++) {
		char name[INFLIGHT_CHAIN_LEN];
		uint64_t obj = proc_read_ptr(&w->mem, names + (uint64_t)w->L->tuple_items + 8 * (uint64_t)i);
		int len;

		if (read_str(w, obj, name, sizeof(name)))
			snprintf(name, sizeof(name), "?");
		len = snprintf(out + o, outsz - o, "%s%s", i ? ", " : "", name);
		if (len < 0 || (size_t)len >= outsz - o)
			break;
		o += (size_t)len;
	}
}

/* Once per target: the function is there, the argument --py-chain names is not. */
static void warn_no_arg(struct walker *w, uint64_t names, int32_t nargs)
{
	struct py_target *t = w->t;
	char list[512];

	if (t->warned_no_arg)
		return;
	t->warned_no_arg = true;
	arg_names(w, names, nargs, list, sizeof(list));
	if (t->arg_name[0])
		log_warn("python: %s has no argument '%s' (--py-chain); its arguments: %s; its calls count under (unreadable)",
			 t->func, t->arg_name, nargs ? list : "none");
	else
		log_warn("python: %s has %d argument%s (%s), --py-chain asks for index %d; its calls count under (unreadable)",
			 t->func, (int)nargs, nargs == 1 ? "" : "s", nargs ? list : "none", t->arg_index);
}

/*
 * The argument's slot in localsplus for this code object, PY_SLOT_OTHER if
 * it is not the function, PY_SLOT_NO_ARG if it is but has no such argument.
 */
static int match_code(struct walker *w, uint64_t code)
{
	const struct py_layout *L = w->L;
	const struct py_target *t = w->t;
	uint64_t names;
	int32_t argcount, kwonly = 0;
	int64_t n;

	/* 3.13+ frames may run something else than a code object */
	if (w->p->code_type && proc_read_ptr(&w->mem, code + (uint64_t)L->object_type) != w->p->code_type)
		return PY_SLOT_OTHER;
	if (!str_equals(w, proc_read_ptr(&w->mem, code + (uint64_t)L->code_name), t->func))
		return PY_SLOT_OTHER;
	if (t->file_suffix[0] &&
	    !str_ends_with(w, proc_read_ptr(&w->mem, code + (uint64_t)L->code_filename), t->file_suffix))
		return PY_SLOT_OTHER;
	if (proc_read(&w->mem, code + (uint64_t)L->code_argcount, &argcount, sizeof(argcount)) ||
	    proc_read(&w->mem, code + (uint64_t)L->code_kwonlyargcount, &kwonly, sizeof(kwonly)) ||
	    argcount < 0 || kwonly < 0 || argcount > MAX_ARGS || kwonly > MAX_ARGS)
		return PY_SLOT_OTHER;
	/* the positional arguments, then the keyword-only ones, lead the local names */
	names = proc_read_ptr(&w->mem, code + (uint64_t)L->code_varnames);
	n = read_i64(w, names + (uint64_t)L->tuple_size);
	if (n < argcount + kwonly)
		return PY_SLOT_OTHER; /* not a code object's names: read while it changed */
	if (!t->arg_name[0]) {
		if (t->arg_index < argcount + kwonly)
			return t->arg_index;
	} else {
		for (int32_t i = 0; i < argcount + kwonly; i++) {
			uint64_t name = proc_read_ptr(&w->mem, names + (uint64_t)L->tuple_items + 8 * (uint64_t)i);

			if (str_equals(w, name, t->arg_name))
				return (int)i;
		}
	}
	warn_no_arg(w, names, argcount + kwonly);
	return PY_SLOT_NO_ARG;
}

static int code_slot(struct walker *w, struct py_code_cache *c, uint64_t code)
{
	size_t h = (size_t)((code >> 4) * 0x9e3779b97f4a7c15ull >> 55) % PY_CODE_CACHE;

	if (c->code[h] != code || c->slot[h] == PY_SLOT_UNKNOWN) {
		c->code[h] = code;
		c->slot[h] = (int16_t)match_code(w, code);
	}
	return c->slot[h];
}

/* The chain of the call in this frame; `ok` false if unreadable. */
static void frame_chain(struct walker *w, uint64_t frame, int slot, char *out, size_t outsz,
			bool *ok, uint64_t *arg)
{
	const struct py_layout *L = w->L;
	uint64_t obj = slot_object(
		proc_read_ptr(&w->mem, frame + (uint64_t)L->frame_localsplus + 8 * (uint64_t)slot));

	*arg = obj;
	*ok = false;
	if (!obj)
		return;
	/* an argument a closure captures lives in a cell */
	if (w->p->cell_type && proc_read_ptr(&w->mem, obj + (uint64_t)L->object_type) == w->p->cell_type)
		obj = proc_read_ptr(&w->mem, obj + 16);
	if (obj && w->t->key[0])
		obj = dict_get(w, obj, w->t->key);
	*ok = obj && !read_str(w, obj, out, outsz);
}

/*
 * The fixed part of the frame at `frame`, from the window when it holds it,
 * else from a fresh window: the pages from the frame's end down to
 * FRAME_WINDOW bytes, or only the frame's own pages if that much is not
 * mapped. What the window says of a frame that counts is read again
 * directly (walk_thread), as before.
 */
static int read_frame(struct walker *w, uint64_t frame, uint8_t *hdr, size_t hlen)
{
	struct frame_window *fw = &w->win;
	uint64_t top, own;

	/* torn memory can name any address: one whose end wraps is no frame */
	if (frame > UINT64_MAX - hlen - PAGE)
		return -EFAULT;
	top = (frame + hlen + PAGE - 1) & ~(PAGE - 1);
	own = top - (frame & ~(PAGE - 1));
	if (fw->len && hlen <= fw->len && frame >= fw->base && frame - fw->base <= fw->len - hlen) {
		if (++w->window_frames % WINDOW_FRAMES_PER_READ == 0 && proc_budget_spend())
			return -EAGAIN;
		goto hit;
	}
	fw->len = 0;
	if (!fw->big_failed && top >= FRAME_WINDOW && own <= FRAME_WINDOW) {
		if (!proc_read(&w->mem, top - FRAME_WINDOW, fw->buf, FRAME_WINDOW)) {
			fw->base = top - FRAME_WINDOW;
			fw->len = FRAME_WINDOW;
			goto hit;
		}
		fw->big_failed = true;
	}
	if (own <= FRAME_WINDOW && !proc_read(&w->mem, top - own, fw->buf, (size_t)own)) {
		fw->base = top - own;
		fw->len = (size_t)own;
		goto hit;
	}
	return proc_read(&w->mem, frame, hdr, hlen);
hit:
	memcpy(hdr, fw->buf + (frame - fw->base), hlen);
	return 0;
}

/* The innermost frame of a thread. */
static uint64_t thread_frame(struct walker *w, uint64_t ts)
{
	const struct py_layout *L = w->L;
	uint64_t f = proc_read_ptr(&w->mem, ts + (uint64_t)L->tstate_frame);

	if (f && L->cframe_current_frame >= 0)
		f = proc_read_ptr(&w->mem, f + (uint64_t)L->cframe_current_frame);
	return f;
}

/* Arguments a call's fingerprint reads: conserver's handler has four. */
#define FINGERPRINT_ARGS 8

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/*
 * What tells this call from the one before it in the same frame slot: its
 * first arguments' values, a str by its text (the last call's str is freed
 * and its memory soon holds the next one's), other objects by address.
 * Read after the call was checked: a frame popped meanwhile gives another
 * fingerprint, so its call counts as new (an age too young, never too old).
 */
static uint64_t call_fingerprint(struct walker *w, uint64_t frame, uint64_t code)
{
	const struct py_layout *L = w->L;
	uint64_t h = 0xcbf29ce484222325ull, slots[FINGERPRINT_ARGS];
	int32_t argcount = 0, kwonly = 0;
	size_t n;

	if (proc_read(&w->mem, code + (uint64_t)L->code_argcount, &argcount, sizeof(argcount)) ||
	    proc_read(&w->mem, code + (uint64_t)L->code_kwonlyargcount, &kwonly, sizeof(kwonly)) ||
	    argcount < 0 || kwonly < 0)
		return 0;
	n = (size_t)argcount + (size_t)kwonly;
	n = n < FINGERPRINT_ARGS ? n : FINGERPRINT_ARGS;
	if (!n || proc_read(&w->mem, frame + (uint64_t)L->frame_localsplus, slots, n * 8))
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t obj = slot_object(slots[i]);
		char text[INFLIGHT_CHAIN_LEN];

		if (obj && w->p->cell_type &&
		    proc_read_ptr(&w->mem, obj + (uint64_t)L->object_type) == w->p->cell_type)
			obj = proc_read_ptr(&w->mem, obj + 16);
		if (obj && !read_str(w, obj, text, sizeof(text)))
			h = fnv1a(h, text, strlen(text) + 1);
		else
			h = fnv1a(h, &obj, sizeof(obj));
	}
	return h;
}

/* Where the frame whose fixed part is `hdr` is in its code (struct py_frame_ref.instr). */
static uint64_t frame_instr(const struct walker *w, const uint8_t *hdr)
{
	const struct py_layout *L = w->L;
	uint64_t instr = PY_INSTR_UNKNOWN;

	if (L->frame_instr >= 0 && L->frame_instr + 8 <= L->frame_localsplus) {
		memcpy(&instr, hdr + L->frame_instr, sizeof(instr));
	} else if (L->frame_lasti >= 0 && L->frame_lasti + 4 <= L->frame_localsplus) {
		int32_t lasti;

		memcpy(&lasti, hdr + L->frame_lasti, sizeof(lasti));
		/* before its first instruction: the function's first line */
		instr = lasti < 0 ? 0 : (uint64_t)lasti;
	}
	return instr;
}

/* py_walk_calls: the frame just read joins its thread's stack (the innermost PY_STACK_MAX). */
static void push_frame(struct walker *w, const uint8_t *hdr, uint64_t code)
{
	if (w->depth == PY_STACK_MAX) {
		w->truncated = true;
		return;
	}
	w->stack[w->depth++] = (struct py_frame_ref){ code, frame_instr(w, hdr) };
}

/* A call found: its thread's frames so far are its stack, down to its own. */
static void report_call(struct walker *w, void *ctx, const uint8_t *hdr, uint64_t frame,
			uint64_t code, uint64_t arg, const char *chain)
{
	struct py_call c = {
		.tid = w->tid, .frame = frame, .code = code, .arg = arg,
		.args = call_fingerprint(w, frame, code), .chain = chain,
		.stack = w->stack, .depth = w->depth, .truncated = w->truncated,
	};
	struct py_frame_ref saved = w->stack[PY_STACK_MAX - 1];

	/* past the limit its own frame stands in for the last one kept, for this report */
	if (w->truncated)
		w->stack[PY_STACK_MAX - 1] = (struct py_frame_ref){ code, frame_instr(w, hdr) };
	w->call_fn(ctx, &c);
	if (w->truncated)
		w->stack[PY_STACK_MAX - 1] = saved;
}

static void walk_thread(struct walker *w, uint64_t ts, struct py_code_cache *cache,
			py_found_fn found, void *ctx, struct py_walk_stats *st)
{
	const struct py_layout *L = w->L;
	uint64_t frame = thread_frame(w, ts);
	struct list_guard guard = { 0 };

	w->win.len = 0;
	w->win.big_failed = false;
	w->depth = 0;
	w->truncated = false;
	w->tid = 0;
	if (w->call_fn && L->tstate_native_id >= 0)
		w->tid = proc_read_ptr(&w->mem, ts + (uint64_t)L->tstate_native_id);
	for (int depth = 0; frame && depth < MAX_DEPTH; depth++) {
		uint8_t hdr[512];
		uint64_t code, prev, arg = 0, code_again, arg_again = 0;
		char chain[INFLIGHT_CHAIN_LEN];
		size_t hlen = (size_t)L->frame_localsplus;
		bool ok = false;
		int slot;

		/* a forged or torn list that loops: the reading is given up */
		if (list_guard_loops(&guard, frame)) {
			proc_budget_cycle();
			return;
		}
		if (hlen > sizeof(hdr) || read_frame(w, frame, hdr, hlen))
			return;
		st->frames++;
		memcpy(&code, hdr + L->frame_code, 8);
		memcpy(&prev, hdr + L->frame_previous, 8);
		code = slot_object(code);
		/* frames the C stack (3.12, 3.13) or the interpreter (3.14+) own hold no Python call */
		if (L->frame_owner >= 0 && L->owner_shim >= 0 && hdr[L->frame_owner] >= L->owner_shim)
			goto next;
		/* 3.10 keeps popped frame objects for reuse: a stale link can reach one */
		if (L->frame_state >= 0 && (int8_t)hdr[L->frame_state] != L->state_executing &&
		    (int8_t)hdr[L->frame_state] != L->state_unwinding)
			goto next;
		if (code && w->call_fn)
			push_frame(w, hdr, code);
		if (!code || (slot = code_slot(w, cache, code)) == PY_SLOT_OTHER)
			goto next;
		if (slot != PY_SLOT_NO_ARG)
			frame_chain(w, frame, slot, chain, sizeof(chain), &ok, &arg);
		/* still the same call? a frame popped meanwhile is not reported */
		code_again = slot_object(proc_read_ptr(&w->mem, frame + (uint64_t)L->frame_code));
		if (slot != PY_SLOT_NO_ARG)
			arg_again = slot_object(proc_read_ptr(
				&w->mem, frame + (uint64_t)L->frame_localsplus + 8 * (uint64_t)slot));
		/* arguments are bound before the body runs: NULL is a frame being torn down */
		if (code_again != code || arg_again != arg || (slot != PY_SLOT_NO_ARG && !arg)) {
			st->skipped++;
			goto next;
		}
		st->matches++;
		if (w->call_fn)
			report_call(w, ctx, hdr, frame, code, arg, ok ? chain : NULL);
		else
			found(ctx, ok ? chain : NULL,
			      &(struct py_call_key){ .frame = frame, .code = code, .arg = arg,
						     .args = call_fingerprint(w, frame, code) });
next:
		frame = prev;
	}
}

/*
 * Once per process: sys.version read back through the layout (interpreter,
 * dict, str) must name the version the process said it is. 1 if it holds,
 * 0 if sys is not set up yet, -EINVAL if the layout is wrong.
 */
static int check_layout(struct walker *w, uint64_t interp, char *got, size_t gotsz)
{
	uint64_t sysdict = proc_read_ptr(&w->mem, interp + (uint64_t)w->L->interp_sysdict);
	uint64_t version;
	char want[16];
	size_t n;

	got[0] = '\0';
	if (!sysdict)
		return 0;
	version = dict_get(w, sysdict, "version");
	if (!version)
		return proc_read_ptr(&w->mem, sysdict + (uint64_t)w->L->object_type) == w->p->dict_type ? 0 : -EINVAL;
	if (read_str(w, version, got, gotsz))
		return -EINVAL;
	n = (size_t)snprintf(want, sizeof(want), "3.%d", w->L->minor);
	return !strncmp(got, want, n) && !isdigit((unsigned char)got[n]) ? 1 : -EINVAL;
}

static int walk(struct py_process *p, struct py_target *t, struct py_code_cache *cache,
		py_found_fn found, py_call_fn call_fn, void *ctx, struct py_walk_stats *stats,
		uint64_t *reads)
{
	struct walker w = { .p = p, .L = &p->L, .mem = { .pid = p->pid }, .t = t,
			    .call_fn = call_fn };
	const struct py_layout *L = &p->L;
	uint64_t interp;
	int n_interp = 0;

	memset(stats, 0, sizeof(*stats));
	if (p->layout_bad) {
		*reads = 0;
		return -EINVAL;
	}
	interp = proc_read_ptr(&w.mem, p->runtime + (uint64_t)L->runtime_interpreters_head);
	if (!interp) {
		*reads = w.mem.reads;
		return -EFAULT;
	}
	if (!p->layout_checked) {
		char got[INFLIGHT_CHAIN_LEN];
		int rc = check_layout(&w, interp, got, sizeof(got));

		if (rc < 0) {
			p->layout_bad = true;
			log_warn("python: pid %d: %s (CPython %s): its layout does not hold (sys.version read as '%s'): not read",
				 (int)p->pid, p->image, p->version, got);
			*reads = w.mem.reads;
			return rc;
		}
		/* not set up yet: no call of the function can be running either */
		if (rc == 0) {
			*reads = w.mem.reads;
			return 0;
		}
		p->layout_checked = true;
	}
	for (struct list_guard ig = { 0 }; interp && n_interp < MAX_INTERPRETERS; n_interp++) {
		uint64_t ts = proc_read_ptr(&w.mem, interp + (uint64_t)L->interp_threads_head);
		struct list_guard tg = { 0 };

		if (list_guard_loops(&ig, interp)) {
			proc_budget_cycle();
			break;
		}
		for (int n = 0; ts && n < MAX_THREADS; n++) {
			if (list_guard_loops(&tg, ts)) {
				proc_budget_cycle();
				break;
			}
			stats->threads++;
			walk_thread(&w, ts, cache, found, ctx, stats);
			ts = proc_read_ptr(&w.mem, ts + (uint64_t)L->tstate_next);
		}
		interp = proc_read_ptr(&w.mem, interp + (uint64_t)L->interp_next);
	}
	*reads = w.mem.reads;
	return 0;
}

int py_walk(struct py_process *p, struct py_target *t, struct py_code_cache *cache,
	    py_found_fn found, void *ctx, struct py_walk_stats *stats, uint64_t *reads)
{
	return walk(p, t, cache, found, NULL, ctx, stats, reads);
}

int py_walk_calls(struct py_process *p, struct py_target *t, struct py_code_cache *cache,
		  py_call_fn fn, void *ctx, struct py_walk_stats *stats, uint64_t *reads)
{
	return walk(p, t, cache, NULL, fn, ctx, stats, reads);
}
