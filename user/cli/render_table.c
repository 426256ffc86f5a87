// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include "cli/age_text.h"
#include "cli/history.h"
#include "cli/rate.h"
#include "cli/render.h"
#include "util/text_width.h"

#define NAME_COLS 32

/*
 * Chain names come from worker memory: never let one move the cursor or
 * recolour the operator's terminal. Control bytes print as \xNN.
 * Returns the number of columns written, by display width (a CJK character
 * takes two), never more than `maxcols`: a character that would not fit
 * is left out.
 */
static int write_name(FILE *out, const char *s, int maxcols)
{
	int cols = 0;

	while (*s) {
		uint32_t cp;
		size_t n = text_decode(s, &cp);
		int w = cp < 0x20 || cp == 0x7f ? 4 : text_width_cp(cp);

		if (cols + w > maxcols)
			break;
		if (cp < 0x20 || cp == 0x7f)
			fprintf(out, "\\x%02x", (unsigned)cp);
		else
			fwrite(s, 1, n, out);
		cols += w;
		s += n;
	}
	return cols;
}

static const char *const stat_names[INFLIGHT_STAT__COUNT] = {
	[INFLIGHT_STAT_OVERFLOW] = "over the chain cap",
	[INFLIGHT_STAT_THREADS_FULL] = "not counted: no per-thread storage",
	[INFLIGHT_STAT_DEPTH_FULL] = "not counted: nested too deep",
	[INFLIGHT_STAT_FETCH_FAULT] = "chain unreadable",
	[INFLIGHT_STAT_UNMATCHED] = "returns without a seen entry (begun before attach)",
	[INFLIGHT_STAT_RELEASED_STALE] = "released: stack unwound",
	[INFLIGHT_STAT_RELEASED_EXIT] = "released: thread exit",
	[INFLIGHT_STAT_RELEASED_EXEC] = "released: exec",
	[INFLIGHT_STAT_RELEASED_CATCH] = "released: exception caught",
	[INFLIGHT_STAT_RELEASED_LONGJMP] = "released: longjmp",
	[INFLIGHT_STAT_RELEASED_GOEXIT] = "released: goroutine ended",
	[INFLIGHT_STAT_RELEASED_RECOVER] = "released: Go panic recovered",
};

/* The OLDEST and HISTORY columns of chain `c`, and the line's end. */
static void oldest_history(FILE *out, const struct chain_stat *c, const struct render_extra *x)
{
	char age[AGE_TEXT_MAX], spark[3 * HISTORY_LEN + 1];
	int64_t h[HISTORY_LEN];
	size_t n = x && x->history ? history_of(x->history, c->id, h) : 0;

	age_text(c->oldest_age_ns, c->oldest_known && c->inflight > 0, age, sizeof(age));
	sparkline(h, n, HISTORY_LEN, x && x->ascii, spark, sizeof(spark));
	fprintf(out, " %7s  %s\n", age, spark);
}

int render_table(FILE *out, const struct snapshot *s, const double *rates,
		 const struct target_info *info, bool tty, int erase_lines,
		 const struct render_extra *x)
{
	int lines = 0;
	char when[32];
	time_t t = (time_t)(s->ts_ns / 1000000000ull);
	struct tm tm;
	int64_t total = 0;
	bool any = false;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	/* cursor up over the previous table, erase from there down */
	if (tty && erase_lines > 0)
		fprintf(out, "\033[%dA\033[J", erase_lines);
	fprintf(out, "inflight %s  %s:%s  %s\n", when, info->binary, info->what, info->mode_label);
	fprintf(out, "%-*s %10s %12s %12s %10s %7s  %s\n", NAME_COLS, "CHAIN", "IN FLIGHT", "ENTERED",
		"EXITED", "RATE", "OLDEST", "HISTORY");
	lines += 2;
	for (size_t i = 0; i < s->n; i++) {
		const struct chain_stat *c = &s->chains[i];
		int cols = write_name(out, c->name, NAME_COLS);
		double rate = rates ? rates[i] : RATE_UNKNOWN;

		if (s->gauge_only)
			fprintf(out, "%*s %10" PRId64 " %12s %12s",
				cols < NAME_COLS ? NAME_COLS - cols : 0, "", c->inflight, "-", "-");
		else
			fprintf(out, "%*s %10" PRId64 " %12" PRIu64 " %12" PRIu64,
				cols < NAME_COLS ? NAME_COLS - cols : 0, "", c->inflight, c->entered,
				c->returned + c->released);
		/* calls ended per second since the last reading; none yet: "-" */
		if (rate < 0)
			fprintf(out, " %10s", "-");
		else
			fprintf(out, " %10.1f", rate);
		oldest_history(out, c, x);
		total += c->inflight;
		lines++;
	}
	if (!s->n)
		fprintf(out, "%-*s\n", NAME_COLS, "(no calls yet)");
	else
		fprintf(out, "%-*s %10" PRId64 "\n", NAME_COLS, "total", total);
	lines++;
	for (int k = 0; k < INFLIGHT_STAT__COUNT; k++) {
		if (!s->stats[k] || !stat_names[k])
			continue;
		fprintf(out, "%s%s %" PRIu64, any ? ", " : "", stat_names[k], s->stats[k]);
		any = true;
	}
	if (s->attach_failures) {
		fprintf(out, "%sprocesses not observable %" PRIu64, any ? ", " : "",
			s->attach_failures);
		any = true;
	}
	if (any) {
		fputc('\n', out);
		lines++;
	}
	if (!tty)
		fputc('\n', out);
	fflush(out);
	return lines;
}
