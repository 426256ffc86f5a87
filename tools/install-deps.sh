#!/bin/sh
# Installs the Debian packages inflight builds and tests with, if any is
# missing. Runs apt-get only when needed, so a repeated `make test` is fast.
#   install-deps.sh          build and test
#   install-deps.sh bench    and bpftrace, the benchmark's peer
set -eu

# python3 and redis-server: the CPython tests' interpreter and conserver's queue
# prometheus: the exposition is tested by a real one scraping it (and promtool checks the rules)
# python3-kubernetes, systemd, debootstrap, docker.io: tests/deploy checks the
# manifests, the unit, the .deb in a fresh Debian 12 and the image
PKGS="make gcc g++ clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev redis-server python3
libcurl4-openssl-dev libcmocka-dev libcapstone-dev systemtap-sdt-dev
pkg-config util-linux procps prometheus
python3-kubernetes python3-yaml systemd debootstrap docker.io"
[ "${1:-}" = bench ] && PKGS="$PKGS bpftrace"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "error: missing packages:$missing; run as root (apt-get install)" >&2
	exit 2
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
