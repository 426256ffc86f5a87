/* SPDX-License-Identifier: MIT */
/* Inside the probe object: shared by probe.c, probe_attach.c and probe_read.c only. */
#ifndef INFLIGHT_PROBE_INTERNAL_H
#define INFLIGHT_PROBE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "probe/probe.h"

struct counts_reader;
struct inflight_bpf;

/* A BPF array mapped into our memory. */
struct mapping {
	void *addr;
	size_t len;
};

struct probe {
	struct inflight_bpf *skel; /* NULL when adopted from pins */
	struct mapping entries_map, exits_map, stats_map, data_map, id_states_map;
	bool pinned;
	/* maps opened from bpffs, by fd */
	int fds[16]; /* meta and the pinned maps the reader opens (12 now) */
	size_t nfds;
	int chain_ids_fd, series_start_fd;
	int pending_fd; /* the per-thread frames (task storage), for probe_pending_frames */
	int go_pending_fd; /* a Go target's frames per goroutine */
	struct counts_reader *reader;
	struct mapping durations_map; /* the call-duration histograms */
};

/* The maps the reader needs, by fd (the skeleton's, or pinned ones). */
struct reader_fds {
	int chain_ids, entries, exits, stats, data, series_start, id_states, free_ids, pending,
	    go_pending;
	int durations;
};

/* The reader over the counters, whichever way their fds were had. */
int probe_open_reader(struct probe *p, const struct reader_fds *fds, uint32_t id_space, char *err,
		      size_t errlen);
void probe_unmap_counters(struct probe *p);

#endif
