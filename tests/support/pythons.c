// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "support/pythons.h"

#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The minor version of an interpreter, from its path ("python3.14", ".../3.12.1/..."). */
static int minor_of(const char *python)
{
	const char *p = strstr(python, "/3.");
	int minor = -1;

	if (p && sscanf(p + 3, "%d", &minor) == 1)
		return minor;
	p = strstr(python, "python3.");
	if (p && sscanf(p + 8, "%d", &minor) == 1)
		return minor;
	return -1;
}

static void add_interp(struct interp **list, size_t *n, const char *python, const char *root)
{
	struct interp *v = realloc(*list, (*n + 1) * sizeof(**list));

	if (!v)
		abort();
	*list = v;
	v[*n].python = strdup(python);
	v[*n].root = root ? strdup(root) : NULL;
	if (!v[*n].python || (root && !v[*n].root))
		abort();
	if (asprintf(&v[*n].label, "%s%s", root ? "sid " : "", python) < 0)
		abort();
	v[*n].minor = minor_of(python);
	(*n)++;
}

size_t find_pythons(struct interp **out)
{
	static const char *const patterns[] = {
		"/root/.pyenv/versions/3.1[0-9]*/bin/python3", "/usr/bin/python3.1[0-9]",
		"/usr/local/bin/python3.1[0-9]", SID_ROOT "/usr/bin/python3.1[0-9]",
	};
	struct interp *list = NULL;
	size_t n = 0;

	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
		bool sid = !strncmp(patterns[p], SID_ROOT, strlen(SID_ROOT));
		glob_t g;

		if (glob(patterns[p], 0, NULL, &g))
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++)
			add_interp(&list, &n, g.gl_pathv[i] + (sid ? strlen(SID_ROOT) : 0),
				   sid ? SID_ROOT : NULL);
		globfree(&g);
	}
	*out = list;
	return n;
}

void free_pythons(struct interp *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].python);
		free(list[i].root);
		free(list[i].label);
	}
	free(list);
}
