// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "run/k8s_meta.h"
#include "util/log.h"
#include "util/array_size.h"
#include "util/grow.h"

#define DEFAULT_LOG_DIR "/var/log/containers"
/* deeper than any kubepods hierarchy: bounds the walk */
#define MAX_DEPTH 12

struct resolved_cgroup {
	uint64_t id;
	char *path; /* for a key from k8s_meta_path_key, else NULL */
	char *found; /* a cgroup id's directory, when found under the root */
	char cid[K8S_ID_LEN + 1], uid[K8S_UID_LEN + 1];
	char pod[254], ns[64], container[64];
};

struct k8s_meta {
	char root[PATH_MAX];
	char log_dir[PATH_MAX];
	struct resolved_cgroup **v; /* each its own block: attributes point into it */
	size_t n, cap;
	uint64_t path_keys; /* made by k8s_meta_path_key so far */
	bool said_no_root;
};

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

/* A pod UID as the cgroup spells it: 8-4-4-4-12 hex, '-' or (systemd) '_'. */
static bool take_uid(const char *s, char uid[K8S_UID_LEN + 1])
{
	static const int dash[] = { 8, 13, 18, 23 };
	char v[K8S_UID_LEN + 1];

	for (int i = 0; i < K8S_UID_LEN; i++) {
		bool sep = false;

		for (int d = 0; d < 4; d++)
			sep |= i == dash[d];
		if (sep ? (s[i] != '-' && s[i] != '_') : !isxdigit((unsigned char)s[i]))
			return false;
		v[i] = sep ? '-' : s[i];
	}
	v[K8S_UID_LEN] = '\0';
	memcpy(uid, v, sizeof(v));
	return true;
}

int k8s_parse_cgroup_path(const char *path, char cid[K8S_ID_LEN + 1], char uid[K8S_UID_LEN + 1])
{
	const char *p = path;

	cid[0] = uid[0] = '\0';
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char comp[256];

		if (len && len < sizeof(comp)) {
			const char *pod;

			memcpy(comp, p, len);
			comp[len] = '\0';
			/* "pod<uid>" (cgroupfs) or "kubepods-<qos>-pod<uid>.slice" (systemd) */
			for (pod = strstr(comp, "pod"); pod; pod = strstr(pod + 1, "pod"))
				if (strlen(pod + 3) >= K8S_UID_LEN && take_uid(pod + 3, uid))
					break;
			/* the container: <64 hex>, or <runtime>-<64 hex>[.scope] */
			if (len >= 6 && !strcmp(comp + len - 6, ".scope"))
				comp[len -= 6] = '\0';
			if (len >= K8S_ID_LEN && all_hex(comp + len - K8S_ID_LEN, K8S_ID_LEN) &&
			    (len == K8S_ID_LEN || comp[len - K8S_ID_LEN - 1] == '-') &&
			    strncmp(comp, "crio-conmon-", 12))
				memcpy(cid, comp + len - K8S_ID_LEN, K8S_ID_LEN + 1);
		}
		if (!end)
			break;
		p = end + 1;
	}
	return cid[0] || uid[0] ? 0 : -ENOENT;
}

int k8s_parse_log_name(const char *name, const char *cid, char *pod, size_t podsz, char *ns,
		       size_t nssz, char *container, size_t csz)
{
	size_t len = strlen(name), idlen = strlen(cid), pre;
	const char *u1, *u2;

	/* "<pod>_<namespace>_<container>-<cid>.log" */
	if (!idlen || len < idlen + 6 || strcmp(name + len - 4, ".log") ||
	    strncmp(name + len - 4 - idlen, cid, idlen) || name[len - 5 - idlen] != '-')
		return -EINVAL;
	pre = len - 5 - idlen;
	u1 = memchr(name, '_', pre);
	u2 = u1 ? memchr(u1 + 1, '_', pre - (size_t)(u1 + 1 - name)) : NULL;
	/* none of the three names may hold '_' (DNS names): exactly two */
	if (!u1 || !u2 || u1 == name || u2 == u1 + 1 || u2 + 1 == name + pre ||
	    memchr(u2 + 1, '_', pre - (size_t)(u2 + 1 - name)))
		return -EINVAL;
	snprintf(pod, podsz, "%.*s", (int)(u1 - name), name);
	snprintf(ns, nssz, "%.*s", (int)(u2 - u1 - 1), u1 + 1);
	snprintf(container, csz, "%.*s", (int)(name + pre - u2 - 1), u2 + 1);
	return 0;
}

/* The cgroup v2 mount point, from our mount table. */
static int find_cgroup2(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (rc && fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], fstype[64];
		const char *dash = strstr(line, " - ");

		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - FSTYPE SOURCE SUPER" */
		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(dash + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		snprintf(out, size, "%s", mnt);
		rc = 0;
	}
	fclose(f);
	return rc;
}

struct k8s_meta *k8s_meta_new(const char *cgroup_root, const char *log_dir)
{
	struct k8s_meta *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (cgroup_root)
		snprintf(m->root, sizeof(m->root), "%s", cgroup_root);
	else if (find_cgroup2(m->root, sizeof(m->root)))
		m->root[0] = '\0';
	snprintf(m->log_dir, sizeof(m->log_dir), "%s", log_dir ? log_dir : DEFAULT_LOG_DIR);
	return m;
}

void k8s_meta_free(struct k8s_meta *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i]->path);
		free(m->v[i]->found);
		free(m->v[i]);
	}
	free(m->v);
	free(m);
}

/* The directory below `dir` whose inode is `id` (a cgroup v2 id), as a path. */
static bool find_cgroup(const char *dir, uint64_t id, int depth, char *out, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
		    stat(path, &st))
			continue;
		if ((uint64_t)st.st_ino == id) {
			snprintf(out, size, "%s", path);
			found = true;
		} else if (depth < MAX_DEPTH) {
			found = find_cgroup(path, id, depth + 1, out, size);
		}
	}
	closedir(d);
	return found;
}

static void names_from_logs(struct k8s_meta *m, struct resolved_cgroup *r)
{
	DIR *d = opendir(m->log_dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (!k8s_parse_log_name(e->d_name, r->cid, r->pod, sizeof(r->pod), r->ns,
					sizeof(r->ns), r->container, sizeof(r->container)))
			break;
	if (d)
		closedir(d);
}

/* What a cgroup path (below the hierarchy's root) names, into `r`. */
static void fill_from_path(struct k8s_meta *m, struct resolved_cgroup *r, const char *path)
{
	if (k8s_parse_cgroup_path(path, r->cid, r->uid))
		return;
	if (r->cid[0])
		names_from_logs(m, r);
	log_debug("cgroup %s: container %s, pod %s/%s (uid %s), container name %s", path,
		  r->cid[0] ? r->cid : "?", r->ns[0] ? r->ns : "?", r->pod[0] ? r->pod : "?",
		  r->uid[0] ? r->uid : "?", r->container[0] ? r->container : "?");
}

/* A new, empty entry for `id`; NULL when out of memory. */
static struct resolved_cgroup *add_entry(struct k8s_meta *m, uint64_t id)
{
	struct resolved_cgroup *r, **v;

	v = grow_array(m->v, &m->cap, m->n + 1, sizeof(*v));
	if (!v)
		return NULL;
	m->v = v;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	m->v[m->n++] = r;
	r->id = id;
	return r;
}

static struct resolved_cgroup *resolve(struct k8s_meta *m, uint64_t id)
{
	struct resolved_cgroup *r;
	char path[PATH_MAX];

	for (size_t i = 0; i < m->n; i++)
		if (m->v[i]->id == id)
			return m->v[i];
	r = add_entry(m, id);
	if (!r || (id & K8S_PATH_KEY))
		return r; /* a path key is only ever made by k8s_meta_path_key */
	/* cgroup ids are never reused: what is found (or not) now stays true */
	if (!m->root[0]) {
		if (!m->said_no_root)
			log_warn("--k8s-attributes: no cgroup v2 hierarchy is mounted: series carry no container attributes");
		m->said_no_root = true;
		return r;
	}
	if (find_cgroup(m->root, id, 0, path, sizeof(path))) {
		r->found = strdup(path);
		fill_from_path(m, r, path + strlen(m->root));
	}
	return r;
}

void k8s_meta_forget(struct k8s_meta *m, uint64_t id)
{
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i]->id != id)
			continue;
		free(m->v[i]->path);
		free(m->v[i]->found);
		free(m->v[i]);
		m->v[i] = m->v[--m->n];
		return;
	}
}

size_t k8s_meta_count(const struct k8s_meta *m)
{
	return m->n;
}

bool k8s_meta_cgroup_gone(struct k8s_meta *m, uint64_t id)
{
	const struct resolved_cgroup *r;
	struct stat st;

	if (id & K8S_PATH_KEY)
		return false;
	r = resolve(m, id);
	if (!r || !r->found)
		return false;
	if (stat(r->found, &st))
		return errno == ENOENT || errno == ENOTDIR;
	/* cgroup ids are never reused; a directory of the same name may be */
	return (uint64_t)st.st_ino != id;
}

uint64_t k8s_meta_path_key(struct k8s_meta *m, const char *path)
{
	struct resolved_cgroup *r;
	char *copy;

	for (size_t i = 0; i < m->n; i++)
		if (m->v[i]->path && !strcmp(m->v[i]->path, path))
			return m->v[i]->id;
	copy = strdup(path);
	r = copy ? add_entry(m, K8S_PATH_KEY | ++m->path_keys) : NULL;
	if (!r) {
		free(copy);
		return 0;
	}
	r->path = copy;
	fill_from_path(m, r, path);
	return r->id;
}

size_t k8s_meta_attrs(struct k8s_meta *m, uint64_t id, struct otlp_attr *out)
{
	const struct resolved_cgroup *r = resolve(m, id);
	const struct {
		const char *key, *value;
	} kv[] = {
		{ "container.id", r ? r->cid : "" },
		{ "k8s.pod.uid", r ? r->uid : "" },
		{ "k8s.pod.name", r ? r->pod : "" },
		{ "k8s.namespace.name", r ? r->ns : "" },
		{ "k8s.container.name", r ? r->container : "" },
	};
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(kv); i++)
		if (kv[i].value[0])
			out[n++] = (struct otlp_attr){ .key = kv[i].key, .type = OTLP_STRING,
						       .s = kv[i].value };
	return n;
}
