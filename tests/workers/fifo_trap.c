// SPDX-License-Identifier: MIT
/*
 * A hostile process for the collector's tests. It maps a page of a file
 * executable (DIR/trap.so), then sets one trap, says 'r' on stdout, and
 * exits at EOF on stdin. WORDS only show on its command line.
 *
 *   fifo_trap DIR deleted [WORDS...]
 *     deletes the file and makes a FIFO named "DIR/trap.so (deleted)",
 *     which is what /proc/PID/maps now names: opening that name blocks.
 *   fifo_trap DIR chroot-fifo [WORDS...]
 *     chroots into DIR/root, where its own executable's path and
 *     DIR/trap.so's path are FIFOs: /proc/PID/root + the path that
 *     /proc/PID/exe or /proc/PID/maps shows leads there.
 *   fifo_trap DIR swap DECOY [WORDS...]
 *     chroots into DIR/root, where DIR/trap.so's path holds a copy of the
 *     ELF file DECOY (and its own executable's path a copy of itself):
 *     /proc/PID/root + the path in maps is another file than the one mapped.
 *   fifo_trap DIR tmpfs-swap DECOY [WORDS...]
 *     swap, with DIR/m a tmpfs of its own mount namespace holding the file
 *     it maps (DIR/m/trap.so, the tmpfs's first file: inode 2) and its
 *     root: a reader with another tmpfs at DIR/m, its first file DECOY,
 *     finds a file of the same name and inode number on another device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p for the directories above `path` */
static int make_parents(char *path)
{
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			perror(path);
			return -1;
		}
		*s = '/';
	}
	return 0;
}

static int copy(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	struct stat st;

	if (in < 0 || fstat(in, &st))
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0 || sendfile(out, in, NULL, (size_t)st.st_size) != st.st_size)
		return -1;
	close(in);
	close(out);
	return 0;
}

int main(int argc, char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], root[PATH_MAX + 16], in_root[3 * PATH_MAX], page[4096], c;
	const char *mode = argc > 2 ? argv[2] : "";
	ssize_t n;
	void *p;
	int fd;

	if (argc < 3 || !realpath(argv[1], dir)) {
		fprintf(stderr, "usage: fifo_trap DIR deleted|chroot-fifo|swap DECOY|tmpfs-swap DECOY [WORDS...]\n");
		return 2;
	}
	if (!strcmp(mode, "tmpfs-swap")) {
		/* the files below live on a tmpfs only this process's namespace sees */
		strncat(dir, "/m", sizeof(dir) - strlen(dir) - 1);
		if (mkdir(dir, 0755) || unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("none", dir, "tmpfs", 0, "mode=0755")) {
			perror(dir);
			return 1;
		}
		mode = "swap";
	}
	snprintf(path, sizeof(path), "%s/trap.so", dir);
	snprintf(root, sizeof(root), "%s/root", dir);
	memset(page, 0xcc, sizeof(page));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0 || write(fd, page, sizeof(page)) != (ssize_t)sizeof(page)) {
		perror(path);
		return 1;
	}
	p = mmap(NULL, sizeof(page), PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	close(fd);
	if (!strcmp(mode, "deleted")) {
		snprintf(in_root, sizeof(in_root), "%s (deleted)", path);
		if (unlink(path) || mkfifo(in_root, 0644)) {
			perror(in_root);
			return 1;
		}
	} else if (!strcmp(mode, "chroot-fifo") || (!strcmp(mode, "swap") && argc > 3)) {
		bool swap = !strcmp(mode, "swap");
		char exe[PATH_MAX];

		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n <= 0)
			return 1;
		exe[n] = '\0';
		/* swap: its executable is there too, as itself */
		snprintf(in_root, sizeof(in_root), "%s%s", root, exe);
		if (make_parents(in_root) || (swap ? copy(exe, in_root) : mkfifo(in_root, 0644))) {
			perror(in_root);
			return 1;
		}
		snprintf(in_root, sizeof(in_root), "%s%s", root, path);
		if (make_parents(in_root) || (swap ? copy(argv[3], in_root) : mkfifo(in_root, 0644)) ||
		    chroot(root) || chdir("/")) {
			perror(in_root);
			return 1;
		}
	} else {
		fprintf(stderr, "fifo_trap: unknown mode '%s'\n", mode);
		return 2;
	}
	if (write(STDOUT_FILENO, "r", 1) != 1)
		return 1;
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	return 0;
}
