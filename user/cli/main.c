// SPDX-License-Identifier: MIT
/* inflight: how many calls each chain's workers are handling right now. */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "util/array_size.h"
#include "util/exit_code.h"
#include "util/log.h"

const char *argp_program_version = "inflight " INFLIGHT_VERSION;
const char *argp_program_bug_address = NULL;

/* in the order 'inflight --help' lists them and the unknown-command error names them */
static const struct command commands[] = {
	{ "run", cmd_run, "the collector: export over OTLP, for Prometheus or to the console" },
	{ "top", cmd_top, "live per-chain table (--once, --json for scripts)" },
	{ "stuck", cmd_stuck, "the calls in flight longer than --older-than, with their stacks" },
	{ "list", cmd_list, "functions and USDT probes a binary or process offers" },
	{ "detach", cmd_detach, "remove the probes and counts `run` pinned for its successor" },
};

#define N_COMMANDS ARRAY_SIZE(commands)

static const char usage_head[] =
	"Usage: inflight COMMAND [OPTION...]\n"
	"\n"
	"Counts, per chain, the calls of a worker's handle function that are in\n"
	"flight right now, from outside the worker (eBPF uprobes).\n"
	"\n"
	"Commands:\n";

static const char usage_tail[] =
	"\n"
	"Examples:\n"
	"  OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 \\\n"
	"    inflight run --binary ./worker --func handle --chain '+0(%di):string'\n"
	"  inflight top --binary ./worker --func handle --chain '+0(%di):string'\n"
	"  inflight stuck --older-than 30s --python --python-exe conserver\n"
	"  inflight list --pid 4242 --match handle\n"
	"\n"
	"'inflight COMMAND --help' for a command's options; 'inflight --version'.\n";

/* The usage, its command list from the table, summaries aligned one past the longest name. */
static void print_usage(FILE *f)
{
	int width = 0;

	for (size_t i = 0; i < N_COMMANDS; i++) {
		int len = (int)strlen(commands[i].name);

		if (len > width)
			width = len;
	}
	fputs(usage_head, f);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-*s %s\n", width, commands[i].name, commands[i].summary);
	fputs(usage_tail, f);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* "run, top, list, detach": the names the unknown-command error offers. */
static void command_names(char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < N_COMMANDS && len < size; i++) {
		int n = snprintf(out + len, size - len, "%s%s", i ? ", " : "", commands[i].name);

		if (n < 0)
			break;
		len += (size_t)n;
	}
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;
	const struct command *cmd;
	/*
	 * static: argv[0] may be read after main's frame is gone (an atexit
	 * handler, a thread still running at exit)
	 */
	static char prog[64];
	char names[128];

	/* a usage error exits 2, like every other bad input */
	argp_err_exit_status = EXIT_USAGE;
	log_route_libbpf();

	if (!name || !strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		print_usage(name ? stdout : stderr);
		return name ? 0 : EXIT_USAGE;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
		printf("%s\n", argp_program_version);
		return 0;
	}
	cmd = find_command(name);
	if (!cmd) {
		command_names(names, sizeof(names));
		log_error("unknown command '%s' (expected: %s; see inflight --help)", name, names);
		return EXIT_USAGE;
	}
	/* argv[0] becomes "inflight top" in argp's messages */
	snprintf(prog, sizeof(prog), "inflight %s", cmd->name);
	argv[1] = prog;
	return cmd->fn(argc - 1, argv + 1);
}
