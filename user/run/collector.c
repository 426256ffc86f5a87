// SPDX-License-Identifier: MIT
/*
 * The collector loop of `inflight run`: every export interval it reads each
 * target's counts and hands one export on (OTLP, console, the Prometheus
 * endpoint), after attaching and dropping the privileges it no longer needs.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "export/console.h"
#include "export/curl_lib.h"
#include "export/exporter.h"
#include "export/gzip.h"
#include "export/http_server.h"
#include "export/otlp_encode.h"
#include "export/otlp_http.h"
#include "export/prom_server.h"
#include "export/resource.h"
#include "run/collector.h"
#include "run/health.h"
#include "run/k8s_meta.h"
#include "run/self_metrics.h"
#include "run/series.h"
#include "util/array_size.h"
#include "util/buf.h"
#include "util/errmsg.h"
#include "util/exit_code.h"
#include "util/log.h"
#include "util/privileges.h"
#include "util/ticker.h"

/* A metric exported beside each target's gauge, named after it. */
struct companion {
	char *name[CONFIG_MAX_TARGETS];
	char *description[CONFIG_MAX_TARGETS];
	const char *unit; /* NULL: the gauge's */
	bool monotonic;
	/* its points from the target's series and reading: 0 or -ENOMEM */
	int (*points)(struct series_table *t, const struct snapshot *s, struct otlp_metric *m);
};

struct collector {
	struct export_config cfg;
	struct kv_list resource;
	struct otlp_attr *resource_attrs;
	struct run_targets targets;
	struct observer *obs[CONFIG_MAX_TARGETS];
	struct exporter *exporter;
	struct buf encoded, compressed;
	struct gzipper gz;
	struct http_server *http; /* the health and Prometheus endpoints' listeners, one thread */
	struct health *health;
	struct prom_server *prom;
	struct k8s_meta *k8s;
	struct self_metrics self;
	/*
	 * each target's gauge, then our own, then each target's handled calls,
	 * call durations and oldest ages
	 */
	struct otlp_metric metrics[4 * CONFIG_MAX_TARGETS + SELF_METRICS_MAX];
	/*
	 * The names and descriptions of the metrics beside each target's gauge,
	 * "<metric>.handled", ".duration" and ".oldest_age"; all NULL: that one
	 * is not exported (--no-handled, --no-duration, --no-oldest-age).
	 */
	struct companion handled, duration, oldest;
	bool said_idle;
};

static int handled_points(struct series_table *t, const struct snapshot *s, struct otlp_metric *m)
{
	series_handled_points(t, s, m);
	return 0;
}

static uint64_t series_start(void *ctx, uint32_t id, uint64_t now)
{
	return observer_series_start(ctx, id, now);
}

static size_t series_k8s_attrs(void *ctx, uint64_t cgroup, struct otlp_attr *out)
{
	return k8s_meta_attrs(ctx, cgroup, out);
}

static bool k8s_cgroup_gone(void *ctx, uint64_t cgroup)
{
	return k8s_meta_cgroup_gone(ctx, cgroup);
}

/* Whether a series of cgroup `cg` is still in some target's last reading. */
static bool cgroup_in_use(const struct collector *c, uint64_t cg)
{
	for (size_t i = 0; i < c->targets.n; i++) {
		const struct snapshot *s = &c->targets.v[i].snap;

		for (size_t k = 0; k < s->n; k++)
			if (s->chains[k].cgroup == cg)
				return true;
	}
	return false;
}

/* Takes the series of id `id` out of `s` (it was retired). Its cgroup, or 0. */
static uint64_t drop_chain(struct snapshot *s, uint32_t id)
{
	for (size_t k = 0; k < s->n; k++) {
		uint64_t cg = s->chains[k].cgroup;

		if (s->chains[k].id != id)
			continue;
		s->chains[k] = s->chains[--s->n];
		return cg;
	}
	return 0;
}

/*
 * After an export (so a gone pod's series reports its last 0 once): the
 * series of containers that are gone give back their ids, and what was
 * resolved about a container goes once no series of it is left.
 */
static void retire_gone(struct collector *c)
{
	for (size_t i = 0; i < c->targets.n; i++) {
		struct run_target *t = &c->targets.v[i];
		uint32_t ids[256];
		size_t n;

		if (!t->opt->cfg.target.by_cgroup)
			continue;
		n = observer_retire_gone(t->obs, &t->snap, k8s_cgroup_gone, c->k8s, ids, 256);
		for (size_t k = 0; k < n; k++) {
			/* the reading is done with; its names of retired ids are freed */
			uint64_t cg = drop_chain(&t->snap, ids[k]);

			series_forget(&t->series, ids[k]);
			if (cg && !cgroup_in_use(c, cg))
				k8s_meta_forget(c->k8s, cg);
		}
		if (n)
			log_info("%s%zu series of containers that are gone: no longer exported (cgroups kept resolved: %zu)",
				 t->where, n, k8s_meta_count(c->k8s));
	}
}

/* Reads the maps and hands one export on; never waits on the network. 0, or -1 with `err`. */
static int collect_and_export(struct collector *c, char *err, size_t errlen)
{
	struct otlp_export e = {
		.resource = c->resource_attrs,
		.nresource = c->resource.n,
		.scope_name = "inflight",
		.scope_version = INFLIGHT_VERSION,
		.metrics = c->metrics,
	};
	uint64_t stats[INFLIGHT_STAT__COUNT] = { 0 }, attach_failed = 0, since = UINT64_MAX, now = 0;
	uint64_t py_stats[PY_STAT__COUNT] = { 0 };
	/*
	 * the handled Sums, call durations and oldest ages, gathered here by
	 * kind and placed after the self-metrics in that order
	 */
	struct companion *const kinds[] = { &c->handled, &c->duration, &c->oldest };
	struct otlp_metric companions[ARRAY_SIZE(kinds)][CONFIG_MAX_TARGETS];
	size_t ncomp[ARRAY_SIZE(kinds)] = { 0 }, nm = 0, npoints = 0;
	int rc;

	for (size_t i = 0; i < c->targets.n; i++) {
		struct run_target *t = &c->targets.v[i];
		struct otlp_metric *m = &c->metrics[nm];

		*m = (struct otlp_metric){
			.name = t->metric_name ? t->metric_name : c->cfg.metric_name,
			.description = t->metric_description ? t->metric_description
							     : c->cfg.metric_description,
			.unit = t->metric_unit ? t->metric_unit : c->cfg.metric_unit,
			.monotonic = false,
		};
		rc = observer_read(t->obs, &t->snap);
		if (rc) {
			/* the text as it always was: errno, which the reader's failure left */
			int e = errno;

			return errmsg_errno(err, errlen, -rc, "%scannot read the counters: %s",
					    t->where, strerror(e));
		}
		rc = series_points(&t->series, &t->snap,
				   t->attribute_key ? t->attribute_key : c->cfg.attribute_key, m,
				   series_start, t->obs);
		if (rc)
			return errmsg_errno(err, errlen, -rc, "%sout of memory building the series",
					    t->where);
		for (int k = 0; k < INFLIGHT_STAT__COUNT; k++)
			stats[k] += t->snap.stats[k];
		attach_failed += t->snap.attach_failures;
		for (int k = 0; k < PY_STAT__COUNT; k++)
			py_stats[k] += t->snap.py_stats[k];
		since = t->stats_since_ns < since ? t->stats_since_ns : since;
		now = t->snap.ts_ns > now ? t->snap.ts_ns : now;
		npoints += m->npoints;
		/* a target with no series yet adds no metric */
		if (m->npoints)
			nm++;
		for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
			const struct companion *comp = kinds[k];
			struct otlp_metric *x = &companions[k][ncomp[k]];

			if (!comp->name[i])
				continue;
			*x = (struct otlp_metric){
				.name = comp->name[i],
				.description = comp->description[i],
				.unit = comp->unit ? comp->unit
					: t->metric_unit ? t->metric_unit : c->cfg.metric_unit,
				.monotonic = comp->monotonic,
			};
			rc = comp->points(&t->series, &t->snap, x);
			if (rc)
				return errmsg_errno(err, errlen, -rc,
						    "%sout of memory building the series", t->where);
			/* CPython targets: a frame snapshot sees no call end, times none */
			if (x->npoints)
				ncomp[k]++;
		}
	}
	/* no series yet: an export with no points is not sent */
	if (!npoints) {
		if (!c->said_idle)
			log_info("no calls seen yet: nothing is exported until the first one");
		c->said_idle = true;
		return 0;
	}
	{
		size_t n = self_metrics_build(&c->self, stats, py_stats, attach_failed,
					      c->exporter ? exporter_failed(c->exporter) : 0, since,
					      now);

		memcpy(&c->metrics[nm], c->self.metrics, n * sizeof(c->metrics[0]));
		/*
		 * After the self-metrics: the gauges stay first, as a reader of
		 * one target's export (and the tests' receiver) expects.
		 */
		e.nmetrics = nm + n;
		for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
			memcpy(&c->metrics[e.nmetrics], companions[k], ncomp[k] * sizeof(c->metrics[0]));
			e.nmetrics += ncomp[k];
		}
	}
	rc = prom_server_publish(c->prom, &e);
	if (rc)
		return errmsg_errno(err, errlen, -rc,
				    "out of memory rendering the Prometheus metrics");
	switch (c->cfg.exporter) {
	case EXPORTER_NONE:
		return 0;
	case EXPORTER_CONSOLE:
		console_export(stdout, &e);
		return 0;
	case EXPORTER_OTLP:
		break;
	}
	buf_reset(&c->encoded);
	rc = c->cfg.protocol == OTLP_HTTP_JSON ? otlp_encode_json(&e, &c->encoded)
					       : otlp_encode_protobuf(&e, &c->encoded);
	if (rc)
		return errmsg_errno(err, errlen, -rc, "out of memory encoding the export");
	if (c->cfg.gzip) {
		rc = gzipper_compress(&c->gz, &c->encoded, &c->compressed);
		if (rc)
			return errmsg_errno(err, errlen, -rc, "cannot gzip the export");
		log_debug("export: %zu series, %zu bytes, %zu gzipped", npoints,
			  c->encoded.len, c->compressed.len);
		exporter_submit(c->exporter, &c->compressed);
	} else {
		log_debug("export: %zu series, %zu bytes", npoints, c->encoded.len);
		exporter_submit(c->exporter, &c->encoded);
	}
	return 0;
}

static int setup_export(struct collector *c, const struct collector_settings *a)
{
	char err[1024];

	export_config_init(&c->cfg);
	if (export_config_from_env(&c->cfg, err, sizeof(err))) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < a->nflags; i++) {
		if (export_config_set(&c->cfg, a->flags[i].what, a->flags[i].value, a->flags[i].name,
				      err, sizeof(err))) {
			log_error("%s", err);
			return EXIT_USAGE;
		}
	}
	export_config_finish(&c->cfg);
	/* Prometheus alone: the console default would only echo what it serves */
	if (a->prometheus && !c->cfg.exporter_set && c->cfg.exporter == EXPORTER_CONSOLE)
		c->cfg.exporter = EXPORTER_NONE;
	if (resource_build(&c->cfg, NULL, &c->resource))
		return EXIT_RUNTIME;
	c->resource_attrs = calloc(c->resource.n ? c->resource.n : 1, sizeof(*c->resource_attrs));
	if (!c->resource_attrs)
		return EXIT_RUNTIME;
	for (size_t i = 0; i < c->resource.n; i++)
		c->resource_attrs[i] = (struct otlp_attr){ .key = c->resource.v[i].key,
							   .type = OTLP_STRING,
							   .s = c->resource.v[i].value };
	return 0;
}

/*
 * Names each target's companion "<metric>.SUFFIX", its description made of
 * `what` with the target's metric name in it (one %s). 0 or -ENOMEM.
 */
static int companion_names(struct collector *c, struct companion *m, const char *suffix,
			   const char *what)
{
	for (size_t i = 0; i < c->targets.n; i++) {
		const struct run_target *t = &c->targets.v[i];
		const char *name = t->metric_name ? t->metric_name : c->cfg.metric_name;

		if (asprintf(&m->name[i], "%s.%s", name, suffix) < 0) {
			m->name[i] = NULL;
			return -ENOMEM;
		}
		if (asprintf(&m->description[i], what, name) < 0) {
			m->description[i] = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

static void companion_free(struct companion *m)
{
	for (size_t i = 0; i < CONFIG_MAX_TARGETS; i++) {
		free(m->name[i]);
		free(m->description[i]);
	}
}

static void collector_free(struct collector *c)
{
	run_targets_free(&c->targets);
	buf_free(&c->encoded);
	buf_free(&c->compressed);
	gzipper_free(&c->gz);
	free(c->resource_attrs);
	companion_free(&c->handled);
	companion_free(&c->duration);
	companion_free(&c->oldest);
	kv_list_free(&c->resource);
	export_config_free(&c->cfg);
}

int collector_run(struct run_targets *targets, const struct collector_settings *s)
{
	struct collector c = {
		.targets = *targets,
		.handled = { .monotonic = true, .points = handled_points },
		.duration = { .unit = "s", .points = series_duration_points },
		.oldest = { .unit = "s", .points = series_oldest_points },
	};
	struct exporter_stats st = { 0 };
	struct ticker tick;
	char err[1024];
	int rc;

	/* the targets are ours now, freed with the rest */
	memset(targets, 0, sizeof(*targets));
	rc = setup_export(&c, s);
	if (!rc && run_targets_check_metrics(&c.targets, c.cfg.metric_name, !s->no_handled, err,
					       sizeof(err))) {
		log_error("%s", err);
		rc = EXIT_USAGE;
	}
	if (!rc && !s->no_handled &&
	    companion_names(&c, &c.handled, "handled",
			    "Calls counted by %s that ended (returned, or released by the observer), since the series' start")) {
		log_error("out of memory");
		rc = EXIT_RUNTIME;
	}
	if (!rc && !s->no_duration &&
	    run_targets_check_suffixed(&c.targets, c.cfg.metric_name, "duration", "--no-duration",
				       err, sizeof(err))) {
		log_error("%s", err);
		rc = EXIT_USAGE;
	}
	if (!rc && !s->no_duration &&
	    companion_names(&c, &c.duration, "duration",
			    "How long the calls counted by %s took, those that returned, since the series' start")) {
		log_error("out of memory");
		rc = EXIT_RUNTIME;
	}
	if (!rc && !s->no_oldest_age &&
	    run_targets_check_suffixed(&c.targets, c.cfg.metric_name, "oldest_age", "--no-oldest-age",
				       err, sizeof(err))) {
		log_error("%s", err);
		rc = EXIT_USAGE;
	}
	if (!rc && !s->no_oldest_age &&
	    companion_names(&c, &c.oldest, "oldest_age",
			    "Age of the oldest call counted by %s still in flight (0 when none is)")) {
		log_error("out of memory");
		rc = EXIT_RUNTIME;
	}
	if (rc)
		goto out;
	ticker_catch_signals();

	if (c.cfg.exporter == EXPORTER_OTLP) {
		if (curl_lib_load(c.cfg.url, err, sizeof(err))) {
			log_error("%s", err);
			rc = EXIT_RUNTIME;
			goto out;
		}
	}
	/*
	 * Before the capabilities go: a port below 1024 needs
	 * CAP_NET_BIND_SERVICE. Both at one address: one listener answers
	 * /healthz, /readyz and /metrics.
	 */
	{
		const char *addr = s->health;

		if ((addr && *addr) || s->prometheus) {
			c.http = http_server_new();
			if (!c.http) {
				log_error("out of memory");
				rc = EXIT_RUNTIME;
				goto out;
			}
		}
		if (addr && *addr) {
			c.health = health_start(c.http, addr, c.cfg.interval_ms, err, sizeof(err));
			if (!c.health) {
				log_error("%s", err);
				rc = EXIT_USAGE;
				goto out;
			}
		}
	}
	if (s->prometheus) {
		c.prom = prom_server_start(c.http, s->prometheus, err, sizeof(err));
		if (!c.prom) {
			log_error("%s", err);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	{
		bool k8s = s->k8s;

		if (run_targets_want_k8s(&c.targets, k8s)) {
			c.k8s = k8s_meta_new(s->cgroup_root, s->k8s_log_dir);
			if (!c.k8s) {
				log_error("out of memory");
				rc = EXIT_RUNTIME;
				goto out;
			}
		}
		/* not exported: the probes skip the clock read at return */
		for (size_t i = 0; i < c.targets.n; i++)
			c.targets.v[i].opt->cfg.target.untimed = s->no_duration;
		if (run_targets_start(&c.targets, s->no_pin, k8s, c.k8s, err, sizeof(err))) {
			log_error("%s", err);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	for (size_t i = 0; i < c.targets.n; i++) {
		struct run_target *t = &c.targets.v[i];

		if (!t->opt->cfg.target.by_cgroup)
			continue;
		t->series.extra = series_k8s_attrs;
		t->series.extra_ctx = c.k8s;
	}
	for (size_t i = 0; i < c.targets.n; i++) {
		c.obs[i] = c.targets.v[i].obs;
		/* not exported: not worth a look at every pending call per reading */
		observer_want_ages(c.obs[i], !s->no_oldest_age);
	}
	/* Attached: reading the mapped counters and exporting need no capability. */
	{
		const char *user = s->user;
		uint64_t keep = run_targets_caps_to_keep(&c.targets);

		if ((user && run_targets_share_pins(&c.targets, user, err, sizeof(err))) ||
		    privileges_drop(keep, user, err, sizeof(err))) {
			log_error("%s", err);
			rc = EXIT_USAGE;
			goto out;
		}
		log_debug("capabilities now: %s%s%s",
			  keep & CAP_MASK(CAP_SYS_ADMIN) ? "CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE"
			  : keep ? "CAP_SYS_PTRACE" : "none",
			  user ? ", user " : "", user ? user : "");
	}
	/*
	 * The threads start only now: capabilities and the bounding set are
	 * per thread, and one started before the drop would keep them all.
	 */
	if (c.cfg.exporter == EXPORTER_OTLP) {
		c.exporter = exporter_start(&c.cfg, err, sizeof(err));
		if (!c.exporter) {
			log_error("%s", err);
			rc = EXIT_RUNTIME;
			goto out;
		}
	}
	if (http_server_serve(c.http, err, sizeof(err))) {
		log_error("%s", err);
		rc = EXIT_RUNTIME;
		goto out;
	}
	for (size_t i = 0; i < c.targets.n; i++) {
		const struct run_target *t = &c.targets.v[i];
		char what[1024];

		observer_describe(t->obs, what, sizeof(what));
		if (t->name[0])
			log_info("target %s: %s, exported as %s", t->name, what,
				 t->metric_name ? t->metric_name : c.cfg.metric_name);
		else
			log_info("%s", what);
	}
	log_info("exporting %s every %llu ms %s%s%s",
		 c.targets.n == 1 ? (c.targets.v[0].metric_name ? c.targets.v[0].metric_name
								 : c.cfg.metric_name)
				  : "the targets' metrics",
		 (unsigned long long)c.cfg.interval_ms, c.cfg.exporter == EXPORTER_OTLP ? "to " : "",
		 c.cfg.exporter == EXPORTER_OTLP ? c.cfg.url
		 : c.cfg.exporter == EXPORTER_CONSOLE ? "to the console" : "nowhere (exporter none)",
		 c.cfg.exporter == EXPORTER_OTLP
			 ? (c.cfg.protocol == OTLP_HTTP_JSON ? " (http/json)" : " (http/protobuf)")
			 : "");

	if (s->prometheus)
		log_info("serving Prometheus metrics at http://%s/metrics", s->prometheus);
	health_set_ready(c.health, true, NULL);
	ticker_start(&tick, c.cfg.interval_ms);
	for (;;) {
		struct timespec cpu0, cpu1;
		size_t series = 0;

		if (observers_wait_tick(c.obs, c.targets.n, &tick))
			break;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
		if (collect_and_export(&c, err, sizeof(err))) {
			log_error("%s", err);
			rc = EXIT_RUNTIME;
			break;
		}
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
		retire_gone(&c);
		health_tick(c.health);
		if (c.exporter) {
			char why[600];
			bool ok = exporter_healthy(c.exporter, why, sizeof(why));

			health_set_ready(c.health, ok, why);
		}
		for (size_t i = 0; i < c.targets.n; i++)
			series += c.targets.v[i].snap.n;
		/* the benchmark reads this: CPU of one collection, network excluded */
		log_debug("collection: %zu series, %lld us CPU", series,
			  (long long)((cpu1.tv_sec - cpu0.tv_sec) * 1000000LL +
				      (cpu1.tv_nsec - cpu0.tv_nsec) / 1000));
	}
	/* stopping: one last reading, sent within the export timeout */
	if (!rc && collect_and_export(&c, err, sizeof(err))) {
		log_error("%s", err);
		rc = EXIT_RUNTIME;
	}
out:
	if (c.exporter) {
		if (exporter_stop(c.exporter, c.cfg.export_timeout_ms, &st))
			log_warn("the last export could not be delivered");
		log_debug("exports: %llu sent, %llu failed, %llu superseded, %llu requests",
			  (unsigned long long)st.sent, (unsigned long long)st.failed,
			  (unsigned long long)st.superseded, (unsigned long long)st.attempts);
		curl_lib_unload();
	}
	/* the thread first: the routes use health and prom until it is gone */
	http_server_stop(c.http);
	health_stop(c.health);
	prom_server_stop(c.prom);
	collector_free(&c);
	k8s_meta_free(c.k8s);
	return rc;
}
