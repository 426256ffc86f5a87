/* SPDX-License-Identifier: MIT */
/*
 * Which container a cgroup is, from what the node itself knows (no API
 * server): the cgroup's path names the container id and the pod's UID
 * (kubepods.slice/...-pod<UID>.slice/cri-containerd-<ID>.scope, crio-,
 * docker-, or the cgroupfs driver's kubepods/<qos>/pod<UID>/<ID>), and the
 * kubelet's log links name the rest
 * (/var/log/containers/<pod>_<namespace>_<container>-<ID>.log).
 * Resolved once per cgroup: a series' attributes never change.
 */
#ifndef INFLIGHT_K8S_META_H
#define INFLIGHT_K8S_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "export/otlp_model.h"

#define K8S_ID_LEN 64
#define K8S_UID_LEN 36

/* From a cgroup path: 0 with what it names (either may be ""), -ENOENT if neither. */
int k8s_parse_cgroup_path(const char *path, char cid[K8S_ID_LEN + 1], char uid[K8S_UID_LEN + 1]);

/*
 * From a log link's name "<pod>_<namespace>_<container>-<cid>.log": 0 if it
 * is the container `cid`'s, with the three names; -EINVAL otherwise.
 */
int k8s_parse_log_name(const char *name, const char *cid, char *pod, size_t podsz, char *ns,
		       size_t nssz, char *container, size_t csz);

struct k8s_meta;

/*
 * `cgroup_root`: the cgroup v2 hierarchy (NULL: found in /proc/self/mountinfo);
 * `log_dir`: the kubelet's container log links (NULL: /var/log/containers).
 */
struct k8s_meta *k8s_meta_new(const char *cgroup_root, const char *log_dir);
void k8s_meta_free(struct k8s_meta *m);

/*
 * The attributes of cgroup `id` (container.id, k8s.pod.uid, k8s.pod.name,
 * k8s.namespace.name, k8s.container.name: those known) into `out` (room
 * for 5); how many. Strings stay valid until k8s_meta_free.
 */
size_t k8s_meta_attrs(struct k8s_meta *m, uint64_t id, struct otlp_attr *out);

/*
 * Whether cgroup `id` is known to be gone: the directory it was found at
 * is no more (or is another cgroup now). False when it was never found
 * (then nobody can tell) and for path keys.
 */
bool k8s_meta_cgroup_gone(struct k8s_meta *m, uint64_t id);

/*
 * Lets go of what was resolved for cgroup (or path key) `id`, once no
 * series carries it any more: a node runs through many containers. A later
 * call for the same id resolves it afresh.
 */
void k8s_meta_forget(struct k8s_meta *m, uint64_t id);

/* How many cgroups are held resolved (for tests and logs). */
size_t k8s_meta_count(const struct k8s_meta *m);

/* Keys from k8s_meta_path_key have this bit; cgroup ids (inode numbers) never do. */
#define K8S_PATH_KEY (1ull << 63)

/*
 * A key standing for the cgroup `path` as /proc/PID/cgroup names it (for
 * targets read from userspace, which have a path but no BPF cgroup id),
 * resolved from the path's text: it may be relative to our cgroup
 * namespace ("/../.."), the container and pod it names are the same. The
 * same path gives the same key; k8s_meta_attrs takes it like an id.
 * 0 when out of memory.
 */
uint64_t k8s_meta_path_key(struct k8s_meta *m, const char *path);

#endif
