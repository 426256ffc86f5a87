// SPDX-License-Identifier: MIT
/* libFuzzer: a /proc/PID/maps line, whose file name the process chose. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "probe/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	struct maps_line m;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (!target_maps_line(line, &m)) {
		if (m.start >= m.end || strlen(m.perms) > 4)
			abort();
		/* a file is a path inside the line, ending at its newline */
		if (m.file && (m.file[0] != '/' || m.file < line || m.file >= line + size ||
			       strchr(m.file, '\n')))
			abort();
	}
	free(line);
	return 0;
}
