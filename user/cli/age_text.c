// SPDX-License-Identifier: MIT
#include <stdio.h>
#include "cli/age_text.h"

void age_text(uint64_t ns, bool known, char *out, size_t size)
{
	uint64_t s = ns / 1000000000ull;

	if (!known)
		snprintf(out, size, "-");
	else if (s < 10)
		snprintf(out, size, "%llu.%llus", (unsigned long long)s,
			 (unsigned long long)(ns / 100000000ull % 10));
	else if (s < 60)
		snprintf(out, size, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(out, size, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(out, size, "%lluh%02llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60));
}
