/* SPDX-License-Identifier: MIT */
/*
 * Pinned state in bpffs, so a collector restart (an upgrade, a crash) loses
 * nothing: the probes stay attached and keep counting into pinned maps, and
 * the next collector picks them up. One directory per observed target.
 */
#ifndef INFLIGHT_PIN_H
#define INFLIGHT_PIN_H

#include <stddef.h>

#define PIN_ROOT "/sys/fs/bpf/inflight"

/*
 * Makes `dir` (and its parents) on a bpf filesystem; bpffs is mounted at
 * /sys/fs/bpf first when the directory is under it and nothing is mounted
 * there yet. 0, or a negative errno with `err` naming the problem (the
 * failed mount or mkdir's, -ENOTSUP when `dir` is not on bpffs).
 */
int pin_prepare_dir(const char *dir, char *err, size_t errlen);

/* True if `dir` holds pinned state (its meta map). */
int pin_exists(const char *dir);

/*
 * DIR/NAME into `out`: 0, or -ENAMETOOLONG when it does not fit. The one
 * place pin paths are built.
 */
int pin_path(char *out, size_t size, const char *dir, const char *name);
/* Where map `map_name` pins in `dir`: bpffs reserves names with a dot ("inflight.data" pins as "inflight_data"). */
int pin_map_path(char *out, size_t size, const char *dir, const char *map_name);

/*
 * Removes everything pinned in `dir`, then `dir`: the probes detach. 0, or
 * the first failed call's negative errno (a missing `dir` is 0).
 */
int pin_remove(const char *dir);

#endif
