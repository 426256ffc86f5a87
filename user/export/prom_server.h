/* SPDX-License-Identifier: MIT */
/*
 * The optional Prometheus endpoint (off unless --prometheus-address is
 * given): GET /metrics answers the last collection, in the text format
 * 0.0.4, or in OpenMetrics 1.0 when the scraper's Accept header asks for it
 * (Prometheus does). Scrapes never read the maps: they get what the
 * collection loop last published, so a scrape costs no BPF work and sees
 * the same numbers OTLP does. A route on the collector's HTTP server
 * (http_server.h): on the health endpoint's listener when both addresses
 * are the same, else on one of its own.
 */
#ifndef INFLIGHT_PROM_SERVER_H
#define INFLIGHT_PROM_SERVER_H

#include <stddef.h>
#include "export/http_server.h"
#include "export/otlp_model.h"
#include "export/prom_encode.h"

struct prom_server;

/*
 * Listens on HOST:PORT (IPv4, e.g. 0.0.0.0:9464) with `srv`, before the
 * privileges are dropped (a port below 1024), and routes /metrics there;
 * http_server_serve starts answering. NULL with `err` set.
 */
struct prom_server *prom_server_start(struct http_server *srv, const char *address, char *err,
				      size_t errlen);
/* Renders `e` for the next scrapes. 0, or -ENOMEM (the last body stays). */
int prom_server_publish(struct prom_server *s, const struct otlp_export *e);
/* After http_server_stop: the route uses it until then. */
void prom_server_stop(struct prom_server *s);

/* Whether an Accept header value asks for OpenMetrics (exported for the tests). */
int prom_accepts_openmetrics(const char *accept);
/* A request (headers, NUL-terminated): 0 and its format for GET /metrics, else -ENOENT. */
int prom_request_format(const char *req, enum prom_format *f);

#endif
