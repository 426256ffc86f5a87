// SPDX-License-Identifier: MIT
/*
 * --k8s-attributes: a worker placed in a cgroup laid out as the kubelet
 * does (kubepods.slice/...-pod<UID>.slice/cri-containerd-<ID>.scope), with
 * the kubelet's log link for its container, gets its own series carrying
 * container.id, k8s.pod.uid, k8s.pod.name, k8s.namespace.name and
 * k8s.container.name; a worker outside any pod, the same chain, gets the
 * plain series. Both exact.
 */
#define _GNU_SOURCE
#include <errno.h>
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
#include <unistd.h>
#include <cmocka.h>
#include "support/bpf_env.h"
#include "support/inflight_proc.h"
#include "support/observe.h"
#include "support/receiver.h"
#include "support/test_filter.h"
#include "support/worker_proc.h"

#define POD_UID "5f0c7a1e-2b3d-4c5e-8f90-a1b2c3d4e5f6"
#define POD_UID_SYSTEMD "5f0c7a1e_2b3d_4c5e_8f90_a1b2c3d4e5f6"
#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct inflight_proc run;
static struct receiver rx;
static char cgroup_root[512], scope[1024], logs[64] = "";
static const char *const levels[] = {
	"kubepods.slice",
	"kubepods.slice/kubepods-besteffort.slice",
	"kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_UID_SYSTEMD ".slice",
	"kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_UID_SYSTEMD
	".slice/cri-containerd-" CID ".scope",
};

/* The cgroup v2 mount, as the collector finds it. */
static int find_cgroup2(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char mnt[512];
		const char *dash = strstr(line, " - cgroup2 ");

		if (dash && sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1) {
			snprintf(cgroup_root, sizeof(cgroup_root), "%s", mnt);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

static void remove_cgroups(void)
{
	char path[1200];

	for (int i = (int)(sizeof(levels) / sizeof(levels[0])) - 1; i >= 0; i--) {
		snprintf(path, sizeof(path), "%s/%s", cgroup_root, levels[i]);
		rmdir(path);
	}
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (run.pid)
		inflight_stop(&run, SIGKILL);
	receiver_stop(&rx);
	worker_stop_all();
	remove_cgroups();
	if (logs[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", logs);
		if (system(cmd))
			return -1;
	}
	return 0;
}

static void make_pod(void)
{
	char path[1200], log[256];
	FILE *f;

	if (find_cgroup2())
		fail_msg("no cgroup v2 hierarchy is mounted");
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", cgroup_root, levels[i]);
		if (mkdir(path, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
	}
	snprintf(scope, sizeof(scope), "%s/%s", cgroup_root, levels[3]);
	snprintf(logs, sizeof(logs), "/tmp/inflight-k8s-logs-XXXXXX");
	assert_non_null(mkdtemp(logs));
	/* the kubelet's link for the container; its target does not matter here */
	snprintf(log, sizeof(log), "%s/web-7d4b9_shop_transcriber-" CID ".log", logs);
	f = fopen(log, "w");
	assert_non_null(f);
	fclose(f);
}

static void move_into_pod(pid_t pid)
{
	char path[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", scope);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%d\n", (int)pid);
	assert_int_equal(fclose(f), 0);
}

static void test_series_per_container(void **state)
{
	char endpoint[96], logdir[128];
	char *env[] = { endpoint, "OTEL_METRIC_EXPORT_INTERVAL=200", logdir, NULL };
	char *args[] = { "run", "--no-pin", "--k8s-attributes", "--binary",
			 (char *)worker_path("native_worker"), "--func", "worker_handle", "--chain",
			 WORKER_CHAIN_SPEC, NULL };
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	const char *pod_series = "chain.name=alpha,container.id=" CID
				 ",k8s.container.name=transcriber,k8s.namespace.name=shop"
				 ",k8s.pod.name=web-7d4b9,k8s.pod.uid=" POD_UID;
	struct worker_proc *in_pod, *outside;

	(void)state;
	REQUIRE_BPF();
	make_pod();
	snprintf(logdir, sizeof(logdir), "INFLIGHT_K8S_LOG_DIR=%s", logs);
	receiver_start(&rx, 0);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d",
		 rx.port);
	inflight_start(&run, args, env);
	inflight_wait_stderr(&run, "attached");
	in_pod = worker_start(wargv);
	outside = worker_start(wargv);
	move_into_pod(in_pod->pid);
	worker_send(in_pod, "park alpha 2");
	worker_send(outside, "park alpha 1");
	worker_expect(in_pod, "EE");
	worker_expect(outside, "E");
	for (int seq = 1;; seq++) {
		const struct rec_request *q;
		const struct rec_point *p, *plain;

		receiver_wait(&rx, seq);
		q = receiver_request(&rx, seq);
		p = rec_point(q, pod_series);
		plain = rec_point(q, "chain.name=alpha");
		if (!p || !plain || p->value != 2 || plain->value != 1)
			continue;
		assert_int_equal(q->npoints, 2);
		break;
	}
	worker_send(in_pod, "release");
	worker_send(outside, "release");
	worker_expect(in_pod, "RR");
	worker_expect(outside, "R");
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
}

/* CPython targets are not split by container: said, exit 2. */
static void test_python_refused(void **state)
{
	char *args[] = { "run", "--no-pin", "--k8s-attributes", "--python", "--pid", "1", NULL };
	int status;

	(void)state;
	inflight_start(&run, args, NULL);
	status = inflight_stop(&run, 0);
	assert_int_equal(WEXITSTATUS(status), 2);
	if (!strstr(run.err, "--k8s-attributes: CPython targets are not split by container"))
		fail_msg("stderr:\n%s", run.err);
}

int main(void)
{
#define T(t) cmocka_unit_test_teardown(t, teardown)
	const struct CMUnitTest tests[] = {
		T(test_series_per_container),
		T(test_python_refused),
	};

	apply_test_filter();
	return cmocka_run_group_tests_name("k8s attributes from cgroups", tests, NULL, NULL);
}
