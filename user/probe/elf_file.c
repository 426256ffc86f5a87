// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "probe/elf_file.h"
#include "util/grow.h"

struct sym {
	char *name;
	uint64_t value;
	uint64_t size;
	unsigned char type;
	bool defined;
};

struct elf_file {
	char *path;
	int fd;
	char probe_path[32]; /* /proc/self/fd/N */
	dev_t dev;
	ino_t ino;
	Elf *elf;
	GElf_Ehdr ehdr;
	struct sym *syms;
	size_t nsyms;
	struct elf_func *funcs; /* sorted, unique; built on first use */
	size_t nfuncs;
	bool funcs_built;
	char **needed;
	size_t nneeded;
	struct usdt_note *notes;
	size_t nnotes;
	/* elf_file_func_at: the functions by address, built on first use */
	const struct elf_func **by_addr;
	bool by_addr_built;
};

static int add_sym(struct elf_file *ef, const char *name, const GElf_Sym *s, size_t *cap)
{
	struct sym *n;

	if (!name || !name[0])
		return 0;
	n = grow_array(ef->syms, cap, ef->nsyms + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	ef->syms = n;
	n = &ef->syms[ef->nsyms];
	n->name = strdup(name);
	if (!n->name)
		return -ENOMEM;
	n->value = s->st_value;
	n->size = s->st_size;
	n->type = GELF_ST_TYPE(s->st_info);
	n->defined = s->st_shndx != SHN_UNDEF;
	ef->nsyms++;
	return 0;
}

static int load_symbols(struct elf_file *ef, Elf_Scn *scn, GElf_Shdr *sh, size_t *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n;

	if (!data || !sh->sh_entsize)
		return 0;
	n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 1; i < n; i++) {
		GElf_Sym s;

		if (!gelf_getsym(data, (int)i, &s))
			continue;
		int rc = add_sym(ef, elf_strptr(ef->elf, sh->sh_link, s.st_name), &s, cap);

		if (rc)
			return rc;
	}
	return 0;
}

static int load_needed(struct elf_file *ef, Elf_Scn *scn, GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n;

	if (!data || !sh->sh_entsize)
		return 0;
	n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Dyn d;
		const char *name;
		char **grown;

		if (!gelf_getdyn(data, (int)i, &d) || d.d_tag != DT_NEEDED)
			continue;
		name = elf_strptr(ef->elf, sh->sh_link, d.d_un.d_val);
		if (!name)
			continue;
		grown = realloc(ef->needed, (ef->nneeded + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		ef->needed = grown;
		ef->needed[ef->nneeded] = strdup(name);
		if (!ef->needed[ef->nneeded])
			return -ENOMEM;
		ef->nneeded++;
	}
	return 0;
}

/* stapsdt note descriptor: pc, base, semaphore (3 words), then 3 strings. */
static int load_notes(struct elf_file *ef, Elf_Scn *scn)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	if (!data)
		return 0;
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const char *desc = (const char *)data->d_buf + desc_off;
		const char *end = desc + nh.n_descsz, *prov, *name, *args;
		struct usdt_note *grown;

		if (nh.n_type != 3 || nh.n_namesz != 8 ||
		    memcmp((const char *)data->d_buf + name_off, "stapsdt", 8) ||
		    nh.n_descsz < 3 * 8 + 3)
			continue;
		prov = desc + 24;
		/* the file's bytes: each string must end inside the descriptor */
		name = memchr(prov, 0, (size_t)(end - prov));
		if (!name)
			continue;
		name++;
		args = memchr(name, 0, (size_t)(end - name));
		if (!args)
			continue;
		args++;
		if (!memchr(args, 0, (size_t)(end - args)))
			continue;
		grown = realloc(ef->notes, (ef->nnotes + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		ef->notes = grown;
		memcpy(&grown[ef->nnotes].pc, desc, 8);
		grown[ef->nnotes].provider = prov;
		grown[ef->nnotes].name = name;
		grown[ef->nnotes].args = args;
		ef->nnotes++;
	}
	return 0;
}

/* "/proc/PID/root/REST": REST's offset, else 0. */
static size_t in_root_rest(const char *path, char *root, size_t rootsz)
{
	int pid, end = 0;

	if (sscanf(path, "/proc/%d/root%n", &pid, &end) != 1 || !end || path[end] != '/')
		return 0;
	snprintf(root, rootsz, "/proc/%d/root", pid);
	return (size_t)end;
}

/*
 * Opens a file that may be in a watched process's hands. O_NONBLOCK: a FIFO
 * or a device put where a file was expected opens at once (and is refused
 * below) instead of blocking the collector. A path inside /proc/PID/root is
 * resolved with that root as "/" (RESOLVE_IN_ROOT): a symlink there cannot
 * lead out of the container, nor through a /proc magic link. /proc/PID/exe
 * and /proc/PID/map_files/... are magic links to the very file the process
 * runs: they are followed (O_NOFOLLOW would refuse them with ELOOP). The
 * fd, or a negative errno with `err` (-EINVAL: not a regular file).
 */
static int open_regular(const char *path, struct stat *st, char *err, size_t errlen)
{
	const int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	char root[64];
	size_t rest = in_root_rest(path, root, sizeof(root));
	int fd;

	if (rest) {
		struct open_how how = { .flags = flags,
					.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
		int dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (dir < 0) {
			int e = errno;

			snprintf(err, errlen, "cannot open %s: %s", root, strerror(e));
			return -e;
		}
		fd = (int)syscall(SYS_openat2, dir, path + rest + 1, &how, sizeof(how));
		close(dir);
	} else {
		fd = open(path, flags);
	}
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot open: %s", strerror(e));
		return -e;
	}
	if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
		const char *what = S_ISFIFO(st->st_mode) ? "a FIFO" : S_ISDIR(st->st_mode) ? "a directory"
				   : S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? "a device"
				   : S_ISSOCK(st->st_mode) ? "a socket" : "not a regular file";

		snprintf(err, errlen, "%s, expected a regular file: refused", what);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

struct elf_file *elf_file_open(const char *path, char *err, size_t errlen)
{
	return elf_file_open_as(path, path, err, errlen);
}

struct elf_file *elf_file_open_as(const char *path, const char *shown, char *err, size_t errlen)
{
	struct elf_file *ef;
	size_t shstrndx, cap = 0;
	Elf_Scn *scn = NULL;
	struct stat st;
	int e = ENOEXEC; /* errno for a failure past the open: the file's content */

	elf_version(EV_CURRENT);
	ef = calloc(1, sizeof(*ef));
	if (!ef) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	ef->fd = -1;
	ef->path = strdup(shown);
	if (!ef->path) {
		snprintf(err, errlen, "out of memory");
		e = ENOMEM;
		goto fail;
	}
	ef->fd = open_regular(path, &st, err, errlen);
	if (ef->fd < 0) {
		e = -ef->fd;
		ef->fd = -1;
		goto fail;
	}
	ef->dev = st.st_dev;
	ef->ino = st.st_ino;
	snprintf(ef->probe_path, sizeof(ef->probe_path), "/proc/self/fd/%d", ef->fd);
	/* read, not mapped: the process can truncate its file under us (SIGBUS) */
	ef->elf = elf_begin(ef->fd, ELF_C_READ, NULL);
	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF || !gelf_getehdr(ef->elf, &ef->ehdr)) {
		snprintf(err, errlen, "not an ELF file");
		goto fail;
	}
	if (ef->ehdr.e_machine != EM_X86_64 || gelf_getclass(ef->elf) != ELFCLASS64) {
		snprintf(err, errlen, "ELF for machine %u, expected x86-64", ef->ehdr.e_machine);
		goto fail;
	}
	if (ef->ehdr.e_type != ET_EXEC && ef->ehdr.e_type != ET_DYN) {
		snprintf(err, errlen, "not an executable or shared object (ELF type %u)", ef->ehdr.e_type);
		goto fail;
	}
	if (elf_getshdrstrndx(ef->elf, &shstrndx)) {
		snprintf(err, errlen, "ELF has no section name table");
		goto fail;
	}
	while ((scn = elf_nextscn(ef->elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		int rc = 0;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(ef->elf, shstrndx, sh.sh_name);
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
			rc = load_symbols(ef, scn, &sh, &cap);
		else if (sh.sh_type == SHT_DYNAMIC)
			rc = load_needed(ef, scn, &sh);
		else if (sh.sh_type == SHT_NOTE && name && !strcmp(name, ".note.stapsdt"))
			rc = load_notes(ef, scn);
		if (rc) {
			snprintf(err, errlen, "out of memory reading symbols");
			e = -rc;
			goto fail;
		}
	}
	return ef;
fail:
	elf_file_close(ef);
	errno = e; /* callers tell EPERM from the rest */
	return NULL;
}

void elf_file_close(struct elf_file *ef)
{
	if (!ef)
		return;
	for (size_t i = 0; i < ef->nsyms; i++)
		free(ef->syms[i].name);
	for (size_t i = 0; i < ef->nneeded; i++)
		free(ef->needed[i]);
	free(ef->syms);
	free(ef->funcs);
	free(ef->by_addr);
	free(ef->needed);
	free(ef->notes);
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
	free(ef->path);
	free(ef);
}

const char *elf_file_path(const struct elf_file *ef)
{
	return ef->path;
}

const char *elf_file_probe_path(const struct elf_file *ef)
{
	return ef->probe_path;
}

void elf_file_identity(const struct elf_file *ef, dev_t *dev, ino_t *ino)
{
	*dev = ef->dev;
	*ino = ef->ino;
}

int elf_file_fd(const struct elf_file *ef)
{
	return ef->fd;
}

int elf_file_vaddr_to_offset(const struct elf_file *ef, uint64_t vaddr, uint64_t *offset)
{
	size_t n;

	if (elf_getphdrnum(ef->elf, &n))
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    !(ph.p_flags & PF_X))
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*offset = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

static bool is_func(const struct sym *s)
{
	return s->defined && (s->type == STT_FUNC || s->type == STT_GNU_IFUNC) && s->value;
}

int elf_file_find_func(const struct elf_file *ef, const char *name, struct elf_func *out)
{
	const struct sym *found = NULL;

	for (size_t i = 0; i < ef->nsyms; i++) {
		const struct sym *s = &ef->syms[i];

		if (!is_func(s) || strcmp(s->name, name))
			continue;
		if (found && found->value != s->value)
			return -EEXIST;
		if (!found || (!found->size && s->size))
			found = s;
	}
	if (!found)
		return -ENOENT;
	out->name = found->name;
	out->addr = found->value;
	out->size = found->size;
	if (elf_file_vaddr_to_offset(ef, found->value, &out->offset))
		return -ENOENT;
	return 0;
}

static int cmp_func(const void *a, const void *b)
{
	const struct elf_func *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

size_t elf_file_funcs(const struct elf_file *ef, const struct elf_func **out)
{
	struct elf_file *m = (struct elf_file *)ef; /* lazily built cache */
	size_t n = 0;

	if (!m->funcs_built) {
		m->funcs_built = true;
		m->funcs = calloc(ef->nsyms ? ef->nsyms : 1, sizeof(*m->funcs));
		if (!m->funcs)
			return *out = NULL, 0;
		for (size_t i = 0; i < ef->nsyms; i++) {
			const struct sym *s = &ef->syms[i];
			struct elf_func f = { .name = s->name, .addr = s->value, .size = s->size };

			if (!is_func(s) || !s->size || elf_file_vaddr_to_offset(ef, s->value, &f.offset))
				continue;
			m->funcs[n++] = f;
		}
		qsort(m->funcs, n, sizeof(*m->funcs), cmp_func);
		m->nfuncs = 0;
		for (size_t i = 0; i < n; i++) {
			if (m->nfuncs && !cmp_func(&m->funcs[m->nfuncs - 1], &m->funcs[i]))
				continue;
			m->funcs[m->nfuncs++] = m->funcs[i];
		}
	}
	*out = m->funcs;
	return m->nfuncs;
}

int elf_file_read(const struct elf_file *ef, uint64_t offset, void *buf, size_t len)
{
	ssize_t n = pread(ef->fd, buf, len, (off_t)offset);

	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO; /* short: the file ends (or shrank) before */
}

int elf_file_symbol(const struct elf_file *ef, const char *name, uint64_t *value)
{
	for (size_t i = 0; i < ef->nsyms; i++) {
		if (ef->syms[i].defined && !strcmp(ef->syms[i].name, name)) {
			*value = ef->syms[i].value;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_file_first_load(const struct elf_file *ef, uint64_t *vaddr, uint64_t *offset)
{
	size_t n;

	if (elf_getphdrnum(ef->elf, &n))
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(ef->elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
			*vaddr = ph.p_vaddr;
			*offset = ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

bool elf_file_defines(const struct elf_file *ef, const char *name)
{
	for (size_t i = 0; i < ef->nsyms; i++)
		if (ef->syms[i].defined && !strcmp(ef->syms[i].name, name))
			return true;
	return false;
}

bool elf_file_mentions(const struct elf_file *ef, const char *name)
{
	size_t n = strlen(name);

	/* imported symbols may carry a version suffix: name@@GLIBC_2.2.5 */
	for (size_t i = 0; i < ef->nsyms; i++) {
		const char *s = ef->syms[i].name;

		if (!strncmp(s, name, n) && (s[n] == '\0' || s[n] == '@'))
			return true;
	}
	return false;
}

int elf_file_section(const struct elf_file *ef, const char *name, uint64_t *offset,
		     uint64_t *size)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(ef->elf, &shstrndx))
		return -ENOENT;
	while ((scn = elf_nextscn(ef->elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(ef->elf, shstrndx, sh.sh_name);
		if (n && !strcmp(n, name)) {
			*offset = sh.sh_type == SHT_NOBITS ? 0 : sh.sh_offset;
			*size = sh.sh_type == SHT_NOBITS ? 0 : sh.sh_size;
			return 0;
		}
	}
	return -ENOENT;
}

bool elf_file_has_section(const struct elf_file *ef, const char *name)
{
	uint64_t off, size;

	return !elf_file_section(ef, name, &off, &size);
}

bool elf_file_needs(const struct elf_file *ef, const char *prefix)
{
	for (size_t i = 0; i < ef->nneeded; i++)
		if (!strncmp(ef->needed[i], prefix, strlen(prefix)))
			return true;
	return false;
}

size_t elf_file_usdt_notes(const struct elf_file *ef, const struct usdt_note **out)
{
	*out = ef->notes;
	return ef->nnotes;
}

int elf_file_offset_to_vaddr(const struct elf_file *ef, uint64_t offset, uint64_t *vaddr)
{
	size_t n;

	if (elf_getphdrnum(ef->elf, &n))
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (offset >= ph.p_offset && offset < ph.p_offset + ph.p_filesz) {
			*vaddr = offset - ph.p_offset + ph.p_vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

static int cmp_func_addr(const void *a, const void *b)
{
	const struct elf_func *x = *(const struct elf_func *const *)a;
	const struct elf_func *y = *(const struct elf_func *const *)b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int elf_file_func_at(const struct elf_file *ef, uint64_t vaddr, struct elf_func *out)
{
	struct elf_file *m = (struct elf_file *)ef;
	const struct elf_func *all;
	size_t n = elf_file_funcs(ef, &all), lo = 0, hi;

	/* built once: the functions by address (pointers into the by-name list) */
	if (!m->by_addr_built) {
		m->by_addr_built = true;
		m->by_addr = calloc(n ? n : 1, sizeof(*m->by_addr));
		if (m->by_addr) {
			for (size_t i = 0; i < n; i++)
				m->by_addr[i] = &all[i];
			qsort(m->by_addr, n, sizeof(*m->by_addr), cmp_func_addr);
		}
	}
	if (!m->by_addr)
		return -ENOMEM;
	/* the last function starting at or below vaddr */
	hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->by_addr[mid]->addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* nested or aliased ranges: look back a little for one that holds it */
	for (size_t i = lo, back = 0; i > 0 && back < 8; i--, back++) {
		const struct elf_func *f = m->by_addr[i - 1];

		if (vaddr >= f->addr && vaddr < f->addr + f->size) {
			*out = *f;
			return 0;
		}
	}
	return -ENOENT;
}
