// SPDX-License-Identifier: MIT
/*
 * libFuzzer: naming a CPython frame (py_frame_describe: its code object's
 * qualname, file and line) from memory a process forged. The "remote"
 * process is this one (process_vm_readv on getpid()): the input is copied
 * into an anonymous mapping at FUZZ_PY (0x300000200000) that holds the
 * code object, its strs and its location table.
 *
 * Input: the layout (index into py_layouts), flags (bit 0: the instruction
 * relative to the code's bytecode, bit 1: unknown), the code object's
 * offset in the mapping (uint16), the instruction (uint64), then the
 * mapping's bytes. The types a code object and a str must have are
 * FUZZ_CODE_TYPE and FUZZ_STR_TYPE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "python/py_frame_info.h"
#include "util/utf8.h"
#include "fuzz_addrs.h"

#define REGION FUZZ_PY_SIZE
#define HDR FUZZ_PY_HDR

static uint8_t *region;
static size_t used;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	region = mmap((void *)(uintptr_t)FUZZ_PY, REGION, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (region != (void *)(uintptr_t)FUZZ_PY) {
		perror("fuzz_py_frame_info: mmap");
		abort();
	}
	return 0;
}

/* what a name must be: valid UTF-8, whole, not empty */
static void check_text(const char *s, size_t size)
{
	char copy[UTF8_SANITIZED_MAX(1024)];
	size_t len = strnlen(s, size);

	if (len == size || !len || utf8_sanitize(s, len, copy, sizeof(copy)) != len ||
	    memcmp(copy, s, len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct py_process p;
	struct py_frame_ref f;
	struct py_frame_info fi;
	uint64_t instr;
	size_t len;
	int rc;

	if (size < HDR)
		return 0;
	memset(&p, 0, sizeof(p));
	p.pid = getpid();
	p.L = py_layouts[data[0] % py_layouts_count];
	p.minor = p.L.minor;
	p.unicode_type = FUZZ_STR_TYPE;
	p.code_type = FUZZ_CODE_TYPE;
	f.code = FUZZ_PY + ((data[2] | (uint64_t)data[3] << 8) % REGION);
	memcpy(&instr, data + 4, sizeof(instr));
	if (data[1] & 2)
		instr = PY_INSTR_UNKNOWN;
	else if ((data[1] & 1) && p.L.code_adaptive >= 0)
		instr = f.code + (uint64_t)p.L.code_adaptive + instr % 4096;
	else if (data[1] & 1)
		instr %= 4096; /* 3.10: an index */
	f.instr = instr;
	len = size - HDR < REGION ? size - HDR : REGION;
	memset(region, 0, used);
	memcpy(region, data + HDR, len);
	used = len;

	rc = py_frame_describe(&p, &f, &fi);
	if (rc && rc != -EINVAL && rc != -EFAULT)
		abort();
	check_text(fi.func, sizeof(fi.func));
	check_text(fi.file, sizeof(fi.file));
	if (fi.line < -1)
		abort();
	return 0;
}
