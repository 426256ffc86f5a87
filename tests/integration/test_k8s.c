// SPDX-License-Identifier: MIT
/*
 * --k8s-attributes: a worker placed in a cgroup laid out as the kubelet
 * does (kubepods.slice/...-pod<UID>.slice/cri-containerd-<ID>.scope), with
 * the kubelet's log link for its container, gets its own series carrying
 * container.id, k8s.pod.uid, k8s.pod.name, k8s.namespace.name and
 * k8s.container.name; a worker outside any pod, the same chain, gets the
 * plain series. Both exact. The same for CPython workers (the conserver
 * stand-in), keyed by their cgroup path instead of a BPF cgroup id. Pods
 * that end have their series retired, so churn never fills the chain cap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
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
#include "probe/pin.h"
#include "support/bpf_env.h"
#include "support/inflight_proc.h"
#include "support/proc_info.h"
#include "support/observe.h"
#include "support/receiver.h"
#include "support/redis.h"
#include "support/standin.h"
#include "support/test_filter.h"
#include "support/worker_proc.h"

#define POD_UID "5f0c7a1e-2b3d-4c5e-8f90-a1b2c3d4e5f6"
#define POD_UID_SYSTEMD "5f0c7a1e_2b3d_4c5e_8f90_a1b2c3d4e5f6"
#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct inflight_proc run;
static struct receiver rx;
static struct redis redis;
static pid_t py_workers[3];
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

/* The receiver, then `inflight ARGS` exporting to it every 200 ms with the pod's log dir. */
static void start_collector(char *const args[], const char *ready)
{
	static char endpoint[96], logdir[128];
	char *env[] = { endpoint, "OTEL_METRIC_EXPORT_INTERVAL=200", logdir, NULL };

	snprintf(logdir, sizeof(logdir), "INFLIGHT_K8S_LOG_DIR=%s", logs);
	receiver_start(&rx, 0);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d",
		 rx.port);
	inflight_start(&run, args, env);
	inflight_wait_stderr(&run, ready);
}

/* The same collector SIGKILLed and started again, to the same receiver. */
static void restart_collector(char *const args[], const char *ready)
{
	char endpoint[96], logdir[128];
	char *env[] = { endpoint, "OTEL_METRIC_EXPORT_INTERVAL=200", logdir, NULL };

	inflight_stop(&run, SIGKILL);
	snprintf(logdir, sizeof(logdir), "INFLIGHT_K8S_LOG_DIR=%s", logs);
	snprintf(endpoint, sizeof(endpoint), "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d",
		 rx.port);
	inflight_start(&run, args, env);
	inflight_wait_stderr(&run, ready);
}

/* Moves process `pid` into the cgroup at `dir`. */
static void move_into(const char *dir, pid_t pid)
{
	char path[1400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%d\n", (int)pid);
	assert_int_equal(fclose(f), 0);
}

static void move_into_pod(pid_t pid)
{
	move_into(scope, pid);
}

static void test_series_per_container(void **state)
{
	char *args[] = { "run", "--no-pin", "--k8s-attributes", "--binary",
			 (char *)worker_path("native_worker"), "--func", "worker_handle", "--chain",
			 WORKER_CHAIN_SPEC, NULL };
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	const char *pod_series = "chain.name=alpha,container.id=" CID
				 ",k8s.container.name=transcriber,k8s.namespace.name=shop"
				 ",k8s.pod.name=web-7d4b9,k8s.pod.uid=" POD_UID;
	struct worker_proc *in_pod, *outside;

	(void)state;
	make_pod();
	start_collector(args, "attached");
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

/* Pod `i` of the churn test: its UID and container id differ in the last digit. */
#define CHURN_PODS 8
#define CHURN_PIN_DIR "/sys/fs/bpf/inflight-test-churn"
static char churn_dirs[CHURN_PODS][2][1200];

static void churn_ids(int i, char uid[37], char uid_[37], char cid[65])
{
	/* 7-e: never the other pod's (its uid ends in 6, its container id in f) */
	snprintf(uid, 37, "%.35s%x", POD_UID, i + 7);
	snprintf(uid_, 37, "%.35s%x", POD_UID_SYSTEMD, i + 7);
	snprintf(cid, 65, "%.63s%x", CID, i + 7);
}

static int churn_teardown(void **state)
{
	if (run.pid)
		inflight_stop(&run, SIGKILL);
	pin_remove(CHURN_PIN_DIR);
	for (int i = 0; i < CHURN_PODS; i++)
		for (int k = 1; k >= 0; k--)
			if (churn_dirs[i][k][0])
				rmdir(churn_dirs[i][k]);
	return teardown(state);
}

/* The first request from `*seq` on that has the steady series, and its pod series (or NULL). */
static const struct rec_request *next_export(int *seq)
{
	const struct rec_request *q;

	for (;; (*seq)++) {
		receiver_wait(&rx, *seq);
		q = receiver_request(&rx, *seq);
		/* no overflow, ever: the ids of gone pods come back */
		if (rec_point(q, "otel.metric.overflow=true") ||
		    rec_more_point(q, "inflight.calls.overflowed", ""))
			fail_msg("request %d: a series overflowed the chain cap", *seq);
		if (rec_point(q, "chain.name=steady")) {
			assert_int_equal(rec_point(q, "chain.name=steady")->value, 1);
			(*seq)++;
			return q;
		}
	}
}

/*
 * Pods come and go: eight in turn, each a worker in its own kubelet-shaped
 * cgroup with a call parked, under a chain cap of 2 (without reuse, ids
 * for 4 series in all). Half end normally, half are SIGKILLed mid-call; each
 * pod's cgroup is then removed. Each pod's series is exported exact with
 * its own attributes and a start time of its own, stops being exported
 * once its pod is gone, and nothing overflows, across a SIGKILL and restart
 * of the pinned collector halfway. A worker outside any pod keeps the plain
 * series at 1 (and its start time) throughout.
 */
static void test_pod_churn(void **state)
{
	char *args[] = { "run", "--pin-dir", CHURN_PIN_DIR, "--k8s-attributes", "--max-chains", "2",
			 "--binary", (char *)worker_path("native_worker"), "--func", "worker_handle",
			 "--chain", WORKER_CHAIN_SPEC, NULL };
	char *wargv[] = { (char *)worker_path("native_worker"), NULL };
	struct worker_proc *steady;
	uint64_t last_start = 0, steady_start = 0;
	int seq = 1;

	(void)state;
	pin_remove(CHURN_PIN_DIR);
	make_pod();
	start_collector(args, "attached");
	steady = worker_start(wargv);
	worker_send(steady, "park steady 1");
	worker_expect(steady, "E");

	for (int i = 0; i < CHURN_PODS; i++) {
		/*
		 * Halfway, the collector is SIGKILLed and started again on the
		 * pinned state: the retired ids wait in the pinned free queue,
		 * their bases in the pinned map; the steady series keeps its start.
		 */
		if (i == CHURN_PODS / 2) {
			const struct rec_request *q = next_export(&seq);

			steady_start = rec_point(q, "chain.name=steady")->start;
			restart_collector(args, "attached to");
			q = next_export(&seq);
			assert_int_equal(rec_point(q, "chain.name=steady")->start, steady_start);
		}
		char uid[37], uid_[37], cid[65], series[512], path[1400];
		const struct rec_request *q;
		const struct rec_point *p;
		struct worker_proc *w;
		FILE *f;

		churn_ids(i, uid, uid_, cid);
		snprintf(churn_dirs[i][0], sizeof(churn_dirs[i][0]),
			 "%s/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice",
			 cgroup_root, uid_);
		snprintf(churn_dirs[i][1], sizeof(churn_dirs[i][1]), "%s/cri-containerd-%s.scope",
			 churn_dirs[i][0], cid);
		for (int k = 0; k < 2; k++)
			if (mkdir(churn_dirs[i][k], 0755))
				fail_msg("mkdir %s: %s", churn_dirs[i][k], strerror(errno));
		snprintf(path, sizeof(path), "%s/web-%d_shop_transcriber-%s.log", logs, i, cid);
		f = fopen(path, "w");
		assert_non_null(f);
		fclose(f);
		snprintf(series, sizeof(series),
			 "chain.name=alpha,container.id=%s,k8s.container.name=transcriber"
			 ",k8s.namespace.name=shop,k8s.pod.name=web-%d,k8s.pod.uid=%s",
			 cid, i, uid);

		w = worker_start(wargv);
		move_into(churn_dirs[i][1], w->pid);
		worker_send(w, "park alpha 1");
		worker_expect(w, "E");
		/* its series, exact, alone beside the plain one: earlier pods' are gone */
		for (int tries = 0;; tries++) {
			if (tries == 50)
				fail_msg("pod %d: 50 exports without its series at 1", i);
			q = next_export(&seq);
			p = rec_point(q, series);
			if (p && p->value == 1)
				break;
		}
		assert_int_equal(q->npoints, 2);
		/* a series of its own, not the last pod's start carried over */
		assert_true(p->start > last_start);
		last_start = p->start;
		/* its handled calls from 0 on the reused id (the reader's base), its own start */
		{
			const struct rec_point *h =
				rec_more_point(q, "conserver.vcons.inflight.handled", series);

			assert_non_null(h);
			assert_int_equal(h->value, 0);
			assert_true(h->start == p->start);
			/* and its histogram: emptied when the id was retired, whatever it held */
			h = rec_more_point(q, "conserver.vcons.inflight.duration", series);
			assert_non_null(h);
			assert_int_equal(h->value, 0);
			assert_true(h->has_sum && h->sum == 0);
			for (int b = 0; b < h->nbuckets; b++)
				assert_int_equal(h->buckets[b], 0);
			assert_true(h->start == p->start);
		}

		if (i % 2) {
			/* killed mid-call: the thread's exit releases the frame */
			kill(w->pid, SIGKILL);
		} else {
			worker_send(w, "release");
			worker_expect(w, "R");
		}
		worker_stop(w);
		for (int k = 1; k >= 0; k--) {
			if (rmdir(churn_dirs[i][k]))
				fail_msg("rmdir %s: %s", churn_dirs[i][k], strerror(errno));
			churn_dirs[i][k][0] = '\0';
		}
		/* 0 once (or straight away gone), then no longer exported */
		for (int tries = 0;; tries++) {
			if (tries == 50)
				fail_msg("pod %d: its series still exported 50 exports after it ended", i);
			q = next_export(&seq);
			p = rec_point(q, series);
			if (!p)
				break;
			if (p->value != 0) {
				assert_int_equal(p->value, 1); /* not yet seen ended */
			} else {
				/* returned or released by the thread's exit: one call ended */
				const struct rec_point *h =
					rec_more_point(q, "conserver.vcons.inflight.handled", series);

				assert_non_null(h);
				assert_int_equal(h->value, 1);
				/* timed only if it returned: a killed thread's call is released */
				h = rec_more_point(q, "conserver.vcons.inflight.duration", series);
				assert_non_null(h);
				assert_int_equal(h->value, i % 2 ? 0 : 1);
			}
		}
		assert_int_equal(q->npoints, 1);
	}
	worker_send(steady, "release");
	worker_expect(steady, "R");
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
	/* what was resolved about the gone pods is let go: the steady worker's cgroup is left */
	{
		const char *last = NULL;

		for (const char *p = run.err; (p = strstr(p, "cgroups kept resolved: ")); p++)
			last = p;
		if (!last || strncmp(last, "cgroups kept resolved: 1)", 25))
			fail_msg("stderr:\n%s", run.err);
	}
}

static int python_teardown(void **state)
{
	if (run.pid)
		inflight_stop(&run, SIGKILL);
	worker_stop_all();
	/* the stand-in's workers die with it (PR_SET_PDEATHSIG); a cgroup
	 * with a live process in it cannot be removed */
	for (int i = 0; i < 3; i++) {
		while (py_workers[i] && proc_alive(py_workers[i]))
			sched_yield();
		py_workers[i] = 0;
	}
	redis_stop(&redis);
	return teardown(state);
}

/* The in-pod and plain series of `q`, both as expected. */
static bool python_series_are(const struct rec_request *q, int64_t pod, int64_t plain)
{
	const struct rec_point *p = rec_point(q, "chain.name=transcribe,container.id=" CID
					      ",k8s.container.name=transcriber,k8s.namespace.name=shop"
					      ",k8s.pod.name=web-7d4b9,k8s.pod.uid=" POD_UID);
	const struct rec_point *o = rec_point(q, "chain.name=transcribe");

	return p && o && p->value == pod && o->value == plain && q->npoints == 2;
}

/*
 * The conserver case: CPython workers (the stand-in over a real Redis),
 * two of three in a pod's container. `run --python --k8s-attributes`
 * keys the pod's series by the workers' cgroup path: 2 there, 1 plain,
 * then both 0 once the calls are released.
 */
static void test_python_series_per_container(void **state)
{
	char *sargv[] = { "/usr/bin/python3", "tests/python/conserver_standin.py", NULL };
	char *args[] = { "run", "--no-pin", "--k8s-attributes", "--python", "--python-exe",
			 "conserver_standin", NULL };
	char id[32];
	int seq = 1;

	(void)state;
	if (access(sargv[0], X_OK))
		fail_msg("%s: %s (make deps installs Debian's python3)", sargv[0], strerror(errno));
	make_pod();
	/* serial workers, one call each */
	standin_start(&redis, sargv,
		      &(struct standin_config){
			      "[{\"name\":\"transcribe\",\"ingress\":\"in_t\",\"links\":[\"park\"]}]", 3,
			      "fork", 1, NULL },
		      py_workers, 3);
	move_into_pod(py_workers[0]);
	move_into_pod(py_workers[1]);

	start_collector(args, "watching CPython processes");
	/* serial workers: one call each, whichever takes which */
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "t-%d", i);
		redis_rpush(&redis, "in_t", id);
	}
	for (int i = 0; i < 3; i++)
		redis_blpop(&redis, "entered", id, sizeof(id));
	for (;; seq++) {
		receiver_wait(&rx, seq);
		if (python_series_are(receiver_request(&rx, seq), 2, 1))
			break;
	}
	for (int i = 0; i < 3; i++)
		redis_rpush(&redis, "release", "go");
	for (int i = 0; i < 3; i++)
		redis_blpop(&redis, "done", id, sizeof(id));
	for (seq++;; seq++) {
		receiver_wait(&rx, seq);
		if (python_series_are(receiver_request(&rx, seq), 0, 0))
			break;
	}
	/* the pod's workers end: its series is retired, the plain one stays */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(kill(py_workers[i], SIGKILL), 0);
		while (proc_alive(py_workers[i]))
			sched_yield();
	}
	for (int tries = 0;; tries++) {
		const struct rec_request *q;

		receiver_wait(&rx, ++seq);
		q = receiver_request(&rx, seq);
		if (tries == 50) {
			for (int k = 0; k < q->npoints; k++)
				printf("  %s = %lld\n", q->points[k].attrs, q->points[k].value);
			fail_msg("the pod's series still exported 50 exports after its workers ended");
		}
		if (q->npoints == 1 && rec_point(q, "chain.name=transcribe"))
			break;
	}
	assert_int_equal(WEXITSTATUS(inflight_stop(&run, SIGTERM)), 0);
}

int main(void)
{
#define T(t) cmocka_unit_test_teardown(t, teardown)
	const struct CMUnitTest tests[] = {
		T(test_series_per_container),
		cmocka_unit_test_teardown(test_pod_churn, churn_teardown),
		cmocka_unit_test_teardown(test_python_series_per_container, python_teardown),
	};
	static const CMUnitTestFunction bpf_free[] = { test_python_series_per_container, NULL };

	apply_test_filter();
	return bpf_run_group_tests_name("k8s attributes from cgroups", tests, bpf_free, NULL, NULL);
}
