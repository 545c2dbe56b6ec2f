#!/usr/bin/env python3
"""End-to-end timing of `bitfalcon bench` with CPU features forced off, the
configurations interleaved in rounds so that a loaded machine's changes hit
all of them alike; prints each configuration's median over the rounds of
`bench`'s own medians, and its ratio to the first and the last configuration.

    bench/ladder_bench.py BITFALCON ROUNDS RUNS NAME=DISABLE... [-- BENCH ARGS]

NAME=DISABLE: a label and the BITFALCON_CPU_DISABLE list for it (empty = the
full path). BENCH ARGS default to -m models/bitfalcon-v8n.bfm --size 640
--threads 1. Run from the repository root. A benchmark, not a test.
"""
import json
import os
import statistics
import subprocess
import sys


def main():
    args = sys.argv[1:]
    bench_args = ["-m", "models/bitfalcon-v8n.bfm", "--size", "640", "--threads", "1"]
    if "--" in args:
        bench_args = args[args.index("--") + 1:]
        args = args[:args.index("--")]
    if len(args) < 4:
        sys.exit(__doc__)
    binary, rounds, runs = args[0], int(args[1]), int(args[2])
    cfgs = [a.split("=", 1) for a in args[3:]]
    res = {name: [] for name, _ in cfgs}
    for r in range(rounds):
        for name, disable in cfgs:
            env = dict(os.environ, BITFALCON_CPU_DISABLE=disable)
            env.pop("BITFALCON_ISA", None)
            out = subprocess.run([binary, "bench", *bench_args, "--runs", str(runs), "--json"], env=env,
                                 capture_output=True, text=True, check=True).stdout
            j = json.loads(out)
            res[name].append(j)
            print(f"round {r} {name}: {j['isa']} / {j['requant_isa']}: {j['median_ms']:.2f} ms", flush=True)
    first, last = cfgs[0][0], cfgs[-1][0]
    med = {n: statistics.median(x["median_ms"] for x in v) for n, v in res.items()}
    print(f"\n| config | BITFALCON_CPU_DISABLE | GEMM / epilogue | end to end | CPU/run | network | convs |"
          f" vs {first} | vs {last} |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, disable in cfgs:
        v = res[name]
        f = lambda k: statistics.median(x[k] for x in v)
        print(f"| {name} | {disable or '(none)'} | {v[0]['isa']} / {v[0]['requant_isa']} | {f('median_ms'):.2f} |"
              f" {f('cpu_ms'):.2f} | {f('network_ms'):.2f} | {f('conv_ms'):.2f} | {med[name] / med[first]:.3f} |"
              f" {med[name] / med[last]:.3f} |")


if __name__ == "__main__":
    main()
