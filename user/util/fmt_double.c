// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include "util/fmt_double.h"

void fmt_double(char *out, size_t size, double v)
{
	/* whole numbers as such ("10", not %g's "1e+01") */
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {
		snprintf(out, size, "%lld", (long long)v);
		return;
	}
	/* 17 significant digits always round-trip; fewer usually do, and read better */
	for (int digits = 1; digits <= 17; digits++) {
		snprintf(out, size, "%.*g", digits, v);
		if (strtod(out, NULL) == v)
			return;
	}
}
