/* SPDX-License-Identifier: MIT */
/*
 * Finding the file to probe: a path, a process's executable seen through
 * /proc/PID/root (so containers and other mount namespaces work), or a
 * library the process has mapped.
 */
#ifndef INFLIGHT_TARGET_H
#define INFLIGHT_TARGET_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct elf_file;

/*
 * The process's executable as a path we can open: /proc/PID/root/<exe>. 0,
 * or a negative errno with `err` set (-ENOENT: no such process, or no
 * executable).
 */
int target_pid_exe(pid_t pid, char *out, size_t outsz, char *err, size_t errlen);

/* One line of /proc/PID/maps. */
struct maps_line {
	uint64_t start, end, offset, inode;
	uint64_t dev;     /* makedev(major, minor) of the file's device */
	char perms[5];    /* "r-xp" */
	const char *file; /* in the line (cut at its newline), or NULL: anonymous, [heap]... */
};
/* Parses `line` (modified in place): 0, or -EINVAL if it is not a maps line. */
int target_maps_line(char *line, struct maps_line *out);

/* A file mapped by a process, as /proc/PID/maps shows it. */
struct target_mapping {
	uint64_t start, end;  /* its addresses: its name in /proc/PID/map_files */
	uint64_t inode;       /* the file's inode, as maps shows it */
	uint64_t dev;         /* and its device (inode numbers are per device) */
	char file[PATH_MAX];  /* the file's name, which the process controls */
};

/*
 * The i-th distinct executable file mapping of the process (0-based).
 * Returns 0, -ENOENT when there is no i-th, or fopen's errno.
 */
int target_pid_mapping(pid_t pid, size_t i, struct target_mapping *out);
/* The mapping a maps line describes (its file, which must not be NULL). */
void target_mapping_from(const struct maps_line *ml, struct target_mapping *out);
/* Its name for messages: /proc/PID/root<file>. */
void target_mapping_shown(pid_t pid, const struct target_mapping *m, char *out, size_t outsz);
/*
 * Opens the file mapped there: through /proc/PID/map_files, the very file
 * mapped, whatever its name leads to now. Without the capability for that,
 * by its name inside the process's root, or (a process merely chrooted,
 * whose maps show names from our root) by its name in ours, either taken
 * only if it has the device and inode maps names. NULL with `err` set.
 */
struct elf_file *target_open_mapping(pid_t pid, const struct target_mapping *m, char *err,
				     size_t errlen);

/*
 * A path the user named: used as is when it contains '/', else looked up in
 * $PATH and the standard library directories (with `root` as prefix, "" for
 * the host). Returns 0 or -ENOENT with `err` set.
 */
int target_find_file(const char *name, const char *root, char *out, size_t outsz,
		     char *err, size_t errlen);

/* The /proc/PID/root prefix for a pid, or "" for 0. */
void target_root(pid_t pid, char *out, size_t outsz);

#endif
