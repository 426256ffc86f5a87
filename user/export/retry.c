// SPDX-License-Identifier: MIT
#define _GNU_SOURCE /* strptime, timegm */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "export/retry.h"
#include "util/array_size.h"

bool retry_status_retryable(long http_status)
{
	return http_status == 429 || http_status == 502 || http_status == 503 ||
	       http_status == 504;
}

int retry_after_parse(const char *value, time_t now, uint64_t *delay_ms)
{
	static const char *const formats[] = {
		"%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate */
		"%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
		"%a %b %e %H:%M:%S %Y",      /* asctime */
	};
	const char *p = value;
	char *end;

	while (isspace((unsigned char)*p))
		p++;
	if (isdigit((unsigned char)*p)) {
		unsigned long long s;

		errno = 0;
		s = strtoull(p, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (*end)
			return -EINVAL;
		if (errno || s > 86400ull * 365)
			return -ERANGE;
		*delay_ms = s * 1000;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		struct tm tm;
		time_t when;

		memset(&tm, 0, sizeof(tm));
		end = strptime(p, formats[i], &tm);
		if (!end)
			continue;
		while (isspace((unsigned char)*end))
			end++;
		if (*end)
			continue;
		when = timegm(&tm);
		*delay_ms = when > now ? (uint64_t)(when - now) * 1000 : 0;
		return 0;
	}
	return -EINVAL;
}

uint64_t retry_backoff_ms(unsigned attempt, uint32_t random)
{
	uint64_t d = RETRY_INITIAL_MS;

	for (unsigned i = 0; i < attempt && d < RETRY_MAX_MS; i++)
		d *= 2;
	if (d > RETRY_MAX_MS)
		d = RETRY_MAX_MS;
	/* half fixed, half random */
	return d / 2 + (uint64_t)(((d - d / 2) * (uint64_t)random) >> 32);
}
