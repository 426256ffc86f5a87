// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "probe/proc_match.h"
#include "util/errmsg.h"

int proc_match_init(struct proc_match *m, const char *exe_glob, const char *cmdline_re,
		    char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	if (exe_glob && !*exe_glob) {
		return errmsg(err, errlen,
			      "--match-exe: expected a glob (e.g. '*/worker'), got an empty value");
	}
	m->exe_glob = exe_glob;
	if (cmdline_re) {
		int rc;

		if (!*cmdline_re)
			return errmsg(err, errlen,
				      "--match-cmdline: expected a regular expression, got an empty value");
		rc = regcomp(&m->re, cmdline_re, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char why[128];

			regerror(rc, &m->re, why, sizeof(why));
			return errmsg(err, errlen,
				      "--match-cmdline '%s': not a POSIX extended regular expression: %s",
				      cmdline_re, why);
		}
		m->has_re = true;
	}
	return 0;
}

void proc_match_free(struct proc_match *m)
{
	if (m->has_re)
		regfree(&m->re);
	m->has_re = false;
}

bool proc_match_text(const struct proc_match *m, const char *exe, const char *cmdline)
{
	if (m->exe_glob) {
		const char *base = strrchr(exe, '/');

		base = base ? base + 1 : exe;
		if (fnmatch(m->exe_glob, exe, 0) && fnmatch(m->exe_glob, base, 0))
			return false;
	}
	return !m->has_re || !regexec(&m->re, cmdline, 0, NULL, 0);
}

void proc_cmdline(pid_t pid, char *out, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, out, size - 1);
	close(fd);
	if (n <= 0)
		return;
	/* arguments are NUL-separated; a trailing NUL ends the last one */
	while (n > 0 && out[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[n] = '\0';
}

int proc_exe_link(pid_t pid, char *link, size_t size)
{
	char task[64], buf[8];
	struct dirent *de;
	DIR *d;

	snprintf(link, size, "/proc/%d/exe", (int)pid);
	if (readlink(link, buf, sizeof(buf)) > 0 || errno != ENOENT)
		return 0;
	snprintf(task, sizeof(task), "/proc/%d/task", (int)pid);
	d = opendir(task);
	while (d && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]) || atoi(de->d_name) == (int)pid)
			continue;
		snprintf(link, size, "/proc/%d/task/%d/exe", (int)pid, atoi(de->d_name));
		if (readlink(link, buf, sizeof(buf)) > 0) {
			closedir(d);
			return 0;
		}
	}
	if (d)
		closedir(d);
	snprintf(link, size, "/proc/%d/exe", (int)pid);
	return -ENOENT;
}

int proc_match_pid(const struct proc_match *m, pid_t pid, struct proc_exe *out)
{
	char link[96], cmd[4096];
	struct stat st;
	ssize_t n;

	proc_exe_link(pid, link, sizeof(link));
	n = readlink(link, out->shown, sizeof(out->shown) - 1);
	if (n <= 0) {
		/* kernel threads have no executable (ENOENT) */
		out->pid = pid;
		out->err = n < 0 ? errno : 0;
		return n < 0 ? -out->err : -ENOENT;
	}
	out->shown[n] = '\0';
	/* " (deleted)": replaced on disk since it started; match what it was */
	if (n > 10 && !strcmp(out->shown + n - 10, " (deleted)"))
		out->shown[n - 10] = '\0';
	if (m->has_re)
		proc_cmdline(pid, cmd, sizeof(cmd));
	else
		cmd[0] = '\0';
	if (!proc_match_text(m, out->shown, cmd))
		return 0;
	/* the magic link reaches the file in any mount namespace */
	if (stat(link, &st))
		return -errno;
	out->pid = pid;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	return 1;
}
