/* SPDX-License-Identifier: MIT */
/* The subcommands, each a main of its own. */
#ifndef INFLIGHT_CLI_H
#define INFLIGHT_CLI_H

int cmd_top(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_stuck(int argc, char **argv);

/*
 * One row of main's command table: the usage's command list, the dispatch
 * and the unknown-command error's "expected: ..." are all read from it, so a
 * command added there is offered, run and named everywhere at once.
 */
struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary; /* one line in 'inflight --help' */
};

#endif
