/* SPDX-License-Identifier: MIT */
/*
 * The message of a failure, for the caller to print: functions that can
 * fail on input fill `err` (one line naming the input and what was
 * expected) and return -1; they never log it themselves.
 */
#ifndef INFLIGHT_ERRMSG_H
#define INFLIGHT_ERRMSG_H

#include <stddef.h>

/* Formats into `err`; returns -1, for `return errmsg(...)`. */
int errmsg(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
