// SPDX-License-Identifier: MIT
/* libFuzzer: the --py-chain spec (ARG or INDEX, optional ["KEY"]). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "python/py_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[512];
	struct py_target t;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&t, 0, sizeof(t));
	if (!py_chain_spec_parse(s, &t, err, sizeof(err))) {
		/* an argument by name or by position, never both or neither */
		if (!!t.arg_name[0] == (t.arg_index >= 0))
			abort();
	}
	free(s);
	return 0;
}
