// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "log.h"

static enum log_level current = LOG_INFO;

void log_set_level(enum log_level level)
{
	current = level;
}

enum log_level log_get_level(void)
{
	return current;
}

static const char *const prefix[] = {
	[LOG_ERROR] = "error: ",
	[LOG_WARN] = "warning: ",
	[LOG_INFO] = "",
	[LOG_DEBUG] = "debug: ",
};

static void vlog(enum log_level level, const char *origin, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	if (level > current)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* one line per message: callers and libbpf may or may not end with \n */
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	fprintf(stderr, "inflight: %s%s%s\n", prefix[level], origin, line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, "", fmt, ap);
	va_end(ap);
}

/*
 * libbpf explains a failure in several lines of its own (verifier log,
 * attach errno); our caller prints the one line that names the input, so
 * libbpf's detail goes to debug level (-v).
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (current < LOG_DEBUG)
		return 0;
	/* verifier logs run to many kilobytes: pass them through whole */
	fputs("inflight: debug: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
