// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "util/exit_code.h"
#include "util/log.h"
#include "util/usage_error.h"

void usage_error(const struct argp_state *state, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	argp_state_help(state, stderr, ARGP_HELP_STD_ERR);
	exit(EXIT_USAGE); /* not reached: ARGP_HELP_STD_ERR exits */
}
