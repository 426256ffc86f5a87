// SPDX-License-Identifier: MIT
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "util/double_text.h"

void double_text(double v, char *out, size_t size)
{
	if (!size)
		return;
	if (!isfinite(v)) {
		snprintf(out, size, "0");
		return;
	}
	/* 15 significant digits say most values exactly; 17 always do */
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(out, size, "%.*g", digits, v);
		if (strtod(out, NULL) == v)
			return;
	}
}
