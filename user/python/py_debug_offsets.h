/* SPDX-License-Identifier: MIT */
/*
 * The layout of a CPython 3.13+ read from the interpreter itself: the
 * _Py_DebugOffsets at the start of its _PyRuntime. The offsets it holds
 * (runtime, interpreter, thread state, frame, code, tuple, dict, str) win
 * over the table, so a patch release or a custom build that moves a field
 * is still read right; the table of that minor (or, for a minor newer than
 * inflight knows, of the newest) supplies what they do not describe: where
 * each field sits inside _Py_DebugOffsets, dict key-table internals, str
 * state bits, frame owner values, co_kwonlyargcount.
 */
#ifndef INFLIGHT_PY_DEBUG_OFFSETS_H
#define INFLIGHT_PY_DEBUG_OFFSETS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include "python/py_layout.h"

/*
 * The table entry describing 3.minor's _Py_DebugOffsets (that minor's, or
 * the newest one for a newer minor), or NULL if 3.minor has none (< 3.13).
 */
const struct py_layout *py_debug_schema(int minor);

/*
 * Fills `out` from `raw`, the first `len` bytes of the process's _PyRuntime
 * (at least schema->debug[PY_DBG_END]). 0 on success; 1 if it describes a
 * build inflight does not read (free-threaded); -EINVAL if it cannot be trusted
 * (no cookie, another version, offsets outside their structs). `why` says
 * which, naming the version.
 */
int py_layout_from_debug(int minor, const struct py_layout *schema, const uint8_t *raw,
			 size_t len, struct py_layout *out, char *why, size_t whylen);

#endif
