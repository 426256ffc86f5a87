/* SPDX-License-Identifier: MIT */
/*
 * The chain fetch spec: a subset of the kernel's uprobe_events FETCHARG
 * syntax (Documentation/trace/uprobetracer.rst), evaluated by the BPF side.
 *
 *   %REG            register at the probe (%di, %si, %r8, %ip, ...)
 *   $argN           Nth argument (System V ABI: %di %si %dx %cx %r8 %r9, then
 *                   the stack); for USDT probes, the probe's Nth argument
 *   $stackN, $stack Nth word on the stack, the stack pointer
 *   +|-[u]OFF(ARG)  the memory at ARG + OFF (nestable)
 *   :TYPE           string, ustring, u8..u64, s8..s64, x8..x64 (default u64)
 */
#ifndef INFLIGHT_FETCH_SPEC_H
#define INFLIGHT_FETCH_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include "inflight.h"

struct fetch_spec_error {
	int column; /* 1-based column in the spec where parsing failed */
	char msg[128];
};

/*
 * Parses `spec` into `out`. `usdt` selects what $argN means. On error returns
 * -EINVAL and fills `err`.
 */
int fetch_spec_parse(const char *spec, bool usdt, struct inflight_fetch *out,
		     struct fetch_spec_error *err);

/* Writes the canonical text of a parsed spec (for logs and tests). */
void fetch_spec_format(const struct inflight_fetch *f, char *buf, size_t size);

/* The register's uprobe_events name without '%', or NULL. */
const char *fetch_reg_name(unsigned reg);

#endif
