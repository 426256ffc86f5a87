#!/bin/sh
# Installs the receiver's node_modules from package-lock.json (npm ci), and
# Debian's nodejs/npm first when node or npm is missing. Idempotent: skips
# npm ci while node_modules/.install-stamp holds the hash of the lockfile
# and of the node version it was installed with (npm ci wipes node_modules,
# stamp included, so a half-done install never looks done).
# Exits non-zero with a message on stderr on any failure.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

die() {
	echo "receiver/install.sh: $*" >&2
	exit 1
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

# Debian 12 ships nodejs 18.20 and npm 9.2, enough for this lockfile
# (lockfileVersion 3) and for the OpenTelemetry packages (node >= 18.19).
missing=""
command -v node >/dev/null 2>&1 || missing=" nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
	echo "receiver/install.sh: installing Debian packages:$missing" >&2
	as_root apt-get update -qq || die "apt-get update failed"
	# shellcheck disable=SC2086 # word splitting of the package list is meant
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
		die "apt-get install$missing failed"
	command -v node >/dev/null 2>&1 || die "node still missing after installing nodejs"
	command -v npm >/dev/null 2>&1 || die "npm still missing after installing npm"
fi

node -e 'const [a, b] = process.versions.node.split(".").map(Number);
	process.exit(a > 20 || (a === 20 && b >= 6) || (a === 18 && b >= 19) ? 0 : 1)' ||
	die "node $(node --version) is too old: need ^18.19.0 or >=20.6.0"

# Several test binaries may call this at once: one installs, the others wait.
lock="$here/.install.lock"
if command -v flock >/dev/null 2>&1; then
	exec 9>"$lock"
	flock 9
fi

stamp_now=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)-$(node --version)
if [ -d node_modules ] && [ "$(cat node_modules/.install-stamp 2>/dev/null || true)" = "$stamp_now" ]; then
	exit 0
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# --silent also hides npm's error report: on failure, try once more with it.
if ! npm ci --no-audit --no-fund --silent >"$log" 2>&1; then
	echo "receiver/install.sh: npm ci failed; once more, with npm's output:" >&2
	npm ci --no-audit --no-fund --loglevel=error >&2 ||
		die "npm ci failed in $here (is the npm registry reachable?)"
fi
node -e 'require("@opentelemetry/otlp-transformer/build/src/generated/root")' ||
	die "installed, but the otlp-transformer protobuf root does not load"
echo "$stamp_now" >node_modules/.install-stamp
