// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util/log.h"
#include "export/resource.h"
#include "util/sha256.h"
#include "util/array_size.h"

void resource_instance_id(const char *machine_id, char out[37])
{
	char input[256];
	uint8_t h[32];

	snprintf(input, sizeof(input), "inflight:%s", machine_id);
	sha256(input, strlen(input), h);
	/* RFC 9562 layout: version 8 (custom), variant 10 */
	h[6] = (uint8_t)((h[6] & 0x0f) | 0x80);
	h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12],
		 h[13], h[14], h[15]);
}

static int read_machine_id(const char *path, char *out, size_t size)
{
	static const char *const standard[] = { "/etc/machine-id", "/var/lib/dbus/machine-id", NULL };
	const char *const one[] = { path, NULL };

	for (const char *const *p = path ? one : standard; *p; p++) {
		FILE *f = fopen(*p, "re");
		size_t n;

		if (!f)
			continue;
		n = fread(out, 1, size - 1, f);
		fclose(f);
		out[n] = '\0';
		out[strcspn(out, "\r\n")] = '\0';
		if (strlen(out) >= 16)
			return 0;
	}
	return -ENOENT;
}

int resource_build(const struct export_config *c, const char *machine_id_path,
		   struct kv_list *out)
{
	/* Kubernetes downward-API variables, as tools/deploy's manifest sets them */
	static const struct {
		const char *env, *attr;
	} k8s[] = {
		{ "K8S_NODE_NAME", "k8s.node.name" },
		{ "K8S_POD_NAME", "k8s.pod.name" },
		{ "K8S_NAMESPACE_NAME", "k8s.namespace.name" },
		{ "K8S_POD_UID", "k8s.pod.uid" },
	};
	char host[256] = "", mid[128], id[37];
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (!gethostname(host, sizeof(host) - 1) && host[0])
		err |= kv_list_set(out, "host.name", host);
	if (!read_machine_id(machine_id_path, mid, sizeof(mid))) {
		resource_instance_id(mid, id);
	} else {
		/* no machine id: the host name is the next most stable thing */
		log_warn("no machine id (%s): service.instance.id derived from the host name",
			 machine_id_path ? machine_id_path : "/etc/machine-id");
		resource_instance_id(host, id);
	}
	err |= kv_list_set(out, "service.instance.id", id);
	for (size_t i = 0; i < ARRAY_SIZE(k8s); i++) {
		const char *v = getenv(k8s[i].env);

		if (v && *v)
			err |= kv_list_set(out, k8s[i].attr, v);
	}
	/* what the operator said wins over what was detected */
	for (size_t i = 0; i < c->resource.n; i++)
		err |= kv_list_set(out, c->resource.v[i].key, c->resource.v[i].value);
	if (c->service_name)
		err |= kv_list_set(out, "service.name", c->service_name);
	else if (!kv_list_get(out, "service.name"))
		err |= kv_list_set(out, "service.name", "unknown_service:inflight");
	return err ? -ENOMEM : 0; /* kv_list_set's only failure */
}
