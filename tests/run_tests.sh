#!/bin/sh
# Runs every test binary of a build (unit first, then the BPF integration
# tests) and ends with one line: "tests: N passed, N failed, N skipped".
# Exit status is non-zero if any test failed or any binary crashed.
set -u
BUILD=${1:?usage: run_tests.sh BUILD_DIR}
# the CLI tests run the binary of the same build (plain or sanitized)
INFLIGHT_BIN=${INFLIGHT_BIN:-$BUILD/inflight}
export INFLIGHT_BIN
log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0 failed=0 skipped=0 crashed=0

for t in "$BUILD"/tests/unit/test_* "$BUILD"/tests/integration/test_*; do
	case "$t" in *.o | *.d) continue ;; esac
	[ -x "$t" ] || continue
	echo "=== $t"
	# a test that waits for a condition that never comes must not hang
	# CI: each binary gets 10 minutes (the longest, the chaos test, ~1.5)
	start=$(date +%s)
	timeout --signal=KILL "${TEST_TIMEOUT:-600}" "$t" >"$log" 2>&1
	rc=$?
	# where the suite's time goes, to keep it within CI's budget
	echo "--- ${t##*/}: $(($(date +%s) - start)) s" >>"$log"
	[ "$rc" -eq 137 ] && echo "*** $t: killed after ${TEST_TIMEOUT:-600} s" >>"$log"
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
	if [ "$rc" -ne 0 ] && [ -z "$f" ]; then
		echo "*** $t exited with status $rc without a cmocka summary"
		crashed=$((crashed + 1))
	fi
done

failed=$((failed + crashed))
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
