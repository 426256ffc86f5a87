// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"

static enum log_level current = INFLIGHT_LOG_INFO;
static enum log_format format = INFLIGHT_LOG_FORMAT_TEXT;
/* the exporter thread logs too: lines must not interleave */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level level)
{
	current = level;
}

enum log_level log_get_level(void)
{
	return current;
}

void log_set_format(enum log_format f)
{
	format = f;
}

static const char *const level_names[] = {
	[INFLIGHT_LOG_ERROR] = "error", [INFLIGHT_LOG_WARN] = "warn", [INFLIGHT_LOG_INFO] = "info", [INFLIGHT_LOG_DEBUG] = "debug",
};

int log_parse_level(const char *s, enum log_level *out)
{
	for (int i = INFLIGHT_LOG_ERROR; i <= INFLIGHT_LOG_DEBUG; i++) {
		if (!strcmp(s, level_names[i]) || (i == INFLIGHT_LOG_WARN && !strcmp(s, "warning"))) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

int log_parse_format(const char *s, enum log_format *out)
{
	if (!strcmp(s, "text"))
		*out = INFLIGHT_LOG_FORMAT_TEXT;
	else if (!strcmp(s, "json"))
		*out = INFLIGHT_LOG_FORMAT_JSON;
	else
		return -EINVAL;
	return 0;
}

static const char *const prefix[] = {
	[INFLIGHT_LOG_ERROR] = "error: ",
	[INFLIGHT_LOG_WARN] = "warning: ",
	[INFLIGHT_LOG_INFO] = "",
	[INFLIGHT_LOG_DEBUG] = "debug: ",
};

void log_format_line(enum log_format f, enum log_level level, const char *origin,
		     const char *msg, char *out, size_t size)
{
	struct buf b = { 0 };

	if (f == INFLIGHT_LOG_FORMAT_JSON) {
		char when[40];

		clock_iso8601_ms(clock_realtime_ns(), when, sizeof(when));
		buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", when,
			   level_names[level]);
		if (origin[0]) {
			char both[2048];

			snprintf(both, sizeof(both), "%s%s", origin, msg);
			buf_json_string(&b, both);
		} else {
			buf_json_string(&b, msg);
		}
		buf_putc(&b, '}');
	} else {
		buf_printf(&b, "inflight: %s%s%s", prefix[level], origin, msg);
	}
	buf_putc(&b, '\0');
	snprintf(out, size, "%s", b.data ? (char *)b.data : "");
	buf_free(&b);
}

static void vlog(enum log_level level, const char *origin, const char *fmt, va_list ap)
{
	char msg[1024], line[4096];
	size_t n;

	if (level > current)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* one line per message: callers and libbpf may or may not end with \n */
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_format_line(format, level, origin, msg, line, sizeof(line));
	pthread_mutex_lock(&lock);
	fprintf(stderr, "%s\n", line);
	pthread_mutex_unlock(&lock);
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
	char msg[1024];
	char *big = NULL;
	int n;
	va_list copy;

	(void)level;
	if (current < INFLIGHT_LOG_DEBUG)
		return 0;
	if (format == INFLIGHT_LOG_FORMAT_TEXT) {
		/* verifier logs run to many kilobytes: pass them through whole */
		pthread_mutex_lock(&lock);
		fputs("inflight: debug: ", stderr);
		n = vfprintf(stderr, fmt, ap);
		pthread_mutex_unlock(&lock);
		return n;
	}
	/* JSON: one object per message, however long (escaped newlines) */
	va_copy(copy, ap);
	n = vsnprintf(msg, sizeof(msg), fmt, copy);
	va_end(copy);
	if (n >= (int)sizeof(msg) && (big = malloc((size_t)n + 1)))
		vsnprintf(big, (size_t)n + 1, fmt, ap);
	{
		struct buf b = { 0 };
		const char *text = big ? big : msg;
		size_t len = strlen(text);

		while (len && text[len - 1] == '\n')
			len--;
		buf_append(&b, text, len);
		buf_putc(&b, '\0');
		{
			char *line = malloc(b.len * 6 + 256);

			if (line) {
				log_format_line(INFLIGHT_LOG_FORMAT_JSON, INFLIGHT_LOG_DEBUG, "libbpf: ", (char *)b.data,
						line, b.len * 6 + 256);
				pthread_mutex_lock(&lock);
				fprintf(stderr, "%s\n", line);
				pthread_mutex_unlock(&lock);
				free(line);
			}
		}
		buf_free(&b);
	}
	free(big);
	return n;
}

void log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
