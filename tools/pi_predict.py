#!/usr/bin/python3
"""Predict BitFalcon's Raspberry Pi 4 / Pi 5 latency from the GEMM inner loops.

There is no Arm hardware here, so the Pi numbers are a model, calibrated on x86
(docs/benchmarks.md, "Raspberry Pi: predicted"). The steps, all redone by this
script:

1. Compile each t2i8 GEMM path with the project's flags for that file
   (CMakeLists.txt: -O3 -DNDEBUG, the per-suffix ISA flags) to assembly:
   x86 with `gcc`, aarch64 with `aarch64-linux-gnu-gcc` (the compiler the
   project's cross build and a Pi's Debian use). Also kernels/peak.c, the int8
   peak loops.
2. Cut out each kernel's hot inner loop (a label and the backward branch to it,
   innermost, in the named micro-kernel function, the one with the most
   multiply-accumulate instructions) and run llvm-mca on it: cycles per
   iteration; the loop's multiply-accumulates per iteration give the register
   tile's k step.
3. Calibrate on x86: llvm-mca's prediction for the avx512vnni, avxvnni and avx2
   loops against this machine's measured kernel GOPS (bf_kernel_bench output,
   --bench-out). Each prediction is put relative to llvm-mca's prediction for
   the peak loop of the same instruction, and each measurement relative to the
   measured peak loop (both in the same bench run), so the unknown clock and
   the model's instruction throughput (llvm 14 has no Zen model with AVX-512)
   cancel: ratio = (measured / measured peak) / (predicted / predicted peak),
   the median over the large layers (M*N*K >= 2^26, N a multiple of the tile).
4. Pi GEMM time: per conv layer of bench/yolov8n-shapes.h at 320 and 640,
   iterations = ceil(M/mr) * ceil(N/nc) * ceil(K/kstep) at llvm-mca's cycles per
   iteration, plus a per-tile overhead (llvm-mca on the straight-line reduction
   and stores after the loop, plus zeroing the accumulators), divided by the
   ratio of step 3, at the Pi's clock.
5. Non-GEMM work (im2col, requant/SiLU epilogue, adds, concats, letterbox,
   decode, NMS) as measured on x86 with the scalar epilogue and the stem by
   im2col + GEMM, as an Arm build had them (--x86-nongemm-ms:
   BITFALCON_REQUANT=ref BITFALCON_DIRECT_CONV=0 end to end minus the kernel
   GEMM time), scaled by llvm-mca's cycles per element of the scalar requant
   loop (x86 vs the Arm core) and the clocks (x86 clock: --x86-ghz, measured
   with --measure-clock). With the NEON epilogue (i32-requant-neon.c), the
   epilogue's part of it (--x86-epilogue-ms: the same run minus one with the
   vector epilogue) is scaled by the NEON loop's cycles per element instead.
6. Threads: the GEMM and the epilogue split over rows; 4 threads predicted as
   1 thread / (4 * --thread-eff).

Everything printed is a prediction, not a measurement.
"""
import argparse
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

X86_AVX2 = ["-mavx2", "-mfma", "-mf16c"]
X86_AVX512 = X86_AVX2 + ["-mavx512f", "-mavx512bw", "-mavx512vl"]

# path: source, arch, ISA flags (CMakeLists.txt), micro-kernel function, the
# multiply-accumulate instruction (regex on the mnemonic + operands) and its
# multiply-accumulates, the register tile (rows, channels), the x86 peak loop
# of the same instruction (kernels/peak.c) and its ops per iteration.
PATHS = {
    "avx512vnni": dict(src="kernels/t2i8-gemm/t2i8-gemm-avx512vnni.c", arch="x86",
                       flags=X86_AVX512 + ["-mavx512vnni"], func="bf_t2i8_gemm_ukernel_6x64__avx512vnni",
                       mac=r"^vpdpbusd\b.*zmm", macs=64, mr=6, nc=64,
                       peak="bf_peak_vnni_zmm", peak_label="vpdpbusd zmm"),
    "avxvnni": dict(src="kernels/t2i8-gemm/t2i8-gemm-avxvnni.c", arch="x86",
                    flags=X86_AVX2 + ["-mavxvnni"], func="bf_t2i8_gemm_ukernel_6x16__avxvnni",
                    mac=r"^(\{vex\}\s*)?vpdpbusd\b.*ymm", macs=32, mr=6, nc=16,
                    peak="bf_peak_vnni_ymm", peak_label="vpdpbusd ymm"),
    "avx2": dict(src="kernels/t2i8-gemm/t2i8-gemm-avx2.c", arch="x86",
                 flags=X86_AVX2, func="bf_t2i8_gemm_ukernel_6x16__avx2",
                 mac=r"^vpmaddubsw\b.*ymm", macs=32, mr=6, nc=16,
                 peak="bf_peak_maddubs_ymm", peak_label="vpmaddubsw+vpaddw ymm"),
    "neon": dict(src="kernels/t2i8-gemm/t2i8-gemm-neon.c", arch="arm", flags=[], func="neon_gemm",
                 mac=r"^(smull|smlal)2?\b", macs=8, mr=4, nc=4, peak="bf_peak_smlal"),
    "neondot": dict(src="kernels/t2i8-gemm/t2i8-gemm-neondot.c", arch="arm",
                    flags=["-march=armv8.2-a+dotprod"], func="bf_t2i8_gemm_ukernel_4x16c4__neondot",
                    mac=r"^sdot\b", macs=16, mr=4, nc=16, peak="bf_peak_sdot"),
}
# The peak loops' ops per iteration (kernels/peak.c: 12 instructions, 2 ops a multiply-add).
PEAK_OPS = {"bf_peak_vnni_zmm": 12 * 64 * 2, "bf_peak_vnni_ymm": 12 * 32 * 2,
            "bf_peak_maddubs_ymm": 12 * 32 * 2, "bf_peak_smlal": 12 * 8 * 2, "bf_peak_sdot": 12 * 16 * 2}

# The Pis: core, llvm-mca CPU, path, clock (GHz). Pi 4: Cortex-A72 at 1.5 GHz
# (boards since 2022 and current firmware run 1.8); Pi 5: Cortex-A76 at 2.4.
PIS = {
    "pi4": dict(name="Raspberry Pi 4 (Cortex-A72)", cpu="cortex-a72", path="neon", ghz=1.5),
    "pi5": dict(name="Raspberry Pi 5 (Cortex-A76)", cpu="cortex-a76", path="neondot", ghz=2.4),
}

LABEL_RE = re.compile(r"^([A-Za-z_.$][\w.$]*|\d+):")
BRANCH_X86 = re.compile(r"^\s*(j[a-z]+|loop)\s+(\S+)")
BRANCH_ARM = re.compile(r"^\s*(b\.[a-z]+|b[a-z]{2}|cbn?z|tbn?z)\s+(?:[^,]+,\s*)*(\S+)$")
ANY_BRANCH = re.compile(r"^\s*(j[a-z]+|jmp|call|ret|b|bl|br|blr|b\.[a-z]+|b[a-z]{2}|cbn?z|tbn?z)\b")


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit("pi_predict: %s failed (%d):\n%s" % (" ".join(cmd), r.returncode, r.stderr[-2000:]))
    return r.stdout


def compile_asm(cc, src, flags, out):
    run([*shlex.split(cc), "-O3", "-DNDEBUG", "-S", "-I" + os.path.join(ROOT, "kernels"), *flags, "-o", out,
         os.path.join(ROOT, src)])
    with open(out) as f:
        return f.read().splitlines()


def functions(lines):
    """{name: [lines]} of each function (a non-local label at column 0)."""
    out, cur = {}, None
    for ln in lines:
        m = LABEL_RE.match(ln)
        if m and not ln.startswith(".L") and not m.group(1)[0].isdigit():
            cur = m.group(1)
            out[cur] = []
        elif cur is not None:
            out[cur].append(ln)
    return out


def clean(body):
    """Instructions only: no labels, directives or comments."""
    out = []
    for ln in body:
        # comments: "//" (AArch64), "#" then no digit (x86; AArch64 immediates are "#16", "#-1")
        s = re.sub(r"(^|\s)#(?![-\d]).*$", "", ln.split("//")[0]).strip()
        if not s or LABEL_RE.match(s) or s.startswith("."):
            continue
        out.append(s)
    return out


def loops(body, arch):
    """Innermost loops as (start, end) line indices: a label and a later
    conditional branch back to it with no other loop inside."""
    br = BRANCH_X86 if arch == "x86" else BRANCH_ARM
    labels = {}
    found = []
    for i, ln in enumerate(body):
        m = LABEL_RE.match(ln.strip())
        if m:
            labels.setdefault(m.group(1), []).append(i)
            continue
        b = br.match(ln)
        if not b:
            continue
        tgt = b.group(2)
        if re.fullmatch(r"\d+b", tgt):
            tgt = tgt[:-1]
        starts = [s for s in labels.get(tgt, []) if s < i]
        if starts:
            found.append((starts[-1], i))
    return [(s, e) for (s, e) in found if not any(s < s2 and e2 <= e and (s2, e2) != (s, e) for s2, e2 in found)]


def hot_loop(lines, func, arch, mac_re):
    """The innermost loop of `func` with the most multiply-accumulates, and the
    straight-line code after it up to the first branch (the tile's reduction
    and stores)."""
    fns = functions(lines)
    if func not in fns and func.startswith("bf_t2i8_gemm_ukernel_") and func.endswith("__neondot"):
        func = "neondot_gemm"  # clang inlines the micro-kernel into the driver
    if func not in fns:
        sys.exit("pi_predict: function %s not in the assembly (have: %s)" % (func, ", ".join(sorted(fns))))
    body = fns[func]
    best = None
    for s, e in loops(body, arch):
        ins = clean(body[s + 1:e + 1])
        n = sum(1 for x in ins if re.search(mac_re, x))
        if n and (best is None or n > best[0]):
            best = (n, ins, e)
    if best is None:
        sys.exit("pi_predict: no loop with %r in %s" % (mac_re, func))
    tail = []
    for ln in body[best[2] + 1:]:
        ins = clean([ln])
        if not ins:
            continue
        if ANY_BRANCH.match(ins[0]):
            break
        tail.append(ins[0])
    return best[0], best[1], tail


def mca(mca_bin, triple, cpu, ins, mattr=None, iterations=300):
    """llvm-mca's cycles per iteration, block reciprocal throughput, and the
    busiest resource's name and pressure."""
    with tempfile.NamedTemporaryFile("w", suffix=".s", delete=False) as f:
        # "1:" defines the local label of inline-asm loops ("jnz 1b", "b.ne 1b")
        f.write("1:\n" + "\n".join(ins) + "\n")
        path = f.name
    cmd = [mca_bin, "-mtriple=" + triple, "-mcpu=" + cpu, "-iterations=%d" % iterations]
    if mattr:
        cmd.append("-mattr=" + mattr)
    out = run(cmd + [path])
    os.unlink(path)
    cyc = int(re.search(r"Total Cycles:\s+(\d+)", out).group(1))
    rthr = float(re.search(r"Block RThroughput:\s+([\d.]+)", out).group(1))
    return cyc / iterations, rthr, out


def bench_parse(path):
    """bf_kernel_bench output: the peaks and, per (M, N, K), GOPS per path."""
    peaks, rows, paths = {}, [], []
    with open(path) as f:
        for ln in f:
            m = re.match(r"# int8 peak, (.+?) x12.*?:\s+([\d.]+) GOPS", ln)
            if m:
                peaks[m.group(1).strip()] = float(m.group(2))
            if ln.startswith("layer"):
                paths = re.findall(r"\|\s+(\S+) GOPS", ln)
            m = re.match(r"^\S+\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\|(.*)", ln)
            if m and paths:
                vals = [float(v) for v in re.findall(r"([\d.]+)\s+\d+\s*(?:\||$)", m.group(5))]
                rows.append(dict(M=int(m.group(1)), N=int(m.group(2)), K=int(m.group(3)), count=int(m.group(4)),
                                 gops=dict(zip(paths, vals))))
    return peaks, rows


def conv_shapes():
    """(layer, M/size^2 factor, N, K) from bench/yolov8n-shapes.h."""
    txt = open(os.path.join(ROOT, "bench/yolov8n-shapes.h")).read()
    out = []
    for m in re.finditer(r"\{(\d+), (\d+), (\d+), (\d+), (\d+), (\d+), (\d+), (\d+)\}", txt):
        layer, kh, kw, st, pad, ic, oc, ins = map(int, m.groups())
        out.append(dict(layer=layer, kh=kh, kw=kw, stride=st, pad=pad, in_c=ic, out_c=oc, in_stride=ins))
    return out


def gemm_shape(c, size):
    h = size // c["in_stride"]
    ho = (h + 2 * c["pad"] - c["kh"]) // c["stride"] + 1
    return ho * ho, c["out_c"], c["kh"] * c["kw"] * c["in_c"]


def tile_cycles(M, N, K, p, cyc_iter, kstep, tile_over, ratio=1.0, peak_ops_cyc=None):
    """Modelled cycles of one GEMM: iterations of the inner loop with M, N
    and K rounded up to the tile, plus a fixed cost per register tile, divided
    by the calibration ratio; never fewer than the padded work at the peak
    loop's rate (a calibrated kernel cannot beat the core's peak)."""
    tiles = math.ceil(M / p["mr"]) * math.ceil(N / p["nc"])
    cyc = tiles * (math.ceil(K / kstep) * cyc_iter + tile_over) / ratio
    if peak_ops_cyc:
        cyc = max(cyc, tiles * math.ceil(K / kstep) * p["mr"] * p["nc"] * kstep * 2 / peak_ops_cyc)
    return cyc


def lut_sketch():
    """A table-lookup alternative to SMLAL for the A72 (T-MAC style), as an
    inner loop to time: 4 rows x 16 channels x 4 k of ONE ternary plane per
    iteration. Per row and group of 4 k, a 16-entry table of the int16 subset
    sums of the 4 activations (built once per row, shared by all channels; its
    cost is not counted here, in the LUT's favour), stored as a low-byte and a
    high-byte register; the weights as two 4-bit indices per channel (the +1
    and the -1 positions), one byte each, shared by the 4 rows. Per row: 4 tbl
    (lo/hi x +1/-1), 4 zip to int16, 2 add + 2 sub into 16 int16 sums. Exact
    for int8 activations (|sum of 4| <= 512; the int16 sums need widening every
    64 groups, also not counted)."""
    ins = ["ldp q16, q17, [x1], #32"]
    for r in range(4):
        ins.append("ldp q%d, q%d, [x%d], #32" % (2 * (r % 2), 2 * (r % 2) + 1, 2 + r))
        lo, hi = 2 * (r % 2), 2 * (r % 2) + 1
        ins += ["tbl v20.16b, {v%d.16b}, v16.16b" % lo, "tbl v21.16b, {v%d.16b}, v16.16b" % hi,
                "tbl v22.16b, {v%d.16b}, v17.16b" % lo, "tbl v23.16b, {v%d.16b}, v17.16b" % hi,
                "zip1 v24.16b, v20.16b, v21.16b", "zip2 v25.16b, v20.16b, v21.16b",
                "zip1 v26.16b, v22.16b, v23.16b", "zip2 v27.16b, v22.16b, v23.16b",
                "add v%d.8h, v%d.8h, v24.8h" % (4 + 2 * r, 4 + 2 * r),
                "add v%d.8h, v%d.8h, v25.8h" % (5 + 2 * r, 5 + 2 * r),
                "sub v%d.8h, v%d.8h, v26.8h" % (4 + 2 * r, 4 + 2 * r),
                "sub v%d.8h, v%d.8h, v27.8h" % (5 + 2 * r, 5 + 2 * r)]
    return ins + ["subs x0, x0, #1", "b.ne 1b"], 4 * 16 * 4


def neon_requant_cpe(args, cpu):
    """llvm-mca cycles per element of the NEON SiLU-requant loop
    (kernels/i32-requant/i32-requant-neon.c: 16 elements per iteration)."""
    with tempfile.TemporaryDirectory() as d:
        lines = compile_asm(args.cc_arm, "kernels/i32-requant/i32-requant-neon.c", [], os.path.join(d, "rqn.s"))
    fns = functions(lines)
    body = fns.get("requant_neon")
    if body is None:
        sys.exit("pi_predict: requant_neon not in the assembly of i32-requant-neon.c")
    for s, e in loops(body, "arm"):
        ins = clean(body[s + 1:e + 1])
        if any(x.startswith("tbx") for x in ins):
            return mca(args.mca, "aarch64", cpu, ins)[0] / 16
    sys.stderr.write("pi_predict: no SiLU loop (tbx) found in requant_neon as %s compiles it: "
                     "no NEON-epilogue columns\n" % args.cc_arm)
    return None


def scalar_requant_cpe(args, cc, triple, cpu, mattr=None):
    """llvm-mca cycles per element of the scalar requant loop
    (kernels/i32-requant/i32-requant-ref.c), the epilogue a Pi runs."""
    with tempfile.TemporaryDirectory() as d:
        lines = compile_asm(cc, "kernels/i32-requant/i32-requant-ref.c", [], os.path.join(d, "rq.s"))
    body = functions(lines)["requant_ref"]
    arch = "x86" if triple.startswith("x86") else "arm"
    best = None
    for s, e in loops(body, arch):
        ins = clean(body[s + 1:e + 1])
        # the SiLU loop: a 64-bit multiply and a byte load (the table) per element
        if any(re.search(r"^(imul|smull|smaddl|mul|madd)", x) for x in ins) and \
                any(re.search(r"^(movzb|movsb|ldrsb|ldrb)", x) for x in ins):
            best = ins
            break
    if best is None:
        sys.exit("pi_predict: no SiLU loop (a multiply and a byte load) in requant_ref")
    cyc, _, _ = mca(args.mca, triple, cpu, best, mattr)
    return "requant_ref (SiLU loop, 1 element per iteration)", cyc, len(best)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Method: see this file's docstring and docs/benchmarks.md.")
    ap.add_argument("--mca", default="llvm-mca-14" if os.path.exists("/usr/bin/llvm-mca-14") else "llvm-mca",
                    help="llvm-mca binary (default llvm-mca-14, Debian 12's llvm)")
    ap.add_argument("--cc-x86", default="gcc", help="x86-64 C compiler (default gcc)")
    ap.add_argument("--cc-arm", default="aarch64-linux-gnu-gcc",
                    help="aarch64 C compiler (default aarch64-linux-gnu-gcc)")
    ap.add_argument("--x86-cpu", action="append", default=[], metavar="PATH=CPU",
                    help="llvm-mca CPU for an x86 path (defaults: avx512vnni=icelake-server, "
                         "avxvnni=alderlake, avx2=znver3: llvm 14 has no Zen model with AVX-512 or AVX-VNNI)")
    ap.add_argument("--bench-out", action="append", default=[], metavar="FILE",
                    help="bf_kernel_bench output(s), --unique, any sizes (repeatable: the median of the runs' ratios)")
    ap.add_argument("--pi4-ghz", type=float, default=PIS["pi4"]["ghz"], help="Pi 4 clock, GHz (default 1.5)")
    ap.add_argument("--pi5-ghz", type=float, default=PIS["pi5"]["ghz"], help="Pi 5 clock, GHz (default 2.4)")
    ap.add_argument("--pi5-cpu", default=PIS["pi5"]["cpu"],
                    help="llvm-mca CPU for the Pi 5 (default cortex-a76; llvm 14-16 model it with the "
                         "Cortex-A57 tables, neoverse-n2 is an alternative with two 128-bit SIMD pipes)")
    ap.add_argument("--x86-nongemm-ms", action="append", default=[], metavar="SIZE=MS",
                    help="measured x86 non-GEMM time per frame, 1 thread, scalar epilogue, e.g. 640=14.2")
    ap.add_argument("--x86-epilogue-ms", action="append", default=[], metavar="SIZE=MS",
                    help="of the non-GEMM time, the scalar epilogue's share on x86: end to end with "
                         "BITFALCON_REQUANT=ref minus with the vector epilogue, e.g. 640=23.4")
    ap.add_argument("--x86-ghz", type=float, default=0.0,
                    help="this x86 core's clock, GHz (from --measure-clock); needed for the non-GEMM scaling")
    ap.add_argument("--measure-clock", action="store_true",
                    help="measure the x86 clock with a chain of dependent adds (1 cycle each), print it, exit")
    ap.add_argument("--thread-eff", type=float, default=0.85,
                    help="parallel efficiency assumed for 4 threads (default 0.85)")
    ap.add_argument("--sizes", default="320,640", help="input sizes (default 320,640)")
    ap.add_argument("--json", metavar="FILE", help="also write every number as JSON")
    ap.add_argument("--show-loops", action="store_true", help="print each extracted loop")
    ap.add_argument("--measure", metavar="BUILD",
                    help="run the x86 measurements first with BUILD/tests/bf_kernel_bench and BUILD/bitfalcon "
                         "(kernel GEMM GOPS, end to end with BITFALCON_REQUANT=ref, the clock); minutes")
    ap.add_argument("--measure-runs", type=int, default=3, help="bf_kernel_bench runs for --measure (default 3)")
    ap.add_argument("--measure-rounds", type=int, default=7,
                    help="rounds of bitfalcon bench (10 runs each, per size) for --measure (default 7)")
    ap.add_argument("--keep", metavar="DIR", help="with --measure: keep the raw outputs in DIR")
    args = ap.parse_args()

    if args.measure_clock:
        measure_clock(args)
        return
    if args.measure:
        measure(args)

    x86cpu = {"avx512vnni": "icelake-server", "avxvnni": "alderlake", "avx2": "znver3"}
    for kv in args.x86_cpu:
        k, _, v = kv.partition("=")
        if k not in x86cpu:
            sys.exit("pi_predict: --x86-cpu: unknown path %s" % k)
        x86cpu[k] = v
    nongemm, epilogue = {}, {}
    for kv in args.x86_nongemm_ms:
        k, _, v = str(kv).partition("=")
        nongemm[int(k)] = float(v)
    for kv in args.x86_epilogue_ms:
        k, _, v = str(kv).partition("=")
        epilogue[int(k)] = float(v)
    sizes = [int(s) for s in args.sizes.split(",")]
    res = dict(mca=args.mca, cc_x86=args.cc_x86, cc_arm=args.cc_arm, x86_ghz=args.x86_ghz,
               x86_nongemm_ms=nongemm, x86_epilogue_ms=epilogue, thread_eff=args.thread_eff, bench_out=args.bench_out,
               paths={}, calibration={}, predictions=[])

    with tempfile.TemporaryDirectory() as d:
        asm = {}
        for arch, cc in (("x86", args.cc_x86), ("arm", args.cc_arm)):
            asm["peak_" + arch] = compile_asm(cc, "kernels/peak.c", [], os.path.join(d, "peak_%s.s" % arch))
        for name, p in PATHS.items():
            cc = args.cc_x86 if p["arch"] == "x86" else args.cc_arm
            asm[name] = compile_asm(cc, p["src"], p["flags"], os.path.join(d, name + ".s"))

    def predict_path(name, cpu, triple, mattr=None):
        p = PATHS[name]
        n_mac, ins, tail = hot_loop(asm[name], p["func"], p["arch"], p["mac"])
        cyc, rthr, _ = mca(args.mca, triple, cpu, ins, mattr)
        macs_iter = n_mac * p["macs"]
        kstep = macs_iter // (p["mr"] * p["nc"])
        tail_cyc = mca(args.mca, triple, cpu, tail, mattr)[0] if tail else 0.0
        # + zeroing the accumulators: one vector move each on 2 SIMD pipes
        tile_over = tail_cyc + (p["mr"] * p["nc"] * 4 / (64 if name == "avx512vnni" else 32 if p["arch"] == "x86"
                                                         else 16)) / 2
        if p["peak"] == "bf_peak_sdot":
            # kernels/peak.c writes these as .inst encodings (no +dotprod needed there), which
            # llvm-mca does not decode: the same 12 instructions spelled out
            pk_ins = ["sdot v%d.4s, v14.16b, v15.16b" % i for i in range(12)] + ["subs x0, x0, #1", "b.ne 1b"]
        else:
            pk_ins = hot_loop(asm["peak_" + p["arch"]], p["peak"], p["arch"], p["mac"])[1]
        pk_cyc = mca(args.mca, triple, cpu, pk_ins, mattr)[0]
        spills = sum(1 for x in ins if re.search(r"\[sp|\(%rsp\)|\(%rbp\)", x))
        r = dict(cpu=cpu, instructions=len(ins), mac_instructions=n_mac, macs_per_iter=macs_iter,
                 tile="%dx%dx%d" % (p["mr"], p["nc"], kstep), cycles_per_iter=round(cyc, 2),
                 block_rthroughput=rthr, ops_per_cycle=round(2 * macs_iter / cyc, 2),
                 peak_ops_per_cycle=round(PEAK_OPS[p["peak"]] / pk_cyc, 2),
                 tile_overhead_cycles=round(tile_over, 1), stack_accesses_in_loop=spills)
        r["share_of_peak"] = round(r["ops_per_cycle"] / r["peak_ops_per_cycle"], 3)
        if args.show_loops:
            print("## %s on %s: %d instructions, %d MAC instructions\n%s\n-- after the loop:\n%s\n" % (
                name, cpu, len(ins), n_mac, "\n".join(ins), "\n".join(tail)))
        return r, kstep

    # --- x86: the inner loops, and the calibration against bf_kernel_bench ---
    benches = [bench_parse(f) for f in args.bench_out]
    ratios_all = []
    for name in ("avx512vnni", "avxvnni", "avx2"):
        r, kstep = predict_path(name, x86cpu[name], "x86_64")
        res["paths"][name] = r
        if not benches:
            continue
        p = PATHS[name]
        per_file, meas_sh, pred_sh = [], [], []
        for peaks, rows in benches:
            pk = peaks.get(p["peak_label"])
            if pk is None or not rows:
                continue
            vals = []
            for row in rows:
                M, N, K = row["M"], row["N"], row["K"]
                if M * N * K < (1 << 26) or N % p["nc"] or name not in row["gops"]:
                    continue
                pred_ops_cyc = 2 * M * N * K / tile_cycles(M, N, K, p, r["cycles_per_iter"], kstep,
                                                           r["tile_overhead_cycles"])
                pred_share = pred_ops_cyc / r["peak_ops_per_cycle"]
                vals.append((row["gops"][name] / pk) / pred_share)
                meas_sh.append(row["gops"][name] / pk)
                pred_sh.append(pred_share)
            if vals:
                per_file.append(statistics.median(vals))
        if per_file:
            ratio = statistics.median(per_file)
            res["calibration"][name] = dict(ratio=round(ratio, 3), per_run=[round(v, 3) for v in per_file],
                                            measured_share=round(statistics.median(meas_sh), 3),
                                            predicted_share=round(statistics.median(pred_sh), 3),
                                            layers=len(pred_sh) // len(per_file),
                                            layers_rule="M*N*K >= 2^26, N %% %d == 0" % p["nc"])
            ratios_all.append(ratio)
    cal = statistics.median(ratios_all) if ratios_all else 1.0
    res["calibration"]["applied"] = round(cal, 3)

    # --- Arm: the inner loops on the Pi cores ---
    pis = dict(PIS)
    pis["pi4"] = dict(pis["pi4"], ghz=args.pi4_ghz)
    pis["pi5"] = dict(pis["pi5"], ghz=args.pi5_ghz, cpu=args.pi5_cpu)
    for key, pi in pis.items():
        mattr = "+dotprod" if pi["path"] == "neondot" else None
        r, kstep = predict_path(pi["path"], pi["cpu"], "aarch64", mattr)
        r["ghz"] = pi["ghz"]
        r["loop_gops"] = round(r["ops_per_cycle"] * pi["ghz"], 1)
        r["peak_gops"] = round(r["peak_ops_per_cycle"] * pi["ghz"], 1)
        res["paths"][key + ":" + pi["path"]] = r
        pi["r"], pi["kstep"] = r, kstep

    # --- the table-lookup alternative on the A72, per ternary plane ---
    lut_ins, lut_macs = lut_sketch()
    lut_cyc = mca(args.mca, "aarch64", pis["pi4"]["cpu"], lut_ins)[0]
    neon = pis["pi4"]["r"]
    smlal_mac_cyc = neon["macs_per_iter"] / neon["cycles_per_iter"]
    res["lut_a72"] = dict(cpu=pis["pi4"]["cpu"], instructions=len(lut_ins), macs_per_iter=lut_macs,
                          cycles_per_iter=round(lut_cyc, 2), macs_per_cycle_per_plane=round(lut_macs / lut_cyc, 2),
                          smlal_macs_per_cycle=round(smlal_mac_cyc, 2),
                          speedup_vs_smlal_1plane=round(lut_macs / lut_cyc / smlal_mac_cyc, 3),
                          speedup_vs_smlal_2planes=round(lut_macs / lut_cyc / smlal_mac_cyc / 2, 3),
                          speedup_vs_smlal_3planes=round(lut_macs / lut_cyc / smlal_mac_cyc / 3, 3))

    # --- scalar work: llvm-mca cycles per element of the requant loop ---
    fn, x86_cpe, n_ins = scalar_requant_cpe(args, args.cc_x86, "x86_64", "znver3")
    res["scalar"] = dict(function=fn, instructions=n_ins, x86_cpu="znver3", x86_cycles=round(x86_cpe, 2))
    for key, pi in pis.items():
        _, cpe, _ = scalar_requant_cpe(args, args.cc_arm, "aarch64", pi["cpu"])
        pi["scalar_cyc"] = cpe
        res["scalar"][key + "_cycles"] = round(cpe, 2)
        pi["neon_epi_cyc"] = neon_requant_cpe(args, pi["cpu"])
        if pi["neon_epi_cyc"] is not None:
            res["scalar"][key + "_neon_epilogue_cycles_per_element"] = round(pi["neon_epi_cyc"], 3)

    shapes = conv_shapes()
    for key, pi in pis.items():
        p, r = PATHS[pi["path"]], pi["r"]
        for size in sizes:
            cyc = cyc_raw = 0.0
            ops = 0
            for c in shapes:
                M, N, K = gemm_shape(c, size)
                cyc_raw += tile_cycles(M, N, K, p, r["cycles_per_iter"], pi["kstep"], r["tile_overhead_cycles"])
                cyc += tile_cycles(M, N, K, p, r["cycles_per_iter"], pi["kstep"], r["tile_overhead_cycles"],
                                   cal, r["peak_ops_per_cycle"])
                ops += 2 * M * N * K
            gemm_ms = cyc / (pi["ghz"] * 1e6)
            raw_ms = cyc_raw / (pi["ghz"] * 1e6)
            row = dict(pi=key, name=pi["name"], path=pi["path"], cpu=pi["cpu"], ghz=pi["ghz"], size=size,
                       gop=round(ops / 1e9, 3), gemm_ms_raw_1t=round(raw_ms, 1), gemm_ms_1t=round(gemm_ms, 1),
                       gemm_gops=round(ops / gemm_ms / 1e6, 1))
            if size in nongemm and args.x86_ghz > 0:
                # the x86 time per cycle of scalar work -> the Pi's
                scale = (pi["scalar_cyc"] / pi["ghz"]) / (x86_cpe / args.x86_ghz)
                ng = nongemm[size] * scale  # everything scalar: the Arm build before the NEON epilogue
                t4 = 4 * args.thread_eff
                row.update(nongemm_scale=round(scale, 2), nongemm_ms_1t=round(ng, 1),
                           total_ms_raw_1t=round(raw_ms + ng, 1), total_ms_1t=round(gemm_ms + ng, 1),
                           total_ms_raw_4t=round((raw_ms + ng) / t4, 1), total_ms_4t=round((gemm_ms + ng) / t4, 1),
                           nongemm_share=round(ng / (gemm_ms + ng), 3))
                if size in epilogue and pi["neon_epi_cyc"] is not None:
                    # the epilogue's part at the NEON loop's cycles per element instead
                    epi = epilogue[size]
                    neon_scale = (pi["neon_epi_cyc"] / pi["ghz"]) / (x86_cpe / args.x86_ghz)
                    ngn = (nongemm[size] - epi) * scale + epi * neon_scale
                    row.update(nongemm_neon_ms_1t=round(ngn, 1), total_neon_ms_1t=round(gemm_ms + ngn, 1),
                               total_neon_ms_4t=round((gemm_ms + ngn) / t4, 1),
                               total_neon_ms_raw_1t=round(raw_ms + ngn, 1))
            res["predictions"].append(row)

    report(res, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


def report(res, args):
    print("# PREDICTED by llvm-mca (%s), not measured\n" % res["mca"])
    print("| path | llvm-mca CPU | tile (rows x ch x k) | instr/iter | stack accesses/iter | cycles/iter "
          "| ops/cycle | peak loop ops/cycle | share of peak | tile overhead (cycles) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in res["paths"].items():
        print("| %s | %s | %s | %d | %d | %.1f | %.1f | %.1f | %.0f%% | %.0f |" % (
            name, r["cpu"], r["tile"], r["instructions"], r["stack_accesses_in_loop"], r["cycles_per_iter"],
            r["ops_per_cycle"], r["peak_ops_per_cycle"], 100 * r["share_of_peak"], r["tile_overhead_cycles"]))
    if len(res["calibration"]) > 1:
        print("\nCalibration, measured/predicted (each relative to its peak loop, large layers):")
        for k, v in res["calibration"].items():
            if k != "applied":
                print("  %-10s %.3f  (per run: %s; measured %.0f%% of its peak loop, predicted %.0f%%, %d layers)" % (
                    k, v["ratio"], ", ".join("%.3f" % x for x in v["per_run"]), 100 * v["measured_share"],
                    100 * v["predicted_share"], v["layers"]))
        print("  applied (median): %.3f" % res["calibration"]["applied"])
    s = res["scalar"]
    print("\nScalar requant loop (%s, %d instructions): %s %.1f cycles/iter; %s" % (
        s["function"], s["instructions"], s["x86_cpu"], s["x86_cycles"],
        ", ".join("%s %.1f" % (k[:-7], v) for k, v in s.items() if k.endswith("_cycles") and k != "x86_cycles")))
    print("NEON SiLU-requant loop (requant_neon, 16 elements per iteration), cycles per element: %s" % ", ".join(
        "%s %.2f" % (k.split("_")[0], v) for k, v in s.items() if k.endswith("_neon_epilogue_cycles_per_element")))
    lut = res["lut_a72"]
    print("\nTable lookup (T-MAC style) on %s: %.1f cycles per %d MACs of one ternary plane = %.2f MACs/cycle; "
          "SMLAL path %.2f: %.2fx for a plain ternary layer, %.2fx / %.2fx for the shipped 2- / 3-plane layers "
          "(one lookup pass per plane; SMLAL runs the folded planes in one pass)" % (
              lut["cpu"], lut["cycles_per_iter"], lut["macs_per_iter"], lut["macs_per_cycle_per_plane"],
              lut["smlal_macs_per_cycle"], lut["speedup_vs_smlal_1plane"], lut["speedup_vs_smlal_2planes"],
              lut["speedup_vs_smlal_3planes"]))
    print("\nms; \"scalar\" = the Arm build with the scalar epilogue (before i32-requant-neon.c), \"NEON\" = with it; "
          "totals calibrated")
    print("\n| device | path | GHz | size | GOP | GEMM, 1 thread (raw / calibrated) | GEMM GOPS (calibrated) "
          "| non-GEMM, 1 thread (scalar / NEON) | total, 1 thread (scalar / NEON) "
          "| total, 4 threads (scalar / NEON) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in res["predictions"]:
        def pair(a, b, bold=True):
            if a not in r:
                return "-"
            return ("%.0f / **%.0f**" if bold else "%.0f / %.0f") % (r[a], r[b]) if b in r else "%.0f" % r[a]
        print("| %s | %s | %.1f | %d | %.2f | %s | %.1f | %s | %s | %s |" % (
            r["name"], r["path"], r["ghz"], r["size"], r["gop"], pair("gemm_ms_raw_1t", "gemm_ms_1t", False),
            r["gemm_gops"], pair("nongemm_ms_1t", "nongemm_neon_ms_1t", False),
            pair("total_ms_1t", "total_neon_ms_1t"), pair("total_ms_4t", "total_neon_ms_4t")))


def measure(args):
    """Runs the x86 measurements the model needs with the binaries of build
    directory args.measure, keeps their raw output in args.keep, and fills in
    args.bench_out, args.x86_nongemm_ms and args.x86_ghz."""
    build = args.measure
    kb, bf = os.path.join(build, "tests", "bf_kernel_bench"), os.path.join(build, "bitfalcon")
    for exe in (kb, bf):
        if not os.access(exe, os.X_OK):
            sys.exit("pi_predict: --measure: %s missing (cmake --build %s --target bf_kernel_bench bitfalcon)"
                     % (exe, build))
    keep = args.keep or tempfile.mkdtemp(prefix="pi_predict.")
    os.makedirs(keep, exist_ok=True)
    sizes = [int(x) for x in args.sizes.split(",")]
    gemm_ms = {s: [] for s in sizes}
    for i in range(args.measure_runs):
        out = os.path.join(keep, "kernel_bench_%d.txt" % i)
        txt = run([kb, "--sizes", args.sizes, "--isa", "avx512vnni,avxvnni,avx2", "--reps", "5",
                   "--min-time", "0.02", "--tile", "128", "--unique"])
        open(out, "w").write(txt)
        args.bench_out.append(out)
        for m in re.finditer(r"# input (\d+): .*?avx512vnni ([\d.]+) ms", txt):
            if int(m.group(1)) in gemm_ms:
                gemm_ms[int(m.group(1))].append(float(m.group(2)))
        sys.stderr.write("pi_predict: kernel bench %d/%d done\n" % (i + 1, args.measure_runs))
    # end to end, CPU time per run, interleaved: with the scalar epilogue (the Arm build before the NEON
    # epilogue) and with the vector one; the stem as on the Pi (im2col + GEMM: no direct conv there)
    cpu = {(s, e): [] for s in sizes for e in ("ref", "vec")}
    for r in range(args.measure_rounds):
        for size in sizes:
            for e in ("ref", "vec"):
                env = dict(os.environ, BITFALCON_REQUANT="ref" if e == "ref" else "", BITFALCON_DIRECT_CONV="0")
                js = json.loads(run([bf, "bench", "--size", str(size), "--threads", "1", "--runs", "10",
                                     "--warmup", "2", "--no-layers", "--json"], env=env))
                open(os.path.join(keep, "bench_%s_%d_%d.json" % (e, size, r)), "w").write(json.dumps(js))
                cpu[(size, e)].append(js["cpu_ms"])
    for size in sizes:
        ref, vec = statistics.median(cpu[(size, "ref")]), statistics.median(cpu[(size, "vec")])
        ng = ref - statistics.median(gemm_ms[size])
        args.x86_nongemm_ms.append("%d=%.2f" % (size, ng))
        args.x86_epilogue_ms.append("%d=%.2f" % (size, ref - vec))
        sys.stderr.write("pi_predict: %d: end to end %.2f ms CPU (scalar epilogue), %.2f (vector), GEMMs %.2f ms: "
                         "non-GEMM %.2f ms, of it the scalar epilogue %.2f\n"
                         % (size, ref, vec, statistics.median(gemm_ms[size]), ng, ref - vec))
    args.x86_ghz = measure_clock(args, quiet=True)
    sys.stderr.write("pi_predict: x86 clock %.3f GHz; raw outputs in %s\n" % (args.x86_ghz, keep))


def measure_clock(args, quiet=False):
    """Cycles per second of one core: 400 dependent adds per loop iteration
    take 400 cycles on any x86-64 of the last 15 years (1-cycle ALU latency)."""
    src = r"""
#include <stdio.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(void){
  double best=0;
  for(int r=0;r<9;r++){
    long n=2000000, x=1; double t0=now();
    for(long i=0;i<n;i++){
      __asm__ volatile(".rept 400\n\tadd $1, %0\n\t.endr" : "+r"(x));
    }
    double t=now()-t0, ghz=400.0*n/t*1e-9;
    if(ghz>best) best=ghz;
    fprintf(stderr,"run %d: %.3f GHz\n",r,ghz);
  }
  printf("%.3f\n",best);
  return 0;
}
"""
    with tempfile.TemporaryDirectory() as d:
        c, exe = os.path.join(d, "clk.c"), os.path.join(d, "clk")
        open(c, "w").write(src)
        run([*shlex.split(args.cc_x86), "-O2", "-o", exe, c])
        r = subprocess.run([exe], capture_output=True, text=True)
        if not quiet:
            sys.stderr.write(r.stderr)
            print("x86 clock (max of 9 runs of a dependent add chain, thread CPU time): %s GHz" % r.stdout.strip())
        return float(r.stdout)


if __name__ == "__main__":
    main()
