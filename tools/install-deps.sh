#!/bin/sh
# Installs the Debian packages inflight builds and tests with, if any is
# missing. Runs apt-get only when needed, so a repeated `make test` is fast.
#   install-deps.sh          build and test
#   install-deps.sh bench    and bpftrace, the benchmark's peer
set -eu

# python3 and redis-server: the CPython tests' interpreter and conserver's queue;
# golang-1.19-go: the Go test workers' first Go (bookworm's golang-go)
# prometheus: the exposition is tested by a real one scraping it (and promtool checks the rules)
# python3-kubernetes, systemd, debootstrap, docker.io: tests/deploy checks the
# manifests, the unit, the .deb in a fresh Debian 12 and the image; debootstrap
# also builds the sid root of the CPython 3.13-3.15 tests
PKGS="make gcc g++ clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev redis-server python3
libcurl4-openssl-dev libcmocka-dev libcapstone-dev systemtap-sdt-dev
pkg-config util-linux procps golang-1.19-go prometheus
python3-kubernetes python3-yaml systemd debootstrap docker.io"
[ "${1:-}" = bench ] && PKGS="$PKGS bpftrace"
# the Go test workers' second Go, from bookworm-backports
BACKPORTS_PKGS="golang-1.22-go"

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# bookworm-backports through a sources directory of our own, so the
# system's sources stay as they are; its package lists are cached here
# and fetched again after a day.
BACKPORTS_DIR=${INFLIGHT_APT_CACHE:-/var/cache/inflight/apt}
backports_install() {
	pkgs=$1
	mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources \
		2>/dev/null | head -n 1)
	mirror=${INFLIGHT_DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}
	mkdir -p "$BACKPORTS_DIR/sources" "$BACKPORTS_DIR/lists/partial"
	echo "deb $mirror bookworm-backports main" >"$BACKPORTS_DIR/sources/backports.list"
	set -- -o Dir::Etc::sourcelist=- -o Dir::Etc::sourceparts="$BACKPORTS_DIR/sources" \
		-o Dir::State::Lists="$BACKPORTS_DIR/lists" -o DPkg::Lock::Timeout=600
	if [ -z "$(find "$BACKPORTS_DIR/lists" -maxdepth 1 -name '*_InRelease' -mtime -1)" ]; then
		apt-get "$@" update -qq
	fi
	# shellcheck disable=SC2086
	apt-get "$@" install -y -qq --no-install-recommends -t bookworm-backports $pkgs >/dev/null
}

missing=""
for p in $PKGS; do
	installed "$p" || missing="$missing $p"
done
missing_bp=""
for p in $BACKPORTS_PKGS; do
	installed "$p" || missing_bp="$missing_bp $p"
done
[ -z "$missing$missing_bp" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "error: missing packages:$missing$missing_bp; run as root (apt-get install)" >&2
	exit 2
fi
echo "installing:$missing$missing_bp"
export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ]; then
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
fi
[ -z "$missing_bp" ] || backports_install "$missing_bp"
