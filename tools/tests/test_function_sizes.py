#!/usr/bin/python3
"""tools/function_sizes.py on a C file whose function sizes are known: braces
in strings, characters, comments and macros must not count, initializers and
structs are not functions, and --max fails exactly when a function is longer.
Runs the script as a program (no import of a CLI script)."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(HERE), "function_sizes.py")

SAMPLE = r'''#include <stdio.h>
#define BLOCK { if (x) { y(); } }
struct point { int x, y; };
static const int table[] = { 1, 2, 3 };
/* a comment with a { brace */
static int three(int x)
{
    return x + 3;
}

int braces_in_text(const char *s)
{
    const char *t = "}{ \" }";
    char c = '{';
    // } in a line comment
    if (s[0] == c) {
        puts(t);
    }
    return 0;
}

static void
split_header(void)
{
}
'''
# three: lines 6-9 (4); braces_in_text: 11-20 (10); split_header: 23-25 (3, from its name)
EXPECT = [(10, "braces_in_text"), (4, "three"), (3, "split_header")]


def run(*args):
    p = subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "sample.c")
        with open(path, "w") as f:
            f.write(SAMPLE)
        rc, out, err = run("--top", "0", path)
        got = [(int(line.split()[0]), line.split()[2]) for line in out.splitlines()]
        if rc != 0 or got != EXPECT:
            print(f"FAIL: sizes {got}, expected {EXPECT} (rc {rc}, {err.strip()})")
            failures += 1
        if "3 functions" not in err:
            print(f"FAIL: count line '{err.strip()}'")
            failures += 1
        rc, _, _ = run("--max", "10", path)
        if rc != 0:
            print("FAIL: --max 10 failed with the largest at 10 lines")
            failures += 1
        rc, _, err = run("--max", "9", path)
        if rc != 1 or "1 function(s) longer than 9 lines" not in err:
            print(f"FAIL: --max 9 gave rc {rc}, '{err.strip()}'")
            failures += 1
    print("test_function_sizes:", "FAILED" if failures else "all 4 checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
