/* SPDX-License-Identifier: MIT */
/*
 * How the end of each call is seen.
 *
 * uretprobe: the kernel swaps the return address for a trampoline. Cheap,
 *   but anything that walks the stack through that frame breaks: a C++ or
 *   Rust exception unwinding through it terminates the worker, Go's stack
 *   copying corrupts it.
 * insn: a plain uprobe on every instruction that leaves the function (ret,
 *   tail jumps). Never touches the stack; costs a single-step per exit.
 *
 * auto picks uretprobe only when nothing in the function's own binary can
 * unwind the stack: no C++/Rust exception machinery, not Go.
 */
#ifndef INFLIGHT_RETURN_MODE_H
#define INFLIGHT_RETURN_MODE_H

#include <stdbool.h>

enum return_mode { RETURN_AUTO, RETURN_URETPROBE, RETURN_INSN };

/* What the binary says about stack unwinding. */
struct unwind_facts {
	bool go;       /* Go runtime: stacks move */
	bool cxx;      /* C++ exceptions: throw, catch, personality, or libstdc++/libc++ */
	bool rust;     /* Rust panics unwind */
	bool unwinder; /* calls into the unwinder directly (_Unwind_*, -fexceptions C) */
};

struct elf_file;
void return_mode_facts(const struct elf_file *ef, struct unwind_facts *out);

/*
 * Resolves `requested` against the facts. Sets *why to a short reason the
 * collector logs. An explicit choice always wins.
 */
enum return_mode return_mode_choose(enum return_mode requested,
				    const struct unwind_facts *facts, const char **why);

const char *return_mode_name(enum return_mode m);
/* Parses "auto", "uretprobe", "insn"; -EINVAL if none. */
int return_mode_parse(const char *s);

#endif
