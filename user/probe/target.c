// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "probe/elf_file.h"
#include "util/privileges.h"
#include "probe/target.h"
#include "util/array_size.h"
#include "util/errmsg.h"

void target_root(pid_t pid, char *out, size_t outsz)
{
	if (pid > 0)
		snprintf(out, outsz, "/proc/%d/root", (int)pid);
	else if (outsz)
		out[0] = '\0';
}

int target_pid_exe(pid_t pid, char *out, size_t outsz, char *err, size_t errlen)
{
	char link[64], exe[PATH_MAX];
	ssize_t n;
	struct stat st;
	size_t len;

	snprintf(link, sizeof(link), "/proc/%d", (int)pid);
	if (stat(link, &st))
		return errmsg_errno(err, errlen, errno, "no such process");
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n < 0) {
		char why[192];
		int e = errno;

		if (e == ENOENT)
			return errmsg_errno(err, errlen, e,
					    "process has no executable (a kernel thread or a zombie)");
		privileges_explain_denied(e, why, sizeof(why));
		return errmsg_errno(err, errlen, e, "cannot read %s: %s", link, why);
	}
	exe[n] = '\0';
	len = strlen(exe);
	/* replaced on disk since it started: only the magic link still reaches it */
	if (len > 10 && !strcmp(exe + len - 10, " (deleted)")) {
		snprintf(out, outsz, "%s", link);
		return 0;
	}
	snprintf(out, outsz, "/proc/%d/root%s", (int)pid, exe);
	return 0;
}

int target_maps_line(char *line, struct maps_line *out)
{
	unsigned long long start, end, off, inode;
	unsigned int major, minor;
	char *name;
	int n = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu%n", &start, &end, out->perms, &off,
		   &major, &minor, &inode, &n) != 7 || !n || start >= end)
		return -EINVAL;
	out->start = start;
	out->end = end;
	out->offset = off;
	out->inode = inode;
	out->dev = makedev(major, minor);
	name = line + n;
	name += strspn(name, " \t");
	/* the line ends at its newline (the kernel escapes one in a name) */
	name[strcspn(name, "\n")] = '\0';
	/* "[heap]", "[anon:...]", "": no file (an anonymous name may hold a '/') */
	out->file = name[0] == '/' ? name : NULL;
	return 0;
}

int target_pid_mapping(pid_t pid, size_t want, struct target_mapping *out)
{
	char path[64], line[PATH_MAX + 128], seen[64][PATH_MAX / 16];
	size_t nseen = 0, idx = 0;
	FILE *f;
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct maps_line ml;
		bool dup = false;

		if (target_maps_line(line, &ml) || ml.perms[2] != 'x' || !ml.file)
			continue;
		for (size_t i = 0; i < nseen; i++)
			if (!strncmp(seen[i], ml.file, sizeof(seen[i]) - 1))
				dup = true;
		if (dup)
			continue;
		if (nseen < ARRAY_SIZE(seen))
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", ml.file);
		if (idx++ == want) {
			target_mapping_from(&ml, out);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

void target_mapping_from(const struct maps_line *ml, struct target_mapping *out)
{
	out->start = ml->start;
	out->end = ml->end;
	out->inode = ml->inode;
	out->dev = ml->dev;
	snprintf(out->file, sizeof(out->file), "%s", ml->file);
}

void target_mapping_shown(pid_t pid, const struct target_mapping *m, char *out, size_t outsz)
{
	snprintf(out, outsz, "/proc/%d/root%s", (int)pid, m->file);
}

/*
 * The device and inode maps shows for the file `ef` opened, read from a
 * mapping of one page of it in this process, never touched (the process
 * may have truncated the file). fstat can name the same file otherwise:
 * overlayfs before Linux 6.8 maps the real file beneath (maps shows that
 * one's device), btrfs gives a subvolume's device. fstat's pair if the
 * file cannot be mapped.
 */
static void mapped_identity(const struct elf_file *ef, uint64_t *dev, uint64_t *ino)
{
	char line[PATH_MAX + 128];
	void *page = mmap(NULL, 1, PROT_READ, MAP_PRIVATE, elf_file_fd(ef), 0);
	FILE *f = page != MAP_FAILED ? fopen("/proc/self/maps", "re") : NULL;
	dev_t sdev;
	ino_t sino;

	elf_file_identity(ef, &sdev, &sino);
	*dev = sdev;
	*ino = sino;
	while (f && fgets(line, sizeof(line), f)) {
		struct maps_line ml;

		if (target_maps_line(line, &ml) || ml.start != (uint64_t)(uintptr_t)page)
			continue;
		*dev = ml.dev;
		*ino = ml.inode;
		break;
	}
	if (f)
		fclose(f);
	if (page != MAP_FAILED)
		munmap(page, 1);
}

/* Is `ef` the file mapped? Inode numbers are per device: both must match. */
static bool is_mapped_file(const struct elf_file *ef, const struct target_mapping *m)
{
	uint64_t dev, ino;

	mapped_identity(ef, &dev, &ino);
	return dev == m->dev && ino == m->inode;
}

struct elf_file *target_open_mapping(pid_t pid, const struct target_mapping *m, char *err,
				     size_t errlen)
{
	char link[96], shown[PATH_MAX + 64], first[256];
	size_t len = strlen(m->file);
	struct elf_file *ef;

	target_mapping_shown(pid, m, shown, sizeof(shown));
	/* named "%lx-%lx": maps pads the addresses, map_files does not */
	snprintf(link, sizeof(link), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	ef = elf_file_open_as(link, shown, err, errlen);
	if (ef || (errno != EPERM && errno != EACCES))
		return ef;
	/*
	 * map_files needs CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE): without
	 * it, the name inside the process's root, which the process controls
	 * (elf_file_open takes regular files only, and never blocks). A
	 * deleted file's name leads nowhere it mapped.
	 */
	if (len > 10 && !strcmp(m->file + len - 10, " (deleted)")) {
		snprintf(err, errlen, "deleted since it was mapped, and reaching it through %s needs CAP_SYS_ADMIN",
			 link);
		return NULL;
	}
	/*
	 * maps names a file as the reader sees it: inside the process's root
	 * for its own mount tree, but from our root for a process merely
	 * chrooted (its name in its root may not exist, or be a file it
	 * put there). Device and inode tell which name is the file mapped:
	 * the inode alone would take a file of another filesystem with the
	 * same number, which a process gets by creating files on a tmpfs of
	 * its own (numbered 2, 3, ... per mount), and which from our root
	 * may be one of the host's.
	 */
	ef = elf_file_open(shown, err, errlen);
	if (ef && (!m->inode || is_mapped_file(ef, m)))
		return ef;
	if (!ef && !m->inode)
		return NULL;
	if (ef)
		snprintf(first, sizeof(first), "another file than the one mapped (device %u:%u, inode %llu)",
			 major((dev_t)m->dev), minor((dev_t)m->dev), (unsigned long long)m->inode);
	else
		snprintf(first, sizeof(first), "%s", err);
	elf_file_close(ef);
	errno = 0;
	ef = elf_file_open(m->file, err, errlen);
	if (ef && is_mapped_file(ef, m))
		return ef;
	if (ef)
		snprintf(err, errlen, "neither %s nor %s is the file mapped (device %u:%u, inode %llu)",
			 shown, m->file, major((dev_t)m->dev), minor((dev_t)m->dev),
			 (unsigned long long)m->inode);
	else if (errno == ENOENT)
		snprintf(err, errlen, "%s", first); /* not in our root either: the first reason */
	/* else why the file there failed (a FIFO, not an ELF file) */
	elf_file_close(ef);
	return NULL;
}

static bool is_file(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISREG(st.st_mode);
}

int target_find_file(const char *name, const char *root, char *out, size_t outsz,
		     char *err, size_t errlen)
{
	static const char *const libdirs[] = {
		"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
		"/lib", "/usr/lib", "/usr/local/lib", NULL,
	};
	const char *path_env;
	char cand[PATH_MAX];

	if (strchr(name, '/')) {
		snprintf(out, outsz, "%s%s", name[0] == '/' ? root : "", name);
		if (!is_file(out))
			return errmsg_errno(err, errlen, ENOENT, "no such file");
		return 0;
	}
	/* a bare name: the current directory first, as the operator typed it */
	if (!root[0] && is_file(name)) {
		snprintf(out, outsz, "%s", name);
		return 0;
	}
	path_env = getenv("PATH");
	if (path_env && !root[0]) {
		char *copy = strdup(path_env), *save = NULL;

		for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d;
		     d = strtok_r(NULL, ":", &save)) {
			snprintf(cand, sizeof(cand), "%s/%s", d, name);
			if (is_file(cand)) {
				snprintf(out, outsz, "%s", cand);
				free(copy);
				return 0;
			}
		}
		free(copy);
	}
	for (size_t i = 0; libdirs[i]; i++) {
		snprintf(cand, sizeof(cand), "%s%s/%s", root, libdirs[i], name);
		if (is_file(cand)) {
			snprintf(out, outsz, "%s", cand);
			return 0;
		}
	}
	return errmsg_errno(err, errlen, ENOENT,
			    "no such file here, in $PATH or in the library directories");
}
