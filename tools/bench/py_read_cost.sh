#!/bin/bash
# What one reading of a CPython worker costs inflight, by interpreter, by
# threads (1, 16, 64) and by stack depth (10, 900 frames): each thread parked
# inside _handle_vcon under DEPTH frames (tools/bench/py_parked.py), read by
# `inflight top --python` every 20 ms for 2 s; the median of its own debug
# line (walk time, process_vm_readv calls, frames). Prints a Markdown table.
#   tools/bench/py_read_cost.sh INFLIGHT_BIN
# Interpreters: pyenv's 3.12, and sid's 3.14 and 3.15 from the sid root
# (tools/sid-root.sh), run chrooted in their own mount namespace.
set -euo pipefail

INFLIGHT=$(realpath "$1")
SID=${SID_ROOT:-/var/cache/inflight-test/sid-root}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

median_of() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "?" }'; }

# One measurement: LABEL THREADS DEPTH COMMAND...
measure() {
	local label=$1 threads=$2 depth=$3 pid walk reads frames
	shift 3
	rm -f "$TMP/in"
	mkfifo "$TMP/in"
	"$@" "$threads" "$depth" <"$TMP/in" >"$TMP/out" 2>&1 &
	local runner=$!
	exec 9>"$TMP/in"
	for _ in $(seq 600); do
		grep -q '^ready' "$TMP/out" 2>/dev/null && break
		sleep 0.05
	done
	pid=$(awk '/^ready/ { print $2 }' "$TMP/out")
	[ -n "$pid" ] || { echo "py_read_cost: $label did not start:" >&2; cat "$TMP/out" >&2; exit 1; }
	timeout 2 "$INFLIGHT" top -v --python --pid "$pid" --json --interval 20ms >/dev/null \
		2>"$TMP/err" || true
	exec 9>&-
	wait "$runner" || true
	walk=$(grep "python: read 1 process" "$TMP/err" | sed 's/.*walk \([0-9]*\) us.*/\1/' | median_of)
	reads=$(grep "python: read 1 process" "$TMP/err" | sed 's/.*: \([0-9]*\) reads.*/\1/' | median_of)
	frames=$(grep "python: read 1 process" "$TMP/err" | sed 's/.*reads, \([0-9]*\) frames.*/\1/' | median_of)
	echo "| $label | $threads | $depth | $walk | $reads | $frames |"
	echo "py_read_cost: $label, $threads threads, depth $depth: walk $walk us, $reads reads, $frames frames" >&2
}

echo "| CPython | threads | depth (frames) | walk per reading (µs, median) | process_vm_readv calls | frames read |"
echo "|---|---|---|---|---|---|"
py312=$(ls -d /root/.pyenv/versions/3.12*/bin/python3 2>/dev/null | head -n 1 || true)
for threads in 1 16 64; do
	for depth in 10 900; do
		if [ -n "$py312" ]; then
			measure "$("$py312" --version 2>&1 | cut -d' ' -f2) (pyenv)" "$threads" "$depth" \
				"$py312" "$HERE/py_parked.py"
		fi
		for v in 3.14 3.15; do
			[ -x "$SID/usr/bin/python$v" ] || continue
			measure "$(chroot "$SID" "/usr/bin/python$v" --version | cut -d' ' -f2) (sid root)" \
				"$threads" "$depth" unshare --mount --fork --kill-child sh -c \
				"mount --bind '$HERE' '$SID/mnt' && exec chroot '$SID' /usr/bin/python$v /mnt/py_parked.py \"\$0\" \"\$1\""
		done
	done
done
