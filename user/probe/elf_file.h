/* SPDX-License-Identifier: MIT */
/* Reading the target binary: function symbols, code bytes, linkage facts. */
#ifndef INFLIGHT_ELF_FILE_H
#define INFLIGHT_ELF_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct elf_file;

struct elf_func {
	const char *name; /* owned by the elf_file */
	uint64_t addr;    /* virtual address (st_value) */
	uint64_t size;
	uint64_t offset;  /* file offset: what uprobes are attached by */
};

/*
 * Opens `path` as an x86-64 ELF executable or shared object. On failure
 * returns NULL with a reason in `err` ("not an ELF file", ...) and errno
 * set (the open's, EINVAL for a file that is not regular, ENOEXEC for
 * content that is not a usable ELF file, ENOMEM). Only a
 * regular file is accepted, and opening never blocks: a watched process
 * can put a FIFO where a file is expected. A path inside /proc/PID/root
 * resolves its symlinks inside that root.
 */
struct elf_file *elf_file_open(const char *path, char *err, size_t errlen);
/* The same, named `shown` in messages (e.g. /proc/PID/exe shown as its path). */
struct elf_file *elf_file_open_as(const char *path, const char *shown, char *err, size_t errlen);
void elf_file_close(struct elf_file *ef);
const char *elf_file_path(const struct elf_file *ef);
/*
 * The opened file itself as a path (/proc/self/fd/N), valid while it is
 * open: what probes attach to, so the file parsed is the file probed even if
 * its name now leads elsewhere.
 */
const char *elf_file_probe_path(const struct elf_file *ef);
/* The opened file's device and inode. */
void elf_file_identity(const struct elf_file *ef, dev_t *dev, ino_t *ino);
/* The opened file's descriptor, owned by `ef`. */
int elf_file_fd(const struct elf_file *ef);

/*
 * Finds a defined function by exact name in .symtab or .dynsym.
 * Returns 0, -ENOENT when absent, -EEXIST when several distinct functions
 * carry the name (static functions in different files).
 */
int elf_file_find_func(const struct elf_file *ef, const char *name, struct elf_func *out);

/* Every defined function with a size, sorted by name, duplicates removed. */
size_t elf_file_funcs(const struct elf_file *ef, const struct elf_func **out);

/* Reads file bytes at a file offset; 0, -EIO if the file is shorter, or pread's errno. */
int elf_file_read(const struct elf_file *ef, uint64_t offset, void *buf, size_t len);

/*
 * Converts a virtual address to a file offset; 0, or -ENOENT if unmapped
 * (-ENOEXEC: the program headers cannot be read).
 */
int elf_file_vaddr_to_offset(const struct elf_file *ef, uint64_t vaddr, uint64_t *offset);

/*
 * The reverse: the virtual address of a file offset (in any PT_LOAD
 * segment); 0, or -ENOENT (-ENOEXEC: the program headers cannot be read).
 */
int elf_file_offset_to_vaddr(const struct elf_file *ef, uint64_t offset, uint64_t *vaddr);
/*
 * The function (with a size, from .symtab or .dynsym) whose range holds
 * `vaddr`: 0, -ENOENT, or -ENOMEM. For naming return addresses.
 */
int elf_file_func_at(const struct elf_file *ef, uint64_t vaddr, struct elf_func *out);

/* The value of a defined symbol of any type; 0, or -ENOENT. */
int elf_file_symbol(const struct elf_file *ef, const char *name, uint64_t *value);

/* The first PT_LOAD segment's virtual address and file offset: 0, -ENOENT or -ENOEXEC. */
int elf_file_first_load(const struct elf_file *ef, uint64_t *vaddr, uint64_t *offset);

/* A symbol of that name is defined here (any type). */
bool elf_file_defines(const struct elf_file *ef, const char *name);
/* A symbol of that name is defined or imported here. */
bool elf_file_mentions(const struct elf_file *ef, const char *name);
bool elf_file_has_section(const struct elf_file *ef, const char *name);
/* A section's place in the file (size 0 if it takes no file space): 0, or -ENOENT. */
int elf_file_section(const struct elf_file *ef, const char *name, uint64_t *offset,
		     uint64_t *size);
/* A DT_NEEDED entry starts with `prefix` (e.g. "libstdc++.so"). */
bool elf_file_needs(const struct elf_file *ef, const char *prefix);

/* The stapsdt notes, for USDT listing and checks. */
struct usdt_note {
	const char *provider;
	const char *name;
	const char *args;
	uint64_t pc;
};
size_t elf_file_usdt_notes(const struct elf_file *ef, const struct usdt_note **out);

#endif
