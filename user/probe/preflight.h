/* SPDX-License-Identifier: MIT */
/* What the kernel and our privileges must offer before anything is loaded. */
#ifndef INFLIGHT_PREFLIGHT_H
#define INFLIGHT_PREFLIGHT_H

#include <stddef.h>

/*
 * Checks BTF, the uprobe PMU and capabilities. Returns 0, or a negative
 * errno with one line in `err` naming what is missing (access's errno for a
 * kernel feature, -EPERM for a capability).
 */
int preflight_check(char *err, size_t errlen);

#endif
