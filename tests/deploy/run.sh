#!/bin/sh
# The deployment artifacts as users deploy them, each check failing on a
# real defect (each validator is first shown to reject a broken copy):
#   manifests   tools/deploy/daemonset.yaml against the Kubernetes schemas,
#               offline: kubernetes-models (types, enums, required) and
#               python3-kubernetes' models (unknown fields, types)
#   unit        the systemd unit as `make install` writes it: systemd-analyze verify
#   rules       promtool check rules + promtool test rules (rules_test.yaml)
#   dashboard   valid JSON, valid PromQL, only metrics inflight serves
#   deb         the .deb installed with apt into a fresh bookworm minbase, run there
#   image       `make image`, run with the docker flags the DaemonSet manifest
#               translates to (test_image.c, daemonset_docker_args.py)
# Ends with "deploy checks: N passed, N failed, N skipped". Under CI=true a
# missing tool is a failure; elsewhere a skip that says why.
#   tests/deploy/run.sh BUILD/inflight_VERSION_ARCH.deb [CHECK...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
deb=${1:?usage: run.sh FILE.deb [check...]}
shift
checks=${*:-manifests unit rules dashboard deb image}
passed=0 failed=0 skipped=0
tmp=$(mktemp -d /tmp/inflight-deploy-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
missing() {
	if [ "${CI:-}" = true ]; then
		fail "$1" "CI=true: $2 is missing (make deps installs it)"
	else
		echo "SKIP $1: $2 is missing (make deps installs it)"
		skipped=$((skipped + 1))
	fi
}
have() { command -v "$1" >/dev/null 2>&1; }
docker_cli() { if [ -x /usr/bin/docker ]; then /usr/bin/docker "$@"; else docker "$@"; fi; }

check_manifests() {
	ds="$top/tools/deploy/daemonset.yaml"
	have node || { missing manifests node; return; }
	/usr/bin/python3 -c 'import kubernetes, yaml' 2>/dev/null || { missing manifests python3-kubernetes; return; }
	"$here/install.sh" || { fail manifests "npm ci in tests/deploy failed"; return; }
	sed 's/^\(      hostPID: true\)$/\1\n      hostPIDD: true/' "$ds" >"$tmp/unknown.yaml"
	sed 's/periodSeconds: 30/periodSeconds: "30"/' "$ds" >"$tmp/type.yaml"
	sed 's/type: RollingUpdate/type: Rolling/' "$ds" >"$tmp/enum.yaml"
	if node "$here/validate.mjs" "$tmp/type.yaml" >/dev/null || node "$here/validate.mjs" "$tmp/enum.yaml" >/dev/null; then
		fail manifests "kubernetes-models accepts a wrong type or enum value: it validates nothing"
		return
	fi
	if /usr/bin/python3 "$here/k8s_fields.py" "$tmp/unknown.yaml" >/dev/null; then
		fail manifests "k8s_fields.py accepts an unknown field: it validates nothing"
		return
	fi
	node "$here/validate.mjs" "$ds" && /usr/bin/python3 "$here/k8s_fields.py" "$ds" &&
		grep -q 'prometheus.io/port: "9464"' "$ds" &&
		pass manifests || fail manifests "$ds is invalid (above)"
}

check_unit() {
	have systemd-analyze || { missing unit systemd-analyze; return; }
	# installed under a scratch PREFIX: ExecStart then names a binary that exists
	make -s -C "$top" install PREFIX="$tmp/usr" >/dev/null || { fail unit "make install failed"; return; }
	unit="$tmp/usr/lib/systemd/system/inflight.service"
	# verify exits 0 on unknown keys and bad values, it only says so: any output fails
	sed 's/^KillSignal=SIGTERM$/KillSignal=SIGTERMX/' "$unit" >"$tmp/bad.service"
	MANPATH="$tmp/usr/share/man" systemd-analyze verify "$tmp/bad.service" >"$tmp/v" 2>&1
	[ -s "$tmp/v" ] || { fail unit "systemd-analyze verify does not flag a bad signal name"; return; }
	MANPATH="$tmp/usr/share/man" systemd-analyze verify "$unit" >"$tmp/v" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || [ -s "$tmp/v" ]; then
		cat "$tmp/v"
		fail unit "systemd-analyze verify inflight.service (exit $rc, output above)"
		return
	fi
	pass unit
}

check_rules() {
	have promtool || { missing rules promtool; return; }
	promtool check rules "$top/tools/deploy/prometheus-rules.yaml" &&
		(cd "$here" && promtool test rules rules_test.yaml) &&
		pass rules || fail rules "promtool (above)"
}

check_dashboard() {
	have promtool || { missing dashboard promtool; return; }
	/usr/bin/python3 "$here/check_dashboard.py" "$top/tools/deploy/grafana-dashboard.json" \
		"$top/user/run/self_metrics.c" promtool && pass dashboard || fail dashboard "(above)"
}

check_deb() {
	have debootstrap || { missing deb debootstrap; return; }
	"$here/deb_in_bookworm.sh" "$deb" && pass deb || fail deb "(above)"
}

check_image() {
	have dockerd || { missing image dockerd; return; }
	bin=${TEST_IMAGE_BIN:-$top/build/tests/deploy/test_image}
	[ -x "$bin" ] || { fail image "$bin not built (make check-deploy builds it)"; return; }
	# a daemon of our own, stopped by pid at the end; its data root (base image, build cache) is kept
	host=$("$here/dockerd.sh" start) || { fail image "cannot start dockerd"; return; }
	if out=$(DOCKER_HOST=$host INFLIGHT_BUILD_TAG=inflight-build:cache "$top/tools/deploy/image.sh"); then
		echo "$out"
		# what earlier builds left untagged (about 1 GB a build stage): only on this daemon
		DOCKER_HOST=$host docker_cli image prune -f >/dev/null || true
		tag=${out%%:*}:$(cat "$top/VERSION")
		DOCKER_HOST=$host INFLIGHT_IMAGE=$tag INFLIGHT_BIN="${INFLIGHT_BIN:-$top/build/inflight}" DEPLOY_DIR="$here" \
			DAEMONSET="$top/tools/deploy/daemonset.yaml" "$bin" &&
			pass image || fail image "the image did not count as expected (above)"
	else
		fail image "make image failed"
	fi
	"$here/dockerd.sh" stop || fail image "dockerd did not stop"
}

for c in $checks; do
	echo "=== deploy: $c"
	"check_$c"
done
echo "deploy checks: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
