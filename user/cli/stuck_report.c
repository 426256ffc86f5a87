// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "cli/stuck_report.h"
#include "util/json_escape.h"
#include "util/grow.h"
#include "util/text_width.h"
#include "util/utf8.h"

#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_S UINT64_C(1000000000)

/*
 * Names come from the watched process (its memory, its symbols, its file
 * names): copied as valid UTF-8, so the JSON is UTF-8 and the text can be
 * told character by character. NULL stays NULL.
 */
static char *dup_utf8(const char *s)
{
	size_t len, size;
	char *out;

	if (!s)
		return NULL;
	len = strlen(s);
	size = UTF8_SANITIZED_MAX(len);
	out = malloc(size);
	if (out)
		utf8_sanitize(s, len, out, size);
	return out;
}

struct stuck_call *stuck_report_add(struct stuck_report *r, pid_t pid, pid_t tid,
				    const char *chain, uint64_t age_ns, bool age_exact)
{
	struct stuck_call *c, *v;

	v = grow_array(r->calls, &r->cap, r->n + 1, sizeof(*v));
	if (!v)
		return NULL;
	r->calls = v;
	c = &r->calls[r->n];
	memset(c, 0, sizeof(*c));
	c->chain = dup_utf8(chain ? chain : "");
	if (!c->chain)
		return NULL;
	c->pid = pid;
	c->tid = tid;
	c->age_ns = age_ns;
	c->age_exact = age_exact;
	r->n++;
	return c;
}

int stuck_call_add_frame(struct stuck_call *c, const char *func, const char *file, int line,
			 uint64_t addr, uint64_t offset)
{
	struct stuck_frame *v = realloc(c->frames, (c->nframes + 1) * sizeof(*v)), *f;

	if (!v)
		return -ENOMEM;
	c->frames = v;
	f = &v[c->nframes];
	*f = (struct stuck_frame){ .line = line, .addr = addr, .offset = offset };
	f->func = dup_utf8(func);
	f->file = dup_utf8(file);
	if ((func && !f->func) || (file && !f->file)) {
		free(f->func);
		free(f->file);
		return -ENOMEM;
	}
	c->nframes++;
	return 0;
}

static int by_age(const void *a, const void *b)
{
	const struct stuck_call *x = a, *y = b;

	if (x->age_ns != y->age_ns)
		return x->age_ns > y->age_ns ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

void stuck_report_sort(struct stuck_report *r)
{
	if (r->n)
		qsort(r->calls, r->n, sizeof(*r->calls), by_age);
}

void stuck_report_free(struct stuck_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		for (size_t k = 0; k < r->calls[i].nframes; k++) {
			free(r->calls[i].frames[k].func);
			free(r->calls[i].frames[k].file);
		}
		free(r->calls[i].frames);
		free(r->calls[i].chain);
	}
	free(r->calls);
	memset(r, 0, sizeof(*r));
}

void stuck_format_duration(uint64_t ns, char *out, size_t size)
{
	if (ns % (60 * NS_PER_S) == 0 && ns)
		snprintf(out, size, "%" PRIu64 "m", ns / (60 * NS_PER_S));
	else if (ns % NS_PER_S == 0)
		snprintf(out, size, "%" PRIu64 "s", ns / NS_PER_S);
	else if (ns < NS_PER_S)
		snprintf(out, size, "%" PRIu64 "ms", ns / NS_PER_MS);
	else
		snprintf(out, size, "%.3gs", (double)ns / NS_PER_S);
}

/*
 * A name as text: never one that moves the cursor or recolours the
 * operator's terminal (as top's table): C0 and C1 controls and DEL print
 * as \xNN.
 */
static void put_name(FILE *out, const char *s)
{
	while (*s) {
		uint32_t cp;
		size_t n = text_decode(s, &cp);

		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			fprintf(out, "\\x%02x", (unsigned)cp);
		else
			fwrite(s, 1, n, out);
		s += n;
	}
}

/* "func (file:line)" or "func+0x1f (file)" or "0x7f.. (file)" */
static void frame_text(FILE *out, const struct stuck_frame *f)
{
	if (!f->addr) {
		put_name(out, f->func ? f->func : "?");
		fputs(" (", out);
		put_name(out, f->file ? f->file : "?");
		if (f->line >= 0)
			fprintf(out, ":%d", f->line);
		fputs(")\n", out);
		return;
	}
	if (f->func) {
		put_name(out, f->func);
		fprintf(out, "+0x%" PRIx64, f->offset);
	} else {
		fprintf(out, "0x%" PRIx64, f->addr);
	}
	if (f->file) {
		fputs(" (", out);
		put_name(out, f->file);
		fputc(')', out);
	}
	fputc('\n', out);
}

void stuck_render_text(FILE *out, const struct stuck_report *r)
{
	char d[32];

	stuck_format_duration(r->older_than_ns, d, sizeof(d));
	if (!r->n) {
		fprintf(out, "no call in flight for %s or more (%zu in flight)\n", d, r->inflight);
		fflush(out);
		return;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct stuck_call *c = &r->calls[i];

		fprintf(out, "%sPID %d", i ? "\n" : "", (int)c->pid);
		if (c->tid)
			fprintf(out, "  TID %d", (int)c->tid);
		else
			fputs("  TID ?", out);
		fputs("  CHAIN ", out);
		put_name(out, c->chain);
		fprintf(out, "  AGE %s%.1fs\n", c->age_exact ? "" : ">=", (double)c->age_ns / NS_PER_S);
		for (size_t k = 0; k < c->nframes; k++) {
			fputs("    ", out);
			frame_text(out, &c->frames[k]);
			if (c->truncated && k + 2 == c->nframes)
				fputs("    ...\n", out);
		}
		if (!c->nframes)
			fputs("    (no stack)\n", out);
	}
	fflush(out);
}

static void json_str_or_null(FILE *out, const char *s)
{
	if (s)
		json_write_string(out, s);
	else
		fputs("null", out);
}

void stuck_render_json(FILE *out, const struct stuck_report *r)
{
	fprintf(out, "{\"ts\": %" PRIu64 ", \"older_than\": %.3f, \"inflight\": %zu, \"calls\": [",
		r->ts_ns, (double)r->older_than_ns / NS_PER_S, r->inflight);
	for (size_t i = 0; i < r->n; i++) {
		const struct stuck_call *c = &r->calls[i];

		fprintf(out, "%s{\"pid\": %d, \"tid\": ", i ? ", " : "", (int)c->pid);
		if (c->tid)
			fprintf(out, "%d", (int)c->tid);
		else
			fputs("null", out);
		fputs(", \"chain\": ", out);
		json_write_string(out, c->chain);
		fprintf(out, ", \"age\": %.3f, \"age_exact\": %s, \"truncated\": %s, \"stack\": [",
			(double)c->age_ns / NS_PER_S, c->age_exact ? "true" : "false",
			c->truncated ? "true" : "false");
		for (size_t k = 0; k < c->nframes; k++) {
			const struct stuck_frame *f = &c->frames[k];

			fputs(k ? ", {" : "{", out);
			if (!f->addr) {
				fputs("\"function\": ", out);
				json_str_or_null(out, f->func);
				fputs(", \"file\": ", out);
				json_str_or_null(out, f->file);
				if (f->line >= 0)
					fprintf(out, ", \"line\": %d}", f->line);
				else
					fputs(", \"line\": null}", out);
				continue;
			}
			fprintf(out, "\"address\": \"0x%" PRIx64 "\", \"symbol\": ", f->addr);
			json_str_or_null(out, f->func);
			fprintf(out, ", \"offset\": %" PRIu64 ", \"file\": ", f->func ? f->offset : 0);
			json_str_or_null(out, f->file);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputs("]}\n", out);
	fflush(out);
}
