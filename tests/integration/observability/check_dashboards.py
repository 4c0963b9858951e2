#!/usr/bin/env python3
"""The Grafana dashboards without a cluster: valid JSON with what an import or a provisioned
file needs (schemaVersion, uid, the ${DS_PROMETHEUS} datasource variable, namespace and
service variables, panels with queries), the four views the issue asks for, and every query
parses as PromQL (promtool check rules on the queries with their variables substituted).
Also checks the metric-name extractor the live test relies on."""

import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import obs_common as c  # noqa: E402
from check_rules import promtool  # noqa: E402


def main():
    fail = c.Failures()
    for p in c.self_test_metric_names():
        fail(p)

    files = c.dashboard_files()
    uids = {}
    queries = []
    for path in files:
        d = c.check_dashboard(path, fail)
        if d is None:
            continue
        if d.get("uid") in uids:
            fail(f"uid {d['uid']} in {os.path.basename(path)} and {uids[d['uid']]}")
        uids[d.get("uid")] = os.path.basename(path)
        q = c.dashboard_queries(d)
        c.log(f"{os.path.basename(path)}: '{d.get('title')}', schemaVersion {d.get('schemaVersion')}, "
              f"{len(c.panels_of(d))} panels, {len(q)} queries")
        for where, expr in q:
            if not c.metric_names(expr):
                fail(f"{os.path.basename(path)}: {where}: no metric in {expr!r}")
            queries.append((os.path.basename(path), where, expr))
    for uid, what in c.REQUIRED_DASHBOARDS.items():
        if uid not in uids:
            fail(f"no dashboard with uid {uid} ({what})")

    # PromQL syntax: every query as a recording rule, through promtool.
    tool = promtool()
    if not tool:
        fail("promtool not found (packaging/dev/setup.sh installs it)")
    elif queries:
        import yaml
        with tempfile.TemporaryDirectory(prefix="mambogo-dash-") as tmp:
            for i, (name, where, expr) in enumerate(queries):
                rule = {"groups": [{"name": "q", "rules": [
                    {"record": "dashboard:query", "expr": c.substitute_variables(expr)}]}]}
                with open(os.path.join(tmp, f"q{i:03d}.yml"), "w") as f:
                    yaml.safe_dump(rule, f)
            files_ = sorted(os.listdir(tmp))
            r = subprocess.run([tool, "check", "rules"] + [os.path.join(tmp, f) for f in files_],
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0:  # which ones: one promtool run per query
                for i, (name, where, expr) in enumerate(queries):
                    one = subprocess.run([tool, "check", "rules", os.path.join(tmp, f"q{i:03d}.yml")],
                                         capture_output=True, text=True, timeout=30)
                    if one.returncode != 0:
                        err = [ln.strip() for ln in (one.stdout + one.stderr).splitlines() if ln.strip()]
                        fail(f"{name}: {where}: does not parse: {expr}\n  {' '.join(err[-2:])}")
            else:
                c.log(f"{len(queries)} dashboard queries parse (promtool check rules)")

    names = sorted(c.all_used_names())
    c.log(f"{len(names)} metric names used by dashboards and rules: {' '.join(names)}")
    return fail.exit("check_dashboards")


if __name__ == "__main__":
    sys.exit(main())
