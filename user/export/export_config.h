/* SPDX-License-Identifier: MIT */
/*
 * Exporter settings, configured as every OpenTelemetry exporter is: the
 * standard OTEL_* variables (the _METRICS_ forms over the generic ones),
 * then command-line flags over both. Invalid values are errors that name
 * the variable or flag.
 */
#ifndef INFLIGHT_EXPORT_CONFIG_H
#define INFLIGHT_EXPORT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum exporter_kind { EXPORTER_CONSOLE, EXPORTER_OTLP, EXPORTER_NONE };
enum otlp_protocol { OTLP_HTTP_PROTOBUF, OTLP_HTTP_JSON };

struct kv {
	char *key;
	char *value;
};

struct kv_list {
	struct kv *v;
	size_t n;
};

struct export_config {
	enum exporter_kind exporter;
	bool exporter_set;      /* chosen explicitly (else: otlp iff an endpoint is set) */
	bool sdk_disabled;      /* OTEL_SDK_DISABLED=true: no exporter, whatever else says */
	enum otlp_protocol protocol;
	char *url;              /* the full metrics URL */
	struct kv_list headers;
	uint64_t timeout_ms;    /* one HTTP request */
	bool gzip;
	char *ca_file, *client_key, *client_cert;
	uint64_t interval_ms;   /* between exports */
	uint64_t export_timeout_ms; /* one export, retries included */
	/* what is exported */
	char *metric_name, *metric_unit, *metric_description, *attribute_key;
	char *service_name;     /* OTEL_SERVICE_NAME or --service-name */
	struct kv_list resource; /* OTEL_RESOURCE_ATTRIBUTES, then --resource-attributes */
};

/* Settings, each settable from a variable and a flag. */
enum export_setting {
	SET_ENDPOINT,          /* base URL: v1/metrics is appended */
	SET_METRICS_ENDPOINT,  /* used as is */
	SET_HEADERS,           /* k=v,k2=v2, percent-decoded */
	SET_HEADER,            /* one k=v (flag, repeatable) */
	SET_TIMEOUT,
	SET_COMPRESSION,
	SET_PROTOCOL,
	SET_CERTIFICATE,
	SET_CLIENT_KEY,
	SET_CLIENT_CERTIFICATE,
	SET_INTERVAL,
	SET_EXPORT_TIMEOUT,
	SET_EXPORTER,
	SET_SDK_DISABLED,
	SET_SERVICE_NAME,
	SET_RESOURCE_ATTRIBUTES,
	SET_METRIC_NAME,
	SET_METRIC_UNIT,
	SET_METRIC_DESCRIPTION,
	SET_ATTRIBUTE_KEY,
};

void export_config_init(struct export_config *c);
void export_config_free(struct export_config *c);

/*
 * Applies one setting. `source` names where it came from ("--timeout",
 * "OTEL_EXPORTER_OTLP_TIMEOUT") for messages; durations from flags take
 * units (500ms, 2s), from variables plain milliseconds, as the spec says.
 * Returns 0, or -EINVAL (-ENOMEM) with `err` naming the source and what was
 * expected.
 */
int export_config_set(struct export_config *c, enum export_setting what, const char *value,
		      const char *source, char *err, size_t errlen);

/* Reads every OTEL_* variable that applies, generic ones first; as export_config_set. */
int export_config_from_env(struct export_config *c, char *err, size_t errlen);

/* Fills in what depends on the rest (the default exporter and URL). */
void export_config_finish(struct export_config *c);

/*
 * Parses "k1=v1,k2=v2" with percent-decoding (OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_EXPORTER_OTLP_HEADERS). Returns 0, or -EINVAL (-ENOMEM) with the
 * reason in `err`; on error `out` is left unchanged.
 */
int kv_list_parse(const char *s, struct kv_list *out, char *err, size_t errlen);
/* Sets key to value, replacing an existing entry. 0 or -ENOMEM. */
int kv_list_set(struct kv_list *l, const char *key, const char *value);
const char *kv_list_get(const struct kv_list *l, const char *key);
void kv_list_free(struct kv_list *l);

#endif
