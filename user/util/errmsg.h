/* SPDX-License-Identifier: MIT */
/*
 * The message of a failure, for the caller to print: functions that can
 * fail fill `err` (one line naming the input and what was expected) and
 * return a negative errno; they never log it themselves. Callers test
 * `< 0` (or `!= 0`), never a particular value unless they act on it.
 */
#ifndef INFLIGHT_ERRMSG_H
#define INFLIGHT_ERRMSG_H

#include <stddef.h>

/*
 * Formats into `err`; returns -EINVAL (bad input), for `return errmsg(...)`.
 */
int errmsg(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Formats into `err`; returns -e, for `return errmsg_errno(err, errlen,
 * errno, ...)` after a failed system call. Pass errno saved before any
 * call that may change it (strerror, snprintf). An `e` that is not
 * positive (a call that failed without setting errno) gives -EIO, so the
 * result is always a failure.
 */
int errmsg_errno(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
