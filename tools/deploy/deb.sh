#!/bin/sh
# BUILD/inflight_VERSION_ARCH.deb with dpkg-deb: `make install PREFIX=/usr`
# into a staging root, stripped, man page gzipped, a control file naming the
# Debian 12 libraries the binary links (libcurl and capstone are loaded only
# when an OTLP exporter or instruction-mode returns need them: Recommends).
#   tools/deploy/deb.sh VERSION ARCH OUT.deb
set -eu
version=${1:?version}
arch=${2:?arch}
out=${3:?out.deb}
# staged beside the package, in the build directory it belongs to
stage=$(dirname "$out")/deb-root

rm -rf "$stage"
make --no-print-directory install PREFIX=/usr DESTDIR="$stage" >/dev/null
strip --strip-unneeded "$stage/usr/bin/inflight"
gzip -9n "$stage/usr/share/man/man1/inflight.1"
install -m 0644 LICENSE "$stage/usr/share/doc/inflight/copyright"
mkdir -p "$stage/DEBIAN"
size=$(du -sk "$stage/usr" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: inflight
Version: $version
Architecture: $arch
Maintainer: inflight developers <inflight@localhost>
Installed-Size: $size
Depends: libc6 (>= 2.34), libbpf1 (>= 1:1.1), libelf1 (>= 0.188), zlib1g (>= 1:1.2.13)
Recommends: libcurl4, ca-certificates, libcapstone4
Section: admin
Priority: optional
Description: in-flight calls per chain in unmodified workers, with eBPF
 eBPF uprobes on a worker's handle function (native, or CPython read from
 outside) count the calls in flight per chain; inflight run exports them as
 an OpenTelemetry UpDownCounter over OTLP/HTTP and for Prometheus, inflight
 top shows them live. Needs a kernel with BTF. The systemd unit
 (inflight.service) is installed but not enabled.
CONTROL
(cd "$stage" && find usr -type f -exec md5sum {} + >DEBIAN/md5sums)
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "$out: $(du -h "$out" | cut -f1)"
