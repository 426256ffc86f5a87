// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "python/py_frame_info.h"
#include "python/py_linetable.h"
#include "util/proc_mem.h"
#include "util/utf8.h"

/* A bytes object's size and data: PyObject_VAR_HEAD, ob_shash, then the data (3.10-3.15 alike). */
#define BYTES_DATA 32
/* Location tables longer than this are not read (a function of thousands of lines has ~10 KB). */
#define MAX_LINETABLE (256 * 1024)

/* A str as UTF-8, cut to whole characters that fit `outsz`. Compact strs only. */
static int read_text(struct py_process *p, struct proc_mem *m, uint64_t obj, char *out,
		     size_t outsz)
{
	const struct py_layout *L = &p->L;
	uint8_t hdr[128], *data = NULL;
	int64_t len;
	uint64_t type;
	uint32_t state, kind;
	size_t o = 0, n;
	int rc;

	out[0] = '\0';
	if (!obj || (size_t)L->unicode_compact_data > sizeof(hdr))
		return -EINVAL;
	rc = proc_read(m, obj, hdr, (size_t)L->unicode_compact_data);
	if (rc)
		return rc;
	/* copied, not loaded in place: a process's offsets need not be aligned */
	memcpy(&type, hdr + L->object_type, sizeof(type));
	if (type != p->unicode_type)
		return -EINVAL;
	memcpy(&len, hdr + L->unicode_length, sizeof(len));
	memcpy(&state, hdr + L->unicode_state, sizeof(state));
	kind = (state >> L->state_kind_shift) & 7;
	if (len < 0 || !((state >> L->state_compact_bit) & 1) || (kind != 1 && kind != 2 && kind != 4))
		return -EINVAL;
	n = (size_t)len < outsz - 1 ? (size_t)len : outsz - 1;
	if ((state >> L->state_ascii_bit) & 1) {
		rc = n ? proc_read(m, obj + (uint64_t)L->unicode_ascii_data, out, n) : 0;
		out[rc ? 0 : n] = '\0';
		return rc;
	}
	data = malloc(n * kind + 1);
	if (!data)
		return -ENOMEM;
	rc = n ? proc_read(m, obj + (uint64_t)L->unicode_compact_data, data, n * kind) : 0;
	for (size_t i = 0; !rc && i < n; i++) {
		uint32_t cp = kind == 1 ? data[i] : kind == 2 ? ((uint16_t *)data)[i] : ((uint32_t *)data)[i];
		char enc[4];
		size_t k = utf8_encode(cp, enc);

		if (o + k >= outsz)
			break;
		memcpy(out + o, enc, k);
		o += k;
	}
	out[o] = '\0';
	free(data);
	return rc;
}

/* The line of the frame's instruction, -1 if it cannot be told. */
static int frame_line(struct py_process *p, struct proc_mem *m, const struct py_frame_ref *f)
{
	const struct py_layout *L = &p->L;
	uint64_t table = proc_read_ptr(m, f->code + (uint64_t)L->code_linetable), unit;
	int32_t first;
	int64_t size;
	uint8_t *buf;
	int line = -1, rc;

	if (f->instr == PY_INSTR_UNKNOWN || !table ||
	    proc_read(m, f->code + (uint64_t)L->code_firstlineno, &first, sizeof(first)) ||
	    proc_read(m, table + (uint64_t)L->tuple_size, &size, sizeof(size)) || size <= 0 ||
	    size > MAX_LINETABLE)
		return -1;
	if (L->frame_lasti >= 0) {
		unit = f->instr; /* 3.10: already an index */
	} else {
		uint64_t start = f->code + (uint64_t)L->code_adaptive;

		/* 3.11/3.12 point one before the first instruction until it runs */
		if (f->instr < start)
			return first;
		unit = (f->instr - start) / 2;
	}
	if (unit > UINT32_MAX)
		return -1;
	buf = malloc((size_t)size);
	if (!buf)
		return -1;
	if (!proc_read(m, table + BYTES_DATA, buf, (size_t)size)) {
		rc = L->frame_lasti >= 0 ? py_linetable310_line(buf, (size_t)size, first, (uint32_t)unit, &line)
					 : py_linetable_line(buf, (size_t)size, first, (uint32_t)unit, &line);
		if (rc)
			line = -1;
	}
	free(buf);
	return line;
}

int py_frame_describe(struct py_process *p, const struct py_frame_ref *f,
		      struct py_frame_info *out)
{
	const struct py_layout *L = &p->L;
	struct proc_mem m = { .pid = p->pid };
	uint64_t type = proc_read_ptr(&m, f->code + (uint64_t)L->object_type);

	snprintf(out->func, sizeof(out->func), "?");
	snprintf(out->file, sizeof(out->file), "?");
	out->line = -1;
	if (!type)
		return -EFAULT;
	/* 3.13+ frames may run something other than code */
	if (p->code_type && type != p->code_type)
		return -EINVAL;
	if (L->code_qualname < 0 ||
	    read_text(p, &m, proc_read_ptr(&m, f->code + (uint64_t)L->code_qualname), out->func,
		      sizeof(out->func)))
		read_text(p, &m, proc_read_ptr(&m, f->code + (uint64_t)L->code_name), out->func,
			  sizeof(out->func));
	read_text(p, &m, proc_read_ptr(&m, f->code + (uint64_t)L->code_filename), out->file,
		  sizeof(out->file));
	if (!out->func[0])
		snprintf(out->func, sizeof(out->func), "?");
	if (!out->file[0])
		snprintf(out->file, sizeof(out->file), "?");
	out->line = frame_line(p, &m, f);
	return 0;
}
