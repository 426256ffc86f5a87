/* SPDX-License-Identifier: MIT */
/*
 * Names a Python frame read from a process (struct py_frame_ref): its
 * function (co_qualname, co_name on 3.10), file (co_filename) and the line
 * of the instruction it was at (co_linetable), for `inflight stuck`.
 */
#ifndef INFLIGHT_PY_FRAME_INFO_H
#define INFLIGHT_PY_FRAME_INFO_H

#include "python/py_process.h"
#include "python/py_walk.h"

struct py_frame_info {
	char func[256];   /* UTF-8; "?" if unreadable */
	char file[1024];  /* UTF-8; "?" if unreadable */
	int line;         /* -1: unknown */
};

/*
 * 0, or -EINVAL when `f` is no code object (a 3.13+ frame running
 * something else), or -EFAULT when the code cannot be read (gone).
 */
int py_frame_describe(struct py_process *p, const struct py_frame_ref *f,
		      struct py_frame_info *out);

#endif
