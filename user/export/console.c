// SPDX-License-Identifier: MIT
/*
 * The console exporter: the same content an OTLP export carries, as a
 * readable block per interval (the default when no endpoint is set).
 */
#include <inttypes.h>
#include "export/console.h"
#include "util/clock.h"
#include "util/double_text.h"
#include "util/json_escape.h"

static void print_attr(FILE *out, const struct otlp_attr *a)
{
	fprintf(out, "%s=", a->key);
	switch (a->type) {
	case OTLP_STRING: json_write_string(out, a->s); break;
	case OTLP_BOOL: fputs(a->b ? "true" : "false", out); break;
	case OTLP_INT: fprintf(out, "%" PRId64, a->i); break;
	}
}

/* A histogram's points: count, sum and the count per bucket ("<=0.005: 3"). */
static void print_histogram(FILE *out, const struct otlp_metric *metric)
{
	char when[40], since[40];

	clock_iso8601_ms(metric->points[0].time_ns, when, sizeof(when));
	fprintf(out, "%s %s %s (histogram, cumulative)\n", when, metric->name, metric->unit);
	for (size_t i = 0; i < metric->npoints; i++) {
		const struct otlp_point *p = &metric->points[i];
		const struct otlp_hist *h = &metric->hist[i];

		fputs("  ", out);
		for (size_t a = 0; a < p->nattrs; a++)
			print_attr(out, &p->attrs[a]);
		clock_iso8601_ms(p->start_ns, since, sizeof(since));
		fprintf(out, " count=%" PRIu64 " sum=%.9g (since %s)", h->count, h->sum, since);
		for (size_t b = 0; metric->nbounds && b <= metric->nbounds; b++) {
			if (!h->bucket_counts[b])
				continue;
			if (b < metric->nbounds)
				fprintf(out, " <=%g: %" PRIu64, metric->bounds[b], h->bucket_counts[b]);
			else
				fprintf(out, " >%g: %" PRIu64, metric->bounds[b - 1], h->bucket_counts[b]);
		}
		fputc('\n', out);
	}
}

void console_export(FILE *out, const struct otlp_export *e)
{
	for (size_t m = 0; m < e->nmetrics; m++) {
		const struct otlp_metric *metric = &e->metrics[m];
		char when[40], since[40];

		if (!metric->npoints)
			continue;
		if (metric->hist) {
			print_histogram(out, metric);
			continue;
		}
		clock_iso8601_ms(metric->points[0].time_ns, when, sizeof(when));
		if (metric->gauge)
			fprintf(out, "%s %s %s (gauge)\n", when, metric->name, metric->unit);
		else
			fprintf(out, "%s %s %s (sum, cumulative, %smonotonic)\n", when, metric->name,
				metric->unit, metric->monotonic ? "" : "not ");
		for (size_t i = 0; i < metric->npoints; i++) {
			const struct otlp_point *p = &metric->points[i];

			fputs("  ", out);
			for (size_t a = 0; a < p->nattrs; a++)
				print_attr(out, &p->attrs[a]);
			clock_iso8601_ms(p->start_ns, since, sizeof(since));
			if (metric->gauge) {
				char v[DOUBLE_TEXT_MAX];

				double_text(p->dvalue, v, sizeof(v));
				fprintf(out, " %s\n", v);
			} else {
				fprintf(out, " %" PRId64 " (since %s)\n", p->value, since);
			}
		}
	}
	fputs("  resource:", out);
	for (size_t i = 0; i < e->nresource; i++) {
		fputc(' ', out);
		print_attr(out, &e->resource[i]);
	}
	fprintf(out, "\n  scope: %s %s\n\n", e->scope_name, e->scope_version ? e->scope_version : "");
	fflush(out);
}
