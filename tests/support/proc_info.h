/* SPDX-License-Identifier: MIT */
/* What /proc says of a process the tests started (or not). */
#ifndef INFLIGHT_TEST_PROC_INFO_H
#define INFLIGHT_TEST_PROC_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Alive and not a zombie: it can still run (and be read). */
bool proc_alive(pid_t pid);

/* The first word of a /proc/PID/status line ("Uid:", "CapEff:"); fails the test if unreadable. */
void proc_status(pid_t pid, const char *field, char *out, size_t size);

#endif
