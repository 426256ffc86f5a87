/* SPDX-License-Identifier: MIT */
/*
 * One OTLP export as a Prometheus scrape body, named the way the
 * OpenTelemetry-to-Prometheus compatibility rules name it: dots and other
 * invalid characters become `_`, a unit adds its suffix (braced
 * annotations such as {vcon} add none), a monotonic cumulative Sum is a
 * counter ending in `_total`, a non-monotonic one a gauge, the resource
 * is one `target_info` series, and every sample carries otel_scope_name
 * and otel_scope_version. A histogram is a histogram family: cumulative
 * `_bucket{le="..."}` samples (le="+Inf" last), `_sum` and `_count`.
 */
#ifndef INFLIGHT_PROM_ENCODE_H
#define INFLIGHT_PROM_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include "util/buf.h"
#include "export/otlp_model.h"

enum prom_format {
	PROM_TEXT_004,    /* text/plain; version=0.0.4 */
	PROM_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

/* The Content-Type header value of a format. */
const char *prom_content_type(enum prom_format f);

/* Appends the whole exposition of `e` to `out`. 0, or -ENOMEM. */
int prom_encode(const struct otlp_export *e, enum prom_format f, struct buf *out);

/*
 * The Prometheus name of a metric, without the `_total` of a counter:
 * "conserver.vcons.inflight" with unit "{vcon}" is conserver_vcons_inflight,
 * "rpc.duration" in "ms" rpc_duration_milliseconds. Truncated to `size`.
 */
void prom_metric_name(const char *name, const char *unit, bool monotonic, char *out, size_t size);

/* A label name from an attribute key: chain.name is chain_name, 1st key_1st. */
void prom_label_name(const char *key, char *out, size_t size);

#endif
