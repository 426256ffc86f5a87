// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include "support/prometheus.h"
#include "support/receiver.h"

#define DEADLINE_MS 30000

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *prometheus_bin(void)
{
	const char *b = getenv("PROMETHEUS_BIN");

	return b && *b ? b : "prometheus";
}

bool prometheus_available(void)
{
	const char *ci = getenv("CI");
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prometheus_bin());
	if (!system(cmd))
		return true;
	if (ci && !strcmp(ci, "true"))
		fail_msg("CI=true: %s is missing (make deps installs Debian's prometheus)",
			 prometheus_bin());
	printf("SKIP: %s is missing (make deps installs Debian's prometheus)\n", prometheus_bin());
	return false;
}

struct body {
	char *b;
	size_t len, cap;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct body *c = arg;
	size_t take = size * n;

	if (take > c->cap - 1 - c->len)
		take = c->cap - 1 - c->len;
	memcpy(c->b + c->len, p, take);
	c->len += take;
	c->b[c->len] = '\0';
	return size * n;
}

static long get(int port, const char *path, char *out, size_t size)
{
	struct body ctx = { out, 0, size };
	CURL *c = curl_easy_init();
	char url[2048];
	long status = 0;

	out[0] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

/* A pause between two polls of a condition only Prometheus' API can tell. */
static void pause_ms(int ms)
{
	poll(NULL, 0, ms);
}

void prometheus_start(struct prometheus *p, const char *const targets[])
{
	char path[128], arg_cfg[160], arg_data[160], arg_addr[64], log[128], body[512];
	int64_t deadline;
	FILE *f;

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/inflight-prometheus-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(path, sizeof(path), "%s/prometheus.yml", p->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	/* fast scrapes: a parked call shows within a fraction of a second */
	fprintf(f, "global:\n  scrape_interval: 200ms\n  scrape_timeout: 200ms\n"
		   "scrape_configs:\n  - job_name: inflight\n    static_configs:\n      - targets: [");
	for (int i = 0; targets[i]; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", targets[i]);
	fprintf(f, "]\n");
	fclose(f);
	p->port = free_port();
	snprintf(arg_cfg, sizeof(arg_cfg), "--config.file=%s", path);
	snprintf(arg_data, sizeof(arg_data), "--storage.tsdb.path=%s/data", p->dir);
	snprintf(arg_addr, sizeof(arg_addr), "--web.listen-address=127.0.0.1:%d", p->port);
	snprintf(log, sizeof(log), "%s/prometheus.log", p->dir);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		/* a file, not a pipe: Go dies of SIGPIPE writing to a closed stderr */
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execlp(prometheus_bin(), prometheus_bin(), arg_cfg, arg_data, arg_addr,
		       "--storage.tsdb.retention.time=1h", (char *)NULL);
		_exit(127);
	}
	deadline = mono_ms() + DEADLINE_MS;
	while (get(p->port, "/-/ready", body, sizeof(body)) != 200) {
		int status;

		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = 0;
			fail_msg("prometheus exited (status %d) before it was ready; see %s", status, log);
		}
		if (mono_ms() > deadline)
			fail_msg("prometheus not ready after %d ms; see %s", DEADLINE_MS, log);
		pause_ms(50);
	}
}

void prometheus_stop(struct prometheus *p)
{
	char cmd[128];

	if (!p->pid)
		return;
	kill(p->pid, SIGTERM);
	waitpid(p->pid, NULL, 0);
	p->pid = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", p->dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", p->dir);
}

void prometheus_get(struct prometheus *p, const char *path, char *out, size_t size)
{
	long status = get(p->port, path, out, size);

	if (status != 200)
		fail_msg("GET %s from prometheus: HTTP %ld: %s", path, status, out);
}

/* Reads the JSON string at `s` (after its opening quote) into out; where it ends. */
static const char *json_string(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && *s != '"'; s++) {
		char c = *s;

		if (c == '\\' && s[1]) {
			s++;
			c = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
			if (*s == 'u' && s[1] && s[2] && s[3] && s[4]) {
				c = (char)strtol((char[]){ s[3], s[4], 0 }, NULL, 16);
				s += 4;
			}
		}
		if (n + 1 < size)
			out[n++] = c;
	}
	out[n] = '\0';
	return *s ? s + 1 : s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "v1=3,v2=0" from a vector answer, sorted; "" when empty; "error: ..." when not a vector. */
static void vector_summary(const char *json, const char *label, char *out, size_t size)
{
	char pairs[64][160], *sorted[64], key[64];
	size_t n = 0, o = 0;
	const char *s = json;

	out[0] = '\0';
	if (!strstr(json, "\"status\":\"success\"")) {
		snprintf(out, size, "error: %.200s", json);
		return;
	}
	snprintf(key, sizeof(key), "\"%s\":\"", label);
	while (n < 64 && (s = strstr(s, "{\"metric\":{"))) {
		const char *end = strchr(s, '}'), *l = strstr(s, key), *v;
		char lv[128] = "", val[32] = "";

		if (l && end && l < end)
			json_string(l + strlen(key), lv, sizeof(lv));
		v = strstr(s, "\"value\":[");
		if (!v)
			break;
		v = strchr(v + strlen("\"value\":["), '"');
		if (!v)
			break;
		json_string(v + 1, val, sizeof(val));
		snprintf(pairs[n], sizeof(pairs[n]), "%s=%s", lv, val);
		sorted[n] = pairs[n];
		n++;
		s = v;
	}
	qsort(sorted, n, sizeof(sorted[0]), cmp_str);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, o < size ? size - o : 0, "%s%s", i ? "," : "", sorted[i]);
}

void prometheus_wait_vector(struct prometheus *p, const char *query, const char *label,
			    const char *want)
{
	static char json[65536];
	char path[1024], got[2048] = "";
	int64_t deadline = mono_ms() + DEADLINE_MS;
	CURL *c = curl_easy_init();
	char *q = curl_easy_escape(c, query, 0);

	snprintf(path, sizeof(path), "/api/v1/query?query=%s", q);
	curl_free(q);
	curl_easy_cleanup(c);
	/* each scrape is a new sample: the answer changes only as Prometheus scrapes */
	for (;;) {
		get(p->port, path, json, sizeof(json));
		vector_summary(json, label, got, sizeof(got));
		if (!strcmp(got, want))
			return;
		if (mono_ms() > deadline)
			fail_msg("PromQL %s: expected {%s}, last answer {%s}: %.500s", query, want, got,
				 json);
		pause_ms(50);
	}
}
