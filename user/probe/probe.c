// SPDX-License-Identifier: MIT
/* The probe object's life: opened and sized, loaded, pinned or adopted, freed. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "inflight.h"
#include "inflight.skel.h"
#include "probe/pin.h"
#include "probe/pin_state.h"
#include "probe/probe_internal.h"
#include "util/array_size.h"
#include "util/clock.h"
#include "util/errmsg.h"
#include "util/log.h"

/*
 * Sizes, constants and which programs load, before the skeleton loads.
 * `r` is the one target, or NULL when discovery attaches files as it finds
 * them (every return program loads, exit sites get room for many files).
 */
static int configure(struct inflight_bpf *s, const struct target_spec *cfg,
		     const struct resolved *r, enum return_mode mode, bool usdt, __u32 exit_slots)
{
	unsigned chains = cfg->max_chains ? cfg->max_chains : TARGET_DEFAULT_MAX_CHAINS;
	/* ids 0 and 1 are reserved; ids lost to insert races need headroom */
	__u32 id_space = 2 * chains + 2;
	int ncpus = libbpf_num_possible_cpus(), err = 0;
	bool disc = !r, go = r && r->go;
	__u32 sites = exit_slots ? exit_slots + 1
		      : disc ? DISCOVERY_MAX_FILES * DISCOVERY_SITES_PER_FILE + 1
		      : r->nsites > 0 ? (__u32)r->nsites + 1 : 1;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	if (cfg->fetch)
		memcpy((void *)&s->rodata->fetch, cfg->fetch, sizeof(*cfg->fetch));
	s->rodata->filter_tgid = (__u32)cfg->pid;
	s->rodata->id_space = id_space;
	s->rodata->ncpus = (__u32)ncpus;
	s->rodata->watch_by_tgid = disc;
	s->rodata->by_cgroup = cfg->by_cgroup;
	if (cfg->by_cgroup && cfg->chain_name)
		memcpy((void *)s->rodata->const_chain, cfg->chain_name, strlen(cfg->chain_name));
	s->rodata->notify_exec = disc;
	s->rodata->go_goid_off = go ? r->gob.goid_offset : 0;
	err = err ?: bpf_map__set_max_entries(s->maps.chain_ids, chains);
	err = err ?: bpf_map__set_max_entries(s->maps.go_pending, go ? PROBE_GO_MAX_GOROUTINES : 1);
	err = err ?: bpf_map__set_max_entries(s->maps.entries, id_space * (__u32)ncpus);
	err = err ?: bpf_map__set_max_entries(s->maps.exits, id_space * (__u32)ncpus);
	err = err ?: bpf_map__set_max_entries(s->maps.durations, id_space * (__u32)ncpus);
	err = err ?: bpf_map__set_max_entries(s->maps.stats, INFLIGHT_STAT__COUNT * (__u32)ncpus);
	err = err ?: bpf_map__set_max_entries(s->maps.series_start, id_space);
	err = err ?: bpf_map__set_max_entries(s->maps.id_states, id_space);
	err = err ?: bpf_map__set_max_entries(s->maps.free_ids, id_space);
	err = err ?: bpf_map__set_max_entries(s->maps.exit_sites, sites);
	/* discovery's maps stay minimal otherwise (a ring buffer is a page at least) */
	if (!disc) {
		err = err ?: bpf_map__set_max_entries(s->maps.watched, 1);
		err = err ?: bpf_map__set_max_entries(s->maps.execs, (__u32)sysconf(_SC_PAGESIZE));
	}
	err = err ?: bpf_program__set_autoload(s->progs.handle_entry, !usdt && !go);
	err = err ?: bpf_program__set_autoload(s->progs.handle_return,
					      disc || (!usdt && mode == RETURN_URETPROBE));
	err = err ?: bpf_program__set_autoload(s->progs.handle_exit_insn,
					      disc || (!usdt && !go && mode == RETURN_INSN));
	err = err ?: bpf_program__set_autoload(s->progs.go_entry, go);
	err = err ?: bpf_program__set_autoload(s->progs.go_exit_insn, go);
	err = err ?: bpf_program__set_autoload(s->progs.go_goexit, go);
	err = err ?: bpf_program__set_autoload(s->progs.go_deferreturn, go);
	err = err ?: bpf_program__set_autoload(s->progs.handle_catch,
					      disc || r->cxx_catch_path != NULL);
	err = err ?: bpf_program__set_autoload(s->progs.handle_longjmp,
					      disc || (!usdt && r->nlongjmp > 0));
	err = err ?: bpf_program__set_autoload(s->progs.handle_fork, disc);
	err = err ?: bpf_program__set_autoload(s->progs.usdt_entry, usdt);
	err = err ?: bpf_program__set_autoload(s->progs.usdt_return, usdt);
	return err;
}

static struct probe *probe_alloc(void)
{
	struct probe *p = calloc(1, sizeof(*p));

	if (p)
		p->chain_ids_fd = p->series_start_fd = p->pending_fd = p->go_pending_fd = -1;
	return p;
}

struct probe *probe_open(const struct target_spec *spec, const struct resolved *r,
			 enum return_mode mode, bool usdt, uint32_t exit_slots, char *err,
			 size_t errlen)
{
	struct probe *p = probe_alloc();

	if (!p) {
		errmsg(err, errlen, "out of memory");
		return NULL;
	}
	p->skel = inflight_bpf__open();
	if (!p->skel) {
		errmsg(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	if (configure(p->skel, spec, r, mode, usdt, exit_slots)) {
		errmsg(err, errlen, "cannot configure the BPF object: %s", strerror(errno));
		goto fail;
	}
	return p;
fail:
	probe_free(p);
	return NULL;
}

/* Maps recreated at every load, from what the object's configuration sets. */
static bool load_time_map(const struct bpf_map *m)
{
	const char *n = bpf_map__name(m);
	size_t len = strlen(n);

	return (len > 7 && !strcmp(n + len - 7, ".rodata")) ||
	       (len > 8 && !strcmp(n + len - 8, ".kconfig"));
}

int probe_reuse_maps(struct probe *p, const char *dir, char *err, size_t errlen)
{
	struct bpf_map *m;
	char path[PATH_MAX];

	bpf_object__for_each_map(m, p->skel->obj) {
		int fd;

		if (load_time_map(m))
			continue;
		pin_map_path(path, sizeof(path), dir, bpf_map__name(m));
		fd = bpf_obj_get(path);
		if (fd < 0) {
			int e = errno;

			return errmsg_errno(err, errlen, e, "--pin-dir %s: cannot open %s: %s", dir,
					    path, strerror(e));
		}
		if (bpf_map__reuse_fd(m, fd)) {
			int e = errno;

			close(fd);
			return errmsg_errno(err, errlen, e, "--pin-dir %s: cannot reuse %s: %s", dir,
					    path, strerror(e));
		}
		close(fd); /* the map holds its own duplicate */
	}
	return 0;
}

int probe_load(struct probe *p, const char *chain_name, char *err, size_t errlen)
{
	int rc = inflight_bpf__load(p->skel);

	if (rc)
		return errmsg_errno(err, errlen, -rc,
				    "the kernel refused the BPF programs: %s (run with -v for libbpf's log)",
				    strerror(-rc));
	if (chain_name) {
		struct inflight_chain_key key = { 0 };
		__u32 id = INFLIGHT_CONST_ID;

		memcpy(key.name, chain_name, strlen(chain_name));
		if (bpf_map__update_elem(p->skel->maps.chain_ids, &key, sizeof(key), &id,
					 sizeof(id), BPF_ANY)) {
			int e = errno;

			return errmsg_errno(err, errlen, e, "cannot register --chain-name: %s",
					    strerror(e));
		}
	}
	return 0;
}

int probe_pin(struct probe *p, const char *dir, bool every_map, const struct probe_links *ll,
	      const char *identity, uint64_t *created_ns, char *err, size_t errlen)
{
	struct inflight_bpf *s = p->skel;
	/* the maps a successor reads: the pinned links keep the programs, and through them every other map, alive */
	struct bpf_map *const read_by_successor[] = {
		s->maps.chain_ids,    s->maps.entries,	 s->maps.exits,
		s->maps.stats,	      s->maps.data,	 s->maps.series_start,
		s->maps.id_states,    s->maps.free_ids, s->maps.pending,
		s->maps.go_pending,
		s->maps.durations,
	};
	struct bpf_map *maps[32], *m;
	struct inflight_meta meta = { 0 };
	char path[PATH_MAX];
	size_t n = 0;
	__u32 zero = 0;
	int e;

	if (every_map) {
		/* discovery: its successor reuses every map, so none is made anew */
		bpf_object__for_each_map(m, s->obj) {
			if (load_time_map(m) || m == s->maps.meta)
				continue;
			if (n == ARRAY_SIZE(maps))
				return errmsg_errno(err, errlen, E2BIG,
						    "--pin-dir: more maps than %zu to pin", n);
			maps[n++] = m;
		}
	} else {
		for (; n < ARRAY_SIZE(read_by_successor); n++)
			maps[n] = read_by_successor[n];
	}
	for (size_t i = 0; i < n; i++) {
		pin_map_path(path, sizeof(path), dir, bpf_map__name(maps[i]));
		if (bpf_map__pin(maps[i], path))
			goto fail;
	}
	for (size_t i = 0; i < ll->n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "link-%03zu", i);
		if (pin_path(path, sizeof(path), dir, name) || bpf_link__pin(ll->v[i], path))
			goto fail;
	}
	snprintf(meta.identity, sizeof(meta.identity), "%s", identity);
	snprintf(meta.version, sizeof(meta.version), "%s", INFLIGHT_VERSION);
	meta.layout = INFLIGHT_PIN_LAYOUT;
	meta.id_space = s->rodata->id_space;
	meta.created_ns = clock_realtime_ns();
	*created_ns = meta.created_ns;
	/* meta last: its presence says the rest is complete */
	if (bpf_map__update_elem(s->maps.meta, &zero, sizeof(zero), &meta, sizeof(meta), BPF_ANY) ||
	    pin_path(path, sizeof(path), dir, "meta") || bpf_map__pin(s->maps.meta, path))
		goto fail;
	p->pinned = true;
	return 0;
fail:
	e = errno;
	errmsg(err, errlen, "--pin-dir %s: cannot pin %s: %s", dir, path, strerror(e));
	pin_remove(dir);
	return e > 0 ? -e : -EIO;
}

static int open_pinned(struct probe *p, const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd, rc;

	rc = pin_path(path, sizeof(path), dir, name);
	if (rc)
		return rc;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (p->nfds == ARRAY_SIZE(p->fds)) {
		close(fd);
		return -EMFILE;
	}
	p->fds[p->nfds++] = fd;
	return fd;
}

int probe_adopt(struct probe **out, const char *dir, const char *identity,
		struct probe_links *held, uint64_t *since_ns, char *err, size_t errlen)
{
	struct inflight_meta m = { 0 };
	struct reader_fds fds;
	struct probe *p = probe_alloc();
	struct dirent *d;
	DIR *dd;
	int meta, rc;

	*out = NULL;
	if (!p)
		return errmsg(err, errlen, "out of memory");
	meta = open_pinned(p, dir, "meta");
	if (meta < 0 || pin_meta_read(meta, &m)) {
		log_warn("%s holds pinned state that cannot be read: replacing it (series restart)", dir);
		probe_free(p);
		return 1;
	}
	if (!pin_adoptable(dir, &m, identity)) {
		probe_free(p);
		return 1;
	}
	fds = (struct reader_fds){
		.chain_ids = open_pinned(p, dir, "chain_ids"),
		.entries = open_pinned(p, dir, "entries"),
		.exits = open_pinned(p, dir, "exits"),
		.stats = open_pinned(p, dir, "stats"),
		.data = open_pinned(p, dir, "inflight_data"),
		.series_start = open_pinned(p, dir, "series_start"),
		.id_states = open_pinned(p, dir, "id_states"),
		.free_ids = open_pinned(p, dir, "free_ids"),
		.pending = open_pinned(p, dir, "pending"),
		.go_pending = open_pinned(p, dir, "go_pending"),
		.durations = open_pinned(p, dir, "durations"),
	};
	/* pinned by a build of this layout before the histogram: nothing to time into */
	if (fds.durations == -ENOENT) {
		log_warn("%s holds pinned state without call durations: replacing it (series restart)",
			 dir);
		probe_free(p);
		return 1;
	}
	rc = probe_open_reader(p, &fds, m.id_space, err, errlen);
	if (rc) {
		probe_free(p);
		return rc;
	}
	/* the links held open, as a collector holds those it attached itself */
	dd = opendir(dir);
	while (dd && (d = readdir(dd))) {
		if (strncmp(d->d_name, "link-", 5))
			continue;
		rc = probe_links_hold_pinned(held, dir, d->d_name);
		if (rc) {
			errmsg_errno(err, errlen, -rc, "--pin-dir %s: cannot open %s: %s", dir, d->d_name,
				     strerror(-rc));
			closedir(dd);
			probe_links_destroy(held, true);
			probe_free(p);
			return rc;
		}
	}
	if (dd)
		closedir(dd);
	p->pinned = true;
	*since_ns = m.created_ns;
	*out = p;
	return 0;
}

bool probe_can_attach(const struct probe *p)
{
	return p->skel != NULL;
}

void probe_mark_pinned(struct probe *p)
{
	p->pinned = true;
}

bool probe_pinned(const struct probe *p)
{
	return p->pinned;
}

void probe_free(struct probe *p)
{
	if (!p)
		return;
	probe_unmap_counters(p);
	while (p->nfds)
		close(p->fds[--p->nfds]);
	inflight_bpf__destroy(p->skel);
	free(p);
}
