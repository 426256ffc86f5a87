// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "util/errmsg.h"
#include "util/privileges.h"

uint64_t privileges_effective(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return 0;
	return (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
}

/* Effective and permitted set to `keep`, inheritable emptied. */
static int set_caps(uint64_t keep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}

/* The highest capability this kernel knows. */
static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n >= 0 && n < 64 ? n : CAP_LAST_CAP;
}

/* How many threads this process has; 0 if /proc cannot tell. */
static int thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int privileges_drop(uint64_t keep, const char *user, char *err, size_t errlen)
{
	struct passwd *pw = NULL;
	uint64_t have = privileges_effective();
	int threads = thread_count(), last = last_cap();

	/*
	 * capset and the bounding set are per thread: a thread started before
	 * this would keep everything. Every thread is started after the drop.
	 */
	if (threads != 1) {
		return errmsg_errno(err, errlen, EBUSY,
				    "cannot drop capabilities: %d threads run already (the drop covers only the calling one)",
				    threads);
	}
	keep &= have;
	if (user) {
		pw = getpwnam(user);
		if (!pw)
			return errmsg_errno(err, errlen, ENOENT, "--user %s: no such user", user);
	}
	/*
	 * The bounding set first, while CAP_SETPCAP is still effective (after
	 * setuid nothing is): no exec of ours regains what is dropped. Without
	 * CAP_SETPCAP it cannot shrink; no_new_privs below has the same effect.
	 */
	if (have & CAP_MASK(CAP_SETPCAP)) {
		for (int c = 0; c <= last; c++) {
			if ((keep & CAP_MASK(c)) || prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1)
				continue;
			if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0)) {
				int e = errno;

				return errmsg_errno(err, errlen, e,
						    "cannot drop capability %d from the bounding set: %s", c,
						    strerror(e));
			}
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)) {
		int e = errno;

		return errmsg_errno(err, errlen, e, "cannot clear the ambient capabilities: %s",
				    strerror(e));
	}
	if (pw) {
		/* keep the capabilities across the uid change, then trim them */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(0, NULL) ||
		    setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
			int e = errno;

			return errmsg_errno(err, errlen, e, "--user %s: cannot switch to it: %s", user,
					    strerror(e));
		}
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0)) {
			int e = errno;

			return errmsg_errno(err, errlen, e, "cannot reset keep-capabilities: %s",
					    strerror(e));
		}
	}
	if (set_caps(keep)) {
		int e = errno;

		return errmsg_errno(err, errlen, e, "cannot drop capabilities: %s", strerror(e));
	}
	/* nothing exec'd by us gains privileges (setuid files, file capabilities) */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		int e = errno;

		return errmsg_errno(err, errlen, e, "cannot set no_new_privs: %s", strerror(e));
	}
	if (privileges_effective() != keep)
		return errmsg_errno(err, errlen, EPERM,
				    "capabilities after the drop are %016llx, not %016llx",
				    (unsigned long long)privileges_effective(), (unsigned long long)keep);
	return 0;
}

int privileges_share_dir(int dirfd, const char *user, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);

	if (!pw)
		return errmsg_errno(err, errlen, ENOENT, "--user %s: no such user", user);
	/*
	 * The owner may give a file to a group it is in: joining the user's
	 * group first needs CAP_SETGID only (the DaemonSet has no CAP_CHOWN).
	 * The drop's setgroups(0) leaves it again.
	 */
	if (setgroups(1, &pw->pw_gid) || fchown(dirfd, (uid_t)-1, pw->pw_gid) ||
	    fchmod(dirfd, 0770)) {
		int e = errno;

		return errmsg_errno(err, errlen, e,
				    "--user %s: cannot let it write the pin directory: %s", user,
				    strerror(e));
	}
	return 0;
}

void privileges_explain_denied(int err, char *out, size_t outsz)
{
	if (err != EACCES && err != EPERM)
		snprintf(out, outsz, "%s", strerror(err));
	else if (!(privileges_effective() & CAP_MASK(CAP_SYS_PTRACE)))
		snprintf(out, outsz, "%s (CAP_SYS_PTRACE is needed for other users' processes)",
			 strerror(err));
	else
		snprintf(out, outsz, "%s (by the kernel, although CAP_SYS_PTRACE is held: e.g. a sandbox's init or a security module)",
			 strerror(err));
}
