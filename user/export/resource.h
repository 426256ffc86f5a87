/* SPDX-License-Identifier: MIT */
/*
 * The OTLP resource of this collector: service.name, host.name, a
 * service.instance.id stable for the node, Kubernetes names from the
 * downward API, and OTEL_RESOURCE_ATTRIBUTES over what was detected.
 */
#ifndef INFLIGHT_RESOURCE_H
#define INFLIGHT_RESOURCE_H

#include <stddef.h>
#include "export/export_config.h"

/*
 * Builds the resource attributes into `out` (freed with kv_list_free).
 * `machine_id_path` is where the node's machine id is read (NULL: the
 * standard places).
 */
int resource_build(const struct export_config *c, const char *machine_id_path,
		   struct kv_list *out);

/*
 * The instance id for a machine id: a UUID made from SHA-256 of
 * "inflight:" + the id, so the id itself is not exposed.
 */
void resource_instance_id(const char *machine_id, char out[37]);

#endif
