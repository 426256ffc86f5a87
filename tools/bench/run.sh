#!/bin/bash
# `make bench`: what inflight costs a worker per observed call, against the
# floor (the same probes running empty programs) and against bpftrace doing
# the same per-chain count; what the collector costs at rest and per
# collection; and exactness at full rate. Writes BENCHMARKS.md.
#
#   tools/bench/run.sh INFLIGHT_BIN BENCH_DIR
#   BENCH_RUNS=5 BENCH_RUN_MS=300 BENCH_HAMMER_S=10 BENCH_OUT=BENCHMARKS.md
set -euo pipefail

INFLIGHT=$(realpath "$1")
BDIR=$(realpath "$2")
W=$BDIR/bench_worker
FLOOR=$BDIR/floor
RUNS=${BENCH_RUNS:-5}
RUN_MS=${BENCH_RUN_MS:-300}
HAMMER_S=${BENCH_HAMMER_S:-10}
OUT=${BENCH_OUT:-BENCHMARKS.md}
PY=${BENCH_PYTHON:-$(ls -d /root/.pyenv/versions/3.12*/bin/python3 2>/dev/null | head -n 1)}
TMP=$(mktemp -d)
PROBER=
trap 'stop_prober; rm -rf "$TMP"' EXIT

[ "$(id -u)" = 0 ] || { echo "bench: run as root (uprobes)" >&2; exit 2; }
command -v bpftrace >/dev/null || { echo "bench: bpftrace missing (apt-get install bpftrace)" >&2; exit 2; }

log() { echo "bench: $*" >&2; }

# Starts a prober in the background and waits for its "attached" line.
start_prober() { # KIND FUNC
	local kind=$1 func=$2 marker
	# emptied here: the background job's own redirection may come too late
	: >"$TMP/prober.err"
	case $kind in
	floor-uret) "$FLOOR" "$W" "$func" uretprobe 2>"$TMP/prober.err" & marker=attached ;;
	floor-insn) "$FLOOR" "$W" "$func" insn 2>"$TMP/prober.err" & marker=attached ;;
	inflight-uret | inflight-insn)
		"$INFLIGHT" top --binary "$W" --func "$func" --chain '+0(%di):string' \
			--return "$( [ "$kind" = inflight-uret ] && echo uretprobe || echo insn)" --interval 1h >/dev/null 2>"$TMP/prober.err" &
		marker=attached ;;
	bpftrace)
		# BEGIN runs once every probe is attached ("Attaching" comes before)
		bpftrace -e "BEGIN { printf(\"ready\\n\"); }
			uprobe:$W:$func { @c[tid] = str(arg0); @inflight[@c[tid]]++; }
			uretprobe:$W:$func { @inflight[@c[tid]]--; delete(@c[tid]); }" \
			>"$TMP/prober.err" 2>&1 &
		marker=ready ;;
	esac
	PROBER=$!
	for _ in $(seq 200); do
		grep -q "$marker" "$TMP/prober.err" 2>/dev/null && break
		sleep 0.05
	done
	# and the probes fire: a probed call costs far more than 100 ns
	for _ in $(seq 100); do
		[ "$(run_once "$func" 1 1000 4 | cut -d. -f1)" -gt 100 ] && return 0
		sleep 0.05
	done
	log "$kind on $func did not attach:"; cat "$TMP/prober.err" >&2; exit 1
}

stop_prober() {
	[ -n "$PROBER" ] || return 0
	# SIGTERM: an async job in a script has SIGINT ignored, bpftrace keeps it so.
	# bpftrace can miss one (seen: asleep in epoll_wait minutes after it): again
	# each second, then SIGKILL, so a run never hangs on it.
	for _ in 1 2 3 4 5; do
		kill -TERM "$PROBER" 2>/dev/null || break
		for _ in $(seq 10); do
			kill -0 "$PROBER" 2>/dev/null || break 2
			sleep 0.1
		done
	done
	kill -KILL "$PROBER" 2>/dev/null || true
	wait "$PROBER" 2>/dev/null || true
	PROBER=
	# bpftrace prints its maps at exit; a slow detach must not overlap the next prober
	sleep 0.2
}

# One run: ns per call.
run_once() { # FUNC THREADS CALLS CHAINS
	"$W" "$1" "$2" "$3" "$4" | sed 's/ns_per_call=\([0-9.]*\).*/\1/'
}

# Calls per thread for one run to take about RUN_MS.
calls_for() { # FUNC THREADS
	local ns
	ns=$(run_once "$1" "$2" 2000 4)
	awk -v ns="$ns" -v ms="$RUN_MS" 'BEGIN { c = int(ms * 1e6 / ns); if (c < 1000) c = 1000; print c }'
}

# RUNS runs: "min median" in ns per call.
measure() { # FUNC THREADS
	local calls
	calls=$(calls_for "$1" "$2")
	for _ in $(seq "$RUNS"); do run_once "$1" "$2" "$calls" 4; done | sort -n |
		awk '{ a[NR] = $1 } END { printf "%.0f %.0f\n", a[1], a[int((NR + 1) / 2)] }'
}

uname_r=$(uname -r)
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
ncpu=$(nproc)
mem=$(free -g | awk '/Mem:/ { print $2 " GiB" }')

# probes an interrupted bench's `inflight run` left pinned would slow every call
"$INFLIGHT" detach --binary "$W" --func bench_nop5 --chain '+0(%di):string' 2>/dev/null || true

### 1. Per call
declare -A R
FUNCS="bench_nop5 bench_push bench_endbr bench_sstep"
KINDS="floor-uret inflight-uret bpftrace floor-insn inflight-insn"
for f in $FUNCS; do
	for t in 1 2; do
		R[$f,$t,none]=$(measure "$f" "$t")
		log "$f threads=$t none: ${R[$f,$t,none]}"
	done
	for k in $KINDS; do
		start_prober "$k" "$f"
		for t in 1 2; do
			R[$f,$t,$k]=$(measure "$f" "$t")
			log "$f threads=$t $k: ${R[$f,$t,$k]}"
		done
		stop_prober
	done
done

### 2. The collector
# start to attached: from the fork to the line that says so
attach_ms() { # command...
	local t0 t1
	t0=$(date +%s%N)
	# bpftrace says "Attaching" on stdout, inflight "attached" on stderr
	"$@" 2>&1 | while IFS= read -r line; do
		case $line in *attached* | *Attaching*) date +%s%N; break ;; esac
	done >"$TMP/t1" || true
	t1=$(head -n 1 "$TMP/t1")
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) / 1e6 }'
}
min_of() { sort -n | head -n 1; }
median_of() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

for _ in $(seq "$RUNS"); do
	attach_ms timeout 5 "$INFLIGHT" top --binary "$W" --func bench_nop5 --chain '+0(%di):string' --once --interval 100ms
done >"$TMP/attach_inflight"
for _ in $(seq "$RUNS"); do
	attach_ms timeout 5 bpftrace -e "BEGIN { printf(\"attached\\n\"); }
		uprobe:$W:bench_nop5 { @c[tid] = str(arg0); @inflight[@c[tid]]++; }
		uretprobe:$W:bench_nop5 { @inflight[@c[tid]]--; delete(@c[tid]); }"
done >"$TMP/attach_bpftrace"
log "attach: inflight $(median_of <"$TMP/attach_inflight") ms, bpftrace $(median_of <"$TMP/attach_bpftrace") ms"

rss_kb() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
start_prober inflight-uret bench_nop5
rss_top=$(rss_kb "$PROBER")
stop_prober
start_prober bpftrace bench_nop5
rss_bpftrace=$(rss_kb "$PROBER")
stop_prober

# CPU per collection, and bytes per export, with N chains alive
declare -A CPU BYTES
for n in 1 100 1000; do
	: >"$TMP/run.err"
	"$INFLIGHT" run -v --binary "$W" --func bench_nop5 --chain '+0(%di):string' \
		--metrics-endpoint http://127.0.0.1:9/v1/metrics --export-timeout 50ms \
		--compression gzip --interval 100ms >/dev/null 2>"$TMP/run.err" &
	rp=$!
	until grep -q attached "$TMP/run.err"; do sleep 0.05; done
	"$W" bench_nop5 1 $((n * 10)) "$n" >/dev/null
	sleep 3
	rss_run=$(rss_kb "$rp")
	kill -TERM "$rp"; wait "$rp" || true
	# run leaves its probes pinned for a successor (they go on counting):
	# detached, so the next run starts from none and no later figure pays them
	"$INFLIGHT" detach --binary "$W" --func bench_nop5 --chain '+0(%di):string' 2>"$TMP/detach.err" ||
		{ log "detach after run failed:"; cat "$TMP/detach.err" >&2; exit 1; }
	CPU[$n]=$(grep "collection: $n series" "$TMP/run.err" | sed 's/.*series, \([0-9]*\) us CPU/\1/' | median_of)
	BYTES[$n]=$(grep "export: $n series" "$TMP/run.err" | tail -n 1 | sed 's/.*series, \([0-9]*\) bytes, \([0-9]*\) gzipped/\1 \2/')
	log "$n chains: collection ${CPU[$n]} us CPU, export ${BYTES[$n]} (raw gzipped) bytes, RSS ${rss_run} kB"
	[ "$n" = 1000 ] && RSS_RUN_1000=$rss_run
	[ "$n" = 1 ] && RSS_RUN_1=$rss_run
done

# CPython: per reading, per process
py_line="(no CPython 3.10+ found)"
if [ -n "$PY" ]; then
	"$PY" tools/bench/py_worker.py 4 2 >/dev/null &
	pw=$!
	sleep 0.3
	timeout 3 "$INFLIGHT" top -v --python --pid "$pw" --json --interval 20ms >/dev/null 2>"$TMP/py.err" || true
	wait "$pw"
	py_walk=$(grep "python: read 1 process" "$TMP/py.err" | sed 's/.*walk \([0-9]*\) us.*/\1/' | median_of)
	py_reads=$(grep "python: read 1 process" "$TMP/py.err" | sed 's/.*: \([0-9]*\) reads.*/\1/' | median_of)
	py_line="$py_walk µs and $py_reads reads per reading of one process with 3 threads ($($PY --version 2>&1))"
	log "python: $py_line"
fi

# CPython: one reading by interpreter, threads and stack depth
py_cost_table=$("$(dirname "$0")/py_read_cost.sh" "$INFLIGHT" || echo "(py_read_cost.sh failed: see above)")

### 3. Exactness at full rate
exact_rows=""
for n in 1 64 1024 2000; do
	: >"$TMP/top.err"
	"$INFLIGHT" top --binary "$W" --func bench_nop5 --chain '+0(%di):string' --json \
		--interval 500ms >"$TMP/top.json" 2>"$TMP/top.err" &
	tp=$!
	until grep -q attached "$TMP/top.err"; do sleep 0.05; done
	# calibrated while probed: calls for about HAMMER_S seconds (the
	# calibration's own 2 x 2000 calls are counted too)
	calls=$(($(calls_for bench_nop5 2) * HAMMER_S * 1000 / RUN_MS))
	total=$(($("$W" bench_nop5 2 "$calls" "$n" | sed 's/.*calls=//') + 4000))
	# a reading taken after the worker finished
	lines=$(wc -l <"$TMP/top.json")
	until [ "$(wc -l <"$TMP/top.json")" -gt $((lines + 1)) ]; do sleep 0.1; done
	kill -TERM "$tp"; wait "$tp" || true
	tail -n 1 "$TMP/top.json" >"$TMP/last.json"
	read -r series entered exited inflight dropped < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = d["chains"]
print(len(c), sum(x["entered"] for x in c), sum(x["exited"] for x in c),
      sum(x["inflight"] for x in c), d["dropped"])' "$TMP/last.json")
	ok=$([ "$entered" = "$total" ] && [ "$exited" = "$total" ] && [ "$inflight" = 0 ] && echo yes || echo NO)
	exact_rows+="| $n | $total | $entered | $exited | $inflight | $series | $dropped | $ok |"$'\n'
	log "exactness, $n chains: calls $total entered $entered exited $exited in flight $inflight dropped $dropped: $ok"
done

### BENCHMARKS.md
added() { # row kind: "min-added median-added" over the no-probe run
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d", x[1] - y[1] }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.2f", x[1] / y[1] }'; }

{
	echo "# Benchmarks"
	echo
	echo "Made by \`make bench\` ($(date -u +%Y-%m-%d), inflight $(cat VERSION), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))."
	echo "Machine: $cpu, $ncpu CPUs, $mem, kernel $uname_r; bpftrace $(bpftrace --version | awk '{print $2}')."
	echo "Each figure: $RUNS runs of about $RUN_MS ms each, min and median (ns per call),"
	echo "measured by tools/bench/bench_worker (wall time per call, each thread's)."
	echo
	echo "## Cost per observed call"
	echo
	echo "Workers: tools/bench/handlers.S, one handler per first instruction."
	echo "(a) no probes; (b) the floor: an entry uprobe and a return probe running empty programs"
	echo "(tools/bench/floor.c), uretprobe or a uprobe on each exit (insn);"
	echo "(c) \`inflight top --chain '+0(%di):string'\`; (d) bpftrace keeping the same per-chain"
	echo "count (\`@c[tid] = str(arg0); @inflight[@c[tid]]++\` / \`--\` on return)."
	echo
	echo "| first instruction | threads | (a) none | (b) floor | (c) inflight | (d) bpftrace | (c)-(b) added | (c)/(b) | (c)/(d) | (b) floor insn | (c) inflight insn | insn (c)/(b) |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	for f in $FUNCS; do
		for t in 1 2; do
			echo "| ${f#bench_} | $t | ${R[$f,$t,none]} | ${R[$f,$t,floor-uret]} | ${R[$f,$t,inflight-uret]} | ${R[$f,$t,bpftrace]} | $(added "${R[$f,$t,inflight-uret]}" "${R[$f,$t,floor-uret]}") | $(ratio "${R[$f,$t,inflight-uret]}" "${R[$f,$t,floor-uret]}") | $(ratio "${R[$f,$t,inflight-uret]}" "${R[$f,$t,bpftrace]}") | ${R[$f,$t,floor-insn]} | ${R[$f,$t,inflight-insn]} | $(ratio "${R[$f,$t,inflight-insn]}" "${R[$f,$t,floor-insn]}") |"
		done
	done
	echo
	echo "Cells are \"min median\" in ns per call; ratios and added ns use the minimum."
	echo
	# measured by hand (it needs other builds); kept across regenerations
	cat "$(dirname "$0")/added_cost.md"
	echo
	echo "## The collector"
	echo
	echo "| what | inflight | bpftrace |"
	echo "|---|---|---|"
	echo "| start to attached (median of $RUNS) | $(median_of <"$TMP/attach_inflight") ms | $(median_of <"$TMP/attach_bpftrace") ms |"
	echo "| RSS attached (\`top\`) | $rss_top kB | $rss_bpftrace kB |"
	echo "| RSS \`run\`, 1 / 1000 chains | $RSS_RUN_1 / $RSS_RUN_1000 kB | |"
	for n in 1 100 1000; do
		echo "| CPU per collection, $n chains (median) | ${CPU[$n]} µs | |"
	done
	for n in 1 100 1000; do
		set -- ${BYTES[$n]}
		echo "| bytes per OTLP export, $n chains (protobuf / gzipped) | $1 / $2 | |"
	done
	echo "| CPython reading, per process | $py_line | |"
	echo
	echo "## CPython: one reading, by interpreter, threads and stack depth"
	echo
	echo "Each thread parked inside \`_handle_vcon\` under a stack of that many frames"
	echo "(tools/bench/py_parked.py); \`inflight top --python --pid\` reading every 20 ms for 2 s;"
	echo "the median of its own figures for the one process (tools/bench/py_read_cost.sh)."
	echo "3.14 and 3.15 run from the sid root (tools/sid-root.sh), read through /proc/PID/root."
	echo
	printf "%s\n" "$py_cost_table"
	echo
	echo "## Exactness at full rate"
	echo
	echo "2 threads calling bench_nop5 back to back for about ${HAMMER_S} s under \`inflight top\`"
	echo "(chain cap 1024), then a reading after the worker exited."
	echo
	echo "| chains | calls | entered | exited | in flight | series | dropped | exact |"
	echo "|---|---|---|---|---|---|---|---|"
	printf "%s" "$exact_rows"
	echo
	echo "## How to run"
	echo
	echo '```'
	echo "make bench        # as root; takes a few minutes"
	echo "BENCH_RUNS=$RUNS BENCH_RUN_MS=$RUN_MS BENCH_HAMMER_S=$HAMMER_S tools/bench/run.sh build/inflight build/bench"
	echo '```'
} >"$OUT"
log "wrote $OUT"
