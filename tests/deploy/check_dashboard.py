#!/usr/bin/python3
"""The Grafana dashboard is valid JSON, every panel has a query, each query
is valid PromQL (checked by promtool as recording rules) and names only
metrics inflight serves: conserver_vcons_inflight and its handled calls
(conserver_vcons_inflight_handled_total), oldest call's age
(_oldest_age_seconds) and call durations (_duration_seconds_bucket/_sum/_count), the self-metrics of
user/run/self_metrics.c as _total counters, target_info, and up.
Usage: check_dashboard.py DASHBOARD.json SELF_METRICS.c PROMTOOL"""
import json
import os
import re
import subprocess
import sys
import tempfile


def known_metrics(self_metrics_c):
    src = open(self_metrics_c).read()
    # the metric_doc table: { "inflight.calls.overflowed", "{call}", ...
    names = set(re.findall(r'\{ "(inflight\.[a-z.]+)", "\{', src))
    if not names:
        sys.exit(f"{self_metrics_c}: no metric names found (did the table change?)")
    return {n.replace(".", "_") + "_total" for n in names} | {
        "conserver_vcons_inflight", "conserver_vcons_inflight_handled_total",
        "conserver_vcons_inflight_oldest_age_seconds",
        "conserver_vcons_inflight_duration_seconds_bucket",
        "conserver_vcons_inflight_duration_seconds_sum",
        "conserver_vcons_inflight_duration_seconds_count", "target_info", "up"}


def queries(dash):
    for panel in dash["panels"]:
        targets = panel.get("targets") or []
        if not targets:
            yield panel["title"], None
        for t in targets:
            yield panel["title"], t.get("expr")
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        if isinstance(q, dict):
            m = re.fullmatch(r"label_values\((.+), *\w+\)", q.get("query", ""))
            if m:
                yield "variable " + v["name"], m.group(1)


def main(dash_file, self_metrics_c, promtool):
    dash = json.load(open(dash_file))
    known = known_metrics(self_metrics_c)
    bad = []
    exprs = []
    for title, expr in queries(dash):
        if not expr:
            bad.append(f"panel '{title}': no query")
            continue
        # Grafana's own variables, as Prometheus would see them after substitution
        e = expr.replace("$__rate_interval", "5m")
        exprs.append((title, e))
        for name in re.findall(r"\b((?:conserver|inflight)_[a-z_]+|up|target_info)\b\s*[{\[)]", e):
            if name not in known:
                bad.append(f"'{title}': {name} is not a metric inflight serves")
        if not re.search(r"\b(conserver_vcons_inflight(?:_handled_total|_oldest_age_seconds|_duration_seconds_bucket)?|inflight_[a-z_]+_total|up|target_info)\b", e):
            bad.append(f"'{title}': names no inflight metric: {e}")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, (title, e) in enumerate(exprs):
            f.write(f"      - record: dashboard_query_{i}\n        expr: {json.dumps(e)}\n")
    r = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    if r.returncode:
        bad.append("promtool: a query is not valid PromQL:\n" + r.stdout + r.stderr)
    for b in bad:
        print(f"{dash_file}: {b}")
    if not bad:
        print(f"{dash_file}: valid JSON, {len(exprs)} queries, valid PromQL, metrics all served by inflight")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
