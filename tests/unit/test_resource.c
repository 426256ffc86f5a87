// SPDX-License-Identifier: MIT
/*
 * resource: the attributes every export carries. service.instance.id must
 * be stable for a node (derived from its machine id, which itself is not
 * exposed) and a well-formed UUID; service.name follows the SDK
 * precedence; the operator's attributes win over detected ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "export/export_config.h"
#include "util/log.h"
#include "export/resource.h"

static const char *const k8s_vars[] = { "K8S_NODE_NAME", "K8S_POD_NAME", "K8S_NAMESPACE_NAME",
					"K8S_POD_UID" };

struct fixture {
	struct export_config cfg;
	struct kv_list out;
	char path[64]; /* a temporary machine-id file */
};

static void unset_k8s(void)
{
	for (size_t i = 0; i < sizeof(k8s_vars) / sizeof(k8s_vars[0]); i++)
		unsetenv(k8s_vars[i]);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	unset_k8s();
	export_config_init(&f->cfg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unset_k8s();
	if (f->path[0])
		unlink(f->path);
	kv_list_free(&f->out);
	export_config_free(&f->cfg);
	free(f);
	return 0;
}

/* Writes `content` to a fresh temporary file; returns its path. */
static const char *machine_id_file(struct fixture *f, const char *content)
{
	int fd;

	strcpy(f->path, "/tmp/inflight-test-machine-id-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return f->path;
}

static void assert_uuid_v8(const char *id)
{
	assert_int_equal(strlen(id), 36);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(id[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", id[i]));
	}
	assert_int_equal(id[14], '8');               /* version 8 */
	assert_non_null(strchr("89ab", id[19]));     /* variant 10 */
}

/*
 * SHA-256("inflight:abc") = e0c7f7e4 7446 5041 8611 6dd7002de856...
 * (printf inflight:abc | sha256sum); version nibble forced to 8 (50 -> 80),
 * variant bits to 10 (86 stays 86).
 */
static void test_instance_id_exact_and_stable(void **state)
{
	char a[37], b[37];

	(void)state;
	memset(a, 'Z', sizeof(a));
	resource_instance_id("abc", a);
	assert_string_equal(a, "e0c7f7e4-7446-8041-8611-6dd7002de856");
	resource_instance_id("abc", b);
	assert_string_equal(a, b);
	assert_uuid_v8(a);
}

static void test_instance_id_differs(void **state)
{
	static const char *const ids[] = { "abc", "abd", "", "0123456789abcdef0123456789abcdef",
					   "0123456789abcdef0123456789abcdee" };
	char out[5][37];

	(void)state;
	for (int i = 0; i < 5; i++) {
		resource_instance_id(ids[i], out[i]);
		assert_uuid_v8(out[i]);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(out[i], out[j]);
	}
}

/* The host name as the resource should report it. */
static const char *this_host(void)
{
	static char host[256];

	memset(host, 0, sizeof(host));
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	return host;
}

static void test_build_from_machine_id(void **state)
{
	struct fixture *f = *state;
	char expected[37];

	/* trailing newline, as /etc/machine-id has */
	machine_id_file(f, "0123456789abcdef0123456789abcdef\n");
	assert_int_equal(resource_build(&f->cfg, f->path, &f->out), 0);
	resource_instance_id("0123456789abcdef0123456789abcdef", expected);
	assert_string_equal(kv_list_get(&f->out, "service.instance.id"), expected);
	assert_string_equal(kv_list_get(&f->out, "host.name"), this_host());
	assert_string_equal(kv_list_get(&f->out, "service.name"), "unknown_service:inflight");
	/* the machine id itself appears nowhere */
	for (size_t i = 0; i < f->out.n; i++)
		assert_null(strstr(f->out.v[i].value, "0123456789abcdef"));
	/* nothing else without k8s variables or configured attributes */
	assert_int_equal(f->out.n, 3);
}

/* Same file, same id: stable across builds (restarts). */
static void test_build_stable(void **state)
{
	struct fixture *f = *state;
	struct kv_list again;

	machine_id_file(f, "fedcba9876543210fedcba9876543210");
	assert_int_equal(resource_build(&f->cfg, f->path, &f->out), 0);
	assert_int_equal(resource_build(&f->cfg, f->path, &again), 0);
	assert_string_equal(kv_list_get(&f->out, "service.instance.id"),
			    kv_list_get(&again, "service.instance.id"));
	kv_list_free(&again);
}

/* No usable machine id (missing, or too short): derived from the host name. */
static void test_build_without_machine_id(void **state)
{
	struct fixture *f = *state;
	char expected[37];

	resource_instance_id(this_host(), expected);
	log_set_level(INFLIGHT_LOG_ERROR); /* the expected "no machine id" warning */
	assert_int_equal(resource_build(&f->cfg, "/nonexistent/inflight/machine-id", &f->out), 0);
	assert_string_equal(kv_list_get(&f->out, "service.instance.id"), expected);
	kv_list_free(&f->out);

	machine_id_file(f, "short\n");
	assert_int_equal(resource_build(&f->cfg, f->path, &f->out), 0);
	assert_string_equal(kv_list_get(&f->out, "service.instance.id"), expected);
	log_set_level(INFLIGHT_LOG_INFO);
}

static void test_service_name_from_resource_attributes(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(kv_list_set(&f->cfg.resource, "service.name", "from-attrs"), 0);
	machine_id_file(f, "0123456789abcdef0123456789abcdef");
	assert_int_equal(resource_build(&f->cfg, f->path, &f->out), 0);
	assert_string_equal(kv_list_get(&f->out, "service.name"), "from-attrs");
}

/* OTEL_SERVICE_NAME (cfg.service_name) wins over service.name in the attributes. */
static void test_service_name_explicit_wins(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(kv_list_set(&f->cfg.resource, "service.name", "from-attrs"), 0);
	f->cfg.service_name = strdup("explicit");
	assert_non_null(f->cfg.service_name);
	machine_id_file(f, "0123456789abcdef0123456789abcdef");
	assert_int_equal(resource_build(&f->cfg, f->path, &f->out), 0);
	assert_string_equal(kv_list_get(&f->out, "service.name"), "explicit");
	/* replaced, not duplicated */
	{
		int n = 0;

		for (size_t i = 0; i < f->out.n; i++)
			n += !strcmp(f->out.v[i].key, "service.name");
		assert_int_equal(n, 1);
	}
}

/* What the operator configures wins over what was detected. */
static void test_configured_attributes_override_detected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(kv_list_set(&f->cfg.resource, "host.name", "configured-host"), 0);
	assert_int_equal(kv_list_set(&f->cfg.resource, "service.instance.id", "my-id"), 0);
	assert_int_equal(kv_list_set(&f->cfg.resource, "deployment.environment", "prod"), 0);
	setenv("K8S_NODE_NAME", "detected-node", 1);
	assert_int_equal(kv_list_set(&f->cfg.resource, "k8s.node.name", "configured-node"), 0);
	machine_id_file(f, "0123456789abcdef0123456789abcdef");
	assert_int_equal(resource_build(&f->cfg, f->path, &f->out), 0);
	assert_string_equal(kv_list_get(&f->out, "host.name"), "configured-host");
	assert_string_equal(kv_list_get(&f->out, "service.instance.id"), "my-id");
	assert_string_equal(kv_list_get(&f->out, "deployment.environment"), "prod");
	assert_string_equal(kv_list_get(&f->out, "k8s.node.name"), "configured-node");
	assert_int_equal(f->out.n, 5); /* + service.name */
}

/* Kubernetes downward-API variables become k8s.* attributes; empty ones are skipped. */
static void test_k8s_variables(void **state)
{
	struct fixture *f = *state;

	setenv("K8S_NODE_NAME", "node-1", 1);
	setenv("K8S_POD_NAME", "inflight-abc12", 1);
	setenv("K8S_NAMESPACE_NAME", "", 1);
	setenv("K8S_POD_UID", "1f2e3d4c-0000-4000-8000-000000000000", 1);
	machine_id_file(f, "0123456789abcdef0123456789abcdef");
	assert_int_equal(resource_build(&f->cfg, f->path, &f->out), 0);
	assert_string_equal(kv_list_get(&f->out, "k8s.node.name"), "node-1");
	assert_string_equal(kv_list_get(&f->out, "k8s.pod.name"), "inflight-abc12");
	assert_null(kv_list_get(&f->out, "k8s.namespace.name"));
	assert_string_equal(kv_list_get(&f->out, "k8s.pod.uid"), "1f2e3d4c-0000-4000-8000-000000000000");
	assert_int_equal(f->out.n, 6);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_instance_id_exact_and_stable),
		T(test_instance_id_differs),
		T(test_build_from_machine_id),
		T(test_build_stable),
		T(test_build_without_machine_id),
		T(test_service_name_from_resource_attributes),
		T(test_service_name_explicit_wins),
		T(test_configured_attributes_override_detected),
		T(test_k8s_variables),
	};

	return cmocka_run_group_tests_name("resource: instance id, service.name, detected attributes",
					   tests, NULL, NULL);
}
