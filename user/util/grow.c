// SPDX-License-Identifier: MIT
#include <stdint.h>
#include <stdlib.h>
#include "util/grow.h"

void *grow_array(void *v, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return v;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	if (size && c > SIZE_MAX / size)
		return NULL;
	p = realloc(v, c * size);
	if (!p)
		return NULL;
	*cap = c;
	return p;
}
