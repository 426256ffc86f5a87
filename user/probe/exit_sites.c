// SPDX-License-Identifier: MIT
#include <capstone/capstone.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "probe/exit_sites.h"
#include "util/grow.h"

/*
 * capstone is loaded only while exits are being found: its tables cost the
 * collector about 3 MB of memory, which uretprobe mode never needs.
 */
struct capstone {
	void *lib;
	cs_err (*open)(cs_arch, cs_mode, csh *);
	cs_err (*option)(csh, cs_opt_type, size_t);
	cs_insn *(*malloc_insn)(csh);
	bool (*disasm_iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
	void (*free)(cs_insn *, size_t);
	cs_err (*close)(csh *);
};

static int capstone_load(struct capstone *c, char *err, size_t errlen)
{
	c->lib = dlopen("libcapstone.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!c->lib) {
		snprintf(err, errlen, "cannot load capstone (libcapstone4): %s", dlerror());
		return -ELIBACC;
	}
	c->open = (cs_err(*)(cs_arch, cs_mode, csh *))dlsym(c->lib, "cs_open");
	c->option = (cs_err(*)(csh, cs_opt_type, size_t))dlsym(c->lib, "cs_option");
	c->malloc_insn = (cs_insn * (*)(csh)) dlsym(c->lib, "cs_malloc");
	c->disasm_iter = (bool (*)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *))dlsym(
		c->lib, "cs_disasm_iter");
	c->free = (void (*)(cs_insn *, size_t))dlsym(c->lib, "cs_free");
	c->close = (cs_err(*)(csh *))dlsym(c->lib, "cs_close");
	if (!c->open || !c->option || !c->malloc_insn || !c->disasm_iter || !c->free || !c->close) {
		snprintf(err, errlen, "libcapstone.so.4 lacks the functions inflight uses");
		dlclose(c->lib);
		return -ELIBBAD;
	}
	return 0;
}

static int map_reg(x86_reg r)
{
	switch (r) {
	case X86_REG_RAX: return INFLIGHT_REG_AX;
	case X86_REG_RBX: return INFLIGHT_REG_BX;
	case X86_REG_RCX: return INFLIGHT_REG_CX;
	case X86_REG_RDX: return INFLIGHT_REG_DX;
	case X86_REG_RSI: return INFLIGHT_REG_SI;
	case X86_REG_RDI: return INFLIGHT_REG_DI;
	case X86_REG_RBP: return INFLIGHT_REG_BP;
	case X86_REG_RSP: return INFLIGHT_REG_SP;
	case X86_REG_R8: return INFLIGHT_REG_R8;
	case X86_REG_R9: return INFLIGHT_REG_R9;
	case X86_REG_R10: return INFLIGHT_REG_R10;
	case X86_REG_R11: return INFLIGHT_REG_R11;
	case X86_REG_R12: return INFLIGHT_REG_R12;
	case X86_REG_R13: return INFLIGHT_REG_R13;
	case X86_REG_R14: return INFLIGHT_REG_R14;
	case X86_REG_R15: return INFLIGHT_REG_R15;
	case X86_REG_RIP: return INFLIGHT_REG_IP;
	case X86_REG_INVALID: return INFLIGHT_NO_REG;
	default: return -ENOENT; /* a register BPF cannot read */
	}
}

static int jcc_code(unsigned id)
{
	switch (id) {
	case X86_INS_JO: return INFLIGHT_CC_O;
	case X86_INS_JNO: return INFLIGHT_CC_NO;
	case X86_INS_JB: return INFLIGHT_CC_B;
	case X86_INS_JAE: return INFLIGHT_CC_AE;
	case X86_INS_JE: return INFLIGHT_CC_E;
	case X86_INS_JNE: return INFLIGHT_CC_NE;
	case X86_INS_JBE: return INFLIGHT_CC_BE;
	case X86_INS_JA: return INFLIGHT_CC_A;
	case X86_INS_JS: return INFLIGHT_CC_S;
	case X86_INS_JNS: return INFLIGHT_CC_NS;
	case X86_INS_JP: return INFLIGHT_CC_P;
	case X86_INS_JNP: return INFLIGHT_CC_NP;
	case X86_INS_JL: return INFLIGHT_CC_L;
	case X86_INS_JGE: return INFLIGHT_CC_GE;
	case X86_INS_JLE: return INFLIGHT_CC_LE;
	case X86_INS_JG: return INFLIGHT_CC_G;
	default: return -ENOENT; /* not a Jcc */
	}
}

static bool inside(const struct code_part *parts, size_t nparts, uint64_t a)
{
	for (size_t i = 0; i < nparts; i++)
		if (a >= parts[i].addr && a < parts[i].addr + parts[i].size)
			return true;
	return false;
}

struct site_list {
	struct exit_site *v;
	size_t n, cap;
};

static struct exit_site *push(struct site_list *l, const struct code_part *parts,
			      size_t nparts, const cs_insn *in, uint64_t offset)
{
	struct exit_site *s, *v;

	v = grow_array(l->v, &l->cap, l->n + 1, sizeof(*v));
	if (!v)
		return NULL;
	l->v = v;
	s = &l->v[l->n++];
	memset(s, 0, sizeof(*s));
	s->tail = in->id != X86_INS_RET && in->id != X86_INS_RETF && in->id != X86_INS_RETFQ;
	s->addr = in->address;
	s->offset = offset;
	snprintf(s->text, sizeof(s->text), "%s%s%s", in->mnemonic, in->op_str[0] ? " " : "",
		 in->op_str);
	s->rt.kind = INFLIGHT_SITE_RET;
	s->rt.base = s->rt.index = INFLIGHT_NO_REG;
	/* the function's own code, relative to this site, for run-time checks */
	for (size_t i = 0; i < nparts && i < 2; i++) {
		s->rt.lo[i] = (int64_t)(parts[i].addr - in->address);
		s->rt.hi[i] = s->rt.lo[i] + (int64_t)parts[i].size;
	}
	return s;
}

/*
 * Classifies one instruction; returns 1 if it was an exit, 0 if not,
 * -ENOMEM (`err` left empty), or -EOPNOTSUPP with `err` set.
 */
static int classify(const struct code_part *parts, size_t nparts, const cs_insn *in,
		    uint64_t offset, struct site_list *l, char *err, size_t errlen)
{
	const cs_x86 *x = &in->detail->x86;
	const cs_x86_op *op = x->op_count ? &x->operands[0] : NULL;
	struct exit_site *s;
	int cc = -1;

	if (in->id == X86_INS_RET || in->id == X86_INS_RETF || in->id == X86_INS_RETFQ)
		return push(l, parts, nparts, in, offset) ? 1 : -ENOMEM;
	/* from here on, every exit found is a jump out of the function */
	if (in->id == X86_INS_JMP) {
		if (!op)
			return 0;
		if (op->type == X86_OP_IMM) {
			if (inside(parts, nparts, (uint64_t)op->imm))
				return 0;
			return push(l, parts, nparts, in, offset) ? 1 : -ENOMEM;
		}
		s = push(l, parts, nparts, in, offset);
		if (!s)
			return -ENOMEM;
		if (op->type == X86_OP_REG) {
			int r = map_reg(op->reg);

			if (r < 0 || r == INFLIGHT_NO_REG)
				goto unsupported;
			s->rt.kind = INFLIGHT_SITE_JMP_REG;
			s->rt.base = (uint8_t)r;
			return 1;
		}
		if (op->type == X86_OP_MEM) {
			int b = map_reg(op->mem.base), i = map_reg(op->mem.index);

			if (b < 0 || i < 0 || op->mem.segment != X86_REG_INVALID)
				goto unsupported;
			s->rt.kind = INFLIGHT_SITE_JMP_MEM;
			s->rt.base = (uint8_t)b;
			s->rt.index = (uint8_t)i;
			s->rt.scale = (uint8_t)(op->mem.scale ? op->mem.scale : 1);
			s->rt.disp = op->mem.disp;
			/* rip-relative is relative to the next instruction; BPF adds the site's ip */
			if (b == INFLIGHT_REG_IP)
				s->rt.disp += in->size;
			return 1;
		}
		goto unsupported;
	}
	if (in->id == X86_INS_LJMP)
		goto unsupported;
	cc = jcc_code(in->id);
	if (cc >= 0 || in->id == X86_INS_JRCXZ || in->id == X86_INS_JECXZ ||
	    in->id == X86_INS_JCXZ || in->id == X86_INS_LOOP || in->id == X86_INS_LOOPE ||
	    in->id == X86_INS_LOOPNE) {
		if (!op || op->type != X86_OP_IMM || inside(parts, nparts, (uint64_t)op->imm))
			return 0;
		if (cc < 0) {
			snprintf(err, errlen, "%s at 0x%" PRIx64 " leaves the function on a condition inflight cannot evaluate",
				 in->mnemonic, in->address);
			return -EOPNOTSUPP;
		}
		s = push(l, parts, nparts, in, offset);
		if (!s)
			return -ENOMEM;
		s->rt.kind = INFLIGHT_SITE_JCC;
		s->rt.cc = (uint8_t)cc;
		return 1;
	}
	return 0;
unsupported:
	snprintf(err, errlen, "cannot follow '%s %s' at 0x%" PRIx64, in->mnemonic, in->op_str,
		 in->address);
	return -EOPNOTSUPP;
}

int exit_sites_find(const struct code_part *parts, size_t nparts,
		    struct exit_site **out, char *err, size_t errlen)
{
	struct site_list l = { 0 };
	struct capstone c;
	cs_insn *in = NULL;
	csh cs = 0;
	int rc;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	rc = capstone_load(&c, err, errlen);
	if (rc)
		return rc;
	if (c.open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		snprintf(err, errlen, "capstone cannot open an x86-64 disassembler");
		dlclose(c.lib);
		return -ELIBBAD;
	}
	rc = -ENOMEM;
	c.option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	in = c.malloc_insn(cs);
	if (!in) {
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	for (size_t p = 0; p < nparts; p++) {
		if (parts[p].size > EXIT_SITES_MAX_CODE) {
			snprintf(err, errlen, "%zu bytes of code, more than the %u inflight disassembles",
				 parts[p].size, EXIT_SITES_MAX_CODE);
			rc = -E2BIG;
			goto cleanup;
		}
	}
	for (size_t p = 0; p < nparts; p++) {
		const uint8_t *code = parts[p].bytes;
		size_t left = parts[p].size;
		uint64_t addr = parts[p].addr;

		while (left) {
			uint64_t at = addr;

			if (!c.disasm_iter(cs, &code, &left, &addr, in)) {
				snprintf(err, errlen, "cannot decode the instruction at 0x%" PRIx64, at);
				rc = -EILSEQ;
				goto cleanup;
			}
			rc = classify(parts, nparts, in, parts[p].offset + (at - parts[p].addr), &l, err,
				      errlen);
			if (rc < 0) {
				if (errlen && !err[0])
					snprintf(err, errlen, "out of memory");
				goto cleanup;
			}
			/* a probe per exit: a damaged or hostile ELF must not ask for millions */
			if (l.n > EXIT_SITES_MAX) {
				snprintf(err, errlen, "more than %d exits, the most inflight probes",
					 EXIT_SITES_MAX);
				rc = -E2BIG;
				goto cleanup;
			}
		}
	}
	if (!l.n) {
		snprintf(err, errlen, "no return or tail jump found: the function never returns");
		rc = -ENOENT;
		goto cleanup;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].addr == parts[0].addr) {
			snprintf(err, errlen, "the first instruction already leaves the function ('%s'): probe its target instead",
				 l.v[i].text);
			rc = -EOPNOTSUPP;
			goto cleanup;
		}
	}
	*out = l.v;
	l.v = NULL;
	rc = (int)l.n;
cleanup:
	free(l.v);
	if (in)
		c.free(in, 1);
	c.close(&cs);
	dlclose(c.lib);
	return rc;
}
