// SPDX-License-Identifier: MIT
#include <string.h>
#include "run/self_metrics.h"
#include "util/array_size.h"

/* where a value comes from: a kernel-side stat, or the exporter */
#define FROM_EXPORTER (-1)
#define FROM_ATTACH (-2)
#define FROM_PY(k) (-10 - (k))

struct source {
	const char *metric;
	const char *reason; /* NULL: the metric has no attribute */
	int stat;
};

struct metric_doc {
	const char *name;
	const char *unit;
	const char *description;
};

static const struct metric_doc docs[] = {
	{ "inflight.calls.overflowed", "{call}",
	  "Calls counted under the overflow series (otel.metric.overflow) because the chain table was full" },
	{ "inflight.calls.uncounted", "{call}",
	  "Calls not counted at all: no per-thread storage left, or nested deeper than the observer tracks" },
	{ "inflight.chains.unreadable", "{call}",
	  "Calls whose chain name could not be read from the worker's memory" },
	{ "inflight.calls.released", "{call}",
	  "Calls ended by the observer rather than by a return: the thread exited or exec'd, an exception or a longjmp unwound past the probe, its goroutine ended or a Go panic was recovered above it, or a later entry found the frame stale" },
	{ "inflight.returns.unmatched", "{call}",
	  "Returns with no matching entry, normally calls already running when the probes were attached" },
	{ "inflight.attach.failed", "{process}",
	  "Matching processes that could not be observed (function missing, file unreadable, too many files)" },
	{ "inflight.exports.failed", "{export}",
	  "OTLP exports given up: refused by the receiver or out of time" },
	{ "inflight.processes.over_budget", "{reading}",
	  "CPython process readings given up, their calls left out: more remote reads than the per-process budget, or a frame or thread list that loops (a corrupted or forged process)" },
	{ "inflight.chains.capped", "{call}",
	  "Calls counted under the overflow series because their process showed more distinct chains in one reading than one process may add" },
};

/* in the order the points are emitted; a metric's sources are adjacent */
static const struct source sources[] = {
	{ "inflight.calls.overflowed", NULL, INFLIGHT_STAT_OVERFLOW },
	{ "inflight.calls.uncounted", "threads_full", INFLIGHT_STAT_THREADS_FULL },
	{ "inflight.calls.uncounted", "depth", INFLIGHT_STAT_DEPTH_FULL },
	{ "inflight.chains.unreadable", NULL, INFLIGHT_STAT_FETCH_FAULT },
	{ "inflight.calls.released", "thread_exit", INFLIGHT_STAT_RELEASED_EXIT },
	{ "inflight.calls.released", "exec", INFLIGHT_STAT_RELEASED_EXEC },
	{ "inflight.calls.released", "exception", INFLIGHT_STAT_RELEASED_CATCH },
	{ "inflight.calls.released", "longjmp", INFLIGHT_STAT_RELEASED_LONGJMP },
	{ "inflight.calls.released", "goroutine_exit", INFLIGHT_STAT_RELEASED_GOEXIT },
	{ "inflight.calls.released", "go_recover", INFLIGHT_STAT_RELEASED_RECOVER },
	{ "inflight.calls.released", "stale_frame", INFLIGHT_STAT_RELEASED_STALE },
	{ "inflight.returns.unmatched", NULL, INFLIGHT_STAT_UNMATCHED },
	{ "inflight.attach.failed", NULL, FROM_ATTACH },
	{ "inflight.exports.failed", NULL, FROM_EXPORTER },
	{ "inflight.processes.over_budget", "reads", FROM_PY(PY_STAT_OVER_BUDGET_READS) },
	{ "inflight.processes.over_budget", "cycle", FROM_PY(PY_STAT_OVER_BUDGET_CYCLE) },
	{ "inflight.chains.capped", NULL, FROM_PY(PY_STAT_CHAINS_CAPPED) },
};

_Static_assert(ARRAY_SIZE(docs) <= SELF_METRICS_MAX, "SELF_METRICS_MAX too small");
_Static_assert(ARRAY_SIZE(sources) <= SELF_POINTS_MAX, "SELF_POINTS_MAX too small");

static const struct metric_doc *doc_of(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++)
		if (!strcmp(docs[i].name, name))
			return &docs[i];
	return NULL;
}

size_t self_metrics_build(struct self_metrics *m, const uint64_t stats[INFLIGHT_STAT__COUNT],
			  const uint64_t *py_stats, uint64_t attach_failed, uint64_t exports_failed,
			  uint64_t start_ns, uint64_t now_ns)
{
	size_t nm = 0, np = 0;
	struct otlp_metric *cur = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(sources); i++) {
		const struct source *s = &sources[i];
		uint64_t v = s->stat == FROM_EXPORTER ? exports_failed
			     : s->stat == FROM_ATTACH ? attach_failed
			     : s->stat <= FROM_PY(0) ? (py_stats ? py_stats[FROM_PY(0) - s->stat] : 0)
			     : stats[s->stat];
		const struct metric_doc *d;

		if (!v)
			continue;
		if (!cur || strcmp(cur->name, s->metric)) {
			d = doc_of(s->metric);
			cur = &m->metrics[nm++];
			*cur = (struct otlp_metric){
				.name = d->name,
				.unit = d->unit,
				.description = d->description,
				.monotonic = true,
				.points = &m->points[np],
			};
		}
		if (s->reason)
			m->attrs[np] = (struct otlp_attr){ .key = "reason", .type = OTLP_STRING, .s = s->reason };
		m->points[np] = (struct otlp_point){
			.attrs = s->reason ? &m->attrs[np] : NULL,
			.nattrs = s->reason ? 1 : 0,
			.start_ns = start_ns,
			/* the clock stepped back below the start: no point before it */
			.time_ns = now_ns > start_ns ? now_ns : start_ns,
			/* a counter past INT64_MAX would take centuries at any call rate */
			.value = (int64_t)v,
		};
		np++;
		cur->npoints++;
	}
	return nm;
}
