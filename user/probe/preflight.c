// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "probe/preflight.h"
#include "util/errmsg.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int effective_caps(uint64_t *caps)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	*caps = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
	return 0;
}

static bool has(uint64_t caps, int cap)
{
	return caps & (1ULL << cap);
}

int preflight_check(char *err, size_t errlen)
{
	/* tests point this elsewhere to see the messages for kernels we lack */
	const char *sys = getenv("INFLIGHT_PREFLIGHT_SYSFS");
	char path[512];
	uint64_t caps = 0;
	int rc;

	if (!sys || !*sys)
		sys = "/sys";
	snprintf(path, sizeof(path), "%s/kernel/btf/vmlinux", sys);
	if (access(path, R_OK))
		return errmsg_errno(err, errlen, errno,
				    "kernel has no BTF (%s): CONFIG_DEBUG_INFO_BTF=y is required", path);
	snprintf(path, sizeof(path), "%s/bus/event_source/devices/uprobe/type", sys);
	if (access(path, R_OK))
		return errmsg_errno(err, errlen, errno,
				    "kernel has no uprobe support (%s): CONFIG_UPROBE_EVENTS=y is required",
				    path);
	rc = effective_caps(&caps);
	if (rc)
		return errmsg_errno(err, errlen, -rc, "cannot read our capabilities (capget)");
	if (has(caps, CAP_SYS_ADMIN))
		return 0;
	if (!has(caps, CAP_BPF))
		return errmsg_errno(err, errlen, EPERM,
				    "missing capability CAP_BPF (needed: CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON where the kernel lets those attach uprobes; run as root)");
	if (!has(caps, CAP_PERFMON))
		return errmsg_errno(err, errlen, EPERM,
				    "missing capability CAP_PERFMON (needed: CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON where the kernel lets those attach uprobes; run as root)");
	return 0;
}
