"""Shared helpers of the observability tests: where the files are, PromQL metric names,
Grafana dashboard checks, Prometheus text format parsing. Python 3 stdlib + python3-yaml."""

import glob
import json
import os
import re
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# MAMBOGO_OBS_DASHBOARDS_DIR: check another copy of dashboards/ (to see the tests fail on a
# broken copy without touching the tree).
DASHBOARDS = os.environ.get("MAMBOGO_OBS_DASHBOARDS_DIR") or os.path.join(REPO, "dashboards")
PROM = os.path.join(DASHBOARDS, "prometheus")
RULE_FILES = sorted(glob.glob(os.path.join(PROM, "rules", "*.yml")))
RULE_TESTS = sorted(glob.glob(os.path.join(PROM, "tests", "*.test.yml")))
CONFIGS = [os.path.join(PROM, "local", "prometheus.yml"),
           os.path.join(PROM, "kubernetes", "prometheus.yml")]
SERVICES = ["gateway", "product-service", "cart-service", "order-service", "payment-service"]

# The four views the issue asks for, by uid.
REQUIRED_DASHBOARDS = {
    "mambogo-service-overview": "service overview (rate, errors, duration by route)",
    "mambogo-resilience": "resilience (breakers, retries, rate limiting)",
    "mambogo-storage": "storage (pools, caches, replica lag)",
    "mambogo-hpa": "HPA view",
}
MIN_SCHEMA_VERSION = 39


class Failures:
    def __init__(self):
        self.items = []

    def __call__(self, msg):
        self.items.append(msg)
        print("FAIL: " + msg, flush=True)

    def exit(self, what):
        if self.items:
            print(f"{what}: {len(self.items)} failure(s)", flush=True)
            return 1
        print(f"{what}: ok", flush=True)
        return 0


def log(msg):
    print(msg, flush=True)


# ------------------------------------------------------------------ PromQL metric names

_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
             "unless", "offset", "bool", "inf", "nan", "atan2", "start", "end"}
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_IDENT = re.compile(r"(?<![\w.:$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])")


def metric_names(expr):
    """Metric names a PromQL expression selects (Grafana variables allowed).

    Strings, label matchers ({...}), ranges ([...]), grouping clauses (by/on/... (labels)),
    Grafana variables, numbers and durations are removed; what remains and is not a
    function call (an identifier followed by '(') nor a keyword is a metric name. Also a
    name given as {__name__="..."}."""
    names = set()
    for m in re.finditer(r'__name__\s*=\s*"([^"]+)"', expr):
        names.add(m.group(1))
    e = _STRING.sub('""', expr)
    e = re.sub(r"\$\{[^}]*\}|\$\w+", "1", e)          # Grafana variables
    e = re.sub(r"\{[^{}]*\}", " ", e)                 # label matchers
    e = re.sub(r"\[[^\[\]]*\]", " ", e)               # ranges and subqueries
    prev = None
    while prev != e:                                  # nested grouping lists are flat
        prev, e = e, _GROUPING.sub(" ", e)
    e = re.sub(r"(?<![\w.])\d[\w.+-]*", " ", e)       # numbers, durations (5m, 1e3, 0x1f)
    for m in _IDENT.finditer(e):
        word = m.group(1)
        rest = e[m.end():]
        if re.match(r"\s*\(", rest):                  # function or aggregation
            continue
        if word.lower() in _KEYWORDS:
            continue
        names.add(word)
    return names


def self_test_metric_names():
    """The extractor must see names, and only names; returns a list of problems."""
    cases = {
        'sum by (app, le) (rate(http_server_requests_seconds_bucket{app=~"$service", uri!~"/a|/b"}[$__rate_interval]))':
            {"http_server_requests_seconds_bucket"},
        "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m]))) > 0.5 and on (app) y_total offset 1h":
            {"x_bucket", "y_total"},
        "(a:b:c > (14.4 * 0.001) and d) or vector(0) unless ignoring (pod) group_left (x) e":
            {"a:b:c", "d", "e"},
        'count(max by (app, name) (s{state!="closed"}) == 1) or vector(0)': {"s"},
        'time() - max by (pod) (process_start_time_seconds{namespace=~"$namespace"})':
            {"process_start_time_seconds"},
        '{__name__="only_by_name"}': {"only_by_name"},
        "1e3 * rate(foo[1m:30s]) / 2": {"foo"},
    }
    problems = []
    for expr, want in cases.items():
        got = metric_names(expr)
        if got != want:
            problems.append(f"metric_names({expr!r}) = {sorted(got)}, expected {sorted(want)}")
    return problems


# ------------------------------------------------------------------ rules

def load_yaml(path):
    import yaml  # python3-yaml
    with open(path) as f:
        return yaml.safe_load(f)


def rules():
    """(file, rule dict) for every rule of every rule file."""
    out = []
    for path in RULE_FILES:
        for group in (load_yaml(path) or {}).get("groups", []):
            for rule in group.get("rules", []):
                out.append((path, rule))
    return out


def recorded_names():
    return {r["record"] for _, r in rules() if "record" in r}


# ------------------------------------------------------------------ dashboards

def dashboard_files():
    return sorted(glob.glob(os.path.join(DASHBOARDS, "*.json")))


def panels_of(dashboard):
    """Every panel, rows' nested panels included."""
    out = []
    for p in dashboard.get("panels", []):
        out.append(p)
        out.extend(p.get("panels", []) or [])
    return out


def dashboard_queries(dashboard):
    """(where, expr) for every PromQL expression: panel targets and query variables."""
    out = []
    for p in panels_of(dashboard):
        for t in p.get("targets", []) or []:
            if t.get("expr"):
                out.append((f"panel {p.get('id')} '{p.get('title')}' {t.get('refId')}", t["expr"]))
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            q = variable_query_expr(q) if q else None
            if q:
                out.append((f"variable {v.get('name')}", q))
    return out


def variable_query_expr(q):
    """label_values(expr, label) / query_result(expr) -> expr (None when no selector)."""
    m = re.match(r"\s*label_values\((.*),\s*[a-zA-Z_]\w*\s*\)\s*$", q, re.S)
    if m:
        return m.group(1)
    m = re.match(r"\s*query_result\((.*)\)\s*$", q, re.S)
    if m:
        return m.group(1)
    if re.match(r"\s*(label_values\(\s*\w+\s*\)|label_names\(\)|metrics\()", q):
        return None
    return q


def check_dashboard(path, fail):
    """Structure a Grafana import / provisioning needs; returns the parsed dashboard or None."""
    name = os.path.basename(path)
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{name}: not valid JSON: {e}")
        return None
    for key in ("title", "uid", "panels", "schemaVersion", "templating", "time", "tags"):
        if key not in d:
            fail(f"{name}: no '{key}'")
    if not isinstance(d.get("schemaVersion"), int) or d.get("schemaVersion", 0) < MIN_SCHEMA_VERSION:
        fail(f"{name}: schemaVersion {d.get('schemaVersion')} < {MIN_SCHEMA_VERSION}")
    if d.get("id") not in (None,):
        fail(f"{name}: 'id' must be null (Grafana assigns it on import)")
    if "mambogo" not in (d.get("tags") or []):
        fail(f"{name}: no 'mambogo' tag")
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    ds = variables.get("DS_PROMETHEUS")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        fail(f"{name}: no datasource variable DS_PROMETHEUS of type prometheus")
    for v in ("namespace", "service"):
        if v not in variables:
            fail(f"{name}: no '{v}' template variable")
    for v in variables.values():
        if v.get("type") == "query" and (v.get("datasource") or {}).get("uid") != "${DS_PROMETHEUS}":
            fail(f"{name}: variable {v.get('name')} does not query ${{DS_PROMETHEUS}}")
    ids = set()
    panels = panels_of(d)
    if not [p for p in panels if p.get("type") not in ("row", "text")]:
        fail(f"{name}: no data panels")
    for p in panels:
        pid = p.get("id")
        if pid in ids:
            fail(f"{name}: panel id {pid} twice")
        ids.add(pid)
        gp = p.get("gridPos") or {}
        if not all(isinstance(gp.get(k), int) for k in ("h", "w", "x", "y")) or gp.get("x", 0) + gp.get("w", 0) > 24:
            fail(f"{name}: panel {pid} has no valid gridPos")
        if p.get("type") in ("row", "text"):
            continue
        if not p.get("title"):
            fail(f"{name}: panel {pid} has no title")
        if (p.get("datasource") or {}).get("uid") != "${DS_PROMETHEUS}":
            fail(f"{name}: panel {pid} '{p.get('title')}' does not use ${{DS_PROMETHEUS}}")
        targets = p.get("targets") or []
        if not targets:
            fail(f"{name}: panel {pid} '{p.get('title')}' has no query")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            fail(f"{name}: panel {pid} repeats a refId")
        for t in targets:
            if not t.get("expr"):
                fail(f"{name}: panel {pid} '{p.get('title')}' target {t.get('refId')} has no expr")
            if (t.get("datasource") or {}).get("uid") not in (None, "${DS_PROMETHEUS}"):
                fail(f"{name}: panel {pid} target {t.get('refId')} uses another datasource")
            used = re.findall(r"\$\{?(\w+)", t.get("expr", ""))
            for u in used:
                if u not in variables and not u.startswith("__"):
                    fail(f"{name}: panel {pid} uses undefined variable ${u}")
    return d


def substitute_variables(expr, namespace=".+", service=".+"):
    """A Grafana expression as Prometheus gets it (every variable at 'All')."""
    e = expr.replace("$__rate_interval", "1m").replace("$__interval", "15s").replace("$__range", "1h")
    e = e.replace("${DS_PROMETHEUS}", "")
    e = re.sub(r"\$\{?namespace\}?", namespace, e)
    e = re.sub(r"\$\{?service\}?", service, e)
    e = re.sub(r"\$\{?\w+\}?", ".+", e)
    return e


# ------------------------------------------------------------------ exposition

def sample_names(text):
    """Names of the samples in a Prometheus text exposition."""
    names = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)", line)
        if m:
            names.add(m.group(1))
    return names


def all_used_names():
    """{metric name: [where]} over every dashboard query and rule expression; recorded
    names (mambogo:...) are replaced by their definitions' inputs (checked themselves)."""
    used = {}
    for path in dashboard_files():
        try:
            with open(path) as f:
                d = json.load(f)
        except ValueError:
            continue
        for where, expr in dashboard_queries(d):
            for n in metric_names(expr):
                used.setdefault(n, []).append(f"{os.path.basename(path)}: {where}")
    recorded = recorded_names()
    for path, rule in rules():
        for n in metric_names(rule.get("expr", "")):
            if n in recorded:
                continue
            used.setdefault(n, []).append(f"{os.path.relpath(path, REPO)}: {rule.get('alert') or rule.get('record')}")
    return used


if __name__ == "__main__":
    print("\n".join(sorted(all_used_names())))
    sys.exit(0)
