// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "proc_info.h"

bool proc_alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the state follows the command name's closing parenthesis */
	p = strrchr(buf, ')');
	return p && p[1] && p[2] != 'Z' && p[2] != 'X';
}

void proc_status(pid_t pid, const char *field, char *out, size_t size)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char v[256];

		if (!strncmp(line, field, strlen(field)) &&
		    sscanf(line + strlen(field), " %255s", v) == 1)
			snprintf(out, size, "%s", v);
	}
	fclose(f);
}
