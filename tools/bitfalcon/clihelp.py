"""Checks that every command-line option of the tools is documented (stdlib only).

Two views of the same rule, used by tools/tests/test_cli_help.py:

- `rendered_options(text)`: the arguments an argparse `--help` output lists, each with the
  help text printed for it (empty when it has none);
- `source_options(path)`: every `add_argument(...)` call in a Python file, read with `ast`
  (the file is parsed, never imported or run), each with whether it passes a non-empty `help=`.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import List, Optional

# argparse's own section titles (Python < 3.10 printed "optional arguments:")
SECTIONS = ("positional arguments:", "options:", "optional arguments:")
_ITEM = re.compile(r"^  (\S(?:\S| (?! ))*)(?: {2,}(\S.*))?$")   # invocation, then 2+ spaces and help


@dataclass
class Option:
    name: str          # the invocation as printed ("-o OUTPUT, --output OUTPUT") or the call's first name
    help: str          # the help text ("" when there is none)
    where: str = ""    # FILE:LINE for source_options


def rendered_options(text: str) -> List[Option]:
    """The arguments listed in an argparse help output, in order, with their help text.

    Parsing starts at the first of argparse's section titles; a section lists items indented by
    two spaces, each item's help follows on the same line (after two or more spaces) or on more
    deeply indented lines. Group titles (unindented lines ending in ':') start a new section;
    any other unindented line (the epilog) ends the listing.
    """
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip() in SECTIONS and not ln.startswith(" ")), None)
    if start is None:
        return []
    out: List[Option] = []
    cur: Optional[Option] = None
    for ln in lines[start:]:
        if not ln.strip():
            cur = None
            continue
        if not ln.startswith(" "):
            if ln.rstrip().endswith(":"):
                cur = None
                continue
            break                               # the epilog
        m = _ITEM.match(ln.rstrip())
        if m and not ln.startswith("   "):
            cur = Option(m.group(1), m.group(2) or "")
            out.append(cur)
        elif cur is not None:                   # a help line of the item above
            cur.help = (cur.help + " " + ln.strip()).strip()
    return out


def _help_given(value: ast.expr) -> bool:
    """Whether a help= value documents the option (not "", None or argparse.SUPPRESS)."""
    if isinstance(value, ast.Constant):
        return isinstance(value.value, str) and bool(value.value.strip())
    if isinstance(value, ast.Attribute) and value.attr == "SUPPRESS":
        return False
    return True                                 # an expression (f-string, concatenation, ...)


def source_options(path: str) -> List[Option]:
    """Every `X.add_argument(...)` call in the Python file at `path`, with its help text
    (the source of the help= value; "" when there is none or it is empty)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    out: List[Option] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_argument"):
            continue
        names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        value = next((k.value for k in node.keywords if k.arg == "help"), None)
        text = ast.unparse(value) if value is not None and _help_given(value) else ""
        out.append(Option(", ".join(names) or "?", text, f"{path}:{node.lineno}"))
    return sorted(out, key=lambda o: int(o.where.rsplit(":", 1)[1]))
