#!/bin/sh
# The `make demo` script: runs demo_worker, shows `inflight top` on it live,
# then stops the worker and shows every chain's in-flight count back at 0.
#
# usage: run.sh INFLIGHT_BIN DEMO_WORKER_BIN   (as root: uprobes need BPF)
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 INFLIGHT_BIN DEMO_WORKER_BIN" >&2
	exit 2
fi
inflight=$1
worker=$2

if [ "$(id -u)" -ne 0 ]; then
	echo "error: the demo attaches eBPF uprobes and must run as root (try: sudo $0 $*)" >&2
	exit 2
fi
for bin in "$inflight" "$worker"; do
	if [ ! -x "$bin" ]; then
		echo "error: $bin: not an executable file (build it first: make $bin)" >&2
		exit 2
	fi
done

worker_pid=
json_pid=
tmp=

# On any exit (error, Ctrl-C included) leave no worker or observer behind.
cleanup() {
	for pid in $json_pid $worker_pid; do
		kill "$pid" 2>/dev/null || :
	done
	for pid in $json_pid $worker_pid; do
		wait "$pid" 2>/dev/null || :
	done
	if [ -n "$tmp" ]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The chain is the string handle_vcon's first argument points to (%rdi).
set -- --binary "$worker" --func handle_vcon --chain '+0(%di):string'

echo "demo_worker runs 6 threads calling handle_vcon(chain, vcon_id) on 3 chains."
echo "inflight top counts, per chain, the calls inside handle_vcon right now (IN FLIGHT),"
echo "and the calls seen entering and leaving since it attached (ENTERED, EXITED)."
"$worker" &
worker_pid=$!
"$inflight" top "$@" --interval 1s --count 8

# Second observer, JSON lines, started before the worker is told to stop so
# it counts the calls in flight then and sees them return.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/inflight-demo.XXXXXX")
"$inflight" top "$@" --json --interval 500ms --count 6 >"$tmp/out" 2>"$tmp/err" &
json_pid=$!

# Its first line means the probes are attached. A demo, not a test: 10 s max.
tries=0
while [ ! -s "$tmp/out" ]; do
	if ! kill -0 "$json_pid" 2>/dev/null || [ "$tries" -ge 50 ]; then
		echo "error: inflight top --json printed nothing:" >&2
		cat "$tmp/err" >&2
		exit 1
	fi
	sleep 0.2
	tries=$((tries + 1))
done

if [ -t 1 ]; then
	echo # the non-TTY table already ends each block with a blank line
fi
echo "stopping demo_worker (SIGTERM): it starts no new calls and lets those in flight finish"
# if it died earlier, kill fails and wait reports how it ended
kill -TERM "$worker_pid" 2>/dev/null || :
rc=0
wait "$worker_pid" || rc=$?
worker_pid=
if [ "$rc" -ne 0 ]; then
	echo "error: demo_worker exited with status $rc" >&2
	exit 1
fi

rc=0
wait "$json_pid" || rc=$?
json_pid=
if [ "$rc" -ne 0 ]; then
	echo "error: inflight top --json exited with status $rc:" >&2
	cat "$tmp/err" >&2
	exit 1
fi

last=$(tail -n 1 "$tmp/out")

# One "inflight": N per chain; each N must be 0.
counts=$(printf '%s\n' "$last" | tr ',' '\n' | grep '"inflight":' || :)
if [ -z "$counts" ]; then
	echo "error: the last reading lists no chain: the probes saw no call:" >&2
	echo "$last" >&2
	exit 1
fi
if printf '%s\n' "$counts" | grep -qv '"inflight": 0$'; then
	echo "error: a chain still has calls in flight after the worker exited:" >&2
	echo "$last" >&2
	exit 1
fi
echo "after the worker drained and exited: every chain back to 0"
echo "(from a second observer attached just before the stop: its entered/exited count from then)"
echo "$last"
