// SPDX-License-Identifier: MIT
/*
 * The image (make image) run the way tools/deploy/daemonset.yaml runs it:
 * docker run flags derived from the manifest itself (read-only root, every
 * capability dropped but the documented set this Docker accepts, host PID
 * namespace, the host's bpffs and the other hostPath volumes, memory and
 * CPU limits, its environment), --user nobody. It counts a worker on the host and one in another
 * container (the same binary, so the same uprobe), parked in the handler:
 * exact values over OTLP to the test receiver and through a real
 * Prometheus scraping it, then 0. Run by tests/deploy/run.sh with
 * DOCKER_HOST (its own dockerd) and INFLIGHT_IMAGE set.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include "support/bpf_env.h"
#include "support/test_filter.h"
#include "support/inflight_proc.h"
#include "support/proc_info.h"
#include "support/prometheus.h"
#include "support/receiver.h"
#include "support/redis.h"
#include "support/standin.h"
#include "support/worker_proc.h"

static struct prometheus prom;
static struct receiver rx;
static struct inflight_proc run;
static char name[64];
static char pindir[96];
static char empty_dir[64];
static char standin_copy[160];
static struct redis redis;

/* The probes the container pinned go, whoever pinned them (inflight detach on the host). */
static void detach_pins(void)
{
	char cmd[512];

	if (!pindir[0] || access(pindir, F_OK))
		return;
	snprintf(cmd, sizeof(cmd), "%s detach --pin-dir %s >/dev/null 2>&1", inflight_bin(), pindir);
	if (system(cmd))
		fail_msg("%s: inflight detach failed", pindir);
	assert_int_not_equal(access(pindir, F_OK), 0);
}

static const char *docker(void)
{
	const char *d = getenv("DOCKER");

	return d && *d ? d : access("/usr/bin/docker", X_OK) ? "docker" : "/usr/bin/docker";
}

static const char *image(void)
{
	const char *i = getenv("INFLIGHT_IMAGE");

	if (!i || !*i)
		fail_msg("INFLIGHT_IMAGE is not set: tests/deploy/run.sh builds the image and sets it");
	return i;
}

/* Runs `docker ARGS...` to completion; its stdout's first line into `out`. Exit status. */
static int docker_cmd(char *out, size_t size, const char *fmt, ...)
{
	char cmd[1024], line[512] = "";
	va_list ap;
	FILE *f;
	int n;

	n = snprintf(cmd, sizeof(cmd), "%s ", docker());
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	assert_non_null(f);
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (out)
		snprintf(out, size, "%s", line);
	return pclose(f);
}

static int teardown(void **state)
{
	(void)state;
	if (run.pid) {
		docker_cmd(NULL, 0, "rm -f %s >/dev/null 2>&1", name);
		inflight_stop(&run, SIGKILL);
	}
	worker_stop_all();
	redis_stop(&redis);
	if (standin_copy[0])
		unlink(standin_copy);
	standin_copy[0] = '\0';
	detach_pins();
	prometheus_stop(&prom);
	receiver_stop(&rx);
	if (empty_dir[0])
		rmdir(empty_dir);
	empty_dir[0] = '\0';
	return 0;
}

/* Appends `s` single-quoted (none of the tests' arguments holds a quote). */
static void put_quoted(char *cmd, size_t size, const char *s)
{
	size_t n = strlen(cmd);

	snprintf(cmd + n, size - n, " '%s'", s);
}

/*
 * Starts the image in `run` as the DaemonSet runs it: docker run with the
 * flags tests/deploy/daemonset_docker_args.py derives from
 * tools/deploy/daemonset.yaml, `env` over its environment, and `cmd` for
 * the container's arguments (NULL: the DaemonSet's, each `repl` "OLD=NEW"
 * replaced).
 */
static void start_as_daemonset(const char *const env[], const char *const cmd[],
			       const char *const repl[])
{
	static char lines[64][512];
	static char *argv[80];
	const char *dir = getenv("DEPLOY_DIR") ? getenv("DEPLOY_DIR") : "tests/deploy";
	char script[1024 * 4];
	int n = 0, k = 0;
	FILE *f;

	if (!empty_dir[0]) {
		snprintf(empty_dir, sizeof(empty_dir), "/tmp/inflight-image-XXXXXX");
		assert_non_null(mkdtemp(empty_dir));
	}
	snprintf(script, sizeof(script), "/usr/bin/python3 %s/daemonset_docker_args.py", dir);
	put_quoted(script, sizeof(script), getenv("DAEMONSET") ? getenv("DAEMONSET")
							   : "tools/deploy/daemonset.yaml");
	put_quoted(script, sizeof(script), image());
	put_quoted(script, sizeof(script), empty_dir);
	for (int i = 0; env && env[i]; i++)
		put_quoted(script, sizeof(script), env[i]);
	for (int i = 0; repl && repl[i]; i++) {
		put_quoted(script, sizeof(script), "--arg");
		put_quoted(script, sizeof(script), repl[i]);
	}
	if (cmd) {
		put_quoted(script, sizeof(script), "--cmd");
		for (int i = 0; cmd[i]; i++)
			put_quoted(script, sizeof(script), cmd[i]);
	}
	argv[k++] = (char *)docker();
	argv[k++] = "run";
	argv[k++] = "--rm";
	argv[k++] = "--name";
	argv[k++] = name;
	f = popen(script, "r");
	assert_non_null(f);
	while (n < 64 && k < 79 && fgets(lines[n], sizeof(lines[n]), f)) {
		lines[n][strcspn(lines[n], "\n")] = '\0';
		argv[k++] = lines[n++];
	}
	if (pclose(f) || !n)
		fail_msg("%s failed", script);
	argv[k] = NULL;
	inflight_start_argv(&run, argv, NULL);
}

static void test_image_as_the_daemonset_runs_it(void **state)
{
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	char wdir[PATH_MAX], wpath[PATH_MAX], bind[PATH_MAX + 8], cname[64], binarg[PATH_MAX + 32], otlp[96], promenv[64], addr[32], line[64];
	char *cargv[16];
	const char *targets[] = { addr, NULL };
	struct worker_proc *host, *other;
	const struct rec_request *q = NULL;
	pid_t cpid;
	char uid[64], capeff[64];

	(void)state;
	REQUIRE_BPF();
	if (!prometheus_available())
		skip();
	/* the worker in another container: the same file, bind-mounted, in the base image */
	assert_non_null(realpath(workers_dir(), wdir));
	snprintf(bind, sizeof(bind), "%s:/w:ro", wdir);
	snprintf(cname, sizeof(cname), "inflight-test-worker-%d", (int)getpid());
	cargv[0] = (char *)docker();
	cargv[1] = "run";
	cargv[2] = "-i";
	cargv[3] = "--rm";
	cargv[4] = "--name";
	cargv[5] = cname;
	cargv[6] = "--network";
	cargv[7] = "none";
	cargv[8] = "-v";
	cargv[9] = bind;
	cargv[10] = getenv("INFLIGHT_WORKER_IMAGE") ? getenv("INFLIGHT_WORKER_IMAGE")
						    : "inflight-base:bookworm";
	cargv[11] = "/w/native_worker";
	cargv[12] = NULL;

	host = worker_start(wargv);
	other = worker_start(cargv);

	receiver_start(&rx, 0);
	snprintf(otlp, sizeof(otlp), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", rx.port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", free_port());
	snprintf(promenv, sizeof(promenv), "INFLIGHT_PROMETHEUS_ADDRESS=%s", addr);
	/* every process mapping the file, seen through the host worker's root (hostPID) */
	assert_non_null(realpath(worker_path("native_worker"), wpath));
	snprintf(binarg, sizeof(binarg), "/proc/%d/root%s", (int)host->pid, wpath);
	snprintf(name, sizeof(name), "inflight-test-%d", (int)getpid());
	/* pinned, as the DaemonSet runs it; removed with `inflight detach` at the end */
	snprintf(pindir, sizeof(pindir), "/sys/fs/bpf/inflight-test-image-%d", (int)getpid());
	{
		const char *env[] = { otlp, "OTEL_METRIC_EXPORT_INTERVAL=200", promenv, NULL };
		const char *cmd[] = { "run", "--binary", binarg, "--func", "worker_handle",
				      "--chain", "+0(%di):string", "--pin-dir", pindir,
				      "--user", "nobody", NULL };

		start_as_daemonset(env, cmd, NULL);
	}
	inflight_wait_stderr(&run, "serving Prometheus metrics");
	prometheus_start(&prom, targets);

	worker_send(host, "park alpha 2");
	worker_expect(host, "EE");
	worker_send(other, "park beta 1");
	worker_expect(other, "E");
	prometheus_wait_vector(&prom, "conserver_vcons_inflight", "chain_name", "alpha=2,beta=1");
	/* OTLP: a request carrying both values, from the container */
	for (int seq = 1; !q; seq++) {
		const struct rec_request *r;
		const struct rec_point *a, *b;

		receiver_wait(&rx, seq);
		r = receiver_request(&rx, seq);
		assert_non_null(r);
		a = rec_point(r, "chain.name=alpha");
		b = rec_point(r, "chain.name=beta");
		if (a && b && a->value == 2 && b->value == 1)
			q = r;
	}
	assert_string_equal(q->metric, "conserver.vcons.inflight");
	assert_string_equal(rec_resource(q, "service.name"), "conserver");

	/* inside: nobody, no capability left */
	assert_int_equal(docker_cmd(line, sizeof(line), "inspect -f '{{.State.Pid}}' %s", name), 0);
	cpid = (pid_t)atoi(line);
	assert_true(cpid > 0);
	proc_status(cpid, "Uid:", uid, sizeof(uid));
	assert_string_equal(uid, "65534");
	proc_status(cpid, "CapEff:", capeff, sizeof(capeff));
	assert_string_equal(capeff, "0000000000000000");

	worker_send(host, "release");
	worker_expect(host, "RR");
	worker_send(other, "release");
	worker_expect(other, "R");
	prometheus_wait_vector(&prom, "conserver_vcons_inflight", "chain_name", "alpha=0,beta=0");
	/* SIGTERM to the container (docker stop): one last export, exit 0 */
	assert_int_equal(docker_cmd(NULL, 0, "stop -t 30 %s >/dev/null", name), 0);
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, 0)), 0);
	if (strstr(run.err, "\"level\":\"error\""))
		fail_msg("the container logged an error:\n%s", run.err);
	/* the probes outlived the container, pinned for its successor */
	assert_int_equal(access(pindir, F_OK), 0);
	detach_pins();
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static long http_status(const char *url)
{
	CURL *c = curl_easy_init();
	long status = 0;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

#define CAFE "caf\xc3\xa9"
#define CHAINS                                                                  \
	"[{\"name\":\"transcribe\",\"ingress\":\"in_t\",\"links\":[\"park\"]}," \
	"{\"name\":\"" CAFE "\",\"ingress\":\"in_c\",\"links\":[\"park\"]}]"

static void push(const char *list, int n)
{
	for (int i = 0; i < n; i++)
		redis_rpush(&redis, list, "v");
}

static void wait_list(const char *list, int n)
{
	char v[128];

	for (int i = 0; i < n; i++)
		redis_blpop(&redis, list, v, sizeof(v));
}

/*
 * The DaemonSet's own command line (--python --python-exe conserver,
 * --health-address, --user nobody) and environment, within its memory and
 * CPU limits, on the conserver stand-in (tests/python, Debian's python3)
 * running on the host as root: live and ready, nobody with CAP_SYS_PTRACE
 * alone, and the vCons parked in _handle_vcon exact over OTLP and
 * /metrics, then 0; it stops with exit 0. The stand-in runs from a copy
 * with a name of its own, which replaces "conserver" in the arguments, so
 * no other stand-in on this machine is counted.
 */
static void test_daemonset_command_line(void **state)
{
	char otlp[96], promenv[64], health[32], repl[64], pattern[64], url[96], line[64];
	char script[160], cmd[512], uid[64], capeff[64], exe_repl[96];
	char *argv[] = { "/usr/bin/python3", script, NULL };
	const struct standin_config cfg = { CHAINS, 2, "fork", 4, NULL };
	int prom_port = free_port(), health_port = free_port();
	const struct rec_request *q = NULL;
	pid_t cpid;

	(void)state;
	REQUIRE_BPF();
	if (!empty_dir[0]) {
		snprintf(empty_dir, sizeof(empty_dir), "/tmp/inflight-image-XXXXXX");
		assert_non_null(mkdtemp(empty_dir));
	}
	snprintf(pattern, sizeof(pattern), "standin_image_%d", (int)getpid());
	snprintf(script, sizeof(script), "/tmp/inflight-%s.py", pattern);
	snprintf(cmd, sizeof(cmd), "cp %s/../python/conserver_standin.py %s",
		 getenv("DEPLOY_DIR") ? getenv("DEPLOY_DIR") : "tests/deploy", script);
	assert_int_equal(system(cmd), 0);
	snprintf(standin_copy, sizeof(standin_copy), "%s", script);
	standin_start(&redis, argv, &cfg, NULL, 0);

	receiver_start(&rx, 0);
	snprintf(otlp, sizeof(otlp), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", rx.port);
	snprintf(promenv, sizeof(promenv), "INFLIGHT_PROMETHEUS_ADDRESS=127.0.0.1:%d", prom_port);
	snprintf(health, sizeof(health), "127.0.0.1:%d", health_port);
	/* the pod's address is the host's here: its ports, not 8686 and 9464 */
	snprintf(repl, sizeof(repl), "0.0.0.0:8686=%s", health);
	snprintf(exe_repl, sizeof(exe_repl), "conserver=%s", pattern);
	snprintf(name, sizeof(name), "inflight-test-ds-%d", (int)getpid());
	{
		const char *env[] = { otlp, promenv, "OTEL_METRIC_EXPORT_INTERVAL=200", NULL };
		const char *r[] = { repl, exe_repl, NULL };

		start_as_daemonset(env, NULL, r);
	}
	inflight_wait_stderr(&run, "serving Prometheus metrics");
	assert_non_null(strstr(run.err, "watching CPython processes"));
	snprintf(url, sizeof(url), "http://%s/healthz", health);
	assert_int_equal(http_status(url), 200);
	snprintf(url, sizeof(url), "http://%s/readyz", health);
	assert_int_equal(http_status(url), 200);
	assert_int_equal(docker_cmd(line, sizeof(line), "inspect -f '{{.State.Pid}}' %s", name), 0);
	cpid = (pid_t)atoi(line);
	assert_true(cpid > 0);
	proc_status(cpid, "Uid:", uid, sizeof(uid));
	assert_string_equal(uid, "65534");
	proc_status(cpid, "CapEff:", capeff, sizeof(capeff));
	assert_string_equal(capeff, "0000000000080000"); /* CAP_SYS_PTRACE alone */

	push("in_t", 3);
	push("in_c", 1);
	wait_list("entered", 4);
	for (int seq = 1; !q; seq++) {
		const struct rec_request *r;
		const struct rec_point *a, *b;

		receiver_wait(&rx, seq);
		r = receiver_request(&rx, seq);
		assert_non_null(r);
		a = rec_point(r, "chain.name=transcribe");
		b = rec_point(r, "chain.name=" CAFE);
		if (a && b && a->value == 3 && b->value == 1)
			q = r;
	}
	/* the same from /metrics: the last collection's, polled until it has them */
	{
		char addr[32];
		const char *targets[] = { addr, NULL };

		snprintf(addr, sizeof(addr), "127.0.0.1:%d", prom_port);
		if (prometheus_available()) {
			prometheus_start(&prom, targets);
			prometheus_wait_vector(&prom, "conserver_vcons_inflight", "chain_name",
					       "caf\xc3\xa9=1,transcribe=3");
			for (int i = 0; i < 4; i++)
				redis_rpush(&redis, "release", "go");
			wait_list("done", 4);
			prometheus_wait_vector(&prom, "conserver_vcons_inflight", "chain_name",
					       "caf\xc3\xa9=0,transcribe=0");
		}
	}
	/* terminationGracePeriodSeconds: 40 */
	assert_int_equal(docker_cmd(NULL, 0, "stop -t 40 %s >/dev/null", name), 0);
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, 0)), 0);
	if (strstr(run.err, "\"level\":\"error\""))
		fail_msg("the container logged an error:\n%s", run.err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_image_as_the_daemonset_runs_it, teardown),
		cmocka_unit_test_teardown(test_daemonset_command_line, teardown),
	};

	apply_test_filter();
	return cmocka_run_group_tests_name("image: run as the DaemonSet runs it", tests, NULL, NULL);
}
