// SPDX-License-Identifier: MIT
/*
 * `inflight stuck`: calls parked for known times in the conserver stand-in
 * (every CPython 3.10+ here, sid's 3.13-3.15 in their own root) and in the
 * native test worker; `stuck --older-than` lists exactly the old ones,
 * with their pid, tid, chain, age and stack (asserted frame by frame), and
 * not the young one; --json the same; bad --older-than values are refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "support/inflight_proc.h"
#include "support/proc_info.h"
#include "support/pythons.h"
#include "support/redis.h"
#include "support/standin.h"
#include "support/test_filter.h"
#include "support/worker_proc.h"

#define STANDIN "tests/python/conserver_standin.py"
#define CAFE "caf\xc3\xa9"
#define CHAINS                                                                  \
	"[{\"name\":\"transcribe\",\"ingress\":\"in_t\",\"links\":[\"park\"]},"   \
	"{\"name\":\"" CAFE "\",\"ingress\":\"in_c\",\"links\":[\"park\"]}]"

static struct redis redis;
static struct inflight_proc stuck, run;
static char pin_dir[128];
static pid_t worker_pids[4];

static int teardown(void **state)
{
	(void)state;
	if (stuck.pid)
		inflight_stop(&stuck, SIGKILL);
	if (run.pid)
		inflight_stop(&run, SIGKILL);
	if (pin_dir[0]) {
		char *detach[] = { "detach", "--pin-dir", pin_dir, NULL };

		inflight_start(&run, detach, NULL);
		inflight_stop(&run, 0);
		pin_dir[0] = '\0';
	}
	worker_stop_all();
	for (int i = 0; i < 4; i++) {
		while (worker_pids[i] && proc_alive(worker_pids[i]))
			sched_yield();
		worker_pids[i] = 0;
	}
	redis_stop(&redis);
	return 0;
}

/* The line of the stand-in that holds `text` (its first such line). */
static int line_of(const char *text)
{
	char buf[512];
	int n = 0;
	FILE *f = fopen(STANDIN, "re");

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		n++;
		if (strstr(buf, text)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	fail_msg("%s has no line with '%s'", STANDIN, text);
	return -1;
}

static void start_standin(const struct interp *py, int workers)
{
	char *argv[] = { py->python, STANDIN, NULL };
	char script[1024];
	char *chrooted[] = { "unshare", "--mount", "--fork", "--kill-child", "sh", "-c", script, NULL };
	const struct standin_config cfg = { CHAINS, workers, "fork", 1, NULL };

	if (!py->root) {
		standin_start(&redis, argv, &cfg, worker_pids, 4);
		return;
	}
	snprintf(script, sizeof(script),
		 "mount --bind tests/python %s/mnt && exec chroot %s %s /mnt/conserver_standin.py",
		 py->root, py->root, py->python);
	standin_start(&redis, chrooted, &cfg, worker_pids, 4);
}

static void wait_list(const char *list, int n)
{
	char v[128];

	for (int i = 0; i < n; i++)
		redis_blpop(&redis, list, v, sizeof(v));
}

/* Everything the command writes to stdout, once it has exited (status 0). */
static char *run_to_end(struct inflight_proc *p)
{
	size_t cap = 1 << 16, n = 0;
	char *out = malloc(cap);
	int status;

	assert_non_null(out);
	for (size_t got; (got = fread(out + n, 1, cap - 1 - n, p->out)) > 0;) {
		n += got;
		if (n + 1 == cap) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
	}
	out[n] = '\0';
	status = inflight_stop(p, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("inflight stuck exited with status %#x; stderr:\n%s\nstdout:\n%s", status,
			 p->err, out);
	return out;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static bool is_worker(pid_t pid)
{
	for (int i = 0; i < 4; i++)
		if (worker_pids[i] == pid)
			return true;
	return false;
}

/* The stack a parked call shows, innermost first: frames "func (...FILE:LINE)". */
struct want_frame {
	const char *func, *func310; /* co_qualname; 3.10 has co_name only */
	const char *line_text;
};
static const struct want_frame parked[] = {
	{ "Redis._line", "_line", "chunk = self.sock.recv(65536)" },
	{ "Redis._reply", "_reply", "line = self._line()" },
	{ "Redis.command", "command", "return self._reply()" },
	{ "run_link", "run_link", "redis().command(\"BLPOP\", \"release\", 0)" },
	{ "_handle_vcon", "_handle_vcon", "run_link(link, vcon_id, chain=chain_details[\"name\"])" },
};
#define NPARKED (sizeof(parked) / sizeof(parked[0]))

/* The stand-in's co_filename: 3.9+ make the script's path absolute. */
static const char *standin_file(const struct interp *py)
{
	static char path[4096];

	if (py->root)
		return "/mnt/conserver_standin.py";
	assert_non_null(getcwd(path, sizeof(path) - sizeof(STANDIN) - 1));
	strcat(path, "/" STANDIN);
	return path;
}

/* One call's block of the text: its header's fields and exact stack. */
static const char *check_text_call(const char *p, const struct interp *py)
{
	int pid, tid = 0, n = 0;
	double age;
	char chain[64];
	const char *file = standin_file(py);

	if (sscanf(p, "PID %d  TID %d  CHAIN %63s  AGE >=%lfs%n", &pid, &tid, chain, &age, &n) != 4 &&
	    (tid = 0, sscanf(p, "PID %d  TID ?  CHAIN %63s  AGE >=%lfs%n", &pid, chain, &age, &n) != 3))
		fail_msg("not a call's header: %.200s", p);
	assert_true(is_worker(pid));
	/* a serial worker runs its calls on its main thread (3.10 keeps no thread id) */
	if (py->minor >= 11)
		assert_int_equal(tid, pid);
	assert_string_equal(chain, "transcribe");
	/* watched for --older-than 1s: at least that, read every 100 ms */
	if (age < 1.0 || age > 30.0)
		fail_msg("age %.1f s, expected at least 1 s", age);
	p = strchr(p + n, '\n') + 1;
	for (size_t i = 0; i < NPARKED; i++) {
		char want[512];
		const char *eol = strchr(p, '\n');

		snprintf(want, sizeof(want), "    %s (%s:%d)",
			 py->minor >= 11 ? parked[i].func : parked[i].func310, file,
			 line_of(parked[i].line_text));
		assert_non_null(eol);
		if ((size_t)(eol - p) != strlen(want) || strncmp(p, want, strlen(want)))
			fail_msg("frame %zu: got '%.*s', expected '%s'", i, (int)(eol - p), p, want);
		p = eol + 1;
	}
	/* the handler's frame ends the stack */
	assert_true(*p == '\0' || *p == '\n');
	return *p ? p + 1 : p;
}

static void park_and_stuck(const struct interp *py, bool json)
{
	char *args[] = { "stuck", "--python", "--python-exe", "conserver_standin", "--older-than",
			 "1s", "--interval", "100ms", json ? "--json" : NULL, NULL };
	char *out;

	start_standin(py, 3);
	/* two calls parked before `stuck` starts */
	redis_rpush(&redis, "in_t", "old-1");
	redis_rpush(&redis, "in_t", "old-2");
	wait_list("entered", 2);
	inflight_start(&stuck, args, NULL);
	inflight_wait_stderr(&stuck, "stuck: 2 calls in flight now");
	/* one parked after its first reading: young when it lists */
	redis_rpush(&redis, "in_c", "young");
	wait_list("entered", 1);
	out = run_to_end(&stuck);
	if (json) {
		char want[512];

		/* exactly the two old calls, of the three in flight */
		assert_int_equal(count_of(out, "{\"pid\": "), 2);
		assert_non_null(strstr(out, "\"older_than\": 1.000, \"inflight\": 3, "));
		assert_int_equal(count_of(out, "\"chain\": \"transcribe\", \"age\": "), 2);
		assert_int_equal(count_of(out, "\"age_exact\": false, \"truncated\": false"), 2);
		assert_null(strstr(out, CAFE));
		for (size_t i = 0; i < NPARKED; i++) {
			snprintf(want, sizeof(want), "{\"function\": \"%s\", \"file\": \"%s\", \"line\": %d}",
				 py->minor >= 11 ? parked[i].func : parked[i].func310,
				 standin_file(py),
				 line_of(parked[i].line_text));
			if (count_of(out, want) != 2)
				fail_msg("%s: not twice in %s", want, out);
		}
		/* the handler's frame ends each stack */
		snprintf(want, sizeof(want), "\"line\": %d}]}", line_of(parked[NPARKED - 1].line_text));
		assert_int_equal(count_of(out, want), 2);
	} else {
		const char *p = out;

		p = check_text_call(p, py);
		p = check_text_call(p, py);
		if (*p)
			fail_msg("more than the two old calls:\n%s", out);
	}
	free(out);
	for (int i = 0; i < 3; i++)
		redis_rpush(&redis, "release", "go");
	wait_list("done", 3);
}

static void test_python_text(void **state)
{
	park_and_stuck(*state, false);
}

static void test_python_json(void **state)
{
	park_and_stuck(*state, true);
}

/* Bad --older-than values: one line naming the value and what is expected, exit 2. */
static void test_bad_older_than(void **state)
{
	static const char *const bad[] = { "", "abc", "-5s", "30x", "0", "nan", "1.5.2s", "25h", "s" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *args[] = { "stuck", "--python", "--pid", "1", "--older-than", (char *)bad[i], NULL };
		char want[128];
		int status;

		inflight_start(&stuck, args, NULL);
		status = inflight_stop(&stuck, 0);
		snprintf(want, sizeof(want),
			 "inflight: error: --older-than '%s': expected a duration from 1ms to 24h", bad[i]);
		if (!strstr(stuck.err, want))
			fail_msg("--older-than '%s': stderr:\n%s", bad[i], stuck.err);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 2);
	}
}

/* --- native: the test worker's threads parked in worker_handle */

#define NATIVE_TARGET "--binary", (char *)worker_path("native_worker"), "--func", "worker_handle", \
		"--chain", "+0(%di):string"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	/* time passing is what is tested here (the calls' age), not a wait for an event */
	while (nanosleep(&ts, &ts))
		;
}

/* A native call's block: header fields, then a stack holding worker_handle in the worker. */
static const char *check_native_call(const char *p, pid_t pid, double min_age, double max_age,
				     pid_t *tid)
{
	int got_pid, n = 0;
	double age;
	char chain[64], want[128];
	const char *end = strstr(p, "\n\n"), *handle;

	if (sscanf(p, "PID %d  TID %d  CHAIN %63s  AGE %lfs%n", &got_pid, tid, chain, &age, &n) != 4)
		fail_msg("not a native call's header (exact age, a tid): %.200s", p);
	assert_int_equal(got_pid, pid);
	/* `park` runs each call on a thread of its own */
	assert_true(*tid > 0 && *tid != pid);
	assert_string_equal(chain, "alpha");
	if (age < min_age || age > max_age)
		fail_msg("age %.2f s, expected %.1f to %.1f", age, min_age, max_age);
	end = end ? end + 2 : p + strlen(p);
	snprintf(want, sizeof(want), "/native_worker)\n");
	handle = strstr(p, "\n    worker_handle+0x");
	if (!handle || handle > end || !strstr(handle, want) || strstr(handle, want) > end)
		fail_msg("no worker_handle+0x... (.../native_worker) frame in:\n%.*s", (int)(end - p), p);
	return end;
}

/*
 * A running collector's pinned state: `stuck` lists at once exactly the
 * two calls parked 1.5 s before, aged from their entry, with stacks down
 * through worker_handle, and not the one parked just before it ran.
 */
static void native_pinned(bool json)
{
	char *args[] = { "run", "--pin-dir", pin_dir, NATIVE_TARGET, "--interval", "1s", NULL };
	char *stuck_args[] = { "stuck", NATIVE_TARGET, "--pin-dir", pin_dir, "--older-than", "1s",
			       json ? "--json" : NULL, NULL };
	struct worker_proc *w;
	char *out;

	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/inflight-test-stuck-%d", (int)getpid());
	inflight_start(&run, args, NULL);
	inflight_wait_stderr(&run, "attached");
	w = worker_start((char *[]){ (char *)worker_path("native_worker"), NULL });
	worker_send(w, "park alpha 2");
	worker_expect(w, "EE");
	sleep_ms(1500);
	worker_send(w, "park beta 1");
	worker_expect(w, "E");

	inflight_start(&stuck, stuck_args, NULL);
	out = run_to_end(&stuck);
	assert_non_null(strstr(stuck.err, "pinned probe"));
	if (json) {
		assert_int_equal(count_of(out, "{\"pid\": "), 2);
		assert_non_null(strstr(out, "\"older_than\": 1.000, \"inflight\": 3, "));
		assert_int_equal(count_of(out, "\"chain\": \"alpha\", \"age\": 1."), 2);
		assert_int_equal(count_of(out, "\"age_exact\": true"), 2);
		assert_int_equal(count_of(out, "\"symbol\": \"worker_handle\", \"offset\": "), 2);
		assert_null(strstr(out, "beta"));
	} else {
		pid_t t1, t2;
		const char *p = check_native_call(out, w->pid, 1.5, 10.0, &t1);

		p = check_native_call(p, w->pid, 1.5, 10.0, &t2);
		assert_int_not_equal(t1, t2);
		if (*p)
			fail_msg("more than the two old calls:\n%s", out);
	}
	free(out);
	worker_send(w, "release");
	worker_expect(w, "RRR");
	inflight_stop(&run, SIGTERM);
}

static void test_native_pinned_text(void **state)
{
	(void)state;
	native_pinned(false);
}

static void test_native_pinned_json(void **state)
{
	(void)state;
	native_pinned(true);
}

/*
 * No collector: `stuck` attaches probes of its own, says that only calls
 * begun from now on are seen, watches for --older-than and one interval,
 * and lists the calls parked just after it attached; it pins nothing.
 */
static void test_native_unpinned(void **state)
{
	char none[128];
	char *stuck_args[] = { "stuck", NATIVE_TARGET, "--pin-dir", none, "--older-than", "500ms",
			       "--interval", "1s", NULL };
	struct worker_proc *w;
	pid_t t1, t2;
	const char *p;
	char *out;

	(void)state;
	snprintf(none, sizeof(none), "/sys/fs/bpf/inflight-test-stuck-none-%d", (int)getpid());
	w = worker_start((char *[]){ (char *)worker_path("native_worker"), NULL });
	inflight_start(&stuck, stuck_args, NULL);
	inflight_wait_stderr(&stuck, "only calls begun from now on are seen; watching for 1.5s");
	worker_send(w, "park alpha 2");
	worker_expect(w, "EE");
	out = run_to_end(&stuck);
	/* entered within its first second: at least 0.5 s old at 1.5 s */
	p = check_native_call(out, w->pid, 0.5, 1.6, &t1);
	p = check_native_call(p, w->pid, 0.5, 1.6, &t2);
	assert_int_not_equal(t1, t2);
	assert_string_equal(p, "");
	free(out);
	assert_int_not_equal(access(none, F_OK), 0);
	worker_send(w, "release");
	worker_expect(w, "RR");
}

int main(void)
{
	static struct CMUnitTest tests[40];
	static char names[40][512];
	struct interp *pythons;
	size_t np = find_pythons(&pythons), nt = 0, newest = 0;
	int rc;
	const char *ci = getenv("CI");

	tests[nt++] = (struct CMUnitTest){ "bad --older-than refused", test_bad_older_than, NULL,
					   teardown, NULL };
	tests[nt++] = (struct CMUnitTest){ "native: a running collector's pinned calls, text",
					   test_native_pinned_text, NULL, teardown, NULL };
	tests[nt++] = (struct CMUnitTest){ "native: a running collector's pinned calls, --json",
					   test_native_pinned_json, NULL, teardown, NULL };
	tests[nt++] = (struct CMUnitTest){ "native: no collector, calls begun after attach",
					   test_native_unpinned, NULL, teardown, NULL };
	if (!np && ci && !strcmp(ci, "true")) {
		fprintf(stderr, "CI=true: no CPython 3.10+ found\n");
		return 1;
	}
	/* room for one test per interpreter and the --json one */
	for (size_t i = 0; i < np && nt + 2 <= sizeof(tests) / sizeof(tests[0]); i++) {
		if (pythons[i].minor > pythons[newest].minor)
			newest = i;
		snprintf(names[nt], sizeof(names[nt]), "CPython: 2 old calls of 3 listed with their stacks [%s%.200s]",
			 pythons[i].root ? "sid " : "", pythons[i].python);
		tests[nt] = (struct CMUnitTest){ names[nt], test_python_text, NULL, teardown, &pythons[i] };
		nt++;
	}
	if (np) {
		snprintf(names[nt], sizeof(names[nt]), "CPython --json [%.200s]", pythons[newest].python);
		tests[nt] = (struct CMUnitTest){ names[nt], test_python_json, NULL, teardown,
						 &pythons[newest] };
		nt++;
	}
	apply_test_filter();
	rc = _cmocka_run_group_tests("inflight stuck", tests, nt, NULL, NULL);
	free_pythons(pythons, np);
	return rc;
}
