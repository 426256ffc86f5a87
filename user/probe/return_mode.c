// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include "probe/elf_file.h"
#include "probe/return_mode.h"

static bool mentions_any(const struct elf_file *ef, const char *const *names)
{
	for (; *names; names++)
		if (elf_file_mentions(ef, *names))
			return true;
	return false;
}

void return_mode_facts(const struct elf_file *ef, struct unwind_facts *out)
{
	static const char *const cxx[] = {
		"__cxa_throw", "__cxa_rethrow", "__cxa_begin_catch",
		"__gxx_personality_v0", "_ZSt9terminatev", NULL,
	};
	static const char *const rust[] = {
		"rust_eh_personality", "__rust_start_panic", "_ZN3std9panicking11begin_panic", NULL,
	};
	static const char *const unwind[] = {
		"_Unwind_Resume", "_Unwind_RaiseException", "_Unwind_ForcedUnwind", NULL,
	};

	memset(out, 0, sizeof(*out));
	out->go = elf_file_has_section(ef, ".go.buildinfo") ||
		  elf_file_has_section(ef, ".gopclntab") || elf_file_defines(ef, "runtime.main");
	out->cxx = mentions_any(ef, cxx) || elf_file_needs(ef, "libstdc++.so") ||
		   elf_file_needs(ef, "libc++.so");
	out->rust = mentions_any(ef, rust);
	out->unwinder = mentions_any(ef, unwind);
}

enum return_mode return_mode_choose(enum return_mode requested,
				    const struct unwind_facts *f, const char **why)
{
	if (requested != RETURN_AUTO) {
		*why = "chosen by --return";
		return requested;
	}
	if (f->go) {
		*why = "Go binary: goroutine stacks move, a uretprobe would corrupt them";
		return RETURN_INSN;
	}
	if (f->cxx) {
		*why = "C++ exceptions in this binary: one unwinding through a uretprobe frame kills the worker";
		return RETURN_INSN;
	}
	if (f->rust) {
		*why = "Rust panics in this binary unwind the stack: a uretprobe frame would abort them";
		return RETURN_INSN;
	}
	if (f->unwinder) {
		*why = "this binary calls the stack unwinder: a uretprobe frame would break it";
		return RETURN_INSN;
	}
	*why = "no exception machinery or moving stacks in this binary";
	return RETURN_URETPROBE;
}

const char *return_mode_name(enum return_mode m)
{
	switch (m) {
	case RETURN_URETPROBE: return "uretprobe";
	case RETURN_INSN: return "insn";
	default: return "auto";
	}
}

int return_mode_parse(const char *s)
{
	if (!strcmp(s, "auto"))
		return RETURN_AUTO;
	if (!strcmp(s, "uretprobe"))
		return RETURN_URETPROBE;
	if (!strcmp(s, "insn"))
		return RETURN_INSN;
	return -EINVAL;
}
