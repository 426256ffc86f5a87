'use strict';
// Shared OTLP helpers for server.js and compare.js: the generated protobufjs
// root of @opentelemetry/otlp-transformer 0.217.0, and the one options object
// used to turn decoded messages into plain JSON-able objects.

// 0.217.0 still ships its pbjs static module (commonjs, camelCase fields) at
// build/src/generated/root.js and declares no "exports" map, so the deep
// require resolves. Later releases dropped the decoders: package.json pins
// the version exactly for that reason.
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');
const { Writer } = require('protobufjs/minimal');

const collector = root.opentelemetry.proto.collector.metrics.v1;
const ExportMetricsServiceRequest = collector.ExportMetricsServiceRequest;
const ExportMetricsServiceResponse = collector.ExportMetricsServiceResponse;

// longs as decimal strings: 64-bit nanosecond timestamps do not fit a double.
// defaults: false, so a field the sender left out stays absent in the record.
const TO_OBJECT = { longs: String, enums: Number, bytes: String, defaults: false };

// google.rpc.Status is not part of the transformer's root; it has two fields
// worth sending (code = 1 int32, message = 2 string), written here by hand.
// proto3 leaves zero/empty scalars off the wire, so do we.
function encodeRpcStatus(code, message) {
  const w = Writer.create();
  if (code) w.uint32((1 << 3) | 0).int32(code);
  if (message) w.uint32((2 << 3) | 2).string(message);
  return Buffer.from(w.finish());
}

// The data-point value oneof and the metric data oneof, by field name.
const POINT_VALUE_FIELDS = ['asInt', 'asDouble'];
const METRIC_KINDS = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'];

function metricKind(metric) {
  return METRIC_KINDS.find((k) => metric[k] != null) || 'none';
}

// An AnyValue (as produced by toObject with TO_OBJECT) as {type, text}.
// An AnyValue with no member set (allowed by the proto) is type "empty".
function anyValueText(v) {
  if (v == null) return { type: 'empty', text: '' };
  if (v.stringValue != null) return { type: 'stringValue', text: v.stringValue };
  if (v.boolValue != null) return { type: 'boolValue', text: v.boolValue ? 'true' : 'false' };
  if (v.intValue != null) return { type: 'intValue', text: String(v.intValue) };
  if (v.doubleValue != null) return { type: 'doubleValue', text: String(v.doubleValue) };
  if (v.bytesValue != null) return { type: 'bytesValue', text: v.bytesValue };
  if (v.arrayValue != null) return { type: 'arrayValue', text: JSON.stringify(v.arrayValue) };
  if (v.kvlistValue != null) return { type: 'kvlistValue', text: JSON.stringify(v.kvlistValue) };
  return { type: 'empty', text: '' };
}

// Attributes (KeyValue[]) sorted by key, as [{key, type, text}].
function sortedAttrs(attributes) {
  return (attributes || [])
    .map((kv) => ({ key: kv.key || '', ...anyValueText(kv.value) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

module.exports = {
  root,
  ExportMetricsServiceRequest,
  ExportMetricsServiceResponse,
  TO_OBJECT,
  encodeRpcStatus,
  POINT_VALUE_FIELDS,
  metricKind,
  anyValueText,
  sortedAttrs,
};
