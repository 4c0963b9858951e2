#!/usr/bin/env python3
"""The Kubernetes manifests render, and the prod overlay is production-ready.

kubectl kustomize renders the profiles packaging/kubernetes/full and embedded and the overlays
overlays/dev and overlays/prod; kubectl accepts each rendering in a client-side dry run (against
a discovery-only API server served here on 127.0.0.1, since kubectl needs discovery to map
kinds); and the prod rendering is checked: requests and limits on every container, a restricted
securityContext everywhere (with writable emptyDir/volume mounts where each program writes), a
PodDisruptionBudget per Deployment, Prometheus scrape annotations on every pod template, and
replicas for availability. The dev rendering: one replica per service.

Run: MAMBOGO_BUILD_DIR=build/dev python3 tests/integration/packaging/check_kustomize.py
(MAMBOGO_BUILD_DIR is not needed here). Needs /usr/bin/kubectl and python3-yaml.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
K8S = os.path.join(ROOT, "packaging", "kubernetes")
KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")
PROFILES = ["full", "embedded", "overlays/dev", "overlays/prod"]
SERVICES = ["gateway", "product-service", "cart-service", "order-service", "payment-service"]
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def run(args, stdin=None, env=None):
    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=90, env=env)


def render(profile):
    r = run([KUBECTL, "kustomize", os.path.join(K8S, profile)])
    if r.returncode != 0:
        fail(f"kubectl kustomize {profile}: exit {r.returncode}: {r.stderr.strip()}")
        return None, []
    docs = [d for d in yaml.safe_load_all(r.stdout) if d]
    print(f"rendered {profile}: {len(docs)} objects")
    return r.stdout, docs


# ---- kubectl apply --dry-run=client, against discovery only --------------------------------
def resource_list(group_version, kinds):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": [{"name": plural, "singularName": "", "namespaced": True, "kind": kind,
                           "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
                          for plural, kind in kinds]}


def group(name, version):
    gv = {"groupVersion": f"{name}/{version}", "version": version}
    return {"name": name, "versions": [gv], "preferredVersion": gv}


DISCOVERY = {
    "/version": {"major": "1", "minor": "30", "gitVersion": "v1.30.0"},
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1",
              "groups": [group("apps", "v1"), group("autoscaling", "v2"), group("policy", "v1")]},
    "/api/v1": resource_list("v1", [("configmaps", "ConfigMap"), ("secrets", "Secret"), ("services", "Service"),
                                    ("pods", "Pod"), ("persistentvolumeclaims", "PersistentVolumeClaim")]),
    "/apis/apps/v1": resource_list("apps/v1", [("deployments", "Deployment"), ("statefulsets", "StatefulSet")]),
    "/apis/autoscaling/v2": resource_list("autoscaling/v2", [("horizontalpodautoscalers", "HorizontalPodAutoscaler")]),
    "/apis/policy/v1": resource_list("policy/v1", [("poddisruptionbudgets", "PodDisruptionBudget")]),
}


class Discovery(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        body = DISCOVERY.get(path)
        status = 200 if body is not None else 404
        if body is None:
            body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                    "code": 404, "message": f"{path} not found"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def dry_run(profile, text, server, home):
    env = dict(os.environ, HOME=home, KUBECONFIG=os.path.join(home, "no-kubeconfig"))
    r = run([KUBECTL, "--server", server, "apply", "--dry-run=client", "--validate=false", "-f", "-"],
            stdin=text, env=env)
    if r.returncode != 0:
        fail(f"kubectl apply --dry-run=client {profile}: exit {r.returncode}: {r.stderr.strip()[:2000]}")
    else:
        print(f"kubectl apply --dry-run=client {profile}: {len(r.stdout.splitlines())} objects accepted")


# ---- quantities ------------------------------------------------------------------------------
SUFFIX = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
          "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "Ti": 1024 ** 4}


def quantity(q):
    m = re.fullmatch(r"([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?", str(q))
    if not m:
        raise ValueError(f"not a quantity: {q!r}")
    return float(m.group(1)) * SUFFIX[m.group(2) or ""]


# ---- prod --------------------------------------------------------------------------------------
def pod_templates(docs):
    for d in docs:
        if d["kind"] in WORKLOADS:
            yield d, d["spec"]["template"]


def writable_paths(container):
    """Where each program writes, under a read-only root filesystem."""
    image = container.get("image", "")
    if image.startswith("mambogo/"):
        return ["/tmp"]
    if image.startswith("redis:"):
        return ["/data"]
    if image.startswith("postgres:"):
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        paths = [env.get("PGDATA", "/var/lib/postgresql/data")]
        if container.get("command") is None:  # the server, not a helper script
            paths += ["/var/run/postgresql", "/tmp"]
        return paths
    return ["/tmp"]


def check_security(where, pod_sc, c, volumes, claim_names):
    sc = c.get("securityContext") or {}

    def effective(key):
        return sc.get(key, pod_sc.get(key))

    if effective("runAsNonRoot") is not True:
        fail(f"{where}: runAsNonRoot is not true")
    uid = effective("runAsUser")
    if not isinstance(uid, int) or isinstance(uid, bool) or uid <= 0:
        fail(f"{where}: runAsUser is not a numeric non-root UID ({uid!r})")
    if sc.get("readOnlyRootFilesystem") is not True:
        fail(f"{where}: readOnlyRootFilesystem is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        fail(f"{where}: allowPrivilegeEscalation is not false")
    if sc.get("privileged"):
        fail(f"{where}: privileged")
    drop = (sc.get("capabilities") or {}).get("drop") or []
    if "ALL" not in drop:
        fail(f"{where}: capabilities do not drop ALL ({drop})")
    if (sc.get("capabilities") or {}).get("add"):
        fail(f"{where}: adds capabilities")
    seccomp = effective("seccompProfile") or {}
    if seccomp.get("type") != "RuntimeDefault":
        fail(f"{where}: seccompProfile is not RuntimeDefault ({seccomp})")
    # Writable mounts where the program writes.
    mounts = c.get("volumeMounts") or []
    for m in mounts:
        if m["name"] not in volumes and m["name"] not in claim_names:
            fail(f"{where}: volumeMount {m['name']} has no volume")
    for path in writable_paths(c):
        best = None
        for m in mounts:
            mp = m["mountPath"].rstrip("/") or "/"
            if (path == mp or path.startswith(mp + "/")) and (best is None or len(mp) > len(best["mountPath"])):
                best = m
        if best is None:
            fail(f"{where}: {path} is not on a writable volume (read-only root filesystem)")
            continue
        vol = volumes.get(best["name"], {})
        writable = best["name"] in claim_names or "emptyDir" in vol or "persistentVolumeClaim" in vol
        if not writable or best.get("readOnly"):
            fail(f"{where}: {path} is mounted from {best['name']}, which is not writable")


def check_prod(docs):
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}
    if sorted(deployments) != sorted(SERVICES):
        fail(f"prod: Deployments {sorted(deployments)}, expected {sorted(SERVICES)}")
    containers_seen = 0
    for w, tpl in pod_templates(docs):
        name = f"prod {w['kind']}/{w['metadata']['name']}"
        spec = tpl["spec"]
        pod_sc = spec.get("securityContext")
        if not pod_sc:
            fail(f"{name}: no pod securityContext")
            pod_sc = {}
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        claims = {t["metadata"]["name"] for t in w["spec"].get("volumeClaimTemplates", [])}
        for kind in ("initContainers", "containers"):
            for c in spec.get(kind) or []:
                containers_seen += 1
                where = f"{name} {kind[:-1]} {c['name']}"
                res = c.get("resources") or {}
                for part in ("requests", "limits"):
                    for r in ("cpu", "memory"):
                        if r not in (res.get(part) or {}):
                            fail(f"{where}: no {part}.{r}")
                try:
                    for r in ("cpu", "memory"):
                        req, lim = res.get("requests", {}).get(r), res.get("limits", {}).get(r)
                        if req is not None and lim is not None and quantity(req) > quantity(lim):
                            fail(f"{where}: requests.{r} {req} above limits.{r} {lim}")
                except ValueError as e:
                    fail(f"{where}: {e}")
                check_security(where, pod_sc, c, volumes, claims)
        ann = (tpl.get("metadata") or {}).get("annotations") or {}
        if w["kind"] == "Deployment":
            want = {"prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/metrics"}
            for k, v in want.items():
                if ann.get(k) != v:
                    fail(f"{name}: pod template annotation {k}={ann.get(k)!r}, expected {v!r}")
            ports = {p["containerPort"] for c in spec["containers"] for p in c.get("ports", [])}
            if 8080 not in ports:
                fail(f"{name}: scrape port 8080 is no containerPort ({sorted(ports)})")
            if w["spec"].get("replicas", 1) < 2:
                fail(f"{name}: {w['spec'].get('replicas', 1)} replica(s); prod needs at least 2")
        elif "prometheus.io/scrape" not in ann:
            fail(f"{name}: pod template says nothing about scraping (prometheus.io/scrape)")
    if containers_seen == 0:
        fail("prod: no containers found")
    # PodDisruptionBudgets: each Deployment's pods are selected by exactly one.
    pdbs = by_kind.get("PodDisruptionBudget", [])
    for dep_name, dep in deployments.items():
        labels = dep["spec"]["template"]["metadata"].get("labels") or {}
        matching = []
        for p in pdbs:
            sel = p["spec"].get("selector") or {}
            ml = sel.get("matchLabels") or {}
            if sel.get("matchExpressions"):
                fail(f"prod PDB {p['metadata']['name']}: matchExpressions not checked here")
            if ml and all(labels.get(k) == v for k, v in ml.items()):
                matching.append(p)
        if len(matching) != 1:
            fail(f"prod Deployment/{dep_name}: selected by {len(matching)} PodDisruptionBudgets, expected 1")
            continue
        spec = matching[0]["spec"]
        replicas = dep["spec"].get("replicas", 1)
        if "maxUnavailable" not in spec and "minAvailable" not in spec:
            fail(f"prod PDB {matching[0]['metadata']['name']}: neither maxUnavailable nor minAvailable")
        if isinstance(spec.get("minAvailable"), int) and spec["minAvailable"] >= replicas:
            fail(f"prod PDB {matching[0]['metadata']['name']}: minAvailable {spec['minAvailable']} blocks every eviction")
        if spec.get("maxUnavailable") in (0, "0%"):
            fail(f"prod PDB {matching[0]['metadata']['name']}: maxUnavailable 0 blocks every eviction")
    # HPAs never scale a service below its prod replicas.
    for h in by_kind.get("HorizontalPodAutoscaler", []):
        target = h["spec"]["scaleTargetRef"]["name"]
        dep = deployments.get(target)
        if dep and h["spec"].get("minReplicas", 1) < 2:
            fail(f"prod HPA {h['metadata']['name']}: minReplicas {h['spec'].get('minReplicas')} below 2")
    # Service images: the ones packaging/docker builds.
    for dep_name, dep in deployments.items():
        images = [c["image"] for c in dep["spec"]["template"]["spec"]["containers"]]
        if images != [f"mambogo/{dep_name}:0.1.0"]:
            fail(f"prod Deployment/{dep_name}: images {images}, expected mambogo/{dep_name}:0.1.0")


def check_dev(docs):
    for d in docs:
        if d["kind"] == "Deployment" and d["spec"].get("replicas") != 1:
            fail(f"dev Deployment/{d['metadata']['name']}: replicas {d['spec'].get('replicas')}, expected 1")
        if d["kind"] == "HorizontalPodAutoscaler" and d["spec"].get("minReplicas") != 1:
            fail(f"dev HPA/{d['metadata']['name']}: minReplicas {d['spec'].get('minReplicas')}, expected 1")
    for w, tpl in pod_templates(docs):
        for c in tpl["spec"]["containers"]:
            res = c.get("resources") or {}
            if not res.get("requests") or not res.get("limits"):
                fail(f"dev {w['kind']}/{w['metadata']['name']}: container {c['name']} without requests and limits")


def main():
    if not os.access(KUBECTL, os.X_OK):
        print(f"SKIP: no {KUBECTL}")
        return 0
    rendered = {p: render(p) for p in PROFILES}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Discovery)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory() as home:
            for p, (text, _) in rendered.items():
                if text:
                    dry_run(p, text, f"http://127.0.0.1:{server.server_port}", home)
    finally:
        server.shutdown()
    if rendered["overlays/prod"][0]:
        check_prod(rendered["overlays/prod"][1])
    if rendered["overlays/dev"][0]:
        check_dev(rendered["overlays/dev"][1])
    # The overlays add to the full profile; they never lose an object of it.
    full = {(d["kind"], d["metadata"]["name"]) for d in rendered["full"][1]}
    for p in ("overlays/dev", "overlays/prod"):
        missing = full - {(d["kind"], d["metadata"]["name"]) for d in rendered[p][1]}
        if rendered[p][0] and missing:
            fail(f"{p}: objects of full missing: {sorted(missing)}")
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
