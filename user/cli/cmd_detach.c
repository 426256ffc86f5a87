// SPDX-License-Identifier: MIT
/* `inflight detach`: removes pinned probes and counts left for a successor. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "run/target_options.h"
#include "util/exit_code.h"
#include "util/usage_error.h"
#include "util/log.h"
#include "probe/pin.h"

struct detach_args {
	struct target_options target;
	const char *pin_dir;
	bool all;
};

enum { OPT_PIN_DIR = 0x500, OPT_ALL };

static const struct argp_option options[] = {
	{ "pin-dir", OPT_PIN_DIR, "DIR", 0, "The pinned state to remove", 5 },
	{ "all", OPT_ALL, NULL, 0, "Every target's pinned state under " PIN_ROOT, 5 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct detach_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->target;
		break;
	case OPT_PIN_DIR:
		a->pin_dir = arg;
		break;
	case OPT_ALL:
		a->all = true;
		break;
	case ARGP_KEY_ARG:
		usage_error(state, "unexpected argument '%s'", arg);
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
	"Detach the probes `inflight run` left pinned for its successor, and drop\n"
	"their counts.\n"
	"\n"
	"Examples:\n"
	"  inflight detach --binary /usr/bin/worker --func handle --chain '+0(%di):string'\n"
	"  inflight detach --pin-dir /sys/fs/bpf/inflight/3f2a...\n"
	"  inflight detach --all";

static const struct argp argp = { options, parse_opt, NULL, doc, children, NULL, NULL };

static int detach_dir(const char *dir)
{
	if (!pin_exists(dir)) {
		log_error("%s: no pinned inflight state there", dir);
		return EXIT_USAGE;
	}
	if (pin_remove(dir)) {
		log_error("%s: could not remove all of it", dir);
		return EXIT_RUNTIME;
	}
	log_info("detached: %s removed", dir);
	return 0;
}

int cmd_detach(int argc, char **argv)
{
	struct detach_args a = { 0 };
	char dir[PATH_MAX];
	int rc;

	argp_parse(&argp, argc, argv, 0, NULL, &a);
	if (a.all) {
		DIR *d = opendir(PIN_ROOT);
		struct dirent *e;

		rc = 0;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(dir, sizeof(dir), "%s/%s", PIN_ROOT, e->d_name);
			if (pin_exists(dir))
				rc |= detach_dir(dir);
		}
		if (d)
			closedir(d);
		return rc;
	}
	if (a.pin_dir)
		return detach_dir(a.pin_dir);
	rc = target_options_finish(&a.target);
	if (rc)
		return rc;
	observer_default_pin_dir(&a.target.cfg, dir, sizeof(dir));
	return detach_dir(dir);
}
