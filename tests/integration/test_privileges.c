// SPDX-License-Identifier: MIT
/*
 * Least privilege: the documented capability set is enough, one less is
 * named in the error, and once attached the collector holds no capability
 * (CAP_SYS_PTRACE alone for CPython targets) and can run as another user.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "probe/pin.h"
#include "support/bpf_env.h"
#include "support/inflight_proc.h"
#include "support/proc_info.h"
#include "support/receiver.h"
#include "support/test_filter.h"
#include "support/worker_proc.h"

static struct inflight_proc run;

static int teardown(void **state)
{
	(void)state;
	if (run.pid)
		inflight_stop(&run, SIGKILL);
	worker_stop_all();
	return 0;
}

/* inflight top --once as nobody holding only `caps` (setpriv syntax). */
static int top_as_nobody(const char *caps, struct inflight_proc *p)
{
	char inh[64], amb[64];
	char *argv[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", inh, amb,
			 (char *)public_copy(inflight_bin()), "top", "--binary",
			 (char *)public_copy(worker_path("native_worker")), "--func", "worker_handle",
			 "--chain-name", "x", "--once", "--interval", "100ms", NULL };
	int status;

	snprintf(inh, sizeof(inh), "--inh-caps=%s", caps);
	snprintf(amb, sizeof(amb), "--ambient-caps=%s", caps);
	inflight_start_argv(p, argv, NULL);
	status = inflight_stop(p, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/*
 * Reads inflight's stdout until a line holds `text`. In the console export
 * only the gauge's block counts: its .handled and .oldest_age blocks beside
 * it have the same series (at 0 while the calls are parked, and ages).
 */
static void expect_stdout(const char *text)
{
	static bool other_metric; /* the console block being read is not the gauge's */
	char line[4096];

	for (;;) {
		if (!fgets(line, sizeof(line), run.out))
			fail_msg("inflight ended before printing '%s':\n%s", text, run.err);
		if (strstr(line, " (sum, cumulative, ") || strstr(line, " (gauge)\n")) {
			other_metric = !strstr(line, " conserver.vcons.inflight {");
			continue;
		}
		if (!other_metric && strstr(line, text))
			return;
	}
}

/* `top --json` lines until one has chain x at `n` in flight. */
static void expect_top_inflight(int n)
{
	char want[64];

	snprintf(want, sizeof(want), "{\"chain\": \"x\", \"inflight\": %d,", n);
	expect_stdout(want);
}

/*
 * `run` attached, then dropped to nobody holding no capability: still
 * counting, `n` calls parked on `chain` after the drop are exported.
 */
static void expect_nobody_still_counting(const char *chain, int n)
{
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	char caps[256], uid[256], events[16], line[128];
	struct worker_proc *w;

	proc_status(run.pid, "CapEff:", caps, sizeof(caps));
	proc_status(run.pid, "Uid:", uid, sizeof(uid));
	assert_string_equal(caps, "0000000000000000");
	assert_string_equal(uid, "65534");
	w = worker_start(wargv);
	worker_send(w, "park %s %d", chain, n);
	snprintf(events, sizeof(events), "%.*s", n, "EEEEEEEEEEEEEEE");
	worker_expect(w, events);
	/* the console exporter's block: the chain at n */
	snprintf(line, sizeof(line), "chain.name=\"%s\" %d ", chain, n);
	expect_stdout(line);
	worker_send(w, "release");
	snprintf(events, sizeof(events), "%.*s", n, "RRRRRRRRRRRRRRR");
	worker_expect(w, events);
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
}

/*
 * The documented set for attaching: CAP_SYS_ADMIN, as an unprivileged
 * user: `top` attaches, and counts a call parked after it did.
 */
static void test_documented_set_is_enough(void **state)
{
	const char *worker = public_copy(worker_path("native_worker"));
	char *argv[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			 "--inh-caps=+sys_admin", "--ambient-caps=+sys_admin",
			 (char *)public_copy(inflight_bin()), "top", "--binary", (char *)worker, "--func",
			 "worker_handle", "--chain-name", "x", "--json", "--interval", "100ms", NULL };
	char *wargv[] = { (char *)worker, NULL };
	struct worker_proc *w;

	(void)state;
	inflight_start_argv(&run, argv, NULL);
	inflight_wait_stderr(&run, "attached");
	w = worker_start(wargv);
	worker_send(w, "park any 1");
	worker_expect(w, "E");
	expect_top_inflight(1);
	worker_send(w, "release");
	worker_expect(w, "R");
	expect_top_inflight(0);
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
}

/* CAP_BPF and CAP_PERFMON are not enough for uprobes here: said so. */
static void test_missing_capability_named(void **state)
{
	(void)state;
	assert_int_equal(top_as_nobody("+bpf,+perfmon", &run), 2);
	assert_non_null(strstr(run.err, "CAP_SYS_ADMIN"));
	assert_int_equal(top_as_nobody("+perfmon", &run), 2);
	assert_non_null(strstr(run.err, "missing capability CAP_BPF"));
}

/*
 * Another user's process without CAP_SYS_PTRACE: its /proc entry cannot be
 * read. `--pid` says so and exits 2; discovery warns once and counts on.
 */
static void test_unreadable_proc(void **state)
{
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	char pid[16];
	char *by_pid[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			   "--inh-caps=+sys_admin", "--ambient-caps=+sys_admin",
			   (char *)public_copy(inflight_bin()), "top", "--pid", pid, "--func",
			   "worker_handle", "--chain-name", "x", "--once", NULL };
	char *discover[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			     "--inh-caps=+sys_admin", "--ambient-caps=+sys_admin",
			     (char *)public_copy(inflight_bin()), "top", "--match-exe", "*/native_worker",
			     "--func", "worker_handle", "--chain-name", "x", "--once",
			     "--interval", "100ms", NULL };
	struct worker_proc *w;
	int status;

	(void)state;
	w = worker_start(wargv);
	/* it answered: it runs the worker, as root */
	worker_send(w, "burst x 1");
	worker_expect(w, "B");
	snprintf(pid, sizeof(pid), "%d", (int)w->pid);
	inflight_start_argv(&run, by_pid, NULL);
	status = inflight_stop(&run, 0);
	assert_int_equal(WEXITSTATUS(status), 2);
	if (!strstr(run.err, "Permission denied (CAP_SYS_PTRACE is needed for other users' processes)"))
		fail_msg("stderr:\n%s", run.err);
	inflight_start_argv(&run, discover, NULL);
	status = inflight_stop(&run, 0);
	assert_int_equal(WEXITSTATUS(status), 0);
	if (!strstr(run.err, "could not be looked at: reading /proc/PID/exe of pid ") ||
	    !strstr(run.err, "Permission denied (CAP_SYS_PTRACE is needed for other users' processes)"))
		fail_msg("stderr:\n%s", run.err);
}

/*
 * Once attached, `run` keeps no capability and runs as --user, and still
 * counts: a call parked after the drop is exported.
 */
static void test_run_drops_everything(void **state)
{
	char *args[] = { "run", "--no-pin", "--user", "nobody", "--binary",
			 (char *)worker_path("native_worker"), "--func", "worker_handle", "--chain",
			 "+0(%di):string", "--interval", "100ms", NULL };

	(void)state;
	inflight_start(&run, args, NULL);
	inflight_wait_stderr(&run, "attached");
	expect_nobody_still_counting("dropped", 2);
}

/* A /proc/PID/task/TID/status line's value ("Uid:" -> "0\t0\t0\t0"). */
static void task_status(pid_t pid, const char *tid, const char *field, char *out, size_t size)
{
	char path[128], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, tid);
	f = fopen(path, "re");
	if (!f)
		fail_msg("cannot read %s", path);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, strlen(field)))
			continue;
		snprintf(out, size, "%s", line + strlen(field) + strspn(line + strlen(field), " \t"));
		out[strcspn(out, "\n")] = '\0';
	}
	fclose(f);
	if (!out[0])
		fail_msg("%s has no %s", path, field);
}

/* How many threads `pid` has. */
static int task_count(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * Every thread of `run` (main, exporter, health: `want_threads`) holds
 * exactly `caps` effective, permitted and in its bounding set, no
 * inheritable or ambient capability, runs as `uid` and cannot regain
 * privileges by exec.
 */
static void expect_every_thread(int want_threads, const char *caps, const char *uid)
{
	char want_uid[64], v[256], path[64];
	struct dirent *e;
	DIR *d;
	int seen = 0;

	snprintf(want_uid, sizeof(want_uid), "%s\t%s\t%s\t%s", uid, uid, uid, uid);
	/* the threads start right after the drop, which the log line precedes */
	for (int i = 0; task_count(run.pid) < want_threads; i++) {
		struct timespec ts = { 0, 10000000 };

		if (i == 3000)
			fail_msg("inflight has %d threads, not %d", task_count(run.pid), want_threads);
		nanosleep(&ts, NULL);
	}
	snprintf(path, sizeof(path), "/proc/%d/task", (int)run.pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d))) {
		static const char *const fields[] = { "CapEff:", "CapPrm:", "CapBnd:" };

		if (e->d_name[0] == '.')
			continue;
		seen++;
		for (size_t f = 0; f < 3; f++) {
			task_status(run.pid, e->d_name, fields[f], v, sizeof(v));
			if (strcmp(v, caps))
				fail_msg("thread %s: %s %s, expected %s", e->d_name, fields[f], v, caps);
		}
		task_status(run.pid, e->d_name, "CapInh:", v, sizeof(v));
		assert_string_equal(v, "0000000000000000");
		task_status(run.pid, e->d_name, "CapAmb:", v, sizeof(v));
		assert_string_equal(v, "0000000000000000");
		task_status(run.pid, e->d_name, "Uid:", v, sizeof(v));
		if (strcmp(v, want_uid))
			fail_msg("thread %s: Uid %s, expected %s", e->d_name, v, want_uid);
	}
	assert_int_equal(seen, want_threads);
	rewinddir(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		task_status(run.pid, e->d_name, "NoNewPrivs:", v, sizeof(v));
		assert_string_equal(v, "1");
	}
	closedir(d);
}

/*
 * The capability drop covers every thread: with an OTLP exporter (a
 * thread) and the health and Prometheus endpoints (one HTTP thread for
 * both), as root and as --user nobody, no thread keeps a capability, in
 * any set, after the drop.
 */
static void test_every_thread_dropped(void **state)
{
	char health[32], prom[32];
	char *as_root[] = { "run", "--no-pin", "--endpoint", "http://127.0.0.1:9",
			    "--health-address", health, "--prometheus-address", prom, "--binary",
			    (char *)worker_path("native_worker"), "--func", "worker_handle",
			    "--chain-name", "x", "--interval", "100ms", NULL };
	char *as_nobody[] = { "run", "--no-pin", "--user", "nobody", "--endpoint",
			      "http://127.0.0.1:9", "--health-address", health,
			      "--prometheus-address", prom, "--binary",
			      (char *)worker_path("native_worker"), "--func", "worker_handle",
			      "--chain-name", "x", "--interval", "100ms", NULL };

	(void)state;
	/* main, exporter, and the HTTP thread serving health and Prometheus */
	snprintf(health, sizeof(health), "127.0.0.1:%d", free_port());
	snprintf(prom, sizeof(prom), "127.0.0.1:%d", free_port());
	inflight_start(&run, as_root, NULL);
	inflight_wait_stderr(&run, "exporting");
	expect_every_thread(3, "0000000000000000", "0");
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);

	snprintf(health, sizeof(health), "127.0.0.1:%d", free_port());
	snprintf(prom, sizeof(prom), "127.0.0.1:%d", free_port());
	inflight_start(&run, as_nobody, NULL);
	inflight_wait_stderr(&run, "exporting");
	expect_every_thread(3, "0000000000000000", "65534");
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
}

/* The DaemonSet's set (tools/deploy/daemonset.yaml): all dropped, these added. */
#define DAEMONSET_CAPS "-all,+sys_admin,+sys_ptrace,+bpf,+perfmon,+setuid,+setgid,+setpcap"
#define PIN_DIR "/sys/fs/bpf/inflight-test-privileges"

/*
 * As the DaemonSet runs it: uid 0 holding only the DaemonSet's
 * capabilities, pinned (the default), then --user nobody: it attaches,
 * pins, drops everything, counts, and the pins are there for the next one.
 */
static void test_daemonset_set(void **state)
{
	char *argv[] = { "setpriv", "--bounding-set", DAEMONSET_CAPS, "--inh-caps=-all",
			 (char *)inflight_bin(), "run", "--pin-dir", PIN_DIR, "--user", "nobody",
			 "--binary", (char *)worker_path("native_worker"), "--func", "worker_handle",
			 "--chain", "+0(%di):string", "--interval", "100ms", NULL };

	(void)state;
	pin_remove(PIN_DIR);
	inflight_start_argv(&run, argv, NULL);
	inflight_wait_stderr(&run, "attached");
	/* CAP_SETPCAP: the bounding set is emptied too */
	expect_every_thread(1, "0000000000000000", "65534");
	expect_nobody_still_counting("daemonset", 1);
	/* kept for the next collector */
	assert_int_equal(access(PIN_DIR "/meta", F_OK), 0);
	assert_int_equal(pin_remove(PIN_DIR), 0);
}

#define DISC_PIN_DIR "/sys/fs/bpf/inflight-test-privileges-discovery"
/* a name no other test's process has, so the glob matches ours only */
#define DISC_WORKER "inflight-priv-disc-worker"

/* Pins of probed files (f<slot>-<dev>-<ino>-<n>) in DISC_PIN_DIR. */
static int file_pins(void)
{
	DIR *d = opendir(DISC_PIN_DIR);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] == 'f' && strchr(e->d_name, '-') != NULL;
	closedir(d);
	return n;
}

/*
 * Discovery, pinned, --user nobody (the DaemonSet's way of running): a
 * worker started after the drop is attached, its file's probes pinned and
 * its calls counted exactly; once it is gone, its pins are removed.
 */
static void test_discovery_pins_after_drop(void **state)
{
	char dir[] = "/tmp/inflight-priv-XXXXXX", worker[128], cmd[512], pid[32];
	char *argv[] = { "setpriv", "--bounding-set", "-all,+sys_admin,+sys_ptrace,+bpf,+perfmon,+setuid,+setgid,+setpcap",
			 "--inh-caps=-all", (char *)inflight_bin(), "run", "--pin-dir", DISC_PIN_DIR,
			 "--user", "nobody", "--match-exe", "*/" DISC_WORKER, "--func",
			 "worker_handle", "--chain", "+0(%di):string", "--interval", "100ms",
			 "--rescan", "100ms", NULL };
	char *wargv[] = { worker, NULL };
	struct worker_proc *w;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(worker, sizeof(worker), "%s/%s", dir, DISC_WORKER);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 0755 '%s'", worker_path("native_worker"),
		 worker, dir);
	assert_int_equal(system(cmd), 0);
	pin_remove(DISC_PIN_DIR);
	inflight_start_argv(&run, argv, NULL);
	inflight_wait_stderr(&run, "exporting");
	/* what discovery keeps, on every thread */
	expect_every_thread(1, "000000c000280000", "65534");
	assert_int_equal(file_pins(), 0);

	/* after the drop: found at its exec, attached, pinned, counted */
	w = worker_start(wargv);
	worker_send(w, "burst before 1");
	worker_expect(w, "B");
	snprintf(pid, sizeof(pid), "pid %d (", (int)w->pid);
	inflight_wait_stderr(&run, pid);
	snprintf(pid, sizeof(pid), "watching pid %d (", (int)w->pid);
	if (!strstr(run.err, pid))
		fail_msg("the worker started after the drop is not watched; stderr:\n%s", run.err);
	assert_true(file_pins() > 0);
	worker_send(w, "park privdisc 2");
	worker_expect(w, "EE");
	expect_stdout("chain.name=\"privdisc\" 2 ");
	worker_send(w, "release");
	worker_expect(w, "RR");
	expect_stdout("chain.name=\"privdisc\" 0 ");

	/* gone: its file's probes come off, their pins with them */
	worker_stop(w);
	inflight_wait_stderr(&run, "detached from");
	if (strstr(run.err, "cannot remove"))
		fail_msg("stderr:\n%s", run.err);
	assert_int_equal(file_pins(), 0);
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
	assert_int_equal(pin_remove(DISC_PIN_DIR), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
#define T(t) cmocka_unit_test_teardown(t, teardown)
	const struct CMUnitTest tests[] = {
		T(test_documented_set_is_enough),
		T(test_missing_capability_named),
		T(test_run_drops_everything),
		T(test_unreadable_proc),
		T(test_daemonset_set),
		T(test_every_thread_dropped),
		T(test_discovery_pins_after_drop),
	};

	apply_test_filter();
	return bpf_run_group_tests_name("least privilege", tests, NULL, NULL, NULL);
}
