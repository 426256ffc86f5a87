/* SPDX-License-Identifier: MIT */
/*
 * A str read from a CPython process (compact strs only: every str Python
 * code creates is one), as the chain reader and the frame namer need it.
 */
#ifndef INFLIGHT_PY_STR_H
#define INFLIGHT_PY_STR_H

#include <stddef.h>
#include <stdint.h>
#include "python/py_process.h"
#include "util/proc_mem.h"

/*
 * The str at `obj` as UTF-8 in `out`, cut to the whole characters that fit
 * `outsz` bytes. What is no character (past U+10FFFF, a lone surrogate, a
 * byte past 0x7f in a str marked ASCII: forged or torn) is U+FFFD. 0, or
 * -EINVAL when `obj` is no compact str, or proc_read's error.
 */
int py_str_read(const struct py_process *p, struct proc_mem *m, uint64_t obj, char *out,
		size_t outsz);

#endif
