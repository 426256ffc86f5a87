/* SPDX-License-Identifier: MIT */
/* The number of elements of an array (not a pointer: that would be a bug). */
#ifndef INFLIGHT_ARRAY_SIZE_H
#define INFLIGHT_ARRAY_SIZE_H

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
