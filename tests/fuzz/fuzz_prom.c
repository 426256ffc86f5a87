// SPDX-License-Identifier: MIT
/*
 * libFuzzer: the Prometheus endpoint's network input (a scraper's request
 * and Accept header) and the names and values it writes back (attribute
 * keys, label values, metric names and units from flags or the worker's
 * memory): names only ever hold valid characters, and no value can break
 * a line of the exposition.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "export/prom_encode.h"
#include "export/prom_server.h"

static int valid_name(const char *s, int colon)
{
	if (!s[0] || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || (colon && *s == ':')))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), name[256], label[256];
	const char *unit;
	enum prom_format f;
	struct buf b = { 0 };
	size_t lines = 0;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!prom_request_format(s, &f) && f != PROM_TEXT_004 && f != PROM_OPENMETRICS)
		abort();
	/* the unit: what follows the first '|' (so one input covers both) */
	unit = strchr(s, '|') ? strchr(s, '|') + 1 : NULL;
	prom_metric_name(s, unit, size & 1, name, sizeof(name));
	/* an empty name stays empty: the caller's metric names are never empty */
	if (s[0] && s[0] != '|' && !valid_name(name, 1))
		abort();
	prom_label_name(s, label, sizeof(label));
	if (!valid_name(label, 0))
		abort();
	{
		const struct otlp_attr a = { .key = s, .type = OTLP_STRING, .s = s };
		const struct otlp_point p = { .attrs = &a, .nattrs = 1, .value = 1 };
		const struct otlp_metric m = { .name = "g", .description = s, .points = &p, .npoints = 1 };
		const struct otlp_export e = { .metrics = &m, .nmetrics = 1 };

		for (int k = 0; k < 2; k++) {
			buf_reset(&b);
			if (prom_encode(&e, k ? PROM_OPENMETRICS : PROM_TEXT_004, &b))
				abort();
			for (size_t i = 0; i < b.len; i++)
				lines += b.data[i] == '\n';
		}
		/* HELP, TYPE, the sample; in OpenMetrics also # EOF: 7 lines, however s reads */
		if (lines != (s[0] ? 7u : 5u))
			abort();
	}
	buf_free(&b);
	free(s);
	return 0;
}
