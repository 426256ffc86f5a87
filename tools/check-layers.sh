#!/bin/sh
# The folders of user/ are layers, lowest first; a file includes only from
# its own layer or lower ones, always with the folder named. export/ and
# util/ know nothing of inflight's own types (include/inflight.h), so the
# exporter could serve another program.
set -eu
cd "$(dirname "$0")/.."
LAYERS="util export probe python observe run cli"
rank() {
	i=0
	for l in $LAYERS; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}
bad=0
# not under build/: a fresh checkout has none, and a failed redirection
# would have passed every include unread
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for dir in user/*/; do
	layer=$(basename "$dir")
	r=$(rank "$layer")
	if [ "$r" -lt 0 ]; then
		echo "check-layers: $dir is no layer (expected one of: $LAYERS)" >&2
		bad=1
		continue
	fi
	for f in "$dir"*.[ch]; do
		grep -n '^#include "' "$f" | while IFS= read -r line; do
			inc=$(echo "$line" | sed 's/.*#include "\([^"]*\)".*/\1/')
			case "$inc" in
			inflight.h)
				case "$layer" in util | export)
					echo "$f: includes inflight.h: $layer/ stays free of inflight's types" ;;
				esac
				continue ;;
			*.skel.h | vmlinux.h) continue ;;
			*/*) ;;
			*) echo "$f: #include \"$inc\": name its folder"; continue ;;
			esac
			to=${inc%%/*}
			tr=$(rank "$to")
			if [ "$tr" -lt 0 ] || [ "$tr" -gt "$r" ]; then
				echo "$f: #include \"$inc\": $layer/ may include only from: $(echo "$LAYERS" | cut -d' ' -f1-$((r + 1)))"
			fi
		done
	done
done > "$out" 2>&1 || true
if [ -s "$out" ] || [ $bad -ne 0 ]; then
	cat "$out" >&2
	echo "check-layers: FAILED" >&2
	exit 1
fi
echo "check-layers: ok ($LAYERS, lowest first)"
