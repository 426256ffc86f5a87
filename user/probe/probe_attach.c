// SPDX-License-Identifier: MIT
/* Attaching the probe object's programs: links, tracepoints, a file's uprobes, USDT. */
#include <linux/capability.h>
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
#include "probe/probe_internal.h"
#include "util/array_size.h"
#include "util/errmsg.h"
#include "util/log.h"
#include "util/privileges.h"
#include "util/grow.h"

static int links_add(struct probe_links *ll, struct bpf_link *l)
{
	struct bpf_link **v = grow_array(ll->v, &ll->cap, ll->n + 1, sizeof(*v));

	if (!v) {
		bpf_link__destroy(l);
		return -ENOMEM;
	}
	ll->v = v;
	ll->v[ll->n++] = l;
	return 0;
}

void probe_links_destroy(struct probe_links *ll, bool keep_pinned)
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

void probe_links_truncate(struct probe_links *ll, size_t n)
{
	while (ll->n > n)
		bpf_link__destroy(ll->v[--ll->n]);
}

int probe_links_pin_one(const struct probe_links *ll, size_t i, const char *dir, const char *name,
			char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (pin_path(path, sizeof(path), dir, name))
		return errmsg_errno(err, errlen, ENAMETOOLONG, "cannot pin %s/%s: %s", dir, name,
				    strerror(ENAMETOOLONG));
	if (bpf_link__pin(ll->v[i], path)) {
		int e = errno;

		errmsg(err, errlen, "cannot pin %s: %s", path, strerror(e));
		errno = e; /* for a caller's own message */
		return e > 0 ? -e : -EIO;
	}
	return 0;
}

int probe_links_hold_pinned(struct probe_links *ll, const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct bpf_link *l;

	if (pin_path(path, sizeof(path), dir, name))
		return -ENAMETOOLONG;
	l = bpf_link__open(path);
	if (!l)
		return -errno;
	return links_add(ll, l);
}

int probe_links_pin(const struct probe_links *ll, size_t from, const char *dir, char *err,
		    size_t errlen)
{
	for (size_t i = from; i < ll->n; i++) {
		char name[32];
		int rc;

		snprintf(name, sizeof(name), "link-%03zu", i);
		rc = probe_links_pin_one(ll, i, dir, name, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int attach_uprobe(struct probe_links *ll, struct bpf_program *prog, pid_t pid,
			 const char *path, uint64_t offset, bool ret, uint64_t cookie,
			 struct target_info *info)
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
	info->probes++;
	return links_add(ll, l);
}

int probe_attach_tracepoints(struct probe *p, struct probe_links *ll, bool fork, char *err,
			     size_t errlen)
{
	struct inflight_bpf *s = p->skel;
	struct bpf_program *progs[] = { s->progs.handle_thread_exit, s->progs.handle_exec,
					fork ? s->progs.handle_fork : NULL };
	const char *names[] = { "sched_process_exit", "sched_process_exec", "sched_process_fork" };

	for (size_t i = 0; i < ARRAY_SIZE(progs) && progs[i]; i++) {
		struct bpf_link *l = bpf_program__attach(progs[i]);

		if (!l || links_add(ll, l)) {
			int e = errno;

			return errmsg_errno(err, errlen, e, "cannot attach to raw tracepoint %s: %s",
					    names[i], strerror(e));
		}
	}
	return 0;
}

static int attach_usdt(struct probe_links *ll, struct bpf_program *prog, pid_t pid,
		       const char *path, const char *prov, const char *name,
		       struct target_info *info)
{
	struct bpf_link *l = bpf_program__attach_usdt(prog, pid ? pid : -1, path, prov, name, NULL);

	if (!l)
		return -errno;
	info->probes++;
	return links_add(ll, l);
}

int probe_attach_usdt(struct probe *p, struct probe_links *ll, pid_t pid, const struct resolved *r,
		      struct target_info *info, char *err, size_t errlen)
{
	struct inflight_bpf *s = p->skel;
	/* the opened file, not its name: what was parsed is what is probed */
	const char *path = elf_file_probe_path(r->ef), *shown = elf_file_path(r->ef);
	int rc;

	rc = attach_usdt(ll, s->progs.usdt_return, pid, path, r->usdt_provider, r->usdt_return,
			 info);
	if (rc)
		return errmsg_errno(err, errlen, -rc, "--usdt %s:%s: cannot attach in %s: %s",
				    r->usdt_provider, r->usdt_return, shown, strerror(-rc));
	rc = attach_usdt(ll, s->progs.usdt_entry, pid, path, r->usdt_provider, r->usdt_entry, info);
	if (rc)
		return errmsg_errno(err, errlen, -rc, "--usdt %s:%s: cannot attach in %s: %s",
				    r->usdt_provider, r->usdt_entry, shown, strerror(-rc));
	return 0;
}

int probe_attach_file(struct probe *p, struct probe_links *ll, const char *func, pid_t pid,
		      const struct resolved *r, enum return_mode mode, uint32_t site_base,
		      struct target_info *info, char *err, size_t errlen)
{
	struct inflight_bpf *s = p->skel;
	/* the opened file, not its name: what was parsed is what is probed */
	const char *path = elf_file_probe_path(r->ef), *shown = elf_file_path(r->ef);
	struct bpf_program *entry = r->go ? s->progs.go_entry : s->progs.handle_entry;
	struct bpf_program *exit_insn = r->go ? s->progs.go_exit_insn : s->progs.handle_exit_insn;
	int rc;

	if (r->go) {
		/* where goroutines end, and where a recovered panic resumes */
		rc = attach_uprobe(ll, s->progs.go_goexit, pid, path, r->gob.goexit1, false, 0, info);
		rc = rc ?: attach_uprobe(ll, s->progs.go_deferreturn, pid, path, r->gob.deferreturn,
					 false, 0, info);
		if (rc)
			return errmsg_errno(err, errlen, -rc,
					    "--func %s: cannot probe the Go runtime (runtime.goexit1, runtime.deferreturn) in %s: %s",
					    func, shown, strerror(-rc));
	}
	if (r->cxx_catch_path) {
		rc = attach_uprobe(ll, s->progs.handle_catch, pid, r->cxx_catch_path, r->catch_offset,
				   false, 0, info);
		if (rc) {
			log_warn("cannot probe __cxa_begin_catch in %s (%s): frames an exception unwinds are released at the thread's next call instead",
				 r->catch_path, strerror(-rc));
		} else {
			info->catch_probe = true;
			snprintf(info->catch_binary, sizeof(info->catch_binary), "%s", r->catch_path);
		}
	}

	for (int i = 0; i < r->nlongjmp; i++) {
		rc = attach_uprobe(ll, s->progs.handle_longjmp, pid, r->longjmp_probe,
				   r->longjmp_offsets[i], false, 0, info);
		if (rc) {
			log_warn("cannot probe longjmp in %s (%s): frames a longjmp leaves are released at the thread's next call instead",
				 r->longjmp_path, strerror(-rc));
			break;
		}
	}

	if (mode == RETURN_URETPROBE) {
		rc = attach_uprobe(ll, s->progs.handle_return, pid, path, r->entry_offset, true, 0,
				   info);
		if (rc)
			return errmsg_errno(err, errlen, -rc,
					    "--func %s: cannot attach a uretprobe in %s: %s", func, shown,
					    strerror(-rc));
	} else {
		for (int i = 0; i < r->nsites; i++) {
			const struct exit_site *site = &r->sites[i];
			__u64 cookie = 0;

			if (site->rt.kind != INFLIGHT_SITE_RET) {
				__u32 key = site_base + (__u32)i + 1;

				if (bpf_map__update_elem(s->maps.exit_sites, &key, sizeof(key),
							 &site->rt, sizeof(site->rt), BPF_ANY)) {
					int e = errno;

					return errmsg_errno(err, errlen, e,
							    "cannot fill the exit_sites map: %s",
							    strerror(e));
				}
				cookie = key;
			}
			rc = attach_uprobe(ll, exit_insn, pid, path, site->offset, false, cookie, info);
			if (rc)
				return errmsg_errno(err, errlen, -rc,
						    "--func %s: cannot attach to its exit '%s' at 0x%llx in %s: %s",
						    func, site->text, (unsigned long long)site->addr,
						    shown, strerror(-rc));
		}
	}
	rc = attach_uprobe(ll, entry, pid, path, r->entry_offset, false, 0, info);
	if (rc)
		return errmsg_errno(err, errlen, -rc, "--func %s: cannot attach a uprobe in %s: %s",
				    func, shown, strerror(-rc));
	return 0;
}
