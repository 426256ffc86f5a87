/* SPDX-License-Identifier: MIT */
/*
 * --binary PATH replaced on disk (a package upgrade writes a new file and
 * renames it over the old: a new inode). The probes sit on the old inode,
 * which the processes started before keep running; processes started from
 * the new file would count nothing. So the path is looked at every
 * FOLLOW_CHECK_MS and a new file gets probes of its own, next to the old
 * one's (up to FOLLOW_MAX_FILES files). What cannot be followed is said
 * once and counted as an attach failure.
 */
#ifndef INFLIGHT_FOLLOW_H
#define INFLIGHT_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "probe/probe.h"
#include "probe/resolve.h"
#include "probe/target_spec.h"

#define FOLLOW_MAX_FILES 4

struct follow {
	bool on;
	struct target_spec spec;
	enum return_mode mode; /* the programs loaded: each file is attached the same way */
	uint32_t block;        /* exit-site keys per file, in instruction mode */
	dev_t dev[FOLLOW_MAX_FILES];
	ino_t ino[FOLLOW_MAX_FILES];
	size_t n;
	dev_t refused_dev; /* the file last said to be unfollowable: said once */
	ino_t refused_ino;
	uint64_t failures;
	uint64_t last_ms;
};

/*
 * Before the object is sized: the exit-site keys to make room for, a block
 * per file the path may be followed to (0: not followed, or no exit sites).
 */
uint32_t follow_exit_slots(struct follow *f, const struct target_spec *spec,
			   const struct resolved *r, enum return_mode mode, bool usdt);
/* After the first file is attached (or its pinned probes adopted). */
void follow_init(struct follow *f, const struct target_spec *spec, const struct resolved *r,
		 enum return_mode mode);
uint64_t follow_poll_in_ms(const struct follow *f);
/* Looks at the path; a new file gets probes from `p` into `ll`, pinned in `info->pin_dir` if `p` is. */
void follow_poll(struct follow *f, struct probe *p, struct probe_links *ll, struct target_info *info);

#endif
