/* SPDX-License-Identifier: MIT */
#ifndef INFLIGHT_ARRAY_SIZE_H
#define INFLIGHT_ARRAY_SIZE_H

/* Elements of an array (not a pointer: that would be a bug the compiler warns of). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
