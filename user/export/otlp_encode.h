/* SPDX-License-Identifier: MIT */
/*
 * ExportMetricsServiceRequest encoders: protobuf (http/protobuf) and OTLP
 * JSON (http/json: lowerCamelCase keys, enums as integers, 64-bit integers
 * as strings). A metric is a cumulative Sum, or an explicit-bucket Histogram.
 */
#ifndef INFLIGHT_OTLP_ENCODE_H
#define INFLIGHT_OTLP_ENCODE_H

#include "util/buf.h"
#include "export/otlp_model.h"

/* Both return 0, or -ENOMEM (the buffer is then incomplete). */
int otlp_encode_protobuf(const struct otlp_export *e, struct buf *out);
int otlp_encode_json(const struct otlp_export *e, struct buf *out);

#endif
