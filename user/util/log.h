/* SPDX-License-Identifier: MIT */
/* One place for every message the collector prints, libbpf's included. */
#ifndef INFLIGHT_LOG_H
#define INFLIGHT_LOG_H

#include <stddef.h>

/*
 * Prefixed: <syslog.h> defines LOG_INFO, LOG_DEBUG, LOG_ERR, LOG_WARNING as
 * macros, and a file may need both headers.
 */
enum log_level {
	INFLIGHT_LOG_ERROR,
	INFLIGHT_LOG_WARN,
	INFLIGHT_LOG_INFO,
	INFLIGHT_LOG_DEBUG,
};
/* text: "inflight: warning: ..." for people; json: one object per line for log pipelines */
enum log_format { INFLIGHT_LOG_FORMAT_TEXT, INFLIGHT_LOG_FORMAT_JSON };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_format(enum log_format f);
/* "error", "warn" (or "warning"), "info", "debug"; 0 or -EINVAL. */
int log_parse_level(const char *s, enum log_level *out);
/* "text", "json"; 0 or -EINVAL. */
int log_parse_format(const char *s, enum log_format *out);
/*
 * One log line, as it is printed (no newline): text, or JSON
 * {"ts":"...Z","level":"warn","msg":"..."}. For tests and the logger.
 */
void log_format_line(enum log_format f, enum log_level level, const char *origin,
		     const char *msg, char *out, size_t size);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Installs the router that sends libbpf's messages through log_msg. */
void log_route_libbpf(void);

#define log_error(...) log_msg(INFLIGHT_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(INFLIGHT_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(INFLIGHT_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(INFLIGHT_LOG_DEBUG, __VA_ARGS__)

#endif
