// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "probe/elf_file.h"
#include "probe/stack_walk.h"
#include "probe/target.h"
#include "util/grow.h"
#include "util/proc_mem.h"

/* Words between sp and the first frame scanned for return addresses. */
#define SCAN_WORDS 512
/* Return addresses taken from that scan at most (the rest is the chain's). */
#define SCAN_FRAMES 8
/* A scanned frame's call must enter a function at most this far below the pc inside it. */
#define CALLEE_SPAN 0x10000

struct mapping {
	uint64_t start, end, offset, dev, inode;
	bool exec;
	/*
	 * The kernel's uretprobe trampoline: a return address there is one a
	 * return probe took over (the real one is kept by the kernel)
	 */
	bool uprobes;
	char *file; /* NULL: anonymous */
	struct elf_file *ef; /* opened on first use */
	bool open_failed;
};

struct symbolizer {
	pid_t pid;
	struct mapping *v;
	size_t n;
};

static void maps_free(struct mapping *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].file);
		elf_file_close(v[i].ef);
	}
	free(v);
}

/* The process's mappings now. 0, or a negative errno. */
static int maps_read(pid_t pid, struct mapping **out, size_t *nout)
{
	char path[64], line[4096 + 128], *name;
	struct mapping *v = NULL;
	size_t n = 0, cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct maps_line ml;
		struct mapping *g;

		/* target_maps_line names files only: the trampoline's name is read here */
		name = strstr(line, "[uprobes]");
		if (target_maps_line(line, &ml))
			continue;
		g = grow_array(v, &cap, n + 1, sizeof(*g));
		if (!g)
			goto oom;
		v = g;
		v[n] = (struct mapping){ .start = ml.start, .end = ml.end, .offset = ml.offset,
					 .dev = ml.dev, .inode = ml.inode, .exec = ml.perms[2] == 'x' };
		v[n].uprobes = name && !ml.file;
		/* a file's mapping; "[stack]", "[vdso]" and the like are not files */
		if (ml.file && ml.file[0] == '/' && ml.inode) {
			v[n].file = strdup(ml.file);
			if (!v[n].file)
				goto oom;
		}
		n++;
	}
	fclose(f);
	*out = v;
	*nout = n;
	return 0;
oom:
	fclose(f);
	maps_free(v, n);
	return -ENOMEM;
}

/* maps lists mappings in address order */
static struct mapping *mapping_of(struct mapping *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < v[mid].start)
			hi = mid;
		else if (addr >= v[mid].end)
			lo = mid + 1;
		else
			return &v[mid];
	}
	return NULL;
}

/*
 * A return address: in executable memory, right after a call: e8 rel32
 * (5 bytes back), ff /2 through a register or memory (2, 3, 6 or 7 bytes
 * back, ModRM reg field 2).
 */
static bool after_call(struct proc_mem *m, struct mapping *v, size_t n, uint64_t addr)
{
	struct mapping *map = mapping_of(v, n, addr);
	uint8_t b[8];

	if (map && map->uprobes)
		return true;
	if (!map || !map->exec || addr < map->start + sizeof(b) || proc_read(m, addr - 8, b, 8))
		return false;
	if (b[3] == 0xe8)
		return true;
	for (int len = 2; len <= 7; len++) {
		const uint8_t *op = b + 8 - len;

		if (op[0] == 0xff && ((op[1] >> 3) & 7) == 2)
			return true;
	}
	return false;
}

/* A frame base: inside the stack above `floor`, aligned, its return address after a call. */
static bool frame_base(struct proc_mem *m, struct mapping *v, size_t n, const struct mapping *stack,
		       uint64_t bp, uint64_t floor, uint64_t frame[2])
{
	/* not bp + 16 > end: a bp within 16 of 2^64 wraps that sum and passes */
	if (bp < floor || bp & 7 || bp < stack->start || bp > stack->end - 16)
		return false;
	return !proc_read(m, bp, frame, 16) && after_call(m, v, n, frame[1]);
}

/*
 * Where the direct call just before return address `ret` goes (e8 rel32),
 * through a PLT stub to the function its GOT slot holds: 0 if it is no
 * direct call or the stub cannot be read.
 */
static uint64_t call_target(struct proc_mem *m, uint64_t ret)
{
	uint8_t call[5], stub[16];
	int32_t rel;
	uint64_t target, got, fn;
	size_t at = 0;

	if (proc_read(m, ret - 5, call, sizeof(call)) || call[0] != 0xe8)
		return 0;
	memcpy(&rel, call + 1, sizeof(rel));
	target = ret + (uint64_t)(int64_t)rel;
	if (proc_read(m, target, stub, sizeof(stub)))
		return target;
	/* endbr64, then a bnd prefix: a PLT stub's jmp *GOT(%rip) follows */
	if (!memcmp(stub, "\xf3\x0f\x1e\xfa", 4))
		at = 4;
	if (stub[at] == 0xf2)
		at++;
	if (stub[at] != 0xff || stub[at + 1] != 0x25)
		return target;
	memcpy(&rel, stub + at + 2, sizeof(rel));
	got = target + at + 6 + (uint64_t)(int64_t)rel;
	if (proc_read(m, got, &fn, sizeof(fn)))
		return 0;
	return fn;
}

/*
 * A scanned word is the return address of the frame above `pc` only if
 * the call before it enters the function `pc` is in: a direct call to an
 * entry at most CALLEE_SPAN from pc. Stale return addresses left in
 * unused stack slots rarely pass; an indirect call cannot be checked and
 * is not taken.
 */
static bool calls_into(struct proc_mem *m, uint64_t ret, uint64_t pc)
{
	uint64_t target = call_target(m, ret);

	/* either side: a tail call (jmp) on the way moves the pc below the entry called */
	return target && (target <= pc ? pc - target : target - pc) < CALLEE_SPAN;
}

size_t stack_walk(struct symbolizer *s, uint64_t ip, uint64_t sp, uint64_t bp, uint64_t *pcs,
		  size_t max)
{
	struct proc_mem m = { .pid = s->pid };
	struct mapping *v = s->v, *stack;
	uint64_t words[SCAN_WORDS], frame[2];
	size_t nmaps = s->n, n = 0, nw, found = 0;
	bool chain;

	if (!ip || !max)
		return 0;
	pcs[n++] = ip;
	stack = mapping_of(v, nmaps, sp);
	if (!stack || stack->exec || stack->file)
		return n;
	chain = frame_base(&m, v, nmaps, stack, bp, sp, frame);
	/*
	 * Below the first frame lie those of functions without frame pointers
	 * (a libc wrapper the thread sleeps in): their return addresses are
	 * told by the call before them. With no frame to start from (the
	 * thread's bp used as a plain register), the word below a return
	 * address may be its caller's saved bp: the chain resumes there.
	 */
	nw = ((chain ? bp : stack->end) - sp) / 8;
	nw = nw < SCAN_WORDS ? nw : SCAN_WORDS;
	if (nw && !proc_read(&m, sp & ~7ull, words, nw * 8)) {
		for (size_t i = 0; i < nw && found < SCAN_FRAMES && n < max; i++) {
			uint64_t slot = (sp & ~7ull) + 8 * i;
			/*
			 * The word below it the caller's saved bp, a frame that
			 * chains on: a frame-pointer frame, whatever call made it
			 * (an indirect one included).
			 */
			bool resume = !chain && i > 0 &&
				      frame_base(&m, v, nmaps, stack, words[i - 1], slot + 8, frame);

			/*
			 * Resuming takes a call it cannot check (an indirect
			 * one), never a direct call into another function: that
			 * is a stale return address above a stale saved bp.
			 */
			if (!after_call(&m, v, nmaps, words[i]) ||
			    (!calls_into(&m, words[i], pcs[n - 1]) &&
			     (!resume || call_target(&m, words[i]))))
				continue;
			pcs[n++] = words[i];
			found++;
			if (resume) {
				bp = words[i - 1];
				chain = true;
				break;
			}
		}
	}
	/* the chain: [bp] the caller's bp, above this frame; [bp + 8] the return address */
	while (chain && n < max) {
		uint64_t caller = frame[0];

		pcs[n++] = frame[1];
		chain = frame_base(&m, v, nmaps, stack, caller, bp + 16, frame);
		bp = caller;
	}
	return n;
}

struct symbolizer *symbolizer_new(pid_t pid)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->pid = pid;
	/* a process gone or unreadable: every address stays unnamed */
	maps_read(pid, &s->v, &s->n);
	return s;
}

int symbolize(struct symbolizer *s, uint64_t addr, int is_return, struct stack_sym *out)
{
	uint64_t look = is_return ? addr - 1 : addr, vaddr;
	struct mapping *map = mapping_of(s->v, s->n, look), *at = mapping_of(s->v, s->n, addr);
	struct elf_func f;

	out->func[0] = out->file[0] = '\0';
	out->offset = 0;
	/* a return a uretprobe took over: its address is the trampoline's own */
	if (at && at->uprobes) {
		snprintf(out->file, sizeof(out->file), "[uprobes]");
		return 0;
	}
	if (!map || !map->file)
		return -ENOENT;
	snprintf(out->file, sizeof(out->file), "%s", map->file);
	if (!map->ef && !map->open_failed) {
		struct target_mapping tm = { .start = map->start, .end = map->end,
					     .inode = map->inode, .dev = map->dev };
		char err[512];

		snprintf(tm.file, sizeof(tm.file), "%s", map->file);
		map->ef = target_open_mapping(s->pid, &tm, err, sizeof(err));
		map->open_failed = !map->ef;
	}
	if (!map->ef ||
	    elf_file_offset_to_vaddr(map->ef, look - map->start + map->offset, &vaddr) ||
	    elf_file_func_at(map->ef, vaddr, &f))
		return 0;
	snprintf(out->func, sizeof(out->func), "%s", f.name);
	out->offset = vaddr + (addr - look) - f.addr;
	return 0;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	maps_free(s->v, s->n);
	free(s);
}
