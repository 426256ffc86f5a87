// SPDX-License-Identifier: MIT
/*
 * libFuzzer: a code object's location table as read from a process (torn
 * or forged). Input: a flags byte (bit 0: the 3.10 format, else 3.11+),
 * firstlineno (int32, little-endian), a cut point (uint16), then the
 * table. Every instruction is asked for until the table ends; the table
 * sits in a buffer of its exact size (ASan sees a read past its end).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "python/py_linetable.h"

#define HDR 7
/* keeps a run fast: the decoder is linear per instruction, asked for each */
#define MAX_TABLE 1024
#define MAX_UNITS 4096

static int decode(int old, const uint8_t *t, size_t len, int first, uint32_t unit, int *line)
{
	*line = -2;
	return old ? py_linetable310_line(t, len, first, unit, line)
		   : py_linetable_line(t, len, first, unit, line);
}

/* one answer: refused, or a line (-1: none) that is never below 0 otherwise */
static void check(int rc, int line)
{
	if (rc && rc != -EINVAL)
		abort();
	if (!rc && line < -1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int old, first, line, cut_line;
	size_t len, cut;
	uint8_t *t, *torn;
	uint32_t u;
	int rc, cut_rc;

	if (size < HDR)
		return 0;
	old = data[0] & 1;
	memcpy(&first, data + 1, sizeof(first));
	len = size - HDR < MAX_TABLE ? size - HDR : MAX_TABLE;
	cut = (data[5] | (size_t)data[6] << 8) % (len + 1);
	t = malloc(len ? len : 1);
	torn = malloc(cut ? cut : 1);
	if (!t || !torn)
		abort();
	memcpy(t, data + HDR, len);
	memcpy(torn, t, cut);
	for (u = 0; u < MAX_UNITS; u++) {
		rc = decode(old, t, len, first, u, &line);
		check(rc, line);
		/* a torn copy gives the same line, or refuses */
		cut_rc = decode(old, torn, cut, first, u, &cut_line);
		check(cut_rc, cut_line);
		if (!cut_rc && (rc || cut_line != line))
			abort();
		if (rc)
			break;
	}
	/* past the table's end, every later instruction is refused too */
	if (u < MAX_UNITS) {
		if (decode(old, t, len, first, u + 1, &line) != -EINVAL ||
		    decode(old, t, len, first, UINT32_MAX, &line) != -EINVAL)
			abort();
	}
	free(torn);
	free(t);
	return 0;
}
