// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "util/errmsg.h"
#include "util/log.h"
#include "probe/pin.h"

static int on_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

int pin_prepare_dir(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];

	/* a fresh node has no bpffs: mount it, as a DaemonSet's hostPath would */
	if (!strncmp(dir, "/sys/fs/bpf/", 12) && !on_bpffs("/sys/fs/bpf")) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			int e = errno;

			snprintf(err, errlen,
				 "--pin-dir %s: /sys/fs/bpf is no bpf filesystem and mounting one failed: %s%s",
				 dir, strerror(e),
				 e == EPERM ? " (CAP_SYS_ADMIN is needed to mount it; or mount bpffs on the node, or run with --no-pin)" : "");
			return -e;
		}
		log_info("mounted a bpf filesystem at /sys/fs/bpf (there was none) for pinned state");
	}
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST) {
			int e = errno;

			return errmsg_errno(err, errlen, e, "--pin-dir %s: cannot create %s: %s", dir,
					    path, strerror(e));
		}
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST) {
		int e = errno;

		return errmsg_errno(err, errlen, e, "--pin-dir %s: cannot create it: %s", dir,
				    strerror(e));
	}
	if (!on_bpffs(dir))
		return errmsg_errno(err, errlen, ENOTSUP,
				    "--pin-dir %s: not on a bpf filesystem (mount -t bpf bpf DIR)", dir);
	return 0;
}

int pin_exists(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/meta", dir);
	return !access(path, F_OK);
}

int pin_remove(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dd = opendir(dir);
	int rc = 0;

	if (!dd)
		return errno == ENOENT ? 0 : -errno;
	while ((d = readdir(dd))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (unlink(path))
			rc = -errno;
	}
	closedir(dd);
	if (rmdir(dir) && !rc)
		rc = -errno;
	return rc;
}

int pin_path(char *out, size_t size, const char *dir, const char *name)
{
	return snprintf(out, size, "%s/%s", dir, name) < (int)size ? 0 : -ENAMETOOLONG;
}

int pin_map_path(char *out, size_t size, const char *dir, const char *map_name)
{
	char name[64];

	snprintf(name, sizeof(name), "%s", map_name);
	for (char *c = name; *c; c++)
		if (*c == '.')
			*c = '_';
	return pin_path(out, size, dir, name);
}
