/* SPDX-License-Identifier: MIT */
/*
 * Which processes are workers, for discovery: an executable glob
 * (--match-exe, against the path the process sees and its basename) and a
 * command-line regex (--match-cmdline, POSIX extended, against the
 * arguments joined by spaces). Both given: both must match.
 */
#ifndef INFLIGHT_PROC_MATCH_H
#define INFLIGHT_PROC_MATCH_H

#include <limits.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct proc_match {
	const char *exe_glob; /* NULL: any */
	bool has_re;
	regex_t re;
};

/* A matching process and the file behind its executable. */
struct proc_exe {
	pid_t pid;
	dev_t dev;
	ino_t ino;
	char shown[PATH_MAX]; /* the executable as the process sees it */
	int err;              /* why it could not be read (an errno), when not */
};

/* 0, or -EINVAL with `err` naming the flag and what is wrong with the value. */
int proc_match_init(struct proc_match *m, const char *exe_glob, const char *cmdline_re,
		    char *err, size_t errlen);
void proc_match_free(struct proc_match *m);

/* The matching itself, on text already read. */
bool proc_match_text(const struct proc_match *m, const char *exe, const char *cmdline);

/*
 * Reads /proc/PID and matches it: 1 with `out` filled, 0 if it does not
 * match, a negative errno if it cannot be read: -ENOENT when gone or a
 * kernel thread, -EACCES or -EPERM when reading it is refused (the errno
 * also in out->err, with out->pid).
 */
int proc_match_pid(const struct proc_match *m, pid_t pid, struct proc_exe *out);

/*
 * A /proc link to the executable of `pid` into `link`: /proc/PID/exe, or,
 * once its main thread has exited while others run (the leader a zombie,
 * its exe link gone), a live thread's /proc/PID/task/TID/exe. 0, or
 * -ENOENT if none can be read (`link` is /proc/PID/exe then).
 */
int proc_exe_link(pid_t pid, char *link, size_t size);

/* The command line of `pid`, arguments joined by spaces ("" if unreadable). */
void proc_cmdline(pid_t pid, char *out, size_t size);

#endif
