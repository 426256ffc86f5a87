// SPDX-License-Identifier: MIT
/*
 * What `inflight stuck` prints for known calls: the text blocks and the
 * JSON object, byte for byte; oldest first; no calls said so; durations
 * given back as written.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/stuck_report.h"

#define SEC 1000000000ull

static char *render(const struct stuck_report *r, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	if (json)
		stuck_render_json(f, r);
	else
		stuck_render_text(f, r);
	fclose(f);
	return buf;
}

static void fill(struct stuck_report *r)
{
	struct stuck_call *c;

	r->older_than_ns = 30 * SEC;
	r->ts_ns = 1700000000000000000ull;
	r->inflight = 5;
	/* a CPython call watched for 31.25 s */
	c = stuck_report_add(r, 12, 14, "transcribe", 31250000000ull, false);
	assert_non_null(c);
	assert_int_equal(stuck_call_add_frame(c, "Redis._line", "/app/q.py", 41, 0, 0), 0);
	assert_int_equal(stuck_call_add_frame(c, "_handle_vcon", "/app/main.py", -1, 0, 0), 0);
	/* an older native call: a named frame, an unnamed one in a file, a bare address */
	c = stuck_report_add(r, 7, 9, "caf\xc3\xa9 \"q\"", 95 * SEC, true);
	assert_non_null(c);
	assert_int_equal(stuck_call_add_frame(c, "worker_handle", "/srv/worker", -1, 0x5500001234, 0x3c), 0);
	assert_int_equal(stuck_call_add_frame(c, NULL, "/srv/worker", -1, 0x5500002000, 0), 0);
	assert_int_equal(stuck_call_add_frame(c, NULL, NULL, -1, 0x7fff0010, 0), 0);
	/* a goroutine's call: no thread, no stack */
	assert_non_null(stuck_report_add(r, 7, 0, "go", 40 * SEC, true));
	stuck_report_sort(r);
}

static void test_text(void **state)
{
	struct stuck_report r = { 0 };
	char *out;

	(void)state;
	fill(&r);
	out = render(&r, false);
	assert_string_equal(out,
			    "PID 7  TID 9  CHAIN caf\xc3\xa9 \"q\"  AGE 95.0s\n"
			    "    worker_handle+0x3c (/srv/worker)\n"
			    "    0x5500002000 (/srv/worker)\n"
			    "    0x7fff0010\n"
			    "\n"
			    "PID 7  TID ?  CHAIN go  AGE 40.0s\n"
			    "    (no stack)\n"
			    "\n"
			    "PID 12  TID 14  CHAIN transcribe  AGE >=31.2s\n"
			    "    Redis._line (/app/q.py:41)\n"
			    "    _handle_vcon (/app/main.py)\n");
	free(out);
	stuck_report_free(&r);
	/* none */
	r.older_than_ns = 1500 * 1000000ull;
	r.inflight = 2;
	out = render(&r, false);
	assert_string_equal(out, "no call in flight for 1.5s or more (2 in flight)\n");
	free(out);
}

static void test_json(void **state)
{
	struct stuck_report r = { 0 };
	char *out;

	(void)state;
	fill(&r);
	out = render(&r, true);
	assert_string_equal(out,
			    "{\"ts\": 1700000000000000000, \"older_than\": 30.000, \"inflight\": 5, \"calls\": ["
			    "{\"pid\": 7, \"tid\": 9, \"chain\": \"caf\xc3\xa9 \\\"q\\\"\", \"age\": 95.000, "
			    "\"age_exact\": true, \"truncated\": false, \"stack\": ["
			    "{\"address\": \"0x5500001234\", \"symbol\": \"worker_handle\", \"offset\": 60, \"file\": \"/srv/worker\"}, "
			    "{\"address\": \"0x5500002000\", \"symbol\": null, \"offset\": 0, \"file\": \"/srv/worker\"}, "
			    "{\"address\": \"0x7fff0010\", \"symbol\": null, \"offset\": 0, \"file\": null}]}, "
			    "{\"pid\": 7, \"tid\": null, \"chain\": \"go\", \"age\": 40.000, \"age_exact\": true, "
			    "\"truncated\": false, \"stack\": []}, "
			    "{\"pid\": 12, \"tid\": 14, \"chain\": \"transcribe\", \"age\": 31.250, "
			    "\"age_exact\": false, \"truncated\": false, \"stack\": ["
			    "{\"function\": \"Redis._line\", \"file\": \"/app/q.py\", \"line\": 41}, "
			    "{\"function\": \"_handle_vcon\", \"file\": \"/app/main.py\", \"line\": null}]}]}\n");
	free(out);
	stuck_report_free(&r);
}

static void test_durations(void **state)
{
	static const struct {
		uint64_t ns;
		const char *text;
	} cases[] = {
		{ 30 * SEC, "30s" }, { 120 * SEC, "2m" }, { 500000000ull, "500ms" },
		{ 1500000000ull, "1.5s" }, { 90 * SEC, "90s" }, { 1000000ull, "1ms" }, { 0, "0s" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		stuck_format_duration(cases[i].ns, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
}

/*
 * Calls of one age: by pid, then tid. A truncated stack: "..." before the
 * call's own frame, "truncated": true; an unnamed frame's offset is 0.
 */
static void test_ties_and_truncation(void **state)
{
	struct stuck_report r = { 0 };
	struct stuck_call *c;
	char *out;

	(void)state;
	r.older_than_ns = 0;
	assert_non_null(stuck_report_add(&r, 9, 3, "a", 10 * SEC, true));
	assert_non_null(stuck_report_add(&r, 5, 8, "b", 10 * SEC, true));
	c = stuck_report_add(&r, 5, 6, "c", 10 * SEC, true);
	assert_non_null(c);
	c->truncated = true;
	assert_int_equal(stuck_call_add_frame(c, "inner", NULL, -1, 0x1000, 0x4), 0);
	assert_int_equal(stuck_call_add_frame(c, NULL, "/w", -1, 0x2000, 0x10), 0);
	assert_int_equal(stuck_call_add_frame(c, "handler", NULL, -1, 0x3000, 0), 0);
	stuck_report_sort(&r);
	out = render(&r, false);
	assert_string_equal(out,
			    "PID 5  TID 6  CHAIN c  AGE 10.0s\n"
			    "    inner+0x4\n"
			    "    0x2000 (/w)\n"
			    "    ...\n"
			    "    handler+0x0\n"
			    "\n"
			    "PID 5  TID 8  CHAIN b  AGE 10.0s\n"
			    "    (no stack)\n"
			    "\n"
			    "PID 9  TID 3  CHAIN a  AGE 10.0s\n"
			    "    (no stack)\n");
	free(out);
	out = render(&r, true);
	assert_string_equal(out,
			    "{\"ts\": 0, \"older_than\": 0.000, \"inflight\": 0, \"calls\": ["
			    "{\"pid\": 5, \"tid\": 6, \"chain\": \"c\", \"age\": 10.000, "
			    "\"age_exact\": true, \"truncated\": true, \"stack\": ["
			    "{\"address\": \"0x1000\", \"symbol\": \"inner\", \"offset\": 4, \"file\": null}, "
			    "{\"address\": \"0x2000\", \"symbol\": null, \"offset\": 0, \"file\": \"/w\"}, "
			    "{\"address\": \"0x3000\", \"symbol\": \"handler\", \"offset\": 0, \"file\": null}]}, "
			    "{\"pid\": 5, \"tid\": 8, \"chain\": \"b\", \"age\": 10.000, "
			    "\"age_exact\": true, \"truncated\": false, \"stack\": []}, "
			    "{\"pid\": 9, \"tid\": 3, \"chain\": \"a\", \"age\": 10.000, "
			    "\"age_exact\": true, \"truncated\": false, \"stack\": []}]}\n");
	free(out);
	stuck_report_free(&r);
}

/*
 * Names the process controls (its memory, symbols, file names): the text
 * never carries a control character to the terminal (an escape sequence,
 * a newline that forges a line, C1's CSI), the JSON is valid UTF-8.
 */
static void test_hostile_names(void **state)
{
	struct stuck_report r = { 0 };
	struct stuck_call *c;
	char *out;

	(void)state;
	c = stuck_report_add(&r, 3, 4, "a\x1b[2Jb", 2 * SEC, true);
	assert_non_null(c);
	assert_int_equal(stuck_call_add_frame(c, "f\x07\xff", "/x\nPID 1\xc2\x9b", 7, 0, 0), 0);
	assert_int_equal(stuck_call_add_frame(c, "g\x7f", "/lib\r", -1, 0x1000, 0x4), 0);
	out = render(&r, false);
	assert_string_equal(out,
			    "PID 3  TID 4  CHAIN a\\x1b[2Jb  AGE 2.0s\n"
			    "    f\\x07\xef\xbf\xbd (/x\\x0aPID 1\\x9b:7)\n"
			    "    g\\x7f+0x4 (/lib\\x0d)\n");
	free(out);
	out = render(&r, true);
	assert_string_equal(out,
			    "{\"ts\": 0, \"older_than\": 0.000, \"inflight\": 0, \"calls\": ["
			    "{\"pid\": 3, \"tid\": 4, \"chain\": \"a\\u001b[2Jb\", \"age\": 2.000, "
			    "\"age_exact\": true, \"truncated\": false, \"stack\": ["
			    "{\"function\": \"f\\u0007\xef\xbf\xbd\", \"file\": \"/x\\nPID 1\xc2\x9b\", \"line\": 7}, "
			    "{\"address\": \"0x1000\", \"symbol\": \"g\\u007f\", \"offset\": 4, "
			    "\"file\": \"/lib\\r\"}]}]}\n");
	free(out);
	stuck_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_ties_and_truncation),
		cmocka_unit_test(test_hostile_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
