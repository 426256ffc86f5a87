#!/bin/sh
# A Docker daemon of the tests' own: its socket, state and exec dirs, its
# pidfile, no iptables or bridge (containers use the host network), so a
# dockerd of anyone else is never touched. Its data root is kept between
# runs: the base image and the build cache are made once.
#   dockerd.sh start    prints the DOCKER_HOST to use (waits until it answers)
#   dockerd.sh stop     stops the one started here, by its pid
set -eu
state=${INFLIGHT_DOCKER_STATE:-/var/cache/inflight-test/docker}
run=/run/inflight-test-docker
sock=unix://$run/docker.sock
pidfile=$run/dockerd.pid
docker=$( [ -x /usr/bin/docker ] && echo /usr/bin/docker || echo docker )

case "${1:-}" in
start)
	mkdir -p "$state" "$run/exec"
	if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
		echo "$sock"
		exit 0
	fi
	dockerd --iptables=false --ip-masq=false --bridge=none --data-root "$state" \
		--exec-root "$run/exec" --pidfile "$pidfile" -H "$sock" >"$run/dockerd.log" 2>&1 &
	# the daemon answering is the condition; each try is a round trip to it
	for _ in $(seq 1 300); do
		if DOCKER_HOST=$sock "$docker" version >/dev/null 2>&1; then
			echo "$sock"
			exit 0
		fi
		sleep 0.1
	done
	echo "dockerd did not answer on $sock; see $run/dockerd.log" >&2
	exit 1
	;;
stop)
	[ -s "$pidfile" ] || exit 0
	pid=$(cat "$pidfile")
	kill "$pid" 2>/dev/null || true
	# it removes its pidfile once stopped
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || exit 0
		sleep 0.1
	done
	echo "dockerd $pid did not stop" >&2
	exit 1
	;;
*)
	echo "usage: dockerd.sh start|stop" >&2
	exit 2
	;;
esac
