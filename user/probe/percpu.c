// SPDX-License-Identifier: MIT
#include <string.h>
#include "probe/percpu.h"

void percpu_sum(const volatile uint64_t *slots, size_t ncpus, size_t stride, size_t nfields,
		size_t n, uint64_t *out)
{
	memset(out, 0, n * nfields * sizeof(*out));
	for (size_t c = 0; c < ncpus; c++) {
		const volatile uint64_t *cpu = slots + c * stride * nfields;

		for (size_t i = 0; i < n * nfields; i++)
			out[i] += __atomic_load_n(&cpu[i], __ATOMIC_RELAXED);
	}
}
