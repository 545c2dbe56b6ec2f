#!/usr/bin/python3
"""tools/pyproject.toml builds a wheel of the package tools/bitfalcon/ (ctest tools.package).

Builds it offline (`pip wheel --no-deps --no-build-isolation --no-index`, in a temporary copy so
that tools/ gains no build/ or egg-info), then checks that the wheel holds every module of
tools/bitfalcon/, that its version is the library's (BITFALCON_VERSION_* in include/bitfalcon.h),
and that the numpy-only modules import from the wheel alone. Exit 77 without pip or setuptools.
"""
from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

from _setup import REPO, SKIP, TOOLS


def header_version() -> str:
    with open(os.path.join(REPO, "include", "bitfalcon.h")) as f:
        v = dict(re.findall(r"^#define BITFALCON_VERSION_(MAJOR|MINOR|PATCH) (\d+)$", f.read(), re.M))
    return f"{v['MAJOR']}.{v['MINOR']}.{v['PATCH']}"


def main() -> int:
    for m in ("pip", "setuptools"):
        if importlib.util.find_spec(m) is None:
            print(f"SKIP: {m} not available")
            return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        for f in ("pyproject.toml", "README.md"):
            shutil.copy(os.path.join(TOOLS, f), src)
        shutil.copytree(os.path.join(TOOLS, "bitfalcon"), os.path.join(src, "bitfalcon"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        out = os.path.join(tmp, "wheel")
        p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "-q", src, "-w", out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert p.returncode == 0, p.stdout
        wheels = glob.glob(os.path.join(out, "*.whl"))
        assert len(wheels) == 1, wheels
        want_version = header_version()
        assert os.path.basename(wheels[0]).startswith(f"bitfalcon_tools-{want_version}-"), (wheels, want_version)
        names = set(zipfile.ZipFile(wheels[0]).namelist())
        modules = sorted(f"bitfalcon/{f}" for f in os.listdir(os.path.join(TOOLS, "bitfalcon")) if f.endswith(".py"))
        missing = [m for m in modules if m not in names]
        assert not missing, f"not in the wheel: {missing}"
        code = ("import sys; sys.path[:0] = [sys.argv[1]]; "
                "import bitfalcon.format, bitfalcon.images, bitfalcon.fnv, bitfalcon.clihelp; "
                "assert bitfalcon.format.__file__.startswith(sys.argv[1]), bitfalcon.format.__file__; "
                "assert bitfalcon.fnv.fnv1a64(b'a') == 0xaf63dc4c8601ec8c")
        p = subprocess.run([sys.executable, "-c", code, wheels[0]], cwd=tmp, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        assert p.returncode == 0, p.stdout
        print(f"{os.path.basename(wheels[0])}: {len(modules)} modules, version {want_version}, imports OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
