// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include "cli/render.h"
#include "util/json_escape.h"

void render_json(FILE *out, const struct snapshot *s)
{
	fprintf(out, "{\"ts\": %" PRIu64 ", \"chains\": [", s->ts_ns);
	for (size_t i = 0; i < s->n; i++) {
		const struct chain_stat *c = &s->chains[i];

		fprintf(out, "%s{\"chain\": ", i ? ", " : "");
		json_write_string(out, c->name);
		if (s->gauge_only)
			/* a frame snapshot sees calls in flight, not their entries and exits */
			fprintf(out, ", \"inflight\": %" PRId64
				", \"entered\": null, \"exited\": null, \"released\": null%s}",
				c->inflight, c->overflow ? ", \"overflow\": true" : "");
		else
			fprintf(out, ", \"inflight\": %" PRId64 ", \"entered\": %" PRIu64
				", \"exited\": %" PRIu64 ", \"released\": %" PRIu64 "%s}",
				c->inflight, c->entered, c->returned + c->released, c->released,
				c->overflow ? ", \"overflow\": true" : "");
	}
	fprintf(out, "], \"dropped\": %" PRIu64 "}\n", s->stats[INFLIGHT_STAT_OVERFLOW]);
	fflush(out);
}
