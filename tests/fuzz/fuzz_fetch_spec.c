// SPDX-License-Identifier: MIT
/* libFuzzer: the --chain fetch spec parser and its formatter. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "probe/fetch_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = malloc(size + 1), text[512];
	struct inflight_fetch f, again;
	struct fetch_spec_error e;

	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	for (int usdt = 0; usdt < 2; usdt++) {
		if (fetch_spec_parse(spec, usdt, &f, &e)) {
			/* an error points inside the input (or just past it) */
			if (e.column < 1 || (size_t)e.column > strlen(spec) + 1 || !e.msg[0])
				abort();
			continue;
		}
		/* what it formats parses back to the same thing */
		fetch_spec_format(&f, text, sizeof(text));
		if (fetch_spec_parse(text, usdt, &again, &e) || memcmp(&f, &again, sizeof(f)))
			abort();
	}
	free(spec);
	return 0;
}
