#!/usr/bin/env python3
"""What can be checked of packaging/docker/ without a container engine.

For each service image the manifests use (mambogo/<name>:0.1.0) there is
packaging/docker/<name>.Dockerfile, and:
  - every base image is debian:12 (build) or debian:12-slim (runtime), the final stage slim;
  - the build stage installs the project's build dependencies (packaging/dev/setup.sh's -dev
    packages and build tools), configures with Ninja and builds the service targets;
  - every file copied out of the build stage is a binary the CMake build makes: an
    add_executable of cluster/*/CMakeLists.txt, named in the stage's --target list, and present
    at the same place under $MAMBOGO_BUILD_DIR (e.g. build/dev/cluster/order/mambogo-order);
  - every shared library that binary loads (ldd on the built binary) comes from a Debian
    package the runtime stage installs (dpkg -S), directly or through its dependencies;
  - the final stage runs as a numeric non-root USER, EXPOSEs 8080, has a HEALTHCHECK, and
    that health check command succeeds against the real binary on a loopback port (and fails
    while nothing listens);
  - the .dockerignore files leave build trees and .git out, and are all the same.

Run: MAMBOGO_BUILD_DIR=build/dev python3 tests/integration/packaging/check_dockerfiles.py
"""
import glob
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DOCKER = os.path.join(ROOT, "packaging", "docker")
BUILD = os.environ.get("MAMBOGO_BUILD_DIR", os.path.join(ROOT, "build", "dev"))
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def instructions(path):
    """(instruction, arguments) pairs: continuations joined, comments and parser directives dropped."""
    out, current = [], ""
    for line in open(path, encoding="utf-8"):
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    if current:
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


KNOWN = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
         "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


def stages(instrs):
    result = []
    for ins, args in instrs:
        if ins not in KNOWN:
            fail(f"not a Dockerfile instruction: {ins} {args[:60]} (a missing line continuation?)")
        if ins == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            result.append({"image": words[0], "name": name, "instrs": []})
        elif result:
            result[-1]["instrs"].append((ins, args))
        else:
            fail(f"instruction {ins} before the first FROM")
    return result


def apt_packages(stage):
    pkgs = []
    for ins, args in stage["instrs"]:
        if ins != "RUN":
            continue
        for cmd in re.split(r"&&|;|\|\|", args):
            words = shlex.split(cmd)
            if "apt-get" in words and "install" in words:
                pkgs += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return pkgs


def setup_packages():
    text = open(os.path.join(ROOT, "packaging", "dev", "setup.sh"), encoding="utf-8").read()
    m = re.search(r"packages=\((.*?)\)", text, re.S)
    return m.group(1).split() if m else []


def is_build_dep(pkg):
    return (pkg.endswith("-dev") or pkg in ("build-essential", "cmake", "ninja-build", "pkg-config")
            or re.fullmatch(r"qt6-[a-z0-9-]*tools|qt6-l10n-tools", pkg) is not None)


def executables():
    """{(dir relative to ROOT, target name)} of every add_executable under cluster/."""
    found = set()
    for cm in glob.glob(os.path.join(ROOT, "cluster", "**", "CMakeLists.txt"), recursive=True):
        for m in re.finditer(r"add_executable\(\s*([A-Za-z0-9_.+-]+)", open(cm, encoding="utf-8").read()):
            found.add((os.path.relpath(os.path.dirname(cm), ROOT), m.group(1)))
    return found


# ---- shared libraries → Debian packages ------------------------------------------------------
_owner_cache = {}


def owner(path):
    if path in _owner_cache:
        return _owner_cache[path]
    candidates = [path, os.path.realpath(path)]
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib"):
            candidates.append("/usr" + p)
    pkg = None
    for c in candidates:
        r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
        if r.returncode == 0:
            pkg = r.stdout.split(":")[0].split(",")[0].strip()
            break
    _owner_cache[path] = pkg
    return pkg


def ldd(binary):
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    libs = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if "not found" in line:
            fail(f"{binary}: {line}")
        m = re.match(r"(\S+) => (/\S+)", line) or re.match(r"(/\S+) \(", line)
        if m:
            libs.append(m.group(m.lastindex))
    return libs


_depends_cache = {}


def depends(pkg):
    if pkg not in _depends_cache:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", pkg], capture_output=True, text=True)
        deps = set()
        if r.returncode == 0:
            for alt in r.stdout.split(","):
                for choice in alt.split("|"):
                    name = choice.strip().split(" ")[0].split(":")[0]
                    if name:
                        deps.add(name)
        _depends_cache[pkg] = deps
    return _depends_cache[pkg]


def closure(pkgs):
    seen, todo = set(), list(pkgs)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo += depends(p)
    return seen


def essential():
    r = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Essential}\n"], capture_output=True, text=True)
    return {l.split()[0] for l in r.stdout.splitlines() if l.endswith(" yes")}


def package_known(pkg):
    for cmd in (["dpkg-query", "-W", pkg], ["apt-cache", "show", pkg]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            return True
    return False


# ---- the health check, against the real binary ---------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthcheck_command(args):
    words = args.split(None, 1)
    opts = []
    while words and words[0].startswith("--"):
        opts.append(words[0])
        words = words[1].split(None, 1) if len(words) > 1 else []
    if not words or words[0].upper() != "CMD" or len(words) < 2:
        return None
    rest = words[1].strip()
    if rest.startswith("["):
        return json.loads(rest)
    return ["/bin/sh", "-c", rest]


def try_healthcheck(name, cmd, binary, env_defaults):
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env.update(env_defaults)
        env.update({"SERVER_ADDRESS": "127.0.0.1", "SERVER_PORT": str(port), "DATA_DIR": tmp,
                    "AUTH_HS256_SECRET": "packaging-test-secret-0123456789abcdef", "ACCESS_LOG": "false",
                    "LOG_LEVEL": "warn"})
        for k in [k for k in env if k.startswith(("DB_", "REDIS_"))]:
            del env[k]
        check_env = dict(env)
        # Nothing listens yet: the check must fail.
        r = subprocess.run(cmd, env=check_env, capture_output=True, timeout=10)
        if r.returncode == 0:
            fail(f"{name}: HEALTHCHECK succeeds with nothing listening on {port}")
        proc = subprocess.Popen([binary], env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            ok, deadline = False, time.time() + 20
            while time.time() < deadline and proc.poll() is None:
                if subprocess.run(cmd, env=check_env, capture_output=True, timeout=10).returncode == 0:
                    ok = True
                    break
                time.sleep(0.2)
            if not ok:
                err = proc.stderr.read().decode()[-500:] if proc.poll() is not None else ""
                fail(f"{name}: HEALTHCHECK {cmd} never succeeded against {binary} on 127.0.0.1:{port} {err}")
            else:
                print(f"{name}: HEALTHCHECK passes against the running {os.path.basename(binary)}")
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ---- one Dockerfile ----------------------------------------------------------------------------
def check_dockerfile(name, path, build_deps, executables_made, provided_base):
    text = open(path, encoding="utf-8").read()
    if f"mambogo/{name}:0.1.0" not in text:
        fail(f"{name}: the Dockerfile never names its image mambogo/{name}:0.1.0")
    st = stages(instructions(path))
    if len(st) < 2:
        fail(f"{name}: not multi-stage ({len(st)} stage)")
        return
    names = set()
    for s in st:
        if s["image"] not in ("debian:12", "debian:12-slim") and s["image"] not in names:
            fail(f"{name}: base image {s['image']} (only debian:12 and debian:12-slim)")
        if s["name"]:
            names.add(s["name"])
    final = st[-1]
    if final["image"] != "debian:12-slim":
        fail(f"{name}: final stage on {final['image']}, expected debian:12-slim")
    stage_by_name = {s["name"]: s for s in st if s["name"]}
    # Build stages: dependencies and commands.
    for s in st[:-1]:
        if s["image"] != "debian:12":
            fail(f"{name}: build stage on {s['image']}, expected debian:12")
        installed = set(apt_packages(s))
        missing = [p for p in build_deps if p not in installed]
        if missing:
            fail(f"{name}: build stage {s['name']} lacks build dependencies of setup.sh: {missing}")
    # Final stage directives.
    final_instrs = final["instrs"]
    users = [a for i, a in final_instrs if i == "USER"]
    if not users:
        fail(f"{name}: final stage has no USER")
    else:
        user = users[-1].split(":")[0]
        if not user.isdigit() or int(user) == 0:
            fail(f"{name}: final USER {users[-1]!r} is not a numeric non-root UID")
    exposed = " ".join(a for i, a in final_instrs if i == "EXPOSE").split()
    if not any(p.split("/")[0] == "8080" for p in exposed):
        fail(f"{name}: final stage does not EXPOSE 8080 ({exposed})")
    envs = " ".join(a for i, a in final_instrs if i == "ENV")
    if not re.search(r"\bSERVER_PORT=8080\b", envs):
        fail(f"{name}: final stage does not set SERVER_PORT=8080 (the binaries' own defaults differ)")
    hcs = [a for i, a in final_instrs if i == "HEALTHCHECK"]
    hc_cmd = healthcheck_command(hcs[-1]) if hcs else None
    if not hc_cmd:
        fail(f"{name}: final stage has no HEALTHCHECK CMD")
    # Copies out of a build stage.
    copies = []
    for ins, args in final_instrs:
        if ins == "COPY" and "--from=" in args:
            words = args.split()
            src_stage = [w.split("=", 1)[1] for w in words if w.startswith("--from=")][0]
            paths = [w for w in words if not w.startswith("--")]
            for src in paths[:-1]:
                copies.append((src_stage, src, paths[-1]))
    if not copies:
        fail(f"{name}: the final stage copies nothing from a build stage")
    runtime_pkgs = apt_packages(final)
    for p in runtime_pkgs:
        if not package_known(p):
            fail(f"{name}: runtime package {p} is unknown to dpkg and apt on this Debian")
    provided = closure(runtime_pkgs) | provided_base
    for src_stage, src, dest in copies:
        stage = stage_by_name.get(src_stage)
        if stage is None:
            fail(f"{name}: COPY --from={src_stage}: no such stage")
            continue
        runs = " ".join(a for i, a in stage["instrs"] if i == "RUN")
        m = re.search(r"cmake\s+(?:\S+\s+)*?-B\s*(\S+)", runs)
        if not m or "-G Ninja" not in runs:
            fail(f"{name}: build stage {src_stage} does not configure with cmake -B <dir> -G Ninja")
            continue
        build_dir = m.group(1).rstrip("/")
        if not src.startswith(build_dir + "/"):
            fail(f"{name}: COPY {src} is not under the build directory {build_dir}")
            continue
        rel = src[len(build_dir) + 1:]
        target = os.path.basename(rel)
        if (os.path.dirname(rel), target) not in executables_made:
            fail(f"{name}: {rel} is no add_executable of {os.path.dirname(rel)}/CMakeLists.txt")
        built = re.search(r"cmake\s+--build\s+" + re.escape(build_dir) + r"\s+--target\s+([^&;]+)", runs)
        if not built or target not in built.group(1).split():
            fail(f"{name}: {target} is not among the targets the build stage builds")
        local = os.path.join(BUILD, rel)
        if not (os.path.isfile(local) and os.access(local, os.X_OK)):
            fail(f"{name}: {local} does not exist: not a binary the build makes")
            continue
        print(f"{name}: copies {rel} (built: {local})")
        for lib in ldd(local):
            pkg = owner(lib)
            if pkg is None:
                fail(f"{name}: {target} needs {lib}, which no Debian package owns")
            elif pkg not in provided:
                fail(f"{name}: {target} needs {lib} from {pkg}, which the runtime stage does not install")
        entry = " ".join(a for i, a in final_instrs if i in ("ENTRYPOINT", "CMD"))
        if dest.rstrip("/") not in entry and os.path.basename(dest) not in entry:
            fail(f"{name}: ENTRYPOINT/CMD does not run the copied {dest}")
        if hc_cmd:
            env_defaults = {}
            for ins, args in final_instrs:
                if ins == "ENV":
                    for w in shlex.split(args):
                        if "=" in w:
                            k, v = w.split("=", 1)
                            env_defaults[k] = v
            try_healthcheck(name, hc_cmd, local, env_defaults)


def main():
    if not os.path.isdir(BUILD):
        fail(f"MAMBOGO_BUILD_DIR {BUILD} is not a directory")
        return 1
    base_dir = os.path.join(ROOT, "packaging", "kubernetes", "base")
    images = {}
    for f in sorted(glob.glob(os.path.join(base_dir, "*.yaml"))):
        for d in yaml.safe_load_all(open(f, encoding="utf-8")):
            if d and d.get("kind") == "Deployment":
                for c in d["spec"]["template"]["spec"]["containers"]:
                    m = re.fullmatch(r"mambogo/([a-z0-9-]+):(\S+)", c["image"])
                    if m:
                        images[m.group(1)] = m.group(2)
    if len(images) != 5:
        fail(f"expected 5 service images in the manifests, found {sorted(images)}")
    dockerfiles = {os.path.basename(p)[:-len(".Dockerfile")]: p
                   for p in glob.glob(os.path.join(DOCKER, "*.Dockerfile"))}
    if sorted(dockerfiles) != sorted(images):
        fail(f"Dockerfiles for {sorted(dockerfiles)}, manifests use {sorted(images)}")
    build_deps = [p for p in setup_packages() if is_build_dep(p)]
    if len(build_deps) < 10:
        fail(f"could not read the build dependencies from packaging/dev/setup.sh ({build_deps})")
    made = executables()
    provided_base = closure(essential())
    for name in sorted(images):
        if name in dockerfiles:
            check_dockerfile(name, dockerfiles[name], build_deps, made, provided_base)
    # Ignore files.
    master = os.path.join(DOCKER, ".dockerignore")
    if not os.path.isfile(master):
        fail("packaging/docker/.dockerignore is missing")
    else:
        rules = [l.strip() for l in open(master, encoding="utf-8") if l.strip() and not l.startswith("#")]
        for needed in (".git", "build"):
            if needed not in rules:
                fail(f".dockerignore does not leave out {needed}")
        for name, path in dockerfiles.items():
            own = path + ".dockerignore"
            if not os.path.isfile(own) or open(own, encoding="utf-8").read() != open(master, encoding="utf-8").read():
                fail(f"{os.path.relpath(own, ROOT)} is missing or differs from packaging/docker/.dockerignore")
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
