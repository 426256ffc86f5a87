// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "util/parse_number.h"

int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || *end)
		return -EINVAL;
	if (errno || v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int parse_duration_ms(const char *s, uint64_t *out_ms)
{
	char *end;
	double v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	/*
	 * Digits and a point, then the unit: strtod alone also takes "nan"
	 * (whose cast to an integer is undefined), "inf", "0x1p4" and "5e3",
	 * which no one means by a duration.
	 */
	for (const char *p = s; p < end; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -EINVAL;
	if (end == s || v < 0)
		return -EINVAL;
	if (errno)
		return -ERANGE;
	if (!strcmp(end, "ms"))
		;
	else if (!strcmp(end, "s") || !*end)
		v *= 1000;
	else if (!strcmp(end, "m"))
		v *= 60000;
	else if (!strcmp(end, "h"))
		v *= 3600000;
	else
		return -EINVAL;
	if (v < 1 || v > 86400000.0)
		return -ERANGE;
	*out_ms = (uint64_t)v;
	return 0;
}
