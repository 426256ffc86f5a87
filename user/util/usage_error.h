/* SPDX-License-Identifier: MIT */
/* A command-line error: one message, argp's help hint, exit 2. */
#ifndef INFLIGHT_USAGE_ERROR_H
#define INFLIGHT_USAGE_ERROR_H

#include <argp.h>

/* Prints "inflight: error: MSG" and argp's help hint; exits EXIT_USAGE. */
void usage_error(const struct argp_state *state, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
