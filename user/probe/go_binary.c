// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "probe/elf_file.h"
#include "probe/go_binary.h"
#include "util/array_size.h"

/*
 * runtime.g.goid per Go release, read from each release's DWARF
 * (DW_TAG_member goid of runtime.g). 1.23 added g.syscallbp before it.
 */
static const struct {
	const char *release; /* "go1.N" */
	uint32_t goid;
} layouts[] = {
	{ "go1.19", 152 }, { "go1.21", 152 }, { "go1.22", 152 }, { "go1.23", 160 },
	{ "go1.24", 160 },
};

static const char buildinfo_magic[14] = "\xff Go buildinf:";

int go_buildinfo_version(const uint8_t *data, size_t len, char *out, size_t outlen)
{
	uint64_t n = 0;
	size_t pos = 32;
	int shift = 0;

	/* flags bit 1: strings inline after the 32-byte header (Go 1.18+) */
	if (len < 33 || memcmp(data, buildinfo_magic, sizeof(buildinfo_magic)) || !(data[15] & 2))
		return -EINVAL;
	for (;;) {
		if (pos >= len || shift > 28)
			return -EINVAL;
		n |= (uint64_t)(data[pos] & 0x7f) << shift;
		shift += 7;
		if (!(data[pos++] & 0x80))
			break;
	}
	if (n == 0 || n > len - pos)
		return -EINVAL;
	if (n >= outlen)
		return -ERANGE;
	memcpy(out, data + pos, n);
	out[n] = '\0';
	return 0;
}

uint32_t go_goid_offset(const char *version)
{
	for (size_t i = 0; i < ARRAY_SIZE(layouts); i++) {
		size_t n = strlen(layouts[i].release);

		/* "go1.22" matches go1.22, go1.22.12, go1.22rc1; not go1.2 or go1.221 */
		if (!strncmp(version, layouts[i].release, n) &&
		    (version[n] == '\0' || version[n] == '.' || version[n] == 'r' ||
		     version[n] == ' ' || version[n] == '-'))
			return layouts[i].goid;
	}
	return 0;
}

size_t go_prologue_len(const uint8_t *c, size_t size)
{
	static const uint8_t cmp_rsp[4] = { 0x49, 0x3b, 0x66, 0x10 }; /* cmp 0x10(%r14),%rsp */
	static const uint8_t cmp_r12[4] = { 0x4d, 0x3b, 0x66, 0x10 }; /* cmp 0x10(%r14),%r12 */
	size_t pos;

	if (size >= 4 && !memcmp(c, cmp_rsp, 4)) {
		pos = 4;
	} else if (size >= 5 && c[0] == 0x4c && c[1] == 0x8d && c[3] == 0x24 &&
		   (c[2] == 0x64 || c[2] == 0xa4)) {
		/* lea -N(%rsp),%r12 (disp8 or disp32) */
		pos = c[2] == 0x64 ? 5 : 8;
		if (size < pos + 4 || memcmp(c + pos, cmp_r12, 4))
			return 0;
		pos += 4;
	} else {
		return 0;
	}
	if (size >= pos + 2 && c[pos] == 0x76) /* jbe rel8 */
		return pos + 2;
	if (size >= pos + 6 && c[pos] == 0x0f && c[pos + 1] == 0x86) /* jbe rel32 */
		return pos + 6;
	return 0;
}

/* A runtime function's file offset, past its prologue. */
static int runtime_func(const struct elf_file *ef, const char *name, uint64_t *out, char *why,
			size_t whylen)
{
	struct elf_func f;
	uint8_t code[16];
	size_t n;

	if (elf_file_find_func(ef, name, &f)) {
		snprintf(why, whylen, "no %s in the binary (stripped?)", name);
		return -ENOENT;
	}
	n = f.size < sizeof(code) ? (size_t)f.size : sizeof(code);
	*out = f.offset;
	if (n && !elf_file_read(ef, f.offset, code, n))
		*out += go_prologue_len(code, n);
	return 0;
}

int go_binary_inspect(const struct elf_file *ef, struct go_binary *out, char *why, size_t whylen)
{
	uint64_t off, size;
	uint8_t *data = NULL;
	int rc = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (elf_file_section(ef, ".go.buildinfo", &off, &size) || size < 33) {
		snprintf(why, whylen, "no .go.buildinfo section: its Go version is unknown");
		return -ENOENT;
	}
	if (size > 4096)
		size = 4096; /* the version comes first */
	data = malloc(size);
	if (!data)
		rc = -ENOMEM;
	if (!data || elf_file_read(ef, off, data, size) ||
	    go_buildinfo_version(data, size, out->version, sizeof(out->version))) {
		snprintf(why, whylen, "cannot read the Go version in .go.buildinfo (Go 1.18 or later writes it)");
		goto cleanup;
	}
	out->goid_offset = go_goid_offset(out->version);
	if (!out->goid_offset) {
		snprintf(why, whylen, "built with %s, whose goroutine layout inflight does not know (known: go1.19, go1.21-go1.24)",
			 out->version);
		rc = -EOPNOTSUPP;
		goto cleanup;
	}
	rc = runtime_func(ef, "runtime.goexit1", &out->goexit1, why, whylen);
	if (!rc)
		rc = runtime_func(ef, "runtime.deferreturn", &out->deferreturn, why, whylen);
	if (rc)
		goto cleanup;
	rc = 0;
cleanup:
	free(data);
	return rc;
}
