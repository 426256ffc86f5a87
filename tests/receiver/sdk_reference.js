#!/usr/bin/env node
'use strict';
// Reference export made by the official OpenTelemetry JS SDK, for compare.js
// to hold the C exporter's request against.
//
//   node sdk_reference.js --endpoint http://127.0.0.1:PORT/v1/metrics [--gzip]
//                         [--value-type int|double] [--duration CHAIN=V1,V2,...]...
//
// Records on the UpDownCounter conserver.vcons.inflight
//   alpha +3, beta +1 -1, café +2   (attribute chain.name)
// and on the Counter conserver.vcons.inflight.handled
//   alpha +0, beta +1, café +0
// and on the Gauge conserver.vcons.inflight.oldest_age (seconds, always
// doubles: ages are measured, compare.js --ignore-values)
//   alpha 1.5, beta 0, café 0.25
// and, given --duration, records those values (seconds) on the Histogram
// conserver.vcons.inflight.duration (unit s) for chain.name=CHAIN, with
// inflight's bucket bounds (the OTel duration buckets in seconds) and
// without min/max (inflight keeps none); the SDK's default would add them.
// It exports over http/protobuf (cumulative). The values are integers
// (asInt), as conserver's in-process counter records whole calls; the JS
// SDK's own default would be asDouble (--value-type double gives that). The reader's shutdown
// collects and exports once more, so the receiver gets two requests with the
// same points (only timeUnixNano differs): compare against either.
// Silent and exit 0 on success; a message on stderr and exit 1 on failure.

// The C tests configure their own exporter through OTEL_* variables; they
// must not steer the reference (endpoint, headers, temporality, ...).
for (const k of Object.keys(process.env)) {
  if (k.startsWith('OTEL_')) delete process.env[k];
}

const { AggregationType, MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');
const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-proto');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { ValueType } = require('@opentelemetry/api');

const ExportResultCode = { SUCCESS: 0 }; // @opentelemetry/core's enum value
const DURATION = 'conserver.vcons.inflight.duration';
const DURATION_BOUNDS = [0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

function usage(msg) {
  process.stderr.write(`sdk_reference.js: ${msg}\nusage: node sdk_reference.js --endpoint URL [--gzip] [--value-type int|double] [--duration CHAIN=V1,V2,...]...\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { endpoint: null, gzip: false, valueType: 'int', durations: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--endpoint') opts.endpoint = argv[++i];
    else if (argv[i] === '--gzip') opts.gzip = true;
    else if (argv[i] === '--value-type') opts.valueType = argv[++i];
    else if (argv[i] === '--duration') {
      const m = /^([^=]+)=(.+)$/.exec(argv[++i] || '');
      if (!m) usage('--duration is CHAIN=V1,V2,...');
      const values = m[2].split(',').map(Number);
      if (values.some((v) => !Number.isFinite(v) || v < 0)) usage(`--duration ${m[1]}: values are seconds >= 0`);
      opts.durations.push({ chain: m[1], values });
    }
    else usage(`unknown argument: ${argv[i]}`);
  }
  if (!opts.endpoint) usage('--endpoint URL is required');
  if (opts.valueType !== 'int' && opts.valueType !== 'double') usage('--value-type is int or double');
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const exporter = new OTLPMetricExporter({
    url: opts.endpoint,
    compression: opts.gzip ? 'gzip' : 'none',
    timeoutMillis: 10000,
  });
  // The reader swallows failed exports (it hands them to the global error
  // handler, silent without a diag logger), so watch the exporter's results.
  const failures = [];
  let exported = 0;
  const exportOnce = exporter.export.bind(exporter);
  exporter.export = (metrics, done) =>
    exportOnce(metrics, (result) => {
      if (result.code === ExportResultCode.SUCCESS) exported++;
      else failures.push(result.error ? result.error.message || String(result.error) : 'export failed');
      done(result);
    });

  const reader = new PeriodicExportingMetricReader({
    exporter,
    // Never fires during the run: exports happen only on forceFlush/shutdown.
    exportIntervalMillis: 3600 * 1000,
    exportTimeoutMillis: 10000,
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'inflight-sdk-reference' }),
    readers: [reader],
    // inflight's duration buckets (the OTel duration buckets in seconds); no
    // min/max, which inflight does not keep
    views: [{
      instrumentName: DURATION,
      aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: DURATION_BOUNDS, recordMinMax: false } },
    }],
  });

  const meter = provider.getMeter('inflight-sdk-reference');
  const inflight = meter.createUpDownCounter('conserver.vcons.inflight', {
    unit: '{vcon}',
    description: "Calls in flight in the worker's handle function, per chain",
    valueType: opts.valueType === 'int' ? ValueType.INT : ValueType.DOUBLE,
  });
  inflight.add(3, { 'chain.name': 'alpha' });
  inflight.add(1, { 'chain.name': 'beta' });
  inflight.add(-1, { 'chain.name': 'beta' });
  inflight.add(2, { 'chain.name': 'caf\u00e9' });
  // Beside it, the calls that ended per chain (inflight's <metric>.handled):
  // a Counter (monotonic Sum) with the same attributes; beta's call ended.
  const handled = meter.createCounter('conserver.vcons.inflight.handled', {
    unit: '{vcon}',
    description: "Calls counted by conserver.vcons.inflight that ended (returned, or released by the observer), since the series' start",
    valueType: opts.valueType === 'int' ? ValueType.INT : ValueType.DOUBLE,
  });
  handled.add(0, { 'chain.name': 'alpha' });
  handled.add(1, { 'chain.name': 'beta' });
  handled.add(0, { 'chain.name': 'caf\u00e9' });
  // The age of each chain's oldest call in flight (inflight's
  // <metric>.oldest_age): a synchronous Gauge of doubles; beta is idle.
  const oldest = meter.createGauge('conserver.vcons.inflight.oldest_age', {
    unit: 's',
    description: 'Age of the oldest call counted by conserver.vcons.inflight still in flight (0 when none is)',
    valueType: ValueType.DOUBLE,
  });
  oldest.record(1.5, { 'chain.name': 'alpha' });
  oldest.record(0, { 'chain.name': 'beta' });
  oldest.record(0.25, { 'chain.name': 'caf\u00e9' });

  // The calls that returned, timed: a Histogram beside them (--duration).
  if (opts.durations.length > 0) {
    const duration = meter.createHistogram(DURATION, {
      unit: 's',
      description: "How long the calls counted by conserver.vcons.inflight took, those that returned, since the series' start",
    });
    for (const d of opts.durations) for (const v of d.values) duration.record(v, { 'chain.name': d.chain });
  }

  await provider.forceFlush();
  await provider.shutdown();
  if (failures.length > 0) throw new Error(`export failed: ${failures.join('; ')}`);
  if (exported === 0) throw new Error('nothing was exported');
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`sdk_reference.js: ${e && e.message ? e.message : e}\n`);
    process.exit(1);
  },
);
