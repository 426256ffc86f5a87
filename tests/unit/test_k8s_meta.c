// SPDX-License-Identifier: MIT
/*
 * k8s_meta: the container and pod a cgroup path names, for every layout
 * the kubelet and runtimes make (systemd and cgroupfs drivers; containerd,
 * CRI-O, Docker), and the names a kubelet log link carries.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "run/k8s_meta.h"

#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "5f0c7a1e-2b3d-4c5e-8f90-a1b2c3d4e5f6"
#define UID_ "5f0c7a1e_2b3d_4c5e_8f90_a1b2c3d4e5f6"

static void expect_path(const char *path, const char *cid, const char *uid)
{
	char c[K8S_ID_LEN + 1], u[K8S_UID_LEN + 1];

	if (k8s_parse_cgroup_path(path, c, u))
		fail_msg("%s: not parsed", path);
	assert_string_equal(c, cid);
	assert_string_equal(u, uid);
}

static void test_cgroup_layouts(void **state)
{
	char c[K8S_ID_LEN + 1], u[K8S_UID_LEN + 1];

	(void)state;
	/* systemd driver, containerd; QoS classes */
	expect_path("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
		    ".slice/cri-containerd-" CID ".scope", CID, UID);
	expect_path("/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" CID ".scope", CID,
		    UID);
	/* CRI-O, Docker */
	expect_path("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
		    ".slice/crio-" CID ".scope", CID, UID);
	expect_path("/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" CID ".scope", CID, UID);
	/* cgroupfs driver */
	expect_path("/kubepods/burstable/pod" UID "/" CID, CID, UID);
	/* seen from another cgroup namespace */
	expect_path("/../../kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID ".scope",
		    CID, UID);
	/* a pod's own cgroup: the pod, no container */
	expect_path("/kubepods.slice/kubepods-pod" UID_ ".slice", "", UID);
	/* a container outside Kubernetes */
	expect_path("/system.slice/docker-" CID ".scope", CID, "");
	/* conmon is CRI-O's monitor, not the container */
	expect_path("/kubepods.slice/kubepods-pod" UID_ ".slice/crio-conmon-" CID ".scope", "", UID);
	/* nothing */
	assert_int_equal(k8s_parse_cgroup_path("/", c, u), -ENOENT);
	assert_int_equal(k8s_parse_cgroup_path("/user.slice/user-0.slice/session-1.scope", c, u), -ENOENT);
	/* not quite: 63 hex, an uppercase id, a uid with a wrong separator */
	assert_int_equal(k8s_parse_cgroup_path("/system.slice/docker-" CID "x.scope", c, u), -ENOENT);
	assert_int_equal(k8s_parse_cgroup_path("/x/ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789", c, u), -ENOENT);
	assert_int_equal(k8s_parse_cgroup_path("/kubepods/pod5f0c7a1e+2b3d-4c5e-8f90-a1b2c3d4e5f6", c, u), -ENOENT);
}

static void test_log_names(void **state)
{
	char pod[254], ns[64], cont[64];

	(void)state;
	assert_int_equal(k8s_parse_log_name("web-7d4b9_shop_transcriber-" CID ".log", CID, pod,
					    sizeof(pod), ns, sizeof(ns), cont, sizeof(cont)),
			 0);
	assert_string_equal(pod, "web-7d4b9");
	assert_string_equal(ns, "shop");
	assert_string_equal(cont, "transcriber");
	/* another container's link, or not a link name at all */
	assert_int_equal(k8s_parse_log_name("web_shop_other-ffff.log", CID, pod, sizeof(pod), ns,
					    sizeof(ns), cont, sizeof(cont)),
			 -EINVAL);
	assert_int_equal(k8s_parse_log_name("web_shop-" CID ".log", CID, pod, sizeof(pod), ns,
					    sizeof(ns), cont, sizeof(cont)),
			 -EINVAL);
	assert_int_equal(k8s_parse_log_name("a_b_c_d-" CID ".log", CID, pod, sizeof(pod), ns,
					    sizeof(ns), cont, sizeof(cont)),
			 -EINVAL);
	assert_int_equal(k8s_parse_log_name("_shop_c-" CID ".log", CID, pod, sizeof(pod), ns,
					    sizeof(ns), cont, sizeof(cont)),
			 -EINVAL);
	assert_int_equal(k8s_parse_log_name("web_shop_c-" CID ".txt", CID, pod, sizeof(pod), ns,
					    sizeof(ns), cont, sizeof(cont)),
			 -EINVAL);
	assert_int_equal(k8s_parse_log_name(CID ".log", CID, pod, sizeof(pod), ns, sizeof(ns), cont,
					    sizeof(cont)),
			 -EINVAL);
}

/*
 * Keys for paths (CPython targets): the same path, the same key, never a
 * cgroup id; the attributes come from the path and the log link.
 */
static void test_path_keys(void **state)
{
	char dir[] = "/tmp/k8s-meta-test-XXXXXX", link[128];
	const char *pod = "/../../kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID ".scope";
	struct otlp_attr a[5];
	struct k8s_meta *m;
	uint64_t k1, k2, k3;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/web-7d4b9_shop_transcriber-" CID ".log", dir);
	f = fopen(link, "w");
	assert_non_null(f);
	fclose(f);
	m = k8s_meta_new("/nonexistent", dir);
	assert_non_null(m);
	k1 = k8s_meta_path_key(m, pod);
	k2 = k8s_meta_path_key(m, "/user.slice/user-0.slice/session-1.scope");
	k3 = k8s_meta_path_key(m, pod);
	assert_true(k1 & K8S_PATH_KEY);
	assert_true(k2 & K8S_PATH_KEY);
	assert_true(k1 != k2);
	assert_true(k1 == k3);
	assert_int_equal(k8s_meta_attrs(m, k1, a), 5);
	assert_string_equal(a[0].key, "container.id");
	assert_string_equal(a[0].s, CID);
	assert_string_equal(a[1].s, UID);
	assert_string_equal(a[2].s, "web-7d4b9");
	assert_string_equal(a[3].s, "shop");
	assert_string_equal(a[4].s, "transcriber");
	/* no pod, no container: no attributes */
	assert_int_equal(k8s_meta_attrs(m, k2, a), 0);
	/* forgotten: the entry goes; the same path later is a new series' key */
	assert_int_equal(k8s_meta_count(m), 2);
	k8s_meta_forget(m, k1);
	assert_int_equal(k8s_meta_count(m), 1);
	k3 = k8s_meta_path_key(m, pod);
	assert_true(k3 != k1 && k3 != k2);
	assert_int_equal(k8s_meta_attrs(m, k3, a), 5);
	assert_int_equal(k8s_meta_count(m), 2);
	k8s_meta_free(m);
	unlink(link);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_layouts),
		cmocka_unit_test(test_log_names),
		cmocka_unit_test(test_path_keys),
	};

	return cmocka_run_group_tests_name("k8s_meta: containers and pods from cgroup paths", tests,
					   NULL, NULL);
}
