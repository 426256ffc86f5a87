/* SPDX-License-Identifier: MIT */
/*
 * Where CPython keeps what the frame walker reads, per minor version:
 * runtime -> interpreters -> thread states -> frames -> code objects and
 * arguments -> dicts -> strs. Offsets in bytes; -1 where a version has no
 * such field. The table (py_layouts.c) is generated from each version's own
 * headers by tools/pyoffsets.
 */
#ifndef INFLIGHT_PY_LAYOUT_H
#define INFLIGHT_PY_LAYOUT_H

#include <stddef.h>

struct py_layout {
	int minor; /* 3.minor */
	int runtime_interpreters_head;
	int interp_next, interp_threads_head;
	int tstate_next, tstate_native_id;
	int tstate_frame;          /* frame (3.10), cframe (3.11, 3.12), current_frame (3.13) */
	int cframe_current_frame;  /* 3.11, 3.12: _PyCFrame.current_frame */
	int frame_previous, frame_code, frame_localsplus;
	int frame_owner, owner_cstack; /* 3.12+: shim frames owned by the C stack */
	int frame_state, state_executing, state_unwinding; /* 3.10: f_state of a live frame */
	int code_varnames;         /* co_varnames (3.10), co_localsplusnames */
	int code_qualname, code_name, code_filename, code_argcount;
	int tuple_size, tuple_items;
	int object_type;
	int unicode_length, unicode_state, unicode_ascii_data, unicode_compact_data;
	int state_kind_shift, state_compact_bit, state_ascii_bit;
	int dict_ma_keys, dict_ma_values;
	int keys_log2_size, keys_log2_index_bytes, keys_kind; /* 3.11+ */
	int keys_size;                                        /* 3.10 */
	int keys_general_kind, unicode_entry_size;
	int keys_nentries, keys_indices, general_entry_size;
};

extern const struct py_layout py_layouts[];
extern const size_t py_layouts_count;

/* The layout of 3.minor, or NULL if that version is not supported. */
const struct py_layout *py_layout_for(int minor);

#endif
