// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "python/py_str.h"
#include "util/utf8.h"

/* Characters read at a time: a file name of 1023 takes one read. */
#define CHUNK_BYTES 4096

int py_str_read(const struct py_process *p, struct proc_mem *m, uint64_t obj, char *out,
		size_t outsz)
{
	const struct py_layout *L = &p->L;
	uint8_t hdr[128], data[CHUNK_BYTES];
	uint64_t type, at;
	int64_t len;
	uint32_t state, kind;
	size_t o = 0, n;
	bool ascii;
	int rc;

	out[0] = '\0';
	if (!obj || !outsz || (size_t)L->unicode_compact_data > sizeof(hdr))
		return -EINVAL;
	rc = proc_read(m, obj, hdr, (size_t)L->unicode_compact_data);
	if (rc)
		return rc;
	/* memcpy: a process's debug offsets may put the type at any offset, aligned or not */
	memcpy(&type, hdr + L->object_type, sizeof(type));
	if (type != p->unicode_type)
		return -EINVAL;
	memcpy(&len, hdr + L->unicode_length, sizeof(len));
	memcpy(&state, hdr + L->unicode_state, sizeof(state));
	kind = (state >> L->state_kind_shift) & 7;
	if (len < 0 || !((state >> L->state_compact_bit) & 1) || (kind != 1 && kind != 2 && kind != 4))
		return -EINVAL;
	/* no more characters than bytes in `out`: each takes one at least */
	n = (size_t)len < outsz - 1 ? (size_t)len : outsz - 1;
	/* an ASCII str's characters are bytes, after a shorter header */
	ascii = (state >> L->state_ascii_bit) & 1;
	if (ascii)
		kind = 1;
	at = obj + (uint64_t)(ascii ? L->unicode_ascii_data : L->unicode_compact_data);
	for (size_t done = 0; done < n;) {
		size_t take = n - done < CHUNK_BYTES / kind ? n - done : CHUNK_BYTES / kind;

		rc = proc_read(m, at + done * kind, data, take * kind);
		if (rc)
			break;
		for (size_t i = 0; i < take; i++) {
			uint32_t cp;
			uint16_t u16;
			char enc[4];
			size_t k;

			if (kind == 1) {
				cp = data[i];
			} else if (kind == 2) {
				memcpy(&u16, data + 2 * i, 2);
				cp = u16;
			} else {
				memcpy(&cp, data + 4 * i, 4);
			}
			/* a lone surrogate: a file name decoded with surrogateescape */
			if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000) || (ascii && cp > 0x7f))
				cp = 0xfffd;
			k = utf8_encode(cp, enc);
			if (o + k >= outsz)
				goto full;
			memcpy(out + o, enc, k);
			o += k;
		}
		done += take;
	}
full:
	out[o] = '\0';
	return rc;
}
