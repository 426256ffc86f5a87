// SPDX-License-Identifier: MIT
/*
 * `inflight run`: the collector. Reads the counts every export interval and
 * exports them as an OTLP UpDownCounter (cumulative Sum, not monotonic),
 * over OTLP/HTTP, or to the console when no endpoint is configured.
 */
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util/buf.h"
#include "cli/cli.h"
#include "run/target_options.h"
#include "util/exit_code.h"
#include "util/usage_error.h"
#include "export/curl_lib.h"
#include "export/export_config.h"
#include "export/gzip.h"
#include "run/health.h"
#include "export/http_server.h"
#include "run/k8s_meta.h"
#include "export/exporter.h"
#include "util/log.h"
#include "export/otlp_encode.h"
#include "export/otlp_http.h"
#include "util/privileges.h"
#include "export/prom_server.h"
#include "export/console.h"
#include "util/ticker.h"
#include "export/resource.h"
#include "run/run_targets.h"
#include "run/self_metrics.h"
#include "run/series.h"
#include "util/array_size.h"

#define MAX_FLAGS 64

struct flag_value {
	enum export_setting what;
	const char *value;
	const char *name;
};

struct run_args {
	struct target_options target;
	const char *config;
	const char *pin_dir;
	const char *user;
	const char *health;
	const char *prometheus;
	const char *k8s, *cgroup_root, *k8s_log_dir;
	bool no_pin;
	struct flag_value flags[MAX_FLAGS];
	size_t nflags;
};

enum {
	OPT_EXPORTER = 0x400,
	OPT_ENDPOINT,
	OPT_METRICS_ENDPOINT,
	OPT_PROTOCOL,
	OPT_HEADER,
	OPT_COMPRESSION,
	OPT_TIMEOUT,
	OPT_INTERVAL,
	OPT_EXPORT_TIMEOUT,
	OPT_SERVICE_NAME,
	OPT_RESOURCE_ATTRIBUTES,
	OPT_METRIC_NAME,
	OPT_METRIC_UNIT,
	OPT_METRIC_DESCRIPTION,
	OPT_ATTRIBUTE_KEY,
	OPT_CERTIFICATE,
	OPT_CLIENT_KEY,
	OPT_CLIENT_CERTIFICATE,
	OPT_PIN_DIR,
	OPT_NO_PIN,
	OPT_USER,
	OPT_HEALTH,
	OPT_CONFIG,
	OPT_K8S,
	OPT_CGROUP_ROOT,
	OPT_K8S_LOG_DIR,
	OPT_PROMETHEUS,
};

static const struct {
	int key;
	enum export_setting what;
	const char *name;
} flag_map[] = {
	{ OPT_EXPORTER, SET_EXPORTER, "--exporter" },
	{ OPT_ENDPOINT, SET_ENDPOINT, "--endpoint" },
	{ OPT_METRICS_ENDPOINT, SET_METRICS_ENDPOINT, "--metrics-endpoint" },
	{ OPT_PROTOCOL, SET_PROTOCOL, "--protocol" },
	{ OPT_HEADER, SET_HEADER, "--header" },
	{ OPT_COMPRESSION, SET_COMPRESSION, "--compression" },
	{ OPT_TIMEOUT, SET_TIMEOUT, "--timeout" },
	{ OPT_INTERVAL, SET_INTERVAL, "--interval" },
	{ OPT_EXPORT_TIMEOUT, SET_EXPORT_TIMEOUT, "--export-timeout" },
	{ OPT_SERVICE_NAME, SET_SERVICE_NAME, "--service-name" },
	{ OPT_RESOURCE_ATTRIBUTES, SET_RESOURCE_ATTRIBUTES, "--resource-attributes" },
	{ OPT_METRIC_NAME, SET_METRIC_NAME, "--metric-name" },
	{ OPT_METRIC_UNIT, SET_METRIC_UNIT, "--metric-unit" },
	{ OPT_METRIC_DESCRIPTION, SET_METRIC_DESCRIPTION, "--metric-description" },
	{ OPT_ATTRIBUTE_KEY, SET_ATTRIBUTE_KEY, "--attribute-key" },
	{ OPT_CERTIFICATE, SET_CERTIFICATE, "--certificate" },
	{ OPT_CLIENT_KEY, SET_CLIENT_KEY, "--client-key" },
	{ OPT_CLIENT_CERTIFICATE, SET_CLIENT_CERTIFICATE, "--client-certificate" },
};

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Export (flags override the OTEL_* variables):", 6 },
	{ "exporter", OPT_EXPORTER, "KIND", 0, "otlp, console or none (OTEL_METRICS_EXPORTER; default: otlp if an endpoint is set, else console)", 6 },
	{ "endpoint", OPT_ENDPOINT, "URL", 0, "OTLP/HTTP base URL, /v1/metrics appended (OTEL_EXPORTER_OTLP_ENDPOINT)", 6 },
	{ "metrics-endpoint", OPT_METRICS_ENDPOINT, "URL", 0, "Full metrics URL, used as is (OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)", 6 },
	{ "protocol", OPT_PROTOCOL, "PROTO", 0, "http/protobuf (default) or http/json (OTEL_EXPORTER_OTLP_PROTOCOL)", 6 },
	{ "header", OPT_HEADER, "KEY=VALUE", 0, "Extra request header, repeatable (OTEL_EXPORTER_OTLP_HEADERS)", 6 },
	{ "compression", OPT_COMPRESSION, "gzip|none", 0, "Request compression (OTEL_EXPORTER_OTLP_COMPRESSION)", 6 },
	{ "timeout", OPT_TIMEOUT, "DURATION", 0, "One request's timeout, default 10s (OTEL_EXPORTER_OTLP_TIMEOUT)", 6 },
	{ "interval", OPT_INTERVAL, "DURATION", 0, "Between exports, default 60s (OTEL_METRIC_EXPORT_INTERVAL)", 6 },
	{ "export-timeout", OPT_EXPORT_TIMEOUT, "DURATION", 0, "One export with its retries, default 30s (OTEL_METRIC_EXPORT_TIMEOUT)", 6 },
	{ "certificate", OPT_CERTIFICATE, "FILE", 0, "CA bundle for https (OTEL_EXPORTER_OTLP_CERTIFICATE)", 6 },
	{ "client-certificate", OPT_CLIENT_CERTIFICATE, "FILE", 0, "Client certificate (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)", 6 },
	{ "client-key", OPT_CLIENT_KEY, "FILE", 0, "Client key (OTEL_EXPORTER_OTLP_CLIENT_KEY)", 6 },
	{ "prometheus-address", OPT_PROMETHEUS, "HOST:PORT", 0, "Also serve GET /metrics there for Prometheus to scrape, the values of the last collection (INFLIGHT_PROMETHEUS_ADDRESS; off by default; alone, the console export is off; at the --health-address HOST:PORT, one port serves all three paths)", 6 },
	{ "config", OPT_CONFIG, "FILE", 0, "Several targets in one collector: a [target NAME] section each, holding the target options by long name (INFLIGHT_CONFIG; see the README)", 1 },
	{ NULL, 0, NULL, 0, "Restarts (the probes and counts outlive the collector):", 8 },
	{ "pin-dir", OPT_PIN_DIR, "DIR", 0, "bpffs directory for this target's state (INFLIGHT_PIN_DIR; default /sys/fs/bpf/inflight/<target hash>)", 8 },
	{ "no-pin", OPT_NO_PIN, NULL, 0, "Pin nothing: the probes detach when the collector exits", 8 },
	{ "user", OPT_USER, "USER", 0, "Once attached, run as USER (INFLIGHT_USER); every capability is dropped either way", 8 },
	{ "health-address", OPT_HEALTH, "HOST:PORT", 0, "Serve GET /healthz and /readyz there (INFLIGHT_HEALTH_ADDRESS; off by default: no listening socket; may be the --prometheus-address HOST:PORT)", 8 },
	{ NULL, 0, NULL, 0, "What is exported:", 7 },
	{ "k8s-attributes", OPT_K8S, NULL, 0, "A series per chain and container, with container.id, k8s.pod.uid, k8s.pod.name, k8s.namespace.name, k8s.container.name from the caller's cgroup and the kubelet's log links (INFLIGHT_K8S_ATTRIBUTES=true)", 7 },
	{ "cgroup-root", OPT_CGROUP_ROOT, "DIR", 0, "The host's cgroup v2 hierarchy (INFLIGHT_CGROUP_ROOT; default: where cgroup2 is mounted)", 7 },
	{ "k8s-log-dir", OPT_K8S_LOG_DIR, "DIR", 0, "The kubelet's container log links (INFLIGHT_K8S_LOG_DIR; default /var/log/containers)", 7 },
	{ "service-name", OPT_SERVICE_NAME, "NAME", 0, "service.name (OTEL_SERVICE_NAME; default unknown_service:inflight)", 7 },
	{ "resource-attributes", OPT_RESOURCE_ATTRIBUTES, "K=V,...", 0, "Resource attributes, percent-encoded (OTEL_RESOURCE_ATTRIBUTES)", 7 },
	{ "metric-name", OPT_METRIC_NAME, "NAME", 0, "Default conserver.vcons.inflight", 7 },
	{ "metric-unit", OPT_METRIC_UNIT, "UNIT", 0, "Default {vcon}", 7 },
	{ "metric-description", OPT_METRIC_DESCRIPTION, "TEXT", 0, "The metric's description", 7 },
	{ "attribute-key", OPT_ATTRIBUTE_KEY, "KEY", 0, "The chain's attribute key, default chain.name", 7 },
	{ 0 },
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct run_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->target;
		return 0;
	case ARGP_KEY_ARG:
		usage_error(state, "unexpected argument '%s'", arg);
	case OPT_PIN_DIR:
		if (arg[0] != '/')
			usage_error(state, "--pin-dir '%s': expected an absolute path on a bpf filesystem", arg);
		a->pin_dir = arg;
		return 0;
	case OPT_NO_PIN:
		a->no_pin = true;
		return 0;
	case OPT_USER:
		a->user = arg;
		return 0;
	case OPT_HEALTH:
		a->health = arg;
		return 0;
	case OPT_PROMETHEUS:
		a->prometheus = arg;
		return 0;
	case OPT_CONFIG:
		a->config = arg;
		return 0;
	case OPT_K8S:
		a->k8s = "true";
		return 0;
	case OPT_CGROUP_ROOT:
		a->cgroup_root = arg;
		return 0;
	case OPT_K8S_LOG_DIR:
		a->k8s_log_dir = arg;
		return 0;
	default:
		break;
	}
	for (size_t i = 0; i < ARRAY_SIZE(flag_map); i++) {
		if (flag_map[i].key != key)
			continue;
		if (a->nflags == MAX_FLAGS)
			usage_error(state, "too many export flags");
		a->flags[a->nflags++] = (struct flag_value){ flag_map[i].what, arg, flag_map[i].name };
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp_child children[] = {
	{ &target_argp, 0, NULL, 0 },
	{ 0 },
};

static const char doc[] =
	"Export the per-chain in-flight counts as an OpenTelemetry UpDownCounter.\n"
	"\n"
	"Examples:\n"
	"  OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318 OTEL_METRIC_EXPORT_INTERVAL=5000 \\\n"
	"    inflight run --binary /usr/bin/worker --func handle --chain '+0(%di):string'\n"
	"  inflight run --pid 4242 --func handle --chain-name jobs --interval 5s   # to the console\n"
	"\vThe metric is a cumulative, non-monotonic Sum of integers, one series per\n"
	"chain (attribute chain.name), the series past the chain cap marked\n"
	"otel.metric.overflow=true. The probes and counts are pinned in bpffs: a\n"
	"restarted collector (upgrade, crash) picks them up with nothing lost, and the\n"
	"series keep their start times; `inflight detach` removes them. SIGTERM or\n"
	"SIGINT: one last export, exit 0 (with --no-pin, the probes detach).\n"
	"Exit status: 0, or 2 on bad input or when the probes cannot be attached.";

static const struct argp argp = { options, parse_opt, NULL, doc, children, NULL, NULL };

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
	/* each target's gauge, then our own */
	struct otlp_metric metrics[CONFIG_MAX_TARGETS + SELF_METRICS_MAX];
	bool said_idle;
};

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

		if (!t->opt->cfg.by_cgroup)
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

/* Reads the maps and hands one export on; never waits on the network. */
static int collect_and_export(struct collector *c)
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
	size_t nm = 0, npoints = 0;
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
		if (observer_read(t->obs, &t->snap)) {
			log_error("%scannot read the counters: %s", t->where, strerror(errno));
			return -1;
		}
		if (series_points(&t->series, &t->snap,
				  t->attribute_key ? t->attribute_key : c->cfg.attribute_key, m,
				  series_start, t->obs))
			return -1;
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
		e.nmetrics = nm + n;
	}
	if (prom_server_publish(c->prom, &e)) {
		log_error("out of memory rendering the Prometheus metrics");
		return -1;
	}
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
		return -1;
	if (c->cfg.gzip) {
		if (gzipper_compress(&c->gz, &c->encoded, &c->compressed))
			return -1;
		log_debug("export: %zu series, %zu bytes, %zu gzipped", npoints,
			  c->encoded.len, c->compressed.len);
		exporter_submit(c->exporter, &c->compressed);
	} else {
		log_debug("export: %zu series, %zu bytes", npoints, c->encoded.len);
		exporter_submit(c->exporter, &c->encoded);
	}
	return 0;
}

static int setup_export(struct collector *c, const struct run_args *a)
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

static void collector_free(struct collector *c)
{
	run_targets_free(&c->targets);
	buf_free(&c->encoded);
	buf_free(&c->compressed);
	gzipper_free(&c->gz);
	free(c->resource_attrs);
	kv_list_free(&c->resource);
	export_config_free(&c->cfg);
}

int cmd_run(int argc, char **argv)
{
	static struct run_args a; /* large: keep it off the stack */
	struct collector c = { 0 };
	struct exporter_stats st = { 0 };
	struct ticker tick;
	char err[1024];
	int rc;

	argp_parse(&argp, argc, argv, 0, NULL, &a);
	if (!a.config) {
		const char *env = getenv("INFLIGHT_CONFIG");

		a.config = env && *env ? env : NULL;
	}
	if (!a.prometheus) {
		const char *env = getenv("INFLIGHT_PROMETHEUS_ADDRESS");

		a.prometheus = env && *env ? env : NULL;
	}
	if (!a.pin_dir) {
		const char *env = getenv("INFLIGHT_PIN_DIR");

		a.pin_dir = env && *env ? env : NULL;
	}
	if (a.config) {
		const char *given;

		rc = target_options_logging(&a.target);
		if (rc)
			goto out;
		given = target_options_any_given(&a.target);
		if (given) {
			log_error("--config %s: %s%s is given too: with a config file the targets come from it alone",
				  a.config, given[0] == 'I' ? "" : "--", given);
			rc = EXIT_USAGE;
			goto out;
		}
		if (a.pin_dir) {
			log_error("--config %s: --pin-dir (or INFLIGHT_PIN_DIR) names one target's directory: give pin-dir in each target instead",
				  a.config);
			rc = EXIT_USAGE;
			goto out;
		}
		rc = run_targets_from_file(&c.targets, a.config);
	} else {
		rc = target_options_finish(&a.target);
		if (!rc)
			rc = run_targets_from_cli(&c.targets, &a.target, a.pin_dir);
	}
	if (!rc)
		rc = setup_export(&c, &a);
	if (!rc)
		rc = run_targets_check_metrics(&c.targets, c.cfg.metric_name);
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
		const char *addr = a.health ? a.health : getenv("INFLIGHT_HEALTH_ADDRESS");

		if ((addr && *addr) || a.prometheus) {
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
	if (a.prometheus) {
		c.prom = prom_server_start(c.http, a.prometheus, err, sizeof(err));
		if (!c.prom) {
			log_error("%s", err);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	{
		const char *v = a.k8s ? a.k8s : getenv("INFLIGHT_K8S_ATTRIBUTES");
		bool k8s = false;

		if (v && *v && strcmp(v, "true") && strcmp(v, "false")) {
			log_error("INFLIGHT_K8S_ATTRIBUTES=%s: expected true or false", v);
			rc = EXIT_USAGE;
			goto out;
		}
		k8s = v && !strcmp(v, "true");
		if (run_targets_want_k8s(&c.targets, k8s)) {
			const char *root = a.cgroup_root ? a.cgroup_root : getenv("INFLIGHT_CGROUP_ROOT");
			const char *logs = a.k8s_log_dir ? a.k8s_log_dir : getenv("INFLIGHT_K8S_LOG_DIR");

			c.k8s = k8s_meta_new(root && *root ? root : NULL, logs && *logs ? logs : NULL);
			if (!c.k8s) {
				log_error("out of memory");
				rc = EXIT_RUNTIME;
				goto out;
			}
		}
		rc = run_targets_start(&c.targets, a.no_pin, k8s, c.k8s);
		if (rc)
			goto out;
	}
	for (size_t i = 0; i < c.targets.n; i++) {
		struct run_target *t = &c.targets.v[i];

		if (!t->opt->cfg.by_cgroup)
			continue;
		t->series.extra = series_k8s_attrs;
		t->series.extra_ctx = c.k8s;
	}
	for (size_t i = 0; i < c.targets.n; i++)
		c.obs[i] = c.targets.v[i].obs;
	/* Attached: reading the mapped counters and exporting need no capability. */
	{
		const char *user = a.user ? a.user : getenv("INFLIGHT_USER");
		uint64_t keep = run_targets_caps_to_keep(&c.targets);

		if ((user && *user && run_targets_share_pins(&c.targets, user, err, sizeof(err))) ||
		    privileges_drop(keep, user && *user ? user : NULL, err, sizeof(err))) {
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

	if (a.prometheus)
		log_info("serving Prometheus metrics at http://%s/metrics", a.prometheus);
	health_set_ready(c.health, true, NULL);
	ticker_start(&tick, c.cfg.interval_ms);
	for (;;) {
		struct timespec cpu0, cpu1;
		size_t series = 0;

		if (observers_wait_tick(c.obs, c.targets.n, &tick))
			break;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
		if (collect_and_export(&c)) {
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
	if (!rc && collect_and_export(&c))
		rc = EXIT_RUNTIME;
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
