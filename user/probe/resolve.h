/* SPDX-License-Identifier: MIT */
/*
 * Target resolution, without BPF: the file to probe for a target (its
 * pid's executable, a library it maps, or a path), where the entry and exit
 * probes go, and the runtimes' helpers to probe beside them (C++'s
 * __cxa_begin_catch, glibc's longjmp, Go's runtime).
 */
#ifndef INFLIGHT_RESOLVE_H
#define INFLIGHT_RESOLVE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "probe/elf_file.h"
#include "probe/exit_sites.h"
#include "probe/go_binary.h"
#include "probe/target_spec.h"

/* What the target resolution found. */
struct resolved {
	struct elf_file *ef;
	struct elf_func func;
	uint64_t entry_offset; /* where entry (and uretprobe) probes go */
	char usdt_provider[256], usdt_entry[256], usdt_return[256];
	struct exit_site *sites;
	int nsites;
	const char *cxx_catch_path; /* the opened file to probe __cxa_begin_catch in, or NULL */
	struct elf_file *catch_ef;  /* that file, when not `ef` */
	char catch_path[PATH_MAX];  /* its name, for messages */
	uint64_t catch_offset;
	/* glibc's longjmp entry points (aliases share one), in longjmp_probe */
	const char *longjmp_probe;  /* the opened file to probe */
	struct elf_file *longjmp_ef; /* that file, when not `ef` */
	char longjmp_path[PATH_MAX]; /* its name, for messages */
	uint64_t longjmp_offsets[4];
	int nlongjmp;
	bool go; /* a Go binary: frames per goroutine, see `gob` */
	struct go_binary gob;
};

/*
 * A function target: the file (`spec` pid's executable, or a library it
 * maps) and the function in it, its exits in instruction mode. Fills
 * `info`'s binary, what, mode and the like. 0, or a negative errno with
 * `err` naming the input (-ENOENT: no such file or function, -EEXIST:
 * several functions of the name, -EINVAL: a bad option); `r` is freed by
 * resolved_free either way.
 */
int resolve_target(const struct target_spec *spec, struct resolved *r, struct target_info *info,
		   char *err, size_t errlen);
/* A USDT pair: the file, both probes checked to be in it. 0 or a negative errno with `err`. */
int resolve_usdt(const struct target_spec *spec, struct resolved *r, struct target_info *info,
		 char *err, size_t errlen);
void resolved_free(struct resolved *r);

/* "PROVIDER:ENTRY,PROVIDER:RETURN" into `r`. 0 or -EINVAL with `err`. */
int resolve_parse_usdt(const char *spec, struct resolved *r, char *err, size_t errlen);

#endif
