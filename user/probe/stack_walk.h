/* SPDX-License-Identifier: MIT */
/*
 * A native thread's user stack, read from outside: from its registers
 * (ip, sp, bp) along the frame-pointer chain, and each return address
 * named through /proc/PID/maps and the mapped file's ELF symbols. For
 * `inflight stuck`: "where it can be had"; code built without frame
 * pointers ends the chain early, never wrongly, and every read is checked.
 */
#ifndef INFLIGHT_STACK_WALK_H
#define INFLIGHT_STACK_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STACK_WALK_MAX 64

struct symbolizer;

/*
 * Fills `pcs` with ip, then the return addresses, innermost first (at most
 * `max`), of a thread of the process `s` reads (its maps as
 * symbolizer_new found them: one reading serves the walk and the names);
 * returns how many (0: ip unknown). The chain is followed while
 * each frame's bp lies in the stack mapping that holds sp, above the last
 * one, 8-aligned, and its return address is in an executable mapping.
 * Between sp and the first frame (functions without frame pointers, such
 * as a libc wrapper the thread is blocked in), words that are return
 * addresses (a call instruction just before them, in an executable file
 * mapping) are taken as frames too.
 */
size_t stack_walk(struct symbolizer *s, uint64_t ip, uint64_t sp, uint64_t bp, uint64_t *pcs,
		  size_t max);

/* A code address named: "func+0xOFF (file)", or what of it was found. */
struct stack_sym {
	char func[256];   /* "" if no symbol holds it */
	uint64_t offset;  /* from the function's start */
	char file[4096];  /* the mapped file as maps names it; "" if none */
};

/* For one process: its maps read now, files opened as needed. NULL: out of memory. */
struct symbolizer *symbolizer_new(pid_t pid);
/*
 * Names `addr`; `is_return` for a return address (the call before it is
 * looked up: a call that ends a function returns past its end). 0, or
 * -ENOENT when no file maps it (out->file "").
 */
int symbolize(struct symbolizer *s, uint64_t addr, int is_return, struct stack_sym *out);
void symbolizer_free(struct symbolizer *s);

#endif
