#!/usr/bin/env python3
"""The Debian package, built by CPack from this build tree, and what it installs.

  - `cpack` makes mambogo_<version>-1_<arch>.deb from $MAMBOGO_BUILD_DIR;
  - its control fields: Depends (from dpkg-shlibdeps) name the Qt, database and Redis client
    libraries the programs load, Recommends name redis-server and postgresql (apt installs
    recommends by default), and every package named there is one apt can install here;
  - it holds every program (console, terminal UI, load generator, mambogo-cluster and the
    service binaries it starts), the manifests, the image map, the drills, the load plans, the
    dashboards, the .desktop file, the AppStream metainfo, the icon and a copyright file; its
    binaries are stripped and carry no RUNPATH into a build tree;
  - desktop-file-validate and appstreamcli validate accept the desktop files, and they agree
    with each other (the icon exists, the launchable names the .desktop file, Exec is a
    program the package installs);
  - unpacked into an empty directory (dpkg-deb -x, as dpkg would install it under /usr), the
    programs find their data beside themselves, not in the source tree: `mambogo drill list`
    lists the ten drills from <root>/usr/share/mambogo/drills, `mambogo-cluster up --help`
    defaults to <root>/usr/share/mambogo, and `mambogo-cluster up --profile embedded` runs
    every service from <root>/usr/bin and answers through its gateway.

Run: MAMBOGO_BUILD_DIR=build/dev python3 tests/integration/packaging/check_deb.py
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILD = os.path.abspath(os.environ.get("MAMBOGO_BUILD_DIR", os.path.join(ROOT, "build", "dev")))
IP_PREFIX = "127.251"  # tests/support/cluster_process.h picks 127.10–127.249
failures = []

PROGRAMS = ["mambogo", "mambogo-tui", "mambogo-load", "mambogo-cluster", "mambogo-token",
            "mambogo-gateway", "mambogo-product", "mambogo-cart", "mambogo-order", "mambogo-payment"]
SERVICES = ["mambogo-gateway", "mambogo-product", "mambogo-cart", "mambogo-order", "mambogo-payment"]
FILES = [
    "usr/share/applications/io.mambogo.Mambogo.desktop",
    "usr/share/metainfo/io.mambogo.Mambogo.metainfo.xml",
    "usr/share/icons/hicolor/scalable/apps/io.mambogo.Mambogo.svg",
    "usr/share/doc/mambogo/copyright",
    "usr/share/mambogo/images/images.yaml",
    "usr/share/mambogo/images/postgres.sh",
    "usr/share/mambogo/kubernetes/base/kustomization.yaml",
    "usr/share/mambogo/kubernetes/full/kustomization.yaml",
    "usr/share/mambogo/kubernetes/embedded/kustomization.yaml",
    "usr/share/mambogo/kubernetes/overlays/prod/kustomization.yaml",
    "usr/share/mambogo/scenarios/artillery-load-test.yml",
    "usr/share/mambogo/scenarios/order-load-test.jmx",
    "usr/share/mambogo/dashboards/mambogo-service-overview.json",
    "usr/share/mambogo/dashboards/prometheus/rules/mambogo-alerts.yml",
]
# Libraries the programs load; dpkg-shlibdeps must have turned each into a Depends.
DEPENDS = ["libqt6core6", "libqt6gui6", "libqt6widgets6", "libqt6charts6", "libqt6network6", "libqt6svg6",
           "libpqxx-6.4", "libhiredis0.14", "libyaml-cpp0.7", "libsqlite3-0", "libjwt0", "libncursesw6"]
RECOMMENDS = ["redis-server", "postgresql"]


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, flush=True)


def log(msg):
    print(msg, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def project_version():
    text = open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8").read()
    return re.search(r"project\(mambogo VERSION ([0-9.]+)", text).group(1)


def build_package(out):
    t0 = time.monotonic()
    r = run(["cpack", "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-B", out])
    debs = glob.glob(os.path.join(out, "*.deb"))
    if r.returncode != 0 or len(debs) != 1:
        fail(f"cpack failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
        return None
    log(f"cpack: {os.path.basename(debs[0])} ({os.path.getsize(debs[0]) / 1e6:.1f} MB) in {time.monotonic() - t0:.0f} s")
    return debs[0]


def relation_names(field):
    """'libc6 (>= 2.34), a | b' -> {'libc6', 'a', 'b'}"""
    names = set()
    for part in re.split(r"[,|]", field):
        part = part.strip()
        if part:
            names.add(part.split()[0].split(":")[0])
    return names


def check_control(deb):
    fields = {}
    for line in run(["dpkg-deb", "-f", deb]).stdout.splitlines():
        if line and not line.startswith(" ") and ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    want = {"Package": "mambogo", "Version": project_version() + "-1", "Architecture": arch}
    for key, value in want.items():
        if fields.get(key) != value:
            fail(f"control field {key} is {fields.get(key)!r}, expected {value!r}")
    if os.path.basename(deb) != f"mambogo_{project_version()}-1_{arch}.deb":
        fail(f"package file name {os.path.basename(deb)} is not Debian's name_version_arch.deb")
    depends, recommends = relation_names(fields.get("Depends", "")), relation_names(fields.get("Recommends", ""))
    log("Depends: " + fields.get("Depends", ""))
    log("Recommends: " + fields.get("Recommends", ""))
    for name in DEPENDS:
        if name not in depends:
            fail(f"Depends lacks {name}")
    for name in RECOMMENDS:
        if name not in recommends:
            fail(f"Recommends lacks {name}")
    # Every package named must be one apt can install on this Debian (else `apt install ./x.deb`
    # fails); apt-get's simulation also resolves virtual names such as libspdlog1.10-fmt9.
    names = sorted(depends | recommends | relation_names(fields.get("Suggests", "")))
    r = run(["apt-get", "install", "--simulate", "-qq"] + names)
    if r.returncode != 0:
        fail(f"apt cannot install what the package names ({' '.join(names)}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    if not fields.get("Description", "").strip():
        fail("no Description")


def check_contents(root):
    for program in PROGRAMS:
        path = os.path.join(root, "usr", "bin", program)
        if not os.access(path, os.X_OK):
            fail(f"/usr/bin/{program} is not in the package")
            continue
        symbols = run(["readelf", "-S", path]).stdout
        if ".symtab" in symbols or ".debug_info" in symbols:
            fail(f"/usr/bin/{program} is not stripped")
        dyn = run(["readelf", "-d", path]).stdout
        for m in re.finditer(r"\((?:RUNPATH|RPATH)\).*\[(.*)\]", dyn):
            fail(f"/usr/bin/{program} has a RUNPATH {m.group(1)}")
        missing = [l.strip() for l in run(["ldd", path]).stdout.splitlines() if "not found" in l]
        if missing:
            fail(f"/usr/bin/{program}: libraries not found: {missing}")
    for rel in FILES:
        if not os.path.isfile(os.path.join(root, rel)):
            fail(f"/{rel} is not in the package")
    drills = sorted(os.listdir(os.path.join(ROOT, "resources", "drills")))
    installed = sorted(os.listdir(os.path.join(root, "usr", "share", "mambogo", "drills")))
    if drills != installed:
        fail(f"installed drills {installed} differ from resources/drills {drills}")
    if not os.access(os.path.join(root, "usr/share/mambogo/images/postgres.sh"), os.X_OK):
        fail("postgres.sh is installed without its execute bit (the full profile runs it)")
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith((".pyc", ".orig", "~")) or f == "__pycache__":
                fail(f"stray file {os.path.join(dirpath, f)[len(root):]}")


def check_desktop(root):
    desktop = os.path.join(root, "usr/share/applications/io.mambogo.Mambogo.desktop")
    metainfo = os.path.join(root, "usr/share/metainfo/io.mambogo.Mambogo.metainfo.xml")
    r = run(["desktop-file-validate", desktop])
    if r.returncode != 0 or r.stdout.strip():
        fail(f"desktop-file-validate: {r.stdout}{r.stderr}")
    r = run(["appstreamcli", "validate", "--no-net", "--explain", metainfo])
    log("appstreamcli: " + (r.stdout.strip().splitlines() or ["(no output)"])[-1])
    if r.returncode != 0 or re.search(r"^[EW]:", r.stdout, re.M):
        fail(f"appstreamcli validate:\n{r.stdout}{r.stderr}")
    entry = dict(l.rstrip("\n").split("=", 1) for l in open(desktop, encoding="utf-8") if "=" in l and not l.startswith("#"))
    if not os.path.isfile(os.path.join(root, "usr/share/icons/hicolor/scalable/apps", entry.get("Icon", "") + ".svg")):
        fail(f"the desktop file's Icon={entry.get('Icon')} is not installed")
    program = entry.get("Exec", "").strip().split()[0] if entry.get("Exec") else ""
    if program not in PROGRAMS:
        fail(f"the desktop file's Exec={entry.get('Exec')} is not a program of the package")
    xml = open(metainfo, encoding="utf-8").read()
    m = re.search(r'<launchable type="desktop-id">([^<]+)</launchable>', xml)
    if not m or m.group(1) != os.path.basename(desktop):
        fail("the metainfo's launchable does not name the installed .desktop file")
    if f'version="{project_version()}"' not in xml:
        fail(f"the metainfo has no release for version {project_version()}")


def clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMBOGO_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def check_unpacked_programs(root, work):
    bindir = os.path.join(root, "usr", "bin")
    share = os.path.join(root, "usr", "share", "mambogo")
    r = run([os.path.join(bindir, "mambogo"), "drill", "list"], env=clean_env(), cwd="/", timeout=60)
    listed = [l for l in r.stdout.splitlines() if l.strip() and not l.startswith(" ")][:-1]
    log(f"mambogo drill list: {r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr}")
    if r.returncode != 0 or f"drills in {os.path.realpath(os.path.join(share, 'drills'))}" not in r.stdout:
        fail(f"the unpacked console does not read its drills from {share}/drills:\n{r.stdout}{r.stderr}")
    if len(listed) != 10 or any("INVALID" in l for l in listed):
        fail(f"the unpacked console lists {len(listed)} drills (expected 10):\n{r.stdout}")

    r = run([os.path.join(bindir, "mambogo-cluster"), "up", "--help"], env=clean_env(), cwd="/", timeout=30)
    for what in (os.path.join(share, "kubernetes"), os.path.join(share, "images", "images.yaml"), bindir):
        if os.path.realpath(what) not in r.stdout:
            fail(f"mambogo-cluster up --help does not default to {what}:\n{r.stdout}")

    state = os.path.join(work, "state")
    logf = open(os.path.join(work, "up.log"), "w+")
    cmd = [os.path.join(bindir, "mambogo-cluster"), "up", "--profile", "embedded", "--foreground",
           "--state-dir", state, "--api-port", "0", "--ip-prefix", IP_PREFIX, "--timeout", "90"]
    log("$ " + " ".join(cmd))
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=clean_env(), cwd="/")
    try:
        t0 = time.monotonic()
        text = ""
        while time.monotonic() - t0 < 120:
            logf.seek(0)
            text = logf.read()
            if re.search(r"^READY ", text, re.M) or re.search(r"^FAILED ", text, re.M) or proc.poll() is not None:
                break
            time.sleep(0.3)
        if not re.search(r"^READY ", text, re.M):
            fail(f"the unpacked mambogo-cluster did not come up; log tail:\n{text[-3000:]}")
            return
        log(f"unpacked cluster Ready in {time.monotonic() - t0:.1f} s")
        running = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
            except OSError:
                continue
            name = os.path.basename(exe)
            if name in SERVICES and f"{IP_PREFIX}." in open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace"):
                running.setdefault(name, []).append(exe)
        for service in SERVICES:
            exes = running.get(service, [])
            if not exes:
                fail(f"no {service} process of the unpacked cluster is running")
            elif any(os.path.dirname(e) != os.path.realpath(bindir) for e in exes):
                fail(f"{service} runs from {exes}, not from the package's {bindir}")
        token = open(os.path.join(state, "auth", "user.jwt")).read().strip()
        req = urllib.request.Request(f"http://{IP_PREFIX}.0.1:8080/api/products?size=3",
                                     headers={"Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                body = resp.read().decode()
                if resp.status != 200 or '"content"' not in body:
                    fail(f"GET /api/products through the unpacked cluster's gateway: {resp.status} {body[:200]}")
                else:
                    log("GET /api/products through the unpacked cluster's gateway: 200")
        except OSError as e:
            fail(f"GET /api/products through the unpacked cluster's gateway: {e}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            fail("the unpacked mambogo-cluster did not stop within 60 s of SIGTERM")


def main():
    for tool in ("cpack", "dpkg-deb", "dpkg-shlibdeps", "desktop-file-validate", "appstreamcli", "readelf"):
        if not shutil.which(tool):
            fail(f"{tool} is not installed (packaging/dev/setup.sh installs it)")
    if failures:
        return 1
    with tempfile.TemporaryDirectory(prefix="mambogo-deb-") as work:
        deb = build_package(os.path.join(work, "out"))
        if deb:
            check_control(deb)
            root = os.path.join(work, "root")
            subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
            check_contents(root)
            check_desktop(root)
            check_unpacked_programs(root, work)
    if failures:
        print(f"\n{len(failures)} problem(s) with the Debian package")
        return 1
    print("\nthe Debian package is complete and its programs run from where it installs them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
