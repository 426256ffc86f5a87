// SPDX-License-Identifier: MIT
/*
 * libFuzzer: the native stack walk over a thread's stack and code that a
 * process forged. The "remote" process is this one (process_vm_readv on
 * getpid(), as `inflight stuck` reads another): the input is copied into
 * a stack (anonymous, rw) and a code mapping (a memfd mapped r-x) at fixed
 * addresses, and the registers come from its first bytes.
 *
 * Input: flags (bit 0: ip inside the code, bit 1: sp inside the stack,
 * bit 2: bp inside the stack; else the raw value), max frames (% 65), ip,
 * sp, bp (uint64 little-endian), the stack's length (uint16), its bytes,
 * then the code's bytes. Stack words pointing at the code name it at
 * FUZZ_CODE (0x300000100000).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "probe/stack_walk.h"
#include "fuzz_addrs.h"

#define STACK_SIZE FUZZ_STACK_SIZE
#define CODE_SIZE FUZZ_CODE_SIZE
#define HDR FUZZ_STACK_HDR

static uint8_t *stack, *code_rw;
static size_t stack_used, code_used;
static struct symbolizer *sym;
/* this process's executable mappings: every return address found lies in one */
static struct {
	uint64_t start, end;
} exec_maps[512];
static size_t nexec;

static void *map_at(uint64_t addr, size_t len, int prot, int flags, int fd)
{
	void *p = mmap((void *)(uintptr_t)addr, len, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);

	if (p == MAP_FAILED || p != (void *)(uintptr_t)addr) {
		perror("fuzz_stack_walk: mmap");
		abort();
	}
	return p;
}

static void read_exec_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[4096 + 128], perms[8];
	unsigned long long s, e;

	if (!f)
		abort();
	while (fgets(line, sizeof(line), f) && nexec < sizeof(exec_maps) / sizeof(exec_maps[0]))
		if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) == 3 && perms[2] == 'x')
			exec_maps[nexec++] = (typeof(exec_maps[0])){ s, e };
	fclose(f);
}

static int in_exec(uint64_t a)
{
	for (size_t i = 0; i < nexec; i++)
		if (a >= exec_maps[i].start + 8 && a < exec_maps[i].end)
			return 1;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = memfd_create("fuzz_code", MFD_CLOEXEC);

	(void)argc;
	(void)argv;
	if (fd < 0 || ftruncate(fd, CODE_SIZE))
		abort();
	stack = map_at(FUZZ_STACK, STACK_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1);
	map_at(FUZZ_CODE, CODE_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED, fd);
	code_rw = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (code_rw == MAP_FAILED)
		abort();
	close(fd);
	/* the maps as the walk's symbolizer reads them, once (as stuck does per process) */
	sym = symbolizer_new(getpid());
	if (!sym)
		abort();
	read_exec_maps();
	return 0;
}

static uint64_t u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t ip, sp, bp, pcs[STACK_WALK_MAX];
	size_t max, slen, clen, n;
	uint8_t flags;

	if (size < HDR)
		return 0;
	flags = data[0];
	max = data[1] % (STACK_WALK_MAX + 1);
	ip = u64(data + 2);
	sp = u64(data + 10);
	bp = u64(data + 18);
	if (flags & 1)
		ip = FUZZ_CODE + ip % CODE_SIZE;
	if (flags & 2)
		sp = FUZZ_STACK + sp % STACK_SIZE;
	if (flags & 4)
		bp = FUZZ_STACK + bp % STACK_SIZE;
	slen = data[26] | (size_t)data[27] << 8;
	data += HDR;
	size -= HDR;
	slen = slen < size ? slen : size;
	slen = slen < STACK_SIZE ? slen : STACK_SIZE;
	clen = size - slen < CODE_SIZE ? size - slen : CODE_SIZE;
	/* what the last input left is cleared: each input is its own process */
	memset(stack, 0, stack_used);
	memset(code_rw, 0, code_used);
	memcpy(stack, data, slen);
	memcpy(code_rw, data + slen, clen);
	stack_used = slen;
	code_used = clen;

	n = stack_walk(sym, ip, sp, bp, pcs, max);
	if (!ip || !max ? n != 0 : (n < 1 || n > max || pcs[0] != ip))
		abort();
	for (size_t i = 0; i < n; i++) {
		struct stack_sym s;
		int rc = symbolize(sym, pcs[i], i > 0, &s);

		/* a return address lies in executable memory, past a call's bytes */
		if (i > 0 && !in_exec(pcs[i]))
			abort();
		if ((rc && rc != -ENOENT) || strnlen(s.func, sizeof(s.func)) == sizeof(s.func) ||
		    strnlen(s.file, sizeof(s.file)) == sizeof(s.file))
			abort();
	}
	return 0;
}
