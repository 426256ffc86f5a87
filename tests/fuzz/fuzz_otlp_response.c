// SPDX-License-Identifier: MIT
/* libFuzzer: what a receiver answers (protobuf and JSON), read by the exporter. */
#include <stdint.h>
#include <string.h>
#include "export/otlp_response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct otlp_response r;

	for (int json = 0; json < 2; json++) {
		otlp_response_parse_success(data, size, json, &r);
		if (strnlen(r.message, sizeof(r.message)) == sizeof(r.message))
			__builtin_trap();
		otlp_response_parse_status(data, size, json, &r);
		if (strnlen(r.message, sizeof(r.message)) == sizeof(r.message))
			__builtin_trap();
	}
	return 0;
}
