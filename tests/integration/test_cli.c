// SPDX-License-Identifier: MIT
/*
 * The inflight binary as an operator runs it: bad input gets one clear line
 * naming the input and exit status 2; `top --json` prints exact counts of
 * calls parked in a worker; `list` shows what can be attached.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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
#include "support/test_filter.h"
#include "support/bpf_env.h"
#include "support/inflight_proc.h"
#include "support/oldest_age.h"
#include "support/worker_proc.h"

#define DEADLINE_MS 20000

struct run {
	int status;
	char out[65536];
	char err[16384];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs argv (NULL-terminated) to completion, capturing stdout and stderr. */
static void run_argv(struct run *r, char *const argv[], char *const envp_extra[])
{
	int out[2], err[2];
	size_t no = 0, ne = 0;
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
		for (int i = 0; envp_extra && envp_extra[i]; i++)
			putenv(envp_extra[i]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	for (int open_fds = 2; open_fds;) {
		struct pollfd p[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };

		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			fail_msg("%s did not finish in time", argv[0]);
		}
		if (poll(p, 2, 1000) <= 0)
			continue;
		open_fds = 0;
		for (int i = 0; i < 2; i++) {
			char *buf = i ? r->err : r->out;
			size_t *len = i ? &ne : &no, cap = (i ? sizeof(r->err) : sizeof(r->out)) - 1;
			ssize_t n;

			if (p[i].fd < 0)
				continue;
			if (p[i].revents) {
				n = read(p[i].fd, buf + *len, cap - *len);
				if (n > 0)
					*len += (size_t)n;
				else if (n == 0 || *len == cap)
					p[i].fd = -1;
			}
		}
		/* keep polling while either pipe is open */
		if (p[0].fd >= 0 || p[1].fd >= 0)
			open_fds = 1;
		if (p[0].fd < 0 && out[0] >= 0) {
			close(out[0]);
			out[0] = -1;
		}
		if (p[1].fd < 0 && err[0] >= 0) {
			close(err[0]);
			err[0] = -1;
		}
		if (out[0] < 0 && err[0] < 0)
			break;
	}
	assert_int_equal(waitpid(pid, &r->status, 0), pid);
}

/* Runs inflight with the given arguments (NULL-terminated). */
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
	run_argv(r, argv, NULL);
}

static int exit_code(const struct run *r)
{
	return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status);
}

/* Exit 2, and stderr holds one error line containing `want`. */
static void expect_usage_error(const struct run *r, const char *want)
{
	if (exit_code(r) != 2 || !strstr(r->err, want))
		fail_msg("expected exit 2 and '%s' on stderr; got exit %d, stderr:\n%s", want,
			 exit_code(r), r->err);
	assert_non_null(strstr(r->err, "error"));
}

/* How many handle_entry programs are loaded (ours or another inflight's). */
static int loaded_programs(void)
{
	char *argv[] = { "bpftool", "prog", "show", "name", "handle_entry", NULL };
	struct run r;
	int n = 0;

	run_argv(&r, argv, NULL);
	for (const char *p = r.out; (p = strstr(p, "name handle_entry")); p++)
		n++;
	return n;
}

/*
 * Nothing of ours stays loaded once a run has exited: as many programs as
 * before it (another inflight on the machine may hold some).
 */
static void expect_nothing_loaded(int before)
{
	assert_int_equal(loaded_programs(), before);
}

static void test_help_and_version(void **state)
{
	struct run r;

	(void)state;
	run_inflight(&r, "--version", NULL);
	assert_int_equal(exit_code(&r), 0);
	assert_non_null(strstr(r.out, "inflight "));
	run_inflight(&r, "--help", NULL);
	assert_int_equal(exit_code(&r), 0);
	assert_non_null(strstr(r.out, "Examples"));
	run_inflight(&r, "top", "--help", NULL);
	assert_int_equal(exit_code(&r), 0);
	assert_non_null(strstr(r.out, "--chain"));
	assert_non_null(strstr(r.out, "Examples"));
	run_inflight(&r, "list", "--help", NULL);
	assert_int_equal(exit_code(&r), 0);
}

/*
 * The commands come from one table in main.c: 'inflight --help' lists them,
 * each answers its own --help, and an unknown command names the same list,
 * in the same order, and exits 2.
 */
static void test_commands_from_one_table(void **state)
{
	static const char *const want[] = { "run", "top", "stuck", "list", "detach" };
	char names[5][16], expected[128] = "expected: ", heading[128];
	const char *p, *end;
	size_t n = 0;
	struct run r;

	(void)state;
	run_inflight(&r, "--help", NULL);
	assert_int_equal(exit_code(&r), 0);
	p = strstr(r.out, "\nCommands:\n");
	assert_non_null(p);
	p += strlen("\nCommands:\n");
	/* the list ends at the blank line before Examples */
	end = strstr(p, "\n\n");
	assert_non_null(end);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p) + 1);
		size_t len;

		if (strncmp(p, "  ", 2) != 0)
			fail_msg("command line without its indent: %.*s", (int)(eol - p), p);
		p += 2;
		len = strcspn(p, " ");
		if (n == 5 || len == 0 || len >= sizeof(names[0]))
			fail_msg("unexpected command line in the usage: %.*s", (int)(eol - p), p);
		memcpy(names[n], p, len);
		names[n][len] = '\0';
		n++;
		p = eol + 1;
	}
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(names[i], want[i]);
		run_inflight(&r, names[i], "--help", NULL);
		assert_int_equal(exit_code(&r), 0);
		snprintf(heading, sizeof(heading), "Usage: inflight %s [OPTION...]\n", names[i]);
		assert_true(strncmp(r.out, heading, strlen(heading)) == 0);
		strcat(expected, names[i]);
		strcat(expected, i + 1 < n ? ", " : ";");
	}
	/* no usage on stdout, one line on stderr naming the same list */
	run_inflight(&r, "frobnicate", NULL);
	expect_usage_error(&r, "unknown command 'frobnicate'");
	assert_non_null(strstr(r.err, expected));
	assert_string_equal(r.out, "");
	/* one line: its newline is the last byte */
	assert_ptr_equal(strchr(r.err, '\n'), r.err + strlen(r.err) - 1);
}

static void test_bad_flags(void **state)
{
	const char *w = worker_path("native_worker");
	struct run r;

	(void)state;
	run_inflight(&r, "frobnicate", NULL);
	expect_usage_error(&r, "unknown command 'frobnicate'");
	run_inflight(&r, NULL);
	assert_int_equal(exit_code(&r), 2);
	run_inflight(&r, "top", "--func", "f", NULL);
	expect_usage_error(&r, "no target");
	run_inflight(&r, "top", "--binary", w, NULL);
	expect_usage_error(&r, "nothing to probe");
	run_inflight(&r, "top", "--pid", "abc", "--func", "f", NULL);
	expect_usage_error(&r, "--pid 'abc': expected a process id");
	run_inflight(&r, "top", "--binary", w, "--func", "f", "--return", "sometimes", NULL);
	expect_usage_error(&r, "--return 'sometimes': expected auto, uretprobe or insn");
	run_inflight(&r, "top", "--binary", w, "--func", "f", "--interval", "soon", NULL);
	expect_usage_error(&r, "--interval 'soon'");
	run_inflight(&r, "top", "--binary", w, "--func", "f", "--max-chains", "0", NULL);
	expect_usage_error(&r, "--max-chains '0'");
	run_inflight(&r, "top", "--binary", w, "--func", "f", "--chain", "%di", "--chain-name",
		     "x", NULL);
	expect_usage_error(&r, "--chain and --chain-name exclude each other");
	run_inflight(&r, "list", NULL);
	expect_usage_error(&r, "give exactly one of --binary PATH or --pid PID");
}

/* The fetch spec error points at the column. */
static void test_bad_fetch_spec(void **state)
{
	const char *w = worker_path("native_worker");
	struct run r;

	(void)state;
	run_inflight(&r, "top", "--binary", w, "--func", "worker_handle", "--chain", "+8(%dx",
		     NULL);
	expect_usage_error(&r, "--chain '+8(%dx': expected ')' at column 7");
	/* the caret sits under column 7 */
	assert_non_null(strstr(r.err, "\n  +8(%dx\n        ^\n"));
	run_inflight(&r, "top", "--binary", w, "--func", "worker_handle", "--chain", "%zz:string",
		     NULL);
	expect_usage_error(&r, "unknown register '%zz'");
}

static void test_bad_targets(void **state)
{
	const char *w = worker_path("native_worker");
	struct run r;
	char pid[16];
	pid_t gone;
	int before = loaded_programs();

	(void)state;
	REQUIRE_BPF();
	run_inflight(&r, "top", "--binary", "/no/such/worker", "--func", "f", NULL);
	expect_usage_error(&r, "--binary /no/such/worker: no such file");
	run_inflight(&r, "top", "--binary", "Makefile", "--func", "f", NULL);
	expect_usage_error(&r, "--binary Makefile: not an ELF file");
	run_inflight(&r, "top", "--binary", w, "--func", "no_such_function", NULL);
	expect_usage_error(&r, "--func no_such_function: no such function in");
	run_inflight(&r, "top", "--binary", w, "--usdt", "inflight_test:handle_entry", NULL);
	expect_usage_error(&r, "expected PROVIDER:ENTRY,PROVIDER:RETURN");
	run_inflight(&r, "top", "--binary", w, "--usdt",
		     "inflight_test:handle_entry,inflight_test:nope", NULL);
	expect_usage_error(&r, "no probe inflight_test:nope");
	run_inflight(&r, "list", "--binary", "Makefile", NULL);
	expect_usage_error(&r, "Makefile: not an ELF file");

	/* a pid that existed and is gone */
	gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	snprintf(pid, sizeof(pid), "%d", (int)gone);
	run_inflight(&r, "top", "--pid", pid, "--func", "worker_handle", NULL);
	expect_usage_error(&r, "no such process");
	expect_nothing_loaded(before);
}

/* Missing privilege and kernel features are named. */
static void test_privilege_and_kernel(void **state)
{
	char *nobody[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			   "--inh-caps=-all", (char *)public_copy(inflight_bin()), "top", "--binary",
			   (char *)public_copy(worker_path("native_worker")), "--func", "worker_handle",
			   NULL };
	char *nosys[] = { (char *)inflight_bin(), "top", "--binary",
			  (char *)worker_path("native_worker"), "--func", "worker_handle", NULL };
	char *env[] = { "INFLIGHT_PREFLIGHT_SYSFS=/nonexistent", NULL };
	struct run r;

	(void)state;
	run_argv(&r, nobody, NULL);
	expect_usage_error(&r, "missing capability CAP_BPF");
	run_argv(&r, nosys, env);
	expect_usage_error(&r, "kernel has no BTF");
}

/* INFLIGHT_* variables stand for the flags; bad ones are named; flags win. */
static void test_env_options(void **state)
{
	char *argv[] = { (char *)inflight_bin(), "top", "--once", "--interval", "100ms", NULL };
	char bin[160];
	char *env[] = { bin, "INFLIGHT_FUNC=worker_handle", "INFLIGHT_CHAIN=+0(%di):string", NULL };
	char *bad[] = { "INFLIGHT_MAX_CHAINS=0", NULL };
	char *argv_bad[] = { (char *)inflight_bin(), "top", "--binary", "x", "--func", "f", NULL };
	char *argv_flag[] = { (char *)inflight_bin(), "top", "--pid", "abc", "--func", "f", NULL };
	char *env_pid[] = { "INFLIGHT_PID=1", NULL };
	struct run r;

	(void)state;
	REQUIRE_BPF();
	snprintf(bin, sizeof(bin), "INFLIGHT_BINARY=%s", worker_path("native_worker"));
	run_argv(&r, argv, env);
	if (exit_code(&r) != 0)
		fail_msg("top from INFLIGHT_* variables failed:\n%s", r.err);
	assert_non_null(strstr(r.err, "attached"));
	assert_non_null(strstr(r.out, "CHAIN"));
	run_argv(&r, argv_bad, bad);
	expect_usage_error(&r, "INFLIGHT_MAX_CHAINS=0: expected a number from 1 to 1048576");
	/* the flag's value is the one checked, not the variable's */
	run_argv(&r, argv_flag, env_pid);
	expect_usage_error(&r, "--pid 'abc'");
}

static void test_list(void **state)
{
	struct run r;

	(void)state;
	run_inflight(&r, "list", "--binary", worker_path("native_worker"), "--match", "handle",
		     NULL);
	assert_int_equal(exit_code(&r), 0);
	assert_non_null(strstr(r.out, "func  worker_handle "));
	assert_non_null(strstr(r.out, "usdt  inflight_test:handle_entry "));
	assert_non_null(strstr(r.out, "usdt  inflight_test:handle_return "));
	assert_null(strstr(r.out, "func  main "));
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The first JSON line whose reading began after `after_ns`. */
static void json_after(struct inflight_proc *l, uint64_t after_ns, char *line, size_t size)
{
	unsigned long long ts;

	for (;;) {
		if (!fgets(line, (int)size, l->out))
			fail_msg("inflight top --json ended early");
		if (sscanf(line, "{\"ts\": %llu,", &ts) != 1)
			fail_msg("not a JSON reading: %s", line);
		if (ts > after_ns)
			return;
	}
}

static void test_top_json(void **state)
{
	char *args[] = { "top", "--binary", (char *)worker_path("native_worker"), "--func",
			 "worker_handle", "--chain", "+0(%di):string", "--json", "--interval",
			 "100ms", NULL };
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	struct worker_proc *w;
	static struct inflight_proc l;
	char line[8192];
	uint64_t t;
	int status, before = loaded_programs();

	(void)state;
	REQUIRE_BPF();
	inflight_start(&l, args, NULL);
	inflight_wait_stderr(&l, "attached");
	w = worker_start(wargv);
	worker_send(w, "park alpha 2");
	worker_send(w, "park \\xce\\xb2\\xff 1");
	worker_expect(w, "EEE");
	t = realtime_ns();
	json_after(&l, t, line, sizeof(line));
	assert_non_null(strstr(line, "{\"chain\": \"alpha\", \"inflight\": 2, \"entered\": 2, \"exited\": 0, \"released\": 0, \"rate\": "));
	/* β then U+FFFD for the invalid byte */
	assert_non_null(strstr(line, "{\"chain\": \"\xce\xb2\xef\xbf\xbd\", \"inflight\": 1,"));
	assert_non_null(strstr(line, "], \"dropped\": 0}"));

	worker_send(w, "release");
	worker_expect(w, "RRR");
	t = realtime_ns();
	json_after(&l, t, line, sizeof(line));
	assert_non_null(strstr(line, "{\"chain\": \"alpha\", \"inflight\": 0, \"entered\": 2, \"exited\": 2, \"released\": 0, \"rate\": "));
	/* the reading after that one: its whole interval came after the returns */
	{
		unsigned long long ts;

		assert_int_equal(sscanf(line, "{\"ts\": %llu", &ts), 1);
		json_after(&l, ts, line, sizeof(line));
	}
	assert_non_null(strstr(line, "{\"chain\": \"alpha\", \"inflight\": 0, \"entered\": 2, \"exited\": 2, \"released\": 0, \"rate\": 0.000, \"oldest_age\": null, \"history\": ["));

	/* SIGTERM: detach and exit 0 */
	status = inflight_stop(&l, SIGTERM);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	expect_nothing_loaded(before);
}

/* A JSON array of integers at `s` ("[1, 2]"): into `v` (at most `max`), how many. */
static int int_array(const char *s, long *v, int max)
{
	char *end;
	int n = 0;

	assert_true(*s == '[');
	for (s++; *s != ']'; s = end + (*end == ',' ? 2 : 0)) {
		assert_true(n < max);
		v[n++] = strtol(s, &end, 10);
		assert_true(end != s);
	}
	return n;
}

/* A chain's field in a `top --json` line: the text after `"chain": "NAME", ... "FIELD": `. */
static const char *chain_field(const char *line, const char *chain, const char *field)
{
	char key[128];
	const char *c, *f;

	snprintf(key, sizeof(key), "{\"chain\": \"%s\",", chain);
	c = strstr(line, key);
	if (!c)
		fail_msg("no chain %s in: %s", chain, line);
	snprintf(key, sizeof(key), "\"%s\": ", field);
	f = strstr(c, key);
	if (!f || strchr(c, '}') < f)
		fail_msg("chain %s has no %s in: %s", chain, field, line);
	return f + strlen(key);
}

/*
 * `top --json`'s oldest_age and history: a call parked a second (by the
 * test's clock) reads its age at the reading, between the reading's time
 * less the park and less the send (plus READING_SLACK_NS, a reading's own
 * length, 250 ms with a loaded machine's slack, and the 3 decimals
 * printed); the history
 * holds the counts of the readings since the chain was first seen, 1 each
 * (a second at 100 ms: about 10); after the release, null and a 0 at the
 * end; never more than 20.
 */
static void test_top_json_oldest(void **state)
{
	char *args[] = { "top", "--binary", (char *)worker_path("native_worker"), "--func",
			 "worker_handle", "--chain", "+0(%di):string", "--json", "--interval",
			 "100ms", NULL };
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	struct worker_proc *w;
	static struct inflight_proc l;
	char line[8192];
	unsigned long long ts;
	uint64_t sent, parked;
	long h[64];
	int n;

	(void)state;
	REQUIRE_BPF();
	inflight_start(&l, args, NULL);
	inflight_wait_stderr(&l, "attached");
	w = worker_start(wargv);
	park_alpha_a_second(w, &sent, &parked);
	json_after(&l, realtime_ns(), line, sizeof(line));
	assert_int_equal(sscanf(line, "{\"ts\": %llu", &ts), 1);
	/* printed with 3 decimals: half the last one either way */
	expect_oldest_age("top", strtod(chain_field(line, "alpha", "oldest_age"), NULL), ts, sent,
			  parked, 0.0005, line);
	n = int_array(chain_field(line, "alpha", "history"), h, 64);
	printf("top: history of %d readings\n", n);
	assert_true(n >= 5 && n <= 20);
	for (int i = 0; i < n; i++)
		assert_int_equal(h[i], 1);

	worker_send(w, "release");
	worker_expect(w, "R");
	json_after(&l, realtime_ns(), line, sizeof(line));
	assert_non_null(strstr(chain_field(line, "alpha", "oldest_age"), "null, \"history\": [1, "));
	/* keep reading until the ring is full: 20 at most, the newest last */
	for (int k = 0; k < 25; k++)
		json_after(&l, 0, line, sizeof(line));
	n = int_array(chain_field(line, "alpha", "history"), h, 64);
	assert_int_equal(n, 20);
	assert_int_equal(h[19], 0);
	assert_true(WIFEXITED(inflight_stop(&l, SIGTERM)));
}

/* top --pid whose process exits: says so and exits 2, not an empty table forever. */
static void test_top_pid_exits(void **state)
{
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	struct worker_proc *w;
	static struct inflight_proc l;
	char pid[16];
	char *args[] = { "top", "--pid", pid, "--func", "worker_handle", "--chain",
			 "+0(%di):string", "--json", "--interval", "100ms", NULL };
	int status;

	(void)state;
	REQUIRE_BPF();
	w = worker_start(wargv);
	worker_send(w, "burst warmup 1");
	worker_expect(w, "B");
	snprintf(pid, sizeof(pid), "%d", (int)w->pid);
	inflight_start(&l, args, NULL);
	inflight_wait_stderr(&l, "attached");
	worker_stop(w);
	inflight_wait_stderr(&l, "has exited");
	status = inflight_stop(&l, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_commands_from_one_table),
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_bad_fetch_spec),
		cmocka_unit_test(test_bad_targets),
		cmocka_unit_test(test_privilege_and_kernel),
		cmocka_unit_test(test_env_options),
		cmocka_unit_test(test_list),
		cmocka_unit_test_teardown(test_top_json, worker_teardown),
		cmocka_unit_test_teardown(test_top_json_oldest, worker_teardown),
		cmocka_unit_test_teardown(test_top_pid_exits, worker_teardown),
	};

	apply_test_filter();
	return cmocka_run_group_tests_name("the inflight command line", tests, NULL, NULL);
}
