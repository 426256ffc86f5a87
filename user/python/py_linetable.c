// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include "python/py_linetable.h"

/* Location kinds (the code in bits 3-6 of an entry's first byte). */
#define KIND_ONE_LINE0 10
#define KIND_ONE_LINE2 12
#define KIND_NO_COLUMNS 13
#define KIND_LONG 14
#define KIND_NONE 15

/*
 * A line as the table runs it: in 64 bits, so a forged table's deltas
 * cannot overflow it; one that leaves an int's range is no table (false).
 */
static bool add_line(int64_t *cur, int32_t delta)
{
	*cur += delta;
	return *cur >= INT_MIN && *cur <= INT_MAX;
}

/* An unsigned varint: 6-bit chunks, least significant first, bit 6 = more. */
static bool read_varint(const uint8_t *t, size_t len, size_t *at, uint32_t *out)
{
	uint32_t v = 0;

	for (unsigned shift = 0; shift < 32; shift += 6) {
		uint8_t b;

		/* a new entry's first byte (bit 7) never continues a varint */
		if (*at >= len || (t[*at] & 0x80))
			return false;
		b = t[(*at)++];
		v |= (uint32_t)(b & 0x3f) << shift;
		if (!(b & 0x40)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* A signed one: the magnitude shifted left once, the sign in bit 0. */
static bool read_svarint(const uint8_t *t, size_t len, size_t *at, int32_t *out)
{
	uint32_t u;

	if (!read_varint(t, len, at, &u))
		return false;
	*out = (u & 1) ? -(int32_t)(u >> 1) : (int32_t)(u >> 1);
	return true;
}

int py_linetable_line(const uint8_t *table, size_t len, int firstlineno, uint32_t unit,
		      int *line)
{
	uint64_t start = 0;
	int64_t cur = firstlineno;
	size_t at = 0;

	while (at < len) {
		uint8_t first = table[at++];
		unsigned kind = (first >> 3) & 15, units = (first & 7) + 1;
		int32_t delta = 0;
		uint32_t skip;
		bool none = false;

		if (!(first & 0x80))
			return -EINVAL; /* not at an entry's start: the table is not one */
		if (kind == KIND_NONE) {
			none = true;
		} else if (kind == KIND_LONG) {
			/* the line delta, then end line delta, start and end columns */
			if (!read_svarint(table, len, &at, &delta))
				return -EINVAL;
			for (int i = 0; i < 3; i++)
				if (!read_varint(table, len, &at, &skip))
					return -EINVAL;
		} else if (kind == KIND_NO_COLUMNS) {
			if (!read_svarint(table, len, &at, &delta))
				return -EINVAL;
		} else if (kind >= KIND_ONE_LINE0 && kind <= KIND_ONE_LINE2) {
			delta = (int32_t)kind - KIND_ONE_LINE0;
			at += 2; /* start and end column bytes */
		} else {
			at += 1; /* short form: the columns' second byte */
		}
		if (at > len)
			return -EINVAL;
		/* "no location" leaves the running line where it was */
		if (!add_line(&cur, delta))
			return -EINVAL;
		if (unit < start + units) {
			*line = none ? -1 : (int)cur;
			return 0;
		}
		start += units;
	}
	return -EINVAL;
}

int py_linetable310_line(const uint8_t *table, size_t len, int firstlineno, uint32_t unit,
			 int *line)
{
	uint64_t addr = (uint64_t)unit * 2, start = 0;
	int64_t cur = firstlineno;

	/* (bytes covered, signed line delta) pairs; a delta of -128: no line */
	for (size_t at = 0; at + 1 < len; at += 2) {
		uint8_t bytes = table[at];
		int8_t ldelta = (int8_t)table[at + 1];

		if (ldelta != -128 && !add_line(&cur, ldelta))
			return -EINVAL;
		if (addr < start + bytes) {
			*line = ldelta == -128 ? -1 : (int)cur;
			return 0;
		}
		start += bytes;
	}
	return -EINVAL;
}
