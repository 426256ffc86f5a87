#!/bin/bash
# CPU of one collection with the calls' ages read (the default) and without
# (--no-oldest-age), 1 and 101 calls parked in the native test worker: the
# median of the "collection: N series, X us CPU" debug lines of `inflight
# run` collecting every 100 ms for 6 s (the first 4 readings left out).
#   tools/bench/ages_cpu.sh [BUILD]      as root, under the suite lock
set -euo pipefail
B=${1:-build}
W=$B/workers/native_worker
I=$B/inflight
ERR=$(mktemp)
trap 'rm -f "$ERR"' EXIT
for parked in 1 101; do
	for flag in "" --no-oldest-age; do
		coproc WK { "$W"; }
		echo "park alpha 1" >&"${WK[1]}"
		[ "$parked" = 101 ] && echo "park beta 100" >&"${WK[1]}"
		head -c "$parked" <&"${WK[0]}" >/dev/null
		INFLIGHT_LOG_LEVEL=debug OTEL_METRIC_EXPORT_INTERVAL=100 timeout -s TERM 6 \
			"$I" run --binary "$W" --func worker_handle --chain '+0(%di):string' \
			--no-pin --exporter none $flag 2>"$ERR" >/dev/null || true
		grep -o "collection: [0-9]* series, [0-9]* us CPU" "$ERR" | awk '{ print $4 }' |
			tail -n +5 | sort -n |
			awk -v p="$parked" -v f="${flag:-ages read}" \
				'{ a[NR] = $1 } END { printf "%3d calls parked, %-15s median %d us CPU per collection (%d collections)\n", p, f, a[int((NR + 1) / 2)], NR }'
		echo quit >&"${WK[1]}"
		wait "$WK_PID" 2>/dev/null || true
	done
done
