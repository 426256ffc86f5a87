// SPDX-License-Identifier: MIT
/*
 * libFuzzer: an ELF file, which a watched process controls (its executable
 * and libraries): opened and every query the collector makes answered
 * without reading outside what was given.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "probe/elf_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
	char path[64], err[256];
	const struct elf_func *funcs;
	const struct usdt_note *notes;
	struct elf_file *ef;
	uint64_t v, off;
	uint8_t code[16];
	size_t n;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ef = elf_file_open(path, err, sizeof(err));
	close(fd); /* the elf_file holds its own descriptor */
	if (!ef) {
		if (!err[0])
			abort(); /* a refusal says why */
		return 0;
	}
	n = elf_file_funcs(ef, &funcs);
	for (size_t i = 0; i < n; i++) {
		struct elf_func f;

		if (!funcs[i].name || (i && strcmp(funcs[i - 1].name, funcs[i].name) > 0))
			abort(); /* sorted by name */
		if (i < 8 && !elf_file_find_func(ef, funcs[i].name, &f))
			elf_file_read(ef, f.offset, code, sizeof(code));
		/*
		 * stuck's symbolizer: a file offset back to an address, and the
		 * function there, which holds it
		 */
		if (i < 8 && !elf_file_offset_to_vaddr(ef, funcs[i].offset + 1, &v) &&
		    !elf_file_func_at(ef, v, &f) && (v < f.addr || v - f.addr >= f.size))
			abort();
	}
	n = elf_file_usdt_notes(ef, &notes);
	for (size_t i = 0; i < n; i++)
		if (strlen(notes[i].provider) + strlen(notes[i].name) + strlen(notes[i].args) > size)
			abort(); /* the strings lie in the file */
	elf_file_symbol(ef, "_PyRuntime", &v);
	elf_file_first_load(ef, &v, &off);
	elf_file_vaddr_to_offset(ef, v, &off);
	elf_file_defines(ef, "main");
	elf_file_mentions(ef, "__cxa_begin_catch");
	elf_file_has_section(ef, ".note.stapsdt");
	elf_file_needs(ef, "libstdc++.so");
	elf_file_close(ef);
	return 0;
}
