/* SPDX-License-Identifier: MIT */
/* The CPython interpreters the tests run the conserver stand-in under. */
#ifndef INFLIGHT_TEST_PYTHONS_H
#define INFLIGHT_TEST_PYTHONS_H

#include <stddef.h>

/* The Debian sid root (tools/sid-root.sh) holding sid's CPythons. */
#define SID_ROOT "/var/cache/inflight-test/sid-root"

/* An interpreter under test: on this machine, or inside a root of its own. */
struct interp {
	char *python; /* its path (inside `root`, if any) */
	char *root;   /* NULL, or the root it runs in (chroot) */
	char *label;  /* for test names: "sid " before the path if in the sid root */
	int minor;    /* 3.<minor>, from the path; -1 if it has none */
};

/*
 * Every CPython 3.10+ on this machine (pyenv's and Debian's), and those of
 * the sid root, which tools/sid-root.sh builds once (make deps): a malloc'd
 * array in *out (NULL if none), its length returned. Aborts on no memory.
 */
size_t find_pythons(struct interp **out);

/* Frees what find_pythons gave. */
void free_pythons(struct interp *list, size_t n);

#endif
