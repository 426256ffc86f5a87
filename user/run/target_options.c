// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/exit_code.h"
#include "util/parse_number.h"
#include "run/target_options.h"
#include "util/usage_error.h"
#include "probe/fetch_spec.h"
#include "python/py_defaults.h"
#include "util/errmsg.h"
#include "util/log.h"
#include "util/array_size.h"
#include <stdbool.h>

enum {
	OPT_RETURN = 0x100,
	OPT_MAX_CHAINS,
	OPT_PYTHON,
	OPT_PYTHON_EXE,
	OPT_PY_FUNC,
	OPT_PY_FILE,
	OPT_PY_CHAIN,
	OPT_LOG_LEVEL,
	OPT_LOG_FORMAT,
	OPT_MATCH_EXE,
	OPT_MATCH_CMDLINE,
	OPT_RESCAN,
};

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "What to observe:", 1 },
	{ "binary", 'b', "PATH", 0, "Executable or shared library holding the function (every process mapping it, now or later)", 1 },
	{ "pid", 'p', "PID", 0, "Only this process; its executable (or mapped library) is found through /proc/PID/root", 1 },
	{ "func", 'f', "SYMBOL", 0, "The handle function", 1 },
	{ "usdt", 'u', "PROV:ENTRY,PROV:RETURN", 0, "A USDT probe pair instead of a function", 1 },
	{ "match-exe", OPT_MATCH_EXE, "GLOB", 0, "Discovery: every process, in any container, whose executable path (or its basename) matches GLOB; new ones are found at exec and every --rescan", 1 },
	{ "match-cmdline", OPT_MATCH_CMDLINE, "REGEX", 0, "Discovery: every process whose command line (arguments joined by spaces) matches REGEX (POSIX extended); with --match-exe both must match", 1 },
	{ "rescan", OPT_RESCAN, "DURATION", 0, "Discovery: full /proc scan period (default 5s)", 1 },
	{ NULL, 0, NULL, 0, "CPython workers (frames read at each reading, no probes):", 3 },
	{ "python", OPT_PYTHON, NULL, 0, "Count frames of a Python function in CPython 3.10 and later processes (--pid, repeatable, or --python-exe); calls already running are counted too", 3 },
	{ "python-exe", OPT_PYTHON_EXE, "PATTERN", 0, "Every process whose executable or command line contains PATTERN (a glob if it has * ? [), and its children, found again at each reading", 3 },
	{ "py-func", OPT_PY_FUNC, "NAME", 0, "The function (default " PY_DEFAULT_FUNC ")", 3 },
	{ "py-file", OPT_PY_FILE, "SUFFIX", 0, "Only code whose file name ends with SUFFIX (e.g. conserver/main.py)", 3 },
	{ "py-chain", OPT_PY_CHAIN, "ARG[\"KEY\"]", 0, "The chain: an argument by name or position, optionally a dict key (default " PY_DEFAULT_CHAIN ")", 3 },
	{ NULL, 0, NULL, 0, "The chain each call belongs to:", 2 },
	{ "chain", 'c', "SPEC", 0, "Fetch spec in uprobe_events syntax, e.g. '+0(%di):string', '+8($arg2):u32'; a Go string: '%ax:gostring' (pointer in %ax, length in the next Go argument register), '+8(%ax):gostring' (the string header at an address)", 2 },
	{ "chain-name", 'n', "NAME", 0, "A constant chain name (default: the function's name)", 2 },
	{ NULL, 0, NULL, 0, "Counting:", 4 },
	{ "return", OPT_RETURN, "MODE", 0, "How returns are seen: auto (default), uretprobe, insn", 4 },
	{ "max-chains", OPT_MAX_CHAINS, "N", 0, "Chain cap; later chains count under one overflow series (default 1024)", 4 },
	{ NULL, 0, NULL, 0, "Logging (stderr, one line per event):", -2 },
	{ "verbose", 'v', NULL, 0, "Debug logging, libbpf's included (--log-level debug)", -2 },
	{ "log-level", OPT_LOG_LEVEL, "LEVEL", 0, "error, warn, info (default), debug (INFLIGHT_LOG_LEVEL)", -2 },
	{ "log-format", OPT_LOG_FORMAT, "FORMAT", 0, "text (default) or json, for log pipelines (INFLIGHT_LOG_FORMAT)", -2 },
	{ 0 },
};

/*
 * One target option from a flag ("--pid") or a variable ("INFLIGHT_PID"):
 * the same checks, the error naming where the value came from.
 */
static int set_option(struct target_options *t, int key, const char *arg, const char *src,
		      char *err, size_t errlen)
{
	bool flag = src[0] == '-';
	uint32_t v;
	int m;

#define BAD(what)                                                                        \
	do {                                                                             \
		snprintf(err, errlen, "%s%s%s%s: expected %s", src, flag ? " '" : "=", arg, \
			 flag ? "'" : "", what);                                         \
		return -EINVAL;                                                          \
	} while (0)

	switch (key) {
	case 'b':
		t->cfg.target.binary = arg;
		break;
	case 'p':
		if (parse_u32(arg, 1, 0x3fffffff, &v))
			BAD("a process id (a positive integer)");
		if (t->cfg.npids == MAX_PIDS)
			BAD("at most " "64" " processes");
		t->pids[t->cfg.npids++] = (pid_t)v;
		t->cfg.target.pid = t->pids[0];
		break;
	case OPT_PYTHON:
		if (!flag && strcmp(arg, "true") && strcmp(arg, "false"))
			BAD("true or false");
		t->cfg.python = flag || !strcmp(arg, "true");
		break;
	case OPT_PYTHON_EXE:
		if (!*arg)
			BAD("a pattern");
		t->cfg.python_exe = arg;
		break;
	case OPT_PY_FUNC:
		t->cfg.py_func = arg;
		break;
	case OPT_PY_FILE:
		t->cfg.py_file = arg;
		break;
	case OPT_PY_CHAIN:
		t->cfg.py_chain = arg;
		break;
	case 'f':
		if (!*arg)
			BAD("a symbol name");
		t->cfg.target.func = arg;
		break;
	case 'u':
		t->cfg.target.usdt = arg;
		break;
	case 'c':
		t->chain_spec = arg;
		break;
	case 'n':
		t->cfg.target.chain_name = arg;
		break;
	case OPT_RETURN:
		m = return_mode_parse(arg);
		if (m < 0)
			BAD("auto, uretprobe or insn");
		t->cfg.target.return_mode = (enum return_mode)m;
		break;
	case OPT_MAX_CHAINS:
		if (parse_u32(arg, 1, 1u << 20, &v))
			BAD("a number from 1 to 1048576");
		t->cfg.target.max_chains = v;
		break;
	case OPT_MATCH_EXE:
		if (!*arg)
			BAD("a glob, e.g. '*/worker'");
		t->cfg.target.match_exe = arg;
		break;
	case OPT_MATCH_CMDLINE:
		if (!*arg)
			BAD("a regular expression");
		t->cfg.target.match_cmdline = arg;
		break;
	case OPT_RESCAN: {
		uint64_t ms;

		if (parse_duration_ms(arg, &ms) || ms < 100 || ms > 3600000)
			BAD("a duration from 100ms to 1h, e.g. 5s");
		t->cfg.target.rescan_ms = (unsigned)ms;
		break;
	}
	case OPT_LOG_LEVEL:
		t->log_level = arg;
		break;
	case OPT_LOG_FORMAT:
		t->log_format = arg;
		break;
	default:
		return 1;
	}
#undef BAD
	return 0;
}

/* Every option's variable, read when its flag was not given. */
static const struct {
	int key;
	const char *var;
} env_options[] = {
	{ 'b', "INFLIGHT_BINARY" },
	{ 'p', "INFLIGHT_PID" },
	{ 'f', "INFLIGHT_FUNC" },
	{ 'u', "INFLIGHT_USDT" },
	{ 'c', "INFLIGHT_CHAIN" },
	{ 'n', "INFLIGHT_CHAIN_NAME" },
	{ OPT_RETURN, "INFLIGHT_RETURN" },
	{ OPT_MAX_CHAINS, "INFLIGHT_MAX_CHAINS" },
	{ OPT_PYTHON, "INFLIGHT_PYTHON" },
	{ OPT_PYTHON_EXE, "INFLIGHT_PYTHON_EXE" },
	{ OPT_PY_FUNC, "INFLIGHT_PY_FUNC" },
	{ OPT_PY_FILE, "INFLIGHT_PY_FILE" },
	{ OPT_PY_CHAIN, "INFLIGHT_PY_CHAIN" },
	{ OPT_MATCH_EXE, "INFLIGHT_MATCH_EXE" },
	{ OPT_MATCH_CMDLINE, "INFLIGHT_MATCH_CMDLINE" },
	{ OPT_RESCAN, "INFLIGHT_RESCAN" },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct target_options *t = state->input;
	const struct argp_option *o;
	char err[512], name[48];
	int rc;

	if (key == 'v') {
		t->verbose = true;
		return 0;
	}
	for (o = options; o->name || o->doc; o++)
		if (o->key == key && o->name)
			break;
	snprintf(name, sizeof(name), "--%s", o->name ? o->name : "?");
	if (key < 0x100 && key != 'b' && key != 'p' && key != 'f' && key != 'u' && key != 'c' &&
	    key != 'n')
		return ARGP_ERR_UNKNOWN;
	rc = set_option(t, key, arg ? arg : "", name, err, sizeof(err));
	if (rc > 0)
		return ARGP_ERR_UNKNOWN;
	if (rc < 0)
		usage_error(state, "%s", err);
	t->given[key & 0x1ff] = true;
	return 0;
}

const struct argp target_argp = { options, parse_opt, NULL, NULL, NULL, NULL, NULL };

/* Flag over variable; an invalid value names where it came from: -EINVAL with `err`. */
static int logging_from(const char *flag, const char *flag_name, const char *var, char *err,
			size_t errlen)
{
	const char *env = getenv(var), *v = flag ? flag : env;
	const char *src = flag ? flag_name : var;
	bool level = !strcmp(var, "INFLIGHT_LOG_LEVEL");

	if (!v || !*v)
		return 0;
	if (level) {
		enum log_level l;

		if (log_parse_level(v, &l))
			return errmsg(err, errlen, "%s%s%s: expected error, warn, info or debug", src,
				      flag ? " " : "=", v);
		log_set_level(l);
	} else {
		enum log_format f;

		if (log_parse_format(v, &f))
			return errmsg(err, errlen, "%s%s%s: expected text or json", src, flag ? " " : "=",
				      v);
		log_set_format(f);
	}
	return 0;
}

/* A whole-target error, prefixed with where the target came from (a config section). */
static void target_error(const struct target_options *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void target_error(const struct target_options *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s%s", t->where ? t->where : "", msg);
}

int target_option_known(const char *name)
{
	for (const struct argp_option *o = options; o->name || o->doc; o++)
		if (o->name && o->key != 'v' && o->key != OPT_LOG_LEVEL &&
		    o->key != OPT_LOG_FORMAT && !strcmp(o->name, name))
			return 1;
	return 0;
}

int target_option_set(struct target_options *t, const char *name, const char *value,
		      const char *src, char *err, size_t errlen)
{
	for (const struct argp_option *o = options; o->name || o->doc; o++) {
		if (!o->name || strcmp(o->name, name))
			continue;
		/* flags without a value take true/false in a file */
		if (!o->arg && o->key != OPT_PYTHON)
			break;
		return set_option(t, o->key, value, src, err, errlen);
	}
	return errmsg(err, errlen, "%s: not a target option", src);
}

int target_options_logging(struct target_options *t, char *err, size_t errlen)
{
	/* the format first, so a bad level is reported (by the caller) in the chosen format */
	int rc = logging_from(t->log_format, "--log-format", "INFLIGHT_LOG_FORMAT", err, errlen);

	if (!rc)
		rc = logging_from(t->log_level, "--log-level", "INFLIGHT_LOG_LEVEL", err, errlen);
	if (rc)
		return rc;
	if (t->verbose)
		log_set_level(INFLIGHT_LOG_DEBUG);
	return 0;
}

const char *target_options_any_given(const struct target_options *t)
{
	for (const struct argp_option *o = options; o->name || o->doc; o++)
		if (o->name && target_option_known(o->name) && t->given[o->key & 0x1ff])
			return o->name;
	for (size_t i = 0; i < ARRAY_SIZE(env_options); i++) {
		const char *v = getenv(env_options[i].var);

		if (v && *v)
			return env_options[i].var;
	}
	return NULL;
}

int target_options_finish(struct target_options *t)
{
	struct fetch_spec_error e;
	char err[512];

	/* INFLIGHT_* variables for what no flag gave (a config target has none) */
	for (size_t i = 0; !t->from_file && i < ARRAY_SIZE(env_options); i++) {
		const char *v = getenv(env_options[i].var);

		if (!v || !*v || t->given[env_options[i].key & 0x1ff])
			continue;
		if (env_options[i].key == 'p') {
			/* a list: "4242,4243" */
			char *copy = strdup(v), *save = NULL;

			for (char *p = copy ? strtok_r(copy, ", ", &save) : NULL; p;
			     p = strtok_r(NULL, ", ", &save)) {
				if (set_option(t, 'p', p, "INFLIGHT_PID", err, sizeof(err))) {
					free(copy);
					log_error("%s", err);
					return EXIT_USAGE;
				}
			}
			free(copy);
			continue;
		}
		if (set_option(t, env_options[i].key, v, env_options[i].var, err, sizeof(err))) {
			log_error("%s", err);
			return EXIT_USAGE;
		}
	}

	if (!t->from_file && target_options_logging(t, err, sizeof(err))) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	t->cfg.pids = t->pids;
	if (t->cfg.python_exe)
		t->cfg.python = true;
	if ((t->cfg.target.match_exe || t->cfg.target.match_cmdline) &&
	    (t->cfg.target.binary || t->cfg.npids || t->cfg.python_exe)) {
		target_error(t, "--match-exe/--match-cmdline find the processes themselves: give no --binary, --pid or --python-exe with them");
		return EXIT_USAGE;
	}
	if (t->cfg.target.rescan_ms && !t->cfg.target.match_exe && !t->cfg.target.match_cmdline) {
		target_error(t, "--rescan goes with --match-exe or --match-cmdline");
		return EXIT_USAGE;
	}
	if (t->cfg.python) {
		if (t->cfg.target.func || t->cfg.target.usdt || t->cfg.target.binary || t->chain_spec || t->cfg.target.chain_name) {
			target_error(t, "--python reads Python frames: --binary, --func, --usdt, --chain and --chain-name do not apply (use --py-func, --py-chain)");
			return EXIT_USAGE;
		}
		if (!t->cfg.npids && !t->cfg.python_exe && !t->cfg.target.match_exe &&
		    !t->cfg.target.match_cmdline) {
			target_error(t, "--python needs --pid PID (repeatable), --match-exe GLOB, --match-cmdline REGEX or --python-exe PATTERN");
			return EXIT_USAGE;
		}
		return 0;
	}
	if (t->cfg.py_func || t->cfg.py_file || t->cfg.py_chain) {
		target_error(t, "--py-func, --py-file and --py-chain go with --python");
		return EXIT_USAGE;
	}
	if (t->cfg.npids > 1) {
		target_error(t, "several --pid go with --python; a native target takes one");
		return EXIT_USAGE;
	}
	if (!t->cfg.target.binary && !t->cfg.target.pid && !t->cfg.target.match_exe && !t->cfg.target.match_cmdline) {
		target_error(t, "no target: give --binary PATH, --pid PID, or --match-exe GLOB / --match-cmdline REGEX (see --help)");
		return EXIT_USAGE;
	}
	if ((t->cfg.target.match_exe || t->cfg.target.match_cmdline) && t->cfg.target.usdt) {
		target_error(t, "--match-exe/--match-cmdline work with --func (a USDT target takes --binary)");
		return EXIT_USAGE;
	}
	if (!t->cfg.target.func && !t->cfg.target.usdt) {
		target_error(t, "nothing to probe: give --func SYMBOL or --usdt PROVIDER:ENTRY,PROVIDER:RETURN");
		return EXIT_USAGE;
	}
	if (t->cfg.target.func && t->cfg.target.usdt) {
		target_error(t, "--func and --usdt exclude each other: give one");
		return EXIT_USAGE;
	}
	if (t->chain_spec && t->cfg.target.chain_name) {
		target_error(t, "--chain and --chain-name exclude each other: give one");
		return EXIT_USAGE;
	}
	if (t->chain_spec) {
		if (fetch_spec_parse(t->chain_spec, t->cfg.target.usdt != NULL, &t->fetch, &e)) {
			target_error(t, "--chain '%s': %s at column %d", t->chain_spec, e.msg, e.column);
			fprintf(stderr, "  %s\n  %*s^\n", t->chain_spec, e.column - 1, "");
			return EXIT_USAGE;
		}
		t->cfg.target.fetch = &t->fetch;
	} else if (!t->cfg.target.chain_name) {
		/* the function's name, or the USDT provider's */
		const char *base = t->cfg.target.func ? t->cfg.target.func : t->cfg.target.usdt;
		size_t n = strcspn(base, t->cfg.target.func ? "" : ":,");

		if (n >= sizeof(t->default_chain))
			n = sizeof(t->default_chain) - 1;
		memcpy(t->default_chain, base, n);
		t->default_chain[n] = '\0';
		t->cfg.target.chain_name = t->default_chain;
	}
	return 0;
}
