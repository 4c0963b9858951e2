#!/usr/bin/env python3
"""Dashboards and rules against a running local cluster, and a real Prometheus.

1. Starts `mambogo-cluster up --profile full --foreground` (Redis, PostgreSQL primary +
   replica, every service) on 127.240.x.x, sends a little shop traffic through the gateway,
   scrapes every annotated pod (pod IP, prometheus.io/port and path, as the scrape
   configurations do) and checks that every metric name any dashboard query or alert /
   recording rule uses is among the exported sample names.
2. Runs Prometheus (the Debian package's binary) with dashboards/prometheus/local/prometheus.yml
   on a loopback port, targets written by local-targets.py, and through its HTTP API:
   every target is up, one series of each service is there (/api/v1/query), every rule
   group evaluates without error, and every dashboard query executes.
Everything it starts it stops, also on failure; every wait is bounded."""

import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import obs_common as c  # noqa: E402

IP_PREFIX = os.environ.get("MAMBOGO_OBS_IP_PREFIX", "127.240")
DEADLINE = time.monotonic() + float(os.environ.get("MAMBOGO_OBS_BUDGET", "270"))


def remaining(cap):
    return max(1.0, min(cap, DEADLINE - time.monotonic()))


def http(url, method="GET", body=None, headers=None, timeout=5.0):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc, name, grace=30):
    if proc is None or proc.poll() is not None:
        return
    c.log(f"stopping {name} (pid {proc.pid})")
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        c.log(f"{name} did not stop in {grace}s: SIGKILL")
        proc.kill()
        proc.wait(timeout=10)


def leftovers(marker):
    """pids of processes whose command line names our state directory (pods of our cluster)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def load_local_targets():
    spec = importlib.util.spec_from_file_location(
        "local_targets", os.path.join(c.PROM, "local", "local-targets.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def start_cluster(build, state, fail):
    binary = os.path.join(build, "simulator", "cluster", "mambogo-cluster")
    if not os.access(binary, os.X_OK):
        fail(f"{binary} not built")
        return None
    log_path = os.path.join(state, "..", os.path.basename(state) + "-up.log")
    logf = open(log_path, "w")
    cmd = [binary, "up", "--profile", "full", "--state-dir", state, "--ip-prefix", IP_PREFIX,
           "--api-port", "0", "--foreground", "--timeout", "120"]
    c.log("$ " + " ".join(cmd))
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    proc.log_path = log_path
    t0 = time.monotonic()
    end = t0 + remaining(150)
    while time.monotonic() < end:
        with open(log_path) as f:
            text = f.read()
        # "READY <gateway URL>" is flushed at once (the usage hint after it is not).
        if re.search(r"^READY ", text, re.M):
            c.log(f"cluster up in {time.monotonic() - t0:.1f}s")
            return proc
        if proc.poll() is not None or re.search(r"^FAILED ", text, re.M):
            break
        time.sleep(0.5)
    with open(log_path) as f:
        fail(f"cluster did not come up in {time.monotonic() - t0:.0f}s; log tail:\n{f.read()[-3000:]}")
    return proc


def drive_traffic(state, fail):
    """A little of everything through the gateway: products, cart, orders (and so payments)."""
    gw = f"http://{IP_PREFIX}.0.1:8080"
    with open(os.path.join(state, "auth", "user.jwt")) as f:
        auth = {"Authorization": "Bearer " + f.read().strip()}
    st, body = http(f"{gw}/api/products?size=5", headers=auth)
    if st != 200:
        fail(f"GET /api/products through the gateway: {st} {body[:200]}")
        return
    products = json.loads(body).get("content", [])
    if not products:
        fail("no products in the catalogue")
        return
    pid = products[0]["id"]
    statuses = []
    for i in range(3):
        statuses.append(http(f"{gw}/api/products?size=5&page={i}", headers=auth)[0])
        statuses.append(http(f"{gw}/api/products/{pid}", headers=auth)[0])
        statuses.append(http(f"{gw}/api/cart/items", "POST", {"productId": pid, "quantity": 1}, auth)[0])
        statuses.append(http(f"{gw}/api/cart", headers=auth)[0])
        statuses.append(http(f"{gw}/api/orders", "POST",
                             {"items": [{"productId": pid, "quantity": 1}],
                              "shippingAddress": "1 Test Street", "paymentMethod": "CREDIT_CARD"},
                             {**auth, "X-Idempotency-Key": str(uuid.uuid4())}, timeout=10)[0])
        statuses.append(http(f"{gw}/api/orders", headers=auth)[0])
    c.log(f"traffic through {gw}: statuses {statuses}")
    if not any(s == 201 for s in statuses):
        fail(f"no order was created: {statuses}")
    time.sleep(2)  # orders are processed asynchronously (inventory, payment)


def scrape_all(state, fail):
    """{app: set of sample names}, scraping every annotated pod as the configurations do."""
    lt = load_local_targets()
    groups = lt.targets(lt.pods(os.path.join(state, "kubeconfig")))
    per_app = {}
    for g in groups:
        app = g["labels"]["app"]
        url = f"http://{g['targets'][0]}{g['labels']['__metrics_path__']}"
        if not g["targets"][0].startswith(IP_PREFIX + "."):
            fail(f"target {url} is not on {IP_PREFIX}.x.x")
            continue
        st, text = http(url, timeout=5)
        if st != 200:
            fail(f"scrape {url} ({g['labels']['pod']}): {st} {text[:200]}")
            continue
        names = c.sample_names(text)
        c.log(f"scraped {g['labels']['pod']} at {url}: {len(names)} metric names")
        per_app.setdefault(app, set()).update(names)
    for app in c.SERVICES:
        if app not in per_app:
            fail(f"no scrapeable pod of {app} (targets: {[g['labels']['pod'] for g in groups]})")
    return per_app, groups


def prom_query(base, expr, timeout=5):
    st, body = http(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}), timeout=timeout)
    try:
        return st, json.loads(body)
    except ValueError:
        return st, {"status": "error", "error": body[:300]}


def run_prometheus(tmp, state, groups, fail):
    tool = shutil.which("prometheus") or "/usr/local/bin/prometheus"
    if not os.access(tool, os.X_OK):
        fail("prometheus not found (packaging/dev/setup.sh installs it to /usr/local/bin)")
        return None, None
    conf_root = os.path.join(tmp, "prometheus")
    shutil.copytree(c.PROM, conf_root, ignore=shutil.ignore_patterns("*.json", "__pycache__"))
    config = os.path.join(conf_root, "local", "prometheus.yml")
    targets = os.path.join(conf_root, "local", "targets", "local.json")
    r = subprocess.run([sys.executable, os.path.join(conf_root, "local", "local-targets.py"),
                        "--kubeconfig", os.path.join(state, "kubeconfig"), "--out", targets],
                       capture_output=True, text=True, timeout=remaining(30))
    c.log(f"$ local-targets.py -> {r.returncode}: {(r.stdout + r.stderr).strip()}")
    if r.returncode != 0:
        fail("local-targets.py failed")
        return None, None
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [tool, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}",
           f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}", "--storage.tsdb.retention.time=1h",
           "--log.level=warn"]
    c.log("$ " + " ".join(cmd))
    logf = open(os.path.join(tmp, "prometheus.log"), "w")
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            cwd=tmp)
    proc.log_path = os.path.join(tmp, "prometheus.log")
    end = time.monotonic() + remaining(60)
    while time.monotonic() < end and proc.poll() is None:
        if http(f"{base}/-/ready", timeout=2)[0] == 200:
            break
        time.sleep(0.5)
    else:
        with open(proc.log_path) as f:
            fail(f"prometheus not ready (exit {proc.poll()}):\n{f.read()[-2000:]}")
        return proc, None
    c.log(f"prometheus ready at {base}")
    return proc, base


def check_prometheus(base, groups, dashboards_queries, fail):
    # Every target discovered and up.
    want = {g["targets"][0] for g in groups}
    end = time.monotonic() + remaining(60)
    active = []
    while time.monotonic() < end:
        st, body = http(f"{base}/api/v1/targets?state=active")
        active = json.loads(body)["data"]["activeTargets"] if st == 200 else []
        up = {t["labels"]["instance"] for t in active if t.get("health") == "up"}
        if want and want <= up:
            break
        time.sleep(1)
    health = {t["labels"].get("pod"): (t.get("health"), t.get("lastError")) for t in active}
    bad = {p: h for p, h in health.items() if h[0] != "up"}
    if len(active) != len(want) or bad:
        fail(f"targets: {len(active)} active of {len(want)} expected; not up: {bad}")
    else:
        c.log(f"all {len(active)} targets up")

    # One series of each service.
    for app in c.SERVICES:
        expr = f'process_start_time_seconds{{app="{app}", namespace="default"}}'
        st, res = prom_query(base, expr)
        series = res.get("data", {}).get("result", []) if res.get("status") == "success" else []
        pods = sorted(s["metric"].get("pod", "") for s in series)
        expected = sorted(g["labels"]["pod"] for g in groups if g["labels"]["app"] == app)
        if not series or pods != expected:
            fail(f"query {expr}: {st} {res.get('error', '')} pods {pods}, expected {expected}")
        else:
            c.log(f"query {expr}: {len(series)} series ({', '.join(pods)})")
        expr = f'sum(http_server_requests_seconds_count{{app="{app}"}})'
        st, res = prom_query(base, expr)
        val = res.get("data", {}).get("result", [])
        if res.get("status") != "success" or not val or float(val[0]["value"][1]) <= 0:
            fail(f"query {expr}: {st} {res}")
        else:
            c.log(f"query {expr}: {val[0]['value'][1]}")

    # Every rule group evaluated, no rule in error.
    end = time.monotonic() + remaining(60)
    rules_seen = []
    while time.monotonic() < end:
        st, body = http(f"{base}/api/v1/rules")
        groups_ = json.loads(body)["data"]["groups"] if st == 200 else []
        rules_seen = [r for g in groups_ for r in g["rules"]]
        if rules_seen and all(r.get("lastEvaluation", "").startswith("20") and
                              not r["lastEvaluation"].startswith("0001") for r in rules_seen):
            break
        time.sleep(1)
    expected_rules = len(c.rules())
    errors = [(r["name"], r.get("lastError")) for r in rules_seen if r.get("health") != "ok"]
    if len(rules_seen) != expected_rules or errors:
        fail(f"rules: {len(rules_seen)} loaded of {expected_rules}; not ok: {errors}")
    else:
        c.log(f"all {len(rules_seen)} rules loaded and evaluated without error")
    firing = [r["name"] for r in rules_seen if r.get("type") == "alerting" and r.get("state") == "firing"]
    c.log(f"alerts firing on the idle cluster: {firing or 'none'}")

    # Every dashboard query executes (variables at All, namespace default).
    ok, with_data = 0, 0
    for name, where, expr in dashboards_queries:
        q = c.substitute_variables(expr, namespace="default")
        st, res = prom_query(base, q)
        if res.get("status") != "success":
            fail(f"{name}: {where}: {q}: {res.get('error')}")
        else:
            ok += 1
            with_data += bool(res.get("data", {}).get("result"))
    c.log(f"{ok} of {len(dashboards_queries)} dashboard queries executed by Prometheus, "
          f"{with_data} with data on the idle cluster")


def main():
    fail = c.Failures()
    build = os.environ.get("MAMBOGO_BUILD_DIR")
    if not build:
        fail("MAMBOGO_BUILD_DIR is not set (the build tree with simulator/cluster/mambogo-cluster)")
        return fail.exit("live_cluster")
    for tool in ("kubectl", "redis-server"):
        if not shutil.which(tool):
            fail(f"{tool} not found (packaging/dev/setup.sh installs it)")
    if fail.items:
        return fail.exit("live_cluster")

    def on_signal(signum, _frame):
        raise SystemExit(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    dashboards_queries = []
    for path in c.dashboard_files():
        with open(path) as f:
            d = json.load(f)
        dashboards_queries += [(os.path.basename(path), w, e) for w, e in c.dashboard_queries(d)]

    # As root the full profile's PostgreSQL runs as postgres: the state dir must be traversable.
    parent = tempfile.mkdtemp(prefix="mambogo-obs-", dir="/var/tmp")
    os.chmod(parent, 0o755)
    state = os.path.join(parent, "state")
    os.mkdir(state)
    os.chmod(state, 0o755)
    tmp = os.path.join(parent, "work")
    os.mkdir(tmp)
    cluster = prom = None
    t0 = time.monotonic()
    try:
        cluster = start_cluster(build, state, fail)
        if cluster is None or fail.items:
            return fail.exit("live_cluster")
        drive_traffic(state, fail)

        # 1. Metric names.
        per_app, groups = scrape_all(state, fail)
        exported = set().union(*per_app.values()) if per_app else set()
        used = c.all_used_names()
        missing = {n: w for n, w in used.items() if n not in exported}
        for n, where in sorted(missing.items()):
            fail(f"metric {n} is not exported by any pod; used in: {'; '.join(where[:4])}")
        c.log(f"{len(used) - len(missing)} of {len(used)} metric names used by dashboards and rules "
              f"are exported ({len(exported)} names exported)")

        # 2. A real Prometheus with the local configuration.
        if groups:
            prom, base = run_prometheus(tmp, state, groups, fail)
            if base:
                check_prometheus(base, groups, dashboards_queries, fail)
    except SystemExit as e:
        fail(f"interrupted: {e}")
    except Exception as e:  # noqa: BLE001 - report, then clean up
        import traceback
        traceback.print_exc()
        fail(f"{type(e).__name__}: {e}")
    finally:
        stop(prom, "prometheus", grace=15)
        stop(cluster, "mambogo-cluster", grace=60)
        if cluster is not None and os.path.exists(os.path.join(state, "cluster.pid")):
            subprocess.run([os.path.join(build, "simulator", "cluster", "mambogo-cluster"), "down",
                            "--state-dir", state], timeout=60, capture_output=True)
        left = leftovers(state)
        if left:
            fail(f"processes of the cluster left after stopping it: {left} (killed)")
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if fail.items and cluster is not None and os.path.exists(getattr(cluster, "log_path", "")):
            with open(cluster.log_path) as f:
                c.log("cluster log tail:\n" + f.read()[-2000:])
        shutil.rmtree(parent, ignore_errors=True)
        c.log(f"live_cluster took {time.monotonic() - t0:.1f}s")
    return fail.exit("live_cluster")


if __name__ == "__main__":
    sys.exit(main())
