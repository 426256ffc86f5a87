// SPDX-License-Identifier: MIT
#include <string.h>
#include "util/json_escape.h"

void json_escape(const char *s, json_emit_fn *emit, void *ctx)
{
	const char *run = s; /* start of the bytes that pass as they are, not sent yet */
	const char *p;

	emit(ctx, "\"", 1);
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		char u[8];
		const char *esc;

		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (c >= 0x20 && c != 0x7f)
				continue;
			snprintf(u, sizeof(u), "\\u%04x", c);
			esc = u;
		}
		if (p > run)
			emit(ctx, run, (size_t)(p - run));
		emit(ctx, esc, strlen(esc));
		run = p + 1;
	}
	if (p > run)
		emit(ctx, run, (size_t)(p - run));
	emit(ctx, "\"", 1);
}

static void emit_file(void *ctx, const char *p, size_t n)
{
	fwrite(p, 1, n, (FILE *)ctx);
}

void json_write_string(FILE *out, const char *s)
{
	json_escape(s, emit_file, out);
}
