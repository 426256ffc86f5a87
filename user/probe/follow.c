// SPDX-License-Identifier: MIT
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "probe/follow.h"
#include "probe/target.h"
#include "util/clock.h"
#include "util/log.h"

#define FOLLOW_CHECK_MS 1000

/* --pid: that process keeps the file it mapped; USDT: one pair of links */
static bool followable(const struct target_spec *spec)
{
	return spec->binary && !spec->pid && spec->func;
}

uint32_t follow_exit_slots(struct follow *f, const struct target_spec *spec,
			   const struct resolved *r, enum return_mode mode, bool usdt)
{
	if (usdt || !followable(spec) || mode != RETURN_INSN)
		return 0;
	f->block = r->nsites > DISCOVERY_SITES_PER_FILE ? (uint32_t)r->nsites
							 : DISCOVERY_SITES_PER_FILE;
	return FOLLOW_MAX_FILES * f->block;
}

void follow_init(struct follow *f, const struct target_spec *spec, const struct resolved *r,
		 enum return_mode mode)
{
	struct stat st;

	if (!followable(spec) || stat(elf_file_path(r->ef), &st))
		return;
	f->on = true;
	f->spec = *spec;
	f->mode = mode;
	f->dev[0] = st.st_dev;
	f->ino[0] = st.st_ino;
	f->n = 1;
	f->last_ms = clock_mono_ms();
}

uint64_t follow_poll_in_ms(const struct follow *f)
{
	uint64_t since;

	if (!f->on)
		return UINT64_MAX;
	since = clock_mono_ms() - f->last_ms;
	return since >= FOLLOW_CHECK_MS ? 0 : FOLLOW_CHECK_MS - since;
}

static bool known(const struct follow *f, const struct stat *st)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->dev[i] == st->st_dev && f->ino[i] == st->st_ino)
			return true;
	return false;
}

void follow_poll(struct follow *f, struct probe *p, struct probe_links *ll, struct target_info *info)
{
	struct target_spec fc;
	struct target_info fi = { 0 };
	struct resolved r = { 0 };
	char err[1024] = "", path[PATH_MAX];
	struct stat st;
	size_t before = ll->n, probes = info->probes;

	if (!f->on)
		return;
	f->last_ms = clock_mono_ms();
	fc = f->spec;
	fc.return_mode = f->mode; /* the programs loaded are for this mode */
	/* the path as the start resolved it; missing for a moment mid-upgrade */
	if (target_find_file(f->spec.binary, "", path, sizeof(path), err, sizeof(err)) ||
	    stat(path, &st) || known(f, &st) ||
	    (f->refused_dev == st.st_dev && f->refused_ino == st.st_ino))
		return;
	if (resolve_target(&fc, &r, &fi, err, sizeof(err)))
		; /* err says why */
	else if (!probe_can_attach(p))
		snprintf(err, sizeof(err), "the probes were picked up from %.512s, so no new ones can be added; restart inflight without them",
			 info->pin_dir);
	else if (f->n == FOLLOW_MAX_FILES)
		snprintf(err, sizeof(err), "already %d files followed", FOLLOW_MAX_FILES);
	else if (fi.mode != f->mode)
		snprintf(err, sizeof(err), "the new file needs return=%s, the loaded programs return=%s",
			 return_mode_name(fi.mode), return_mode_name(f->mode));
	else if (f->mode == RETURN_INSN && r.nsites > (int)f->block)
		snprintf(err, sizeof(err), "--func %s has %d exits in the new file, room for %u",
			 f->spec.func, r.nsites, f->block);
	else if (probe_attach_file(p, ll, fc.func, fc.pid, &r, fi.mode, (uint32_t)f->n * f->block,
				   info, err, sizeof(err)) ||
		 (probe_pinned(p) && probe_links_pin(ll, before, info->pin_dir, err, sizeof(err))))
		; /* err says why */
	else {
		f->dev[f->n] = st.st_dev;
		f->ino[f->n] = st.st_ino;
		f->n++;
		log_warn("--binary %s was replaced on disk (now %llx:%llu): probed the new file too; processes still running the old one count on",
			 f->spec.binary, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
		goto out;
	}
	/* nothing half-attached: the links this file got so far come off */
	probe_links_truncate(ll, before);
	info->probes = probes;
	/* said once per file; counted as a process that cannot be observed */
	f->refused_dev = st.st_dev;
	f->refused_ino = st.st_ino;
	f->failures++;
	log_warn("--binary %s was replaced on disk (now %llx:%llu) and cannot be followed: %s; processes started from it are not counted",
		 f->spec.binary, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, err);
out:
	resolved_free(&r);
}
