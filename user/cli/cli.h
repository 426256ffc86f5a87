/* SPDX-License-Identifier: MIT */
/* The subcommands, each a main of its own. */
#ifndef INFLIGHT_CLI_H
#define INFLIGHT_CLI_H

int cmd_top(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_detach(int argc, char **argv);

#endif
