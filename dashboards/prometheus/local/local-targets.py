#!/usr/bin/env python3
"""Write Prometheus file_sd targets for the pods of a (local) Mambogo cluster.

Asks the API server, through kubectl and a kubeconfig (the one `mambogo-cluster up` prints),
for every running pod annotated `prometheus.io/scrape: "true"` and writes one target per pod:
`<podIP>:<prometheus.io/port>` with `__metrics_path__` from `prometheus.io/path` and the
labels namespace, pod and app. This is the local twin of the kubernetes_sd relabelling in
../kubernetes/prometheus.yml, so both give the same series.

  local-targets.py --kubeconfig KUBECONFIG [--out FILE] [--watch SECONDS]

--out defaults to targets/local.json next to this script (the path prometheus.yml's
file_sd_configs reads). The file is replaced atomically; with --watch it is rewritten every
SECONDS when the pod set changes, so Prometheus follows scaling and restarts.
Only Python's standard library and kubectl are used.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def pods(kubeconfig, kubectl="kubectl", namespace=None, timeout=20):
    cmd = [kubectl, "--kubeconfig", kubeconfig, "get", "pods", "-o", "json",
           "--request-timeout", f"{int(timeout)}s"]
    cmd += ["-n", namespace] if namespace else ["--all-namespaces"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout + 5)
    return json.loads(out.stdout).get("items", [])


def targets(items):
    groups = []
    for pod in items:
        meta = pod.get("metadata", {})
        ann = meta.get("annotations") or {}
        if ann.get("prometheus.io/scrape") != "true":
            continue
        status = pod.get("status", {})
        if status.get("phase") != "Running" or not status.get("podIP"):
            continue
        if meta.get("deletionTimestamp"):
            continue
        port = ann.get("prometheus.io/port", "8080")
        labels = {
            "namespace": meta.get("namespace", "default"),
            "pod": meta.get("name", ""),
            "app": (meta.get("labels") or {}).get("app", ""),
            "__metrics_path__": ann.get("prometheus.io/path", "/metrics"),
        }
        if ann.get("prometheus.io/scheme") in ("http", "https"):
            labels["__scheme__"] = ann["prometheus.io/scheme"]
        groups.append({"targets": [f"{status['podIP']}:{port}"], "labels": labels})
    groups.sort(key=lambda g: (g["labels"]["namespace"], g["labels"]["pod"]))
    return groups


def write(path, groups):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(groups, f, indent=2)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"), required=
                    "KUBECONFIG" not in os.environ)
    ap.add_argument("--out", default=os.path.join(HERE, "targets", "local.json"))
    ap.add_argument("--namespace", help="only this namespace (default: all)")
    ap.add_argument("--kubectl", default="kubectl")
    ap.add_argument("--watch", type=float, metavar="SECONDS",
                    help="keep running and refresh every SECONDS")
    args = ap.parse_args()

    last = None
    while True:
        try:
            groups = targets(pods(args.kubeconfig, args.kubectl, args.namespace))
            if groups != last:
                write(args.out, groups)
                print(f"local-targets: {len(groups)} targets -> {args.out}", flush=True)
                last = groups
        except (subprocess.SubprocessError, ValueError) as e:
            if not args.watch:
                print(f"local-targets: {e}", file=sys.stderr)
                return 1
            print(f"local-targets: {e} (retrying)", file=sys.stderr, flush=True)
        if not args.watch:
            return 0
        time.sleep(args.watch)


if __name__ == "__main__":
    sys.exit(main())
