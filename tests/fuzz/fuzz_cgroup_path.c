// SPDX-License-Identifier: MIT
/*
 * libFuzzer: a cgroup path (the "0::" line of /proc/PID/cgroup, which a
 * container's processes can choose within their namespace) and a kubelet
 * log link name: "PATH\nLOGNAME".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "run/k8s_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct k8s_meta *meta;
	char *path = malloc(size + 1), *log, cid[K8S_ID_LEN + 1], uid[K8S_UID_LEN + 1];
	char pod[256], ns[256], container[256];
	struct otlp_attr attrs[5];
	uint64_t key;

	if (!path)
		return 0;
	if (!meta)
		meta = k8s_meta_new("/nonexistent-cgroup-root", "/nonexistent-log-dir");
	memcpy(path, data, size);
	path[size] = '\0';
	log = strchr(path, '\n');
	if (log)
		*log++ = '\0';
	if (!k8s_parse_cgroup_path(path, cid, uid)) {
		if (strlen(cid) > K8S_ID_LEN || strlen(uid) > K8S_UID_LEN || (!cid[0] && !uid[0]))
			abort();
		if (log && cid[0] &&
		    !k8s_parse_log_name(log, cid, pod, sizeof(pod), ns, sizeof(ns), container,
					sizeof(container)) &&
		    (strlen(pod) >= sizeof(pod) || strlen(ns) >= sizeof(ns)))
			abort();
	}
	if (meta) {
		key = k8s_meta_path_key(meta, path);
		if (key) {
			if (k8s_meta_attrs(meta, key, attrs) > 5)
				abort();
			k8s_meta_forget(meta, key);
		}
	}
	free(path);
	return 0;
}
