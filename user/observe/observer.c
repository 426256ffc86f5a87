// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <stddef.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "probe/elf_file.h"
#include "util/buf.h"
#include "probe/exit_sites.h"
#include "probe/fetch_spec.h"
#include "inflight.skel.h"
#include "util/log.h"
#include "observe/observer.h"
#include "observe/observer_int.h"
#include "probe/pin.h"
#include "probe/preflight.h"
#include "util/privileges.h"
#include "python/py_observer.h"
#include "util/sha256.h"
#include "probe/target.h"
#include "util/ticker.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* a pidfd of the thread itself (Linux 6.9) */
#endif

int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int check_chain_options(const struct observer_config *cfg, char *err, size_t errlen)
{
	if (!!cfg->fetch == !!cfg->chain_name)
		return errf(err, errlen, "give exactly one of --chain SPEC or --chain-name NAME");
	if (cfg->chain_name && strlen(cfg->chain_name) >= INFLIGHT_CHAIN_LEN)
		return errf(err, errlen, "--chain-name: longer than %d bytes", INFLIGHT_CHAIN_LEN - 1);
	return 0;
}

int link_list_add(struct link_list *ll, struct bpf_link *l)
{
	if (ll->n == ll->cap) {
		size_t cap = ll->cap ? ll->cap * 2 : 16;
		struct bpf_link **v = realloc(ll->v, cap * sizeof(*v));

		if (!v) {
			bpf_link__destroy(l);
			return -ENOMEM;
		}
		ll->v = v;
		ll->cap = cap;
	}
	ll->v[ll->n++] = l;
	return 0;
}

void link_list_destroy(struct link_list *ll, bool keep_pinned)
{
	/* entry first, in reverse of attach order: no new call is counted in */
	while (ll->n) {
		struct bpf_link *l = ll->v[--ll->n];

		/* pinned: the probes stay for the next collector */
		if (keep_pinned)
			bpf_link__disconnect(l);
		bpf_link__destroy(l);
	}
	free(ll->v);
	memset(ll, 0, sizeof(*ll));
}

static int parse_usdt(const char *spec, struct resolved *r, char *err, size_t errlen)
{
	const char *comma = strchr(spec, ',');
	char entry[256], ret[256];
	char *c1, *c2;

	if (!comma || strchr(comma + 1, ','))
		return errf(err, errlen, "--usdt '%s': expected PROVIDER:ENTRY,PROVIDER:RETURN", spec);
	snprintf(entry, sizeof(entry), "%.*s", (int)(comma - spec), spec);
	snprintf(ret, sizeof(ret), "%s", comma + 1);
	c1 = strchr(entry, ':');
	c2 = strchr(ret, ':');
	if (!c1 || !c2 || c1 == entry || !c1[1] || c2 == ret || !c2[1])
		return errf(err, errlen, "--usdt '%s': expected PROVIDER:ENTRY,PROVIDER:RETURN", spec);
	*c1 = *c2 = '\0';
	snprintf(r->usdt_provider, sizeof(r->usdt_provider), "%s", entry);
	snprintf(r->usdt_entry, sizeof(r->usdt_entry), "%s", c1 + 1);
	if (strcmp(entry, ret))
		return errf(err, errlen, "--usdt '%s': entry and return probes must share a provider", spec);
	snprintf(r->usdt_return, sizeof(r->usdt_return), "%s", c2 + 1);
	return 0;
}

static bool has_usdt(const struct elf_file *ef, const char *prov, const char *name)
{
	const struct usdt_note *notes;
	size_t n = elf_file_usdt_notes(ef, &notes);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(notes[i].provider, prov) && !strcmp(notes[i].name, name))
			return true;
	return false;
}

/* Does this file hold what the config asks for? */
static bool file_has_target(const struct elf_file *ef, const struct observer_config *cfg,
			    const struct resolved *r)
{
	struct elf_func f;

	if (cfg->func)
		return elf_file_find_func(ef, cfg->func, &f) != -ENOENT;
	return has_usdt(ef, r->usdt_provider, r->usdt_entry);
}

/* Opens the file to probe: the named binary, or the process's exe or library. */
static int open_target(const struct observer_config *cfg, struct resolved *r,
		       struct observer_info *info, char *err, size_t errlen)
{
	char path[PATH_MAX], why[256], root[64], link[64];

	target_root(cfg->pid, root, sizeof(root));
	if (cfg->binary) {
		if (target_find_file(cfg->binary, root, path, sizeof(path), why, sizeof(why)))
			return errf(err, errlen, "--binary %s: %s%s", cfg->binary, why,
				    cfg->pid ? " (looked up inside the process's root)" : "");
		r->ef = elf_file_open(path, why, sizeof(why));
	} else if (cfg->pid) {
		if (target_pid_exe(cfg->pid, path, sizeof(path), why, sizeof(why)))
			return errf(err, errlen, "--pid %d: %s", (int)cfg->pid, why);
		/* the file it runs, not what its path leads to inside its root now */
		snprintf(link, sizeof(link), "/proc/%d/exe", (int)cfg->pid);
		r->ef = elf_file_open_as(link, path, why, sizeof(why));
	} else {
		return errf(err, errlen, "no target: give --binary PATH or --pid PID");
	}
	if (!r->ef)
		return errf(err, errlen, "%s %s: %s", cfg->binary ? "--binary" : "--pid executable",
			    cfg->binary ? cfg->binary : path, why);

	/* --pid alone: the function may live in a library the process mapped */
	if (cfg->pid && !cfg->binary && !file_has_target(r->ef, cfg, r)) {
		struct target_mapping m;

		for (size_t i = 0; !target_pid_mapping(cfg->pid, i, &m); i++) {
			struct elf_file *lib = target_open_mapping(cfg->pid, &m, why, sizeof(why));

			if (!lib)
				continue;
			if (file_has_target(lib, cfg, r)) {
				elf_file_close(r->ef);
				r->ef = lib;
				break;
			}
			elf_file_close(lib);
		}
	}
	snprintf(info->binary, sizeof(info->binary), "%s", elf_file_path(r->ef));
	return 0;
}

/*
 * Sets the catch probe's place if `ef` defines __cxa_begin_catch; keeps
 * `ef` open (the probe goes on the opened file) or closes it.
 */
static bool catch_in(struct resolved *r, struct elf_file *ef)
{
	struct elf_func f;
	bool ok;

	if (!ef)
		return false;
	ok = !elf_file_find_func(ef, "__cxa_begin_catch", &f);
	if (ok) {
		snprintf(r->catch_path, sizeof(r->catch_path), "%s", elf_file_path(ef));
		r->cxx_catch_path = elf_file_probe_path(ef);
		r->catch_offset = f.offset;
		if (ef != r->ef)
			r->catch_ef = ef;
	} else if (ef != r->ef) {
		elf_file_close(ef);
	}
	return ok;
}

/* Where is __cxa_begin_catch for this binary: itself, or its C++ runtime. */
static void find_catch(const struct observer_config *cfg, struct resolved *r)
{
	char root[64], why[128], path[PATH_MAX];

	if (catch_in(r, r->ef))
		return;
	if (cfg->pid) {
		struct target_mapping m;

		for (size_t i = 0; !target_pid_mapping(cfg->pid, i, &m); i++)
			if ((strstr(m.file, "/libstdc++.so") || strstr(m.file, "/libc++abi.so")) &&
			    catch_in(r, target_open_mapping(cfg->pid, &m, why, sizeof(why))))
				return;
	}
	target_root(cfg->pid, root, sizeof(root));
	if (elf_file_needs(r->ef, "libstdc++.so") &&
	    !target_find_file("libstdc++.so.6", root, path, sizeof(path), why, sizeof(why)))
		catch_in(r, elf_file_open(path, why, sizeof(why)));
}

static const char *const longjmp_names[] = { "longjmp", "siglongjmp", "_longjmp",
					     "__longjmp_chk" };

/*
 * Sets the longjmp probes' places if `ef` defines glibc's longjmp functions;
 * keeps `ef` open (the probes go on the opened file) or closes it.
 */
static bool longjmp_in(struct resolved *r, struct elf_file *ef)
{
	struct elf_func f;

	if (!ef)
		return false;
	r->nlongjmp = 0;
	for (size_t i = 0; i < sizeof(longjmp_names) / sizeof(longjmp_names[0]); i++) {
		bool dup = false;

		if (elf_file_find_func(ef, longjmp_names[i], &f))
			continue;
		for (int j = 0; j < r->nlongjmp; j++)
			dup = dup || r->longjmp_offsets[j] == f.offset;
		if (!dup)
			r->longjmp_offsets[r->nlongjmp++] = f.offset;
	}
	if (!r->nlongjmp) {
		if (ef != r->ef)
			elf_file_close(ef);
		return false;
	}
	snprintf(r->longjmp_path, sizeof(r->longjmp_path), "%s", elf_file_path(ef));
	r->longjmp_probe = elf_file_probe_path(ef);
	if (ef != r->ef)
		r->longjmp_ef = ef;
	return true;
}

/*
 * Where longjmp is for this binary: itself (static), the libc the process
 * maps, or the libc it needs. A longjmp out of the handler (PostgreSQL's
 * errors) would otherwise leave the call counted until the thread's next.
 * Only for a binary that calls longjmp itself: the probe sits in libc,
 * where every process's longjmp on the machine pays for it (about 5 us).
 */
static void find_longjmp(const struct observer_config *cfg, struct resolved *r)
{
	char root[64], why[128], path[PATH_MAX];
	bool calls = false;

	for (size_t i = 0; i < sizeof(longjmp_names) / sizeof(longjmp_names[0]); i++)
		calls = calls || elf_file_mentions(r->ef, longjmp_names[i]);
	if (!calls)
		return;
	if (longjmp_in(r, r->ef))
		return;
	if (cfg->pid) {
		struct target_mapping m;

		for (size_t i = 0; !target_pid_mapping(cfg->pid, i, &m); i++)
			if (strstr(m.file, "/libc.so.6") &&
			    longjmp_in(r, target_open_mapping(cfg->pid, &m, why, sizeof(why))))
				return;
	}
	target_root(cfg->pid, root, sizeof(root));
	if (elf_file_needs(r->ef, "libc.so.6") &&
	    !target_find_file("libc.so.6", root, path, sizeof(path), why, sizeof(why)))
		longjmp_in(r, elf_file_open(path, why, sizeof(why)));
}

/*
 * A Go binary: frames are kept per goroutine (its g layout by Go version),
 * returns seen by instruction probes, the entry probed past the stack
 * check so a call whose stack grows at entry counts once.
 */
static int resolve_go(const struct observer_config *cfg, struct resolved *r,
		      struct observer_info *info, char *err, size_t errlen)
{
	char why[256];
	uint8_t code[16];
	size_t n = r->func.size < sizeof(code) ? (size_t)r->func.size : sizeof(code), skip;

	if (info->mode == RETURN_URETPROBE)
		return errf(err, errlen, "--return=uretprobe: %s is a Go binary, whose goroutine stacks move: a uretprobe would corrupt them (use --return=insn or auto)",
			    info->binary);
	if (go_binary_inspect(r->ef, &r->gob, why, sizeof(why)))
		return errf(err, errlen, "--func %s: Go binary %s: %s", cfg->func, info->binary, why);
	r->go = true;
	snprintf(info->go_version, sizeof(info->go_version), "%s", r->gob.version);
	if (n && !elf_file_read(r->ef, r->func.offset, code, n)) {
		skip = go_prologue_len(code, n);
		r->entry_offset = r->func.offset + skip;
		info->after_go_prologue = skip > 0;
	}
	return 0;
}

static int resolve_function(const struct observer_config *cfg, struct resolved *r,
			    struct observer_info *info, char *err, size_t errlen)
{
	struct unwind_facts facts;
	struct code_part parts[2];
	uint8_t *code[2] = { NULL, NULL };
	struct elf_func cold;
	char cold_name[512], why[256];
	size_t nparts = 1;
	int rc;

	rc = elf_file_find_func(r->ef, cfg->func, &r->func);
	if (rc == -ENOENT)
		return errf(err, errlen, "--func %s: no such function in %s (see: inflight list --binary %s)",
			    cfg->func, info->binary, info->binary);
	if (rc == -EEXIST)
		return errf(err, errlen, "--func %s: several different functions have this name in %s",
			    cfg->func, info->binary);
	snprintf(info->what, sizeof(info->what), "%s", cfg->func);
	r->entry_offset = r->func.offset;
	{
		/*
		 * A CET build starts each function with endbr64, which uprobes must
		 * single-step (about 10 us here). It changes no register or memory:
		 * probing the next instruction sees the same arguments, stack and
		 * return address, and a `push %rbp` there is emulated instead.
		 */
		static const uint8_t endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
		uint8_t first[4];

		if (r->func.size > sizeof(first) &&
		    !elf_file_read(r->ef, r->func.offset, first, sizeof(first)) &&
		    !memcmp(first, endbr64, sizeof(first))) {
			r->entry_offset += sizeof(first);
			info->after_endbr = true;
		}
	}

	return_mode_facts(r->ef, &facts);
	info->mode = return_mode_choose(cfg->return_mode, &facts, &info->mode_why);
	if (facts.go && resolve_go(cfg, r, info, err, errlen))
		return -1;
	if (facts.cxx)
		find_catch(cfg, r);
	find_longjmp(cfg, r);
	if (info->mode != RETURN_INSN)
		return 0;

	if (!r->func.size)
		return errf(err, errlen, "--func %s: the symbol has no size, so its exits cannot be found (--return=insn)",
			    cfg->func);
	parts[0] = (struct code_part){ .addr = r->func.addr, .offset = r->func.offset,
				       .size = r->func.size };
	snprintf(cold_name, sizeof(cold_name), "%s.cold", cfg->func);
	if (!elf_file_find_func(r->ef, cold_name, &cold) && cold.size)
		parts[nparts++] = (struct code_part){ .addr = cold.addr, .offset = cold.offset,
						      .size = cold.size };
	rc = -1;
	for (size_t i = 0; i < nparts; i++) {
		/* st_size is the file's word: bounded before it sizes a buffer */
		if (parts[i].size > EXIT_SITES_MAX_CODE) {
			errf(err, errlen, "--func %s: its symbol%s in %s claims %zu bytes of code, more than the %u inflight reads (a damaged ELF file?) (--return=insn)",
			     cfg->func, i ? " .cold" : "", info->binary, parts[i].size,
			     EXIT_SITES_MAX_CODE);
			goto cleanup;
		}
		code[i] = malloc(parts[i].size);
		if (!code[i] || elf_file_read(r->ef, parts[i].offset, code[i], parts[i].size)) {
			errf(err, errlen, "--func %s: cannot read its code from %s", cfg->func,
			     info->binary);
			goto cleanup;
		}
		parts[i].bytes = code[i];
	}
	r->nsites = exit_sites_find(parts, nparts, &r->sites, why, sizeof(why));
	if (r->nsites < 0) {
		errf(err, errlen, "--func %s: %s (--return=insn)", cfg->func, why);
		goto cleanup;
	}
	info->exit_sites = (size_t)r->nsites;
	for (int i = 0; i < r->nsites; i++) {
		if (!r->sites[i].tail)
			continue;
		/* the frame is gone at the jump: the tail-callee's time is not counted */
		log_warn("--func %s: leaves through the tail jump '%s' at 0x%llx: in instruction mode its calls count as finished there; probe the jump's target too, or use --return=uretprobe if no exception can pass",
			 cfg->func, r->sites[i].text, (unsigned long long)r->sites[i].addr);
	}
	rc = 0;
cleanup:
	free(code[0]);
	free(code[1]);
	return rc;
}

int resolve_target(const struct observer_config *cfg, struct resolved *r,
		   struct observer_info *info, char *err, size_t errlen)
{
	if (open_target(cfg, r, info, err, errlen))
		return -1;
	return resolve_function(cfg, r, info, err, errlen);
}

void resolved_free(struct resolved *r)
{
	elf_file_close(r->catch_ef);
	elf_file_close(r->longjmp_ef);
	elf_file_close(r->ef);
	free(r->sites);
}

/*
 * Sizes, constants and which programs load, before the skeleton loads.
 * `r` is the one target, or NULL when discovery attaches files as it finds
 * them (every return program loads, exit sites get room for many files).
 */
int configure_object(struct observer *o, const struct observer_config *cfg,
		     const struct resolved *r, bool usdt)
{
	struct inflight_bpf *s = o->skel;
	unsigned chains = cfg->max_chains ? cfg->max_chains : OBSERVER_DEFAULT_MAX_CHAINS;
	/* ids 0 and 1 are reserved; ids lost to insert races need headroom */
	__u32 id_space = 2 * chains + 2;
	int ncpus = libbpf_num_possible_cpus(), err = 0;
	bool disc = !r, go = r && r->go;
	__u32 sites = disc ? DISCOVERY_MAX_FILES * DISCOVERY_SITES_PER_FILE + 1
		      : r->nsites > 0 ? (__u32)r->nsites + 1 : 1;

	/* room for the files --binary may be followed to, a block of keys each */
	if (!disc && !usdt && cfg->binary && !cfg->pid && o->info.mode == RETURN_INSN) {
		o->follow.block = r->nsites > DISCOVERY_SITES_PER_FILE ? (__u32)r->nsites
									: DISCOVERY_SITES_PER_FILE;
		sites = FOLLOW_MAX_FILES * o->follow.block + 1;
	}

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
	err = err ?: bpf_map__set_max_entries(s->maps.go_pending, go ? OBSERVER_GO_MAX_GOROUTINES : 1);
	err = err ?: bpf_map__set_max_entries(s->maps.entries, id_space * (__u32)ncpus);
	err = err ?: bpf_map__set_max_entries(s->maps.exits, id_space * (__u32)ncpus);
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
					      disc || (!usdt && o->info.mode == RETURN_URETPROBE));
	err = err ?: bpf_program__set_autoload(s->progs.handle_exit_insn,
					      disc || (!usdt && !go && o->info.mode == RETURN_INSN));
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

static int attach_uprobe(struct observer *o, struct link_list *ll, struct bpf_program *prog,
			 pid_t pid, const char *path, uint64_t offset, bool ret, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret, .bpf_cookie = cookie);
	struct bpf_link *l;

	l = bpf_program__attach_uprobe_opts(prog, pid ? pid : -1, path, offset, &opts);
	if (!l) {
		int e = errno;

		/* kernels with the CVE-2025-38466 fixes want CAP_SYS_ADMIN for uprobes */
		if ((e == EACCES || e == EPERM) && !(privileges_effective() & CAP_MASK(CAP_SYS_ADMIN)))
			log_error("uprobes on this kernel need CAP_SYS_ADMIN (CAP_BPF and CAP_PERFMON are not enough)");
		return -e;
	}
	o->info.probes++;
	return link_list_add(ll, l);
}

static int attach_usdt(struct observer *o, struct bpf_program *prog, pid_t pid,
		       const char *path, const char *prov, const char *name)
{
	struct bpf_link *l = bpf_program__attach_usdt(prog, pid ? pid : -1, path, prov, name, NULL);

	if (!l)
		return -errno;
	o->info.probes++;
	return link_list_add(&o->links, l);
}

int attach_tracepoints(struct observer *o, bool fork, char *err, size_t errlen)
{
	struct inflight_bpf *s = o->skel;
	struct bpf_program *progs[] = { s->progs.handle_thread_exit, s->progs.handle_exec,
					fork ? s->progs.handle_fork : NULL };
	const char *names[] = { "sched_process_exit", "sched_process_exec", "sched_process_fork" };

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]) && progs[i]; i++) {
		struct bpf_link *l = bpf_program__attach(progs[i]);

		if (!l || link_list_add(&o->links, l))
			return errf(err, errlen, "cannot attach to raw tracepoint %s: %s", names[i],
				    strerror(errno));
	}
	return 0;
}

static int attach_usdt_pair(struct observer *o, const struct observer_config *cfg,
			    const struct resolved *r, char *err, size_t errlen)
{
	struct inflight_bpf *s = o->skel;
	/* the opened file, not its name: what was parsed is what is probed */
	const char *path = elf_file_probe_path(r->ef), *shown = elf_file_path(r->ef);
	int rc;

	rc = attach_usdt(o, s->progs.usdt_return, cfg->pid, path, r->usdt_provider, r->usdt_return);
	if (rc)
		return errf(err, errlen, "--usdt %s:%s: cannot attach in %s: %s", r->usdt_provider,
			    r->usdt_return, shown, strerror(-rc));
	rc = attach_usdt(o, s->progs.usdt_entry, cfg->pid, path, r->usdt_provider, r->usdt_entry);
	if (rc)
		return errf(err, errlen, "--usdt %s:%s: cannot attach in %s: %s", r->usdt_provider,
			    r->usdt_entry, shown, strerror(-rc));
	return 0;
}

/*
 * Attach order matters: exits and returns first, the entry last, so no call
 * is counted in before its way out is watched.
 */
int attach_file(struct observer *o, struct link_list *ll, const struct observer_config *cfg,
		const struct resolved *r, const struct observer_info *fi, __u32 site_base,
		char *err, size_t errlen)
{
	struct inflight_bpf *s = o->skel;
	/* the opened file, not its name: what was parsed is what is probed */
	const char *path = elf_file_probe_path(r->ef), *shown = elf_file_path(r->ef);
	struct bpf_program *entry = r->go ? s->progs.go_entry : s->progs.handle_entry;
	struct bpf_program *exit_insn = r->go ? s->progs.go_exit_insn : s->progs.handle_exit_insn;
	int rc;

	if (r->go) {
		/* where goroutines end, and where a recovered panic resumes */
		rc = attach_uprobe(o, ll, s->progs.go_goexit, cfg->pid, path, r->gob.goexit1, false, 0);
		rc = rc ?: attach_uprobe(o, ll, s->progs.go_deferreturn, cfg->pid, path,
					 r->gob.deferreturn, false, 0);
		if (rc)
			return errf(err, errlen, "--func %s: cannot probe the Go runtime (runtime.goexit1, runtime.deferreturn) in %s: %s",
				    cfg->func, shown, strerror(-rc));
	}
	if (r->cxx_catch_path) {
		rc = attach_uprobe(o, ll, s->progs.handle_catch, cfg->pid, r->cxx_catch_path,
				   r->catch_offset, false, 0);
		if (rc) {
			log_warn("cannot probe __cxa_begin_catch in %s (%s): frames an exception unwinds are released at the thread's next call instead",
				 r->catch_path, strerror(-rc));
		} else {
			o->info.catch_probe = true;
			snprintf(o->info.catch_binary, sizeof(o->info.catch_binary), "%s",
				 r->catch_path);
		}
	}

	for (int i = 0; i < r->nlongjmp; i++) {
		rc = attach_uprobe(o, ll, s->progs.handle_longjmp, cfg->pid, r->longjmp_probe,
				   r->longjmp_offsets[i], false, 0);
		if (rc) {
			log_warn("cannot probe longjmp in %s (%s): frames a longjmp leaves are released at the thread's next call instead",
				 r->longjmp_path, strerror(-rc));
			break;
		}
	}

	if (fi->mode == RETURN_URETPROBE) {
		rc = attach_uprobe(o, ll, s->progs.handle_return, cfg->pid, path, r->entry_offset,
				   true, 0);
		if (rc)
			return errf(err, errlen, "--func %s: cannot attach a uretprobe in %s: %s",
				    cfg->func, shown, strerror(-rc));
	} else {
		for (int i = 0; i < r->nsites; i++) {
			const struct exit_site *site = &r->sites[i];
			__u64 cookie = 0;

			if (site->rt.kind != INFLIGHT_SITE_RET) {
				__u32 key = site_base + (__u32)i + 1;

				if (bpf_map__update_elem(s->maps.exit_sites, &key, sizeof(key),
							 &site->rt, sizeof(site->rt), BPF_ANY))
					return errf(err, errlen, "cannot fill the exit_sites map: %s",
						    strerror(errno));
				cookie = key;
			}
			rc = attach_uprobe(o, ll, exit_insn, cfg->pid, path, site->offset, false,
					   cookie);
			if (rc)
				return errf(err, errlen, "--func %s: cannot attach to its exit '%s' at 0x%llx in %s: %s",
					    cfg->func, site->text, (unsigned long long)site->addr,
					    shown, strerror(-rc));
		}
	}
	rc = attach_uprobe(o, ll, entry, cfg->pid, path, r->entry_offset, false, 0);
	if (rc)
		return errf(err, errlen, "--func %s: cannot attach a uprobe in %s: %s", cfg->func,
			    shown, strerror(-rc));
	return 0;
}

uint64_t now_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int map_counters(int fd, struct mapping *out)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi);
	void *p;

	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		return -1;
	out->len = ((size_t)mi.value_size * mi.max_entries + page - 1) & ~(page - 1);
	p = mmap(NULL, out->len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	out->addr = p;
	return 0;
}

static void unmap_counters(struct mapping *m)
{
	if (m->addr)
		munmap(m->addr, m->len);
	m->addr = NULL;
}

static struct observer_config *unpinned(const struct observer_config *cfg,
					struct observer_config *copy)
{
	*copy = *cfg;
	copy->pin_dir = NULL;
	return copy;
}

/*
 * What the pinned state is for. The directory name hashes the target as
 * given, so a new inflight release finds the old one's state; the identity
 * hashes the resolved target, not the BPF object: another release adopts
 * the state when the pin layout (INFLIGHT_PIN_LAYOUT, in meta) is the same.
 */
static void target_text(const struct observer_config *cfg, const struct resolved *r,
			const struct observer_info *info, char *buf, size_t size)
{
	dev_t dev;
	ino_t ino;
	char spec[256] = "";

	elf_file_identity(r->ef, &dev, &ino);
	if (cfg->fetch)
		fetch_spec_format(cfg->fetch, spec, sizeof(spec));
	snprintf(buf, size, "file %llu:%llu func %s@%llu pid %d chain %s|%s max %u mode %d sites %d cgroup %d",
		 (unsigned long long)dev, (unsigned long long)ino,
		 cfg->func ? cfg->func : "", (unsigned long long)r->entry_offset, (int)cfg->pid, spec,
		 cfg->chain_name ? cfg->chain_name : "", cfg->max_chains, (int)info->mode, r->nsites,
		 (int)cfg->by_cgroup);
}

void hex(const uint8_t *h, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static void target_identity(const struct observer_config *cfg, const struct resolved *r,
			    const struct observer_info *info, char out[65])
{
	char text[1024];
	uint8_t h[32];

	target_text(cfg, r, info, text, sizeof(text));
	sha256(text, strlen(text), h);
	hex(h, sizeof(h), out);
}

int pin_meta_read(int fd, struct inflight_meta *m)
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi), zero = 0;
	/* an older writer's value is shorter (its fields read as 0), a newer one's longer */
	union {
		struct inflight_meta m;
		char raw[1024];
	} v;

	memset(&v, 0, sizeof(v));
	if (bpf_obj_get_info_by_fd(fd, &mi, &len) || mi.value_size > sizeof(v.raw) ||
	    bpf_map_lookup_elem(fd, &zero, v.raw))
		return -1;
	*m = v.m;
	m->identity[sizeof(m->identity) - 1] = '\0';
	m->version[sizeof(m->version) - 1] = '\0';
	return 0;
}

bool pin_adoptable(const char *dir, const struct inflight_meta *m, const char *identity)
{
	if (m->layout != INFLIGHT_PIN_LAYOUT) {
		log_warn("%s was pinned by inflight %s with pin layout version %u; this is inflight %s with pin layout version %u, which cannot read it: its in-flight counts and series start times are lost, counting starts anew",
			 dir, m->layout && m->version[0] ? m->version : "(a release before versioned pins)",
			 m->layout, INFLIGHT_VERSION, INFLIGHT_PIN_LAYOUT);
		return false;
	}
	if (strcmp(m->identity, identity)) {
		log_warn("%s holds state of another target: replacing it (series restart)", dir);
		return false;
	}
	if (strcmp(m->version, INFLIGHT_VERSION))
		log_info("%s: adopting the state pinned by inflight %s (the same pin layout version %u): nothing is lost",
			 dir, m->version, m->layout);
	return true;
}

void observer_default_pin_dir(const struct observer_config *cfg, char *out, size_t size)
{
	char text[1024], name[33];
	uint8_t h[32];

	/* the target as given (resolution needs the process, not here) */
	snprintf(text, sizeof(text), "%s|%d|%s|%s|%s|%s", cfg->binary ? cfg->binary : "",
		 (int)cfg->pid, cfg->func ? cfg->func : "", cfg->usdt ? cfg->usdt : "",
		 cfg->chain_name ? cfg->chain_name : "", cfg->by_cgroup ? "by-cgroup" : "");
	if (cfg->match_exe || cfg->match_cmdline) {
		char m[600];

		snprintf(m, sizeof(m), "|exe %s|cmdline %s", cfg->match_exe ? cfg->match_exe : "",
			 cfg->match_cmdline ? cfg->match_cmdline : "");
		strncat(text, m, sizeof(text) - strlen(text) - 1);
	}
	if (cfg->fetch) {
		char spec[256];

		fetch_spec_format(cfg->fetch, spec, sizeof(spec));
		strncat(text, spec, sizeof(text) - strlen(text) - 1);
	}
	sha256(text, strlen(text), h);
	hex(h, 16, name);
	snprintf(out, size, "%s/%s", PIN_ROOT, name);
}

static int keep_fd(struct observer *o, int fd)
{
	if (fd < 0 || o->nfds == sizeof(o->fds) / sizeof(o->fds[0])) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	o->fds[o->nfds++] = fd;
	return fd;
}

/* The reader over the counters, whichever way their fds were had. */
int open_reader(struct observer *o, const struct reader_fds *fds, __u32 id_space, char *err,
		size_t errlen)
{
	struct counts_maps maps;
	int ncpus = libbpf_num_possible_cpus();

	if (map_counters(fds->entries, &o->entries_map) || map_counters(fds->exits, &o->exits_map) ||
	    map_counters(fds->stats, &o->stats_map) || map_counters(fds->data, &o->data_map) ||
	    map_counters(fds->id_states, &o->id_states_map))
		return errf(err, errlen, "cannot map the counters into memory: %s", strerror(errno));
	o->chain_ids_fd = fds->chain_ids;
	o->series_start_fd = fds->series_start;
	o->pending_fd = fds->pending;
	maps = (struct counts_maps){
		.chain_ids_fd = fds->chain_ids,
		.id_states_fd = fds->id_states,
		.free_ids_fd = fds->free_ids,
		.entries = o->entries_map.addr,
		.exits = o->exits_map.addr,
		.stats = o->stats_map.addr,
		.states = o->id_states_map.addr,
		.next_id = (const volatile uint32_t *)((const char *)o->data_map.addr +
						       offsetof(struct inflight_bpf__data, next_id)),
		.id_space = id_space,
		.ncpus = (uint32_t)ncpus,
	};
	o->reader = counts_reader_new(&maps);
	return o->reader ? 0 : errf(err, errlen, "out of memory");
}

static int pin_path(char *buf, size_t size, const char *dir, const char *name)
{
	return snprintf(buf, size, "%s/%s", dir, name) < (int)size ? 0 : -1;
}

/* bpffs reserves names with a dot: "inflight.data" pins as "inflight_data" */
void map_pin_path(const struct bpf_map *m, const char *dir, char *out, size_t size)
{
	char name[64];

	snprintf(name, sizeof(name), "%s", bpf_map__name(m));
	for (char *c = name; *c; c++)
		if (*c == '.')
			*c = '_';
	snprintf(out, size, "%s/%s", dir, name);
}

int pin_state(struct observer *o, struct bpf_map *const *maps, size_t nmaps,
	      const char *identity, char *err, size_t errlen)
{
	const char *dir = o->info.pin_dir;
	struct inflight_meta m = { 0 };
	char path[PATH_MAX];
	__u32 zero = 0;

	for (size_t i = 0; i < nmaps; i++) {
		map_pin_path(maps[i], dir, path, sizeof(path));
		if (bpf_map__pin(maps[i], path))
			goto fail;
	}
	for (size_t i = 0; i < o->links.n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "link-%03zu", i);
		if (pin_path(path, sizeof(path), dir, name) || bpf_link__pin(o->links.v[i], path))
			goto fail;
	}
	snprintf(m.identity, sizeof(m.identity), "%s", identity);
	snprintf(m.version, sizeof(m.version), "%s", INFLIGHT_VERSION);
	m.layout = INFLIGHT_PIN_LAYOUT;
	m.id_space = o->skel->rodata->id_space;
	m.created_ns = now_realtime_ns();
	o->info.pinned_since_ns = m.created_ns;
	/* meta last: its presence says the rest is complete */
	if (bpf_map__update_elem(o->skel->maps.meta, &zero, sizeof(zero), &m, sizeof(m), BPF_ANY) ||
	    pin_path(path, sizeof(path), dir, "meta") || bpf_map__pin(o->skel->maps.meta, path))
		goto fail;
	o->pinned = true;
	return 0;
fail:
	errf(err, errlen, "--pin-dir %s: cannot pin %s: %s", dir, path, strerror(errno));
	pin_remove(dir);
	return -1;
}

/*
 * Pins the maps a successor reads (the pinned links keep the programs, and
 * through them every other map, alive), the links and the meta map.
 */
static int pin_everything(struct observer *o, const char *identity, char *err, size_t errlen)
{
	struct bpf_map *const read_by_successor[] = {
		o->skel->maps.chain_ids, o->skel->maps.entries, o->skel->maps.exits,
		o->skel->maps.stats,	 o->skel->maps.data,	o->skel->maps.series_start,
		o->skel->maps.id_states, o->skel->maps.free_ids,    o->skel->maps.pending,
	};

	return pin_state(o, read_by_successor,
			 sizeof(read_by_successor) / sizeof(read_by_successor[0]), identity, err,
			 errlen);
}

/* Opens a pinned map by name, keeping its fd; -1 if absent. */
static int open_pinned(struct observer *o, const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (pin_path(path, sizeof(path), dir, name))
		return -1;
	return keep_fd(o, bpf_obj_get(path));
}

/*
 * The same object and target are pinned already: their probes never
 * stopped counting. Returns 0 when picked up, 1 when the pinned state is of
 * another identity, -1 on error.
 */
static int reuse_pinned(struct observer *o, const char *dir, const char *identity, char *err,
			size_t errlen)
{
	struct inflight_meta m = { 0 };
	struct reader_fds fds;
	int meta = open_pinned(o, dir, "meta"), links = 0;
	struct dirent *d;
	DIR *dd;

	if (meta < 0 || pin_meta_read(meta, &m)) {
		log_warn("%s holds pinned state that cannot be read: replacing it (series restart)", dir);
		return 1;
	}
	if (!pin_adoptable(dir, &m, identity))
		return 1;
	fds = (struct reader_fds){
		.chain_ids = open_pinned(o, dir, "chain_ids"),
		.entries = open_pinned(o, dir, "entries"),
		.exits = open_pinned(o, dir, "exits"),
		.stats = open_pinned(o, dir, "stats"),
		.data = open_pinned(o, dir, "inflight_data"),
		.series_start = open_pinned(o, dir, "series_start"),
		.id_states = open_pinned(o, dir, "id_states"),
		.free_ids = open_pinned(o, dir, "free_ids"),
		.pending = open_pinned(o, dir, "pending"),
	};
	if (open_reader(o, &fds, m.id_space, err, errlen))
		return -1;
	dd = opendir(dir);
	while (dd && (d = readdir(dd)))
		links += !strncmp(d->d_name, "link-", 5);
	if (dd)
		closedir(dd);
	o->pinned = true;
	o->info.reused = true;
	o->info.probes = (size_t)links;
	o->info.pinned_since_ns = m.created_ns;
	return 0;
}

int replace_pinned(const char *dir, char *err, size_t errlen)
{
	/* another layout or target (said by the caller): replaced, the series start anew */
	if (pin_remove(dir) || pin_prepare_dir(dir, err, errlen))
		return errf(err, errlen, "--pin-dir %s: cannot replace the pinned state: %s", dir,
			    strerror(errno));
	return 0;
}

int object_open(struct observer *o, const struct observer_config *cfg, const struct resolved *r,
		bool usdt, char *err, size_t errlen)
{
	o->skel = inflight_bpf__open();
	if (!o->skel)
		return errf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
	if (configure_object(o, cfg, r, usdt))
		return errf(err, errlen, "cannot configure the BPF object: %s", strerror(errno));
	return 0;
}

int object_load(struct observer *o, const struct observer_config *cfg, bool register_chain,
		char *err, size_t errlen)
{
	int rc = inflight_bpf__load(o->skel);

	if (rc)
		return errf(err, errlen, "the kernel refused the BPF programs: %s (run with -v for libbpf's log)",
			    strerror(-rc));
	if (register_chain && cfg->chain_name) {
		struct inflight_chain_key key = { 0 };
		__u32 id = INFLIGHT_CONST_ID;

		memcpy(key.name, cfg->chain_name, strlen(cfg->chain_name));
		if (bpf_map__update_elem(o->skel->maps.chain_ids, &key, sizeof(key), &id,
					 sizeof(id), BPF_ANY))
			return errf(err, errlen, "cannot register --chain-name: %s", strerror(errno));
	}
	return 0;
}

int object_open_reader(struct observer *o, char *err, size_t errlen)
{
	struct inflight_bpf *s = o->skel;

	struct reader_fds fds = {
		.chain_ids = bpf_map__fd(s->maps.chain_ids),
		.entries = bpf_map__fd(s->maps.entries),
		.exits = bpf_map__fd(s->maps.exits),
		.stats = bpf_map__fd(s->maps.stats),
		.data = bpf_map__fd(s->maps.data),
		.series_start = bpf_map__fd(s->maps.series_start),
		.id_states = bpf_map__fd(s->maps.id_states),
		.free_ids = bpf_map__fd(s->maps.free_ids),
		.pending = bpf_map__fd(s->maps.pending),
	};

	return open_reader(o, &fds, s->rodata->id_space, err, errlen);
}

struct observer *observer_start(const struct observer_config *cfg, char *err, size_t errlen)
{
	struct resolved r = { 0 };
	struct observer *o;
	struct observer_config nopin;
	bool usdt = cfg->usdt != NULL;
	char why[256], identity[65] = "";
	int rc;

	o = calloc(1, sizeof(*o));
	if (!o) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	o->chain_ids_fd = o->series_start_fd = o->pending_fd = -1;
	if (cfg->python) {
		struct py_observer_config pc = {
			.pids = cfg->pids, .npids = cfg->npids, .exe_pattern = cfg->python_exe,
			.match_exe = cfg->match_exe, .match_cmdline = cfg->match_cmdline,
			.func = cfg->py_func, .file = cfg->py_file, .chain = cfg->py_chain,
			.max_chains = cfg->max_chains,
			.cgroup_key = cfg->by_cgroup ? cfg->cgroup_key : NULL,
			.cgroup_ctx = cfg->cgroup_ctx,
		};

		o->py = py_observer_start(&pc, err, errlen);
		if (!o->py)
			goto fail;
		snprintf(o->info.binary, sizeof(o->info.binary), "python:%s",
			 cfg->python_exe ? cfg->python_exe
			 : cfg->match_exe ? cfg->match_exe
			 : cfg->match_cmdline ? cfg->match_cmdline : "pid");
		snprintf(o->info.what, sizeof(o->info.what), "%s(%s)",
			 cfg->py_func ? cfg->py_func : "_handle_vcon",
			 cfg->py_chain ? cfg->py_chain : "chain_details[\"name\"]");
		snprintf(o->info.mode_label, sizeof(o->info.mode_label), "python frames");
		o->info.mode_why = "CPython frames read at each reading";
		return o;
	}
	if (cfg->match_exe || cfg->match_cmdline)
		return discovery_start(o, cfg, err, errlen);
	if (!!cfg->func == usdt) {
		errf(err, errlen, "give exactly one of --func SYMBOL or --usdt PROVIDER:ENTRY,PROVIDER:RETURN");
		goto fail;
	}
	if (check_chain_options(cfg, err, errlen))
		goto fail;
	if (cfg->fetch && !usdt && cfg->fetch->base == INFLIGHT_BASE_USDT) {
		errf(err, errlen, "--chain: a USDT argument was parsed for a function target");
		goto fail;
	}
	if (preflight_check(why, sizeof(why))) {
		errf(err, errlen, "%s", why);
		goto fail;
	}
	if (usdt && parse_usdt(cfg->usdt, &r, err, errlen))
		goto fail;
	if (open_target(cfg, &r, &o->info, err, errlen))
		goto fail;
	if (usdt) {
		const char *names[2] = { r.usdt_entry, r.usdt_return };

		for (int i = 0; i < 2; i++) {
			if (!has_usdt(r.ef, r.usdt_provider, names[i])) {
				errf(err, errlen, "--usdt: no probe %s:%s in %s (see: inflight list --binary %s)",
				     r.usdt_provider, names[i], o->info.binary, o->info.binary);
				goto fail;
			}
		}
		snprintf(o->info.what, sizeof(o->info.what), "%s", cfg->usdt);
		o->info.mode = RETURN_AUTO;
		o->info.mode_why = "USDT return probe";
	} else if (resolve_function(cfg, &r, &o->info, err, errlen)) {
		goto fail;
	}

	if (cfg->pin_dir) {
		if (usdt) {
			log_warn("USDT probes cannot be pinned: a restart of the collector restarts the counts");
			cfg = unpinned(cfg, &nopin);
		} else {
			target_identity(cfg, &r, &o->info, identity);
			if (pin_prepare_dir(cfg->pin_dir, err, errlen))
				goto fail;
			snprintf(o->info.pin_dir, sizeof(o->info.pin_dir), "%s", cfg->pin_dir);
			if (pin_exists(cfg->pin_dir)) {
				rc = reuse_pinned(o, cfg->pin_dir, identity, err, errlen);
				if (rc == 0) {
					/* a replaced file is said, though not followed */
					follow_init(o, cfg, &r);
					resolved_free(&r);
					return o;
				}
				if (rc < 0)
					goto fail;
				if (replace_pinned(cfg->pin_dir, err, errlen))
					goto fail;
			}
		}
	}
	if (object_open(o, cfg, &r, usdt, err, errlen) || object_load(o, cfg, true, err, errlen))
		goto fail;
	if (attach_tracepoints(o, false, err, errlen) ||
	    (usdt ? attach_usdt_pair(o, cfg, &r, err, errlen)
		  : attach_file(o, &o->links, cfg, &r, &o->info, 0, err, errlen)))
		goto fail;

	snprintf(o->info.mode_label, sizeof(o->info.mode_label), "return=%s",
		 usdt ? "usdt" : return_mode_name(o->info.mode));
	if (cfg->pin_dir && pin_everything(o, identity, err, errlen))
		goto fail;
	if (object_open_reader(o, err, errlen))
		goto fail;
	if (!usdt)
		follow_init(o, cfg, &r);
	resolved_free(&r);
	return o;
fail:
	resolved_free(&r);
	observer_stop(o);
	return NULL;
}

int observer_pin_dirfd(const struct observer *o)
{
	return discovery_pin_dirfd(o);
}

void observer_stop(struct observer *o)
{
	if (!o)
		return;
	py_observer_stop(o->py);
	discovery_stop(o);
	link_list_destroy(&o->links, o->pinned);
	counts_reader_free(o->reader);
	unmap_counters(&o->entries_map);
	unmap_counters(&o->exits_map);
	unmap_counters(&o->stats_map);
	unmap_counters(&o->data_map);
	unmap_counters(&o->id_states_map);
	while (o->nfds)
		close(o->fds[--o->nfds]);
	inflight_bpf__destroy(o->skel);
	free(o);
}

const struct observer_info *observer_info(const struct observer *o)
{
	return &o->info;
}

int observer_read(struct observer *o, struct snapshot *out)
{
	int rc;

	if (o->py)
		return py_observer_read(o->py, out);
	rc = counts_reader_read(o->reader, out);
	out->attach_failures = discovery_attach_failures(o) + o->follow.failures;
	return rc;
}

uint64_t observer_series_start(struct observer *o, uint32_t id, uint64_t now_ns)
{
	uint64_t v = 0;

	if (o->series_start_fd < 0)
		return now_ns;
	/* kept in a map so a restarted collector keeps each series' start */
	if (bpf_map_lookup_elem(o->series_start_fd, &id, &v) || v)
		return v ? v : now_ns;
	bpf_map_update_elem(o->series_start_fd, &id, &now_ns, BPF_ANY);
	return now_ns;
}

void observer_describe(const struct observer *o, char *buf, size_t size)
{
	const struct observer_info *i = &o->info;

	if (o->disc)
		discovery_describe(o, buf, size);
	else if (o->py)
		snprintf(buf, size, "watching CPython processes (%s) for %s", i->binary + 7, i->what);
	else if (i->reused)
		snprintf(buf, size, "attached to %zu pinned probe%s in %s (counting since %llu s ago): %s:%s",
			 i->probes, i->probes == 1 ? "" : "s", i->pin_dir,
			 (unsigned long long)((now_realtime_ns() - i->pinned_since_ns) / 1000000000ull),
			 i->binary, i->what);
	else
		snprintf(buf, size, "attached %zu probe%s to %s:%s%s (%s: %s)%s%s%s", i->probes,
			 i->probes == 1 ? "" : "s", i->binary, i->what,
			 i->after_endbr ? " after its endbr64"
			 : i->after_go_prologue ? " after its stack check" : "",
			 i->mode_label, i->mode_why,
			 i->go_version[0] ? ", frames per goroutine (" : "", i->go_version,
			 i->go_version[0] ? ")" : "");
}

size_t observer_retire_gone(struct observer *o, const struct snapshot *s,
			    bool (*gone)(void *ctx, uint64_t cgroup), void *ctx, uint32_t *ids,
			    size_t max)
{
	size_t n = 0;

	if (o->py)
		return py_observer_retire(o->py, ids, max);
	if (!o->reader)
		return 0;
	/* gone: nobody can enter again; idle: no frame holds the id */
	for (size_t i = 0; i < s->n && n < max; i++) {
		const struct chain_stat *c = &s->chains[i];

		if (c->overflow || !c->cgroup || c->inflight || !gone(ctx, c->cgroup))
			continue;
		log_debug("retiring the series of chain %s in cgroup %llu (the cgroup is gone)",
			  c->name, (unsigned long long)c->cgroup);
		ids[n++] = c->id;
	}
	if (!n)
		return 0;
	n = counts_reader_retire(o->reader, ids, n);
	/* the next series on each id starts anew */
	for (size_t i = 0; i < n && o->series_start_fd >= 0; i++) {
		uint64_t zero = 0;

		bpf_map_update_elem(o->series_start_fd, &ids[i], &zero, BPF_ANY);
	}
	return n;
}

/* A Go target's frames sit in its goroutine map, not in task storage. */
static void go_frames_held(const struct observer *o, uint64_t *frames, char *where,
			   size_t wsize)
{
	uint64_t held, goroutines = observer_pending_goroutines(o, &held);

	if (!goroutines)
		return;
	*frames += held;
	if (where && wsize)
		snprintf(where, wsize, "%llu goroutines: %llu", (unsigned long long)goroutines,
			 (unsigned long long)held);
}

/* The frames one thread holds in the task-storage map: 0 when it has none. */
static int thread_frames(int map_fd, pid_t tid, uint64_t *frames)
{
	struct inflight_pending v;
	int fd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD), rc = 0;

	*frames = 0;
	if (fd < 0)
		return errno == ESRCH ? 0 : -errno; /* gone: its storage went with it */
	if (!bpf_map_lookup_elem(map_fd, &fd, &v))
		*frames = v.depth;
	else if (errno != ENOENT)
		rc = -errno;
	close(fd);
	return rc;
}

int observer_pending_frames(const struct observer *o, uint64_t *frames, char *where,
			    size_t wsize)
{
	struct dirent *pd, *td;
	DIR *proc;
	int rc = 0;

	*frames = 0;
	if (where && wsize)
		where[0] = '\0';
	if (o->py)
		return 0;
	if (o->pending_fd < 0)
		return -ENOENT;
	go_frames_held(o, frames, where, wsize);
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	/* every thread on the machine: the frames are keyed by task */
	while (!rc && (pd = readdir(proc))) {
		char path[64];
		DIR *tasks;

		if (!isdigit((unsigned char)pd->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", atoi(pd->d_name));
		tasks = opendir(path);
		while (tasks && !rc && (td = readdir(tasks))) {
			uint64_t n;

			if (!isdigit((unsigned char)td->d_name[0]))
				continue;
			rc = thread_frames(o->pending_fd, (pid_t)atoi(td->d_name), &n);
			if (n && where && wsize) {
				size_t used = strlen(where);

				snprintf(where + used, wsize - used, "%s%s/%s: %llu", used ? ", " : "",
					 pd->d_name, td->d_name, (unsigned long long)n);
			}
			*frames += n;
		}
		if (tasks)
			closedir(tasks);
	}
	closedir(proc);
	return rc;
}

volatile uint32_t *observer_test_next_id(struct observer *o)
{
	return o->skel && o->skel->data ? &o->skel->data->next_id : NULL;
}

uint64_t observer_pending_goroutines(const struct observer *o, uint64_t *frames)
{
	struct inflight_go_key key, next;
	struct inflight_pending p;
	uint64_t n = 0;
	int fd;

	*frames = 0;
	if (!o->skel || !o->skel->rodata->go_goid_off)
		return 0;
	fd = bpf_map__fd(o->skel->maps.go_pending);
	for (int rc = bpf_map_get_next_key(fd, NULL, &next); !rc;
	     rc = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &p))
			continue;
		n++;
		*frames += p.depth;
	}
	return n;
}

int observers_wait_tick(struct observer *const *o, size_t n, struct ticker *t)
{
	for (;;) {
		int fds[16];
		uint64_t next = UINT64_MAX;
		size_t nfds = 0;
		int rc;

		for (size_t i = 0; i < n; i++) {
			uint64_t in = observer_poll_in_ms(o[i]);

			if (nfds < sizeof(fds) / sizeof(fds[0]))
				fds[nfds++] = observer_event_fd(o[i]);
			next = in < next ? in : next;
		}
		rc = ticker_wait_or(t, fds, nfds, next);
		if (rc != 2)
			return rc;
		for (size_t i = 0; i < n; i++)
			observer_poll(o[i]);
	}
}
