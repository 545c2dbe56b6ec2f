#!/usr/bin/python3
"""Every option of every tool has help text (ctest tools.cli_help; stdlib only).

The tools are the scripts under tools/ and tools/tests/ that build an argparse parser. For each:
- its source: every add_argument(...) call passes a non-empty help= (read with ast);
- its `--help`, run as a program: exit status 0, and every argument listed has help text,
  as many arguments as the source adds (plus -h).
A tool whose --help cannot run here because a module it imports at start-up is missing
(numpy, torch, ...) has its source checked only; that is reported.

    /usr/bin/python3 tools/tests/test_cli_help.py [-v]     # -v: the count per tool
"""
from __future__ import annotations

import os
import subprocess
import sys
from typing import List, Tuple

from _setup import TOOLS

from bitfalcon.clihelp import rendered_options, source_options


def tools() -> List[str]:
    """The CLI scripts: tools/*.py and tools/tests/*.py that construct an ArgumentParser."""
    out = []
    for d in (TOOLS, os.path.join(TOOLS, "tests")):
        for f in sorted(os.listdir(d)):
            p = os.path.join(d, f)
            if f.endswith(".py") and os.path.isfile(p) and p != os.path.abspath(__file__):
                with open(p, encoding="utf-8") as fh:
                    if "ArgumentParser(" in fh.read():
                        out.append(p)
    return out


def run_help(path: str) -> Tuple[int, str, str]:
    env = dict(os.environ, COLUMNS="120")        # argparse wraps at $COLUMNS
    p = subprocess.run([sys.executable, path, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=env, timeout=300)
    return p.returncode, p.stdout, p.stderr


def self_test() -> None:
    """rendered_options on a parser made here: options with and without help, long invocations,
    a help wrapped over lines, a positional, a mutually exclusive group, an epilog."""
    import argparse
    ap = argparse.ArgumentParser(description="line one:\n  -x not an option", epilog="Epilog: text",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", help="inputs")
    ap.add_argument("--bare", type=int)
    ap.add_argument("--a-rather-long-option-name", metavar="VALUE", help="wrapped " * 30)
    ap.add_argument("--long-without-help-text", metavar="VALUE")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("-q", "--quiet", action="store_true", help="")
    g.add_argument("--loud", action="store_true", help="louder")
    shown = rendered_options(ap.format_help())
    got = [(o.name.split(",")[0].split()[0], bool(o.help)) for o in shown]
    want = [("files", True), ("-h", True), ("--bare", False), ("--a-rather-long-option-name", True),
            ("--long-without-help-text", False), ("-q", False), ("--loud", True)]
    assert got == want, got
    assert shown[3].help == ("wrapped " * 30).strip(), shown[3].help


def main() -> int:
    verbose = "-v" in sys.argv[1:]
    self_test()
    problems: List[str] = []
    total = documented = 0
    skipped = []
    scripts = tools()
    assert len(scripts) >= 10, scripts
    for path in scripts:
        rel = os.path.relpath(path, os.path.dirname(TOOLS))
        src = source_options(path)
        total += len(src) + 1                       # + argparse's -h
        documented += sum(1 for o in src if o.help) + 1
        for o in src:
            if not o.help:
                problems.append(f"{o.where}: {o.name}: add_argument without help=")
        rc, out, err = run_help(path)
        if rc != 0 and ("ModuleNotFoundError" in err or "SKIP:" in out):
            skipped.append(f"{rel} ({(err.strip().splitlines() or out.strip().splitlines() or ['?'])[-1]})")
            continue
        if rc != 0:
            problems.append(f"{rel} --help: exit status {rc}: {err.strip()[-300:]}")
            continue
        shown = rendered_options(out)
        if len(shown) != len(src) + 1:
            problems.append(f"{rel} --help lists {len(shown)} arguments, the source adds {len(src)} (+ -h): "
                            f"{[o.name for o in shown]}")
        for o in shown:
            if not o.help:
                problems.append(f"{rel} --help: {o.name}: no help text")
        if verbose:
            print(f"{rel}: {sum(1 for o in src if o.help) + 1} of {len(src) + 1} options with help "
                  f"(--help lists {len(shown)}, {sum(1 for o in shown if o.help)} with text)")
    for s in skipped:
        print(f"note: --help not run (a module is missing), source checked only: {s}")
    print(f"{documented} of {total} options of {len(scripts)} tools have help text")
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
