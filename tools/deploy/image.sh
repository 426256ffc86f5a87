#!/bin/sh
# make image: builds tools/deploy/Dockerfile as inflight:VERSION and prints
# its size. The base is debian:bookworm when a registry answers, else an
# image imported once from the debootstrap'd bookworm root
# (tools/deploy/bookworm-root.sh), kept as inflight-base:bookworm.
#   DOCKER_HOST=unix://... tools/deploy/image.sh
#   INFLIGHT_IMAGE (tag), INFLIGHT_BASE_IMAGE (skip the choice), DOCKER (client),
#   INFLIGHT_BUILD_TAG (also tag the build stage)
set -eu
cd "$(dirname "$0")/../.."
# Debian's docker.io client matches its daemon; else whichever is in $PATH
docker=${DOCKER:-$( [ -x /usr/bin/docker ] && echo /usr/bin/docker || echo docker )}
version=$(cat VERSION)
tag=${INFLIGHT_IMAGE:-inflight:$version}
base=${INFLIGHT_BASE_IMAGE:-}

if [ -z "$base" ]; then
	if "$docker" image inspect debian:bookworm >/dev/null 2>&1 ||
		timeout 60 "$docker" pull -q debian:bookworm >/dev/null 2>&1; then
		base=debian:bookworm
	else
		base=inflight-base:bookworm
		if ! "$docker" image inspect "$base" >/dev/null 2>&1; then
			root=$(tools/deploy/bookworm-root.sh)
			echo "no registry: importing $root as $base" >&2
			tar -C "$root" --exclude=./.complete -c . | "$docker" import - "$base" >/dev/null
		fi
	fi
fi
# INFLIGHT_BUILD_TAG: keep the build stage tagged too (its packages stay cached
# once older builds are pruned: the tests do that on their own daemon)
if [ -n "${INFLIGHT_BUILD_TAG:-}" ]; then
	"$docker" build -q --network host --build-arg BASE="$base" -f tools/deploy/Dockerfile \
		--target build -t "$INFLIGHT_BUILD_TAG" . >/dev/null
fi
"$docker" build -q --network host --build-arg BASE="$base" -f tools/deploy/Dockerfile -t "$tag" . >/dev/null
size=$("$docker" image inspect -f '{{.Size}}' "$tag")
echo "$tag: $((size / 1000000)) MB (built on $base)"
