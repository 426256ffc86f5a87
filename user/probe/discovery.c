// SPDX-License-Identifier: MIT
/*
 * Discovery: the workers are the processes matching --match-exe and/or
 * --match-cmdline, in any PID or mount namespace on the node. One BPF object
 * serves them all; each distinct probed file (device and inode) gets its
 * probes once, shared by every process running it, and the entry counts
 * only for processes in the `watched` map (so a shared library, or a binary
 * also run by processes that do not match, counts only the workers).
 *
 * New workers are found by a full /proc scan every rescan period and at
 * once on exec (the BPF side reports every exec's tgid); a file no matched
 * process uses for two scans in a row is detached. Pinned, every map and
 * link is in the pin directory, each file's links named after it, so a new
 * collector adopts them and loses nothing.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "probe/discovery.h"
#include "probe/pin.h"
#include "probe/pin_state.h"
#include "probe/preflight.h"
#include "probe/probe.h"
#include "probe/proc_match.h"
#include "probe/resolve.h"
#include "util/array_size.h"
#include "util/clock.h"
#include "util/errmsg.h"
#include "util/log.h"
#include "util/privileges.h"
#include "util/grow.h"

#define DEFAULT_RESCAN_MS 5000
/* full scans in a row a file goes unused before its probes come off */
#define DETACH_AFTER_MISSES 2

struct disc_file {
	bool used;
	dev_t dev;
	ino_t ino;
	struct probe_links links; /* attached, not pinned yet */
	size_t npinned;         /* links pinned as f<slot>-<dev>-<ino>-<n> */
	/*
	 * The pinned ones, held open: a pin directory cleared while we run
	 * does not detach them (unpinned, they come off when we let go).
	 */
	struct probe_links held;
	char shown[256];
	unsigned missed;
	bool seen;
};

/* An executable seen in a matching process, and the file probed for it. */
struct disc_exe {
	dev_t dev;
	ino_t ino;
	int file; /* slot in files[], or -1: cannot be probed (said once) */
	bool seen;
};

struct discovery {
	struct target_spec cfg;
	struct target_info *info; /* the caller's, kept up to date */
	struct probe *probe;
	struct probe_links links; /* the tracepoints */
	struct proc_match match;
	struct disc_file files[DISCOVERY_MAX_FILES];
	struct disc_exe *exes;
	size_t nexes, capexes;
	struct ring_buffer *rb;
	pid_t execs[256]; /* tgids that exec'd, from the ring buffer */
	size_t nexecs;
	bool execs_lost;
	uint64_t rescan_ms, last_scan_ms;
	size_t processes; /* matched in the last full scan */
	bool said_denied;
	uint64_t attach_failures;
	/*
	 * The pin directory, opened before the privileges are dropped: files'
	 * pins are made and removed through it (/proc/self/fd/N), so after the
	 * drop its root-only parents need not be searchable. -1: not pinned.
	 */
	int pin_dirfd;
};

static size_t nfiles(const struct discovery *d)
{
	size_t n = 0;

	for (size_t i = 0; i < DISCOVERY_MAX_FILES; i++)
		n += d->files[i].used;
	return n;
}

/* A file's pin name: f<slot>-<dev>-<ino>-<n>. */
static void pin_name(char *out, size_t size, unsigned slot, const struct disc_file *f, size_t i)
{
	snprintf(out, size, "f%u-%llx-%llu-%03zu", slot, (unsigned long long)f->dev,
		 (unsigned long long)f->ino, i);
}

/* Takes a file's probes off: pins unlinked, links destroyed, its exit sites cleared. */
static void detach_file(struct discovery *d, unsigned slot)
{
	struct disc_file *f = &d->files[slot];
	char name[64];

	for (size_t i = 0; i < f->npinned; i++) {
		pin_name(name, sizeof(name), slot, f, i);
		if (unlinkat(d->pin_dirfd, name, 0) && errno != ENOENT)
			log_warn("--pin-dir %s: cannot remove %s: %s (its probe stays attached)",
				 d->info->pin_dir, name, strerror(errno));
	}
	d->info->probes -= f->links.n + f->npinned;
	probe_links_destroy(&f->links, false);
	/* unpinned above: closing the last fd detaches them */
	probe_links_destroy(&f->held, false);
	probe_clear_exit_sites(d->probe, slot * DISCOVERY_SITES_PER_FILE + 1, DISCOVERY_SITES_PER_FILE);
	log_info("detached from %s (%llx:%llu): no matching process runs it any more", f->shown,
		 (unsigned long long)f->dev, (unsigned long long)f->ino);
	for (size_t i = 0; i < d->nexes; i++)
		if (d->exes[i].file == (int)slot)
			d->exes[i].file = -2; /* looked at anew if seen again */
	memset(f, 0, sizeof(*f));
}

static int pin_file(struct discovery *d, unsigned slot, char *err, size_t errlen)
{
	struct disc_file *f = &d->files[slot];
	char name[64], dir[32], why[256];

	/* through the fd opened before the drop: its root-only parents need not be searchable */
	snprintf(dir, sizeof(dir), "/proc/self/fd/%d", d->pin_dirfd);
	for (size_t i = 0; i < f->links.n; i++) {
		int rc;

		pin_name(name, sizeof(name), slot, f, i);
		rc = probe_links_pin_one(&f->links, i, dir, name, why, sizeof(why));
		if (rc)
			return errmsg_errno(err, errlen, -rc, "--pin-dir %s: cannot pin %s: %s",
					    d->info->pin_dir, name, strerror(-rc));
		f->npinned = i + 1;
	}
	/* the pins hold them now, and we do while we run: a file detaches by unlinking */
	probe_links_destroy(&f->held, true);
	f->held = f->links;
	memset(&f->links, 0, sizeof(f->links));
	return 0;
}

int discovery_pin_dirfd(const struct discovery *d)
{
	return probe_pinned(d->probe) ? d->pin_dirfd : -1;
}

static struct disc_exe *exe_entry(struct discovery *d, dev_t dev, ino_t ino)
{
	struct disc_exe *v;

	for (size_t i = 0; i < d->nexes; i++)
		if (d->exes[i].dev == dev && d->exes[i].ino == ino)
			return &d->exes[i];
	v = grow_array(d->exes, &d->capexes, d->nexes + 1, sizeof(*v));
	if (!v)
		return NULL;
	d->exes = v;
	d->exes[d->nexes] = (struct disc_exe){ .dev = dev, .ino = ino, .file = -2 };
	return &d->exes[d->nexes++];
}

/* Probes the file behind a matching process's executable, once per file. */
static int attach_for(struct discovery *d, const struct proc_exe *p)
{
	struct disc_exe *x = exe_entry(d, p->dev, p->ino);
	struct target_spec fc = d->cfg;
	struct target_info fi = { 0 };
	struct resolved r = { 0 };
	char err[1024];
	struct stat st;
	int slot = -1, rc = -1;

	if (!x)
		return -1;
	x->seen = true;
	if (x->file != -2)
		return x->file;
	/* resolved in the process's own view: its root, its libraries */
	fc.binary = NULL;
	fc.pid = p->pid;
	if (resolve_target(&fc, &r, &fi, err, sizeof(err)))
		goto out;
	if (r.go) {
		/* discovery's programs keep frames per thread: wrong for goroutines */
		snprintf(err, sizeof(err), "%s is a Go binary: observe it with --binary or --pid",
			 elf_file_path(r.ef));
		goto out;
	}
	/* the file opened and parsed, whatever its name leads to now */
	elf_file_identity(r.ef, &st.st_dev, &st.st_ino);
	for (int i = 0; i < DISCOVERY_MAX_FILES; i++) {
		if (d->files[i].used && d->files[i].dev == st.st_dev && d->files[i].ino == st.st_ino) {
			x->file = i;
			rc = i;
			goto out;
		}
		if (!d->files[i].used && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		snprintf(err, sizeof(err), "already %d files probed, the most discovery attaches",
			 DISCOVERY_MAX_FILES);
		goto out;
	}
	if (r.nsites > DISCOVERY_SITES_PER_FILE) {
		snprintf(err, sizeof(err), "--func %s has %d exits, more than %d", d->cfg.func,
			 r.nsites, DISCOVERY_SITES_PER_FILE);
		goto out;
	}
	d->files[slot] = (struct disc_file){ .used = true, .dev = st.st_dev, .ino = st.st_ino };
	snprintf(d->files[slot].shown, sizeof(d->files[slot].shown), "%.255s", p->shown);
	/* every process running the file gets the probes; `watched` picks the workers */
	fc.pid = 0;
	if (probe_attach_file(d->probe, &d->files[slot].links, fc.func, fc.pid, &r, fi.mode,
			      (uint32_t)slot * DISCOVERY_SITES_PER_FILE, d->info, err, sizeof(err)) ||
	    (probe_pinned(d->probe) && pin_file(d, (unsigned)slot, err, sizeof(err)))) {
		detach_file(d, (unsigned)slot);
		goto out;
	}
	log_info("attached to %s (%llx:%llu, first seen in pid %d): %s, return=%s%s",
		 p->shown, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, (int)p->pid,
		 d->cfg.func, return_mode_name(fi.mode), fi.after_endbr ? ", after its endbr64" : "");
	x->file = slot;
	rc = slot;
out:
	if (rc < 0) {
		x->file = -1;
		d->attach_failures++;
		log_warn("pid %d (%s) matches but cannot be observed: %s", (int)p->pid, p->shown, err);
	}
	resolved_free(&r);
	return rc;
}

/* A matching process: its file probed, the process counted. */
static void take(struct discovery *d, const struct proc_exe *p)
{
	int slot = attach_for(d, p);

	if (slot < 0)
		return;
	d->files[slot].seen = true;
	if (probe_watch(d->probe, p->pid) == 0)
		log_info("watching pid %d (%s)", (int)p->pid, p->shown);
}

/*
 * A watched process keeps its file probed, though it no longer matches:
 * it renamed its command line, or its main thread exited.
 */
static void keep_file_of(void *ctx, pid_t pid)
{
	struct discovery *d = ctx;
	char link[96];
	struct stat st;

	if (proc_exe_link(pid, link, sizeof(link)) || stat(link, &st))
		return;
	for (size_t i = 0; i < d->nexes; i++) {
		struct disc_exe *x = &d->exes[i];

		if (x->dev != st.st_dev || x->ino != st.st_ino)
			continue;
		x->seen = true;
		if (x->file >= 0)
			d->files[x->file].seen = true;
	}
}

static void full_scan(struct discovery *d)
{
	pid_t self = getpid();
	struct dirent *de;
	DIR *dir = opendir("/proc");
	size_t matched = 0, denied = 0;
	struct proc_exe first_denied = { 0 };

	if (!dir) {
		log_warn("cannot read /proc: %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < d->nexes; i++)
		d->exes[i].seen = false;
	for (int i = 0; i < DISCOVERY_MAX_FILES; i++)
		d->files[i].seen = false;
	while ((de = readdir(dir))) {
		struct proc_exe p;
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (pid == self)
			continue;
		switch (proc_match_pid(&d->match, pid, &p)) {
		case 1:
			break;
		case -EACCES:
		case -EPERM:
			if (!denied++)
				first_denied = p;
			/* fallthrough */
		default:
			continue;
		}
		take(d, &p);
		matched++;
	}
	closedir(dir);
	d->processes = matched;
	if (denied && !d->said_denied) {
		char why[192];

		privileges_explain_denied(first_denied.err, why, sizeof(why));
		log_warn("%zu process%s could not be looked at: reading /proc/PID/exe of pid %d%s: %s",
			 denied, denied == 1 ? "" : "es", (int)first_denied.pid,
			 denied > 1 ? " (the first)" : "", why);
	}
	d->said_denied = denied > 0;

	/*
	 * A watched process stays watched until it execs or exits (the BPF side
	 * lets go of it then), whatever its command line becomes: PostgreSQL's
	 * backends rename theirs. Only one gone unseen is let go of here.
	 */
	probe_watched_sweep(d->probe, keep_file_of, d);
	/* forget executables gone, so a new file at that inode is looked at anew */
	for (size_t i = 0; i < d->nexes;) {
		if (!d->exes[i].seen)
			d->exes[i] = d->exes[--d->nexes];
		else
			i++;
	}
	for (unsigned i = 0; i < DISCOVERY_MAX_FILES; i++) {
		struct disc_file *f = &d->files[i];

		if (!f->used)
			continue;
		f->missed = f->seen ? 0 : f->missed + 1;
		if (f->missed >= DETACH_AFTER_MISSES)
			detach_file(d, i);
	}
	d->last_scan_ms = clock_mono_ms();
}

static int on_exec(void *ctx, void *data, size_t size)
{
	struct discovery *d = ctx;

	if (size < sizeof(__u32))
		return 0;
	if (d->nexecs == ARRAY_SIZE(d->execs)) {
		d->execs_lost = true; /* a burst: the full scan covers it */
		return 0;
	}
	d->execs[d->nexecs++] = (pid_t) * (const __u32 *)data;
	return 0;
}

void discovery_poll(struct discovery *d)
{
	d->nexecs = 0;
	d->execs_lost = false;
	ring_buffer__consume(d->rb);
	if (d->execs_lost || clock_mono_ms() - d->last_scan_ms >= d->rescan_ms) {
		full_scan(d);
		return;
	}
	for (size_t i = 0; i < d->nexecs; i++) {
		struct proc_exe p;

		if (proc_match_pid(&d->match, d->execs[i], &p) == 1)
			take(d, &p);
	}
}

void discovery_rescan(struct discovery *d)
{
	full_scan(d);
}

int discovery_event_fd(const struct discovery *d)
{
	return ring_buffer__epoll_fd(d->rb);
}

uint64_t discovery_poll_in_ms(const struct discovery *d)
{
	uint64_t since = clock_mono_ms() - d->last_scan_ms;

	return since >= d->rescan_ms ? 0 : d->rescan_ms - since;
}

/* The files an earlier collector probed: their links, by pin name. */
static void adopt_files(struct discovery *d)
{
	struct dirent *de;
	DIR *dir = opendir(d->info->pin_dir);

	while (dir && (de = readdir(dir))) {
		unsigned slot;
		unsigned long long dev, ino;
		size_t i;
		struct disc_file *f;
		int rc;

		/* the tracepoints' links: held as a collector holds those it attached */
		if (!strncmp(de->d_name, "link-", 5) &&
		    (rc = probe_links_hold_pinned(&d->links, d->info->pin_dir, de->d_name)))
			log_warn("--pin-dir %s: cannot hold %s open: %s", d->info->pin_dir, de->d_name,
				 strerror(-rc));
		if (sscanf(de->d_name, "f%u-%llx-%llu-%zu", &slot, &dev, &ino, &i) != 4 ||
		    slot >= DISCOVERY_MAX_FILES)
			continue;
		f = &d->files[slot];
		f->used = true;
		f->dev = (dev_t)dev;
		f->ino = (ino_t)ino;
		snprintf(f->shown, sizeof(f->shown), "file %llx:%llu", dev, ino);
		if (i + 1 > f->npinned)
			f->npinned = i + 1;
		rc = probe_links_hold_pinned(&f->held, d->info->pin_dir, de->d_name);
		if (rc)
			log_warn("--pin-dir %s: cannot hold %s open: %s", d->info->pin_dir, de->d_name,
				 strerror(-rc));
		d->info->probes++;
	}
	if (dir)
		closedir(dir);
}

struct discovery *discovery_start(const struct target_spec *cfg, struct target_info *info,
				  char *err, size_t errlen)
{
	struct discovery *d;
	struct inflight_meta m = { 0 };
	char why[256], identity[65];
	uint64_t created;
	bool reuse = false;

	if (cfg->binary || cfg->pid)
		return errmsg(err, errlen, "--match-exe/--match-cmdline find the processes: give neither --binary nor --pid with them"),
		       NULL;
	if (!cfg->func)
		return errmsg(err, errlen, "--match-exe/--match-cmdline work with --func SYMBOL (USDT targets take --binary)"),
		       NULL;
	if (target_spec_check_chain(cfg, err, errlen))
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return errmsg(err, errlen, "out of memory"), NULL;
	d->pin_dirfd = -1;
	d->cfg = *cfg;
	d->info = info;
	d->rescan_ms = cfg->rescan_ms ? cfg->rescan_ms : DEFAULT_RESCAN_MS;
	if (proc_match_init(&d->match, cfg->match_exe, cfg->match_cmdline, err, errlen))
		goto fail;
	if (preflight_check(why, sizeof(why))) {
		errmsg(err, errlen, "%s", why);
		goto fail;
	}
	snprintf(info->what, sizeof(info->what), "%s", cfg->func);
	snprintf(info->binary, sizeof(info->binary), "%s%s%s",
		 cfg->match_exe ? cfg->match_exe : "", cfg->match_exe && cfg->match_cmdline ? " " : "",
		 cfg->match_cmdline ? cfg->match_cmdline : "");
	snprintf(info->mode_label, sizeof(info->mode_label), "return per file");

	if (cfg->pin_dir) {
		pin_identity(cfg, NULL, cfg->return_mode, identity);
		if (pin_prepare_dir(cfg->pin_dir, err, errlen))
			goto fail;
		snprintf(info->pin_dir, sizeof(info->pin_dir), "%s", cfg->pin_dir);
		if (pin_exists(cfg->pin_dir)) {
			if (pin_meta_read_dir(cfg->pin_dir, &m))
				log_warn("%s holds pinned state that cannot be read: replacing it (series restart)",
					 cfg->pin_dir);
			else
				reuse = pin_adoptable(cfg->pin_dir, &m, identity);
			if (reuse) {
				info->reused = true;
				info->pinned_since_ns = m.created_ns;
			} else if (pin_replace(cfg->pin_dir, err, errlen)) {
				goto fail;
			}
		}
		/* after any replacing: the directory that stays */
		d->pin_dirfd = open(cfg->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (d->pin_dirfd < 0) {
			errmsg(err, errlen, "--pin-dir %s: cannot open it: %s", cfg->pin_dir,
			       strerror(errno));
			goto fail;
		}
	}
	d->probe = probe_open(cfg, NULL, cfg->return_mode, false, 0, err, errlen);
	if (!d->probe || (reuse && probe_reuse_maps(d->probe, cfg->pin_dir, err, errlen)) ||
	    probe_load(d->probe, reuse ? NULL : cfg->chain_name, err, errlen))
		goto fail;
	if (reuse) {
		/* the pinned tracepoints and files' probes never stopped */
		probe_mark_pinned(d->probe);
		adopt_files(d);
	} else {
		if (probe_attach_tracepoints(d->probe, &d->links, true, err, errlen))
			goto fail;
		if (cfg->pin_dir) {
			if (probe_pin(d->probe, cfg->pin_dir, true, &d->links, identity, &created, err,
				      errlen))
				goto fail;
			info->pinned_since_ns = created;
		}
	}
	if (probe_start_reading(d->probe, err, errlen))
		goto fail;
	d->rb = probe_exec_events(d->probe, on_exec, d);
	if (!d->rb) {
		errmsg(err, errlen, "cannot read exec events: %s", strerror(errno));
		goto fail;
	}
	full_scan(d);
	return d;
fail:
	discovery_stop(d);
	return NULL;
}

void discovery_stop(struct discovery *d)
{
	bool pinned;

	if (!d)
		return;
	pinned = d->probe && probe_pinned(d->probe);
	for (int i = 0; i < DISCOVERY_MAX_FILES; i++) {
		probe_links_destroy(&d->files[i].links, pinned);
		probe_links_destroy(&d->files[i].held, pinned);
	}
	ring_buffer__free(d->rb);
	probe_links_destroy(&d->links, pinned);
	probe_free(d->probe);
	if (d->pin_dirfd >= 0)
		close(d->pin_dirfd);
	proc_match_free(&d->match);
	free(d->exes);
	free(d);
}

struct probe *discovery_probe(const struct discovery *d)
{
	return d->probe;
}

uint64_t discovery_attach_failures(const struct discovery *d)
{
	return d->attach_failures;
}

void discovery_describe(const struct discovery *d, char *buf, size_t size)
{
	char match[600];

	snprintf(match, sizeof(match), "%s%s%s%s%s", d->cfg.match_exe ? "exe '" : "",
		 d->cfg.match_exe ? d->cfg.match_exe : "", d->cfg.match_exe ? "'" : "",
		 d->cfg.match_cmdline ? (d->cfg.match_exe ? " and cmdline /" : "cmdline /") : "",
		 d->cfg.match_cmdline ? d->cfg.match_cmdline : "");
	snprintf(buf, size, "discovering processes matching %s%s: %zu process%s, %zu file%s probed for %s%s%s (rescan every %llu ms and at each exec)",
		 match, d->cfg.match_cmdline ? "/" : "", d->processes,
		 d->processes == 1 ? "" : "es", nfiles(d), nfiles(d) == 1 ? "" : "s", d->cfg.func,
		 d->info->reused ? ", pinned state picked up from " : "",
		 d->info->reused ? d->info->pin_dir : "", (unsigned long long)d->rescan_ms);
}
