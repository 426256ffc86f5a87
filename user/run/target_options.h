/* SPDX-License-Identifier: MIT */
/*
 * The target options (--binary, --pid, --func, --usdt, --chain, ...): one
 * table for the flags of `top` and `run`, their INFLIGHT_* variables and the
 * keys of a --config file's [target NAME] sections.
 */
#ifndef INFLIGHT_TARGET_OPTIONS_H
#define INFLIGHT_TARGET_OPTIONS_H

#include <argp.h>
#include <stdbool.h>
#include <stdint.h>
#include "inflight.h"
#include "observe/observer.h"

#define MAX_PIDS 64

struct target_options {
	struct observer_config cfg;
	struct inflight_fetch fetch;
	pid_t pids[MAX_PIDS];
	const char *chain_spec;
	char default_chain[INFLIGHT_CHAIN_LEN];
	bool verbose;
	const char *log_level;  /* --log-level, over INFLIGHT_LOG_LEVEL */
	const char *log_format; /* --log-format, over INFLIGHT_LOG_FORMAT */
	bool given[0x200];      /* options given as flags: their variables are not read */
	/* a target of a --config file: no INFLIGHT_* variables, errors prefixed */
	bool from_file;
	const char *where;      /* "FILE:LINE [target NAME]: " */
};
/* An argp child. */
extern const struct argp target_argp;

/*
 * Parses and checks what the target options need together (the chain spec,
 * with its column on error). Prints the error; returns 0 or EXIT_USAGE.
 * The one front door below the commands that prints: a bad chain spec takes
 * two more stderr lines (the spec and a caret under its column), and an
 * INFLIGHT_* variable's error is printed before the logging options take
 * effect, the rest after, in the format they chose; an `err` for the
 * command to print would change both.
 */
int target_options_finish(struct target_options *t);

/*
 * Only the logging options (--log-level, --log-format, -v and their
 * variables). 0, or -EINVAL with `err` (the format is set before a bad
 * level is found: printed then, it shows in the format chosen).
 */
int target_options_logging(struct target_options *t, char *err, size_t errlen);
/* A target flag given or INFLIGHT_* target variable set: its name, or NULL. */
const char *target_options_any_given(const struct target_options *t);

/* By long option name ("func", "match-exe"), for the --config file. */
int target_option_known(const char *name);
/* Sets it as the flag would, errors naming `src`. 0 or -EINVAL with `err`. */
int target_option_set(struct target_options *t, const char *name, const char *value,
		      const char *src, char *err, size_t errlen);

#endif
