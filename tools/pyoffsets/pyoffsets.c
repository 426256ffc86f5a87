// SPDX-License-Identifier: MIT
/*
 * Prints the CPython struct offsets inflight's frame walker needs, measured
 * from the interpreter's own (internal) headers. Run by gen.sh once per
 * CPython minor version; its output is user/python/py_layouts.c's data.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_pystate.h"
#include "internal/pycore_code.h"
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_frame.h"
#include "internal/pycore_dict.h"
#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_interpframe_structs.h"
#endif
#else
#include "frameobject.h"
#endif

/* The bit position of a PyASCIIObject state bitfield, found by setting it. */
#define STATE_BIT(field, value)                                        \
	({                                                             \
		PyASCIIObject o;                                       \
		unsigned int raw;                                      \
		memset(&o, 0, sizeof(o));                              \
		o.state.field = value;                                 \
		memcpy(&raw, &o.state, sizeof(raw));                   \
		__builtin_ctz(raw);                                    \
	})

int main(void)
{
	printf("\t{\n\t\t.minor = %d,\n", PY_MINOR_VERSION);
	printf("\t\t.runtime_interpreters_head = %zu,\n", offsetof(_PyRuntimeState, interpreters.head));
	printf("\t\t.interp_next = %zu,\n", offsetof(PyInterpreterState, next));
	printf("\t\t.interp_sysdict = %zu,\n", offsetof(PyInterpreterState, sysdict));
#if PY_VERSION_HEX >= 0x030B0000
	printf("\t\t.interp_threads_head = %zu,\n", offsetof(PyInterpreterState, threads.head));
	printf("\t\t.tstate_native_id = %zu,\n", offsetof(PyThreadState, native_thread_id));
#else
	printf("\t\t.interp_threads_head = %zu,\n", offsetof(PyInterpreterState, tstate_head));
	printf("\t\t.tstate_native_id = -1,\n");
#endif
	printf("\t\t.tstate_next = %zu,\n", offsetof(PyThreadState, next));
#if PY_VERSION_HEX >= 0x030D0000
	printf("\t\t.tstate_frame = %zu,\n", offsetof(PyThreadState, current_frame));
	printf("\t\t.cframe_current_frame = -1,\n");
#elif PY_VERSION_HEX >= 0x030B0000
	printf("\t\t.tstate_frame = %zu,\n", offsetof(PyThreadState, cframe));
	printf("\t\t.cframe_current_frame = %zu,\n", offsetof(_PyCFrame, current_frame));
#else
	printf("\t\t.tstate_frame = %zu,\n", offsetof(PyThreadState, frame));
	printf("\t\t.cframe_current_frame = -1,\n");
#endif
#if PY_VERSION_HEX >= 0x030B0000
	printf("\t\t.frame_previous = %zu,\n", offsetof(_PyInterpreterFrame, previous));
#if PY_VERSION_HEX >= 0x030D0000
	/* 3.14+: a _PyStackRef, its low bits tags (masked by the walker) */
	printf("\t\t.frame_code = %zu,\n", offsetof(_PyInterpreterFrame, f_executable));
#else
	printf("\t\t.frame_code = %zu,\n", offsetof(_PyInterpreterFrame, f_code));
#endif
	printf("\t\t.frame_localsplus = %zu,\n", offsetof(_PyInterpreterFrame, localsplus));
	printf("\t\t.frame_owner = %zu,\n", offsetof(_PyInterpreterFrame, owner));
	printf("\t\t.frame_state = -1,\n\t\t.state_executing = 0,\n\t\t.state_unwinding = 0,\n");
	/*
	 * Owners from this value up hold no Python call: the C stack's shim
	 * frames (3.12, 3.13), then the interpreter's own (3.14+).
	 */
#if PY_VERSION_HEX >= 0x030E0000
	printf("\t\t.owner_shim = %d,\n", FRAME_OWNED_BY_INTERPRETER);
#elif PY_VERSION_HEX >= 0x030C0000
	printf("\t\t.owner_shim = %d,\n", FRAME_OWNED_BY_CSTACK);
#else
	printf("\t\t.owner_shim = -1,\n");
#endif
	printf("\t\t.code_varnames = %zu,\n", offsetof(PyCodeObject, co_localsplusnames));
	printf("\t\t.code_qualname = %zu,\n", offsetof(PyCodeObject, co_qualname));
#else
	printf("\t\t.frame_previous = %zu,\n", offsetof(PyFrameObject, f_back));
	printf("\t\t.frame_code = %zu,\n", offsetof(PyFrameObject, f_code));
	printf("\t\t.frame_localsplus = %zu,\n", offsetof(PyFrameObject, f_localsplus));
	printf("\t\t.frame_owner = -1,\n\t\t.owner_shim = -1,\n");
	/* 3.10 frame objects are reused once popped: only these states are live */
	printf("\t\t.frame_state = %zu,\n", offsetof(PyFrameObject, f_state));
	printf("\t\t.state_executing = %d,\n\t\t.state_unwinding = %d,\n", FRAME_EXECUTING,
	       FRAME_UNWINDING);
	printf("\t\t.code_varnames = %zu,\n", offsetof(PyCodeObject, co_varnames));
	printf("\t\t.code_qualname = -1,\n");
#endif
	printf("\t\t.code_name = %zu,\n", offsetof(PyCodeObject, co_name));
	printf("\t\t.code_filename = %zu,\n", offsetof(PyCodeObject, co_filename));
	printf("\t\t.code_argcount = %zu,\n", offsetof(PyCodeObject, co_argcount));
	printf("\t\t.code_kwonlyargcount = %zu,\n", offsetof(PyCodeObject, co_kwonlyargcount));
	printf("\t\t.tuple_size = %zu,\n", offsetof(PyVarObject, ob_size));
	printf("\t\t.tuple_items = %zu,\n", offsetof(PyTupleObject, ob_item));
	printf("\t\t.object_type = %zu,\n", offsetof(PyObject, ob_type));
	printf("\t\t.unicode_length = %zu,\n", offsetof(PyASCIIObject, length));
	printf("\t\t.unicode_state = %zu,\n", offsetof(PyASCIIObject, state));
	printf("\t\t.unicode_ascii_data = %zu,\n", sizeof(PyASCIIObject));
	printf("\t\t.unicode_compact_data = %zu,\n", sizeof(PyCompactUnicodeObject));
	printf("\t\t.state_kind_shift = %d,\n", STATE_BIT(kind, 1));
	printf("\t\t.state_compact_bit = %d,\n", STATE_BIT(compact, 1));
	printf("\t\t.state_ascii_bit = %d,\n", STATE_BIT(ascii, 1));
	printf("\t\t.dict_ma_keys = %zu,\n", offsetof(PyDictObject, ma_keys));
	printf("\t\t.dict_ma_values = %zu,\n", offsetof(PyDictObject, ma_values));
#if PY_VERSION_HEX >= 0x030B0000
	printf("\t\t.keys_log2_size = %zu,\n", offsetof(PyDictKeysObject, dk_log2_size));
	printf("\t\t.keys_log2_index_bytes = %zu,\n", offsetof(PyDictKeysObject, dk_log2_index_bytes));
	printf("\t\t.keys_kind = %zu,\n", offsetof(PyDictKeysObject, dk_kind));
	printf("\t\t.keys_size = -1,\n");
	printf("\t\t.keys_general_kind = %d,\n", DICT_KEYS_GENERAL);
	printf("\t\t.unicode_entry_size = %zu,\n", sizeof(PyDictUnicodeEntry));
	printf("\t\t.keys_nentries = %zu,\n", offsetof(PyDictKeysObject, dk_nentries));
	printf("\t\t.keys_indices = %zu,\n", offsetof(PyDictKeysObject, dk_indices));
	printf("\t\t.general_entry_size = %zu,\n", sizeof(PyDictKeyEntry));
#else
	/*
	 * 3.10 keeps PyDictKeysObject in Objects/dict-common.h, which is not
	 * installed: dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries
	 * (all 8 bytes), then dk_indices; entries are {hash, key, value}.
	 */
	printf("\t\t.keys_log2_size = -1,\n\t\t.keys_log2_index_bytes = -1,\n\t\t.keys_kind = -1,\n");
	printf("\t\t.keys_size = 8,\n");
	printf("\t\t.keys_general_kind = -1,\n\t\t.unicode_entry_size = 0,\n");
	printf("\t\t.keys_nentries = 32,\n");
	printf("\t\t.keys_indices = 40,\n");
	printf("\t\t.general_entry_size = 24,\n");
#endif
	/* where a frame is in its code, and the code's line table (`inflight stuck`) */
#if PY_VERSION_HEX >= 0x030D0000
	printf("\t\t.frame_instr = %zu,\n", offsetof(_PyInterpreterFrame, instr_ptr));
#elif PY_VERSION_HEX >= 0x030B0000
	printf("\t\t.frame_instr = %zu,\n", offsetof(_PyInterpreterFrame, prev_instr));
#else
	printf("\t\t.frame_instr = -1,\n");
#endif
#if PY_VERSION_HEX >= 0x030B0000
	printf("\t\t.frame_lasti = -1,\n");
	printf("\t\t.code_adaptive = %zu,\n", offsetof(PyCodeObject, co_code_adaptive));
#else
	/* 3.10: the index of the last instruction run, in code units */
	printf("\t\t.frame_lasti = %zu,\n", offsetof(PyFrameObject, f_lasti));
	printf("\t\t.code_adaptive = -1,\n");
#endif
	printf("\t\t.code_linetable = %zu,\n", offsetof(PyCodeObject, co_linetable));
	printf("\t\t.code_firstlineno = %zu,\n", offsetof(PyCodeObject, co_firstlineno));
#if PY_VERSION_HEX >= 0x030D0000
	/* where the process's own _Py_DebugOffsets keeps each of these */
	printf("\t\t.debug = {\n");
#define DBG(name, field) printf("\t\t\t[PY_DBG_%s] = %zu,\n", #name, offsetof(_Py_DebugOffsets, field))
	DBG(VERSION, version);
	DBG(FREE_THREADED, free_threaded);
	DBG(RUNTIME_SIZE, runtime_state.size);
	DBG(RUNTIME_INTERPRETERS_HEAD, runtime_state.interpreters_head);
	DBG(INTERP_SIZE, interpreter_state.size);
	DBG(INTERP_NEXT, interpreter_state.next);
	DBG(INTERP_THREADS_HEAD, interpreter_state.threads_head);
	DBG(INTERP_SYSDICT, interpreter_state.sysdict);
	DBG(TSTATE_SIZE, thread_state.size);
	DBG(TSTATE_NEXT, thread_state.next);
	DBG(TSTATE_FRAME, thread_state.current_frame);
	DBG(TSTATE_NATIVE_ID, thread_state.native_thread_id);
	DBG(FRAME_SIZE, interpreter_frame.size);
	DBG(FRAME_PREVIOUS, interpreter_frame.previous);
	DBG(FRAME_CODE, interpreter_frame.executable);
	DBG(FRAME_LOCALSPLUS, interpreter_frame.localsplus);
	DBG(FRAME_OWNER, interpreter_frame.owner);
	DBG(CODE_SIZE, code_object.size);
	DBG(CODE_VARNAMES, code_object.localsplusnames);
	DBG(CODE_QUALNAME, code_object.qualname);
	DBG(CODE_NAME, code_object.name);
	DBG(CODE_FILENAME, code_object.filename);
	DBG(CODE_ARGCOUNT, code_object.argcount);
	DBG(FRAME_INSTR_PTR, interpreter_frame.instr_ptr);
	DBG(CODE_LINETABLE, code_object.linetable);
	DBG(CODE_FIRSTLINENO, code_object.firstlineno);
	DBG(CODE_ADAPTIVE, code_object.co_code_adaptive);
	DBG(OBJECT_TYPE, pyobject.ob_type);
	DBG(TUPLE_SIZE, tuple_object.ob_size);
	DBG(TUPLE_ITEMS, tuple_object.ob_item);
	DBG(DICT_SIZE, dict_object.size);
	DBG(DICT_MA_KEYS, dict_object.ma_keys);
	DBG(DICT_MA_VALUES, dict_object.ma_values);
	DBG(UNICODE_STATE, unicode_object.state);
	DBG(UNICODE_LENGTH, unicode_object.length);
	DBG(UNICODE_ASCII_DATA, unicode_object.asciiobject_size);
#if PY_VERSION_HEX >= 0x030F0000
	DBG(UNICODE_COMPACT_DATA, unicode_object.compactunicodeobject_size);
#endif
	printf("\t\t\t[PY_DBG_END] = %zu,\n", sizeof(_Py_DebugOffsets));
	printf("\t\t},\n");
#endif
	printf("\t},\n");
	return 0;
}
