// SPDX-License-Identifier: MIT
/*
 * `inflight run`: its options and variables, the targets they name (or a
 * --config file's), then the collector (run/collector.c), which exports
 * the counts as an OTLP UpDownCounter (cumulative Sum, not monotonic).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "export/export_config.h"
#include "run/collector.h"
#include "run/run_targets.h"
#include "run/target_options.h"
#include "util/array_size.h"
#include "util/errmsg.h"
#include "util/exit_code.h"
#include "util/log.h"
#include "util/usage_error.h"

#define MAX_FLAGS 64


struct run_args {
	struct target_options target;
	const char *config;
	const char *pin_dir;
	const char *user;
	const char *health;
	const char *prometheus;
	const char *k8s, *cgroup_root, *k8s_log_dir;
	bool no_pin;
	const char *handled; /* "false" for --no-handled */
	const char *duration; /* "false" for --no-duration */
	struct export_flag flags[MAX_FLAGS];
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
	OPT_NO_HANDLED,
	OPT_NO_DURATION,
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
	{ "no-handled", OPT_NO_HANDLED, NULL, 0, "Leave out NAME.handled, the calls each chain ended (a monotonic Sum beside each gauge; INFLIGHT_HANDLED=false)", 7 },
	{ "no-duration", OPT_NO_DURATION, NULL, 0, "Leave out NAME.duration, how long each chain's returned calls took (a Histogram in s beside each gauge; INFLIGHT_DURATION=false)", 7 },
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
	case OPT_NO_HANDLED:
		a->handled = "false";
		return 0;
	case OPT_NO_DURATION:
		a->duration = "false";
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
		a->flags[a->nflags++] = (struct export_flag){ flag_map[i].what, arg, flag_map[i].name };
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
	"otel.metric.overflow=true; beside it NAME.handled, a monotonic Sum of the\n"
	"calls each series saw end, and NAME.duration, a Histogram of how long its\n"
	"returned calls took, in s (neither for CPython targets). The probes and\n"
	"counts are pinned in bpffs: a restarted collector (upgrade, crash) picks them\n"
	"up with nothing lost, and the series keep their start times; `inflight\n"
	"detach` removes them. SIGTERM or SIGINT: one last export, exit 0 (with\n"
	"--no-pin, the probes detach).\n"
	"Exit status: 0, or 2 on bad input or when the probes cannot be attached.";

static const struct argp argp = { options, parse_opt, NULL, doc, children, NULL, NULL };

/* The flags and their INFLIGHT_* variables, as the collector takes them. 0, or -1 with `err`. */
static int settings_from(const struct run_args *a, struct collector_settings *s, char *err,
			 size_t errlen)
{
	const char *health = a->health ? a->health : getenv("INFLIGHT_HEALTH_ADDRESS");
	const char *user = a->user ? a->user : getenv("INFLIGHT_USER");
	const char *k8s = a->k8s ? a->k8s : getenv("INFLIGHT_K8S_ATTRIBUTES");
	const char *root = a->cgroup_root ? a->cgroup_root : getenv("INFLIGHT_CGROUP_ROOT");
	const char *logs = a->k8s_log_dir ? a->k8s_log_dir : getenv("INFLIGHT_K8S_LOG_DIR");
	const char *handled = a->handled ? a->handled : getenv("INFLIGHT_HANDLED");
	const char *duration = a->duration ? a->duration : getenv("INFLIGHT_DURATION");

	if (k8s && *k8s && strcmp(k8s, "true") && strcmp(k8s, "false"))
		return errmsg(err, errlen, "INFLIGHT_K8S_ATTRIBUTES=%s: expected true or false", k8s);
	if (handled && *handled && strcmp(handled, "true") && strcmp(handled, "false"))
		return errmsg(err, errlen, "INFLIGHT_HANDLED=%s: expected true or false", handled);
	if (duration && *duration && strcmp(duration, "true") && strcmp(duration, "false"))
		return errmsg(err, errlen, "INFLIGHT_DURATION=%s: expected true or false", duration);
	*s = (struct collector_settings){
		.flags = a->flags,
		.nflags = a->nflags,
		.health = health && *health ? health : NULL,
		.prometheus = a->prometheus,
		.user = user && *user ? user : NULL,
		.k8s = k8s && !strcmp(k8s, "true"),
		.cgroup_root = root && *root ? root : NULL,
		.k8s_log_dir = logs && *logs ? logs : NULL,
		.no_pin = a->no_pin,
		.no_handled = handled && !strcmp(handled, "false"),
		.no_duration = duration && !strcmp(duration, "false"),
	};
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static struct run_args a; /* large: keep it off the stack */
	struct run_targets targets = { 0 };
	struct collector_settings s = { 0 };
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

		if (target_options_logging(&a.target, err, sizeof(err))) {
			log_error("%s", err);
			rc = EXIT_USAGE;
			goto out;
		}
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
		rc = run_targets_from_file(&targets, a.config, err, sizeof(err));
		if (rc < 0) {
			if (err[0])
				log_error("%s", err);
			rc = rc == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
		}
	} else {
		rc = target_options_finish(&a.target);
		if (!rc && run_targets_from_cli(&targets, &a.target, a.pin_dir)) {
			log_error("out of memory");
			rc = EXIT_RUNTIME;
		}
	}
	if (rc)
		goto out;
	if (settings_from(&a, &s, err, sizeof(err))) {
		log_error("%s", err);
		rc = EXIT_USAGE;
		goto out;
	}
	return collector_run(&targets, &s);
out:
	run_targets_free(&targets);
	return rc;
}
