#!/usr/bin/python3
"""`docker run` arguments that run the image as tools/deploy/daemonset.yaml
says, one per line, for test_image: read-only root, capabilities, host PID,
user, memory and CPU limits, the hostPath volumes at their mount paths,
the literal environment, the container's args. Docker 20.10 knows neither
CAP_BPF nor CAP_PERFMON: those two are left out (CAP_SYS_ADMIN, also in
the set, covers both). The network is the host's (the test's receiver and
Prometheus are on 127.0.0.1).
Usage: daemonset_docker_args.py DAEMONSET IMAGE EMPTY_DIR [NAME=VALUE]...
       [--arg OLD=NEW]... [--cmd ARG...]
NAME=VALUE sets or overrides an environment variable; --arg replaces one
of the container's arguments, --cmd all of them; a DirectoryOrCreate
volume missing on this host is EMPTY_DIR."""
import os
import sys

import yaml

DOCKER_UNKNOWN_CAPS = {"BPF", "PERFMON"}


def quantity_mib(q):
    units = {"Mi": 1, "Gi": 1024}
    for u, m in units.items():
        if q.endswith(u):
            return int(q[:-len(u)]) * m
    raise SystemExit(f"memory limit {q}: only Mi and Gi are handled here")


def propagates(path):
    """Whether the mount holding `path` is shared or a slave (mountinfo's optional fields)."""
    best, tags = "", ""
    real = os.path.realpath(path)
    for line in open("/proc/self/mountinfo"):
        f = line.split()
        mnt, opt = f[4], f[6:f.index("-")]
        if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, tags = mnt, " ".join(opt)
    return "shared:" in tags or "master:" in tags


def main(argv):
    ds_file, image, empty = argv[:3]
    env_over, arg_over, cmd = {}, {}, None
    rest = argv[3:]
    while rest:
        a = rest.pop(0)
        if a == "--cmd":
            cmd, rest = rest, []
        elif a == "--arg":
            old, new = rest.pop(0).split("=", 1)
            arg_over[old] = new
        else:
            k, v = a.split("=", 1)
            env_over[k] = v
    ds = yaml.safe_load(open(ds_file))
    pod = ds["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    sc = c.get("securityContext", {})
    out = ["--network", "host"]
    if pod.get("hostPID"):
        out += ["--pid", "host"]
    if sc.get("readOnlyRootFilesystem"):
        out.append("--read-only")
    if "runAsUser" in sc:
        out += ["--user", str(sc["runAsUser"])]
    if sc.get("allowPrivilegeEscalation") is False:
        out += ["--security-opt", "no-new-privileges"]
    caps = sc.get("capabilities", {})
    for cap in caps.get("drop", []):
        out += ["--cap-drop", cap]
    for cap in caps.get("add", []):
        if cap not in DOCKER_UNKNOWN_CAPS:
            out += ["--cap-add", cap]
    limits = c.get("resources", {}).get("limits", {})
    if "memory" in limits:
        out += ["--memory", f"{quantity_mib(limits['memory'])}m"]
    if "cpu" in limits:
        cpu = limits["cpu"]
        out += ["--cpus", str(int(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu))]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        hp = volumes[m["name"]]["hostPath"]
        src = hp["path"]
        if not os.path.exists(src):
            if hp.get("type") != "DirectoryOrCreate":
                raise SystemExit(f"hostPath {src} ({hp.get('type')}) is missing on this host")
            src = empty
        opts = ["ro"] if m.get("readOnly") else []
        # HostToContainer needs the host's mount shared (systemd makes it so);
        # on a host without systemd it is private and Docker refuses rslave
        if m.get("mountPropagation") == "HostToContainer" and propagates(src):
            opts.append("rslave")
        out += ["-v", f"{src}:{m['mountPath']}" + (":" + ",".join(opts) if opts else "")]
    env = {}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
    env.update(env_over)
    for k, v in env.items():
        out += ["-e", f"{k}={v}"]
    out.append(image)
    out += cmd if cmd is not None else [arg_over.get(a, a) for a in c.get("args", [])]
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
