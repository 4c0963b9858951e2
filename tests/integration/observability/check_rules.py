#!/usr/bin/env python3
"""promtool on dashboards/prometheus: `check config` on both scrape configurations,
`check rules` on every rule file, `test rules` on every unit test file; plus what promtool
does not know: the alerts the issue asks for exist and are labelled, and the HPA maxima in
MambogoHpaAtMaxReplicas are the manifests' maxReplicas."""

import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import obs_common as c  # noqa: E402

REQUIRED_ALERTS = {
    "MambogoHighP99Latency", "MambogoErrorBudgetBurnFast", "MambogoErrorBudgetBurnSlow",
    "MambogoCircuitBreakerOpen", "MambogoConnectionPoolExhausted", "MambogoReplicaLagHigh",
    "MambogoHpaAtMaxReplicas",
}


def promtool():
    for p in (shutil.which("promtool"), "/usr/local/bin/promtool", "/usr/bin/promtool"):
        if p and os.access(p, os.X_OK):
            return p
    return None


def run(fail, *args, quiet=False, expect_ok=True):
    t0 = time.monotonic()
    try:
        r = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        fail(f"{' '.join(args)}: timed out")
        return None
    out = (r.stdout + r.stderr).strip()
    c.log(f"$ {' '.join(os.path.relpath(a, c.REPO) if a.startswith(c.REPO) else a for a in args)}"
          f"  -> {r.returncode} ({time.monotonic() - t0:.1f}s)" + ("" if quiet else f"\n{out}"))
    if r.returncode != 0 and expect_ok:
        fail(f"{' '.join(args[:3])} ... exited {r.returncode}")
    return r


# Pods as Kubernetes would show them, and what the scrape configuration must make of them.
POD_CASES = [
    # (name, app, phase, ip, container port, annotations, expected target or None)
    ("gateway-7d9f-abcde", "gateway", "Running", "10.1.0.5", 8080,
     {"prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/actuator/prometheus"},
     ("10.1.0.5:8080", "/actuator/prometheus")),
    ("order-service-5c4f-xyz", "order-service", "Running", "10.1.0.6", 9999,
     {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
     ("10.1.0.6:8080", "/metrics")),
    ("redis-0", "redis", "Running", "10.1.0.7", 6379, {}, None),
    ("product-service-d778-new", "product-service", "Pending", "10.1.0.8", 8080,
     {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"}, None),
    ("cart-service-95cc-off", "cart-service", "Running", "10.1.0.9", 8080,
     {"prometheus.io/scrape": "false"}, None),
]


def k8s_sd_labels(name, app, phase, ip, port, ann):
    """The labels kubernetes_sd_configs role pod gives a container port."""
    labels = {"__meta_kubernetes_namespace": "shop", "__meta_kubernetes_pod_name": name,
              "__meta_kubernetes_pod_label_app": app, "__meta_kubernetes_pod_phase": phase,
              "__meta_kubernetes_pod_ip": ip, "__meta_kubernetes_pod_node_name": "node-1",
              "__meta_kubernetes_pod_container_port_number": str(port)}
    for k, v in ann.items():
        labels["__meta_kubernetes_pod_annotation_" + re.sub(r"[^a-zA-Z0-9_]", "_", k)] = v
    return {"targets": [f"{ip}:{port}"], "labels": labels}


def check_discovery(fail, tool, config, job, cases):
    """promtool check service-discovery: the targets (address, path, labels) each case gives."""
    r = run(fail, tool, "check", "service-discovery", "--timeout=5s", config, job, quiet=True)
    if r is None or r.returncode != 0:
        return
    try:
        found = json.loads(r.stdout[r.stdout.index("["):r.stdout.rindex("]") + 1])
    except ValueError as e:
        fail(f"service-discovery output is not JSON: {e}: {r.stdout[:300]}")
        return
    kept = {t["labels"].get("pod"): t["labels"] for t in found if t.get("labels")}
    for name, app, _, _, _, _, want in cases:
        got = kept.get(name)
        if want is None:
            if got:
                fail(f"{config}: pod {name} should not be scraped, got {got}")
            continue
        if not got:
            fail(f"{config}: pod {name} is not scraped")
            continue
        exp = {"__address__": want[0], "__metrics_path__": want[1], "app": app, "pod": name,
               "instance": want[0]}
        for k, v in exp.items():
            if got.get(k) != v:
                fail(f"{config}: pod {name}: {k} = {got.get(k)!r}, expected {v!r}")
        if not got.get("namespace"):
            fail(f"{config}: pod {name}: no namespace label")
    c.log(f"service discovery of {os.path.basename(os.path.dirname(config))}: {len(kept)} of "
          f"{len(cases)} pods kept: {sorted(kept)}")


def check_local_config(fail, tool, tmp):
    """The local configuration with targets written by local-targets.py from the cases."""
    spec = importlib.util.spec_from_file_location(
        "local_targets", os.path.join(c.PROM, "local", "local-targets.py"))
    lt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lt)
    items = [{"metadata": {"name": n, "namespace": "shop", "labels": {"app": a}, "annotations": ann},
              "status": {"phase": ph, "podIP": ip}} for n, a, ph, ip, _, ann, _ in POD_CASES]
    shutil.copytree(c.PROM, os.path.join(tmp, "prometheus"),
                    ignore=shutil.ignore_patterns("*.json", "__pycache__"))
    config = os.path.join(tmp, "prometheus", "local", "prometheus.yml")
    lt.write(os.path.join(tmp, "prometheus", "local", "targets", "local.json"), lt.targets(items))
    run(fail, tool, "check", "config", config)
    check_discovery(fail, tool, config, "mambogo-pods", POD_CASES)


def check_kubernetes_config(fail, tool, tmp):
    """promtool check config; Debian's Prometheus is built without Kubernetes discovery
    ("field kubernetes_sd_configs not found"), so then the kubernetes_sd blocks are checked
    here and replaced by file_sd with the labels role pod gives, for promtool to check the
    rest and to apply the relabelling."""
    import yaml
    config = c.CONFIGS[1]
    r = run(fail, tool, "check", "config", config, expect_ok=False)
    if r is None:
        return
    native = r.returncode == 0
    if not native and "kubernetes_sd_configs not found" not in r.stdout + r.stderr:
        fail(f"promtool check config {config} failed")
        return
    if not native:
        c.log("this promtool has no Kubernetes service discovery (Debian's build): checking "
              "kubernetes_sd_configs here and the relabelling with file_sd")
    cfg = c.load_yaml(config)
    allowed = {"role", "namespaces", "selectors", "api_server", "kubeconfig_file", "attach_metadata",
               "basic_auth", "authorization", "oauth2", "tls_config", "proxy_url",
               "follow_redirects", "enable_http2", "bearer_token", "bearer_token_file"}
    jobs = []
    for sc in cfg.get("scrape_configs", []):
        sds = sc.get("kubernetes_sd_configs")
        if not sds:
            continue
        jobs.append(sc["job_name"])
        for sd in sds:
            if sd.get("role") != "pod":
                fail(f"{sc['job_name']}: kubernetes_sd role {sd.get('role')!r}, expected pod")
            for k in sd:
                if k not in allowed:
                    fail(f"{sc['job_name']}: unknown kubernetes_sd_configs field {k!r}")
        sc.pop("kubernetes_sd_configs")
        sc["file_sd_configs"] = [{"files": [os.path.join(tmp, "k8s-pods.json")]}]
    if jobs != ["mambogo-pods"]:
        fail(f"expected one kubernetes_sd job mambogo-pods, found {jobs}")
        return
    cfg["rule_files"] = [os.path.join(c.PROM, "rules", "*.yml")]
    with open(os.path.join(tmp, "k8s-pods.json"), "w") as f:
        json.dump([k8s_sd_labels(*case[:6]) for case in POD_CASES], f)
    as_file_sd = os.path.join(tmp, "kubernetes", "prometheus.yml")
    os.makedirs(os.path.dirname(as_file_sd))
    with open(as_file_sd, "w") as f:
        yaml.safe_dump(cfg, f)
    if not native:
        run(fail, tool, "check", "config", as_file_sd)
    check_discovery(fail, tool, as_file_sd, "mambogo-pods", POD_CASES)


def hpa_maxima():
    """{deployment: maxReplicas} of the HPAs in packaging/kubernetes/base, and the same after
    the prod overlay's HPA patches (the dev overlay, 1-3 pods for a laptop, is not covered:
    dashboards/README.md says so)."""
    import yaml
    base, by_name = {}, {}
    for path in glob.glob(os.path.join(c.REPO, "packaging", "kubernetes", "base", "*.y*ml")):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if isinstance(doc, dict) and doc.get("kind") == "HorizontalPodAutoscaler":
                    spec = doc.get("spec", {})
                    target = spec.get("scaleTargetRef", {}).get("name")
                    base[target] = spec.get("maxReplicas")
                    by_name[doc.get("metadata", {}).get("name")] = target
    prod = dict(base)
    for path in glob.glob(os.path.join(c.REPO, "packaging", "kubernetes", "overlays", "prod", "*.y*ml")):
        with open(path) as f:
            try:
                docs = list(yaml.safe_load_all(f))
            except yaml.YAMLError:
                continue
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "HorizontalPodAutoscaler":
                target = by_name.get(doc.get("metadata", {}).get("name"))
                if target and "maxReplicas" in doc.get("spec", {}):
                    prod[target] = doc["spec"]["maxReplicas"]
    return base, prod


def main():
    fail = c.Failures()
    tool = promtool()
    if not tool:
        fail("promtool not found (packaging/dev/setup.sh installs it to /usr/local/bin)")
        return fail.exit("check_rules")
    if not c.RULE_FILES or not c.RULE_TESTS:
        fail(f"no rule files ({c.RULE_FILES}) or no rule tests ({c.RULE_TESTS})")

    for cfg in c.CONFIGS:
        if not os.path.exists(cfg):
            fail(f"{cfg} missing")
            return fail.exit("check_rules")
    run(fail, tool, "check", "config", c.CONFIGS[0])
    with tempfile.TemporaryDirectory(prefix="mambogo-obs-") as tmp:
        check_local_config(fail, tool, tmp)
        check_kubernetes_config(fail, tool, tmp)
    run(fail, tool, "check", "rules", *c.RULE_FILES)
    for t in c.RULE_TESTS:
        run(fail, tool, "test", "rules", t)

    # The alerts the issue names, each with a severity, a summary and a description.
    alerts = {}
    for path, rule in c.rules():
        if "alert" in rule:
            alerts[rule["alert"]] = rule
            if (rule.get("labels") or {}).get("severity") not in ("page", "ticket", "warning", "info"):
                fail(f"{rule['alert']}: no severity label")
            for a in ("summary", "description"):
                if not (rule.get("annotations") or {}).get(a):
                    fail(f"{rule['alert']}: no {a} annotation")
    for name in sorted(REQUIRED_ALERTS - set(alerts)):
        fail(f"alert {name} missing")

    # Every alert is exercised by a unit test.
    tested = set()
    for t in c.RULE_TESTS:
        for case in (c.load_yaml(t) or {}).get("tests", []):
            for a in case.get("alert_rule_test", []) or []:
                if a.get("exp_alerts"):
                    tested.add(a.get("alertname"))
    for name in sorted(set(alerts) - tested):
        fail(f"alert {name} has no unit test in which it fires")

    # Multi-window multi-burn-rate: each burn alert combines a long and a short window.
    for name in ("MambogoErrorBudgetBurnFast", "MambogoErrorBudgetBurnSlow"):
        expr = alerts.get(name, {}).get("expr", "")
        windows = set(re.findall(r"error_ratio_rate(\w+)", expr))
        if len(windows) < 4 or " and" not in expr:
            fail(f"{name}: not a multi-window alert ({sorted(windows)})")

    # HPA at max: the thresholds are the manifests' maxReplicas.
    base, prod = hpa_maxima()
    expr = alerts.get("MambogoHpaAtMaxReplicas", {}).get("expr", "")
    in_rule = {m.group(1): int(m.group(2)) for m in re.finditer(
        r'process_start_time_seconds\{app="([\w-]+)"\}\)\s*>=\s*(\d+)', expr)}
    c.log(f"HPA maxReplicas in packaging/kubernetes/base: {base}, with the prod overlay: {prod}; "
          f"in MambogoHpaAtMaxReplicas: {in_rule}")
    if not base:
        fail("no HorizontalPodAutoscaler found in packaging/kubernetes/base")
    for where, maxima in (("base", base), ("prod overlay", prod)):
        if maxima != in_rule:
            fail(f"MambogoHpaAtMaxReplicas thresholds {in_rule} differ from the {where}'s {maxima}")

    return fail.exit("check_rules")


if __name__ == "__main__":
    sys.exit(main())
