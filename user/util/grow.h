/* SPDX-License-Identifier: MIT */
/* Growing arrays: one doubling rule for every table the program builds. */
#ifndef INFLIGHT_GROW_H
#define INFLIGHT_GROW_H

#include <stddef.h>

/*
 * Room for `need` elements of `size` bytes in the array `v` of `*cap`: `v`
 * itself when it has room, else the array moved to a bigger block (doubled,
 * 16 at least) and `*cap` raised. NULL when out of memory or the size does
 * not fit a size_t: `v` and `*cap` are then untouched and still the
 * caller's to free.
 */
void *grow_array(void *v, size_t *cap, size_t need, size_t size);

#endif
