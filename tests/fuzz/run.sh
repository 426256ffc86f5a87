#!/bin/sh
# Runs every fuzzer for SECONDS each (from a copy of its seed corpus, so the
# checkout stays clean) and ends with "fuzz: N passed, N failed".
#   tests/fuzz/run.sh FUZZ_BUILD_DIR SECONDS
set -u
dir=$1
secs=$2
passed=0 failed=0
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$dir"/fuzz_*; do
	[ -x "$f" ] || continue
	name=${f##*/fuzz_}
	cp -r "$here/corpus/$name" "$work/$name"
	echo "=== $f for ${secs}s"
	if "$f" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$work/" \
		"$work/$name" >"$work/log" 2>&1; then
		grep -E "stat::number_of_executed_units|Done" "$work/log" | tail -n 2
		passed=$((passed + 1))
	else
		tail -n 40 "$work/log"
		ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
