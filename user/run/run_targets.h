/* SPDX-License-Identifier: MIT */
/*
 * What one `inflight run` observes: the command line's target, or every
 * [target NAME] of a --config file, each with its own observer, pinned
 * state, series and (optionally) metric name. Starting is all or nothing:
 * if one target fails, the others are stopped and the pinned state this
 * start created is removed.
 */
#ifndef INFLIGHT_RUN_TARGETS_H
#define INFLIGHT_RUN_TARGETS_H

#include <stdbool.h>
#include <stdint.h>
#include "run/target_options.h"
#include "util/exit_code.h"
#include "run/config_file.h"
#include "run/series.h"
#include "probe/snapshot.h"

struct run_target {
	char name[64];   /* "" for the command line's target */
	char where[512]; /* "FILE:LINE [target NAME]: " for messages, or "" */
	struct target_options *opt;
	bool own_opt;    /* allocated here (a file's target) */
	/* per target in a file; NULL: the collector's (flags, OTEL_* variables) */
	const char *metric_name, *metric_unit, *metric_description, *attribute_key;
	const char *pin_dir;
	char pin_buf[512];
	bool created_pins; /* pinned state made by this start */
	int k8s;           /* the file's k8s-attributes: 1 true, -1 false, 0 not given */
	struct observer *obs;
	struct series_table series;
	struct snapshot snap;
	uint64_t stats_since_ns; /* its stats count from here: pin creation or our start */
};

struct run_targets {
	struct run_target *v;
	size_t n;
	struct config_file file; /* owns the strings the options point to */
};

/* The command line's one target (its options stay the caller's). 0 or -ENOMEM. */
int run_targets_from_cli(struct run_targets *rt, struct target_options *opt, const char *pin_dir);

/*
 * The targets of a file, each checked as its flags would be; the errors
 * name the file and line. 0, or a negative errno (-ENOMEM, config_load's,
 * -EINVAL for a bad value) with `err` set; `err` is left empty when
 * target_options_finish printed the error itself (see target_options.h).
 */
int run_targets_from_file(struct run_targets *rt, const char *path, char *err, size_t errlen);

/*
 * Distinct metric names across targets (`dflt` stands for a target without
 * its own), with `handled`, their NAME.handled Sums too. 0, or -EINVAL
 * with the clash in `err`.
 */
int run_targets_check_metrics(const struct run_targets *rt, const char *dflt, bool handled,
			      char *err, size_t errlen);

/*
 * With each target's NAME.SUFFIX metric exported too (`flag` turns it
 * off): no target's own metric may be named as another's. 0, or -EINVAL
 * with the clash in `err`.
 */
int run_targets_check_suffixed(const struct run_targets *rt, const char *dflt, const char *suffix,
			       const char *flag, char *err, size_t errlen);

/*
 * Starts every observer (pinned unless `no_pin`; series split by cgroup if
 * `k8s`, unless a target says otherwise, resolved by `meta`, which must be
 * there for any such target). 0, or -EINVAL with `err` naming the target
 * (the ones started are stopped first).
 */
struct k8s_meta;
int run_targets_start(struct run_targets *rt, bool no_pin, bool k8s, struct k8s_meta *meta,
		      char *err, size_t errlen);

/* Whether any target will be split by cgroup, given the flag `k8s`. */
bool run_targets_want_k8s(const struct run_targets *rt, bool k8s);

/* The capabilities the targets still need once attached. */
uint64_t run_targets_caps_to_keep(const struct run_targets *rt);
/*
 * Before dropping to `user`: the pin directories written after the drop
 * (discovery's) are made writable for it. 0, or a negative errno with `err`
 * set.
 */
int run_targets_share_pins(const struct run_targets *rt, const char *user, char *err,
			   size_t errlen);

void run_targets_free(struct run_targets *rt);

#endif
