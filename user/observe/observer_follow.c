// SPDX-License-Identifier: MIT
/*
 * --binary PATH replaced on disk (a package upgrade writes a new file and
 * renames it over the old: a new inode). The probes sit on the old inode,
 * which the processes started before keep running; processes started from
 * the new file would count nothing. So the path is looked at every
 * FOLLOW_CHECK_MS and a new file gets probes of its own, next to the old
 * one's (up to FOLLOW_MAX_FILES files). What cannot be followed is said
 * once and counted as an attach failure.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "util/log.h"
#include "probe/target.h"
#include "observe/observer_int.h"

#define FOLLOW_CHECK_MS 1000

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void follow_init(struct observer *o, const struct observer_config *cfg, const struct resolved *r)
{
	struct follow *f = &o->follow;
	struct stat st;

	/* --pid: that process keeps the file it mapped; USDT: one pair of links */
	if (!cfg->binary || cfg->pid || !cfg->func || stat(elf_file_path(r->ef), &st))
		return;
	f->on = true;
	f->cfg = *cfg;
	f->mode = o->info.mode;
	f->dev[0] = st.st_dev;
	f->ino[0] = st.st_ino;
	f->n = 1;
	f->last_ms = mono_ms();
}

uint64_t follow_poll_in_ms(const struct observer *o)
{
	uint64_t since;

	if (!o->follow.on)
		return UINT64_MAX;
	since = mono_ms() - o->follow.last_ms;
	return since >= FOLLOW_CHECK_MS ? 0 : FOLLOW_CHECK_MS - since;
}

static bool known(const struct follow *f, const struct stat *st)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->dev[i] == st->st_dev && f->ino[i] == st->st_ino)
			return true;
	return false;
}

/* Pins the links added since `from`, named on from the ones pinned at start. */
static int pin_new_links(struct observer *o, size_t from, char *err, size_t errlen)
{
	char path[PATH_MAX];

	for (size_t i = from; i < o->links.n; i++) {
		if (snprintf(path, sizeof(path), "%.4000s/link-%03zu", o->info.pin_dir, i) >=
			    (int)sizeof(path) ||
		    bpf_link__pin(o->links.v[i], path))
			return errf(err, errlen, "cannot pin %s: %s", path, strerror(errno));
	}
	return 0;
}

void follow_poll(struct observer *o)
{
	struct follow *f = &o->follow;
	struct observer_config fc;
	struct observer_info fi = { 0 };
	struct resolved r = { 0 };
	char err[1024] = "", path[PATH_MAX];
	struct stat st;
	size_t before = o->links.n;

	if (!f->on)
		return;
	f->last_ms = mono_ms();
	fc = f->cfg;
	fc.return_mode = f->mode; /* the programs loaded are for this mode */
	/* the path as the start resolved it; missing for a moment mid-upgrade */
	if (target_find_file(f->cfg.binary, "", path, sizeof(path), err, sizeof(err)) ||
	    stat(path, &st) || known(f, &st) ||
	    (f->refused_dev == st.st_dev && f->refused_ino == st.st_ino))
		return;
	if (resolve_target(&fc, &r, &fi, err, sizeof(err)))
		; /* err says why */
	else if (!o->skel)
		snprintf(err, sizeof(err), "the probes were picked up from %.512s, so no new ones can be added; restart inflight without them",
			 o->info.pin_dir);
	else if (f->n == FOLLOW_MAX_FILES)
		snprintf(err, sizeof(err), "already %d files followed", FOLLOW_MAX_FILES);
	else if (fi.mode != f->mode)
		snprintf(err, sizeof(err), "the new file needs return=%s, the loaded programs return=%s",
			 return_mode_name(fi.mode), return_mode_name(f->mode));
	else if (f->mode == RETURN_INSN && r.nsites > (int)f->block)
		snprintf(err, sizeof(err), "--func %s has %d exits in the new file, room for %u",
			 f->cfg.func, r.nsites, f->block);
	else if (attach_file(o, &o->links, &fc, &r, &fi, (__u32)f->n * f->block, err,
			     sizeof(err)) ||
		 (o->pinned && pin_new_links(o, before, err, sizeof(err))))
		; /* err says why */
	else {
		f->dev[f->n] = st.st_dev;
		f->ino[f->n] = st.st_ino;
		f->n++;
		log_warn("--binary %s was replaced on disk (now %llx:%llu): probed the new file too; processes still running the old one count on",
			 f->cfg.binary, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
		goto out;
	}
	/* nothing half-attached: the links this file got so far come off */
	while (o->links.n > before) {
		bpf_link__destroy(o->links.v[--o->links.n]);
		o->info.probes--;
	}
	/* said once per file; counted as a process that cannot be observed */
	f->refused_dev = st.st_dev;
	f->refused_ino = st.st_ino;
	f->failures++;
	log_warn("--binary %s was replaced on disk (now %llx:%llu) and cannot be followed: %s; processes started from it are not counted",
		 f->cfg.binary, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, err);
out:
	resolved_free(&r);
}
