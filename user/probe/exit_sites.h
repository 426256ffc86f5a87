/* SPDX-License-Identifier: MIT */
/*
 * Instruction-mode returns: every instruction where control leaves a
 * function, found by disassembling it (capstone).
 *
 * Exits are `ret`, jumps whose target lies outside the function (tail calls,
 * conditional ones included), and indirect jumps, which are decided at run
 * time by the BPF side from the target they are about to take (a jump table
 * stays inside, a tail call through a pointer leaves).
 */
#ifndef INFLIGHT_EXIT_SITES_H
#define INFLIGHT_EXIT_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inflight.h"

/* A piece of the function's code: the function itself and its .cold part. */
struct code_part {
	uint64_t addr;   /* virtual address */
	uint64_t offset; /* file offset */
	const uint8_t *bytes;
	size_t size;
};

struct exit_site {
	uint64_t addr;   /* virtual address of the instruction */
	uint64_t offset; /* file offset: where the uprobe goes */
	char text[192];  /* "ret", "jmp 0x1234" ...: for logs */
	bool tail;       /* a jump out (tail call), not a ret */
	/* RET sites leave unconditionally; others need `rt` at run time */
	struct inflight_exit_site rt;
};

/*
 * Bounds on what an ELF file's symbol sizes can make inflight do: read and
 * disassemble at most this much code per part, attach at most this many
 * exit probes (real functions are kilobytes, with tens of exits).
 */
#define EXIT_SITES_MAX_CODE (1u << 20)
#define EXIT_SITES_MAX 4096

/*
 * Finds the exit sites of a function made of `nparts` parts (1 or 2).
 * Returns the number found (*out malloc'ed) or a negative errno with `err`
 * set when the code cannot be decoded completely (-EILSEQ, -EOPNOTSUPP for
 * an exit inflight cannot follow, -E2BIG past the bounds below, -ENOENT for
 * no exit), or when the function is nothing but an exit at its first
 * instruction (-EOPNOTSUPP: a thunk, probe its target instead); -ELIBACC or
 * -ELIBBAD when capstone cannot be used, -ENOMEM.
 */
int exit_sites_find(const struct code_part *parts, size_t nparts,
		    struct exit_site **out, char *err, size_t errlen);

#endif
