/* SPDX-License-Identifier: MIT */
/*
 * Least privilege: attaching needs CAP_SYS_ADMIN on current kernels (uprobe
 * perf events since the CVE-2025-38466 fixes; it implies CAP_BPF and
 * CAP_PERFMON), reading other users' processes CAP_SYS_PTRACE. Once
 * attached, reading the mapped counters and exporting need none of them.
 */
#ifndef INFLIGHT_PRIVILEGES_H
#define INFLIGHT_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAP_MASK(c) (1ULL << (c))

/* Our effective capabilities, or 0 if they cannot be read. */
uint64_t privileges_effective(void);

/*
 * Keeps only the capabilities in `keep` (effective, permitted, inheritable,
 * bounding and ambient), optionally as `user` (setgid/setuid to it first).
 * 0, or a negative errno with `err` set (-EBUSY: threads run already,
 * -ENOENT: no such user, -EPERM: the capabilities did not take, else the
 * failed call's errno).
 */
int privileges_drop(uint64_t keep, const char *user, char *err, size_t errlen);

/*
 * Lets `user` create and remove entries in the directory `dirfd` (a pin
 * directory made by root that the collector still writes to after the
 * drop): its group becomes the user's, group-writable. Before the drop
 * (needs CAP_SETGID, not CAP_CHOWN). 0, or a negative errno with `err` set
 * (-ENOENT: no such user).
 */
int privileges_share_dir(int dirfd, const char *user, char *err, size_t errlen);

/*
 * Why reading another process's /proc entry or memory failed with `err`
 * (an errno), for messages: the errno's text, and CAP_SYS_PTRACE blamed
 * only when it is EACCES/EPERM and we do not hold it. Holding it, the
 * refusal is the kernel's own (e.g. an init outside our reach in a sandbox).
 */
void privileges_explain_denied(int err, char *out, size_t outsz);

#endif
