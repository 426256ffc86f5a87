// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "probe/elf_file.h"
#include "util/privileges.h"
#include "util/log.h"
#include "util/proc_mem.h"
#include "python/py_debug_offsets.h"
#include "python/py_process.h"
#include "probe/target.h"

/*
 * Field `field` (1-based, as proc(5) numbers them, 4 or more) of
 * /proc/PID/stat. The command name (field 2) may hold spaces and
 * parentheses: the fields after it start after its last ')'.
 */
static int stat_field(pid_t pid, int field, unsigned long long *out)
{
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p += 2; /* field 3, the state */
	for (int i = 3; i < field && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p && sscanf(p, "%llu", out) == 1 ? 0 : -EINVAL;
}

uint64_t proc_start_time(pid_t pid)
{
	unsigned long long v;

	return stat_field(pid, 22, &v) ? 0 : v;
}

pid_t proc_parent(pid_t pid)
{
	unsigned long long v;

	return stat_field(pid, 4, &v) ? 0 : (pid_t)v;
}

struct mapping {
	uint64_t start, offset;
	char path[PATH_MAX];
	struct target_mapping tm; /* to open it by */
};

/* The next file mapping in /proc/PID/maps; 0 at the end. */
static int next_mapping(FILE *f, struct mapping *m)
{
	char line[PATH_MAX + 128];

	while (fgets(line, sizeof(line), f)) {
		struct maps_line ml;

		if (target_maps_line(line, &ml) || !ml.file)
			continue;
		m->start = ml.start;
		m->offset = ml.offset;
		snprintf(m->path, sizeof(m->path), "%s", ml.file);
		target_mapping_from(&ml, &m->tm);
		return 1;
	}
	return 0;
}

/* "python3.10", "libpython3.10.so.1.0": the minor from a file name, or -ENOENT. */
static int minor_from_name(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *p = strstr(base ? base : path, "python3.");
	int minor;

	if (!p || sscanf(p + 8, "%d", &minor) != 1 || minor < 0)
		return -ENOENT;
	return minor;
}

/*
 * The layout to walk the process with: 3.13+ describe themselves
 * (_Py_DebugOffsets at the start of _PyRuntime); 3.10 to 3.12 from the
 * table. 0, 1 (a CPython inflight does not read), or proc_read's negative
 * errno (unreadable).
 */
static int py_layout_resolve(struct py_process *p, char *why, size_t whylen)
{
	const struct py_layout *schema = py_debug_schema(p->minor), *table;
	struct proc_mem mem = { .pid = p->pid };
	uint8_t raw[4096];
	int rc;

	if (!schema) {
		table = py_layout_for(p->minor);
		if (!table) {
			snprintf(why, whylen, "%s is CPython %s: inflight reads CPython 3.10 and later",
				 p->image, p->version);
			return 1;
		}
		p->L = *table;
		return 0;
	}
	rc = schema->debug[PY_DBG_END] > sizeof(raw) ? -E2BIG :
		proc_read(&mem, p->runtime, raw, schema->debug[PY_DBG_END]);
	if (rc) {
		snprintf(why, whylen, "%s: cannot read _PyRuntime from pid %d", p->image, (int)p->pid);
		return rc;
	}
	rc = py_layout_from_debug(p->minor, schema, raw, schema->debug[PY_DBG_END], &p->L, why, whylen);
	if (rc) {
		char what[256];

		snprintf(what, sizeof(what), "%s", why);
		snprintf(why, whylen, "%s: %s", p->image, what);
		return 1;
	}
	if (schema->minor != p->minor)
		log_info("python: pid %d: CPython %s is newer than inflight knows: its layout is read from its debug offsets as 3.%d lays them out, and checked by reading sys.version back",
			 (int)p->pid, p->version, schema->minor);
	return 0;
}

int py_process_open(pid_t pid, struct py_process *out, char *why, size_t whylen)
{
	char maps[64], err[256];
	struct elf_file *ef = NULL;
	struct mapping m;
	uint64_t runtime = 0, vaddr, off, sym;
	FILE *f;
	int rc = -ENOENT;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	out->start_time = proc_start_time(pid);
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "re");
	if (!f || !out->start_time) {
		snprintf(why, whylen, "process gone or /proc unreadable");
		if (f)
			fclose(f);
		return -ESRCH;
	}
	/* the first mapped file that defines _PyRuntime is the interpreter */
	while (next_mapping(f, &m)) {
		if (m.offset != 0 || !strcmp(m.path, out->image))
			continue;
		snprintf(out->image, sizeof(out->image), "%s", m.path);
		/* the file mapped, never what its name leads to (a FIFO would block) */
		ef = target_open_mapping(pid, &m.tm, err, sizeof(err));
		if (!ef)
			continue;
		if (!elf_file_symbol(ef, "_PyRuntime", &runtime) &&
		    !elf_file_first_load(ef, &vaddr, &off))
			break;
		elf_file_close(ef);
		ef = NULL;
	}
	fclose(f);
	if (!ef) {
		snprintf(why, whylen, "not a CPython process (no _PyRuntime in any mapped file)");
		out->image[0] = '\0';
		return -ENOENT;
	}
	{
		/* the offset-0 mapping sits at the first segment's page */
		uint64_t bias = m.start - (vaddr & ~0xfffull);
		struct proc_mem mem = { .pid = pid };
		uint32_t hex;

		out->runtime = bias + runtime;
		if (!elf_file_symbol(ef, "PyUnicode_Type", &sym))
			out->unicode_type = bias + sym;
		if (!elf_file_symbol(ef, "PyDict_Type", &sym))
			out->dict_type = bias + sym;
		if (!elf_file_symbol(ef, "PyCell_Type", &sym))
			out->cell_type = bias + sym;
		if (!elf_file_symbol(ef, "PyCode_Type", &sym))
			out->code_type = bias + sym;
		if (!elf_file_symbol(ef, "Py_Version", &sym)) {
			/* PY_VERSION_HEX, exported since 3.11 */
			errno = 0;
			rc = proc_read(&mem, bias + sym, &hex, sizeof(hex));
			if (rc) {
				char denied[192];

				privileges_explain_denied(errno ? errno : EFAULT, denied, sizeof(denied));
				snprintf(why, whylen, "%s: cannot read Py_Version from pid %d: %s",
					 out->image, (int)pid, denied);
				goto out;
			}
			out->minor = (hex >> 16) & 0xff;
			snprintf(out->version, sizeof(out->version), "%u.%u.%u", hex >> 24,
				 (hex >> 16) & 0xff, (hex >> 8) & 0xff);
		} else {
			out->minor = minor_from_name(out->image);
			if (out->minor < 0) {
				snprintf(why, whylen, "%s: a CPython whose version cannot be told (no Py_Version, no version in its name)",
					 out->image);
				rc = -ENOENT;
				goto out;
			}
			snprintf(out->version, sizeof(out->version), "3.%d", out->minor);
		}
	}
	if (!out->unicode_type || !out->dict_type) {
		snprintf(why, whylen, "%s (CPython %s): PyUnicode_Type or PyDict_Type not exported",
			 out->image, out->version);
		rc = -ENOENT;
		goto out;
	}
	rc = py_layout_resolve(out, why, whylen);
out:
	elf_file_close(ef);
	return rc;
}
