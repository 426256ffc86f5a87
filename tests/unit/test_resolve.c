// SPDX-License-Identifier: MIT
/*
 * Target resolution without BPF: what file, offsets and exits a target
 * resolves to, and the messages for inputs that do not resolve, against
 * the test workers (build/workers, plain -O2 builds).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "probe/resolve.h"
#include "support/test_filter.h"
#include "support/worker_proc.h"

struct fixture {
	struct target_spec spec;
	struct resolved r;
	struct target_info info;
	char err[1024];
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.spec.return_mode = RETURN_AUTO;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	resolved_free(&f->r);
	return 0;
}

static void test_function_insn(void **state)
{
	struct fixture *f = *state;

	f->spec.binary = worker_path("native_worker");
	f->spec.func = "worker_handle";
	f->spec.return_mode = RETURN_INSN;
	assert_int_equal(resolve_target(&f->spec, &f->r, &f->info, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->info.what, "worker_handle");
	assert_int_equal(f->info.mode, RETURN_INSN);
	/* no endbr64 in a plain build: the entry is the symbol's start */
	assert_false(f->info.after_endbr);
	assert_true(f->r.entry_offset == f->r.func.offset);
	assert_true(f->r.nsites >= 1);
	assert_int_equal(f->info.exit_sites, (size_t)f->r.nsites);
	assert_false(f->r.go);
	assert_non_null(strstr(f->info.binary, "native_worker"));
}

static void test_function_after_endbr(void **state)
{
	struct fixture *f = *state;

	f->spec.binary = worker_path("native_worker_cet");
	f->spec.func = "worker_handle";
	assert_int_equal(resolve_target(&f->spec, &f->r, &f->info, f->err, sizeof(f->err)), 0);
	assert_true(f->info.after_endbr);
	assert_true(f->r.entry_offset == f->r.func.offset + 4);
}

static void test_no_such_function(void **state)
{
	struct fixture *f = *state;
	char want[2048];

	f->spec.binary = worker_path("native_worker");
	f->spec.func = "no_such_handler";
	assert_int_equal(resolve_target(&f->spec, &f->r, &f->info, f->err, sizeof(f->err)), -ENOENT);
	snprintf(want, sizeof(want), "--func no_such_handler: no such function in %s (see: inflight list --binary %s)",
		 f->info.binary, f->info.binary);
	assert_string_equal(f->err, want);
}

static void test_no_such_file(void **state)
{
	struct fixture *f = *state;

	f->spec.binary = "/nonexistent/worker";
	f->spec.func = "worker_handle";
	assert_int_equal(resolve_target(&f->spec, &f->r, &f->info, f->err, sizeof(f->err)), -ENOENT);
	assert_non_null(strstr(f->err, "--binary /nonexistent/worker: "));
}

static void test_usdt_pair(void **state)
{
	struct fixture *f = *state;

	f->spec.binary = worker_path("native_worker");
	f->spec.usdt = "inflight_test:handle_entry,inflight_test:handle_return";
	assert_int_equal(resolve_usdt(&f->spec, &f->r, &f->info, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->r.usdt_provider, "inflight_test");
	assert_string_equal(f->r.usdt_entry, "handle_entry");
	assert_string_equal(f->r.usdt_return, "handle_return");
	assert_string_equal(f->info.what, f->spec.usdt);
	assert_string_equal(f->info.mode_why, "USDT return probe");
}

static void test_usdt_missing_probe(void **state)
{
	struct fixture *f = *state;
	char want[2048];

	f->spec.binary = worker_path("native_worker");
	f->spec.usdt = "inflight_test:handle_entry,inflight_test:nope";
	assert_int_equal(resolve_usdt(&f->spec, &f->r, &f->info, f->err, sizeof(f->err)), -ENOENT);
	snprintf(want, sizeof(want), "--usdt: no probe inflight_test:nope in %s (see: inflight list --binary %s)",
		 f->info.binary, f->info.binary);
	assert_string_equal(f->err, want);
}

static void test_usdt_spec_syntax(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *spec, *err;
	} bad[] = {
		{ "p:e", "--usdt 'p:e': expected PROVIDER:ENTRY,PROVIDER:RETURN" },
		{ "p:e,p:r,p:x", "--usdt 'p:e,p:r,p:x': expected PROVIDER:ENTRY,PROVIDER:RETURN" },
		{ ":e,p:r", "--usdt ':e,p:r': expected PROVIDER:ENTRY,PROVIDER:RETURN" },
		{ "p:e,q:r", "--usdt 'p:e,q:r': entry and return probes must share a provider" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&f->r, 0, sizeof(f->r));
		assert_int_equal(resolve_parse_usdt(bad[i].spec, &f->r, f->err, sizeof(f->err)), -EINVAL);
		assert_string_equal(f->err, bad[i].err);
	}
}

static void test_chain_options(void **state)
{
	struct fixture *f = *state;
	static const struct inflight_fetch fetch;
	char longname[INFLIGHT_CHAIN_LEN + 1];

	assert_int_equal(target_spec_check_chain(&f->spec, f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "give exactly one of --chain SPEC or --chain-name NAME");
	f->spec.fetch = &fetch;
	f->spec.chain_name = "x";
	assert_int_equal(target_spec_check_chain(&f->spec, f->err, sizeof(f->err)), -EINVAL);
	f->spec.fetch = NULL;
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	f->spec.chain_name = longname;
	assert_int_equal(target_spec_check_chain(&f->spec, f->err, sizeof(f->err)), -EINVAL);
	f->spec.chain_name = "ok";
	assert_int_equal(target_spec_check_chain(&f->spec, f->err, sizeof(f->err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_function_insn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_function_after_endbr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_such_function, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_such_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usdt_pair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usdt_missing_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usdt_spec_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_options, setup, teardown),
	};

	apply_test_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
