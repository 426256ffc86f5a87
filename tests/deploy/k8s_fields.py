#!/usr/bin/python3
"""Rejects fields the Kubernetes API does not know (a typo such as
`hostPIDD` is silently dropped by the API server) and values of the wrong
JSON type, walking each manifest along the models of Debian's
python3-kubernetes. Usage: k8s_fields.py FILE.yaml...  (exit 1 if any)"""
import re
import sys

import yaml
from kubernetes import client

KINDS = {("apps/v1", "DaemonSet"): "V1DaemonSet", ("v1", "Service"): "V1Service",
         ("v1", "ConfigMap"): "V1ConfigMap", ("v1", "ServiceAccount"): "V1ServiceAccount",
         ("v1", "Namespace"): "V1Namespace"}
PRIMITIVE = {"str": str, "int": int, "bool": bool, "float": (int, float)}


def check(value, kind, path, errors):
    if value is None:
        return
    m = re.fullmatch(r"list\[(.+)\]", kind)
    if m:
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {value!r}")
            return
        for i, v in enumerate(value):
            check(v, m.group(1), f"{path}[{i}]", errors)
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", kind)
    if m:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map, got {value!r}")
            return
        for k, v in value.items():
            check(v, m.group(1), f"{path}.{k}", errors)
        return
    if kind in PRIMITIVE:
        # bool is an int in Python: an int field must not take true/false
        if not isinstance(value, PRIMITIVE[kind]) or (kind != "bool" and isinstance(value, bool)):
            errors.append(f"{path}: expected {kind}, got {value!r}")
        return
    if kind == "object":  # IntOrString, Quantity, RawExtension
        return
    model = getattr(client, kind)
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object ({kind}), got {value!r}")
        return
    by_json = {j: model.openapi_types[a] for a, j in model.attribute_map.items()}
    for k, v in value.items():
        if k not in by_json:
            errors.append(f"{path}: unknown field '{k}' in {kind}")
            continue
        check(v, by_json[k], f"{path}.{k}", errors)


def main(files):
    bad = 0
    for f in files:
        with open(f) as fh:
            for doc in yaml.safe_load_all(fh):
                if not doc:
                    continue
                kind = KINDS.get((doc.get("apiVersion"), doc.get("kind")))
                what = f"{f}: {doc.get('apiVersion')} {doc.get('kind')}"
                if not kind:
                    print(f"{what}: no model for this kind here")
                    bad += 1
                    continue
                errors = []
                check(doc, kind, "", errors)
                for e in errors:
                    print(f"{what}: {e}")
                if errors:
                    bad += 1
                else:
                    print(f"{what}: no unknown field, types right")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
