/* SPDX-License-Identifier: MIT */
/*
 * A named target: one file and function (or USDT pair) given by --binary
 * and/or --pid, probed by one BPF object, pinned or picked up from pins, and
 * followed to a new file when --binary PATH is replaced on disk.
 */
#ifndef INFLIGHT_NAMED_TARGET_H
#define INFLIGHT_NAMED_TARGET_H

#include <stdint.h>
#include "probe/probe.h"
#include "probe/target_spec.h"

struct named_target;

/*
 * Resolves, loads, attaches (and pins, or picks up the pinned state) for
 * `spec`; `info` says what, and must outlive the target. NULL with `err`
 * naming the input, nothing left loaded or attached.
 */
struct named_target *named_target_start(const struct target_spec *spec, struct target_info *info,
					char *err, size_t errlen);
void named_target_stop(struct named_target *t);
struct probe *named_target_probe(const struct named_target *t);
/* Files it could not follow to (counted with the attach failures). */
uint64_t named_target_attach_failures(const struct named_target *t);
/* Following --binary PATH: look at the path now; when next (UINT64_MAX: never). */
void named_target_poll(struct named_target *t);
uint64_t named_target_poll_in_ms(const struct named_target *t);

#endif
