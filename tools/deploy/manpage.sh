#!/bin/sh
# inflight(1), generated from the binary's own --help of each command, so
# the man page says what the installed binary does.
#   tools/deploy/manpage.sh BUILD/inflight > inflight.1
set -eu
bin=${1:?usage: manpage.sh PATH/TO/inflight}
version=$("$bin" --version | sed -n '1s/^inflight //p')

# roff: a leading . or ' would be a request, a backslash an escape
verbatim() {
	sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

cat <<HEAD
.TH INFLIGHT 1 "" "inflight $version" "User Commands"
.SH NAME
inflight \\- in-flight calls per chain in unmodified workers, counted with eBPF uprobes
.SH SYNOPSIS
.B inflight
.I COMMAND
[\\fIOPTION\\fR...]
.SH DESCRIPTION
.nf
HEAD
"$bin" --help | verbatim
echo ".fi"
for cmd in run top list detach; do
	echo ".SH \"inflight $cmd\""
	echo ".nf"
	"$bin" "$cmd" --help | verbatim
	echo ".fi"
done
cat <<TAIL
.SH FILES
.TP
.I /sys/fs/bpf/inflight/
probes and counts pinned by \\fBinflight run\\fR for its successor
.SH SEE ALSO
/usr/share/doc/inflight/README.md for the metric, the deployment and the known limits.
TAIL
