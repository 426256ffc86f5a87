// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/parse_number.h"
#include "export/export_config.h"
#include "util/log.h"
#include "util/array_size.h"

void export_config_init(struct export_config *c)
{
	memset(c, 0, sizeof(*c));
	c->exporter = EXPORTER_CONSOLE;
	c->protocol = OTLP_HTTP_PROTOBUF;
	c->timeout_ms = 10000;
	c->interval_ms = 60000;
	c->export_timeout_ms = 30000;
	c->metric_name = strdup("conserver.vcons.inflight");
	c->metric_unit = strdup("{vcon}");
	c->metric_description = strdup("Calls in flight in the worker's handle function, per chain");
	c->attribute_key = strdup("chain.name");
}

void kv_list_free(struct kv_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void export_config_free(struct export_config *c)
{
	free(c->url);
	kv_list_free(&c->headers);
	free(c->ca_file);
	free(c->client_key);
	free(c->client_cert);
	free(c->metric_name);
	free(c->metric_unit);
	free(c->metric_description);
	free(c->attribute_key);
	free(c->service_name);
	kv_list_free(&c->resource);
	memset(c, 0, sizeof(*c));
}

int kv_list_set(struct kv_list *l, const char *key, const char *value)
{
	struct kv *grown;
	char *v = strdup(value), *k;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		if (!strcmp(l->v[i].key, key)) {
			free(l->v[i].value);
			l->v[i].value = v;
			return 0;
		}
	}
	k = strdup(key);
	grown = k ? realloc(l->v, (l->n + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	l->v = grown;
	l->v[l->n].key = k;
	l->v[l->n].value = v;
	l->n++;
	return 0;
}

const char *kv_list_get(const struct kv_list *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			return l->v[i].value;
	return NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Trims, then decodes %XX in s[0..n) into a new string; NULL if malformed. */
static char *decode_part(const char *s, size_t n)
{
	char *out, *o;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

int kv_list_parse(const char *s, struct kv_list *out, char *err, size_t errlen)
{
	struct kv_list l = { 0 };
	const char *p = s;
	int rc = -EINVAL;

	while (*p) {
		const char *end = strchr(p, ','), *eq;
		size_t len;
		char *k = NULL, *v = NULL;

		if (!end)
			end = p + strlen(p);
		len = (size_t)(end - p);
		eq = memchr(p, '=', len);
		if (len && !eq) {
			snprintf(err, errlen, "'%.*s' is not key=value", (int)len, p);
			goto fail;
		}
		if (len) {
			k = decode_part(p, (size_t)(eq - p));
			v = decode_part(eq + 1, (size_t)(end - eq - 1));
			if (!k || !v || !*k) {
				snprintf(err, errlen, "'%.*s': %s", (int)len, p,
					 !k || !v ? "bad percent-encoding" : "empty key");
				free(k);
				free(v);
				goto fail;
			}
			if (kv_list_set(&l, k, v)) {
				snprintf(err, errlen, "out of memory");
				rc = -ENOMEM;
				free(k);
				free(v);
				goto fail;
			}
			free(k);
			free(v);
		}
		p = *end ? end + 1 : end;
	}
	kv_list_free(out);
	*out = l;
	return 0;
fail:
	kv_list_free(&l);
	return rc;
}

static int set_string(char **dst, const char *value)
{
	char *v = strdup(value);

	if (!v)
		return -ENOMEM;
	free(*dst);
	*dst = v;
	return 0;
}

/* Variables give plain milliseconds; flags give durations with units. */
static int parse_ms(const char *value, bool flag, uint64_t *out)
{
	uint32_t v;
	int rc;

	if (flag)
		return parse_duration_ms(value, out);
	rc = parse_u32(value, 1, UINT32_MAX, &v);
	if (rc)
		return rc;
	*out = v;
	return 0;
}

static bool is_flag(const char *source)
{
	return source[0] == '-';
}

int export_config_set(struct export_config *c, enum export_setting what, const char *value,
		      const char *source, char *err, size_t errlen)
{
	bool flag = is_flag(source);
	/* headers carry API keys and bearer tokens: never echo them */
	bool secret = what == SET_HEADERS || what == SET_HEADER;
	char why[256];
	uint64_t ms;

/* the message in err, and -e */
#define BAD_E(e, ...)                                                               \
	do {                                                                        \
		char _m[512];                                                       \
		snprintf(_m, sizeof(_m), __VA_ARGS__);                              \
		if (secret)                                                         \
			snprintf(err, errlen, "%s: %s (value not shown: it may hold credentials)", \
				 source, _m);                                       \
		else if (flag)                                                      \
			snprintf(err, errlen, "%s '%s': %s", source, value, _m);    \
		else                                                                \
			snprintf(err, errlen, "%s=%s: %s", source, value, _m);      \
		return -(e);                                                        \
	} while (0)
#define BAD(...) BAD_E(EINVAL, __VA_ARGS__)

	switch (what) {
	case SET_ENDPOINT: {
		size_t n = strlen(value);
		char *url;

		if (strncmp(value, "http://", 7) && strncmp(value, "https://", 8))
			BAD("expected an http:// or https:// URL");
		url = malloc(n + sizeof("/v1/metrics"));
		if (!url)
			BAD_E(ENOMEM, "out of memory");
		/* the base URL's path gets v1/metrics appended, one slash between */
		snprintf(url, n + sizeof("/v1/metrics"), "%.*s/v1/metrics",
			 (int)(n && value[n - 1] == '/' ? n - 1 : n), value);
		free(c->url);
		c->url = url;
		break;
	}
	case SET_METRICS_ENDPOINT:
		if (strncmp(value, "http://", 7) && strncmp(value, "https://", 8))
			BAD("expected an http:// or https:// URL");
		set_string(&c->url, value);
		break;
	case SET_HEADERS:
		/* the parser's reason quotes the bad pair: not shown either */
		if (kv_list_parse(value, &c->headers, why, sizeof(why)))
			BAD("expected key=value,key2=value2, percent-encoded");
		break;
	case SET_HEADER: {
		struct kv_list one = { 0 };

		if (kv_list_parse(value, &one, why, sizeof(why)) || one.n != 1) {
			kv_list_free(&one);
			BAD("expected one key=value");
		}
		kv_list_set(&c->headers, one.v[0].key, one.v[0].value);
		kv_list_free(&one);
		break;
	}
	case SET_TIMEOUT:
		if (parse_ms(value, flag, &ms))
			BAD("expected %s", flag ? "a duration such as 10s" : "milliseconds, a positive integer");
		c->timeout_ms = ms;
		break;
	case SET_INTERVAL:
		if (parse_ms(value, flag, &ms))
			BAD("expected %s", flag ? "a duration such as 5s" : "milliseconds, a positive integer");
		c->interval_ms = ms;
		break;
	case SET_EXPORT_TIMEOUT:
		if (parse_ms(value, flag, &ms))
			BAD("expected %s", flag ? "a duration such as 30s" : "milliseconds, a positive integer");
		c->export_timeout_ms = ms;
		break;
	case SET_COMPRESSION:
		if (!strcmp(value, "gzip"))
			c->gzip = true;
		else if (!strcmp(value, "none"))
			c->gzip = false;
		else
			BAD("expected gzip or none");
		break;
	case SET_PROTOCOL:
		if (!strcmp(value, "http/protobuf"))
			c->protocol = OTLP_HTTP_PROTOBUF;
		else if (!strcmp(value, "http/json"))
			c->protocol = OTLP_HTTP_JSON;
		else if (!strcmp(value, "grpc"))
			BAD("gRPC is not supported: expected http/protobuf or http/json");
		else
			BAD("expected http/protobuf or http/json");
		break;
	case SET_CERTIFICATE:
		set_string(&c->ca_file, value);
		break;
	case SET_CLIENT_KEY:
		set_string(&c->client_key, value);
		break;
	case SET_CLIENT_CERTIFICATE:
		set_string(&c->client_cert, value);
		break;
	case SET_EXPORTER:
		if (!strcmp(value, "otlp"))
			c->exporter = EXPORTER_OTLP;
		else if (!strcmp(value, "console"))
			c->exporter = EXPORTER_CONSOLE;
		else if (!strcmp(value, "none"))
			c->exporter = EXPORTER_NONE;
		else
			BAD("expected otlp, console or none");
		c->exporter_set = true;
		break;
	case SET_SDK_DISABLED:
		if (!strcasecmp(value, "true"))
			c->sdk_disabled = true;
		else if (!strcasecmp(value, "false") || !*value)
			c->sdk_disabled = false;
		else
			BAD("expected true or false");
		break;
	case SET_SERVICE_NAME:
		if (!*value)
			BAD("expected a service name");
		set_string(&c->service_name, value);
		break;
	case SET_RESOURCE_ATTRIBUTES: {
		struct kv_list parsed = { 0 };

		if (kv_list_parse(value, &parsed, why, sizeof(why))) {
			/* the spec: a malformed value is discarded whole, with a warning */
			if (!flag) {
				log_warn("%s ignored: %s (expected key=value,key2=value2, percent-encoded)",
					 source, why);
				break;
			}
			BAD("%s (expected key=value,key2=value2, percent-encoded)", why);
		}
		for (size_t i = 0; i < parsed.n; i++)
			kv_list_set(&c->resource, parsed.v[i].key, parsed.v[i].value);
		kv_list_free(&parsed);
		break;
	}
	case SET_METRIC_NAME:
		if (!*value)
			BAD("expected a metric name");
		set_string(&c->metric_name, value);
		break;
	case SET_METRIC_UNIT:
		set_string(&c->metric_unit, value);
		break;
	case SET_METRIC_DESCRIPTION:
		set_string(&c->metric_description, value);
		break;
	case SET_ATTRIBUTE_KEY:
		if (!*value)
			BAD("expected an attribute key");
		set_string(&c->attribute_key, value);
		break;
	}
#undef BAD
#undef BAD_E
	return 0;
}

int export_config_from_env(struct export_config *c, char *err, size_t errlen)
{
	/* generic forms first, so the _METRICS_ forms override them */
	static const struct {
		const char *name;
		enum export_setting what;
	} vars[] = {
		{ "OTEL_SDK_DISABLED", SET_SDK_DISABLED },
		{ "OTEL_METRICS_EXPORTER", SET_EXPORTER },
		{ "OTEL_EXPORTER_OTLP_ENDPOINT", SET_ENDPOINT },
		{ "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", SET_METRICS_ENDPOINT },
		{ "OTEL_EXPORTER_OTLP_HEADERS", SET_HEADERS },
		{ "OTEL_EXPORTER_OTLP_METRICS_HEADERS", SET_HEADERS },
		{ "OTEL_EXPORTER_OTLP_TIMEOUT", SET_TIMEOUT },
		{ "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", SET_TIMEOUT },
		{ "OTEL_EXPORTER_OTLP_COMPRESSION", SET_COMPRESSION },
		{ "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", SET_COMPRESSION },
		{ "OTEL_EXPORTER_OTLP_PROTOCOL", SET_PROTOCOL },
		{ "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", SET_PROTOCOL },
		{ "OTEL_EXPORTER_OTLP_CERTIFICATE", SET_CERTIFICATE },
		{ "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", SET_CERTIFICATE },
		{ "OTEL_EXPORTER_OTLP_CLIENT_KEY", SET_CLIENT_KEY },
		{ "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", SET_CLIENT_KEY },
		{ "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", SET_CLIENT_CERTIFICATE },
		{ "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE", SET_CLIENT_CERTIFICATE },
		{ "OTEL_METRIC_EXPORT_INTERVAL", SET_INTERVAL },
		{ "OTEL_METRIC_EXPORT_TIMEOUT", SET_EXPORT_TIMEOUT },
		{ "OTEL_RESOURCE_ATTRIBUTES", SET_RESOURCE_ATTRIBUTES },
		{ "OTEL_SERVICE_NAME", SET_SERVICE_NAME },
	};

	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *v = getenv(vars[i].name);
		int rc;

		/* an empty variable is as good as unset */
		if (!v || !*v)
			continue;
		rc = export_config_set(c, vars[i].what, v, vars[i].name, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

void export_config_finish(struct export_config *c)
{
	/* a disabled SDK is a no-op, whatever exporter is named */
	if (c->sdk_disabled) {
		c->exporter = EXPORTER_NONE;
		return;
	}
	if (!c->exporter_set)
		c->exporter = c->url ? EXPORTER_OTLP : EXPORTER_CONSOLE;
	/* otlp with no endpoint: the spec's default */
	if (c->exporter == EXPORTER_OTLP && !c->url)
		c->url = strdup("http://localhost:4318/v1/metrics");
}
