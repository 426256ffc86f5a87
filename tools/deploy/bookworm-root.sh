#!/bin/sh
# A Debian 12 minbase root, made once and cached: the base of the image
# when no registry is reachable, and the "fresh Debian 12" the .deb is
# installed into by the tests. Prints its path.
#   tools/deploy/bookworm-root.sh [DIR]   (default /var/cache/inflight-test/bookworm-root)
set -eu
root=${1:-${INFLIGHT_BOOKWORM_ROOT:-/var/cache/inflight-test/bookworm-root}}
mirror=${INFLIGHT_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ ! -e "$root/.complete" ]; then
	mkdir -p "$(dirname "$root")"
	# one builder at a time; a second caller waits and finds it done
	exec 9>"$root.lock"
	flock 9
	if [ ! -e "$root/.complete" ]; then
		if ! command -v debootstrap >/dev/null 2>&1; then
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
				--no-install-recommends debootstrap >/dev/null
		fi
		tmp="$root.tmp"
		rm -rf "$tmp"
		echo "debootstrap: a bookworm minbase root in $root (once, about 2 minutes)" >&2
		if ! debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$root.log" 2>&1; then
			echo "debootstrap failed; see $root.log" >&2
			exit 1
		fi
		rm -rf "$tmp/var/cache/apt/archives/"*.deb
		touch "$tmp/.complete"
		rm -rf "$root"
		mv "$tmp" "$root"
	fi
fi
echo "$root"
