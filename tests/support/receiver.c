// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "support/receiver.h"

#define DEADLINE_MS 30000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void receiver_start(struct receiver *r, int port)
{
	receiver_start_args(r, port, NULL);
}

void receiver_start_args(struct receiver *r, int port, const char *const args[])
{
	char portarg[16], line[128];
	int out[2];
	FILE *f;

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/inflight-recv-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(line, sizeof(line), "%s/points.txt", r->dir);
	f = fopen(line, "w");
	assert_non_null(f);
	fclose(f);
	/* watch before the server can write: no write is missed */
	r->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	assert_true(r->inotify_fd >= 0);
	assert_true(inotify_add_watch(r->inotify_fd, line, IN_MODIFY) >= 0);
	snprintf(portarg, sizeof(portarg), "%d", port);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		const char *argv[32] = { "node", "tests/receiver/server.js", "--record", r->dir,
					 "--port", portarg };
		int n = 6;

		for (int i = 0; args && args[i] && n < 31; i++)
			argv[n++] = args[i];
		argv[n] = NULL;
		dup2(out[1], STDOUT_FILENO);
		execvp("node", (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	f = fdopen(out[0], "r");
	assert_non_null(f);
	if (!fgets(line, sizeof(line), f) || sscanf(line, "listening %d", &r->port) != 1)
		fail_msg("the receiver did not start (is node installed? make deps)");
	fclose(f);
}

void receiver_stop(struct receiver *r)
{
	char cmd[128];

	if (!r->pid)
		return;
	kill(r->pid, SIGTERM);
	waitpid(r->pid, NULL, 0);
	close(r->inotify_fd);
	free(r->req);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", r->dir);
	r->pid = 0;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

void receiver_control(struct receiver *r, const char *json)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char url[128];
	long status = 0;

	assert_non_null(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/control", r->port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 200);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* Decodes %XX in place. */
static void pct_decode(char *s)
{
	char *o = s;

	for (; *s; s++) {
		unsigned v;

		if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2]) &&
		    sscanf(s + 1, "%2x", &v) == 1) {
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* The decoded value of key=... in a points.txt line. */
static bool field(const char *line, const char *key, char *out, size_t size)
{
	char pat[64];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	n = strcspn(p, " \n");
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	pct_decode(out);
	return true;
}

/* "1,2,3" into at most REC_MAX numbers; how many. */
static int parse_list(const char *text, double *d, long long *ll)
{
	int n = 0;

	for (const char *c = text; *c && n < REC_MAX; n++) {
		char *end;

		if (d)
			d[n] = strtod(c, &end);
		else
			ll[n] = strtoll(c, &end, 10);
		if (end == c)
			break;
		c = *end == ',' ? end + 1 : end;
	}
	return n;
}

/* A histogram point's distribution keys, when the line has them. */
static void parse_histogram(const char *line, struct rec_point *p)
{
	char v[1024], max[64];

	if (field(line, "sum", p->sum_text, sizeof(p->sum_text)) && p->sum_text[0]) {
		p->has_sum = true;
		p->sum = strtod(p->sum_text, NULL);
	}
	if (field(line, "buckets", v, sizeof(v)))
		p->nbuckets = parse_list(v, NULL, p->buckets);
	if (field(line, "bounds", v, sizeof(v)))
		p->nbounds = parse_list(v, p->bounds, NULL);
	p->has_min_max = (field(line, "min", v, sizeof(v)) && v[0]) ||
			 (field(line, "max", max, sizeof(max)) && max[0]);
}

static void reparse(struct receiver *r)
{
	char path[128], line[8192], v[512], metric[128] = "";
	bool monotonic = false; /* of the metric whose points follow */
	struct rec_request cur;
	FILE *f;

	snprintf(path, sizeof(path), "%s/points.txt", r->dir);
	f = fopen(path, "r");
	assert_non_null(f);
	/*
	 * From the end of the last whole request on: a long test (the chaos
	 * test records hundreds) would otherwise parse and copy the whole
	 * record at every wait, quadratic in its length.
	 */
	assert_int_equal(fseek(f, r->parsed_to, SEEK_SET), 0);
	memset(&cur, 0, sizeof(cur));
	while (fgets(line, sizeof(line), f)) {
		if (!strchr(line, '\n')) {
			int c;

			if (feof(f))
				break; /* still being written: read again at the next wait */
			/* longer than any line the tests read: its rest is skipped */
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (!strncmp(line, "request ", 8)) {
			memset(&cur, 0, sizeof(cur));
			field(line, "seq", v, sizeof(v));
			cur.seq = atoi(v);
			if (field(line, "status", v, sizeof(v)))
				cur.status = atoi(v);
			if (field(line, "gzip", v, sizeof(v)))
				cur.gzip = v[0] == '1';
			field(line, "path", cur.path, sizeof(cur.path));
			field(line, "ctype", cur.ctype, sizeof(cur.ctype));
			field(line, "ua", cur.ua, sizeof(cur.ua));
			field(line, "client", cur.client, sizeof(cur.client));
		} else if (!strncmp(line, "header ", 7) && cur.nheaders < REC_MAX) {
			struct rec_kv *kv = &cur.headers[cur.nheaders++];

			field(line, "name", kv->key, sizeof(kv->key));
			field(line, "value", kv->value, sizeof(kv->value));
		} else if (!strncmp(line, "resource ", 9) && cur.nresource < REC_MAX) {
			struct rec_kv *kv = &cur.resource[cur.nresource++];

			field(line, "key", kv->key, sizeof(kv->key));
			field(line, "value", kv->value, sizeof(kv->value));
		} else if (!strncmp(line, "scope ", 6)) {
			field(line, "name", cur.scope_name, sizeof(cur.scope_name));
			field(line, "version", cur.scope_version, sizeof(cur.scope_version));
		} else if (!strncmp(line, "metric ", 7) && cur.nmetrics++) {
			/* a later metric: its points go to `more` */
			field(line, "name", metric, sizeof(metric));
			monotonic = field(line, "monotonic", v, sizeof(v)) && !strcmp(v, "true");
		} else if (!strncmp(line, "metric ", 7)) {
			field(line, "name", cur.metric, sizeof(cur.metric));
			snprintf(metric, sizeof(metric), "%s", cur.metric);
			field(line, "unit", cur.unit, sizeof(cur.unit));
			field(line, "description", cur.description, sizeof(cur.description));
			if (field(line, "monotonic", v, sizeof(v)))
				cur.monotonic = !strcmp(v, "true");
			monotonic = cur.monotonic;
			if (field(line, "temporality", v, sizeof(v)))
				cur.temporality = atoi(v);
		} else if (!strncmp(line, "point ", 6) &&
			   (cur.nmetrics > 1 ? cur.nmore : cur.npoints) < REC_MAX) {
			struct rec_point *p = cur.nmetrics > 1 ? &cur.more[cur.nmore++]
							      : &cur.points[cur.npoints++];

			snprintf(p->metric, sizeof(p->metric), "%s", metric);
			p->monotonic = monotonic;
			if (field(line, "start", v, sizeof(v)))
				p->start = strtoull(v, NULL, 10);
			if (field(line, "time", v, sizeof(v)))
				p->time = strtoull(v, NULL, 10);
			if (field(line, "value", v, sizeof(v))) {
				p->value = strtoll(v, NULL, 10);
				p->dvalue = strtod(v, NULL);
			}
			field(line, "vtype", p->vtype, sizeof(p->vtype));
			field(line, "attrs", p->attrs, sizeof(p->attrs));
			parse_histogram(line, p);
		} else if (!strncmp(line, "end ", 4)) {
			if (r->nreq == r->capreq) {
				int cap = r->capreq ? r->capreq * 2 : 16;
				struct rec_request *grown = realloc(r->req, (size_t)cap * sizeof(*grown));

				assert_non_null(grown);
				r->req = grown;
				r->capreq = cap;
			}
			r->req[r->nreq++] = cur;
			r->parsed_to = ftell(f);
		}
	}
	fclose(f);
}

void receiver_wait(struct receiver *r, int n)
{
	int64_t deadline = now_ms() + DEADLINE_MS;

	reparse(r);
	while (r->nreq < n) {
		struct pollfd p = { r->inotify_fd, POLLIN, 0 };
		char ev[4096];

		if (now_ms() > deadline)
			fail_msg("receiver: %d request(s) recorded, waited for %d", r->nreq, n);
		/* woken by the receiver's next write to points.txt */
		if (poll(&p, 1, 1000) > 0)
			while (read(r->inotify_fd, ev, sizeof(ev)) > 0)
				;
		reparse(r);
	}
}

const struct rec_request *receiver_request(struct receiver *r, int seq)
{
	for (int i = 0; i < r->nreq; i++)
		if (r->req[i].seq == seq)
			return &r->req[i];
	return NULL;
}

const char *rec_header(const struct rec_request *q, const char *name)
{
	for (int i = 0; i < q->nheaders; i++)
		if (!strcasecmp(q->headers[i].key, name))
			return q->headers[i].value;
	return NULL;
}

const char *rec_resource(const struct rec_request *q, const char *key)
{
	for (int i = 0; i < q->nresource; i++)
		if (!strcmp(q->resource[i].key, key))
			return q->resource[i].value;
	return NULL;
}

const struct rec_point *rec_point(const struct rec_request *q, const char *attrs)
{
	for (int i = 0; i < q->npoints; i++)
		if (!strcmp(q->points[i].attrs, attrs))
			return &q->points[i];
	return NULL;
}

const struct rec_point *rec_more_point(const struct rec_request *q, const char *metric,
				       const char *attrs)
{
	for (int i = 0; i < q->nmore; i++)
		if (!strcmp(q->more[i].metric, metric) && !strcmp(q->more[i].attrs, attrs))
			return &q->more[i];
	return NULL;
}
