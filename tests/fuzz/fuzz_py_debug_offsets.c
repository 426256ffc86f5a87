// SPDX-License-Identifier: MIT
/*
 * libFuzzer: the _Py_DebugOffsets at the start of a CPython 3.13+
 * process's _PyRuntime, which the process controls. Input: the minor
 * (13 + byte % 4; 16 is read as the newest known), then the bytes read
 * (in a buffer of their exact size). A layout taken must keep every field
 * the walker and py_frame_info read from their own buffers inside them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "python/py_debug_offsets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct py_layout *schema;
	struct py_layout L;
	char why[256];
	uint8_t *raw;
	int minor, rc;

	if (size < 1)
		return 0;
	minor = 13 + data[0] % 4;
	schema = py_debug_schema(minor);
	if (!schema)
		abort();
	raw = malloc(size - 1 ? size - 1 : 1);
	if (!raw)
		abort();
	memcpy(raw, data + 1, size - 1);
	why[0] = '\0';
	rc = py_layout_from_debug(minor, schema, raw, size - 1, &L, why, sizeof(why));
	free(raw);
	if (rc && !why[0])
		abort(); /* a refusal says why */
	if (rc)
		return 0;
	/* a frame's fixed part: read up to localsplus into 512 bytes */
	if (L.frame_localsplus < 0 || L.frame_localsplus > 504 || L.frame_previous < 0 ||
	    L.frame_previous + 8 > L.frame_localsplus || L.frame_code < 0 ||
	    L.frame_code + 8 > L.frame_localsplus || L.frame_owner < 0 ||
	    L.frame_owner + 1 > L.frame_localsplus)
		abort();
	/* a str's header: read up to its compact data into 128 bytes */
	if (L.unicode_compact_data > 128 || L.unicode_ascii_data > L.unicode_compact_data ||
	    L.object_type < 0 || L.object_type + 8 > L.unicode_ascii_data ||
	    L.unicode_length < 0 || L.unicode_length + 8 > L.unicode_ascii_data ||
	    L.unicode_state < 0 || L.unicode_state + 4 > L.unicode_ascii_data)
		abort();
	/* aligned to their size: the walker may load them through casts */
	if (L.object_type % 8 || L.unicode_length % 8 || L.unicode_state % 4 || L.frame_code % 8 ||
	    L.frame_previous % 8)
		abort();
	/* offsets added to a remote address: never negative */
	if (L.code_qualname < 0 || L.code_name < 0 || L.code_filename < 0 || L.code_argcount < 0 ||
	    L.code_kwonlyargcount < 0 || L.code_linetable < 0 || L.code_firstlineno < 0 ||
	    L.code_adaptive < 0 || L.tuple_size < 0 || L.tuple_items < 0 || L.minor != minor)
		abort();
	return 0;
}
