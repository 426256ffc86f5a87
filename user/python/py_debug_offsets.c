// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "python/py_debug_offsets.h"
#include "util/array_size.h"

#define COOKIE "xdebugpy"
/* the walker's buffers: a frame's fixed part, a str's header */
#define MAX_FRAME_HEADER 504
#define MAX_STR_HEADER 128
/* no CPython struct the walk reads is anywhere near this large */
#define MAX_STRUCT_SIZE (1u << 24)

/* Each offset taken from the process, and the struct whose size bounds it. */
static const struct {
	enum py_debug_field field, size;
	size_t member; /* in struct py_layout */
	unsigned width; /* bytes read at that offset */
	const char *name;
} fields[] = {
	{ PY_DBG_RUNTIME_INTERPRETERS_HEAD, PY_DBG_RUNTIME_SIZE,
	  offsetof(struct py_layout, runtime_interpreters_head), 8, "runtime interpreters.head" },
	{ PY_DBG_INTERP_NEXT, PY_DBG_INTERP_SIZE, offsetof(struct py_layout, interp_next), 8,
	  "interpreter next" },
	{ PY_DBG_INTERP_THREADS_HEAD, PY_DBG_INTERP_SIZE,
	  offsetof(struct py_layout, interp_threads_head), 8, "interpreter threads.head" },
	{ PY_DBG_INTERP_SYSDICT, PY_DBG_INTERP_SIZE, offsetof(struct py_layout, interp_sysdict), 8,
	  "interpreter sysdict" },
	{ PY_DBG_TSTATE_NEXT, PY_DBG_TSTATE_SIZE, offsetof(struct py_layout, tstate_next), 8,
	  "thread state next" },
	{ PY_DBG_TSTATE_FRAME, PY_DBG_TSTATE_SIZE, offsetof(struct py_layout, tstate_frame), 8,
	  "thread state current_frame" },
	{ PY_DBG_TSTATE_NATIVE_ID, PY_DBG_TSTATE_SIZE, offsetof(struct py_layout, tstate_native_id),
	  8, "thread state native_thread_id" },
	{ PY_DBG_FRAME_PREVIOUS, PY_DBG_FRAME_SIZE, offsetof(struct py_layout, frame_previous), 8,
	  "frame previous" },
	{ PY_DBG_FRAME_CODE, PY_DBG_FRAME_SIZE, offsetof(struct py_layout, frame_code), 8,
	  "frame f_executable" },
	{ PY_DBG_FRAME_LOCALSPLUS, PY_DBG_FRAME_SIZE, offsetof(struct py_layout, frame_localsplus),
	  8, "frame localsplus" },
	{ PY_DBG_FRAME_OWNER, PY_DBG_FRAME_SIZE, offsetof(struct py_layout, frame_owner), 1,
	  "frame owner" },
	{ PY_DBG_CODE_VARNAMES, PY_DBG_CODE_SIZE, offsetof(struct py_layout, code_varnames), 8,
	  "code co_localsplusnames" },
	{ PY_DBG_CODE_QUALNAME, PY_DBG_CODE_SIZE, offsetof(struct py_layout, code_qualname), 8,
	  "code co_qualname" },
	{ PY_DBG_CODE_NAME, PY_DBG_CODE_SIZE, offsetof(struct py_layout, code_name), 8,
	  "code co_name" },
	{ PY_DBG_CODE_FILENAME, PY_DBG_CODE_SIZE, offsetof(struct py_layout, code_filename), 8,
	  "code co_filename" },
	{ PY_DBG_CODE_ARGCOUNT, PY_DBG_CODE_SIZE, offsetof(struct py_layout, code_argcount), 4,
	  "code co_argcount" },
	{ PY_DBG_FRAME_INSTR_PTR, PY_DBG_FRAME_SIZE, offsetof(struct py_layout, frame_instr), 8,
	  "frame instr_ptr" },
	{ PY_DBG_CODE_LINETABLE, PY_DBG_CODE_SIZE, offsetof(struct py_layout, code_linetable), 8,
	  "code co_linetable" },
	{ PY_DBG_CODE_FIRSTLINENO, PY_DBG_CODE_SIZE, offsetof(struct py_layout, code_firstlineno),
	  4, "code co_firstlineno" },
	/* the bytecode's first code unit, inside the struct (an array at its end) */
	{ PY_DBG_CODE_ADAPTIVE, PY_DBG_CODE_SIZE, offsetof(struct py_layout, code_adaptive), 2,
	  "code co_code_adaptive" },
	{ PY_DBG_DICT_MA_KEYS, PY_DBG_DICT_SIZE, offsetof(struct py_layout, dict_ma_keys), 8,
	  "dict ma_keys" },
	{ PY_DBG_DICT_MA_VALUES, PY_DBG_DICT_SIZE, offsetof(struct py_layout, dict_ma_values), 8,
	  "dict ma_values" },
	/* bounded below by the str header size, checked on its own */
	{ PY_DBG_OBJECT_TYPE, PY_DBG_COUNT, offsetof(struct py_layout, object_type), 8,
	  "object ob_type" },
	{ PY_DBG_TUPLE_SIZE, PY_DBG_COUNT, offsetof(struct py_layout, tuple_size), 8,
	  "tuple ob_size" },
	{ PY_DBG_TUPLE_ITEMS, PY_DBG_COUNT, offsetof(struct py_layout, tuple_items), 8,
	  "tuple ob_item" },
	{ PY_DBG_UNICODE_STATE, PY_DBG_UNICODE_ASCII_DATA, offsetof(struct py_layout, unicode_state),
	  4, "str state" },
	{ PY_DBG_UNICODE_LENGTH, PY_DBG_UNICODE_ASCII_DATA,
	  offsetof(struct py_layout, unicode_length), 8, "str length" },
	{ PY_DBG_UNICODE_ASCII_DATA, PY_DBG_COUNT, offsetof(struct py_layout, unicode_ascii_data), 0,
	  "str ASCII data" },
};

const struct py_layout *py_debug_schema(int minor)
{
	const struct py_layout *newest = NULL;

	for (size_t i = 0; i < py_layouts_count; i++) {
		const struct py_layout *l = &py_layouts[i];

		if (!l->debug[PY_DBG_END])
			continue;
		if (l->minor == minor)
			return l;
		if (!newest || l->minor > newest->minor)
			newest = l;
	}
	return newest && minor > newest->minor ? newest : NULL;
}

static uint64_t word(const uint8_t *raw, size_t at)
{
	uint64_t v;

	memcpy(&v, raw + at, sizeof(v));
	return v;
}

static int *member(struct py_layout *l, size_t off)
{
	return (int *)((char *)l + off);
}

int py_layout_from_debug(int minor, const struct py_layout *schema, const uint8_t *raw,
			 size_t len, struct py_layout *out, char *why, size_t whylen)
{
	uint64_t version, v, size;
	int ascii_to_compact, argcount_to_kwonly;

	if (len < schema->debug[PY_DBG_END]) {
		snprintf(why, whylen, "CPython 3.%d: _PyRuntime too short for its debug offsets", minor);
		return -EINVAL;
	}
	if (memcmp(raw, COOKIE, strlen(COOKIE))) {
		snprintf(why, whylen, "CPython 3.%d: no debug offsets at the start of _PyRuntime (cookie not '%s')",
			 minor, COOKIE);
		return -EINVAL;
	}
	version = word(raw, schema->debug[PY_DBG_VERSION]);
	if ((version >> 24 & 0xff) != 3 || (int)(version >> 16 & 0xff) != minor) {
		snprintf(why, whylen, "CPython 3.%d: its debug offsets say version %#llx", minor,
			 (unsigned long long)version);
		return -EINVAL;
	}
	if (word(raw, schema->debug[PY_DBG_FREE_THREADED])) {
		snprintf(why, whylen,
			 "CPython 3.%d free-threaded build (3.%dt, no GIL): inflight does not read its objects",
			 minor, minor);
		return 1;
	}
	/* what the debug offsets do not hold: the table's, relative where it can be */
	*out = *schema;
	out->minor = minor;
	ascii_to_compact = schema->unicode_compact_data - schema->unicode_ascii_data;
	argcount_to_kwonly = schema->code_kwonlyargcount - schema->code_argcount;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		v = word(raw, schema->debug[fields[i].field]);
		size = fields[i].size == PY_DBG_COUNT ? MAX_STR_HEADER :
						  word(raw, schema->debug[fields[i].size]);
		/* not v + width > size: an offset near 2^64 wraps that sum and passes */
		if (size > MAX_STRUCT_SIZE || v > size || fields[i].width > size - v) {
			snprintf(why, whylen,
				 "CPython 3.%d: its debug offsets put %s at %llu, outside its %llu bytes",
				 minor, fields[i].name, (unsigned long long)v, (unsigned long long)size);
			return -EINVAL;
		}
		/* CPython's fields are aligned to their size: the walker may read them so */
		if (fields[i].width && v % fields[i].width) {
			snprintf(why, whylen, "CPython 3.%d: its debug offsets put %s at %llu, not aligned",
				 minor, fields[i].name, (unsigned long long)v);
			return -EINVAL;
		}
		*member(out, fields[i].member) = (int)v;
	}
	if (schema->debug[PY_DBG_UNICODE_COMPACT_DATA])
		out->unicode_compact_data = (int)word(raw, schema->debug[PY_DBG_UNICODE_COMPACT_DATA]);
	else
		out->unicode_compact_data = out->unicode_ascii_data + ascii_to_compact;
	out->code_kwonlyargcount = out->code_argcount + argcount_to_kwonly;
	if (out->frame_localsplus > MAX_FRAME_HEADER || out->unicode_compact_data > MAX_STR_HEADER ||
	    out->unicode_compact_data < out->unicode_ascii_data ||
	    out->code_kwonlyargcount + 4 > (int)word(raw, schema->debug[PY_DBG_CODE_SIZE])) {
		snprintf(why, whylen, "CPython 3.%d: its frame or str header is larger than inflight reads",
			 minor);
		return -EINVAL;
	}
	/* a str's type is read from the str's header, which ends where its ASCII data starts */
	if (out->object_type + 8 > out->unicode_ascii_data) {
		snprintf(why, whylen,
			 "CPython 3.%d: its debug offsets put ob_type at %d, past a str's header (%d bytes)",
			 minor, out->object_type, out->unicode_ascii_data);
		return -EINVAL;
	}
	/*
	 * The walker reads a frame's fixed part (up to localsplus) into a
	 * buffer and takes these fields from that copy: inside the frame's
	 * size is not enough (a "size" of 16 MB would send it far past it).
	 */
	if (out->frame_previous + 8 > out->frame_localsplus ||
	    out->frame_code + 8 > out->frame_localsplus ||
	    out->frame_owner + 1 > out->frame_localsplus ||
	    out->frame_instr + 8 > out->frame_localsplus) {
		snprintf(why, whylen,
			 "CPython 3.%d: its debug offsets put a frame field (previous, code, owner or instruction) past the frame's localsplus (%d)",
			 minor, out->frame_localsplus);
		return -EINVAL;
	}
	return 0;
}
