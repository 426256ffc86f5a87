// SPDX-License-Identifier: MIT
/*
 * Reading the probe object: the counters mapped into memory (no syscall per
 * reading), series start times, pending frames, and discovery's maps.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "inflight.h"
#include "inflight.skel.h"
#include "probe/probe_internal.h"
#include "util/errmsg.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* a pidfd of the thread itself (Linux 6.9) */
#endif

static int map_counters(int fd, struct mapping *out)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi);
	void *addr;
	int rc;

	/* libbpf returns the negative errno and sets errno (for the caller's message) */
	rc = bpf_obj_get_info_by_fd(fd, &mi, &len);
	if (rc)
		return rc;
	out->len = ((size_t)mi.value_size * mi.max_entries + page - 1) & ~(page - 1);
	addr = mmap(NULL, out->len, PROT_READ, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED)
		return -errno;
	out->addr = addr;
	return 0;
}

static void unmap_counters(struct mapping *m)
{
	if (m->addr)
		munmap(m->addr, m->len);
	m->addr = NULL;
}

void probe_unmap_counters(struct probe *p)
{
	counts_reader_free(p->reader);
	p->reader = NULL;
	unmap_counters(&p->entries_map);
	unmap_counters(&p->exits_map);
	unmap_counters(&p->stats_map);
	unmap_counters(&p->data_map);
	unmap_counters(&p->id_states_map);
	unmap_counters(&p->durations_map);
}

int probe_open_reader(struct probe *p, const struct reader_fds *fds, uint32_t id_space, char *err,
		      size_t errlen)
{
	struct counts_maps maps;
	int ncpus = libbpf_num_possible_cpus(), rc;

	if ((rc = map_counters(fds->entries, &p->entries_map)) ||
	    (rc = map_counters(fds->exits, &p->exits_map)) ||
	    (rc = map_counters(fds->stats, &p->stats_map)) ||
	    (rc = map_counters(fds->data, &p->data_map)) ||
	    (rc = map_counters(fds->id_states, &p->id_states_map)) ||
	    (rc = map_counters(fds->durations, &p->durations_map)))
		return errmsg_errno(err, errlen, -rc, "cannot map the counters into memory: %s",
				    strerror(-rc));
	p->chain_ids_fd = fds->chain_ids;
	p->series_start_fd = fds->series_start;
	p->pending_fd = fds->pending;
	p->go_pending_fd = fds->go_pending;
	maps = (struct counts_maps){
		.chain_ids_fd = fds->chain_ids,
		.id_states_fd = fds->id_states,
		.free_ids_fd = fds->free_ids,
		.entries = p->entries_map.addr,
		.exits = p->exits_map.addr,
		.stats = p->stats_map.addr,
		.states = p->id_states_map.addr,
		.durations = p->durations_map.addr,
		.durations_fd = fds->durations,
		.next_id = (const volatile uint32_t *)((const char *)p->data_map.addr +
						       offsetof(struct inflight_bpf__data, next_id)),
		.id_space = id_space,
		.ncpus = (uint32_t)ncpus,
	};
	p->reader = counts_reader_new(&maps);
	return p->reader ? 0 : errmsg_errno(err, errlen, ENOMEM, "out of memory");
}

int probe_start_reading(struct probe *p, char *err, size_t errlen)
{
	struct inflight_bpf *s = p->skel;
	struct reader_fds fds = {
		.chain_ids = bpf_map__fd(s->maps.chain_ids),
		.entries = bpf_map__fd(s->maps.entries),
		.exits = bpf_map__fd(s->maps.exits),
		.stats = bpf_map__fd(s->maps.stats),
		.data = bpf_map__fd(s->maps.data),
		.series_start = bpf_map__fd(s->maps.series_start),
		.id_states = bpf_map__fd(s->maps.id_states),
		.free_ids = bpf_map__fd(s->maps.free_ids),
		.pending = bpf_map__fd(s->maps.pending),
		.go_pending = bpf_map__fd(s->maps.go_pending),
		.durations = bpf_map__fd(s->maps.durations),
	};

	return probe_open_reader(p, &fds, s->rodata->id_space, err, errlen);
}

/* Opens a pinned map by name, keeping its fd; -1 if absent. */
int probe_read(struct probe *p, struct snapshot *out)
{
	return counts_reader_read(p->reader, out);
}

uint64_t probe_series_start(struct probe *p, uint32_t id, uint64_t now_ns)
{
	uint64_t v = 0;

	if (p->series_start_fd < 0)
		return now_ns;
	/* kept in a map so a restarted collector keeps each series' start */
	if (bpf_map_lookup_elem(p->series_start_fd, &id, &v) || v)
		return v ? v : now_ns;
	bpf_map_update_elem(p->series_start_fd, &id, &now_ns, BPF_ANY);
	return now_ns;
}

size_t probe_retire(struct probe *p, uint32_t *ids, size_t n)
{
	if (!p->reader || !n)
		return 0;
	n = counts_reader_retire(p->reader, ids, n);
	/* the next series on each id starts anew */
	for (size_t i = 0; i < n && p->series_start_fd >= 0; i++) {
		uint64_t zero = 0;

		bpf_map_update_elem(p->series_start_fd, &ids[i], &zero, BPF_ANY);
	}
	return n;
}

/* A Go target's frames sit in its goroutine map, not in task storage. */
static void go_frames_held(const struct probe *p, uint64_t *frames, char *where, size_t wsize)
{
	uint64_t held, goroutines = probe_pending_goroutines(p, &held);

	if (!goroutines)
		return;
	*frames += held;
	if (where && wsize)
		snprintf(where, wsize, "%llu goroutines: %llu", (unsigned long long)goroutines,
			 (unsigned long long)held);
}

/* The frames one thread holds in the task-storage map: 0 when it has none. */
static int thread_frames(int map_fd, pid_t tid, uint64_t *frames)
{
	struct inflight_pending v;
	int fd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD), rc = 0;

	*frames = 0;
	if (fd < 0)
		return errno == ESRCH ? 0 : -errno; /* gone: its storage went with it */
	if (!bpf_map_lookup_elem(map_fd, &fd, &v))
		*frames = v.depth;
	else if (errno != ENOENT)
		rc = -errno;
	close(fd);
	return rc;
}

int probe_pending_frames(const struct probe *p, uint64_t *frames, char *where, size_t wsize)
{
	struct dirent *pd, *td;
	DIR *proc;
	int rc = 0;

	*frames = 0;
	if (where && wsize)
		where[0] = '\0';
	if (p->pending_fd < 0)
		return -ENOENT;
	go_frames_held(p, frames, where, wsize);
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	/* every thread on the machine: the frames are keyed by task */
	while (!rc && (pd = readdir(proc))) {
		char path[64];
		DIR *tasks;

		if (!isdigit((unsigned char)pd->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", atoi(pd->d_name));
		tasks = opendir(path);
		while (tasks && !rc && (td = readdir(tasks))) {
			uint64_t n;

			if (!isdigit((unsigned char)td->d_name[0]))
				continue;
			rc = thread_frames(p->pending_fd, (pid_t)atoi(td->d_name), &n);
			if (n && where && wsize) {
				size_t used = strlen(where);

				snprintf(where + used, wsize - used, "%s%s/%s: %llu", used ? ", " : "",
					 pd->d_name, td->d_name, (unsigned long long)n);
			}
			*frames += n;
		}
		if (tasks)
			closedir(tasks);
	}
	closedir(proc);
	return rc;
}

int probe_pending_fd(const struct probe *p)
{
	return p->pending_fd;
}

int probe_go_pending_fd(const struct probe *p)
{
	return p->go_pending_fd;
}

volatile uint32_t *probe_test_next_id(struct probe *p)
{
	return p->skel && p->skel->data ? &p->skel->data->next_id : NULL;
}

uint64_t probe_pending_goroutines(const struct probe *p, uint64_t *frames)
{
	struct inflight_go_key key, next;
	struct inflight_pending v;
	uint64_t n = 0;
	int fd;

	*frames = 0;
	if (!p->skel || !p->skel->rodata->go_goid_off)
		return 0;
	fd = bpf_map__fd(p->skel->maps.go_pending);
	for (int rc = bpf_map_get_next_key(fd, NULL, &next); !rc;
	     rc = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		n++;
		*frames += v.depth;
	}
	return n;
}

int probe_watch(struct probe *p, pid_t tgid)
{
	__u32 key = (__u32)tgid;
	__u8 one = 1;

	if (!bpf_map__update_elem(p->skel->maps.watched, &key, sizeof(key), &one, sizeof(one),
				  BPF_NOEXIST))
		return 0;
	return errno == EEXIST ? 1 : -errno;
}

void probe_watched_sweep(struct probe *p, void (*alive)(void *ctx, pid_t tgid), void *ctx)
{
	__u32 key, next, *prev = NULL;

	while (!bpf_map__get_next_key(p->skel->maps.watched, prev, &next, sizeof(next))) {
		char dir[32];

		key = next;
		prev = &key;
		snprintf(dir, sizeof(dir), "/proc/%u", key);
		if (access(dir, F_OK))
			bpf_map__delete_elem(p->skel->maps.watched, &key, sizeof(key), 0);
		else
			alive(ctx, (pid_t)key);
	}
}

void probe_clear_exit_sites(struct probe *p, uint32_t first, uint32_t n)
{
	for (__u32 key = first; key < first + n; key++) {
		struct inflight_exit_site zero = { 0 };

		bpf_map__update_elem(p->skel->maps.exit_sites, &key, sizeof(key), &zero, sizeof(zero),
				     BPF_ANY);
	}
}

struct ring_buffer *probe_exec_events(struct probe *p, int (*fn)(void *ctx, void *data, size_t size),
				      void *ctx)
{
	return ring_buffer__new(bpf_map__fd(p->skel->maps.execs), fn, ctx, NULL);
}
