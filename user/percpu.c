// SPDX-License-Identifier: MIT
#include <string.h>
#include "percpu.h"

void percpu_sum(const void *values, size_t nkeys, size_t ncpus, size_t nfields,
		uint64_t *out)
{
	const unsigned char *p = values;
	size_t stride = percpu_stride(nfields * sizeof(uint64_t));

	for (size_t k = 0; k < nkeys; k++) {
		uint64_t *sum = out + k * nfields;

		memset(sum, 0, nfields * sizeof(*sum));
		for (size_t c = 0; c < ncpus; c++, p += stride) {
			for (size_t f = 0; f < nfields; f++) {
				uint64_t v;

				memcpy(&v, p + f * sizeof(v), sizeof(v));
				sum[f] += v;
			}
		}
	}
}
