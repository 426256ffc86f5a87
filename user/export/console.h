/* SPDX-License-Identifier: MIT */
/*
 * The console exporter: the same content an OTLP export carries, as a
 * readable block per interval (the default when no endpoint is set).
 */
#ifndef INFLIGHT_CONSOLE_H
#define INFLIGHT_CONSOLE_H

#include <stdio.h>
#include "export/otlp_model.h"

/* The block for one export. */
void console_export(FILE *out, const struct otlp_export *e);

#endif
