/* SPDX-License-Identifier: MIT */
/*
 * The independent OTLP receiver (tests/receiver/server.js, decoding with
 * the OpenTelemetry JS protobuf root) driven from C: start it, script its
 * answers, wait for and read what it recorded (points.txt).
 */
#ifndef INFLIGHT_TEST_RECEIVER_H
#define INFLIGHT_TEST_RECEIVER_H

#include "support/net.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define REC_MAX 32

struct rec_kv {
	char key[128];
	char value[256];
};

struct rec_point {
	uint64_t start, time;
	char vtype[16];
	long long value;
	char attrs[256]; /* "k=v,k2=v2", sorted by key */
	char metric[128]; /* the metric it belongs to */
	bool monotonic;   /* that metric's sum.isMonotonic */
	/* a histogram point's (vtype "histogram"): sum, bucketCounts, explicitBounds */
	bool has_sum, has_min_max;
	double sum;
	long long buckets[REC_MAX];
	int nbuckets;
	double bounds[REC_MAX];
	int nbounds;
	char sum_text[64]; /* the sum as the receiver printed it */
	double dvalue;    /* the value as a double (asDouble points; asInt ones too) */
};

struct rec_request {
	int seq;
	int status;
	bool gzip;
	char path[128];
	char ctype[64];
	char ua[128];
	char client[128]; /* the client certificate's CN, over mutual TLS */
	struct rec_kv headers[REC_MAX];
	int nheaders;
	struct rec_kv resource[REC_MAX];
	int nresource;
	char scope_name[64], scope_version[32];
	char metric[128], unit[32], description[128];
	bool monotonic;
	int temporality;
	struct rec_point points[REC_MAX]; /* the first metric's: the gauge */
	int npoints;
	int nmetrics;
	struct rec_point more[REC_MAX]; /* the points of the metrics after it */
	int nmore;
};

struct receiver {
	pid_t pid;
	int port;
	char dir[64];
	int inotify_fd;
	struct rec_request *req; /* parsed so far */
	int nreq, capreq;
	long parsed_to; /* the record's offset after the last whole request parsed */
};

/* Starts the receiver on `port` (0: any free port). */
void receiver_start(struct receiver *r, int port);
/* The same, with more server.js arguments (NULL-terminated): --tls-cert ... */
void receiver_start_args(struct receiver *r, int port, const char *const args[]);
void receiver_stop(struct receiver *r);
/* POSTs a JSON body to /control (scripted responses, reset). */
void receiver_control(struct receiver *r, const char *json);
/* Waits until at least `n` requests are recorded; reads what was recorded since the last read. */
void receiver_wait(struct receiver *r, int n);
/*
 * The recorded request with this seq (1-based), or NULL. Valid until the
 * next receiver_wait, which may move the requests as it adds new ones.
 */
const struct rec_request *receiver_request(struct receiver *r, int seq);

const char *rec_header(const struct rec_request *q, const char *name);
const char *rec_resource(const struct rec_request *q, const char *key);
/* The point whose attrs are exactly `attrs`, or NULL. */
const struct rec_point *rec_point(const struct rec_request *q, const char *attrs);
/* A point of a metric after the first, by metric name and attributes. */
const struct rec_point *rec_more_point(const struct rec_request *q, const char *metric,
				       const char *attrs);

#endif
