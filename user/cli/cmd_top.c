// SPDX-License-Identifier: MIT
/* `inflight top`: a live per-chain table, or JSON lines for scripts. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"
#include "run/target_options.h"
#include "util/exit_code.h"
#include "util/usage_error.h"
#include "util/parse_number.h"
#include "util/log.h"
#include "cli/rate.h"
#include "cli/render.h"
#include "util/ticker.h"

struct top_args {
	struct target_options target;
	uint64_t interval_ms;
	uint32_t count; /* 0: until interrupted */
	bool json;
};

enum { OPT_ONCE = 0x200, OPT_JSON, OPT_COUNT };

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Display:", 5 },
	{ "interval", 'i', "DURATION", 0, "Time between readings: 500ms, 2s, 1m (default 1s)", 5 },
	{ "once", OPT_ONCE, NULL, 0, "Print one reading after one interval and exit", 5 },
	{ "count", OPT_COUNT, "N", 0, "Print N readings and exit", 5 },
	{ "json", OPT_JSON, NULL, 0, "One JSON object per reading per line", 5 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct top_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->target;
		break;
	case 'i':
		if (parse_duration_ms(arg, &a->interval_ms))
			usage_error(state, "--interval '%s': expected a duration such as 500ms, 2s or 1m", arg);
		break;
	case OPT_ONCE:
		a->count = 1;
		break;
	case OPT_COUNT:
		if (parse_u32(arg, 1, UINT32_MAX, &a->count))
			usage_error(state, "--count '%s': expected a positive number", arg);
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case ARGP_KEY_ARG:
		usage_error(state, "unexpected argument '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &target_argp, 0, NULL, 0 },
	{ 0 },
};

static const char doc[] =
	"Show how many calls of a function are in flight right now, per chain.\n"
	"\n"
	"Examples:\n"
	"  inflight top --binary ./worker --func handle --chain '+0(%di):string'\n"
	"  inflight top --pid 4242 --func handle_job --chain '$arg2:u32' --json --once\n"
	"  inflight top --binary /usr/lib/libwork.so --func work --chain-name jobs\n"
	"  inflight top --pid 4242 --usdt app:job_start,app:job_done --chain '+0($arg1):string'\n"
	"  inflight top --binary ./goworker --func main.handle --chain '%ax:gostring'"
	"\vOLDEST is the age of each chain's oldest call in flight (CPython: since the\n"
	"first reading that saw it); HISTORY its in-flight count at the last 20\n"
	"readings.\n"
	"With probes, counting starts when they attach: calls already running then\n"
	"are not counted. Exits no return probe sees (thread exit, exec, longjmp,\n"
	"exceptions, a goroutine's end or recovered panic) are repaired. With\n"
	"--python there are no probes: each reading counts the calls running at\n"
	"that moment, those running at start included. Exit status: 0 on success,\n"
	"2 on bad input, when the probes cannot be attached, or when the process\n"
	"of --pid has exited.";

static const struct argp argp = { options, parse_opt, NULL, doc, children, NULL, NULL };

/* Gone or a zombie: the process of --pid will call nothing more. */
static bool pid_exited(pid_t pid)
{
	char path[64], buf[512], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the state follows the command name's closing parenthesis */
	p = strrchr(buf, ')');
	return p && p[1] && (p[2] == 'Z' || p[2] == 'X');
}

int cmd_top(int argc, char **argv)
{
	struct top_args a = { .interval_ms = 1000 };
	struct snapshot snap = { 0 };
	struct rate_table rates = { 0 };
	struct history_table history = { 0 };
	struct render_extra extra = { .history = &history, .ascii = !locale_is_utf8() };
	struct observer *o = NULL;
	struct ticker tick;
	char err[1024];
	int rc, shown_lines = 0;
	bool tty;

	argp_parse(&argp, argc, argv, 0, NULL, &a);
	rc = target_options_finish(&a.target);
	if (rc)
		return rc;

	ticker_catch_signals();

	/*
	 * top shows no durations, but its probes time returns as run's do, so
	 * `make bench` measures what run costs; INFLIGHT_DURATION=false makes
	 * them as run's --no-duration (for the benchmark of that).
	 */
	{
		const char *d = getenv("INFLIGHT_DURATION");

		a.target.cfg.target.untimed = d && !strcmp(d, "false");
	}
	o = observer_start(&a.target.cfg, err, sizeof(err));
	if (!o) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	{
		char what[512];

		observer_describe(o, what, sizeof(what));
		log_info("%s", what);
	}
	tty = !a.json && isatty(STDOUT_FILENO);
	ticker_start(&tick, a.interval_ms);
	rc = 0;
	for (uint32_t shown = 0; !a.count || shown < a.count; shown++) {
		if (observers_wait_tick(&o, 1, &tick))
			break;
		if (observer_read(o, &snap)) {
			log_error("cannot read the counters: %s", strerror(errno));
			rc = EXIT_RUNTIME;
			break;
		}
		{
			/* out of memory for the rates: shown as unknown, the rest as ever */
			const double *r = rate_update(&rates, &snap) ? NULL : rates.rate;

			/* out of memory for the history: this reading is left out of it */
			history_update(&history, &snap);
			if (a.json)
				render_json(stdout, &snap, r, &extra);
			else
				shown_lines = render_table(stdout, &snap, r, observer_info(o), tty,
							   shown_lines, &extra);
		}
		/* an empty table forever would look like an idle worker */
		if (a.target.cfg.target.pid && pid_exited(a.target.cfg.target.pid)) {
			fflush(stdout);
			log_error("--pid %d: the process has exited; nothing more to show",
				  (int)a.target.cfg.target.pid);
			rc = EXIT_USAGE;
			break;
		}
	}
	snapshot_free(&snap);
	rate_free(&rates);
	history_free(&history);
	observer_stop(o);
	return rc;
}
