// SPDX-License-Identifier: MIT
/*
 * export_config: the OTEL_* variables as every OpenTelemetry exporter reads
 * them (the _METRICS_ forms over the generic ones), flags over variables,
 * and the key=value lists of headers and resource attributes. Every test
 * starts and ends with all the variables below unset, so nothing leaks
 * between tests or out of the process.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "export/export_config.h"

static const char *const all_vars[] = {
	"OTEL_SDK_DISABLED",
	"OTEL_METRICS_EXPORTER",
	"OTEL_EXPORTER_OTLP_ENDPOINT",
	"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
	"OTEL_EXPORTER_OTLP_HEADERS",
	"OTEL_EXPORTER_OTLP_METRICS_HEADERS",
	"OTEL_EXPORTER_OTLP_TIMEOUT",
	"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
	"OTEL_EXPORTER_OTLP_COMPRESSION",
	"OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
	"OTEL_EXPORTER_OTLP_PROTOCOL",
	"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
	"OTEL_EXPORTER_OTLP_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_CLIENT_KEY",
	"OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY",
	"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
	"OTEL_METRIC_EXPORT_INTERVAL",
	"OTEL_METRIC_EXPORT_TIMEOUT",
	"OTEL_RESOURCE_ATTRIBUTES",
	"OTEL_SERVICE_NAME",
};

static void unset_all(void)
{
	for (size_t i = 0; i < sizeof(all_vars) / sizeof(all_vars[0]); i++)
		unsetenv(all_vars[i]);
}

/* Each test gets a fresh config and a clean environment, and leaves one. */
static int setup(void **state)
{
	struct export_config *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	unset_all();
	export_config_init(c);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct export_config *c = *state;

	unset_all();
	export_config_free(c);
	free(c);
	return 0;
}

/* from_env with the error buffer pre-filled, so "no error" means untouched. */
static int from_env(struct export_config *c, char *err, size_t errlen)
{
	memset(err, 0, errlen);
	strcpy(err, "untouched");
	return export_config_from_env(c, err, errlen);
}

static void test_defaults(void **state)
{
	struct export_config *c = *state;

	assert_int_equal(c->exporter, EXPORTER_CONSOLE);
	assert_false(c->exporter_set);
	assert_int_equal(c->protocol, OTLP_HTTP_PROTOBUF);
	assert_null(c->url);
	assert_int_equal(c->headers.n, 0);
	assert_int_equal(c->timeout_ms, 10000);
	assert_false(c->gzip);
	assert_null(c->ca_file);
	assert_null(c->client_key);
	assert_null(c->client_cert);
	assert_int_equal(c->interval_ms, 60000);
	assert_int_equal(c->export_timeout_ms, 30000);
	assert_string_equal(c->metric_name, "conserver.vcons.inflight");
	assert_string_equal(c->metric_unit, "{vcon}");
	assert_string_equal(c->metric_description,
			    "Calls in flight in the worker's handle function, per chain");
	assert_string_equal(c->attribute_key, "chain.name");
	assert_null(c->service_name);
	assert_int_equal(c->resource.n, 0);
}

/* No variables at all: nothing changes, and finish picks the console. */
static void test_empty_env(void **state)
{
	struct export_config *c = *state;
	char err[256];

	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	assert_string_equal(err, "untouched");
	assert_null(c->url);
	assert_int_equal(c->timeout_ms, 10000);
	export_config_finish(c);
	assert_int_equal(c->exporter, EXPORTER_CONSOLE);
	assert_null(c->url);
}

/* The generic endpoint is a base URL: v1/metrics is appended, one slash between. */
static void test_endpoint_appends_path(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	assert_string_equal(c->url, "http://c:4318/v1/metrics");

	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	assert_string_equal(c->url, "http://c:4318/v1/metrics");

	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://gw.example/otlp/", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	assert_string_equal(c->url, "https://gw.example/otlp/v1/metrics");

	/* an endpoint makes otlp the default exporter */
	export_config_finish(c);
	assert_int_equal(c->exporter, EXPORTER_OTLP);
	assert_string_equal(c->url, "https://gw.example/otlp/v1/metrics");
}

/* The metrics endpoint is the full URL: used as is, over the generic one. */
static void test_metrics_endpoint_as_is(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:9999/custom/", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	assert_string_equal(c->url, "http://m:9999/custom/");
	export_config_finish(c);
	assert_int_equal(c->exporter, EXPORTER_OTLP);
	assert_string_equal(c->url, "http://m:9999/custom/");
}

static void test_endpoint_must_be_http(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "c:4318", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "OTEL_EXPORTER_OTLP_ENDPOINT=c:4318: expected an http:// or https:// URL");
	unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
	setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "grpc://m:4317", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=grpc://m:4317: expected an "
				 "http:// or https:// URL");
}

/* Each _METRICS_ form wins over its generic form, whatever the values. */
static void test_metrics_forms_override(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "5000", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "7000", 1);
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "a=1,shared=generic", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "b=2,shared=metrics", 1);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json", 1);
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "none", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "gzip", 1);
	setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", "/generic/ca.pem", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", "/metrics/ca.pem", 1);
	setenv("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/generic/key.pem", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", "/metrics/key.pem", 1);
	setenv("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/generic/cert.pem", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE", "/metrics/cert.pem", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	assert_int_equal(c->timeout_ms, 7000);
	/* the metrics list replaces the generic one, it does not merge */
	assert_int_equal(c->headers.n, 2);
	assert_string_equal(kv_list_get(&c->headers, "b"), "2");
	assert_string_equal(kv_list_get(&c->headers, "shared"), "metrics");
	assert_null(kv_list_get(&c->headers, "a"));
	assert_int_equal(c->protocol, OTLP_HTTP_JSON);
	assert_true(c->gzip);
	assert_string_equal(c->ca_file, "/metrics/ca.pem");
	assert_string_equal(c->client_key, "/metrics/key.pem");
	assert_string_equal(c->client_cert, "/metrics/cert.pem");
}

/* The same, values the other way round (a last-wins bug would pass one way only). */
static void test_metrics_forms_override_reversed(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "7000", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "5000", 1);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf", 1);
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	assert_int_equal(c->timeout_ms, 5000);
	assert_int_equal(c->protocol, OTLP_HTTP_PROTOBUF);
	assert_false(c->gzip);
}

/* Generic forms alone still apply. */
static void test_generic_forms_alone(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1234", 1);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
	setenv("OTEL_METRIC_EXPORT_INTERVAL", "5000", 1);
	setenv("OTEL_METRIC_EXPORT_TIMEOUT", "9000", 1);
	setenv("OTEL_SERVICE_NAME", "checkout", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	assert_int_equal(c->timeout_ms, 1234);
	assert_int_equal(c->protocol, OTLP_HTTP_JSON);
	assert_true(c->gzip);
	assert_int_equal(c->interval_ms, 5000);
	assert_int_equal(c->export_timeout_ms, 9000);
	assert_string_equal(c->service_name, "checkout");
}

/* Headers are percent-decoded and trimmed around keys and values. */
static void test_headers_decoded_and_trimmed(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_EXPORTER_OTLP_HEADERS", "a=b%20c, d = e", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	assert_int_equal(c->headers.n, 2);
	assert_string_equal(c->headers.v[0].key, "a");
	assert_string_equal(c->headers.v[0].value, "b c");
	assert_string_equal(c->headers.v[1].key, "d");
	assert_string_equal(c->headers.v[1].value, "e");
}

static void test_bad_headers_error(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_EXPORTER_OTLP_HEADERS", "a=1,nokey", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	/* headers hold credentials: the message must not echo them */
	assert_string_equal(err, "OTEL_EXPORTER_OTLP_HEADERS: expected key=value,key2=value2, "
				 "percent-encoded (value not shown: it may hold credentials)");
	assert_int_equal(c->headers.n, 0);
}

static void test_protocol(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc: gRPC is not supported: expected "
				 "http/protobuf or http/json");
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/xml", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "OTEL_EXPORTER_OTLP_PROTOCOL=http/xml: expected http/protobuf or http/json");
	unsetenv("OTEL_EXPORTER_OTLP_PROTOCOL");
	setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"));
	setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	assert_int_equal(c->protocol, OTLP_HTTP_JSON);
}

static void test_compression_invalid(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "OTEL_EXPORTER_OTLP_COMPRESSION=zstd: expected gzip or none");
}

/* Durations from variables are plain positive milliseconds, per the spec. */
static void test_interval_and_timeouts(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_METRIC_EXPORT_INTERVAL", "abc", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "OTEL_METRIC_EXPORT_INTERVAL=abc: expected milliseconds, a positive integer");
	assert_int_equal(c->interval_ms, 60000);

	/* a variable does not take units */
	setenv("OTEL_METRIC_EXPORT_INTERVAL", "5s", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "OTEL_METRIC_EXPORT_INTERVAL=5s: expected milliseconds, a positive integer");
	setenv("OTEL_METRIC_EXPORT_INTERVAL", "0", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	setenv("OTEL_METRIC_EXPORT_INTERVAL", "-5", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	unsetenv("OTEL_METRIC_EXPORT_INTERVAL");

	setenv("OTEL_METRIC_EXPORT_TIMEOUT", "x", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "OTEL_METRIC_EXPORT_TIMEOUT=x: expected milliseconds, a positive integer");
	unsetenv("OTEL_METRIC_EXPORT_TIMEOUT");

	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2s", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "OTEL_EXPORTER_OTLP_TIMEOUT=2s: expected milliseconds, a positive integer");
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "250", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	assert_int_equal(c->timeout_ms, 250);
}

/* An empty variable is as good as unset: no error, no change. */
static void test_empty_variables_ignored(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "", 1);
	setenv("OTEL_METRIC_EXPORT_INTERVAL", "", 1);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "", 1);
	setenv("OTEL_SERVICE_NAME", "", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	assert_int_equal(c->protocol, OTLP_HTTP_PROTOBUF);
	assert_int_equal(c->interval_ms, 60000);
	assert_null(c->url);
	assert_null(c->service_name);
}

static void test_metrics_exporter(void **state)
{
	static const struct {
		const char *value;
		enum exporter_kind kind;
	} v[] = {
		{ "console", EXPORTER_CONSOLE },
		{ "none", EXPORTER_NONE },
		{ "otlp", EXPORTER_OTLP },
	};
	struct export_config *c = *state;
	char err[256];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		setenv("OTEL_METRICS_EXPORTER", v[i].value, 1);
		assert_int_equal(from_env(c, err, sizeof(err)), 0);
		assert_int_equal(c->exporter, v[i].kind);
		assert_true(c->exporter_set);
	}
	setenv("OTEL_METRICS_EXPORTER", "prometheus", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "OTEL_METRICS_EXPORTER=prometheus: expected otlp, console or none");
}

/* finish(): the exporter follows the endpoint unless chosen explicitly. */
static void test_finish_defaults(void **state)
{
	struct export_config *c = *state;
	char err[256];

	/* exporter otlp, no endpoint: the spec's default URL */
	setenv("OTEL_METRICS_EXPORTER", "otlp", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	export_config_finish(c);
	assert_int_equal(c->exporter, EXPORTER_OTLP);
	assert_string_equal(c->url, "http://localhost:4318/v1/metrics");
	/* idempotent */
	export_config_finish(c);
	assert_string_equal(c->url, "http://localhost:4318/v1/metrics");
}

static void test_finish_explicit_exporter_beats_endpoint(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318", 1);
	setenv("OTEL_METRICS_EXPORTER", "console", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	export_config_finish(c);
	assert_int_equal(c->exporter, EXPORTER_CONSOLE);

	setenv("OTEL_METRICS_EXPORTER", "none", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	export_config_finish(c);
	assert_int_equal(c->exporter, EXPORTER_NONE);
}

static void test_sdk_disabled(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_SDK_DISABLED", "true", 1);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	export_config_finish(c);
	assert_int_equal(c->exporter, EXPORTER_NONE);

	export_config_free(c);
	export_config_init(c);
	setenv("OTEL_SDK_DISABLED", "TRUE", 1); /* booleans are case-insensitive */
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	export_config_finish(c);
	assert_int_equal(c->exporter, EXPORTER_NONE);

	export_config_free(c);
	export_config_init(c);
	setenv("OTEL_SDK_DISABLED", "false", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	export_config_finish(c);
	assert_int_equal(c->exporter, EXPORTER_OTLP);
}

/*
 * OTEL_SDK_DISABLED=true disables the SDK for all signals (spec: "a no-op
 * SDK implementation will be used"), so an exporter variable must not turn
 * exporting back on.
 */
static void test_sdk_disabled_beats_metrics_exporter(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_SDK_DISABLED", "true", 1);
	setenv("OTEL_METRICS_EXPORTER", "otlp", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	export_config_finish(c);
	assert_int_equal(c->exporter, EXPORTER_NONE);
}

/*
 * Runs from_env with stderr captured; returns what was written (malloc'd).
 * Used to see the warning for a discarded OTEL_RESOURCE_ATTRIBUTES.
 */
static char *from_env_capturing_stderr(struct export_config *c, char *err, size_t errlen, int *rc)
{
	FILE *tmp = tmpfile();
	int saved;
	long n;
	char *out;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	*rc = from_env(c, err, errlen);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	n = (long)lseek(fileno(tmp), 0, SEEK_END); /* fd 2 shared the file */
	assert_true(n >= 0);
	out = calloc(1, (size_t)n + 1);
	assert_non_null(out);
	assert_int_equal(pread(fileno(tmp), out, (size_t)n, 0), n);
	fclose(tmp);
	return out;
}

/* The spec: a malformed OTEL_RESOURCE_ATTRIBUTES is discarded whole, with a warning, not an error. */
static void test_resource_attributes_malformed_ignored(void **state)
{
	struct export_config *c = *state;
	char err[256], *logged;
	int rc;

	setenv("OTEL_RESOURCE_ATTRIBUTES", "a=b,broken", 1);
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1500", 1); /* later variables still apply */
	setenv("OTEL_SERVICE_NAME", "svc", 1);
	logged = from_env_capturing_stderr(c, err, sizeof(err), &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(err, "untouched");
	assert_int_equal(c->resource.n, 0); /* not even a=b */
	assert_int_equal(c->timeout_ms, 1500);
	assert_string_equal(c->service_name, "svc");
	assert_non_null(strstr(logged, "warning"));
	assert_non_null(strstr(logged, "OTEL_RESOURCE_ATTRIBUTES ignored"));
	assert_non_null(strstr(logged, "'broken' is not key=value"));
	free(logged);
}

static void test_resource_attributes_parsed(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=x, deployment.environment = prod ,note=a%2Cb", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);
	assert_int_equal(c->resource.n, 3);
	assert_string_equal(kv_list_get(&c->resource, "service.name"), "x");
	assert_string_equal(kv_list_get(&c->resource, "deployment.environment"), "prod");
	assert_string_equal(kv_list_get(&c->resource, "note"), "a,b");
	assert_null(c->service_name); /* only OTEL_SERVICE_NAME sets that */
}

static void set_ok(struct export_config *c, enum export_setting what, const char *value, const char *source)
{
	char err[256] = "";

	assert_int_equal(export_config_set(c, what, value, source, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void set_fails(struct export_config *c, enum export_setting what, const char *value,
		      const char *source, const char *expected_err)
{
	char err[256] = "";

	assert_int_equal(export_config_set(c, what, value, source, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, expected_err);
}

/* Flags take durations with units; the same settings from variables take plain ms. */
static void test_flag_durations(void **state)
{
	struct export_config *c = *state;

	set_ok(c, SET_TIMEOUT, "2s", "--timeout");
	assert_int_equal(c->timeout_ms, 2000);
	set_ok(c, SET_TIMEOUT, "500ms", "--timeout");
	assert_int_equal(c->timeout_ms, 500);
	set_ok(c, SET_INTERVAL, "1m", "--interval");
	assert_int_equal(c->interval_ms, 60000);
	set_ok(c, SET_EXPORT_TIMEOUT, "30s", "--export-timeout");
	assert_int_equal(c->export_timeout_ms, 30000);
	set_fails(c, SET_TIMEOUT, "abc", "--timeout", "--timeout 'abc': expected a duration such as 10s");
	set_fails(c, SET_INTERVAL, "-1s", "--interval", "--interval '-1s': expected a duration such as 5s");
	assert_int_equal(c->interval_ms, 60000);

	set_ok(c, SET_TIMEOUT, "2000", "OTEL_EXPORTER_OTLP_TIMEOUT");
	assert_int_equal(c->timeout_ms, 2000);
	set_fails(c, SET_TIMEOUT, "2s", "OTEL_EXPORTER_OTLP_TIMEOUT",
		  "OTEL_EXPORTER_OTLP_TIMEOUT=2s: expected milliseconds, a positive integer");
}

/* Flags applied after the variables win over them. */
static void test_flags_override_env(void **state)
{
	struct export_config *c = *state;
	char err[256];

	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "5000", 1);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318", 1);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "a=env", 1);
	setenv("OTEL_RESOURCE_ATTRIBUTES", "k=env,keep=1", 1);
	setenv("OTEL_SERVICE_NAME", "env-svc", 1);
	setenv("OTEL_METRICS_EXPORTER", "none", 1);
	assert_int_equal(from_env(c, err, sizeof(err)), 0);

	set_ok(c, SET_TIMEOUT, "2s", "--timeout");
	set_ok(c, SET_ENDPOINT, "http://flag:4318/", "--endpoint");
	set_ok(c, SET_PROTOCOL, "http/protobuf", "--protocol");
	set_ok(c, SET_HEADER, "a=flag", "--header");
	set_ok(c, SET_HEADER, "b=%20x", "--header");
	set_ok(c, SET_RESOURCE_ATTRIBUTES, "k=flag", "--resource-attributes");
	set_ok(c, SET_SERVICE_NAME, "flag-svc", "--service-name");
	set_ok(c, SET_EXPORTER, "otlp", "--exporter");
	export_config_finish(c);

	assert_int_equal(c->timeout_ms, 2000);
	assert_string_equal(c->url, "http://flag:4318/v1/metrics");
	assert_int_equal(c->protocol, OTLP_HTTP_PROTOBUF);
	assert_int_equal(c->headers.n, 2);
	assert_string_equal(kv_list_get(&c->headers, "a"), "flag");
	/* trimmed before decoding: an encoded space is kept */
	assert_string_equal(kv_list_get(&c->headers, "b"), " x");
	assert_int_equal(c->resource.n, 2); /* merged: k replaced, keep kept */
	assert_string_equal(kv_list_get(&c->resource, "k"), "flag");
	assert_string_equal(kv_list_get(&c->resource, "keep"), "1");
	assert_string_equal(c->service_name, "flag-svc");
	assert_int_equal(c->exporter, EXPORTER_OTLP);
}

/* Flag errors name the flag; unlike the variable, bad resource attributes are an error. */
static void test_flag_errors(void **state)
{
	struct export_config *c = *state;

	set_fails(c, SET_HEADER, "x=1,y=2", "--header", "--header: expected one key=value (value not shown: it may hold credentials)");
	set_fails(c, SET_HEADER, "", "--header", "--header: expected one key=value (value not shown: it may hold credentials)");
	set_fails(c, SET_RESOURCE_ATTRIBUTES, "a=b,broken", "--resource-attributes",
		  "--resource-attributes 'a=b,broken': 'broken' is not key=value (expected "
		  "key=value,key2=value2, percent-encoded)");
	assert_int_equal(c->resource.n, 0);
	set_fails(c, SET_ENDPOINT, "localhost:4318", "--endpoint",
		  "--endpoint 'localhost:4318': expected an http:// or https:// URL");
	set_fails(c, SET_SERVICE_NAME, "", "--service-name", "--service-name '': expected a service name");
	set_fails(c, SET_METRIC_NAME, "", "--metric-name", "--metric-name '': expected a metric name");
	set_fails(c, SET_ATTRIBUTE_KEY, "", "--attribute-key", "--attribute-key '': expected an attribute key");
	assert_int_equal(c->headers.n, 0);
	assert_null(c->url);
	assert_string_equal(c->metric_name, "conserver.vcons.inflight");
}

static void test_metric_settings(void **state)
{
	struct export_config *c = *state;

	set_ok(c, SET_METRIC_NAME, "my.inflight", "--metric-name");
	set_ok(c, SET_METRIC_UNIT, "", "--metric-unit"); /* an empty unit is allowed */
	set_ok(c, SET_METRIC_DESCRIPTION, "desc", "--metric-description");
	set_ok(c, SET_ATTRIBUTE_KEY, "route", "--attribute-key");
	assert_string_equal(c->metric_name, "my.inflight");
	assert_string_equal(c->metric_unit, "");
	assert_string_equal(c->metric_description, "desc");
	assert_string_equal(c->attribute_key, "route");
}

/* kv_list_parse into a list pre-filled with one entry, to see replacement or preservation. */
static int parse_kv(const char *s, struct kv_list *l, char *err, size_t errlen)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(kv_list_set(l, "old", "entry"), 0);
	memset(err, 0, errlen);
	return kv_list_parse(s, l, err, errlen);
}

static void test_kv_list_parse_ok(void **state)
{
	struct kv_list l;
	char err[256];

	(void)state;
	assert_int_equal(parse_kv("", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0); /* the old content is replaced */
	kv_list_free(&l);

	assert_int_equal(parse_kv("k=v", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].key, "k");
	assert_string_equal(l.v[0].value, "v");
	kv_list_free(&l);

	assert_int_equal(parse_kv("k=", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].key, "k");
	assert_string_equal(l.v[0].value, "");
	kv_list_free(&l);

	assert_int_equal(parse_kv("%41=%42", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].key, "A");
	assert_string_equal(l.v[0].value, "B");
	kv_list_free(&l);

	/* duplicate keys: the last wins, in the first one's place */
	assert_int_equal(parse_kv("k=1,j=x,k=2", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].key, "k");
	assert_string_equal(l.v[0].value, "2");
	assert_string_equal(l.v[1].key, "j");
	kv_list_free(&l);

	/* only the first '=' splits; encoded separators and lowercase hex decode */
	assert_int_equal(parse_kv("k=v=w,a%3db=c%2cd%2F", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(kv_list_get(&l, "k"), "v=w");
	assert_string_equal(kv_list_get(&l, "a=b"), "c,d/");
	kv_list_free(&l);

	/* empty entries (doubled or trailing commas) are skipped */
	assert_int_equal(parse_kv(",a=1,,b=2,", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(kv_list_get(&l, "a"), "1");
	assert_string_equal(kv_list_get(&l, "b"), "2");
	kv_list_free(&l);

	/* whitespace trimmed, inner spaces kept */
	assert_int_equal(parse_kv("  key one  =  v a l  ", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].key, "key one");
	assert_string_equal(l.v[0].value, "v a l");
	kv_list_free(&l);
}

/* Errors leave `out` as it was and explain which entry is wrong. */
static void test_kv_list_parse_errors(void **state)
{
	static const struct {
		const char *in, *err;
	} bad[] = {
		{ "=v", "'=v': empty key" },
		{ " =v", "' =v': empty key" },
		{ "k", "'k' is not key=value" },
		{ "a=1,k", "'k' is not key=value" },
		{ "%zz", "'%zz' is not key=value" },
		{ "k=%zz", "'k=%zz': bad percent-encoding" },
		{ "%zz=v", "'%zz=v': bad percent-encoding" },
		{ "k=%4", "'k=%4': bad percent-encoding" },
		{ "k=50%", "'k=50%': bad percent-encoding" },
	};
	struct kv_list l;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_kv(bad[i].in, &l, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].err);
		assert_int_equal(l.n, 1);
		assert_string_equal(l.v[0].key, "old");
		assert_string_equal(l.v[0].value, "entry");
		kv_list_free(&l);
	}
}

static void test_kv_list_set_get(void **state)
{
	struct kv_list l = { 0 };

	(void)state;
	assert_null(kv_list_get(&l, "a"));
	assert_int_equal(kv_list_set(&l, "a", "1"), 0);
	assert_int_equal(kv_list_set(&l, "b", "2"), 0);
	assert_int_equal(kv_list_set(&l, "a", "3"), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(kv_list_get(&l, "a"), "3");
	assert_string_equal(kv_list_get(&l, "b"), "2");
	assert_null(kv_list_get(&l, "A")); /* keys are case-sensitive */
	kv_list_free(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	kv_list_free(&l); /* twice is harmless */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_empty_env),
		T(test_endpoint_appends_path),
		T(test_metrics_endpoint_as_is),
		T(test_endpoint_must_be_http),
		T(test_metrics_forms_override),
		T(test_metrics_forms_override_reversed),
		T(test_generic_forms_alone),
		T(test_headers_decoded_and_trimmed),
		T(test_bad_headers_error),
		T(test_protocol),
		T(test_compression_invalid),
		T(test_interval_and_timeouts),
		T(test_empty_variables_ignored),
		T(test_metrics_exporter),
		T(test_finish_defaults),
		T(test_finish_explicit_exporter_beats_endpoint),
		T(test_sdk_disabled),
		T(test_sdk_disabled_beats_metrics_exporter),
		T(test_resource_attributes_malformed_ignored),
		T(test_resource_attributes_parsed),
		T(test_flag_durations),
		T(test_flags_override_env),
		T(test_flag_errors),
		T(test_metric_settings),
		T(test_kv_list_parse_ok),
		T(test_kv_list_parse_errors),
		T(test_kv_list_set_get),
	};

	return cmocka_run_group_tests_name("export_config: OTEL_* variables, flags, key=value lists",
					   tests, NULL, NULL);
}
