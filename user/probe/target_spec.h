/* SPDX-License-Identifier: MIT */
/*
 * A target that gets probes: what the options name (a file and function,
 * a USDT pair, or the processes discovery matches) and what was attached,
 * for the operator. Shared by the named target, discovery and the observer
 * facade above them.
 */
#ifndef INFLIGHT_TARGET_SPEC_H
#define INFLIGHT_TARGET_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "inflight.h"
#include "probe/return_mode.h"

#define TARGET_DEFAULT_MAX_CHAINS 1024

struct target_spec {
	const char *binary; /* --binary: path or library name */
	pid_t pid;          /* --pid: 0 for every process mapping the binary */
	const char *func;   /* --func: symbol of the handle function */
	const char *usdt;   /* --usdt "PROVIDER:ENTRY,PROVIDER:RETURN" */
	/* the chain: a parsed fetch spec, or a constant name */
	const struct inflight_fetch *fetch;
	const char *chain_name;
	enum return_mode return_mode;
	unsigned max_chains;
	/* discovery: the workers are the processes matching these */
	const char *match_exe;     /* --match-exe GLOB */
	const char *match_cmdline; /* --match-cmdline REGEX */
	unsigned rescan_ms;        /* --rescan: full /proc scans (0: default) */
	bool by_cgroup;            /* series keyed by cgroup id too */
	const char *pin_dir;       /* bpffs directory to pin in, NULL for none */
	/*
	 * pin_dir's state is picked up if it is this target's, never made,
	 * replaced or pinned anew (`inflight stuck` reading a running
	 * collector's state): otherwise the probes attach unpinned.
	 */
	bool adopt_only;
	bool untimed;              /* --no-duration: returns are not timed (no clock read) */
};

/* What was attached, for the operator. */
struct target_info {
	char binary[4096];     /* the file the probes are on */
	char what[256];        /* "handle_work" or "provider:entry,provider:return" */
	enum return_mode mode; /* resolved (never AUTO for functions) */
	const char *mode_why;
	char mode_label[64];   /* "return=uretprobe", "return=usdt", "python frames" */
	size_t exit_sites;     /* instruction mode: probes on exits */
	bool after_endbr;      /* entry probed past a leading endbr64 */
	char go_version[32];   /* a Go target: frames kept per goroutine; "" if not Go */
	bool after_go_prologue; /* entry probed past Go's stack check */
	char pin_dir[4096];    /* where the state is pinned, "" if not */
	bool reused;           /* picked up pinned probes of an earlier collector */
	uint64_t pinned_since_ns;
	size_t probes;         /* uprobes attached, all kinds */
	bool catch_probe;      /* __cxa_begin_catch repair attached */
	char catch_binary[4096];
};

/* Exactly one of --chain and --chain-name, a name that fits: 0, or -EINVAL with `err`. */
int target_spec_check_chain(const struct target_spec *spec, char *err, size_t errlen);

#endif
