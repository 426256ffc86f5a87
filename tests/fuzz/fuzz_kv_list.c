// SPDX-License-Identifier: MIT
/* libFuzzer: OTEL_RESOURCE_ATTRIBUTES / OTEL_EXPORTER_OTLP_HEADERS lists. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "export/export_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256];
	struct kv_list l = { 0 };

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!kv_list_parse(s, &l, err, sizeof(err))) {
		for (size_t i = 0; i < l.n; i++)
			if (!l.v[i].key[0] || kv_list_get(&l, l.v[i].key) != l.v[i].value)
				abort(); /* keys are non-empty and unique */
	} else if (l.n || !err[0]) {
		abort(); /* a failed parse leaves the list alone and says why */
	}
	kv_list_free(&l);
	free(s);
	return 0;
}
