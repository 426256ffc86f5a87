/* SPDX-License-Identifier: MIT */
/*
 * Where CPython keeps what the frame walker reads: runtime -> interpreters
 * -> thread states -> frames -> code objects and arguments -> dicts -> strs.
 * Offsets in bytes; -1 where a version has no such field.
 *
 * The table (py_layouts.c) is generated from each minor version's own
 * headers by tools/pyoffsets. Since 3.13 a CPython also describes itself:
 * _Py_DebugOffsets at the start of _PyRuntime holds the offsets of most
 * fields the walk needs, so for 3.13+ those are taken from the process
 * (py_debug_offsets.c) and the table only supplies what they do not
 * describe, and where each field sits inside _Py_DebugOffsets (`debug`).
 */
#ifndef INFLIGHT_PY_LAYOUT_H
#define INFLIGHT_PY_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* The fields of _Py_DebugOffsets the walk takes from the process. */
enum py_debug_field {
	PY_DBG_VERSION,
	PY_DBG_FREE_THREADED,
	PY_DBG_RUNTIME_SIZE,
	PY_DBG_RUNTIME_INTERPRETERS_HEAD,
	PY_DBG_INTERP_SIZE,
	PY_DBG_INTERP_NEXT,
	PY_DBG_INTERP_THREADS_HEAD,
	PY_DBG_INTERP_SYSDICT,
	PY_DBG_TSTATE_SIZE,
	PY_DBG_TSTATE_NEXT,
	PY_DBG_TSTATE_FRAME,
	PY_DBG_TSTATE_NATIVE_ID,
	PY_DBG_FRAME_SIZE,
	PY_DBG_FRAME_PREVIOUS,
	PY_DBG_FRAME_CODE,
	PY_DBG_FRAME_LOCALSPLUS,
	PY_DBG_FRAME_OWNER,
	PY_DBG_CODE_SIZE,
	PY_DBG_CODE_VARNAMES,
	PY_DBG_CODE_QUALNAME,
	PY_DBG_CODE_NAME,
	PY_DBG_CODE_FILENAME,
	PY_DBG_CODE_ARGCOUNT,
	PY_DBG_OBJECT_TYPE,
	PY_DBG_TUPLE_SIZE,
	PY_DBG_TUPLE_ITEMS,
	PY_DBG_DICT_SIZE,
	PY_DBG_DICT_MA_KEYS,
	PY_DBG_DICT_MA_VALUES,
	PY_DBG_UNICODE_STATE,
	PY_DBG_UNICODE_LENGTH,
	PY_DBG_UNICODE_ASCII_DATA,
	PY_DBG_UNICODE_COMPACT_DATA, /* 3.15+; before, the table's */
	PY_DBG_END,                  /* sizeof(_Py_DebugOffsets): 0 before 3.13 */
	/* where a frame is in its code (`inflight stuck`) */
	PY_DBG_FRAME_INSTR_PTR,
	PY_DBG_CODE_LINETABLE,
	PY_DBG_CODE_FIRSTLINENO,
	PY_DBG_CODE_ADAPTIVE,
	PY_DBG_COUNT
};

struct py_layout {
	int minor; /* 3.minor */
	int runtime_interpreters_head;
	int interp_next, interp_threads_head, interp_sysdict;
	int tstate_next, tstate_native_id;
	int tstate_frame;          /* frame (3.10), cframe (3.11, 3.12), current_frame (3.13+) */
	int cframe_current_frame;  /* 3.11, 3.12: _PyCFrame.current_frame */
	int frame_previous, frame_code, frame_localsplus;
	int frame_owner, owner_shim; /* 3.12+: owners from owner_shim up hold no Python call */
	int frame_state, state_executing, state_unwinding; /* 3.10: f_state of a live frame */
	int code_varnames;         /* co_varnames (3.10), co_localsplusnames */
	int code_qualname, code_name, code_filename, code_argcount, code_kwonlyargcount;
	int tuple_size, tuple_items;
	int object_type;
	int unicode_length, unicode_state, unicode_ascii_data, unicode_compact_data;
	int state_kind_shift, state_compact_bit, state_ascii_bit;
	int dict_ma_keys, dict_ma_values;
	int keys_log2_size, keys_log2_index_bytes, keys_kind; /* 3.11+ */
	int keys_size;                                        /* 3.10 */
	int keys_general_kind, unicode_entry_size;
	int keys_nentries, keys_indices, general_entry_size;
	/* 3.13+: where _Py_DebugOffsets keeps each field (0: not there) */
	uint16_t debug[PY_DBG_COUNT];
	/*
	 * Where a frame is in its code: the instruction pointer (3.11, 3.12:
	 * prev_instr, the instruction running; 3.13+ instr_ptr) into the
	 * code's bytecode at code_adaptive; 3.10: f_lasti, an index. -1: none.
	 */
	int frame_instr, frame_lasti, code_adaptive;
	int code_linetable, code_firstlineno; /* co_linetable (bytes), co_firstlineno (int) */
};

extern const struct py_layout py_layouts[];
extern const size_t py_layouts_count;

/* The table's layout of 3.minor, or NULL if there is none. */
const struct py_layout *py_layout_for(int minor);

#endif
