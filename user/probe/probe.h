/* SPDX-License-Identifier: MIT */
/*
 * The BPF object of one target: the skeleton opened, sized and loaded, its
 * programs attached to files, its maps pinned or adopted from pins, and the
 * counters read from memory. Owned alike by the named target and by
 * discovery; it knows nothing of either. In phases:
 *
 *   probe_open          open and size (one resolved file, or room for discovery's files)
 *   probe_reuse_maps    (discovery adopting pins) the pinned maps instead of new ones
 *   probe_load          the kernel loads the programs
 *   probe_attach_*      tracepoints, a file's probes, a USDT pair, into a link list
 *   probe_pin           maps, links, then the meta map, in a pin directory
 *   probe_start_reading the counters mapped into memory
 *
 * or probe_adopt: a reader over another collector's pinned state, whose
 * probes never stopped (it loads nothing and cannot attach more).
 * Functions that can fail return 0, or a negative errno with `err` naming
 * what failed.
 */
#ifndef INFLIGHT_PROBE_H
#define INFLIGHT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "probe/resolve.h"
#include "probe/snapshot.h"
#include "probe/target_spec.h"

/* Discovery's room: exit-site keys are handed out in blocks, one per file. */
#define DISCOVERY_MAX_FILES 64
#define DISCOVERY_SITES_PER_FILE 256
/* Go targets: goroutines that may hold pending frames at once. */
#define PROBE_GO_MAX_GOROUTINES 65536

struct bpf_link;
struct probe;

/* Links, detached (or let go of, when pinned) together. */
struct probe_links {
	struct bpf_link **v;
	size_t n, cap;
};

/* Detaches every link, entry first; with `keep_pinned` only lets go of them. */
void probe_links_destroy(struct probe_links *ll, bool keep_pinned);
/* Detaches the links past the first `n` (a file half attached). */
void probe_links_truncate(struct probe_links *ll, size_t n);
/*
 * Holds the link pinned as DIR/NAME open in `ll`: while held, its probe
 * stays attached even if the pin is removed (a pin directory cleared while
 * this collector runs), as the links it attached itself do. 0 or -errno.
 */
int probe_links_hold_pinned(struct probe_links *ll, const char *dir, const char *name);
/* Pins link `i` of `ll` as DIR/NAME. 0 or a negative errno with `err`. */
int probe_links_pin_one(const struct probe_links *ll, size_t i, const char *dir, const char *name,
			char *err, size_t errlen);
/*
 * Pins links [from, n) as DIR/link-NNN, numbered by their index. 0 or a
 * negative errno with `err`.
 */
int probe_links_pin(const struct probe_links *ll, size_t from, const char *dir, char *err,
		    size_t errlen);

/*
 * Opens the object and sizes it for `spec`: for the one resolved file `r`
 * returning by `mode` (USDT when `usdt`), or with `r` NULL for discovery
 * (every return program, room for its files). `exit_slots` exit-site keys
 * are made room for (0: those of `r`).
 */
struct probe *probe_open(const struct target_spec *spec, const struct resolved *r,
			 enum return_mode mode, bool usdt, uint32_t exit_slots, char *err,
			 size_t errlen);
/* Before probe_load: the maps pinned in `dir` are used instead of new ones. */
int probe_reuse_maps(struct probe *p, const char *dir, char *err, size_t errlen);
/* Loads the programs; `chain_name`, if not NULL, registered as the constant chain. */
int probe_load(struct probe *p, const char *chain_name, char *err, size_t errlen);

/* The raw tracepoints: thread exit and exec (and fork, for discovery). */
int probe_attach_tracepoints(struct probe *p, struct probe_links *ll, bool fork, char *err,
			     size_t errlen);
/*
 * The probes on one resolved file, into `ll`: returns first, the entry
 * last, so no call is counted in before its way out is watched. `pid` 0
 * for every process; exit-site keys start after `site_base`. Counts the
 * uprobes in `info->probes` and notes the catch probe there.
 */
int probe_attach_file(struct probe *p, struct probe_links *ll, const char *func, pid_t pid,
		      const struct resolved *r, enum return_mode mode, uint32_t site_base,
		      struct target_info *info, char *err, size_t errlen);
/* The USDT pair of `r`, return first. */
int probe_attach_usdt(struct probe *p, struct probe_links *ll, pid_t pid, const struct resolved *r,
		      struct target_info *info, char *err, size_t errlen);

/*
 * Pins in `dir`: the maps a successor reads (every map but the load-time
 * ones with `every_map`, for discovery, whose successor reuses them all),
 * the links of `ll` as link-NNN, then the meta map that says whose they
 * are: last, its presence says the rest is complete. On failure the pin
 * directory is removed.
 */
int probe_pin(struct probe *p, const char *dir, bool every_map, const struct probe_links *ll,
	      const char *identity, uint64_t *created_ns, char *err, size_t errlen);
/* The counters mapped into memory, for probe_read. */
int probe_start_reading(struct probe *p, char *err, size_t errlen);

/*
 * The state pinned in `dir` by a collector before, if `identity` may adopt
 * it: 0 with `*out` reading it (`held`: its pinned links, held open,
 * `since_ns`: when it was first attached), 1 when it is of another target or layout (said),
 * a negative errno with `err`.
 */
int probe_adopt(struct probe **out, const char *dir, const char *identity,
		struct probe_links *held, uint64_t *since_ns, char *err, size_t errlen);

bool probe_can_attach(const struct probe *p); /* loaded here, not adopted */
bool probe_pinned(const struct probe *p);
/* Its maps were reused from pins whose links keep the probes: they are let go of, not detached. */
void probe_mark_pinned(struct probe *p);
void probe_free(struct probe *p);

int probe_read(struct probe *p, struct snapshot *out);
/* A series' start time, kept in a map so a restarted collector keeps it. */
uint64_t probe_series_start(struct probe *p, uint32_t id, uint64_t now_ns);
/* Frees the ids of idle series (their next series starts anew); how many were. */
size_t probe_retire(struct probe *p, uint32_t *ids, size_t n);
/*
 * Frames held by every thread on the machine (task storage), and by a Go
 * target's goroutines; `where` (if not NULL) "pid/tid: n, ...". 0 or -errno.
 */
int probe_pending_frames(const struct probe *p, uint64_t *frames, char *where, size_t wsize);
/* A Go target: goroutines holding frames, and the frames. 0 for others. */
uint64_t probe_pending_goroutines(const struct probe *p, uint64_t *frames);
/*
 * The frame maps, for a pending_reader: the per-thread `pending` task
 * storage, and Go's per-goroutine `go_pending` (-1: none, a pinned state
 * from before it was pinned).
 */
int probe_pending_fd(const struct probe *p);
int probe_go_pending_fd(const struct probe *p);
volatile uint32_t *probe_test_next_id(struct probe *p);

/* Discovery's maps. Watching `tgid`: 0 newly, 1 already, a negative errno on error. */
int probe_watch(struct probe *p, pid_t tgid);
/* Watched processes gone are let go of; `alive` is called for the others. */
void probe_watched_sweep(struct probe *p, void (*alive)(void *ctx, pid_t tgid), void *ctx);
/* Clears exit-site keys [first, first + n): a detached file's. */
void probe_clear_exit_sites(struct probe *p, uint32_t first, uint32_t n);
/* The tgids that exec'd, as the BPF side reports them. NULL with errno. */
struct ring_buffer;
struct ring_buffer *probe_exec_events(struct probe *p, int (*fn)(void *ctx, void *data, size_t size),
				      void *ctx);

#endif
