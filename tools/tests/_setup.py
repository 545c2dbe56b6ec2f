"""Test helper: puts tools/ on sys.path; `need(...)` exits 77 (ctest SKIP) when a module is missing."""
from __future__ import annotations

import importlib
import os
import sys

SKIP = 77
TESTS = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(TESTS)
REPO = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)


def need(*modules: str) -> None:
    for m in modules:
        try:
            importlib.import_module(m)
        except ImportError as e:
            print(f"SKIP: {m} not available ({e})")
            sys.exit(SKIP)
