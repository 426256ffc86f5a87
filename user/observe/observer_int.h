/* SPDX-License-Identifier: MIT */
/*
 * Inside the observer: what observer.c (one named target) and
 * observer_discovery.c (targets found by matching processes) share.
 * Not for other callers: they use observer.h.
 */
#ifndef INFLIGHT_OBSERVER_INT_H
#define INFLIGHT_OBSERVER_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "probe/elf_file.h"
#include "probe/exit_sites.h"
#include "probe/go_binary.h"
#include "observe/observer.h"

/* Discovery's room: exit-site keys are handed out in blocks, one per file. */
#define DISCOVERY_MAX_FILES 64
#define DISCOVERY_SITES_PER_FILE 256
/* Go targets: goroutines that may hold pending frames at once. */
#define OBSERVER_GO_MAX_GOROUTINES 65536

struct bpf_link;
struct bpf_map;
struct bpf_program;
struct discovery;

/* A BPF array mapped into our memory. */
struct mapping {
	void *addr;
	size_t len;
};

struct link_list {
	struct bpf_link **v;
	size_t n, cap;
};

/* Files followed behind --binary PATH when it is replaced on disk (observer_follow.c). */
#define FOLLOW_MAX_FILES 4

struct follow {
	bool on;
	struct observer_config cfg;
	enum return_mode mode; /* the programs loaded: each file is attached the same way */
	__u32 block;           /* exit-site keys per file, in instruction mode */
	dev_t dev[FOLLOW_MAX_FILES];
	ino_t ino[FOLLOW_MAX_FILES];
	size_t n;
	dev_t refused_dev; /* the file last said to be unfollowable: said once */
	ino_t refused_ino;
	uint64_t failures;
	uint64_t last_ms;
};

struct observer {
	struct py_observer *py; /* the CPython target; the rest is for probes */
	struct discovery *disc; /* --match-exe / --match-cmdline */
	struct inflight_bpf *skel;
	struct mapping entries_map, exits_map, stats_map, data_map, id_states_map;
	/* pinned state: the maps by fd (ours, or opened from bpffs) */
	bool pinned;
	int fds[12];
	size_t nfds;
	int chain_ids_fd, series_start_fd;
	int pending_fd; /* the per-thread frames (task storage), for observer_pending_frames */
	struct link_list links;
	struct counts_reader *reader;
	struct observer_info info;
	struct follow follow;
};

/* What the target resolution found. */
struct resolved {
	struct elf_file *ef;
	struct elf_func func;
	uint64_t entry_offset; /* where entry (and uretprobe) probes go */
	char usdt_provider[256], usdt_entry[256], usdt_return[256];
	struct exit_site *sites;
	int nsites;
	const char *cxx_catch_path; /* the opened file to probe __cxa_begin_catch in, or NULL */
	struct elf_file *catch_ef;  /* that file, when not `ef` */
	char catch_path[PATH_MAX];  /* its name, for messages */
	uint64_t catch_offset;
	/* glibc's longjmp entry points (aliases share one), in longjmp_probe */
	const char *longjmp_probe;  /* the opened file to probe */
	struct elf_file *longjmp_ef; /* that file, when not `ef` */
	char longjmp_path[PATH_MAX]; /* its name, for messages */
	uint64_t longjmp_offsets[4];
	int nlongjmp;
	bool go; /* a Go binary: frames per goroutine, see `gob` */
	struct go_binary gob;
};

int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Exactly one of --chain and --chain-name, a name that fits: 0, or -1 with `err`. */
int check_chain_options(const struct observer_config *cfg, char *err, size_t errlen);

int link_list_add(struct link_list *ll, struct bpf_link *l);
/* Detaches every link, or with `keep_pinned` only lets go of them. */
void link_list_destroy(struct link_list *ll, bool keep_pinned);

/* The file to probe for `cfg` (its pid's executable, or a library it maps). */
int resolve_target(const struct observer_config *cfg, struct resolved *r,
		   struct observer_info *info, char *err, size_t errlen);
void resolved_free(struct resolved *r);

/*
 * The probes on one file, into `ll`: returns first, the entry last.
 * Exit-site keys start after `site_base`. 0 or -1 with `err` set.
 */
int attach_file(struct observer *o, struct link_list *ll, const struct observer_config *cfg,
		const struct resolved *r, const struct observer_info *fi, __u32 site_base,
		char *err, size_t errlen);
/* The raw tracepoints: thread exit and exec (and fork, for discovery). */
int attach_tracepoints(struct observer *o, bool fork, char *err, size_t errlen);

int configure_object(struct observer *o, const struct observer_config *cfg,
		     const struct resolved *r, bool usdt);
/* The skeleton opened and configured (`r` NULL: for discovery); loaded. */
int object_open(struct observer *o, const struct observer_config *cfg, const struct resolved *r,
		bool usdt, char *err, size_t errlen);
int object_load(struct observer *o, const struct observer_config *cfg, bool register_chain,
		char *err, size_t errlen);
/* The reader over the loaded skeleton's maps. */
int object_open_reader(struct observer *o, char *err, size_t errlen);
/* Where map `m` is pinned in `dir`. */
void map_pin_path(const struct bpf_map *m, const char *dir, char *out, size_t size);
/*
 * Pins `maps`, the links, then the meta map that says whose they are: last,
 * its presence says the rest is complete. 0, or -1 with `err` and the pin
 * directory removed.
 */
int pin_state(struct observer *o, struct bpf_map *const *maps, size_t nmaps,
	      const char *identity, char *err, size_t errlen);

/* Pinned state of another identity: removed, the directory made anew. */
/* The pinned meta map's value (a shorter, older one's missing fields read 0). 0 or -1. */
int pin_meta_read(int fd, struct inflight_meta *m);
/*
 * Whether the pinned state in `dir` (its meta `m`) is adopted: the same pin
 * layout and target. Warns naming what is lost when not.
 */
bool pin_adoptable(const char *dir, const struct inflight_meta *m, const char *identity);
int replace_pinned(const char *dir, char *err, size_t errlen);

/* The maps the reader needs, by fd (the skeleton's, or pinned ones). */
struct reader_fds {
	int chain_ids, entries, exits, stats, data, series_start, id_states, free_ids, pending;
};

/* Maps the counters and makes the reader over them. */
int open_reader(struct observer *o, const struct reader_fds *fds, __u32 id_space, char *err,
		size_t errlen);
void hex(const uint8_t *h, size_t n, char *out);
uint64_t now_realtime_ns(void);

/* observer_follow.c: after the first file is attached */
void follow_init(struct observer *o, const struct observer_config *cfg, const struct resolved *r);
void follow_poll(struct observer *o);
uint64_t follow_poll_in_ms(const struct observer *o);

/* observer_discovery.c */
struct observer *discovery_start(struct observer *o, const struct observer_config *cfg,
				 char *err, size_t errlen);
void discovery_stop(struct observer *o);
void discovery_describe(const struct observer *o, char *buf, size_t size);
uint64_t discovery_attach_failures(const struct observer *o); /* 0 without discovery */
int discovery_pin_dirfd(const struct observer *o); /* -1: not discovery, or not pinned */

#endif
