/* SPDX-License-Identifier: MIT */
/*
 * A CPython process as the frame walker sees it: which mapped file holds
 * the interpreter (the executable, or libpython for shared builds), where
 * its _PyRuntime and type objects sit in the process, and its version,
 * read from the process itself (Py_Version; 3.10 has none: its file name),
 * and the layout its frame walk follows: for 3.13+ from the process's own
 * debug offsets, before that from the table.
 */
#ifndef INFLIGHT_PY_PROCESS_H
#define INFLIGHT_PY_PROCESS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "python/py_layout.h"

struct py_process {
	pid_t pid;
	uint64_t start_time;  /* /proc/PID/stat starttime: a reused pid differs */
	char image[4096];     /* the file holding the interpreter, for messages */
	char version[16];     /* "3.12.1" */
	int minor;
	struct py_layout L;   /* valid when py_process_open returned 0 */
	uint64_t runtime;     /* &_PyRuntime in the process */
	uint64_t unicode_type, dict_type, cell_type, code_type;
	/* the walk's check that the layout holds (sys.version read back) */
	bool layout_checked, layout_bad;
};

/*
 * Finds the interpreter in process `pid`. Returns 0 (supported), 1 (a
 * CPython of a version inflight does not read: `why` says which), or a
 * negative errno (`why` says which): -ESRCH (gone), -ENOENT (not a CPython
 * process, or its version or types cannot be found), or proc_read's (its
 * memory unreadable).
 */
int py_process_open(pid_t pid, struct py_process *out, char *why, size_t whylen);

/* The process's start time (clock ticks since boot), 0 if it is gone. */
uint64_t proc_start_time(pid_t pid);
/* Its parent's pid, 0 if it is gone. */
pid_t proc_parent(pid_t pid);

#endif
