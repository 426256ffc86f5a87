#!/bin/bash
# A/B of the cost per observed call, two inflight builds interleaved: each
# round attaches A (`inflight top`, uretprobe, the string chain), measures,
# detaches, then B the same, so drift on the machine falls on both alike.
#
#   tools/bench/ab.sh INFLIGHT_A INFLIGHT_B BENCH_WORKER [ROUNDS] [THREADS]
#   BENCH_RUNS=5 BENCH_RUN_MS=300 BENCH_FUNC=bench_nop5
#
# Prints one line per round and build ("min median" ns per call over RUNS
# runs), then per build the median over rounds of those mins and medians.
# Run as root, under the suite lock (flock /tmp/inflight-suite.lock ...).
set -euo pipefail

A=$(realpath "$1")
B=$(realpath "$2")
W=$(realpath "$3")
ROUNDS=${4:-6}
THREADS=${5:-1}
RUNS=${BENCH_RUNS:-5}
RUN_MS=${BENCH_RUN_MS:-300}
FUNC=${BENCH_FUNC:-bench_nop5}
TMP=$(mktemp -d)
PROBER=
trap 'stop_prober; rm -rf "$TMP"' EXIT

run_once() { "$W" "$FUNC" "$THREADS" "$1" 4 | sed 's/ns_per_call=\([0-9.]*\).*/\1/'; }

stop_prober() {
	[ -n "$PROBER" ] || return 0
	kill -TERM "$PROBER" 2>/dev/null || true
	wait "$PROBER" 2>/dev/null || true
	PROBER=
}

start_prober() { # INFLIGHT
	: >"$TMP/err"
	"$1" top --binary "$W" --func "$FUNC" --chain '+0(%di):string' --return uretprobe \
		--interval 1h >/dev/null 2>"$TMP/err" &
	PROBER=$!
	for _ in $(seq 200); do
		grep -q attached "$TMP/err" && break
		sleep 0.05
	done
	# and the probes fire: a probed call costs far more than 100 ns
	for _ in $(seq 100); do
		[ "$(run_once 1000 | cut -d. -f1)" -gt 100 ] && return 0
		sleep 0.05
	done
	echo "ab: $1 did not attach:" >&2
	cat "$TMP/err" >&2
	exit 1
}

measure() { # -> "min median"
	local ns calls
	ns=$(run_once 2000)
	calls=$(awk -v ns="$ns" -v ms="$RUN_MS" 'BEGIN { c = int(ms * 1e6 / ns); if (c < 1000) c = 1000; print c }')
	for _ in $(seq "$RUNS"); do run_once "$calls"; done | sort -n |
		awk '{ a[NR] = $1 } END { printf "%.0f %.0f\n", a[1], a[int((NR + 1) / 2)] }'
}

echo "# $FUNC, $THREADS thread(s), $ROUNDS rounds of $RUNS runs of ~$RUN_MS ms: min median ns/call"
for r in $(seq "$ROUNDS"); do
	for x in A B; do
		bin=$A
		[ $x = B ] && bin=$B
		start_prober "$bin"
		m=$(measure)
		stop_prober
		echo "round $r $x $m"
		echo "$m" >>"$TMP/$x"
	done
done
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for x in A B; do
	echo "$x: median of mins $(cut -d' ' -f1 "$TMP/$x" | median), median of medians $(cut -d' ' -f2 "$TMP/$x" | median)"
done
