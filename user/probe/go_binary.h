/* SPDX-License-Identifier: MIT */
/*
 * What inflight needs to know about a Go binary: its Go version (from
 * .go.buildinfo), the runtime.g layout of that version, the runtime
 * functions that end goroutines and resume recovered panics, and where a
 * function's stack-check prologue ends.
 */
#ifndef INFLIGHT_GO_BINARY_H
#define INFLIGHT_GO_BINARY_H

#include <stddef.h>
#include <stdint.h>

struct elf_file;

struct go_binary {
	char version[32];      /* "go1.22.12" */
	uint32_t goid_offset;  /* of runtime.g.goid */
	uint64_t goexit1;      /* file offsets of runtime.goexit1 ... */
	uint64_t deferreturn;  /* ... and runtime.deferreturn, past their prologue */
};

/*
 * Reads the Go facts of `ef` (a Go binary). 0, or a negative errno with
 * `why` saying what is missing: -ENOENT (no .go.buildinfo, no runtime
 * function), -EINVAL (the version unreadable), -EOPNOTSUPP (an unknown Go
 * version, named), -ENOMEM.
 */
int go_binary_inspect(const struct elf_file *ef, struct go_binary *out, char *why, size_t whylen);

/*
 * The version string inside a .go.buildinfo section's bytes (Go 1.18 and
 * later write it inline): 0, -EINVAL (not one, or cut short), or -ERANGE
 * (longer than `outlen`).
 */
int go_buildinfo_version(const uint8_t *data, size_t len, char *out, size_t outlen);

/* The offset of runtime.g.goid for a version string, or 0 when unknown. */
uint32_t go_goid_offset(const char *version);

/*
 * Bytes of the stack-check prologue at a Go function's start
 * (cmp 0x10(%r14),%rsp or lea/cmp through %r12, then jbe): probing after
 * it sees the same registers and sp, and a call that grows its stack or is
 * preempted there (which runs the prologue again) is seen once. 0 if the
 * function has none.
 */
size_t go_prologue_len(const uint8_t *code, size_t size);

#endif
