/* SPDX-License-Identifier: MIT */
/*
 * The collector's own health as OTLP metrics, exported beside the gauge so
 * an operator sees in the same backend when the gauge is less than exact:
 * calls lumped into the overflow series or not counted at all, frames the
 * kernel side had to repair, chains it could not read, exports lost.
 * Each is a monotonic Sum; a series appears once it is non-zero, so a
 * healthy collector adds nothing to the export.
 */
#ifndef INFLIGHT_SELF_METRICS_H
#define INFLIGHT_SELF_METRICS_H

#include <stdint.h>
#include "inflight.h"
#include "export/otlp_model.h"
#include "probe/snapshot.h"

#define SELF_METRICS_MAX 10
#define SELF_POINTS_MAX 24

struct self_metrics {
	struct otlp_metric metrics[SELF_METRICS_MAX];
	struct otlp_point points[SELF_POINTS_MAX];
	struct otlp_attr attrs[SELF_POINTS_MAX];
};

/*
 * Fills `m` from the kernel-side counters, the CPython reader's
 * PY_STAT__COUNT counters (`py_stats`, NULL for none), the matching processes that
 * could not be observed and the exports given up; returns how many metrics it holds (0 when all are zero). Points stay
 * valid until the next call.
 */
size_t self_metrics_build(struct self_metrics *m, const uint64_t stats[INFLIGHT_STAT__COUNT],
			  const uint64_t *py_stats, uint64_t attach_failed, uint64_t exports_failed,
			  uint64_t start_ns, uint64_t now_ns);

#endif
