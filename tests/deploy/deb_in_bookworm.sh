#!/bin/sh
# The .deb on a fresh Debian 12: installed with apt (which resolves its
# dependencies from the Debian archive) into an overlay over the cached
# debootstrap'd bookworm minbase root (tools/deploy/bookworm-root.sh), then
# run there in a chroot. The cached root itself is never changed.
#   deb_in_bookworm.sh PATH/TO/inflight_*.deb
set -eu
deb=$(realpath "${1:?usage: deb_in_bookworm.sh FILE.deb}")
here=$(cd "$(dirname "$0")" && pwd)
root=$("$here/../../tools/deploy/bookworm-root.sh")
version=$(cat "$here/../../VERSION")
work=$(mktemp -d /tmp/inflight-deb-XXXXXX)
mnt="$work/merged"

cleanup() {
	for m in "$mnt/proc" "$mnt"; do
		mountpoint -q "$m" && umount "$m"
	done
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/upper" "$work/work" "$mnt"
mount -t overlay overlay -o "lowerdir=$root,upperdir=$work/upper,workdir=$work/work" "$mnt"
mount -t proc proc "$mnt/proc"
cp /etc/resolv.conf "$mnt/etc/resolv.conf"
cp "$deb" "$mnt/tmp/inflight.deb"

in_root() {
	chroot "$mnt" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"
}

in_root apt-get -qq update >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; exit 1; }
if ! in_root apt-get install -y -qq --no-install-recommends /tmp/inflight.deb >"$work/apt.log" 2>&1; then
	cat "$work/apt.log"
	echo "FAIL: apt-get install inflight.deb in bookworm minbase" >&2
	exit 1
fi
got=$(in_root inflight --version)
[ "$got" = "inflight $version" ] || { echo "FAIL: inflight --version said '$got'" >&2; exit 1; }
# it loads its libraries, reads ELF and lists (libbpf, a dependency apt pulled in)
in_root sh -c 'inflight list --binary /usr/lib/*/libbpf.so.1 --match bpf_object__open' >"$work/list" ||
	{ echo "FAIL: inflight list exited $?" >&2; exit 1; }
grep -q 'bpf_object__open_file' "$work/list" || {
	echo "FAIL: inflight list --binary libbpf.so.1 did not list bpf_object__open_file:" >&2
	cat "$work/list" >&2
	exit 1
}
in_root test -f /usr/lib/systemd/system/inflight.service
in_root grep -q '^ExecStart=/usr/bin/inflight ' /usr/lib/systemd/system/inflight.service
in_root test -f /usr/share/man/man1/inflight.1.gz
echo "ok: the .deb installs on bookworm minbase ($(in_root dpkg-query -W -f '${Package} ${Version}' inflight)), runs --version and list"
