// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "python/py_frame_info.h"
#include "python/py_linetable.h"
#include "python/py_str.h"
#include "util/proc_mem.h"

/* A bytes object's size and data: PyObject_VAR_HEAD, ob_shash, then the data (3.10-3.15 alike). */
#define BYTES_DATA 32
/* Location tables longer than this are not read (a function of thousands of lines has ~10 KB). */
#define MAX_LINETABLE (256 * 1024)

/* The line of the frame's instruction, -1 if it cannot be told. */
static int frame_line(struct py_process *p, struct proc_mem *m, const struct py_frame_ref *f)
{
	const struct py_layout *L = &p->L;
	uint64_t table = proc_read_ptr(m, f->code + (uint64_t)L->code_linetable), unit;
	int32_t first;
	int64_t size;
	uint8_t *buf;
	int line = -1, rc;

	/* a negative firstlineno is forged: lines start at 0 (the table refuses the same) */
	if (f->instr == PY_INSTR_UNKNOWN || !table ||
	    proc_read(m, f->code + (uint64_t)L->code_firstlineno, &first, sizeof(first)) || first < 0 ||
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
	    py_str_read(p, &m, proc_read_ptr(&m, f->code + (uint64_t)L->code_qualname), out->func,
		      sizeof(out->func)))
		py_str_read(p, &m, proc_read_ptr(&m, f->code + (uint64_t)L->code_name), out->func,
			  sizeof(out->func));
	py_str_read(p, &m, proc_read_ptr(&m, f->code + (uint64_t)L->code_filename), out->file,
		  sizeof(out->file));
	if (!out->func[0])
		snprintf(out->func, sizeof(out->func), "?");
	if (!out->file[0])
		snprintf(out->file, sizeof(out->file), "?");
	out->line = frame_line(p, &m, f);
	return 0;
}
