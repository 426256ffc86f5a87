// SPDX-License-Identifier: MIT
/*
 * Processes that attack the collector through the files it opens for them.
 * A process can put a FIFO where the collector looks for a file it maps
 * (its name in /proc/PID/maps, or its executable's path inside its root):
 * opening it must not block the collector. It can also put another ELF
 * file there: the probes must go on the file it runs, never on that one.
 * Each run is bounded by a deadline that kills inflight and fails the test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "support/bpf_env.h"
#include "support/inflight_proc.h"
#include "support/test_filter.h"
#include "support/worker_proc.h"

#define DEADLINE_MS 20000
/* only the trap's command line holds this */
#define DECOY_WORD "inflight-hostile-decoy"

struct run {
	int status;
	char out[65536];
	char err[16384];
};

static char trap_dir[64];

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs argv to completion (argv[0] looked up in $PATH), killed and failed past the deadline. */
static void run_argv(struct run *r, char *const argv[])
{
	int out[2], err[2];
	size_t len[2] = { 0, 0 };
	int64_t deadline = now_ms() + DEADLINE_MS;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	for (struct pollfd p[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
	     p[0].fd >= 0 || p[1].fd >= 0;) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fail_msg("inflight did not finish in %d ms (blocked by the hostile process?); stderr so far:\n%.*s",
				 DEADLINE_MS, (int)len[1], r->err);
		}
		if (poll(p, 2, 500) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			char *buf = i ? r->err : r->out;
			size_t cap = (i ? sizeof(r->err) : sizeof(r->out)) - 1;
			ssize_t got;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			got = read(p[i].fd, buf + len[i], cap - len[i]);
			if (got > 0) {
				len[i] += (size_t)got;
			} else {
				close(p[i].fd);
				p[i].fd = -1;
			}
		}
	}
	assert_int_equal(waitpid(pid, &r->status, 0), pid);
}

/* Runs inflight with `args` (NULL-terminated) the same way. */
static void run_inflight(struct run *r, ...)
{
	char *argv[32];
	int n = 0;
	va_list ap;

	argv[n++] = (char *)inflight_bin();
	va_start(ap, r);
	while (n < 31 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	run_argv(r, argv);
}

static int exit_code(const struct run *r)
{
	return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status);
}

/* Starts the trap in a fresh directory; it has set it once this returns. */
static struct worker_proc *start_trap(const char *mode, const char *decoy)
{
	struct worker_proc *w;

	snprintf(trap_dir, sizeof(trap_dir), "/tmp/inflight-hostile-XXXXXX");
	assert_non_null(mkdtemp(trap_dir));
	/* open to all, as a hostile container makes its files: nobody too reaches the FIFO */
	assert_int_equal(chmod(trap_dir, 0755), 0);
	if (decoy) {
		char *argv[] = { (char *)worker_path("fifo_trap"), trap_dir, (char *)mode,
				 (char *)decoy, DECOY_WORD, NULL };

		w = worker_start(argv);
	} else {
		char *argv[] = { (char *)worker_path("fifo_trap"), trap_dir, (char *)mode,
				 DECOY_WORD, NULL };

		w = worker_start(argv);
	}
	worker_expect(w, "r");
	return w;
}

static int teardown(void **state)
{
	char cmd[128];

	worker_teardown(state);
	if (trap_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", trap_dir);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", trap_dir);
		trap_dir[0] = '\0';
	}
	return 0;
}

/* --python-exe matches command lines: the trap's FIFO is opened as its "libpython". */
static void test_python_scan_deleted_fifo(void **state)
{
	struct run r;

	(void)state;
	start_trap("deleted", NULL);
	run_inflight(&r, "top", "--once", "--json", "--interval", "200ms", "--python",
		     "--python-exe", DECOY_WORD, NULL);
	if (exit_code(&r) != 0)
		fail_msg("expected exit 0 (nothing to read), got %d; stderr:\n%s", exit_code(&r), r.err);
}

/*
 * As nobody with CAP_SYS_PTRACE alone (what `run` keeps for CPython),
 * /proc/PID/map_files is closed (it needs CAP_SYS_ADMIN): mapped files are
 * opened by name in the process's root, and a deleted one's name is refused
 * without being opened.
 */
static void test_python_scan_deleted_fifo_unprivileged(void **state)
{
	char *argv[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			 "--inh-caps=+sys_ptrace", "--ambient-caps=+sys_ptrace",
			 (char *)public_copy(inflight_bin()), "top", "--once", "--json", "--interval",
			 "200ms", "--python", "--python-exe", DECOY_WORD, NULL };
	struct run r;

	(void)state;
	start_trap("deleted", NULL);
	run_argv(&r, argv);
	if (exit_code(&r) != 0)
		fail_msg("expected exit 0 (nothing to read), got %d; stderr:\n%s", exit_code(&r), r.err);
}

/* --pid --libs lists every mapped file: the FIFO is refused, the rest listed. */
static void test_list_libs_deleted_fifo(void **state)
{
	struct worker_proc *w;
	struct run r;
	char pid[16];

	(void)state;
	w = start_trap("deleted", NULL);
	snprintf(pid, sizeof(pid), "%d", (int)w->pid);
	run_inflight(&r, "list", "--pid", pid, "--libs", "--match", "main", NULL);
	if (exit_code(&r) != 0 || !strstr(r.out, "func  main "))
		fail_msg("expected exit 0 and fifo_trap's main listed, got %d; stdout:\n%s\nstderr:\n%s",
			 exit_code(&r), r.out, r.err);
}

/* The executable's path inside the process's root is a FIFO: /proc/PID/exe is the file. */
static void test_list_exe_chroot_fifo(void **state)
{
	struct worker_proc *w;
	struct run r;
	char pid[16];

	(void)state;
	w = start_trap("chroot-fifo", NULL);
	snprintf(pid, sizeof(pid), "%d", (int)w->pid);
	run_inflight(&r, "list", "--pid", pid, "--match", "main", NULL);
	if (exit_code(&r) != 0 || !strstr(r.out, "func  main "))
		fail_msg("expected exit 0 and fifo_trap's main listed, got %d; stdout:\n%s\nstderr:\n%s",
			 exit_code(&r), r.out, r.err);
}

/*
 * `inflight list --pid W --libs --match MATCH` as nobody with CAP_SYS_PTRACE
 * alone: /proc/PID/map_files is closed to it, so mapped files are found by
 * name. With `tmpfs`, inflight runs in a mount namespace of its own with a
 * fresh tmpfs at `tmpfs` whose first file (inode 2) is a copy of `decoy`.
 */
static void run_list_unprivileged(struct run *r, pid_t w, const char *match, const char *tmpfs,
				  const char *decoy)
{
	char pid[16];
	char *argv[] = { "unshare", "--mount", "--propagation", "private", "sh", "-c",
			 "mount -t tmpfs -o mode=0755 none \"$1\" && cp \"$2\" \"$1/trap.so\" && shift 2 && exec \"$@\"",
			 "sh", (char *)tmpfs, (char *)decoy, "setpriv", "--reuid=65534", "--regid=65534",
			 "--clear-groups", "--inh-caps=+sys_ptrace", "--ambient-caps=+sys_ptrace",
			 (char *)public_copy(inflight_bin()), "list", "--pid", pid, "--libs", "--match",
			 (char *)match, NULL };

	snprintf(pid, sizeof(pid), "%d", (int)w);
	run_argv(r, tmpfs ? argv : argv + 10);
}

/*
 * Without map_files, the mapped file's name inside the process's root is a
 * FIFO (it chrooted where that name is one): opened without blocking and
 * refused; the listing goes on.
 */
static void test_list_libs_chroot_fifo_unprivileged(void **state)
{
	struct worker_proc *w;
	struct run r;

	(void)state;
	w = start_trap("chroot-fifo", NULL);
	run_list_unprivileged(&r, w->pid, "main", NULL, NULL);
	if (exit_code(&r) != 0 || !strstr(r.out, "func  main ") || !strstr(r.err, "trap.so"))
		fail_msg("expected exit 0, fifo_trap's main listed and trap.so named, got %d; stdout:\n%s\nstderr:\n%s",
			 exit_code(&r), r.out, r.err);
}

/*
 * Without map_files, the name maps shows leads, inside the process's root,
 * to another ELF file that defines worker_handle: the inode tells it is not
 * the file mapped, which is found from our root (a page of 0xcc, no ELF).
 */
static void test_swapped_file_unprivileged(void **state)
{
	struct worker_proc *w;
	struct run r;

	(void)state;
	w = start_trap("swap", worker_path("native_worker"));
	run_list_unprivileged(&r, w->pid, "worker_handle", NULL, NULL);
	if (exit_code(&r) != 0 || strstr(r.out, "func  worker_handle") || !strstr(r.err, "not an ELF file"))
		fail_msg("expected exit 0, the decoy not listed and the mapped file read (not an ELF file), got %d; stdout:\n%s\nstderr:\n%s",
			 exit_code(&r), r.out, r.err);
}

/*
 * The same name from our root is a file of another filesystem with the
 * inode number of the one mapped (tmpfs numbers its files 2, 3, ... per
 * mount: a process gets any number it likes by creating files). Inode
 * numbers are per device: it is not the file mapped, and is not read.
 */
static void test_same_inode_other_device_unprivileged(void **state)
{
	struct worker_proc *w;
	char tmpfs[96];
	struct run r;

	(void)state;
	w = start_trap("tmpfs-swap", worker_path("native_worker"));
	snprintf(tmpfs, sizeof(tmpfs), "%s/m", trap_dir);
	run_list_unprivileged(&r, w->pid, "worker_handle", tmpfs, worker_path("native_worker"));
	if (exit_code(&r) != 0 || strstr(r.out, "func  worker_handle") ||
	    !strstr(r.err, "is the file mapped"))
		fail_msg("expected exit 0 and neither name taken for the file mapped, got %d; stdout:\n%s\nstderr:\n%s",
			 exit_code(&r), r.out, r.err);
}

/* Discovery looks for the function in every mapped file: the FIFO blocks nothing. */
static void test_match_exe_deleted_fifo(void **state)
{
	struct run r;

	(void)state;
	REQUIRE_BPF();
	start_trap("deleted", NULL);
	run_inflight(&r, "top", "--once", "--json", "--interval", "200ms", "--match-exe",
		     "*/fifo_trap", "--func", "worker_handle", "--chain-name", "x", NULL);
	if (exit_code(&r) != 0 || !strstr(r.err, "cannot be observed"))
		fail_msg("expected exit 0 and the trap named as not observable, got %d; stderr:\n%s",
			 exit_code(&r), r.err);
}

/*
 * The path maps shows, looked up in the process's root, is another ELF that
 * defines the function: probing it would place a uprobe in a file the
 * process chose. The file it maps has no such function.
 */
static void test_pid_swapped_file(void **state)
{
	struct worker_proc *w;
	struct run r;
	char pid[16];

	(void)state;
	REQUIRE_BPF();
	w = start_trap("swap", worker_path("native_worker"));
	snprintf(pid, sizeof(pid), "%d", (int)w->pid);
	run_inflight(&r, "top", "--once", "--json", "--interval", "200ms", "--pid", pid, "--func",
		     "worker_handle", "--chain-name", "x", NULL);
	if (exit_code(&r) != 2 || !strstr(r.err, "no such function"))
		fail_msg("expected exit 2 and 'no such function' (the mapped file has none), got %d; stdout:\n%s\nstderr:\n%s",
			 exit_code(&r), r.out, r.err);
}

/* Sets the size of every symbol `name` in the ELF file at `path`. */
static void patch_symbol_size(const char *path, const char *name, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), hits = 0;
	Elf_Scn *scn = NULL;
	Elf *e;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_RDWR, NULL);
	assert_non_null(e);
	/* keep the layout as it is: only a symbol's field changes */
	elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;

			if (!gelf_getsym(d, (int)i, &sym) || !(n = elf_strptr(e, sh.sh_link, sym.st_name)) ||
			    strcmp(n, name))
				continue;
			sym.st_size = size;
			assert_true(gelf_update_sym(d, (int)i, &sym));
			elf_flagdata(d, ELF_C_SET, ELF_F_DIRTY);
			hits++;
		}
	}
	assert_true(hits > 0);
	assert_true(elf_update(e, ELF_C_WRITE) >= 0);
	elf_end(e);
	close(fd);
}

/*
 * A symbol's size is the file's word: one claiming a gigabyte is refused
 * with a message, not used to size a buffer.
 */
static void test_absurd_symbol_size(void **state)
{
	char copy[128], cmd[512];
	struct run r;

	(void)state;
	snprintf(trap_dir, sizeof(trap_dir), "/tmp/inflight-hostile-XXXXXX");
	assert_non_null(mkdtemp(trap_dir));
	snprintf(copy, sizeof(copy), "%s/worker", trap_dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", worker_path("native_worker"), copy);
	assert_int_equal(system(cmd), 0);
	patch_symbol_size(copy, "worker_handle", 1ull << 30);
	run_inflight(&r, "top", "--once", "--json", "--binary", copy, "--func", "worker_handle",
		     "--return=insn", "--chain-name", "x", NULL);
	if (exit_code(&r) != 2 || !strstr(r.err, "claims 1073741824 bytes of code"))
		fail_msg("expected exit 2 and the size refused, got %d; stderr:\n%s", exit_code(&r),
			 r.err);
}

/* 70 threads parked in _handle_vcon, each on its own chain; 'r' once all are in. */
static const char many_chains_py[] =
	"import sys, threading\n"
	"N = 70\n"
	"release = threading.Event()\n"
	"entered = threading.Barrier(N + 1)\n"
	"def _handle_vcon(worker_name, ingress_list, vcon_id, chain_details):\n"
	"    entered.wait()\n"
	"    release.wait()\n"
	"def worker(i):\n"
	"    _handle_vcon('w', 'in', str(i), {'name': 'c%d' % i})\n"
	"ts = [threading.Thread(target=worker, args=(i,)) for i in range(N)]\n"
	"for t in ts: t.start()\n"
	"entered.wait()\n"
	"sys.stdout.write('r'); sys.stdout.flush()\n"
	"sys.stdin.read()\n"
	"release.set()\n";

/*
 * One process showing more distinct chains in one reading than a process
 * may add (64): the rest go under the overflow series, said on stderr, so
 * it cannot fill the chain table other workers share unnoticed.
 */
static void test_one_process_many_chains(void **state)
{
	char *argv[] = { "/usr/bin/python3.11", "-c", (char *)many_chains_py, NULL };
	struct worker_proc *w;
	struct run r;
	char pid[16];
	int ones = 0;

	(void)state;
	if (access(argv[0], X_OK))
		fail_msg("%s: %s (Debian 12's python3 provides it)", argv[0], strerror(errno));
	w = worker_start(argv);
	worker_expect(w, "r");
	snprintf(pid, sizeof(pid), "%d", (int)w->pid);
	run_inflight(&r, "top", "--once", "--json", "--interval", "100ms", "--python", "--pid", pid,
		     NULL);
	for (const char *p = r.out; (p = strstr(p, "\"inflight\": 1,")); p++)
		ones++;
	if (exit_code(&r) != 0 || ones != 64 ||
	    !strstr(r.out, "{\"chain\": \"(overflow)\", \"inflight\": 6,") ||
	    !strstr(r.err, "inflight.chains.capped"))
		fail_msg("expected 64 chains at 1 and 6 calls under overflow, got exit %d, %d chains at 1; stdout:\n%s\nstderr:\n%s",
			 exit_code(&r), ones, r.out, r.err);
}

/* A process whose /proc/PID/exe the kernel refuses us although we hold CAP_SYS_PTRACE. */
static pid_t refused_pid(void)
{
	char line[256], link[64], buf[256];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	if (f)
		fclose(f);
	if (!(eff & (1ull << 19))) /* CAP_SYS_PTRACE */
		return 0;
	for (pid_t pid = 1; pid < 400; pid++) {
		snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
		if (readlink(link, buf, sizeof(buf)) < 0 && (errno == EACCES || errno == EPERM))
			return pid;
	}
	return 0;
}

/*
 * Holding CAP_SYS_PTRACE, a refused /proc/PID/exe (a sandbox's init) is the
 * kernel's doing: the warning names the pid and the errno and does not send
 * the operator after a capability it has.
 */
static void test_refusal_not_blamed_on_capability(void **state)
{
	struct run r;
	char pid[16];
	pid_t p = refused_pid();

	(void)state;
	if (!p) {
		printf("skipped: no process here whose /proc/PID/exe is refused to a holder of CAP_SYS_PTRACE\n");
		skip();
	}
	snprintf(pid, sizeof(pid), "%d", (int)p);
	run_inflight(&r, "list", "--pid", pid, NULL);
	if (exit_code(&r) != 2 || !strstr(r.err, strerror(EACCES)) ||
	    strstr(r.err, "CAP_SYS_PTRACE is needed"))
		fail_msg("expected exit 2 and the errno without blaming CAP_SYS_PTRACE, got %d; stderr:\n%s",
			 exit_code(&r), r.err);
	REQUIRE_BPF();
	run_inflight(&r, "top", "--once", "--json", "--interval", "100ms", "--match-exe",
		     "*/no-such-worker-here", "--func", "worker_handle", "--chain-name", "x", NULL);
	if (exit_code(&r) != 0 || !strstr(r.err, "could not be looked at") ||
	    !strstr(r.err, strerror(EACCES)) || strstr(r.err, "needs CAP_SYS_PTRACE") ||
	    strstr(r.err, "CAP_SYS_PTRACE is needed"))
		fail_msg("expected exit 0 and a warning naming the errno, not CAP_SYS_PTRACE; got %d, stderr:\n%s",
			 exit_code(&r), r.err);
}

int main(void)
{
#define T(t) cmocka_unit_test_teardown(t, teardown)
	const struct CMUnitTest tests[] = {
		T(test_python_scan_deleted_fifo),
		T(test_python_scan_deleted_fifo_unprivileged),
		T(test_list_libs_deleted_fifo),
		T(test_list_exe_chroot_fifo),
		T(test_match_exe_deleted_fifo),
		T(test_pid_swapped_file),
		T(test_list_libs_chroot_fifo_unprivileged),
		T(test_swapped_file_unprivileged),
		T(test_same_inode_other_device_unprivileged),
		T(test_refusal_not_blamed_on_capability),
		T(test_absurd_symbol_size),
		T(test_one_process_many_chains),
	};

	apply_test_filter();
	return cmocka_run_group_tests_name("hostile processes", tests, NULL, NULL);
}
