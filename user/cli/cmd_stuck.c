// SPDX-License-Identifier: MIT
/*
 * `inflight stuck --older-than 30s`: the calls in flight longer than that,
 * each with its pid, tid, chain, age and stack. Like a py-spy dump, but
 * only of the calls that matter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/stuck_native.h"
#include "cli/stuck_python.h"
#include "cli/stuck_report.h"
#include "run/target_options.h"
#include "util/clock.h"
#include "util/exit_code.h"
#include "util/log.h"
#include "util/parse_number.h"
#include "util/ticker.h"
#include "util/usage_error.h"

#define NS_PER_MS 1000000ull

struct stuck_args {
	struct target_options target;
	uint64_t older_than_ms;
	uint64_t interval_ms;
	bool json;
	const char *pin_dir;
};

enum { OPT_JSON = 0x200, OPT_OLDER_THAN, OPT_PIN_DIR };

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Calls:", 5 },
	{ "older-than", OPT_OLDER_THAN, "DURATION", 0,
	  "List the calls in flight for this long or longer: 30s, 500ms, 2m (default 30s)", 5 },
	{ "interval", 'i', "DURATION", 0,
	  "Time between readings while watching calls (CPython; default 1s)", 5 },
	{ "json", OPT_JSON, NULL, 0, "One JSON object instead of the text", 5 },
	{ "pin-dir", OPT_PIN_DIR, "DIR", 0,
	  "Native: the pinned state of `inflight run --pin-dir DIR` to read (INFLIGHT_PIN_DIR; default: run's default for the target)", 5 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct stuck_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->target;
		break;
	case OPT_OLDER_THAN:
		if (parse_duration_ms(arg, &a->older_than_ms))
			usage_error(state,
				    "--older-than '%s': expected a duration from 1ms to 24h such as 30s, 500ms or 2m",
				    arg);
		break;
	case 'i':
		if (parse_duration_ms(arg, &a->interval_ms))
			usage_error(state, "--interval '%s': expected a duration such as 500ms, 2s or 1m", arg);
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_PIN_DIR:
		if (arg[0] != '/')
			usage_error(state, "--pin-dir '%s': expected an absolute path on a bpf filesystem", arg);
		a->pin_dir = arg;
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
	"List the calls in flight for --older-than or longer: pid, tid, chain, age and stack.\n"
	"\n"
	"Examples:\n"
	"  inflight stuck --older-than 30s --python --python-exe conserver\n"
	"  inflight stuck --older-than 5m --binary ./worker --func handle --chain '+0(%di):string' --json"
	"\vCPython (--python): a frame carries no start time, so `stuck` watches the\n"
	"calls for --older-than, reading every --interval, and lists those in\n"
	"flight the whole time, their age counted from the first reading (AGE\n"
	">=...), with their Python stack (innermost first, down to the handler).\n"
	"Native targets: the pinned state of a running `inflight run` for the same\n"
	"target (--pin-dir, else its default directory) is picked up, and calls\n"
	"are listed at once, aged from their entry; without one, only calls begun\n"
	"after `stuck` attached are seen, so it watches for --older-than and one\n"
	"--interval. Native stacks follow frame pointers, as far as they go.\n"
	"Exit status: 0 (whether or not any call is listed), 2 on bad input or when\n"
	"the target cannot be read, 1 when reading fails later or when interrupted\n"
	"(SIGINT, SIGTERM) before the watch ends.";

static const struct argp argp = { options, parse_opt, NULL, doc, children, NULL, NULL };

/* Watches CPython calls for --older-than; fills `r` at the last reading. */
static int stuck_python(struct observer *o, const struct stuck_args *a, struct stuck_report *r)
{
	struct stuck_py *t = stuck_py_new();
	struct snapshot snap = { 0 };
	uint64_t interval = a->interval_ms < a->older_than_ms ? a->interval_ms
								      : a->older_than_ms;
	struct ticker tick;
	char d[32];
	int rc = 0;

	if (!t)
		return -ENOMEM;
	stuck_format_duration(a->older_than_ms * NS_PER_MS, d, sizeof(d));
	ticker_start(&tick, interval);
	/*
	 * Reading k is taken at tick k or later, and counted as taken at
	 * k intervals: a call seen from reading j to the last one has been
	 * in flight at least (last - j) intervals, whatever the delays.
	 */
	for (uint64_t k = 0;; k++) {
		uint64_t at = k * interval * NS_PER_MS;
		bool last = at >= a->older_than_ms * NS_PER_MS;

		/* the reading finds the processes (new ones, gone ones) */
		rc = observer_read(o, &snap);
		if (rc)
			break;
		if (last)
			r->ts_ns = clock_realtime_ns();
		rc = stuck_py_reading(t, observer_python(o), at, last ? r : NULL);
		if (rc || last)
			break;
		if (k == 0)
			log_info("stuck: %zu call%s in flight now; CPython frames carry no start time: watching for %s (ages count from now)",
				 stuck_py_watched(t), stuck_py_watched(t) == 1 ? "" : "s", d);
		if (ticker_wait(&tick)) {
			log_info("stuck: interrupted before %s had passed: nothing listed", d);
			rc = -EINTR;
			break;
		}
	}
	snapshot_free(&snap);
	stuck_py_free(t);
	return rc;
}

/*
 * Native: a running collector's pinned state knows every call since it
 * attached; probes of our own only those begun after now, so then the
 * calls are watched for --older-than and one interval before listing.
 */
static int stuck_native(struct observer *o, const struct stuck_args *a, const char *pin_dir,
			struct stuck_report *r)
{
	const struct target_info *info = observer_info(o);
	uint64_t wait_ms = a->older_than_ms + a->interval_ms;
	struct ticker tick;
	char d[32];

	if (!info->reused) {
		stuck_format_duration((a->older_than_ms + a->interval_ms) * NS_PER_MS, d, sizeof(d));
		log_warn("stuck: no pinned state of a running `inflight run` for this target%s%s: only calls begun from now on are seen; watching for %s",
			 pin_dir ? " in " : "", pin_dir ? pin_dir : "", d);
		ticker_start(&tick, wait_ms);
		if (ticker_wait(&tick)) {
			log_info("stuck: interrupted before %s had passed: nothing listed", d);
			return -EINTR;
		}
	}
	return stuck_native_report(o, clock_mono_ns(), r);
}

int cmd_stuck(int argc, char **argv)
{
	struct stuck_args a = { .older_than_ms = 30000, .interval_ms = 1000 };
	struct stuck_report r = { 0 };
	struct observer *o = NULL;
	char err[1024], pin_buf[4096];
	int rc;

	argp_parse(&argp, argc, argv, 0, NULL, &a);
	rc = target_options_finish(&a.target);
	if (rc)
		return rc;
	ticker_catch_signals();

	/* a named native target: what a running `inflight run` pinned for it, read as it is */
	if (!a.target.cfg.python && !a.target.cfg.target.match_exe &&
	    !a.target.cfg.target.match_cmdline && !a.target.cfg.target.usdt) {
		const char *env = getenv("INFLIGHT_PIN_DIR");

		if (!a.pin_dir && env && *env)
			a.pin_dir = env;
		if (!a.pin_dir) {
			observer_default_pin_dir(&a.target.cfg, pin_buf, sizeof(pin_buf));
			a.pin_dir = pin_buf;
		}
		a.target.cfg.target.pin_dir = a.pin_dir;
		a.target.cfg.target.adopt_only = true;
	} else {
		a.pin_dir = NULL;
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
	r.older_than_ns = a.older_than_ms * NS_PER_MS;
	if (observer_python(o)) {
		rc = stuck_python(o, &a, &r);
	} else {
		rc = stuck_native(o, &a, a.pin_dir, &r);
	}
	if (rc == 0) {
		stuck_report_sort(&r);
		if (a.json)
			stuck_render_json(stdout, &r);
		else
			stuck_render_text(stdout, &r);
	} else if (rc == -EINTR) {
		/* said as it happened */
	} else if (rc == -ENODEV) {
		log_error("stuck: the calls in flight cannot be listed: their reader could not be loaded (said above)");
	} else {
		log_error("stuck: cannot read the calls in flight: %s", strerror(-rc));
	}
	stuck_report_free(&r);
	observer_stop(o);
	return rc == 0 ? 0 : EXIT_RUNTIME;
}
