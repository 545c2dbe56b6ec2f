#!/usr/bin/python3
"""The Python tools are pyflakes and flake8 clean, and no test imports a CLI script
(ctest tools.lint).

Runs `python3 -m pyflakes` and `python3 -m flake8 --config tools/.flake8` (Debian 12:
`apt-get install python3-pyflakes flake8`) over every .py file under tools/ except tools/.cache,
and reads (ast) every tools/tests/*.py: what a test imports comes from the package
tools/bitfalcon/ (or the standard library, numpy, torch, ... and the tests' own helpers), never
from a tool script tools/*.py. Exit 0 clean, 1 with findings (printed), 77 when neither checker
is installed (the import rule is checked all the same).
"""
from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from typing import List

from _setup import SKIP, TOOLS


def python_files() -> List[str]:
    out = []
    for root, dirs, files in os.walk(TOOLS):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        out += [os.path.join(root, f) for f in sorted(files) if f.endswith(".py")]
    return out


def script_imports() -> List[str]:
    """`FILE:LINE: imports SCRIPT` for each import of a tools/*.py script by a tools/tests/*.py file."""
    scripts = {f[:-3] for f in os.listdir(TOOLS) if f.endswith(".py") and f != "_common.py"}
    tests = os.path.join(TOOLS, "tests")
    out = []
    for f in sorted(os.listdir(tests)):
        if not f.endswith(".py"):
            continue
        path = os.path.join(tests, f)
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), filename=path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods = [node.module]
            else:
                continue
            for m in mods:
                if m.split(".")[0] in scripts:
                    out.append(f"tests/{f}:{node.lineno}: imports the tool script {m}.py "
                               "(move what it needs into tools/bitfalcon/)")
    return out


def main() -> int:
    files = python_files()
    bad_imports = script_imports()
    print(f"imports of tool scripts by tools/tests: {len(bad_imports)}")
    for ln in bad_imports:
        print("  " + ln)
    checks = [("pyflakes", [sys.executable, "-m", "pyflakes"]),
              ("flake8", [sys.executable, "-m", "flake8", "--config", os.path.join(TOOLS, ".flake8")])]
    ran, failed = 0, 0
    for name, cmd in checks:
        if importlib.util.find_spec(name) is None:
            print(f"note: {name} is not installed; not run")
            continue
        ran += 1
        p = subprocess.run(cmd + files, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        findings = [ln for ln in p.stdout.splitlines() if ln.strip()]
        print(f"{name}: {len(files)} files, {len(findings)} findings (exit status {p.returncode})")
        for ln in findings:
            print("  " + os.path.relpath(ln, TOOLS) if ln.startswith(TOOLS) else "  " + ln)
        failed += p.returncode != 0
    if bad_imports:
        return 1
    if not ran:
        print("SKIP: neither pyflakes nor flake8 is installed")
        return SKIP
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
