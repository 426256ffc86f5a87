// SPDX-License-Identifier: MIT
/* `inflight list`: what can be attached in a binary or a process. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "util/errmsg.h"
#include "util/exit_code.h"
#include "util/usage_error.h"
#include "util/parse_number.h"
#include "probe/elf_file.h"
#include "util/log.h"
#include "probe/target.h"

struct list_args {
	const char *binary;
	pid_t pid;
	const char *match;
	bool libs;
};

enum { OPT_LIBS = 0x300 };

static const struct argp_option options[] = {
	{ "binary", 'b', "PATH", 0, "Executable or shared library to list", 0 },
	{ "pid", 'p', "PID", 0, "List the process's executable (through /proc/PID/root)", 0 },
	{ "libs", OPT_LIBS, NULL, 0, "With --pid: also every library the process has mapped", 0 },
	{ "match", 'm', "TEXT", 0, "Only names containing TEXT", 0 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct list_args *a = state->input;
	uint32_t v;

	switch (key) {
	case 'b':
		a->binary = arg;
		break;
	case 'p':
		if (parse_u32(arg, 1, 0x3fffffff, &v))
			usage_error(state, "--pid '%s': expected a process id (a positive integer)", arg);
		a->pid = (pid_t)v;
		break;
	case OPT_LIBS:
		a->libs = true;
		break;
	case 'm':
		a->match = arg;
		break;
	case ARGP_KEY_ARG:
		usage_error(state, "unexpected argument '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char doc[] =
	"List the functions and USDT probes inflight can attach to.\n"
	"\n"
	"Examples:\n"
	"  inflight list --binary ./worker --match handle\n"
	"  inflight list --pid 4242 --libs --match vcon";

static const struct argp argp = { options, parse_opt, NULL, doc, NULL, NULL, NULL };

/*
 * Lists `ef` and closes it. NULL: opening it failed for `why`: the errno
 * the opener left (nothing runs between), negative, with `err` for the
 * caller to print.
 */
static int list_file(struct elf_file *ef, const char *shown, const char *why, const char *match,
		     char *err, size_t errlen)
{
	const struct elf_func *funcs;
	const struct usdt_note *notes;
	size_t n, shown_n = 0;

	if (!ef)
		return errmsg_errno(err, errlen, errno, "%s: %s", shown, why);
	printf("# %s\n", shown);
	n = elf_file_funcs(ef, &funcs);
	for (size_t i = 0; i < n; i++) {
		if (match && !strstr(funcs[i].name, match))
			continue;
		printf("func  %-48s 0x%-10llx %6llu bytes\n", funcs[i].name,
		       (unsigned long long)funcs[i].addr, (unsigned long long)funcs[i].size);
		shown_n++;
	}
	n = elf_file_usdt_notes(ef, &notes);
	for (size_t i = 0; i < n; i++) {
		char name[256];

		snprintf(name, sizeof(name), "%s:%s", notes[i].provider, notes[i].name);
		if (match && !strstr(name, match))
			continue;
		printf("usdt  %-48s args: %s\n", name, notes[i].args[0] ? notes[i].args : "(none)");
		shown_n++;
	}
	if (!shown_n)
		printf("(nothing%s%s%s)\n", match ? " matching '" : "", match ? match : "",
		       match ? "'" : "");
	elf_file_close(ef);
	return 0;
}

int cmd_list(int argc, char **argv)
{
	struct list_args a = { 0 };
	char path[PATH_MAX], why[256], link[64], err[PATH_MAX + 512];

	argp_parse(&argp, argc, argv, 0, NULL, &a);
	if (!!a.binary == !!a.pid) {
		log_error("give exactly one of --binary PATH or --pid PID");
		return EXIT_USAGE;
	}
	if (a.libs && !a.pid) {
		log_error("--libs goes with --pid");
		return EXIT_USAGE;
	}
	if (a.binary) {
		if (target_find_file(a.binary, "", path, sizeof(path), why, sizeof(why))) {
			log_error("--binary %s: %s", a.binary, why);
			return EXIT_USAGE;
		}
		if (list_file(elf_file_open(path, why, sizeof(why)), path, why, a.match, err,
			      sizeof(err))) {
			log_error("%s", err);
			return EXIT_USAGE;
		}
		return 0;
	}
	if (target_pid_exe(a.pid, path, sizeof(path), why, sizeof(why))) {
		log_error("--pid %d: %s", (int)a.pid, why);
		return EXIT_USAGE;
	}
	/* the file it runs, not what its path leads to inside its root now */
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)a.pid);
	if (list_file(elf_file_open_as(link, path, why, sizeof(why)), path, why, a.match, err,
		      sizeof(err))) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	if (a.libs) {
		char exe[PATH_MAX], shown[PATH_MAX + 64];
		struct target_mapping m;

		snprintf(exe, sizeof(exe), "%s", path);
		for (size_t i = 0; !target_pid_mapping(a.pid, i, &m); i++) {
			target_mapping_shown(a.pid, &m, shown, sizeof(shown));
			if (!strcmp(shown, exe))
				continue;
			putchar('\n');
			/* a library that cannot be opened is said, and the listing goes on */
			if (list_file(target_open_mapping(a.pid, &m, why, sizeof(why)), shown, why,
				      a.match, err, sizeof(err)))
				log_error("%s", err);
		}
	}
	return 0;
}
