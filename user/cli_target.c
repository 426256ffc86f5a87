// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "fetch_spec.h"
#include "log.h"

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
};

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "What to observe:", 1 },
	{ "binary", 'b', "PATH", 0, "Executable or shared library holding the function (every process mapping it, now or later)", 1 },
	{ "pid", 'p', "PID", 0, "Only this process; its executable (or mapped library) is found through /proc/PID/root", 1 },
	{ "func", 'f', "SYMBOL", 0, "The handle function", 1 },
	{ "usdt", 'u', "PROV:ENTRY,PROV:RETURN", 0, "A USDT probe pair instead of a function", 1 },
	{ NULL, 0, NULL, 0, "CPython workers (frames read at each reading, no probes):", 2 },
	{ "python", OPT_PYTHON, NULL, 0, "Count frames of a Python function in CPython 3.10-3.13 processes (--pid, repeatable, or --python-exe)", 2 },
	{ "python-exe", OPT_PYTHON_EXE, "PATTERN", 0, "Every process whose executable or command line contains PATTERN (a glob if it has * ? [), and its children, found again at each reading", 2 },
	{ "py-func", OPT_PY_FUNC, "NAME", 0, "The function (default _handle_vcon)", 2 },
	{ "py-file", OPT_PY_FILE, "SUFFIX", 0, "Only code whose file name ends with SUFFIX (e.g. conserver/main.py)", 2 },
	{ "py-chain", OPT_PY_CHAIN, "ARG[\"KEY\"]", 0, "The chain: an argument by name or position, optionally a dict key (default chain_details[\"name\"])", 2 },
	{ NULL, 0, NULL, 0, "The chain each call belongs to:", 2 },
	{ "chain", 'c', "SPEC", 0, "Fetch spec in uprobe_events syntax, e.g. '+0(%di):string', '+8($arg2):u32'", 2 },
	{ "chain-name", 'n', "NAME", 0, "A constant chain name (default: the function's name)", 2 },
	{ NULL, 0, NULL, 0, "Counting:", 3 },
	{ "return", OPT_RETURN, "MODE", 0, "How returns are seen: auto (default), uretprobe, insn", 3 },
	{ "max-chains", OPT_MAX_CHAINS, "N", 0, "Chain cap; later chains count under one overflow series (default 1024)", 3 },
	{ NULL, 0, NULL, 0, "Logging (stderr, one line per event):", 4 },
	{ "verbose", 'v', NULL, 0, "Debug logging, libbpf's included (--log-level debug)", 4 },
	{ "log-level", OPT_LOG_LEVEL, "LEVEL", 0, "error, warn, info (default), debug (INFLIGHT_LOG_LEVEL)", 4 },
	{ "log-format", OPT_LOG_FORMAT, "FORMAT", 0, "text (default) or json, for log pipelines (INFLIGHT_LOG_FORMAT)", 4 },
	{ 0 },
};

void cli_usage_error(const struct argp_state *state, const char *fmt, ...)
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

int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int parse_duration_ms(const char *s, uint64_t *out_ms)
{
	char *end;
	double v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	if (!strcmp(end, "ms"))
		;
	else if (!strcmp(end, "s") || !*end)
		v *= 1000;
	else if (!strcmp(end, "m"))
		v *= 60000;
	else if (!strcmp(end, "h"))
		v *= 3600000;
	else
		return -1;
	if (v < 1 || v > 86400000.0)
		return -1;
	*out_ms = (uint64_t)v;
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct target_options *t = state->input;
	uint32_t v;
	int m;

	switch (key) {
	case 'b':
		t->cfg.binary = arg;
		break;
	case 'p':
		if (parse_u32(arg, 1, 0x3fffffff, &v))
			cli_usage_error(state, "--pid '%s': expected a process id (a positive integer)", arg);
		if (t->cfg.npids == MAX_PIDS)
			cli_usage_error(state, "--pid: at most %d processes", MAX_PIDS);
		t->pids[t->cfg.npids++] = (pid_t)v;
		t->cfg.pid = t->pids[0];
		break;
	case OPT_PYTHON:
		t->cfg.python = true;
		break;
	case OPT_PYTHON_EXE:
		if (!*arg)
			cli_usage_error(state, "--python-exe: expected a pattern");
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
			cli_usage_error(state, "--func: expected a symbol name");
		t->cfg.func = arg;
		break;
	case 'u':
		t->cfg.usdt = arg;
		break;
	case 'c':
		t->chain_spec = arg;
		break;
	case 'n':
		t->cfg.chain_name = arg;
		break;
	case OPT_RETURN:
		m = return_mode_parse(arg);
		if (m < 0)
			cli_usage_error(state, "--return '%s': expected auto, uretprobe or insn", arg);
		t->cfg.return_mode = (enum return_mode)m;
		break;
	case OPT_MAX_CHAINS:
		if (parse_u32(arg, 1, 1u << 20, &v))
			cli_usage_error(state, "--max-chains '%s': expected a number from 1 to 1048576", arg);
		t->cfg.max_chains = v;
		break;
	case 'v':
		t->verbose = true;
		break;
	case OPT_LOG_LEVEL:
		t->log_level = arg;
		break;
	case OPT_LOG_FORMAT:
		t->log_format = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp target_argp = { options, parse_opt, NULL, NULL, NULL, NULL, NULL };

/* Flag over variable; an invalid value names where it came from. */
static int logging_from(const char *flag, const char *flag_name, const char *var)
{
	const char *env = getenv(var), *v = flag ? flag : env;
	const char *src = flag ? flag_name : var;
	bool level = !strcmp(var, "INFLIGHT_LOG_LEVEL");

	if (!v || !*v)
		return 0;
	if (level) {
		enum log_level l;

		if (log_parse_level(v, &l)) {
			log_error("%s%s%s: expected error, warn, info or debug", src, flag ? " " : "=", v);
			return EXIT_USAGE;
		}
		log_set_level(l);
	} else {
		enum log_format f;

		if (log_parse_format(v, &f)) {
			log_error("%s%s%s: expected text or json", src, flag ? " " : "=", v);
			return EXIT_USAGE;
		}
		log_set_format(f);
	}
	return 0;
}

int target_options_finish(struct target_options *t)
{
	struct fetch_spec_error e;
	int rc;

	/* the format first, so a bad level is reported in the chosen format */
	rc = logging_from(t->log_format, "--log-format", "INFLIGHT_LOG_FORMAT");
	if (!rc)
		rc = logging_from(t->log_level, "--log-level", "INFLIGHT_LOG_LEVEL");
	if (rc)
		return rc;
	if (t->verbose)
		log_set_level(LOG_DEBUG);
	t->cfg.pids = t->pids;
	if (t->cfg.python_exe)
		t->cfg.python = true;
	if (t->cfg.python) {
		if (t->cfg.func || t->cfg.usdt || t->cfg.binary || t->chain_spec || t->cfg.chain_name) {
			log_error("--python reads Python frames: --binary, --func, --usdt, --chain and --chain-name do not apply (use --py-func, --py-chain)");
			return EXIT_USAGE;
		}
		if (!t->cfg.npids && !t->cfg.python_exe) {
			log_error("--python needs --pid PID (repeatable) or --python-exe PATTERN");
			return EXIT_USAGE;
		}
		return 0;
	}
	if (t->cfg.py_func || t->cfg.py_file || t->cfg.py_chain) {
		log_error("--py-func, --py-file and --py-chain go with --python");
		return EXIT_USAGE;
	}
	if (t->cfg.npids > 1) {
		log_error("several --pid go with --python; a native target takes one");
		return EXIT_USAGE;
	}
	if (!t->cfg.binary && !t->cfg.pid) {
		log_error("no target: give --binary PATH or --pid PID (see --help)");
		return EXIT_USAGE;
	}
	if (!t->cfg.func && !t->cfg.usdt) {
		log_error("nothing to probe: give --func SYMBOL or --usdt PROVIDER:ENTRY,PROVIDER:RETURN");
		return EXIT_USAGE;
	}
	if (t->cfg.func && t->cfg.usdt) {
		log_error("--func and --usdt exclude each other: give one");
		return EXIT_USAGE;
	}
	if (t->chain_spec && t->cfg.chain_name) {
		log_error("--chain and --chain-name exclude each other: give one");
		return EXIT_USAGE;
	}
	if (t->chain_spec) {
		if (fetch_spec_parse(t->chain_spec, t->cfg.usdt != NULL, &t->fetch, &e)) {
			log_error("--chain '%s': %s at column %d", t->chain_spec, e.msg, e.column);
			fprintf(stderr, "  %s\n  %*s^\n", t->chain_spec, e.column - 1, "");
			return EXIT_USAGE;
		}
		t->cfg.fetch = &t->fetch;
	} else if (!t->cfg.chain_name) {
		/* the function's name, or the USDT provider's */
		const char *base = t->cfg.func ? t->cfg.func : t->cfg.usdt;
		size_t n = strcspn(base, t->cfg.func ? "" : ":,");

		if (n >= sizeof(t->default_chain))
			n = sizeof(t->default_chain) - 1;
		memcpy(t->default_chain, base, n);
		t->default_chain[n] = '\0';
		t->cfg.chain_name = t->default_chain;
	}
	return 0;
}
