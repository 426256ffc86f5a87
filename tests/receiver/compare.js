#!/usr/bin/env node
'use strict';
// Compares the conserver.vcons.inflight metric of two recorded requests.
//
//   node compare.js DIR/requests.jsonl --ours SEQ_A --sdk SEQ_B
//                   [--ignore-description] [--metric NAME] [--ignore-values]
//
// Compared: name, description, unit, the data kind, sum.isMonotonic,
// sum.aggregationTemporality (histogram's too), and the data points as a
// set keyed by their sorted attributes: value field (asInt/asDouble) and
// value, or a histogram's count, sum, min, max, bucketCounts and
// explicitBounds; attribute types, flags, exemplars. Not compared: resource, scope, schema URLs, and
// the values of startTimeUnixNano/timeUnixNano (which must still be present
// and non-zero on both sides). --ignore-values: the value field must be the
// same (asInt/asDouble), the numbers may differ (ages measured live).
//
// Prints MATCH and exits 0, or one "DIFF path: ours=... sdk=..." line per
// difference and exits 1. Exits 2 on bad usage or unusable input.
//
// Records keep only what was on the wire (toObject with defaults: false), and
// proto3 senders may leave zero values out (the JS SDK writes
// isMonotonic=false, the C encoder may not): absent and zero compare equal.

const fs = require('fs');
const otlp = require('./otlp');

function fail(msg) {
  process.stderr.write(`compare.js: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { file: null, ours: null, sdk: null, ignoreDescription: false, ignoreValues: false, metric: 'conserver.vcons.inflight' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--ours') opts.ours = Number(argv[++i]);
    else if (a === '--sdk') opts.sdk = Number(argv[++i]);
    else if (a === '--ignore-description') opts.ignoreDescription = true;
    else if (a === '--metric') opts.metric = argv[++i];
    else if (a === '--ignore-values') opts.ignoreValues = true;
    else if (a.startsWith('--')) fail(`unknown option ${a}`);
    else if (opts.file == null) opts.file = a;
    else fail(`extra argument ${a}`);
  }
  if (!opts.file || !Number.isInteger(opts.ours) || !Number.isInteger(opts.sdk)) {
    fail('usage: node compare.js REQUESTS.jsonl --ours SEQ --sdk SEQ [--ignore-description] [--metric NAME] [--ignore-values]');
  }
  return opts;
}

function loadRecord(file, seq) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    fail(`cannot read ${file}: ${e.message}`);
  }
  for (const [i, l] of text.split('\n').entries()) {
    if (!l.trim()) continue;
    let rec;
    try {
      rec = JSON.parse(l);
    } catch (e) {
      fail(`${file}:${i + 1}: not JSON: ${e.message}`);
    }
    if (rec.seq === seq) {
      if (!rec.body) fail(`request ${seq} has no decoded body (${rec.decodeError || 'not decoded'})`);
      return rec;
    }
  }
  return fail(`no request with seq ${seq} in ${file}`);
}

function findMetrics(body, name) {
  const found = [];
  for (const rm of body.resourceMetrics || []) {
    for (const sm of rm.scopeMetrics || []) {
      for (const m of sm.metrics || []) if (m.name === name) found.push(m);
    }
  }
  return found;
}

const show = (v) => (v === undefined ? 'absent' : JSON.stringify(v));
const isZeroTime = (t) => t == null || /^0*$/.test(String(t));
const pointKey = (p) => otlp.sortedAttrs(p.attributes).map((a) => `${a.key}=${a.text}`).join(',');

function comparePoints(diffs, base, kind, ours, sdk, ignoreValues) {
  // attribute key -> all points with it (one, unless a side repeats a series)
  const index = (points) => {
    const map = new Map();
    for (const p of points) {
      const k = pointKey(p);
      map.set(k, [...(map.get(k) || []), p]);
    }
    return map;
  };
  const a = index(ours);
  const b = index(sdk);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const k of keys) {
    const path = `${base}[${k}]`;
    const la = a.get(k) || [];
    const lb = b.get(k) || [];
    if (la.length === 0 || lb.length === 0) {
      diffs.push(`DIFF ${path}: ours=${la.length ? 'present' : 'absent'} sdk=${lb.length ? 'present' : 'absent'}`);
      continue;
    }
    if (la.length !== 1 || lb.length !== 1) {
      diffs.push(`DIFF ${path}.count: ours=${la.length} sdk=${lb.length} (each attribute set must occur once)`);
      continue;
    }
    const [pa, pb] = [la[0], lb[0]];
    for (const f of ['startTimeUnixNano', 'timeUnixNano']) {
      if (isZeroTime(pa[f]) || isZeroTime(pb[f])) {
        diffs.push(`DIFF ${path}.${f}: ours=${show(pa[f])} sdk=${show(pb[f])} (both must be present and non-zero)`);
      }
    }
    // Same key means same attribute keys and texts; the types may still
    // differ (e.g. intValue 1 vs stringValue "1").
    const ta = otlp.sortedAttrs(pa.attributes);
    const tb = otlp.sortedAttrs(pb.attributes);
    ta.forEach((x, i) => {
      if (x.type !== tb[i].type) diffs.push(`DIFF ${path}.attributes[${x.key}].type: ours=${x.type} sdk=${tb[i].type}`);
    });
    if (kind === 'sum' || kind === 'gauge') {
      const fa = otlp.POINT_VALUE_FIELDS.find((f) => pa[f] != null);
      const fb = otlp.POINT_VALUE_FIELDS.find((f) => pb[f] != null);
      if (fa !== fb) {
        diffs.push(`DIFF ${path}.value: ours=${fa ? `${fa}:${pa[fa]}` : 'absent'} sdk=${fb ? `${fb}:${pb[fb]}` : 'absent'}`);
      } else if (fa && !ignoreValues && String(pa[fa]) !== String(pb[fb])) {
        diffs.push(`DIFF ${path}.${fa}: ours=${show(pa[fa])} sdk=${show(pb[fb])}`);
      }
    } else if (kind === 'histogram') {
      // Field by field: count, sum (both doubles, exact), every bucket count
      // and bound; min and max only when a side has them (absent on both:
      // equal).
      for (const f of ['count', 'sum', 'min', 'max']) {
        const [x, y] = [pa[f] == null ? undefined : String(pa[f]), pb[f] == null ? undefined : String(pb[f])];
        if (x !== y) diffs.push(`DIFF ${path}.${f}: ours=${show(x)} sdk=${show(y)}`);
      }
      for (const f of ['bucketCounts', 'explicitBounds']) {
        const [x, y] = [(pa[f] || []).map(String), (pb[f] || []).map(String)];
        if (x.length !== y.length) diffs.push(`DIFF ${path}.${f}.length: ours=${x.length} sdk=${y.length}`);
        for (let i = 0; i < Math.min(x.length, y.length); i++) {
          if (x[i] !== y[i]) diffs.push(`DIFF ${path}.${f}[${i}]: ours=${x[i]} sdk=${y[i]}`);
        }
      }
    } else {
      // Other kinds: everything but the timestamps and attributes, as is.
      // toObject emits fields in .proto order, so the JSON texts line up.
      const rest = (p) => {
        const r = { ...p };
        for (const f of ['startTimeUnixNano', 'timeUnixNano', 'attributes', 'flags', 'exemplars']) delete r[f];
        return JSON.stringify(r);
      };
      if (rest(pa) !== rest(pb)) diffs.push(`DIFF ${path}: ours=${rest(pa)} sdk=${rest(pb)}`);
    }
    if ((pa.flags || 0) !== (pb.flags || 0)) diffs.push(`DIFF ${path}.flags: ours=${pa.flags || 0} sdk=${pb.flags || 0}`);
    const ea = JSON.stringify(pa.exemplars || []);
    const eb = JSON.stringify(pb.exemplars || []);
    if (ea !== eb) diffs.push(`DIFF ${path}.exemplars: ours=${ea} sdk=${eb}`);
  }
}

function compareMetric(opts, ours, sdk) {
  const diffs = [];
  const cmp = (path, a, b) => {
    if (a !== b) diffs.push(`DIFF ${path}: ours=${show(a)} sdk=${show(b)}`);
  };
  cmp('metric.name', ours.name, sdk.name);
  if (!opts.ignoreDescription) cmp('metric.description', ours.description || '', sdk.description || '');
  cmp('metric.unit', ours.unit || '', sdk.unit || '');
  const kind = otlp.metricKind(ours);
  cmp('metric.kind', kind, otlp.metricKind(sdk));
  if (kind !== otlp.metricKind(sdk)) return diffs; // nothing below lines up
  const da = ours[kind] || {};
  const db = sdk[kind] || {};
  if (kind === 'sum') cmp('metric.sum.isMonotonic', !!da.isMonotonic, !!db.isMonotonic);
  if ('aggregationTemporality' in da || 'aggregationTemporality' in db || kind === 'sum') {
    cmp(`metric.${kind}.aggregationTemporality`, da.aggregationTemporality || 0, db.aggregationTemporality || 0);
  }
  comparePoints(diffs, `metric.${kind}.dataPoints`, kind, da.dataPoints || [], db.dataPoints || [], opts.ignoreValues);
  return diffs;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const ours = findMetrics(loadRecord(opts.file, opts.ours).body, opts.metric);
  const sdk = findMetrics(loadRecord(opts.file, opts.sdk).body, opts.metric);
  let diffs;
  if (ours.length !== 1 || sdk.length !== 1) {
    diffs = [`DIFF metric[${opts.metric}].count: ours=${ours.length} sdk=${sdk.length}`];
  } else {
    diffs = compareMetric(opts, ours[0], sdk[0]);
  }
  if (diffs.length === 0) {
    process.stdout.write('MATCH\n');
    process.exit(0);
  }
  process.stdout.write(`${diffs.join('\n')}\n`);
  process.exit(1);
}

main();
