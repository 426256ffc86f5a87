/* SPDX-License-Identifier: MIT */
/*
 * Finding the file to probe: a path, a process's executable seen through
 * /proc/PID/root (so containers and other mount namespaces work), or a
 * library the process has mapped.
 */
#ifndef INFLIGHT_TARGET_H
#define INFLIGHT_TARGET_H

#include <stddef.h>
#include <sys/types.h>

/* The process's executable as a path we can open: /proc/PID/root/<exe>. */
int target_pid_exe(pid_t pid, char *out, size_t outsz, char *err, size_t errlen);

/*
 * The i-th distinct executable file mapping of the process (0-based), as a
 * path through /proc/PID/root. Returns 0, or -1 when there is no i-th.
 */
int target_pid_mapping(pid_t pid, size_t i, char *out, size_t outsz);

/*
 * A path the user named: used as is when it contains '/', else looked up in
 * $PATH and the standard library directories (with `root` as prefix, "" for
 * the host). Returns 0 or -1 with `err` set.
 */
int target_find_file(const char *name, const char *root, char *out, size_t outsz,
		     char *err, size_t errlen);

/* The /proc/PID/root prefix for a pid, or "" for 0. */
void target_root(pid_t pid, char *out, size_t outsz);

#endif
