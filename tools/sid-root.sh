#!/bin/sh
# Builds, once, a Debian sid root with the CPythons bookworm does not have
# (3.13, 3.14, 3.15), for the CPython tests: the conserver stand-in runs from
# it in its own mount namespace, which is also how inflight sees a worker in
# a container (through /proc/PID/root). Cached: a root that is complete is
# left alone, so only a fresh machine pays for it (about two minutes).
#   sid-root.sh [DIR]     default /var/cache/inflight-test/sid-root
set -eu
root=${1:-/var/cache/inflight-test/sid-root}
pythons="python3.13 python3.14 python3.15"

complete() {
	for p in $pythons; do
		[ -x "$root/usr/bin/$p" ] || return 1
	done
	[ -f "$root/.inflight-complete" ]
}
complete && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "error: $root is missing or incomplete; building it needs root (debootstrap)" >&2
	exit 2
fi
if ! command -v debootstrap >/dev/null; then
	echo "installing: debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
		--no-install-recommends debootstrap >/dev/null ||
		{ apt-get update -qq -o DPkg::Lock::Timeout=600 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
			--no-install-recommends debootstrap >/dev/null; }
fi
echo "building a Debian sid root with $pythons in $root (once)"
# a half-built root from an interrupted run is started again
rm -rf "$root.tmp"
mkdir -p "$(dirname "$root")"
debootstrap --variant=minbase --include="$(echo $pythons | tr ' ' ,)" sid "$root.tmp" \
	http://deb.debian.org/debian >"$root.log" 2>&1 ||
	{ echo "error: debootstrap failed, see $root.log" >&2; exit 1; }
touch "$root.tmp/.inflight-complete"
rm -rf "$root"
mv "$root.tmp" "$root"
echo "sid root ready: $root"
