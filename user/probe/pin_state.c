// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "probe/fetch_spec.h"
#include "probe/pin.h"
#include "probe/pin_state.h"
#include "util/errmsg.h"
#include "util/log.h"
#include "util/sha256.h"

int pin_meta_read(int fd, struct inflight_meta *m)
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi), zero = 0;
	/* an older writer's value is shorter (its fields read as 0), a newer one's longer */
	union {
		struct inflight_meta m;
		char raw[1024];
	} v;
	int rc;

	memset(&v, 0, sizeof(v));
	/* libbpf returns the negative errno */
	rc = bpf_obj_get_info_by_fd(fd, &mi, &len);
	if (rc)
		return rc;
	if (mi.value_size > sizeof(v.raw))
		return -EOVERFLOW;
	rc = bpf_map_lookup_elem(fd, &zero, v.raw);
	if (rc)
		return rc;
	*m = v.m;
	m->identity[sizeof(m->identity) - 1] = '\0';
	m->version[sizeof(m->version) - 1] = '\0';
	return 0;
}

int pin_meta_read_dir(const char *dir, struct inflight_meta *m)
{
	char path[PATH_MAX];
	int fd, rc;

	rc = pin_path(path, sizeof(path), dir, "meta");
	if (rc)
		return rc;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return fd; /* libbpf: the negative errno */
	rc = pin_meta_read(fd, m);
	close(fd);
	return rc;
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

int pin_replace(const char *dir, char *err, size_t errlen)
{
	/* another layout or target (said by the caller): replaced, the series start anew */
	int rc = pin_remove(dir);

	if (!rc)
		rc = pin_prepare_dir(dir, err, errlen);
	if (rc)
		return errmsg_errno(err, errlen, -rc,
				    "--pin-dir %s: cannot replace the pinned state: %s", dir,
				    strerror(errno));
	return 0;
}

/*
 * The texts hashed are part of the pin format: a release that changes them
 * no longer adopts an older one's state, so they stay as they are.
 */
void pin_identity(const struct target_spec *spec, const struct resolved *r, enum return_mode mode,
		  char out[65])
{
	char text[1024], fetch[256] = "";

	if (spec->fetch)
		fetch_spec_format(spec->fetch, fetch, sizeof(fetch));
	if (r) {
		dev_t dev;
		ino_t ino;

		/* the file opened, by device and inode: not what its path leads to */
		elf_file_identity(r->ef, &dev, &ino);
		snprintf(text, sizeof(text), "file %llu:%llu func %s@%llu pid %d chain %s|%s max %u mode %d sites %d cgroup %d",
			 (unsigned long long)dev, (unsigned long long)ino,
			 spec->func ? spec->func : "", (unsigned long long)r->entry_offset,
			 (int)spec->pid, fetch, spec->chain_name ? spec->chain_name : "",
			 spec->max_chains, (int)mode, r->nsites, (int)spec->by_cgroup);
	} else {
		snprintf(text, sizeof(text), "discover exe %s cmdline %s func %s chain %s|%s max %u mode %d cgroup %d",
			 spec->match_exe ? spec->match_exe : "",
			 spec->match_cmdline ? spec->match_cmdline : "", spec->func, fetch,
			 spec->chain_name ? spec->chain_name : "", spec->max_chains,
			 (int)spec->return_mode, (int)spec->by_cgroup);
	}
	/*
	 * Probes that do not time returns are another target's: adopted, they
	 * would leave the histogram empty. Said only when set, so the default's
	 * identity is the one earlier releases pinned under.
	 */
	if (spec->untimed) {
		size_t used = strlen(text);

		snprintf(text + used, sizeof(text) - used, " untimed");
	}
	sha256_hex(text, 32, out);
}

void pin_default_dir(const struct target_spec *spec, char *out, size_t size)
{
	char text[1024], name[33];

	/* the target as given (resolution needs the process, not here) */
	snprintf(text, sizeof(text), "%s|%d|%s|%s|%s|%s", spec->binary ? spec->binary : "",
		 (int)spec->pid, spec->func ? spec->func : "", spec->usdt ? spec->usdt : "",
		 spec->chain_name ? spec->chain_name : "", spec->by_cgroup ? "by-cgroup" : "");
	if (spec->match_exe || spec->match_cmdline) {
		char m[600];

		snprintf(m, sizeof(m), "|exe %s|cmdline %s", spec->match_exe ? spec->match_exe : "",
			 spec->match_cmdline ? spec->match_cmdline : "");
		strncat(text, m, sizeof(text) - strlen(text) - 1);
	}
	if (spec->fetch) {
		char fetch[256];

		fetch_spec_format(spec->fetch, fetch, sizeof(fetch));
		strncat(text, fetch, sizeof(text) - strlen(text) - 1);
	}
	sha256_hex(text, 16, name);
	snprintf(out, size, "%s/%s", PIN_ROOT, name);
}
