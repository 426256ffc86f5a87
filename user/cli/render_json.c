// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include "cli/rate.h"
#include "cli/render.h"
#include "util/json_escape.h"

void render_json(FILE *out, const struct snapshot *s, const double *rates)
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
		fprintf(out, "%s}", c->overflow ? ", \"overflow\": true" : "");
	}
	fprintf(out, "], \"dropped\": %" PRIu64 "}\n", s->stats[INFLIGHT_STAT_OVERFLOW]);
	fflush(out);
}
