#!/usr/bin/python3
"""Checks that a Qt Linguist catalogue is complete for the sources it is built from.

Runs lupdate over a temporary COPY of the .ts (the real file is never written) with the
sources and include paths it is given, then fails, listing each message with its context and
file:line, when:
  * a source string is new (not in the catalogue), unfinished or has an empty translation;
  * a translation's placeholders (%1..%99, %L1, %n) differ from its source's;
  * the catalogue holds obsolete/vanished entries (strings no longer in the sources).

Usage (CMake passes the same list as qt_add_translations in app/gui/CMakeLists.txt):
  check_translations.py --lupdate /usr/lib/qt6/bin/lupdate --ts translations/mambogo_de.ts \
      [--root DIR] [-I DIR]... [--qt-project FILE] SOURCE...

--qt-project names the file qt_add_translations generates for its own lupdate target
(<build>/app/gui/.lupdate/mambogo_gui_project.cmake); when it exists, the sources given here
must be exactly its sources, so this test's list cannot drift from the build's.
Standard library only.
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

NAME = "tst_translations_complete"
PLACEHOLDER = re.compile(r"%L?([1-9][0-9]?|n)")


def placeholders(text):
    return sorted({"%" + m.group(1) for m in PLACEHOLDER.finditer(text or "")})


def show(text):
    return '"' + (text or "").replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"') + '"'


def read_messages(path):
    """Yields (key, message element, context name) for each message of a .ts file."""
    root = ET.parse(path).getroot()
    if root.tag != "TS":
        raise ValueError(f"{path} is not a Qt Linguist .ts file (root <{root.tag}>)")
    for context in root.iter("context"):
        name = context.findtext("name") or ""
        for message in context.findall("message"):
            key = (name, message.findtext("source") or "", message.findtext("comment") or "")
            yield key, message, name


def translation_forms(message):
    translation = message.find("translation")
    if translation is None:
        return []
    forms = translation.findall("numerusform")
    if message.get("numerus") == "yes" or forms:
        return ["".join(f.itertext()) for f in forms]
    return ["".join(translation.itertext())]


def qt_project_sources(path):
    """The sources of qt_add_translations' generated lupdate project, or None if unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    match = re.search(r'set\(lupdate_sources "([^"]*)"\)', text)
    if not match:
        return None
    return {os.path.realpath(p) for p in match.group(1).split(";") if p}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lupdate", required=True, help="path of Qt 6's lupdate")
    parser.add_argument("--ts", required=True, help="the catalogue to check (only read)")
    parser.add_argument("--root", default=os.getcwd(), help="project root, for file:line in messages")
    parser.add_argument("-I", dest="includes", action="append", default=[], help="include path for lupdate")
    parser.add_argument("--qt-project", help="qt_add_translations' generated <target>_project.cmake")
    parser.add_argument("sources", nargs="+", help="the sources qt_add_translations passes to lupdate")
    args = parser.parse_args()

    root = os.path.realpath(args.root)
    ts = os.path.realpath(args.ts)
    args.sources = [os.path.abspath(s) for s in args.sources]  # lupdate runs in the temp dir
    args.includes = [os.path.abspath(i) for i in args.includes]

    def rel(path):
        path = os.path.realpath(path)
        return os.path.relpath(path, root) if path.startswith(root + os.sep) else path

    def fail(text):
        print(f"FAIL {NAME}: {text}")
        return 1

    if not os.path.isfile(args.lupdate) or not os.access(args.lupdate, os.X_OK):
        return fail(f"lupdate not found or not executable: {args.lupdate}")
    if not os.path.isfile(ts):
        return fail(f"catalogue not found: {args.ts}")
    missing = [s for s in args.sources if not os.path.isfile(s)]
    if missing:
        return fail("sources not found (re-run CMake?): " + ", ".join(missing))

    if args.qt_project:
        build_sources = qt_project_sources(args.qt_project)
        if build_sources is None:
            print(f"note: {args.qt_project} missing or unreadable; source list not cross-checked")
        else:
            given = {os.path.realpath(s) for s in args.sources}
            if given != build_sources:
                lines = [f"  only in qt_add_translations: {rel(p)}" for p in sorted(build_sources - given)]
                lines += [f"  only in this test: {rel(p)}" for p in sorted(given - build_sources)]
                return fail("the test's source list differs from qt_add_translations' in app/gui/CMakeLists.txt "
                            "(update tests/unit/translations/CMakeLists.txt):\n" + "\n".join(lines))

    with open(ts, "rb") as f:
        before = hashlib.sha256(f.read()).hexdigest()
    try:
        original = {key: message for key, message, _ in read_messages(ts)}
    except (ET.ParseError, ValueError) as error:
        return fail(f"{args.ts} does not parse: {error}")

    problems = []  # (kind, where, context, text)
    with tempfile.TemporaryDirectory(prefix="tst_translations_") as tmp:
        copy = os.path.join(tmp, os.path.basename(ts))
        shutil.copyfile(ts, copy)
        # Absolute line numbers, so each message says where it is; no -no-obsolete, so dead
        # entries stay in the copy marked vanished/obsolete and can be reported.
        command = [args.lupdate, "-locations", "absolute"]
        for include in args.includes:
            command += ["-I", include]
        command += list(args.sources) + ["-ts", copy]
        run = subprocess.run(command, capture_output=True, text=True, cwd=tmp)
        if run.returncode != 0:
            return fail(f"lupdate failed (exit {run.returncode}):\n{run.stdout}{run.stderr}")
        warnings = [l for l in (run.stdout + run.stderr).splitlines()
                    if l.strip() and not l.startswith(("Updating", "    Found", "    Kept", "    Same-text",
                                                       "    Similar-text", "    Removed"))]
        try:
            updated = list(read_messages(copy))
        except (ET.ParseError, ValueError) as error:
            return fail(f"lupdate's output does not parse: {error}")

        def where(message):
            spots = [f"{rel(os.path.join(tmp, loc.get('filename', '')))}:{loc.get('line', '?')}"
                     for loc in message.findall("location")]
            return ", ".join(spots) if spots else "(no location)"

        seen = set()
        for key, message, context in updated:
            seen.add(key)
            source = key[1] + (f"  (disambiguation {show(key[2])})" if key[2] else "")
            translation = message.find("translation")
            kind = translation.get("type") if translation is not None else None
            forms = translation_forms(message)
            if kind in ("vanished", "obsolete"):
                problems.append(("obsolete", where(message), context,
                                 f"{show(key[1])} is no longer in the sources ({kind})"))
            elif kind == "unfinished":
                status = "unfinished" if key in original else "new"
                suggestion = [f for f in forms if f]
                hint = f"  [draft {show(suggestion[0])}]" if suggestion else ""
                problems.append((status, where(message), context, show(key[1]) + hint))
            elif not forms or any(not f for f in forms):
                problems.append(("untranslated", where(message), context, f"{show(source)} has an empty translation"))
            else:
                expected = placeholders(key[1])
                for form in forms:
                    got = placeholders(form)
                    if got != expected:
                        problems.append(("placeholders", where(message), context,
                                         f"{show(key[1])} → {show(form)}: source has {' '.join(expected) or 'none'}, "
                                         f"translation has {' '.join(got) or 'none'}"))
        # Entries lupdate dropped outright (unfinished ones whose source is gone) are dead too.
        for key in original:
            if key not in seen:
                problems.append(("obsolete", "(no location)", key[0], f"{show(key[1])} is no longer in the sources"))

    with open(ts, "rb") as f:
        if hashlib.sha256(f.read()).hexdigest() != before:
            return fail(f"{args.ts} changed while the check ran (it must only be read)")

    for warning in warnings:
        print(f"lupdate: {warning}")
    total = len(updated)
    if not problems:
        print(f"PASS {NAME}: {rel(ts)}: {total} messages, all translated, placeholders match, "
              f"no obsolete entries ({len(args.sources)} sources)")
        return 0

    print(f"FAIL {NAME}: {rel(ts)} is not complete: {len(problems)} problem(s) in {total} messages")
    width = max(len(p[0]) for p in problems)
    for kind, spot, context, text in problems:
        print(f"  {kind:<{width}}  {spot}  [{context}] {text}")
    sources = " ".join(rel(s) for s in args.sources)
    includes = " ".join(f"-I {rel(i)}" for i in args.includes)
    print("To fix: update the catalogue (it keeps no locations) and translate every message listed:\n"
          f"  cd {root} && {args.lupdate} -locations none -no-obsolete {includes} {sources} -ts {rel(ts)}\n"
          "then check with: lrelease <ts> -qm /tmp/x.qm (must report 0 unfinished)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
