#!/bin/sh
# node_modules for validate.mjs from package-lock.json (npm ci), once:
# skipped while node_modules/.install-stamp matches the lockfile and node.
set -eu
cd "$(dirname "$0")"
command -v npm >/dev/null 2>&1 || { echo "tests/deploy/install.sh: npm missing (make deps)" >&2; exit 1; }
exec 9>.install.lock
flock 9
stamp=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)-$(node --version)
[ "$(cat node_modules/.install-stamp 2>/dev/null || true)" = "$stamp" ] && exit 0
npm ci --no-audit --no-fund --loglevel=error >&2 ||
	{ echo "tests/deploy/install.sh: npm ci failed (is the npm registry reachable?)" >&2; exit 1; }
echo "$stamp" >node_modules/.install-stamp
