#!/usr/bin/python3
"""List the largest C functions in a tree (issue 14: no function in src/ or
apps/ over 120 lines).

A function is a top-level brace block whose header ends with ')' : the scan
blanks out comments, string and character literals and preprocessor lines
(keeping the line breaks, so line numbers stay right), then matches braces.
That is not a C parser, but the code here has no K&R definitions and no
function bodies made by macros, which are what such a scan would miss.
A function's size is its lines from the one holding its name to the one
holding its closing brace, both counted.

    /usr/bin/python3 tools/function_sizes.py                 # src/ apps/ kernels/, top 20
    /usr/bin/python3 tools/function_sizes.py --top 0 src     # every function in src/
    /usr/bin/python3 tools/function_sizes.py --max 119 src apps   # exit 1 if any is longer
"""
import argparse
import os
import re
import sys

DEFAULT_DIRS = ("src", "apps", "kernels")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NOT_FUNCTIONS = {"if", "for", "while", "switch", "return", "sizeof", "defined"}


def blank_non_code(text):
    """text with comments, literals and preprocessor lines turned to spaces
    (line breaks kept), so that braces and parentheses in them do not count."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c == "#":
            # A preprocessor line, with its backslash continuations.
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                out.append(" ")
                i += 1
            continue
        if c == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
            continue
        if c == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        out.append(c)
        if c == "\n":
            line_start = True
        elif not c.isspace():
            line_start = False
        i += 1
    return "".join(out)


def function_name(header):
    """The name before the parameter list that ends header, or None when the
    block is not a function (an initializer, a struct, a control statement)."""
    header = header.rstrip()
    if not header.endswith(")") or "=" in header:
        return None
    depth = 0
    for k in range(len(header) - 1, -1, -1):
        if header[k] == ")":
            depth += 1
        elif header[k] == "(":
            depth -= 1
            if depth == 0:
                m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*$", header[:k])
                if not m or m.group(1) in NOT_FUNCTIONS:
                    return None
                return m.group(1), m.start(1)
    return None


def functions_in(path):
    """(name, first line, last line) of each function defined in path."""
    with open(path, encoding="utf-8", errors="replace") as f:
        code = blank_non_code(f.read())
    found = []
    depth = 0
    header_start = 0  # where the text before the next top-level block starts
    open_at = None
    for i, c in enumerate(code):
        if c == "{":
            if depth == 0:
                open_at = function_name(code[header_start:i])
                if open_at:
                    open_at = (open_at[0], header_start + open_at[1])
            depth += 1
        elif c == "}":
            depth = max(depth - 1, 0)
            if depth == 0:
                if open_at:
                    name, at = open_at
                    found.append((name, code.count("\n", 0, at) + 1, code.count("\n", 0, i) + 1))
                open_at = None
                header_start = i + 1
        elif c == ";" and depth == 0:
            header_start = i + 1
    return found


def c_files(roots):
    for root in roots:
        if os.path.isfile(root):
            yield root
            continue
        for d, subdirs, files in os.walk(root):
            subdirs.sort()
            for name in sorted(files):
                if name.endswith((".c", ".h", ".inc")):
                    yield os.path.join(d, name)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="List the largest C functions (brace-matching scan of .c/.h/.inc files).")
    ap.add_argument("paths", nargs="*", default=None,
                    help="files or folders to scan (default: src apps kernels, "
                         "relative to the repository root)")
    ap.add_argument("--top", type=int, default=20,
                    help="how many of the largest to list; 0 lists all (default 20)")
    ap.add_argument("--max", type=int, default=None, metavar="LINES",
                    help="exit status 1 when any function is longer than LINES lines")
    args = ap.parse_args(argv)
    paths = args.paths
    if not paths:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        paths = [os.path.relpath(os.path.join(root, d)) for d in DEFAULT_DIRS]

    rows = []
    for path in c_files(paths):
        for name, first, last in functions_in(path):
            rows.append((last - first + 1, path, first, name))
    rows.sort(key=lambda r: (-r[0], r[1], r[2]))
    shown = rows if args.top <= 0 else rows[:args.top]
    for size, path, first, name in shown:
        print(f"{size:5d}  {path}:{first}  {name}")
    print(f"{len(rows)} functions", file=sys.stderr)
    if args.max is not None:
        over = [r for r in rows if r[0] > args.max]
        if over:
            print(f"{len(over)} function(s) longer than {args.max} lines", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
