// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "run/config_file.h"
#include "util/errmsg.h"

/* a file of targets is small: anything bigger is a mistake, not a config */
#define MAX_FILE_SIZE (1 << 20)

static int fail(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%d: %s", path, line, msg);
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

static int add_entry(struct config_target *t, const char *key, const char *value, int line)
{
	struct config_entry *v = realloc(t->entries, (t->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	t->entries = v;
	v[t->n].key = strdup(key);
	v[t->n].value = strdup(value);
	v[t->n].line = line;
	if (!v[t->n].key || !v[t->n].value) {
		free(v[t->n].key);
		free(v[t->n].value);
		return -ENOMEM;
	}
	t->n++;
	return 0;
}

int config_parse(const char *path, const char *text, size_t len, struct config_file *out,
		 int (*known)(const char *key), int (*repeatable)(const char *key), char *err,
		 size_t errlen)
{
	struct config_target *cur = NULL;
	size_t pos = 0;
	int line = 0, rc = -EINVAL;

	memset(out, 0, sizeof(*out));
	out->path = strdup(path);
	if (!out->path) {
		fail(err, errlen, path, 0, "out of memory");
		return -ENOMEM;
	}
	while (pos < len) {
		size_t end = pos;
		char raw[4096], *s, *eq;

		while (end < len && text[end] != '\n')
			end++;
		line++;
		if (end - pos >= sizeof(raw)) {
			fail(err, errlen, path, line, "line longer than %zu bytes", sizeof(raw) - 1);
			goto bad;
		}
		memcpy(raw, text + pos, end - pos);
		raw[end - pos] = '\0';
		if (strlen(raw) != end - pos) {
			fail(err, errlen, path, line, "a NUL byte: not a text file");
			goto bad;
		}
		pos = end + 1;
		s = trim(raw);
		if (!*s || *s == '#')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']'), *name;

			if (!close || trim(close + 1)[0]) {
				fail(err, errlen, path, line, "expected '[target NAME]'");
				goto bad;
			}
			*close = '\0';
			name = trim(s + 1);
			if (strncmp(name, "target", 6) || (name[6] != ' ' && name[6] != '\t')) {
				fail(err, errlen, path, line, "expected '[target NAME]', got '[%s]'", name);
				goto bad;
			}
			name = trim(name + 6);
			if (!valid_name(name)) {
				fail(err, errlen, path, line,
				     "target name '%s': expected letters, digits, '_', '-' or '.'", name);
				goto bad;
			}
			for (size_t i = 0; i < out->n; i++) {
				if (!strcmp(out->targets[i].name, name)) {
					fail(err, errlen, path, line, "target '%s' already defined at line %d",
					     name, out->targets[i].line);
					goto bad;
				}
			}
			if (out->n == CONFIG_MAX_TARGETS) {
				fail(err, errlen, path, line, "more than %d targets", CONFIG_MAX_TARGETS);
				goto bad;
			}
			cur = &out->targets[out->n++];
			cur->name = strdup(name);
			cur->line = line;
			if (!cur->name) {
				fail(err, errlen, path, line, "out of memory");
				rc = -ENOMEM;
				goto bad;
			}
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			fail(err, errlen, path, line, "expected 'key = value' or '[target NAME]'");
			goto bad;
		}
		*eq = '\0';
		{
			char *key = trim(s), *value = trim(eq + 1);

			if (!cur) {
				fail(err, errlen, path, line, "'%s' outside a [target NAME] section", key);
				goto bad;
			}
			if (!known(key)) {
				fail(err, errlen, path, line, "unknown key '%s' (the keys are the long options of a target, e.g. func, chain, match-exe)",
				     key);
				goto bad;
			}
			if (!*value) {
				fail(err, errlen, path, line, "%s: no value", key);
				goto bad;
			}
			if (!repeatable(key)) {
				for (size_t i = 0; i < cur->n; i++) {
					if (!strcmp(cur->entries[i].key, key)) {
						fail(err, errlen, path, line, "%s given twice in target '%s' (first at line %d)",
						     key, cur->name, cur->entries[i].line);
						goto bad;
					}
				}
			}
			if (add_entry(cur, key, value, line)) {
				fail(err, errlen, path, line, "out of memory");
				rc = -ENOMEM;
				goto bad;
			}
		}
	}
	if (!out->n) {
		fail(err, errlen, path, line, "no [target NAME] section");
		goto bad;
	}
	for (size_t i = 0; i < out->n; i++) {
		if (!out->targets[i].n) {
			fail(err, errlen, path, out->targets[i].line, "target '%s' is empty",
			     out->targets[i].name);
			goto bad;
		}
	}
	return 0;
bad:
	config_free(out);
	return rc;
}

int config_load(const char *path, struct config_file *out, int (*known)(const char *key),
		int (*repeatable)(const char *key), char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *text;
	size_t n;
	int rc;

	if (!f) {
		int e = errno;

		return errmsg_errno(err, errlen, e, "--config %s: %s", path, strerror(e));
	}
	text = malloc(MAX_FILE_SIZE + 1);
	if (!text) {
		fclose(f);
		return errmsg_errno(err, errlen, ENOMEM, "out of memory");
	}
	n = fread(text, 1, MAX_FILE_SIZE + 1, f);
	if (ferror(f) || n > MAX_FILE_SIZE) {
		int e = ferror(f) ? errno : EFBIG;

		snprintf(err, errlen, "--config %s: %s", path,
			 ferror(f) ? strerror(e) : "larger than 1 MiB");
		fclose(f);
		free(text);
		return e > 0 ? -e : -EIO;
	}
	fclose(f);
	if (memchr(text, '\0', n)) {
		free(text);
		return errmsg(err, errlen, "--config %s: not a text file (it holds a NUL byte)", path);
	}
	rc = config_parse(path, text, n, out, known, repeatable, err, errlen);
	free(text);
	return rc;
}

void config_free(struct config_file *c)
{
	for (size_t i = 0; i < c->n; i++) {
		for (size_t j = 0; j < c->targets[i].n; j++) {
			free(c->targets[i].entries[j].key);
			free(c->targets[i].entries[j].value);
		}
		free(c->targets[i].entries);
		free(c->targets[i].name);
	}
	free(c->path);
	memset(c, 0, sizeof(*c));
}
