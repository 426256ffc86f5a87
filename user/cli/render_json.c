// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include "cli/history.h"
#include "cli/rate.h"
#include "cli/render.h"
#include "util/json_escape.h"

/* The oldest call's age in seconds (null: none in flight, or not known) and the history. */
static void json_age_history(FILE *out, const struct chain_stat *c, const struct render_extra *x)
{
	int64_t h[HISTORY_LEN];
	size_t n = x && x->history ? history_of(x->history, c->id, h) : 0;

	if (c->oldest_known && c->inflight > 0)
		fprintf(out, ", \"oldest_age\": %.3f", (double)c->oldest_age_ns / 1e9);
	else
		fputs(", \"oldest_age\": null", out);
	fputs(", \"history\": [", out);
	for (size_t k = 0; k < n; k++)
		fprintf(out, "%s%" PRId64, k ? ", " : "", h[k]);
	fputc(']', out);
}

void render_json(FILE *out, const struct snapshot *s, const double *rates,
		 const struct render_extra *x)
{
	fprintf(out, "{\"ts\": %" PRIu64 ", \"chains\": [", s->ts_ns);
	for (size_t i = 0; i < s->n; i++) {
		const struct chain_stat *c = &s->chains[i];
		double rate = rates ? rates[i] : RATE_UNKNOWN;

		fprintf(out, "%s{\"chain\": ", i ? ", " : "");
		json_write_string(out, c->name);
		if (s->gauge_only)
			/* a frame snapshot sees calls in flight, not their entries and exits */
			fprintf(out, ", \"inflight\": %" PRId64
				", \"entered\": null, \"exited\": null, \"released\": null",
				c->inflight);
		else
			fprintf(out, ", \"inflight\": %" PRId64 ", \"entered\": %" PRIu64
				", \"exited\": %" PRIu64 ", \"released\": %" PRIu64,
				c->inflight, c->entered, c->returned + c->released, c->released);
		/* the first reading has no interval yet: null, not 0 */
		if (rate < 0)
			fputs(", \"rate\": null", out);
		else
			fprintf(out, ", \"rate\": %.3f", rate);
		json_age_history(out, c, x);
		fprintf(out, "%s}", c->overflow ? ", \"overflow\": true" : "");
	}
	fprintf(out, "], \"dropped\": %" PRIu64 "}\n", s->stats[INFLIGHT_STAT_OVERFLOW]);
	fflush(out);
}
