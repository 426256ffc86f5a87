/* SPDX-License-Identifier: MIT */
/*
 * The line an instruction of a CPython code object belongs to, from the
 * code's location table (co_linetable), read out of a process: the 3.11+
 * format (PEP 657, CPython's Objects/locations.md) and 3.10's (PEP 626,
 * Objects/lnotab_notes.txt). Pure functions over bytes: the table may come
 * from a process that changed it meanwhile, so every read is bounded.
 */
#ifndef INFLIGHT_PY_LINETABLE_H
#define INFLIGHT_PY_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The line of the instruction at code unit `unit` (2-byte units from the
 * start of the bytecode) in a 3.11+ table: 0 with `*line` set (-1 when the
 * table gives that instruction no location), or -EINVAL when the table
 * ends before the instruction or is malformed (its running line leaves
 * 0..INT_MAX on the way: a forged firstlineno or deltas).
 */
int py_linetable_line(const uint8_t *table, size_t len, int firstlineno, uint32_t unit,
		      int *line);

/* The same for a 3.10 table (its offsets are in bytes: unit * 2). */
int py_linetable310_line(const uint8_t *table, size_t len, int firstlineno, uint32_t unit,
			 int *line);

#endif
