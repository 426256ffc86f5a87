/* SPDX-License-Identifier: MIT */
/*
 * The targets file (`inflight run --config FILE`): several targets in one
 * collector. Line-based and strict:
 *
 *   # a comment (a line whose first non-blank is '#')
 *   [target conserver]          a section per target, names unique
 *   python = true               key = value: the long option's name, the
 *   match-cmdline = conserver   value the rest of the line, blanks trimmed
 *
 * Anything else is an error naming the file and line. Which keys are
 * allowed is the caller's business (config_check_key).
 */
#ifndef INFLIGHT_CONFIG_FILE_H
#define INFLIGHT_CONFIG_FILE_H

#include <stddef.h>

#define CONFIG_MAX_TARGETS 16

struct config_entry {
	char *key, *value;
	int line;
};

struct config_target {
	char *name;
	int line; /* of its [target NAME] header */
	struct config_entry *entries;
	size_t n;
};

struct config_file {
	char *path;
	struct config_target targets[CONFIG_MAX_TARGETS];
	size_t n;
};

/*
 * Parses `text` (the file's content, `path` for messages). 0, or -EINVAL
 * (-ENOMEM) with `err` as "PATH:LINE: what is wrong". `known(key)` says whether a key is
 * allowed; `repeatable(key)` whether it may appear more than once.
 */
int config_parse(const char *path, const char *text, size_t len, struct config_file *out,
		 int (*known)(const char *key), int (*repeatable)(const char *key), char *err,
		 size_t errlen);
/*
 * Reads and parses a file; errors name it. 0, or a negative errno: the
 * open's or read's, -EFBIG over 1 MiB, or config_parse's.
 */
int config_load(const char *path, struct config_file *out, int (*known)(const char *key),
		int (*repeatable)(const char *key), char *err, size_t errlen);
void config_free(struct config_file *c);

#endif
