// SPDX-License-Identifier: MIT
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "privileges.h"

#ifndef CAP_LAST_CAP
#define CAP_LAST_CAP 40
#endif

uint64_t privileges_effective(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return 0;
	return (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
}

static int set_caps(uint64_t keep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}

int privileges_drop(uint64_t keep, const char *user, char *err, size_t errlen)
{
	keep &= privileges_effective();
	if (user) {
		struct passwd *pw = getpwnam(user);

		if (!pw) {
			snprintf(err, errlen, "--user %s: no such user", user);
			return -1;
		}
		/* keep the capabilities across the uid change, then trim them */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(0, NULL) ||
		    setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
			snprintf(err, errlen, "--user %s: cannot switch to it: %s", user, strerror(errno));
			return -1;
		}
	}
	/* no child of ours gets back what is dropped here */
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (!(keep & CAP_MASK(c)))
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (set_caps(keep)) {
		snprintf(err, errlen, "cannot drop capabilities: %s", strerror(errno));
		return -1;
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
