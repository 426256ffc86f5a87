// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "export/prom_encode.h"
#include "util/array_size.h"
#include "util/double_text.h"

#define NAME_MAX_LEN 256
/* labels of one sample: the point's attributes (or the resource) + 2 scope labels */
#define LABELS_MAX 64

const char *prom_content_type(enum prom_format f)
{
	return f == PROM_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
				     : "text/plain; version=0.0.4; charset=utf-8";
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Appends `s` to out[*n], replacing what Prometheus names cannot hold with `_`, runs of `_` as one. */
static void put_sanitized(char *out, size_t size, size_t *n, const char *s, bool colon_ok)
{
	for (; *s && *n + 1 < size; s++) {
		char c = (is_alpha(*s) || is_digit(*s) || (colon_ok && *s == ':')) ? *s : '_';

		if (c == '_' && *n && out[*n - 1] == '_')
			continue;
		out[(*n)++] = c;
	}
	out[*n] = '\0';
}

/* The UCUM units the compatibility rules spell out; anything else is kept as written. */
static const char *unit_word(const char *u, bool per)
{
	static const struct {
		const char *ucum, *word, *per_word;
	} units[] = {
		{ "d", "days", "day" },
		{ "h", "hours", "hour" },
		{ "min", "minutes", "minute" },
		{ "s", "seconds", "second" },
		{ "ms", "milliseconds", NULL },
		{ "us", "microseconds", NULL },
		{ "ns", "nanoseconds", NULL },
		{ "By", "bytes", NULL },
		{ "KiBy", "kibibytes", NULL },
		{ "MiBy", "mebibytes", NULL },
		{ "GiBy", "gibibytes", NULL },
		{ "TiBy", "tibibytes", NULL },
		{ "KBy", "kilobytes", NULL },
		{ "MBy", "megabytes", NULL },
		{ "GBy", "gigabytes", NULL },
		{ "TBy", "terabytes", NULL },
		{ "m", "meters", "minute" },
		{ "V", "volts", NULL },
		{ "A", "amperes", NULL },
		{ "J", "joules", NULL },
		{ "W", "watts", NULL },
		{ "g", "grams", NULL },
		{ "Cel", "celsius", NULL },
		{ "Hz", "hertz", NULL },
		{ "%", "percent", NULL },
		{ "w", NULL, "week" },
		{ "mo", NULL, "month" },
		{ "y", NULL, "year" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		const char *w = per ? units[i].per_word : units[i].word;

		if (!strcmp(units[i].ucum, u) && w)
			return w;
	}
	return u;
}

/* The unit's suffix: braced annotations dropped, "X/Y" as X_per_Y, "1" as ratio for a gauge. */
static void unit_suffix(const char *unit, bool monotonic, char *out, size_t size)
{
	char plain[NAME_MAX_LEN], *slash;
	size_t n = 0, o = 0;

	out[0] = '\0';
	if (!unit)
		return;
	for (int depth = 0; *unit && n + 1 < sizeof(plain); unit++) {
		if (*unit == '{')
			depth++;
		else if (*unit == '}' && depth)
			depth--;
		else if (!depth)
			plain[n++] = *unit;
	}
	plain[n] = '\0';
	if (!n)
		return;
	if (!strcmp(plain, "1")) {
		if (!monotonic)
			snprintf(out, size, "ratio");
		return;
	}
	slash = strchr(plain, '/');
	if (slash)
		*slash = '\0';
	if (plain[0])
		put_sanitized(out, size, &o, unit_word(plain, false), false);
	if (slash && slash[1]) {
		if (o)
			put_sanitized(out, size, &o, "_", false);
		put_sanitized(out, size, &o, "per_", false);
		put_sanitized(out, size, &o, unit_word(slash + 1, true), false);
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

void prom_metric_name(const char *name, const char *unit, bool monotonic, char *out, size_t size)
{
	char suffix[NAME_MAX_LEN], end[NAME_MAX_LEN + 1];
	size_t n = 0;

	if (!size)
		return;
	out[0] = '\0';
	if (is_digit(name[0]))
		put_sanitized(out, size, &n, "_", true);
	put_sanitized(out, size, &n, name, true);
	/* a counter's _total is added once, after the unit (a name that is only _total keeps it) */
	if (monotonic && n > 6 && ends_with(out, "_total")) {
		n -= 6;
		out[n] = '\0';
	}
	unit_suffix(unit, monotonic, suffix, sizeof(suffix));
	snprintf(end, sizeof(end), "_%s", suffix);
	if (suffix[0] && !ends_with(out, end)) {
		if (n && out[n - 1] != '_')
			put_sanitized(out, size, &n, "_", true);
		put_sanitized(out, size, &n, suffix, true);
	}
}

void prom_label_name(const char *key, char *out, size_t size)
{
	size_t n = 0;

	if (!size)
		return;
	out[0] = '\0';
	/* a leading digit is invalid; a leading _ would read as Prometheus' reserved __ */
	if (is_digit(key[0]))
		put_sanitized(out, size, &n, "key_", false);
	else if (key[0] == '_' || !key[0])
		put_sanitized(out, size, &n, "key", false);
	/* not put_sanitized: a label keeps its runs of _ ("a..b" and "a_b" stay apart) */
	for (const char *s = key; *s && n + 1 < size; s++)
		out[n++] = is_alpha(*s) || is_digit(*s) ? *s : '_';
	out[n] = '\0';
}

struct label {
	char name[NAME_MAX_LEN];
	const char *key; /* the attribute key, to order values that share a name */
	const char *value; /* NULL: the text is in num (qsort moves it) */
	char num[24]; /* the value's text, for an int */
};

static int label_cmp(const void *a, const void *b)
{
	const struct label *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->key, y->key);
}

static void add_attr(struct label *l, size_t *n, const struct otlp_attr *a)
{
	struct label *o;

	if (*n == LABELS_MAX)
		return; /* more than a sample can carry: the rest are dropped */
	o = &l[(*n)++];
	prom_label_name(a->key, o->name, sizeof(o->name));
	o->key = a->key;
	switch (a->type) {
	case OTLP_STRING:
		o->value = a->s ? a->s : "";
		break;
	case OTLP_BOOL:
		o->value = a->b ? "true" : "false";
		break;
	case OTLP_INT:
		snprintf(o->num, sizeof(o->num), "%lld", (long long)a->i);
		o->value = NULL;
		break;
	}
}

/* Label values escape backslash, double quote and newline; the rest is UTF-8 as is. */
static void put_escaped(struct buf *out, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_puts(out, "\\\\");
		else if (*s == '\n')
			buf_puts(out, "\\n");
		else if (*s == '"' && quote)
			buf_puts(out, "\\\"");
		else
			buf_putc(out, *s);
	}
}

/*
 * `{a="1",b="2"}` sorted by name; attributes whose names collide once
 * sanitised share one label, their values joined with ';' in key order.
 */
static void put_labels(struct buf *out, struct label *l, size_t n)
{
	if (!n)
		return;
	qsort(l, n, sizeof(*l), label_cmp);
	buf_putc(out, '{');
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(l[i].name, l[i - 1].name)) {
			buf_putc(out, ';');
		} else {
			if (i)
				buf_puts(out, "\",");
			buf_puts(out, l[i].name);
			buf_puts(out, "=\"");
		}
		put_escaped(out, l[i].value ? l[i].value : l[i].num, true);
	}
	buf_puts(out, "\"}");
}

static void put_meta(struct buf *out, enum prom_format f, const char *family, const char *type,
		     const char *help, const char *unit)
{
	if (help && *help) {
		buf_printf(out, "# HELP %s ", family);
		/* 0.0.4 escapes only \ and newline in HELP; OpenMetrics the quote too */
		put_escaped(out, help, f == PROM_OPENMETRICS);
		buf_putc(out, '\n');
	}
	buf_printf(out, "# TYPE %s %s\n", family, type);
	if (f == PROM_OPENMETRICS && unit && *unit)
		buf_printf(out, "# UNIT %s %s\n", family, unit);
}

static void put_target_info(const struct otlp_export *e, enum prom_format f, struct buf *out)
{
	struct label l[LABELS_MAX];
	size_t n = 0;

	if (!e->nresource)
		return;
	/* an info family is named without its _info in OpenMetrics; 0.0.4 has gauges only */
	if (f == PROM_OPENMETRICS)
		put_meta(out, f, "target", "info", "Target metadata", NULL);
	else
		put_meta(out, f, "target_info", "gauge", "Target metadata", NULL);
	for (size_t i = 0; i < e->nresource; i++)
		add_attr(l, &n, &e->resource[i]);
	buf_puts(out, "target_info");
	put_labels(out, l, n);
	buf_puts(out, " 1\n");
}

static void put_points(const struct otlp_export *e, const struct otlp_metric *m,
		       const char *sample, struct buf *out)
{
	const struct otlp_attr scope[2] = {
		{ .key = "otel_scope_name", .type = OTLP_STRING, .s = e->scope_name },
		{ .key = "otel_scope_version", .type = OTLP_STRING, .s = e->scope_version },
	};

	for (size_t k = 0; k < m->npoints; k++) {
		const struct otlp_point *p = &m->points[k];
		struct label l[LABELS_MAX];
		size_t n = 0;

		for (size_t j = 0; j < p->nattrs; j++)
			add_attr(l, &n, &p->attrs[j]);
		for (size_t j = 0; j < 2; j++)
			if (scope[j].s && *scope[j].s)
				add_attr(l, &n, &scope[j]);
		buf_puts(out, sample);
		put_labels(out, l, n);
		if (m->gauge) {
			char v[DOUBLE_TEXT_MAX];

			double_text(p->dvalue, v, sizeof(v));
			buf_printf(out, " %s\n", v);
		} else {
			buf_printf(out, " %lld\n", (long long)p->value);
		}
	}
}

/*
 * A bucket bound as an le value: the shortest text that reads back as it;
 * OpenMetrics wants the canonical float form ("1.0", not "1").
 */
static void le_text(double bound, enum prom_format f, char *out, size_t size)
{
	double_text(bound, out, size);
	if (f == PROM_OPENMETRICS && !strpbrk(out, ".eEin"))
		strncat(out, ".0", size - strlen(out) - 1);
}

/* One histogram point: cumulative _bucket per le, then _sum and _count. */
static void put_histogram_point(const struct otlp_export *e, const struct otlp_metric *m, size_t k,
				const char *family, enum prom_format f, struct buf *out)
{
	const struct otlp_attr scope[2] = {
		{ .key = "otel_scope_name", .type = OTLP_STRING, .s = e->scope_name },
		{ .key = "otel_scope_version", .type = OTLP_STRING, .s = e->scope_version },
	};
	const struct otlp_point *p = &m->points[k];
	const struct otlp_hist *h = &m->hist[k];
	struct label l[LABELS_MAX];
	char sum[32];
	uint64_t cumulative = 0;
	size_t n = 0, le;

	for (size_t j = 0; j < p->nattrs; j++)
		add_attr(l, &n, &p->attrs[j]);
	for (size_t j = 0; j < 2; j++)
		if (scope[j].s && *scope[j].s)
			add_attr(l, &n, &scope[j]);
	/* the le label last in the list: put_labels sorts a copy each time */
	le = n < LABELS_MAX ? n : LABELS_MAX - 1;
	for (size_t b = 0; b <= m->nbounds; b++) {
		struct label sorted[LABELS_MAX];

		cumulative += h->bucket_counts[b];
		memset(&l[le], 0, sizeof(l[le]));
		snprintf(l[le].name, sizeof(l[le].name), "le");
		l[le].key = "le";
		if (b < m->nbounds)
			le_text(m->bounds[b], f, l[le].num, sizeof(l[le].num));
		else
			snprintf(l[le].num, sizeof(l[le].num), "+Inf");
		memcpy(sorted, l, (le + 1) * sizeof(*l));
		buf_printf(out, "%s_bucket", family);
		put_labels(out, sorted, le + 1);
		buf_printf(out, " %llu\n", (unsigned long long)cumulative);
	}
	double_text(h->sum, sum, sizeof(sum));
	buf_printf(out, "%s_sum", family);
	put_labels(out, l, n);
	buf_printf(out, " %s\n%s_count", sum, family);
	put_labels(out, l, n);
	buf_printf(out, " %llu\n", (unsigned long long)h->count);
}

/* The histogram family `family`: metric `i` and every later one of that name. */
static void put_histogram_family(const struct otlp_export *e, size_t i, const char *family,
				 const char *unit, enum prom_format f, struct buf *out)
{
	put_meta(out, f, family, "histogram", e->metrics[i].description, unit);
	for (size_t j = i; j < e->nmetrics; j++) {
		const struct otlp_metric *m = &e->metrics[j];
		char other[NAME_MAX_LEN];

		if (!m->hist)
			continue;
		prom_metric_name(m->name, m->unit, false, other, sizeof(other));
		if (strcmp(other, family))
			continue;
		for (size_t k = 0; k < m->npoints; k++)
			put_histogram_point(e, m, k, family, f, out);
	}
}

int prom_encode(const struct otlp_export *e, enum prom_format f, struct buf *out)
{
	put_target_info(e, f, out);
	for (size_t i = 0; i < e->nmetrics; i++) {
		const struct otlp_metric *m = &e->metrics[i];
		char family[NAME_MAX_LEN], sample[NAME_MAX_LEN + 8], unit[NAME_MAX_LEN];
		bool seen = false;

		prom_metric_name(m->name, m->unit, m->monotonic, family, sizeof(family));
		/* one family per name: a later metric of the same name was emitted with the first */
		for (size_t j = 0; j < i && !seen; j++) {
			char other[NAME_MAX_LEN];

			prom_metric_name(e->metrics[j].name, e->metrics[j].unit,
					 e->metrics[j].monotonic, other, sizeof(other));
			seen = !strcmp(other, family);
		}
		if (seen)
			continue;
		unit_suffix(m->unit, m->monotonic, unit, sizeof(unit));
		/* OpenMetrics: a UNIT only where the name ends with it */
		if (unit[0]) {
			char end[NAME_MAX_LEN + 1];

			snprintf(end, sizeof(end), "_%s", unit);
			if (!ends_with(family, end))
				unit[0] = '\0';
		}
		if (m->hist) {
			put_histogram_family(e, i, family, unit, f, out);
			continue;
		}
		snprintf(sample, sizeof(sample), "%s%s", family, m->monotonic ? "_total" : "");
		/* 0.0.4 names the counter family by its sample name, OpenMetrics without _total */
		put_meta(out, f, f == PROM_OPENMETRICS ? family : sample,
			 m->monotonic ? "counter" : "gauge", m->description, unit);
		for (size_t j = i; j < e->nmetrics; j++) {
			char other[NAME_MAX_LEN];

			if (e->metrics[j].monotonic != m->monotonic || e->metrics[j].hist)
				continue;
			prom_metric_name(e->metrics[j].name, e->metrics[j].unit,
					 e->metrics[j].monotonic, other, sizeof(other));
			if (!strcmp(other, family))
				put_points(e, &e->metrics[j], sample, out);
		}
	}
	if (f == PROM_OPENMETRICS)
		buf_puts(out, "# EOF\n");
	return out->oom ? -ENOMEM : 0;
}
