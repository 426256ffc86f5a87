/* SPDX-License-Identifier: MIT */
/*
 * Whose pinned state a pin directory holds, and whether this build may
 * adopt it: the meta map names the target (a hash of it, not of the BPF
 * object) and the pin layout version, so another release of the same
 * layout picks the state up and a different one says what is lost.
 */
#ifndef INFLIGHT_PIN_STATE_H
#define INFLIGHT_PIN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include "inflight.h"
#include "probe/resolve.h"
#include "probe/target_spec.h"

/*
 * The pinned meta map's value, by its fd (a shorter, older one's missing
 * fields read 0). 0, or libbpf's negative errno (-EOVERFLOW: a value larger
 * than any layout).
 */
int pin_meta_read(int fd, struct inflight_meta *m);
/* The same, of DIR/meta. 0, or a negative errno when absent (-ENOENT) or unreadable. */
int pin_meta_read_dir(const char *dir, struct inflight_meta *m);
/*
 * Whether the pinned state in `dir` (its meta `m`) is adopted: the same pin
 * layout and target. Warns naming what is lost when not.
 */
bool pin_adoptable(const char *dir, const struct inflight_meta *m, const char *identity);
/*
 * Pinned state of another identity or layout: removed, the directory made
 * anew. 0, or a negative errno with `err`.
 */
int pin_replace(const char *dir, char *err, size_t errlen);

/*
 * The identity of a target's state, hex SHA-256: of the resolved target
 * (`r`, its file by device and inode, `mode` the resolved return mode), or
 * with `r` NULL of discovery's matching options.
 */
void pin_identity(const struct target_spec *spec, const struct resolved *r, enum return_mode mode,
		  char out[65]);
/* PIN_ROOT/<hash of the target as given>: one directory per observed target. */
void pin_default_dir(const struct target_spec *spec, char *out, size_t size);

#endif
