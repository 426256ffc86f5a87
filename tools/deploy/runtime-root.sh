#!/bin/sh
# The runtime image's whole filesystem, in DIR: inflight, the shared
# libraries it links and the ones it loads on demand (libcurl for OTLP,
# capstone for instruction-mode returns) with theirs, the dynamic loader,
# CA certificates for https, and passwd/group naming nobody for --user.
# Nothing else: no shell, no package manager.
#   tools/deploy/runtime-root.sh BUILD/inflight DIR
set -eu
bin=${1:?usage: runtime-root.sh INFLIGHT DIR}
out=${2:?usage: runtime-root.sh INFLIGHT DIR}
multiarch=$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
libdir=/usr/lib/$multiarch

mkdir -p "$out/usr/bin" "$out/etc/ssl/certs" "$out/usr/share/doc/inflight" "$out/tmp"
chmod 1777 "$out/tmp"
install -m 0755 "$bin" "$out/usr/bin/inflight"

# what the loader needs, by the paths ldd resolves (the loader's own path too)
for f in "$bin" "$libdir/libcurl.so.4" "$libdir/libcapstone.so.4"; do
	[ -e "$f" ] || { echo "runtime-root.sh: $f missing" >&2; exit 1; }
	echo "$f"
	ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do
	[ "$lib" = "$bin" ] && continue
	# copy the file a soname link points to under the soname, at the path asked for
	mkdir -p "$out$(dirname "$lib")"
	cp -L "$lib" "$out$lib"
done
# the dlopen'd two are found by the loader's default path: keep them in the multiarch dir
for soname in libcurl.so.4 libcapstone.so.4; do
	[ -e "$out$libdir/$soname" ] || { mkdir -p "$out$libdir"; cp -L "$libdir/$soname" "$out$libdir/$soname"; }
done

cp -L /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/ca-certificates.crt"
cat >"$out/etc/passwd" <<PASSWD
root:x:0:0:root:/:/nonexistent
nobody:x:65534:65534:nobody:/nonexistent:/nonexistent
PASSWD
cat >"$out/etc/group" <<GROUP
root:x:0:
nogroup:x:65534:
GROUP
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$out/etc/nsswitch.conf"
du -sh "$out" >&2
