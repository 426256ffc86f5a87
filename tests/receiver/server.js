#!/usr/bin/env node
'use strict';
// OTLP/HTTP metrics receiver for the C integration tests.
//
//   node server.js --record DIR [--port N] [--no-parent-watch]
//
// Listens on 127.0.0.1 (port 0 = ephemeral by default) and prints exactly
// "listening PORT\n" on stdout once ready; nothing else goes to stdout.
// Every request to a path ending in /v1/metrics is decoded (protobuf or JSON,
// optionally gzip'ed) and recorded twice: as one JSON line in
// DIR/requests.jsonl and as flat "kind key=value ..." lines in DIR/points.txt
// (format in README.md). POST /control scripts the responses of the next
// requests (fault injection); GET /control reports progress.

const fs = require('fs');
const http = require('http');
const path = require('path');
const zlib = require('zlib');
const otlp = require('./otlp');

const MAX_BODY = 64 * 1024 * 1024;

function usage(msg) {
  process.stderr.write(`server.js: ${msg}\nusage: node server.js --record DIR [--port N] [--no-parent-watch] [--tls-cert FILE --tls-key FILE [--client-ca FILE]]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { record: null, port: 0, parentWatch: true, tlsCert: null, tlsKey: null, clientCa: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--record') opts.record = argv[++i];
    else if (a === '--port') opts.port = Number(argv[++i]);
    else if (a === '--no-parent-watch') opts.parentWatch = false;
    else if (a === '--tls-cert') opts.tlsCert = argv[++i];
    else if (a === '--tls-key') opts.tlsKey = argv[++i];
    else if (a === '--client-ca') opts.clientCa = argv[++i];
    else usage(`unknown argument: ${a}`);
  }
  if (!opts.record) usage('--record DIR is required');
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
fs.mkdirSync(opts.record, { recursive: true });
const requestsFile = path.join(opts.record, 'requests.jsonl');
const pointsFile = path.join(opts.record, 'points.txt');
// Start empty, so seq numbers and file contents always belong to this run.
fs.writeFileSync(requestsFile, '');
fs.writeFileSync(pointsFile, '');

const state = { seq: 0, queue: [], aborted: 0 };

function logErr(msg) {
  process.stderr.write(`receiver: ${msg}\n`);
}

// An error that carries the HTTP status the receiver answers it with.
class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, `body larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('client aborted while sending the body')));
  });
}

function mediaType(ctype) {
  return String(ctype || '').split(';')[0].trim().toLowerCase();
}

// OTLP/JSON writes traceId/spanId as hex, while protobufjs' fromObject reads
// bytes fields as base64: convert them first (they only occur in exemplars).
function hexIdsToBytes(node) {
  if (Array.isArray(node)) {
    node.forEach(hexIdsToBytes);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if ((k === 'traceId' || k === 'spanId') && typeof v === 'string' && /^([0-9a-fA-F]{2})*$/.test(v)) {
        node[k] = Buffer.from(v, 'hex');
      } else {
        hexIdsToBytes(v);
      }
    }
  }
}

// Raw body -> decoded request message. Throws HttpError (400/415) on anything bad.
function decodeBody(raw, headers) {
  let buf = raw;
  const encoding = String(headers['content-encoding'] || '').trim().toLowerCase();
  if (encoding === 'gzip') {
    try {
      buf = zlib.gunzipSync(raw);
    } catch (e) {
      throw new HttpError(400, `gunzip failed: ${e.message}`);
    }
  } else if (encoding !== '' && encoding !== 'identity') {
    throw new HttpError(415, `unsupported content-encoding: ${encoding}`);
  }

  const type = mediaType(headers['content-type']);
  if (type === 'application/x-protobuf' || type === 'application/protobuf') {
    try {
      return otlp.ExportMetricsServiceRequest.decode(buf);
    } catch (e) {
      throw new HttpError(400, `protobuf decode failed: ${e.message}`);
    }
  }
  if (type === 'application/json') {
    let obj;
    try {
      obj = JSON.parse(buf.toString('utf8'));
    } catch (e) {
      throw new HttpError(400, `JSON parse failed: ${e.message}`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new HttpError(400, 'JSON body is not an object');
    }
    try {
      hexIdsToBytes(obj);
      return otlp.ExportMetricsServiceRequest.fromObject(obj);
    } catch (e) {
      throw new HttpError(400, `JSON does not fit ExportMetricsServiceRequest: ${e.message}`);
    }
  }
  throw new HttpError(415, `unsupported content-type: ${headers['content-type'] || '(none)'}`);
}

// The google.rpc.Code that goes with an HTTP status, for Status bodies.
function grpcCodeFor(status) {
  const map = { 400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 413: 8, 415: 3, 429: 8, 499: 1, 500: 13, 501: 12, 502: 14, 503: 14, 504: 4 };
  return map[status] || 2; // UNKNOWN
}

// A scripted entry (or the default) -> {status, headers, body, delayMs, drop}.
function buildResponse(entry, json) {
  const status = entry.status || 200;
  const headers = { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' };
  let body;
  if (typeof entry.body === 'string') {
    body = Buffer.from(entry.body, 'utf8'); // verbatim override, e.g. garbage
  } else if (status >= 200 && status < 300) {
    const resp = otlp.ExportMetricsServiceResponse.fromObject(entry.partial ? { partialSuccess: entry.partial } : {});
    body = json
      ? Buffer.from(JSON.stringify(otlp.ExportMetricsServiceResponse.toObject(resp, otlp.TO_OBJECT)))
      : Buffer.from(otlp.ExportMetricsServiceResponse.encode(resp).finish());
  } else if (entry.status_message != null) {
    const code = entry.status_code != null ? entry.status_code : grpcCodeFor(status);
    body = json
      ? Buffer.from(JSON.stringify({ code, message: String(entry.status_message) }))
      : otlp.encodeRpcStatus(code, String(entry.status_message));
  } else {
    body = Buffer.alloc(0);
  }
  Object.assign(headers, entry.headers || {});
  return { status, headers, body, delayMs: entry.delayMs || 0, drop: !!entry.drop };
}

const enc = (v) => encodeURIComponent(v == null ? '' : String(v));
const line = (kind, pairs) =>
  `${kind} ${Object.entries(pairs).map(([k, v]) => `${k}=${enc(v)}`).join(' ')}\n`;

// The flat points.txt view of one recorded request, in tree order.
function pointsLines(rec) {
  const seq = rec.seq;
  const out = [];
  out.push(line('request', {
    seq, path: rec.path, gzip: rec.gzip ? 1 : 0, ctype: rec.contentType,
    ua: rec.headers['user-agent'], status: rec.responseStatus,
    method: rec.method, bytes: rec.bytes, delay: rec.delayMs || 0,
    error: rec.decodeError || '', client: rec.client,
  }));
  for (const [name, value] of Object.entries(rec.headers)) {
    out.push(line('header', { seq, name, value: Array.isArray(value) ? value.join(', ') : value }));
  }
  for (const rm of (rec.body && rec.body.resourceMetrics) || []) {
    for (const a of otlp.sortedAttrs(rm.resource && rm.resource.attributes)) {
      out.push(line('resource', { seq, key: a.key, value: a.text, type: a.type }));
    }
    for (const sm of rm.scopeMetrics || []) {
      const scope = sm.scope || {};
      out.push(line('scope', { seq, name: scope.name || '', version: scope.version || '' }));
      for (const m of sm.metrics || []) {
        const kind = otlp.metricKind(m);
        const data = m[kind] || {};
        const points = data.dataPoints || [];
        out.push(line('metric', {
          seq, name: m.name || '', unit: m.unit || '', description: m.description || '', kind,
          monotonic: data.isMonotonic ? 'true' : 'false',
          temporality: data.aggregationTemporality || 0, points: points.length,
        }));
        for (const p of points) {
          let vtype = 'none';
          let value = '';
          if (kind === 'sum' || kind === 'gauge') {
            vtype = otlp.POINT_VALUE_FIELDS.find((f) => p[f] != null) || 'none';
            if (vtype !== 'none') value = p[vtype];
          } else {
            vtype = kind; // histogram-like points: value is their count
            value = p.count || 0;
          }
          const attrs = otlp.sortedAttrs(p.attributes).map((a) => `${a.key}=${a.text}`).join(',');
          const pairs = {
            seq, metric: m.name || '', start: p.startTimeUnixNano || 0, time: p.timeUnixNano || 0,
            vtype, value, attrs, flags: p.flags || 0,
          };
          // an explicit-bucket histogram's distribution, after the common keys
          if (kind === 'histogram') {
            pairs.sum = p.sum == null ? '' : String(p.sum);
            pairs.buckets = (p.bucketCounts || []).join(',');
            pairs.bounds = (p.explicitBounds || []).join(',');
            pairs.min = p.min == null ? '' : String(p.min);
            pairs.max = p.max == null ? '' : String(p.max);
          }
          out.push(line('point', pairs));
        }
      }
    }
  }
  out.push(line('end', { seq }));
  return out.join('');
}

// Appends one request to both files, JSON first: a reader that sees
// "end seq=N" in points.txt also finds line N in requests.jsonl. Each file
// gets one appendFileSync, so no reader sees half a request.
function record(rec) {
  fs.appendFileSync(requestsFile, `${JSON.stringify(rec)}\n`);
  fs.appendFileSync(pointsFile, pointsLines(rec));
}

function send(req, res, resp, seq) {
  const finish = () => {
    if (res.destroyed || res.writableEnded) return;
    if (resp.drop) {
      req.socket.destroy(); // no response at all: the client sees a reset/EOF
      return;
    }
    try {
      res.writeHead(resp.status, { ...resp.headers, 'Content-Length': resp.body.length });
      res.end(resp.body);
    } catch (e) {
      logErr(`seq ${seq}: cannot send response: ${e.message}`);
      res.destroy();
    }
  };
  if (resp.delayMs > 0) {
    const timer = setTimeout(finish, resp.delayMs);
    // A client that times out and hangs up while we wait is expected in the
    // slow-receiver tests: just stop waiting for it.
    res.on('close', () => {
      if (!res.writableEnded) {
        clearTimeout(timer);
        state.aborted++;
        logErr(`seq ${seq}: client closed the connection before the delayed response`);
      }
    });
  } else {
    finish();
  }
}

async function handleMetrics(req, res, pathname) {
  let raw;
  try {
    raw = await readBody(req);
  } catch (e) {
    logErr(`${req.method} ${pathname}: ${e.message}`);
    if (e instanceof HttpError && !res.headersSent) res.writeHead(e.status).end();
    return;
  }
  const headers = req.headers; // node lowercases the names
  const peer = typeof req.socket.getPeerCertificate === 'function' ? req.socket.getPeerCertificate() : null;
  const rec = {
    seq: ++state.seq,
    // the client certificate's CN, over mutual TLS
    client: (peer && peer.subject && peer.subject.CN) || '',
    path: pathname,
    method: req.method,
    headers: { ...headers },
    gzip: String(headers['content-encoding'] || '').trim().toLowerCase() === 'gzip',
    contentType: headers['content-type'] || '',
    bytes: raw.length,
  };
  const json = mediaType(headers['content-type']) === 'application/json';

  let resp;
  try {
    if (req.method !== 'POST') throw new HttpError(405, `method ${req.method} not allowed`);
    const message = decodeBody(raw, headers);
    rec.body = otlp.ExportMetricsServiceRequest.toObject(message, otlp.TO_OBJECT);
    // Only well-formed requests consume a scripted response.
    const entry = state.queue.shift();
    if (entry) rec.scripted = true;
    resp = buildResponse(entry || {}, json);
  } catch (e) {
    if (!(e instanceof HttpError)) logErr(`seq ${rec.seq}: ${e.stack || e}`);
    const status = e instanceof HttpError ? e.status : 500;
    rec.decodeError = e.message;
    logErr(`seq ${rec.seq}: ${status} ${e.message}`);
    resp = buildResponse({ status, status_message: e.message }, json);
    if (status === 405) resp.headers.Allow = 'POST';
  }
  rec.responseStatus = resp.drop ? 0 : resp.status;
  if (resp.delayMs) rec.delayMs = resp.delayMs;
  if (resp.drop) rec.dropped = true;
  record(rec);
  send(req, res, resp, rec.seq);
}

// Checks one scripted entry; returns an error message or null.
function checkEntry(e) {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return 'entry is not an object';
  if (e.status != null && !(Number.isInteger(e.status) && e.status >= 200 && e.status <= 599)) {
    return `bad status ${JSON.stringify(e.status)}`;
  }
  if (e.delayMs != null && !(Number.isFinite(e.delayMs) && e.delayMs >= 0)) return 'bad delayMs';
  if (e.status_code != null && !Number.isInteger(e.status_code)) return 'bad status_code';
  if (e.partial != null) {
    try {
      otlp.ExportMetricsServiceResponse.fromObject({ partialSuccess: e.partial });
    } catch (err) {
      return `bad partial: ${err.message}`;
    }
  }
  for (const [k, v] of Object.entries(e.headers || {})) {
    try {
      http.validateHeaderName(k);
      http.validateHeaderValue(k, String(v));
    } catch (err) {
      return `bad header ${k}: ${err.message}`;
    }
  }
  return null;
}

function controlStatus() {
  return { pending: state.queue.length, requests: state.seq, aborted: state.aborted };
}

function replyJson(res, status, obj) {
  const body = Buffer.from(`${JSON.stringify(obj)}\n`);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

async function handleControl(req, res) {
  if (req.method === 'GET') return replyJson(res, 200, controlStatus());
  if (req.method !== 'POST') return replyJson(res, 405, { error: 'GET or POST only' });
  let cmd;
  try {
    cmd = JSON.parse((await readBody(req)).toString('utf8'));
    if (cmd === null || typeof cmd !== 'object' || Array.isArray(cmd)) throw new Error('not an object');
  } catch (e) {
    return replyJson(res, 400, { error: `bad control body: ${e.message}` });
  }
  const responses = cmd.responses == null ? [] : cmd.responses;
  if (!Array.isArray(responses)) return replyJson(res, 400, { error: 'responses must be an array' });
  for (const [i, e] of responses.entries()) {
    const err = checkEntry(e);
    if (err) return replyJson(res, 400, { error: `responses[${i}]: ${err}` });
  }
  if (cmd.reset) state.queue = [];
  state.queue.push(...responses);
  return replyJson(res, 200, controlStatus());
}

// HTTPS when asked, requiring a client certificate signed by --client-ca
// when that is given (mutual TLS): the C tests check the exporter's TLS options.
function handler(req, res) {
  let pathname;
  try {
    pathname = new URL(req.url, 'http://127.0.0.1').pathname;
  } catch (e) {
    pathname = req.url;
  }
  let work;
  if (pathname === '/control') work = handleControl(req, res);
  else if (pathname.endsWith('/v1/metrics')) work = handleMetrics(req, res, pathname);
  else work = Promise.resolve(replyJson(res, 404, { error: `no such path: ${pathname}` }));
  work.catch((e) => {
    logErr(`${req.method} ${req.url}: ${e.stack || e}`);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
}

const server = opts.tlsCert
  ? require('https').createServer({
      cert: fs.readFileSync(opts.tlsCert),
      key: fs.readFileSync(opts.tlsKey),
      ca: opts.clientCa ? fs.readFileSync(opts.clientCa) : undefined,
      requestCert: !!opts.clientCa,
      rejectUnauthorized: !!opts.clientCa,
    }, handler)
  : http.createServer(handler);

server.on('error', (e) => {
  logErr(`server error: ${e.message}`);
  process.exit(1);
});

// Last line of defence: a receiver that dies mid-test hides what the C side
// did, so log and keep serving.
process.on('uncaughtException', (e) => logErr(`uncaught: ${e.stack || e}`));
process.on('unhandledRejection', (e) => logErr(`unhandled rejection: ${e && e.stack ? e.stack : e}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));

server.listen(opts.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});

// A C test that crashes never kills its receiver; leave with our parent so
// no orphan outlives the test run.
if (opts.parentWatch) {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 500).unref();
}
