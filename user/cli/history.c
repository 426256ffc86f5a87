// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli/history.h"

int history_update(struct history_table *t, const struct snapshot *s)
{
	uint32_t top = 0;

	for (size_t i = 0; i < s->n; i++)
		top = s->chains[i].id > top ? s->chains[i].id : top;
	if (s->n && top >= t->nids) {
		size_t n = (size_t)top + 64;
		struct history_ring *grown = realloc(t->by_id, n * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		memset(grown + t->nids, 0, (n - t->nids) * sizeof(*grown));
		t->by_id = grown;
		t->nids = n;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct history_ring *r = &t->by_id[s->chains[i].id];

		r->v[r->next] = s->chains[i].inflight;
		r->next = (r->next + 1) % HISTORY_LEN;
		r->n += r->n < HISTORY_LEN;
	}
	return 0;
}

size_t history_of(const struct history_table *t, uint32_t id, int64_t *out)
{
	const struct history_ring *r;

	if (id >= t->nids)
		return 0;
	r = &t->by_id[id];
	for (uint32_t k = 0; k < r->n; k++)
		out[k] = r->v[(r->next + HISTORY_LEN - r->n + k) % HISTORY_LEN];
	return r->n;
}

void history_free(struct history_table *t)
{
	free(t->by_id);
	memset(t, 0, sizeof(*t));
}

void sparkline(const int64_t *v, size_t n, size_t width, bool ascii, char *out, size_t size)
{
	static const char levels[] = "_.:-=+*#";
	int64_t max = 0;
	size_t o = 0, per = ascii ? 1 : 3;

	if (!size)
		return;
	for (size_t i = 0; i < n; i++)
		max = v[i] > max ? v[i] : max;
	for (size_t i = n; i < width && o + 1 < size; i++)
		out[o++] = ' ';
	for (size_t i = 0; i < n && o + per < size; i++) {
		/* 0 the lowest of 8, the largest the highest, rounded up between */
		int64_t x = v[i] > 0 ? v[i] : 0;
		unsigned level = max ? (unsigned)((x * 7 + max - 1) / max) : 0;

		if (ascii) {
			out[o++] = levels[level];
		} else {
			/* U+2581 + level: E2 96 81..88 */
			out[o++] = (char)0xe2;
			out[o++] = (char)0x96;
			out[o++] = (char)(0x81 + level);
		}
	}
	out[o] = '\0';
}

bool locale_is_utf8(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);
		const char *dot;

		if (!v || !*v)
			continue;
		/* the codeset follows the dot: en_US.UTF-8, C.utf8 */
		dot = strchr(v, '.');
		return dot && (!strncasecmp(dot + 1, "utf-8", 5) || !strncasecmp(dot + 1, "utf8", 4));
	}
	return false;
}
