// SPDX-License-Identifier: MIT
/* inflight: how many calls each chain's workers are handling right now. */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "util/exit_code.h"
#include "util/log.h"

const char *argp_program_version = "inflight " INFLIGHT_VERSION;
const char *argp_program_bug_address = NULL;

static const char usage[] =
	"Usage: inflight COMMAND [OPTION...]\n"
	"\n"
	"Counts, per chain, the calls of a worker's handle function that are in\n"
	"flight right now, from outside the worker (eBPF uprobes).\n"
	"\n"
	"Commands:\n"
	"  run    the collector: export over OTLP, for Prometheus or to the console\n"
	"  top    live per-chain table (--once, --json for scripts)\n"
	"  list   functions and USDT probes a binary or process offers\n"
	"  detach remove the probes and counts `run` pinned for its successor\n"
	"\n"
	"Examples:\n"
	"  OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 \\\n"
	"    inflight run --binary ./worker --func handle --chain '+0(%di):string'\n"
	"  inflight top --binary ./worker --func handle --chain '+0(%di):string'\n"
	"  inflight list --pid 4242 --match handle\n"
	"\n"
	"'inflight COMMAND --help' for a command's options; 'inflight --version'.\n";

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	/* a usage error exits 2, like every other bad input */
	argp_err_exit_status = EXIT_USAGE;
	log_route_libbpf();

	if (!cmd || !strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage, cmd ? stdout : stderr);
		return cmd ? 0 : EXIT_USAGE;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("%s\n", argp_program_version);
		return 0;
	}
	/* argv[0] becomes "inflight top" in argp's messages */
	if (!strcmp(cmd, "top")) {
		argv[1] = "inflight top";
		return cmd_top(argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "run")) {
		argv[1] = "inflight run";
		return cmd_run(argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "detach")) {
		argv[1] = "inflight detach";
		return cmd_detach(argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "list")) {
		argv[1] = "inflight list";
		return cmd_list(argc - 1, argv + 1);
	}
	log_error("unknown command '%s' (expected: run, top, list, detach; see inflight --help)", cmd);
	return EXIT_USAGE;
}
