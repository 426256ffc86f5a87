// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "util/buf.h"
#include "export/prom_encode.h"
#include "export/prom_server.h"

/* A rendered body, shared by the scrapes sending it: freed by the last one. */
struct body {
	int refs; /* atomic: taken under mu, dropped from any thread */
	struct buf b;
};

struct prom_server {
	pthread_mutex_t mu;
	struct body *body[2]; /* by enum prom_format, under mu; NULL before the first collection */
};

int prom_accepts_openmetrics(const char *accept)
{
	const char *r = accept;

	/* media ranges split by ',', parameters by ';': any openmetrics range not refused with q=0 */
	while (r && *r) {
		const char *end = strchr(r, ',');
		size_t len = end ? (size_t)(end - r) : strlen(r);
		char range[256];
		const char *q;

		snprintf(range, sizeof(range), "%.*s", (int)len, r);
		q = strstr(range, "q=");
		if (strstr(range, "application/openmetrics-text") &&
		    !(q && strtod(q + 2, NULL) <= 0.0))
			return 1;
		r = end ? end + 1 : NULL;
	}
	return 0;
}

/* The value of header `name` in `req` (a copy, up to the line's end), or "". */
static void header_value(const char *req, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	out[0] = '\0';
	for (const char *l = strstr(req, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		const char *v = l + 2;

		if (strncasecmp(v, name, n) || v[n] != ':')
			continue;
		v += n + 1;
		v += strspn(v, " \t");
		snprintf(out, size, "%.*s", (int)strcspn(v, "\r\n"), v);
		return;
	}
}

int prom_request_format(const char *req, enum prom_format *f)
{
	char accept[1024];

	if (strncmp(req, "GET /metrics ", 13) && strncmp(req, "GET /metrics?", 13))
		return -ENOENT;
	header_value(req, "Accept", accept, sizeof(accept));
	*f = prom_accepts_openmetrics(accept) ? PROM_OPENMETRICS : PROM_TEXT_004;
	return 0;
}

static void body_unref(void *arg)
{
	struct body *b = arg;

	if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		buf_free(&b->b);
		free(b);
	}
}

static void metrics(void *ctx, const char *req, struct http_reply *r)
{
	struct prom_server *s = ctx;
	enum prom_format f;
	struct body *b;

	if (prom_request_format(req, &f)) {
		http_reply_text(r, 404, "GET /metrics\n");
		return;
	}
	/* a reference, not a copy: a slow scraper costs no memory per scrape, nor holds mu */
	pthread_mutex_lock(&s->mu);
	b = s->body[f];
	if (b)
		__atomic_add_fetch(&b->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&s->mu);
	r->status = 200;
	r->content_type = prom_content_type(f);
	if (b) {
		r->body = b->b.data;
		r->len = b->b.len;
		r->release = body_unref;
		r->release_arg = b;
	}
}

struct prom_server *prom_server_start(struct http_server *srv, const char *address, char *err,
				      size_t errlen)
{
	struct prom_server *s = calloc(1, sizeof(*s));
	int l;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	l = http_server_listen(srv, "--prometheus-address", "0.0.0.0:9464", address, err, errlen);
	if (l < 0)
		goto fail;
	if (http_server_route(srv, l, "/metrics", metrics, s)) {
		snprintf(err, errlen, "--prometheus-address %s: no room for its route", address);
		goto fail;
	}
	return s;
fail:
	pthread_mutex_destroy(&s->mu);
	free(s);
	return NULL;
}

int prom_server_publish(struct prom_server *s, const struct otlp_export *e)
{
	struct body *next[2] = { NULL, NULL };
	int rc = 0;

	if (!s)
		return 0;
	/* rendered outside the lock; swapped in whole, so a scrape sees one collection */
	for (int f = 0; f < 2 && !rc; f++) {
		next[f] = calloc(1, sizeof(*next[f]));
		if (!next[f]) {
			rc = -ENOMEM;
			break;
		}
		next[f]->refs = 1; /* the server's */
		rc = prom_encode(e, (enum prom_format)f, &next[f]->b);
	}
	if (!rc) {
		pthread_mutex_lock(&s->mu);
		for (int f = 0; f < 2; f++) {
			struct body *old = s->body[f];

			s->body[f] = next[f];
			next[f] = old;
		}
		pthread_mutex_unlock(&s->mu);
	}
	/* the replaced bodies, or the unused new ones: freed unless a scrape still sends them */
	body_unref(next[0]);
	body_unref(next[1]);
	return rc;
}

void prom_server_stop(struct prom_server *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->mu);
	for (int f = 0; f < 2; f++)
		body_unref(s->body[f]);
	free(s);
}
