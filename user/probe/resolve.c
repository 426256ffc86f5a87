// SPDX-License-Identifier: MIT
/*
 * Target resolution: from what the options name to the file and offsets to
 * probe. Needs no BPF: the file is opened once and parsed, and the probes
 * later go on that opened file.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "probe/elf_file.h"
#include "probe/exit_sites.h"
#include "probe/resolve.h"
#include "probe/target.h"
#include "util/array_size.h"
#include "util/errmsg.h"
#include "util/log.h"

int target_spec_check_chain(const struct target_spec *cfg, char *err, size_t errlen)
{
	if (!!cfg->fetch == !!cfg->chain_name)
		return errmsg(err, errlen, "give exactly one of --chain SPEC or --chain-name NAME");
	if (cfg->chain_name && strlen(cfg->chain_name) >= INFLIGHT_CHAIN_LEN)
		return errmsg(err, errlen, "--chain-name: longer than %d bytes", INFLIGHT_CHAIN_LEN - 1);
	return 0;
}

int resolve_parse_usdt(const char *spec, struct resolved *r, char *err, size_t errlen)
{
	const char *comma = strchr(spec, ',');
	char entry[256], ret[256];
	char *c1, *c2;

	if (!comma || strchr(comma + 1, ','))
		return errmsg(err, errlen, "--usdt '%s': expected PROVIDER:ENTRY,PROVIDER:RETURN", spec);
	snprintf(entry, sizeof(entry), "%.*s", (int)(comma - spec), spec);
	snprintf(ret, sizeof(ret), "%s", comma + 1);
	c1 = strchr(entry, ':');
	c2 = strchr(ret, ':');
	if (!c1 || !c2 || c1 == entry || !c1[1] || c2 == ret || !c2[1])
		return errmsg(err, errlen, "--usdt '%s': expected PROVIDER:ENTRY,PROVIDER:RETURN", spec);
	*c1 = *c2 = '\0';
	snprintf(r->usdt_provider, sizeof(r->usdt_provider), "%s", entry);
	snprintf(r->usdt_entry, sizeof(r->usdt_entry), "%s", c1 + 1);
	if (strcmp(entry, ret))
		return errmsg(err, errlen, "--usdt '%s': entry and return probes must share a provider", spec);
	snprintf(r->usdt_return, sizeof(r->usdt_return), "%s", c2 + 1);
	return 0;
}

static bool resolve_has_usdt(const struct elf_file *ef, const char *prov, const char *name)
{
	const struct usdt_note *notes;
	size_t n = elf_file_usdt_notes(ef, &notes);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(notes[i].provider, prov) && !strcmp(notes[i].name, name))
			return true;
	return false;
}

/* Does this file hold what the config asks for? */
static bool file_has_target(const struct elf_file *ef, const struct target_spec *cfg,
			    const struct resolved *r)
{
	struct elf_func f;

	if (cfg->func)
		return elf_file_find_func(ef, cfg->func, &f) != -ENOENT;
	return resolve_has_usdt(ef, r->usdt_provider, r->usdt_entry);
}

/* Opens the file to probe: the named binary, or the process's exe or library. */
static int resolve_open(const struct target_spec *cfg, struct resolved *r,
		       struct target_info *info, char *err, size_t errlen)
{
	char path[PATH_MAX], why[256], root[64], link[64];
	int rc;

	target_root(cfg->pid, root, sizeof(root));
	if (cfg->binary) {
		rc = target_find_file(cfg->binary, root, path, sizeof(path), why, sizeof(why));
		if (rc)
			return errmsg_errno(err, errlen, -rc, "--binary %s: %s%s", cfg->binary, why,
					    cfg->pid ? " (looked up inside the process's root)" : "");
		r->ef = elf_file_open(path, why, sizeof(why));
	} else if (cfg->pid) {
		rc = target_pid_exe(cfg->pid, path, sizeof(path), why, sizeof(why));
		if (rc)
			return errmsg_errno(err, errlen, -rc, "--pid %d: %s", (int)cfg->pid, why);
		/* the file it runs, not what its path leads to inside its root now */
		snprintf(link, sizeof(link), "/proc/%d/exe", (int)cfg->pid);
		r->ef = elf_file_open_as(link, path, why, sizeof(why));
	} else {
		return errmsg(err, errlen, "no target: give --binary PATH or --pid PID");
	}
	if (!r->ef) /* elf_file_open sets errno */
		return errmsg_errno(err, errlen, errno, "%s %s: %s",
				    cfg->binary ? "--binary" : "--pid executable",
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
static void find_catch(const struct target_spec *cfg, struct resolved *r)
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
	for (size_t i = 0; i < ARRAY_SIZE(longjmp_names); i++) {
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
static void find_longjmp(const struct target_spec *cfg, struct resolved *r)
{
	char root[64], why[128], path[PATH_MAX];
	bool calls = false;

	for (size_t i = 0; i < ARRAY_SIZE(longjmp_names); i++)
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
static int resolve_go(const struct target_spec *cfg, struct resolved *r,
		      struct target_info *info, char *err, size_t errlen)
{
	char why[256];
	uint8_t code[16];
	size_t n = r->func.size < sizeof(code) ? (size_t)r->func.size : sizeof(code), skip;
	int rc;

	if (info->mode == RETURN_URETPROBE)
		return errmsg(err, errlen, "--return=uretprobe: %s is a Go binary, whose goroutine stacks move: a uretprobe would corrupt them (use --return=insn or auto)",
			    info->binary);
	rc = go_binary_inspect(r->ef, &r->gob, why, sizeof(why));
	if (rc)
		return errmsg_errno(err, errlen, -rc, "--func %s: Go binary %s: %s", cfg->func,
				    info->binary, why);
	r->go = true;
	snprintf(info->go_version, sizeof(info->go_version), "%s", r->gob.version);
	if (n && !elf_file_read(r->ef, r->func.offset, code, n)) {
		skip = go_prologue_len(code, n);
		r->entry_offset = r->func.offset + skip;
		info->after_go_prologue = skip > 0;
	}
	return 0;
}

static int resolve_function(const struct target_spec *cfg, struct resolved *r,
			    struct target_info *info, char *err, size_t errlen)
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
		return errmsg_errno(err, errlen, ENOENT,
				    "--func %s: no such function in %s (see: inflight list --binary %s)",
				    cfg->func, info->binary, info->binary);
	if (rc == -EEXIST)
		return errmsg_errno(err, errlen, EEXIST,
				    "--func %s: several different functions have this name in %s",
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
	if (facts.go) {
		rc = resolve_go(cfg, r, info, err, errlen);
		if (rc)
			return rc;
	}
	if (facts.cxx)
		find_catch(cfg, r);
	find_longjmp(cfg, r);
	if (info->mode != RETURN_INSN)
		return 0;

	if (!r->func.size)
		return errmsg(err, errlen, "--func %s: the symbol has no size, so its exits cannot be found (--return=insn)",
			    cfg->func);
	parts[0] = (struct code_part){ .addr = r->func.addr, .offset = r->func.offset,
				       .size = r->func.size };
	snprintf(cold_name, sizeof(cold_name), "%s.cold", cfg->func);
	if (!elf_file_find_func(r->ef, cold_name, &cold) && cold.size)
		parts[nparts++] = (struct code_part){ .addr = cold.addr, .offset = cold.offset,
						      .size = cold.size };
	for (size_t i = 0; i < nparts; i++) {
		/* st_size is the file's word: bounded before it sizes a buffer */
		if (parts[i].size > EXIT_SITES_MAX_CODE) {
			rc = errmsg_errno(err, errlen, E2BIG,
					  "--func %s: its symbol%s in %s claims %zu bytes of code, more than the %u inflight reads (a damaged ELF file?) (--return=insn)",
					  cfg->func, i ? " .cold" : "", info->binary, parts[i].size,
					  EXIT_SITES_MAX_CODE);
			goto cleanup;
		}
		code[i] = malloc(parts[i].size);
		rc = code[i] ? elf_file_read(r->ef, parts[i].offset, code[i], parts[i].size) : -ENOMEM;
		if (rc) {
			errmsg(err, errlen, "--func %s: cannot read its code from %s", cfg->func,
			     info->binary);
			goto cleanup;
		}
		parts[i].bytes = code[i];
	}
	r->nsites = exit_sites_find(parts, nparts, &r->sites, why, sizeof(why));
	if (r->nsites < 0) {
		rc = errmsg_errno(err, errlen, -r->nsites, "--func %s: %s (--return=insn)", cfg->func,
				  why);
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

int resolve_target(const struct target_spec *cfg, struct resolved *r,
		   struct target_info *info, char *err, size_t errlen)
{
	int rc = resolve_open(cfg, r, info, err, errlen);

	return rc ? rc : resolve_function(cfg, r, info, err, errlen);
}

void resolved_free(struct resolved *r)
{
	elf_file_close(r->catch_ef);
	elf_file_close(r->longjmp_ef);
	elf_file_close(r->ef);
	free(r->sites);
}

int resolve_usdt(const struct target_spec *cfg, struct resolved *r, struct target_info *info,
		 char *err, size_t errlen)
{
	const char *names[2];
	int rc;

	rc = resolve_parse_usdt(cfg->usdt, r, err, errlen);
	if (!rc)
		rc = resolve_open(cfg, r, info, err, errlen);
	if (rc)
		return rc;
	names[0] = r->usdt_entry;
	names[1] = r->usdt_return;
	for (int i = 0; i < 2; i++)
		if (!resolve_has_usdt(r->ef, r->usdt_provider, names[i]))
			return errmsg_errno(err, errlen, ENOENT,
					    "--usdt: no probe %s:%s in %s (see: inflight list --binary %s)",
					    r->usdt_provider, names[i], info->binary, info->binary);
	snprintf(info->what, sizeof(info->what), "%s", cfg->usdt);
	info->mode = RETURN_AUTO;
	info->mode_why = "USDT return probe";
	return 0;
}
