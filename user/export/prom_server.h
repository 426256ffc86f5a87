/* SPDX-License-Identifier: MIT */
/*
 * The optional Prometheus endpoint (off unless --prometheus-address is
 * given): GET /metrics answers the last collection, in the text format
 * 0.0.4, or in OpenMetrics 1.0 when the scraper's Accept header asks for it
 * (Prometheus does). Scrapes never read the maps: they get what the
 * collection loop last published, so a scrape costs no BPF work and sees
 * the same numbers OTLP does.
 */
#ifndef INFLIGHT_PROM_SERVER_H
#define INFLIGHT_PROM_SERVER_H

#include <stddef.h>
#include "export/otlp_model.h"
#include "export/prom_encode.h"

struct prom_server;

/*
 * Listens on HOST:PORT (IPv4, e.g. 0.0.0.0:9464), before the privileges are
 * dropped (a port below 1024). NULL with `err` set.
 */
struct prom_server *prom_server_start(const char *address, char *err, size_t errlen);
/*
 * Starts answering, from a thread of its own: after the capability drop,
 * which covers only the threads that exist. 0 (also for NULL), or a
 * negative errno with `err` set.
 */
int prom_server_serve(struct prom_server *s, char *err, size_t errlen);
/* Renders `e` for the next scrapes. 0, or -1 when out of memory (the last body stays). */
int prom_server_publish(struct prom_server *s, const struct otlp_export *e);
void prom_server_stop(struct prom_server *s);

/* Whether an Accept header value asks for OpenMetrics (exported for the tests). */
int prom_accepts_openmetrics(const char *accept);
/* A request (headers, NUL-terminated): 0 and its format for GET /metrics, else -1. */
int prom_request_format(const char *req, enum prom_format *f);

#endif
