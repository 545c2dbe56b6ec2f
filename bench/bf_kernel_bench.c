/*
 * bf_kernel_bench: the ternary GEMM paths on the network's real conv shapes.
 *
 * For each convolution of BitFalcon-v8n (bench/yolov8n-shapes.h, or the
 * layer table of a .bfm given with --model) at each input size, the GEMM
 * M = H_out*W_out, N = out_c, K = kh*kw*in_c runs on random int8 A and
 * ternary W through every path this CPU runs (t2i8 and the bit-serial b1
 * family). Each measurement repeats the call until --min-time has passed and
 * reports the median over --reps such runs; the paths take turns within each
 * run (interleaved), so drifts in load or clock hit them alike. GOPS counts 2*M*N*K operations
 * (a multiply-add is two), the same unit as the peak.
 *
 * Peak: a tight loop of independent int8 dot-product instructions on one
 * core (x86: vpdpbusd zmm, 12 accumulators; also vpdpbusd ymm and vpmaddubsw
 * ymm for AVX2's ceiling; aarch64: sdot), so each kernel's share of the
 * machine's int8 peak is visible. Single-threaded throughout.
 *
 *   bf_kernel_bench [--model FILE.bfm] [--sizes 320,640] [--isa LIST]
 *                   [--reps N] [--min-time S] [--tile ROWS] [--ref-rows ROWS]
 *                   [--unique] [--hot] [--wall] [--smoke]
 *
 *   --isa LIST     comma-separated from ref, the t2i8-gemm.inc names, b1-ref and
 *                  b1- + the b1-gemm.inc names (default: all this CPU runs)
 *   --tile ROWS    call the GEMM on row blocks of ROWS, as the engine does
 *                  (its im2col tile, BF_CONV_TILE_M = 128); 0 = all M at once
 *   --ref-rows R   the reference paths run only the first R rows (they are
 *                  slow; GOPS is a rate, so it stays comparable). Default 512
 *   --unique       one line per distinct (M, N, K) with its count, instead of
 *                  one line per layer
 *   --hot          with --tile: every call reuses the first tile's A and C
 *                  rows (cache-hot, like the engine's im2col and int32 tile
 *                  buffers), measuring the kernel rather than memory traffic
 *   --wall         time with the monotonic clock instead of the thread's CPU
 *                  time (the default, robust on a shared machine)
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b1-gemm/b1-gemm.h"
#include "cpu.h"
#include "peak.h"
#include "dispatch.h"
#include "t2i8-gemm/t2i8-gemm.h"
#include "yolov8n-shapes.h"

#define MAX_CONVS 512
#define MAX_PATHS 16

typedef struct path {
    const char *name;
    const bf_t2i8_gemm_config *config;
    bool (*can_run)(const bf_cpu_flags *);
    bool is_ref;
} path;

static bool always(const bf_cpu_flags *f)
{
    (void)f;
    return true;
}

#define BF_T2I8_GEMM(arch, name, config, check, feature, max_terms) BF_ON_##arch({#name, &config, check, false}, )
#define BF_B1_GEMM(arch, name, config, check, feature) BF_ON_##arch({"b1-" #name, &config, check, false}, )
static const path all_paths[] = {
#include "t2i8-gemm/t2i8-gemm.inc"
    {"ref", &bf_t2i8_gemm_ref, always, true},
#include "b1-gemm/b1-gemm.inc"
    {"b1-ref", &bf_b1_gemm_ref, always, true},
};
#undef BF_T2I8_GEMM
#undef BF_B1_GEMM
#define N_ALL_PATHS (sizeof all_paths / sizeof all_paths[0])

/* The clock: this thread's CPU time by default, so that time the scheduler
 * gives to other processes (a shared 2-core machine) does not count; --wall
 * for the monotonic clock. */
static clockid_t bench_clock = CLOCK_THREAD_CPUTIME_ID;

static double now(void)
{
    struct timespec t;
    clock_gettime(bench_clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* --- int8 peak loops (kernels/peak.c), timed here ---------------------- */
#if defined(__x86_64__)
static double peak_vnni_zmm(long iters) { double t0 = now(); bf_peak_vnni_zmm(iters); return now() - t0; }
static double peak_vnni_ymm(long iters) { double t0 = now(); bf_peak_vnni_ymm(iters); return now() - t0; }
static double peak_maddubs_ymm(long iters) { double t0 = now(); bf_peak_maddubs_ymm(iters); return now() - t0; }
#elif defined(__aarch64__)
static double peak_sdot(long iters) { double t0 = now(); bf_peak_sdot(iters); return now() - t0; }
static double peak_smlal(long iters) { double t0 = now(); bf_peak_smlal(iters); return now() - t0; }
#endif

/* GOPS of `fn` (12 instructions x ops_per_instr per iteration), median of reps */
static double measure_peak(double (*fn)(long), double ops_per_instr, int reps, double min_time)
{
    long iters = 1000;
    while (fn(iters) < min_time / 4 && iters < (1L << 40))
        iters *= 2;
    double v[64];
    if (reps > 64)
        reps = 64;
    for (int r = 0; r < reps; r++)
        v[r] = 12.0 * ops_per_instr * (double)iters / fn(iters) * 1e-9;
    return median(v, reps);
}

/* --- layer list ----------------------------------------------------------- */
static int load_model_convs(const char *file, bf_conv_shape *out, int max, int *default_size)
{
    FILE *f = fopen(file, "rb");
    if (f == NULL)
        return -1;
    unsigned char h[64];
    int n = -1;
    if (fread(h, 1, 64, f) != 64 || memcmp(h, "BFLC", 4) != 0)
        goto done;
    uint32_t nt, nv, nl, size;
    memcpy(&nt, h + 24, 4);
    memcpy(&nv, h + 28, 4);
    memcpy(&nl, h + 32, 4);
    memcpy(&size, h + 48, 4);
    if (nt > 4096 || nv > 4096 || nl > 4096)
        goto done;
    *default_size = (int)size;
    uint32_t *vstride = calloc(nv, sizeof *vstride);
    if (vstride == NULL)
        goto done;
    n = 0;
    for (uint32_t i = 0; i < nv; i++) {
        unsigned char v[32];
        if (fseek(f, (long)(64 + nt * 128 + i * 32), SEEK_SET) != 0 || fread(v, 1, 32, f) != 32) {
            n = -1;
            break;
        }
        memcpy(&vstride[i], v + 4, 4);
    }
    for (uint32_t i = 0; i < nl && n >= 0 && n < max; i++) {
        unsigned char l[144];
        if (fseek(f, (long)(64 + nt * 128 + nv * 32 + i * 144), SEEK_SET) != 0 || fread(l, 1, 144, f) != 144) {
            n = -1;
            break;
        }
        uint32_t op, in0;
        int32_t p[16];
        memcpy(&op, l, 4);
        memcpy(&in0, l + 8, 4);
        memcpy(p, l + 48, sizeof p);
        if (op != 1 || in0 >= nv)
            continue;
        bf_conv_shape s = {(int)i, p[0], p[1], p[2], p[3], p[4], p[5], (int)vstride[in0]};
        if (s.kh < 1 || s.kw < 1 || s.stride < 1 || s.in_c < 1 || s.out_c < 1 || s.in_stride < 1)
            continue;
        out[n++] = s;
    }
    free(vstride);
done:
    fclose(f);
    return n;
}

typedef struct gemm_shape {
    int layer;
    size_t m, n, k;
    int count; /* layers sharing it (--unique) */
} gemm_shape;

static gemm_shape conv_gemm(const bf_conv_shape *s, int size)
{
    const int h = size / s->in_stride;
    const int ho = (h + 2 * s->pad - s->kh) / s->stride + 1;
    gemm_shape g = {s->layer, (size_t)ho * (size_t)ho, (size_t)s->out_c, (size_t)(s->kh * s->kw * s->in_c), 1};
    return g;
}

/* --- timing one path on one shape ----------------------------------------- */
static uint64_t rng_state = 0x5EEDB17FA1C0ull;
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* --hot: every tile call reads the same A rows and writes the same C rows,
 * as the engine's conv loop does (a fresh im2col tile, one int32 tile buffer),
 * so that A and C stay in cache and only the kernel's own speed shows. */
static bool hot_tiles = false;

static void run_gemm(const bf_t2i8_gemm_config *cfg, size_t m, size_t n, size_t k, const int8_t *a,
                     const void *packed, int32_t *c, size_t tile)
{
    if (tile == 0 || tile >= m) {
        cfg->gemm(m, n, k, a, k, packed, c, n);
        return;
    }
    for (size_t m0 = 0; m0 < m; m0 += tile) {
        const size_t at = hot_tiles ? 0 : m0;
        cfg->gemm(m - m0 < tile ? m - m0 : tile, n, k, a + at * k, k, packed, c + at * n, n);
    }
}

/* The rows every path computes once, untimed, for the check against the first path: a fast
 * path that gives a wrong result must not get a GOPS figure. */
#define CHECK_ROWS 16

/* Times every path on one shape: seconds per GEMM of rows[p] rows, median
 * over reps. The paths take turns within each repetition, so that a change in
 * the machine's load or clock during the measurement hits them alike. Returns
 * the number of paths whose first rows differ from paths[0]'s. */
static int time_paths(const path *const *paths, int n_paths, const size_t *rows, size_t n, size_t k,
                      const int8_t *a, const uint8_t *w, size_t w_row_bytes, int32_t *c, size_t tile, int reps,
                      double min_time, double *seconds)
{
    void *raw[MAX_PATHS], *pk[MAX_PATHS];
    long iters[MAX_PATHS];
    static double v[MAX_PATHS][64];
    if (reps > 64)
        reps = 64;
    size_t check_rows = CHECK_ROWS;
    for (int p = 0; p < n_paths; p++)
        if (rows[p] < check_rows)
            check_rows = rows[p];
    int32_t *first = malloc(check_rows * n * sizeof *first), *other = malloc(check_rows * n * sizeof *other);
    if (first == NULL || other == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    int mismatches = 0;
    for (int p = 0; p < n_paths; p++) {
        const bf_t2i8_gemm_config *cfg = paths[p]->config;
        raw[p] = malloc(cfg->packed_size(n, k) + 64);
        if (raw[p] == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        pk[p] = (void *)(((uintptr_t)raw[p] + 63) & ~(uintptr_t)63); /* as the engine aligns it */
        cfg->pack(n, k, w, w_row_bytes, pk[p]);
        cfg->gemm(check_rows, n, k, a, k, pk[p], p == 0 ? first : other, n);
        if (p > 0 && memcmp(first, other, check_rows * n * sizeof *first) != 0) {
            fprintf(stderr, "MISMATCH: %s differs from %s on a %zux%zux%zu GEMM\n", paths[p]->name,
                    paths[0]->name, check_rows, n, k);
            mismatches++;
        }
        double t0 = now();
        run_gemm(cfg, rows[p], n, k, a, pk[p], c, tile); /* warm-up and calibration */
        const double once = now() - t0;
        iters[p] = once > 0 ? (long)(min_time / once) + 1 : 1;
    }
    for (int r = 0; r < reps; r++)
        for (int p = 0; p < n_paths; p++) {
            const double t0 = now();
            for (long it = 0; it < iters[p]; it++)
                run_gemm(paths[p]->config, rows[p], n, k, a, pk[p], c, tile);
            v[p][r] = (now() - t0) / (double)iters[p];
        }
    for (int p = 0; p < n_paths; p++) {
        seconds[p] = median(v[p], reps);
        free(raw[p]);
    }
    free(first);
    free(other);
    return mismatches;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--model FILE.bfm] [--sizes 320,640] [--isa LIST] [--reps N] [--min-time S]\n"
            "          [--tile ROWS] [--ref-rows ROWS] [--unique] [--hot] [--wall] [--smoke]\n",
            argv0);
}

int main(int argc, char **argv)
{
    const char *model = NULL;
    char sizes_arg[64] = "320,640";
    const char *isa_arg = NULL;
    int reps = 7;
    double min_time = 0.02;
    size_t tile = 0, ref_rows = 512;
    bool unique = false, smoke = false;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--model") == 0 && v) model = v, i++;
        else if (strcmp(o, "--sizes") == 0 && v) snprintf(sizes_arg, sizeof sizes_arg, "%s", v), i++;
        else if (strcmp(o, "--isa") == 0 && v) isa_arg = v, i++;
        else if (strcmp(o, "--reps") == 0 && v) reps = atoi(v), i++;
        else if (strcmp(o, "--min-time") == 0 && v) min_time = atof(v), i++;
        else if (strcmp(o, "--tile") == 0 && v) tile = (size_t)atol(v), i++;
        else if (strcmp(o, "--ref-rows") == 0 && v) ref_rows = (size_t)atol(v), i++;
        else if (strcmp(o, "--unique") == 0) unique = true;
        else if (strcmp(o, "--smoke") == 0) smoke = true;
        else if (strcmp(o, "--wall") == 0) bench_clock = CLOCK_MONOTONIC;
        else if (strcmp(o, "--hot") == 0) hot_tiles = true;
        else {
            usage(argv[0]);
            return 2;
        }
    }
    if (reps < 1)
        reps = 1;
    if (smoke) {
        reps = 1;
        min_time = 0;
        ref_rows = 16;
        snprintf(sizes_arg, sizeof sizes_arg, "64");
    }

    /* layers */
    static bf_conv_shape convs[MAX_CONVS];
    int n_convs = 0, model_size = 640;
    const char *source = "built-in list (bench/yolov8n-shapes.h)";
    if (model != NULL) {
        n_convs = load_model_convs(model, convs, MAX_CONVS, &model_size);
        if (n_convs <= 0) {
            fprintf(stderr, "cannot read conv layers from %s\n", model);
            return 1;
        }
        source = model;
    } else {
        n_convs = (int)(sizeof bf_yolov8n_convs / sizeof bf_yolov8n_convs[0]);
        memcpy(convs, bf_yolov8n_convs, sizeof bf_yolov8n_convs);
    }
    if (smoke)
        n_convs = n_convs < 3 ? n_convs : 3;

    /* paths */
    const bf_cpu_flags *flags = bf_cpu_detect();
    const path *paths[MAX_PATHS];
    int n_paths = 0;
    for (size_t i = 0; i < N_ALL_PATHS; i++) {
        bool wanted = isa_arg == NULL;
        if (isa_arg != NULL) {
            const char *p = isa_arg;
            const size_t len = strlen(all_paths[i].name);
            while (*p) {
                const size_t l = strcspn(p, ",");
                if (l == len && strncmp(p, all_paths[i].name, l) == 0)
                    wanted = true;
                p += l;
                p += *p == ',';
            }
        }
        if (!wanted)
            continue;
        if (!all_paths[i].can_run(flags)) {
            if (isa_arg != NULL)
                fprintf(stderr, "note: this CPU cannot run %s; skipped\n", all_paths[i].name);
            continue;
        }
        if (n_paths < MAX_PATHS)
            paths[n_paths++] = &all_paths[i];
    }
    if (n_paths == 0) {
        fprintf(stderr, "no runnable path selected\n");
        return 1;
    }
    int ref_index = -1;
    for (int p = 0; p < n_paths; p++)
        if (paths[p]->config == &bf_t2i8_gemm_ref)
            ref_index = p;

    char cpu[256];
    if (hot_tiles && tile == 0)
        tile = 128;
    printf("# bf_kernel_bench: 1 thread, median of %d runs (each >= %.3f s of %s), tile %zu rows%s\n", reps, min_time,
           bench_clock == CLOCK_MONOTONIC ? "wall time" : "thread CPU time", tile,
           tile == 0 ? " (whole M per call)" : hot_tiles ? ", cache-hot A and C tiles (--hot)" : "");
    printf("# cpu features: %s\n", bf_cpu_describe(flags, cpu, sizeof cpu));
    printf("# layers: %d convs from %s; reference paths time the first %zu rows\n", n_convs, source, ref_rows);

    /* peak */
    double peak = 0;
#if defined(__x86_64__)
    if (bf_cpu_can_avx512vnni(flags)) {
        peak = measure_peak(peak_vnni_zmm, 128, reps, smoke ? 0.001 : 0.2);
        printf("# int8 peak, vpdpbusd zmm x12 independent: %.1f GOPS (the 100%% below)\n", peak);
        printf("# int8 peak, vpdpbusd ymm x12 independent: %.1f GOPS\n",
               measure_peak(peak_vnni_ymm, 64, reps, smoke ? 0.001 : 0.2));
    }
    if (bf_cpu_can_avx2(flags)) {
        const double p2 = measure_peak(peak_maddubs_ymm, 64, reps, smoke ? 0.001 : 0.2);
        printf("# int8 peak, vpmaddubsw+vpaddw ymm x12:    %.1f GOPS%s\n", p2, peak > 0 ? "" : " (the 100% below)");
        if (peak == 0)
            peak = p2;
    }
#elif defined(__aarch64__)
    if (bf_cpu_can_neondot(flags)) {
        peak = measure_peak(peak_sdot, 32, reps, smoke ? 0.001 : 0.2);
        printf("# int8 peak, sdot q x12 independent: %.1f GOPS (the 100%% below)\n", peak);
    } else if (bf_cpu_can_neon(flags)) {
        peak = measure_peak(peak_smlal, 16, reps, smoke ? 0.001 : 0.2);
        printf("# int8 peak, smlal 8b x12 independent (no dot product): %.1f GOPS (the 100%% below)\n", peak);
    }
#endif

    /* sizes */
    int sizes[8], n_sizes = 0;
    for (char *p = sizes_arg; *p && n_sizes < 8;) {
        sizes[n_sizes++] = (int)strtol(p, &p, 10);
        if (*p == ',')
            p++;
        else
            break;
    }

    int mismatches = 0, checked = 0;
    for (int si = 0; si < n_sizes; si++) {
        const int size = sizes[si];
        gemm_shape shapes[MAX_CONVS];
        int n_shapes = 0;
        for (int i = 0; i < n_convs; i++) {
            gemm_shape g = conv_gemm(&convs[i], size);
            if (unique) {
                int j = 0;
                for (; j < n_shapes; j++)
                    if (shapes[j].m == g.m && shapes[j].n == g.n && shapes[j].k == g.k)
                        break;
                if (j < n_shapes) {
                    shapes[j].count++;
                    continue;
                }
            }
            shapes[n_shapes++] = g;
        }
        printf("\n## input %dx%d\n", size, size);
        printf("%-6s %7s %4s %5s %3s", "layer", "M", "N", "K", "x");
        for (int p = 0; p < n_paths; p++)
            printf(" | %10s GOPS  %%pk", paths[p]->name);
        if (ref_index >= 0)
            printf(" | speedup vs ref:");
        printf("\n");
        double total_time[MAX_PATHS] = {0}, total_ops = 0;
        for (int s = 0; s < n_shapes; s++) {
            const gemm_shape *g = &shapes[s];
            const size_t w_row_bytes = (g->k + 63) / 64 * 16;
            int8_t *a = malloc(g->m * g->k);
            uint8_t *w = calloc(g->n, w_row_bytes);
            int32_t *c = malloc(g->m * g->n * sizeof *c);
            if (a == NULL || w == NULL || c == NULL) {
                fprintf(stderr, "out of memory\n");
                return 1;
            }
            for (size_t i = 0; i < g->m * g->k; i++)
                a[i] = (int8_t)rng_next();
            for (size_t j = 0; j < g->n; j++)
                for (size_t kk = 0; kk < g->k; kk++) {
                    const unsigned code = (unsigned)(rng_next() % 3); /* 0, +1, -1 equally */
                    w[j * w_row_bytes + kk / 4] |= (uint8_t)(code << (2 * (kk % 4)));
                }
            const double ops = 2.0 * (double)g->m * (double)g->n * (double)g->k;
            total_ops += ops * g->count;
            char label[16];
            snprintf(label, sizeof label, "%d", g->layer);
            printf("%-6s %7zu %4zu %5zu %3d", unique ? "-" : label, g->m, g->n, g->k, g->count);
            fflush(stdout);
            double gops[MAX_PATHS], t[MAX_PATHS];
            size_t rows[MAX_PATHS];
            for (int p = 0; p < n_paths; p++)
                rows[p] = paths[p]->is_ref && g->m > ref_rows ? ref_rows : g->m;
            mismatches += time_paths(paths, n_paths, rows, g->n, g->k, a, w, w_row_bytes, c, tile, reps, min_time, t);
            checked++;
            for (int p = 0; p < n_paths; p++) {
                const double t_full = t[p] * (double)g->m / (double)rows[p];
                total_time[p] += t_full * g->count;
                gops[p] = ops / t_full * 1e-9;
                printf(" | %10.1f      %4.0f", gops[p], peak > 0 ? 100.0 * gops[p] / peak : 0.0);
            }
            if (ref_index >= 0) {
                printf(" |");
                for (int p = 0; p < n_paths; p++)
                    if (p != ref_index)
                        printf(" %s %.0fx", paths[p]->name, gops[p] / gops[ref_index]);
            }
            printf("\n");
            free(a);
            free(w);
            free(c);
        }
        printf("%-6s %7s %4s %5s %3s", "all", "", "", "", "");
        for (int p = 0; p < n_paths; p++)
            printf(" | %10.1f      %4.0f", total_ops / total_time[p] * 1e-9,
                   peak > 0 ? 100.0 * total_ops / total_time[p] * 1e-9 / peak : 0.0);
        printf("\n# input %d: %.2f GOP of conv GEMMs per frame; time per frame (1 thread):", size, total_ops * 1e-9);
        for (int p = 0; p < n_paths; p++)
            printf(" %s %.1f ms;", paths[p]->name, total_time[p] * 1e3);
        printf("\n");
    }
    if (mismatches > 0) {
        fprintf(stderr, "%d path results differ from %s: the figures above are void\n", mismatches,
                paths[0]->name);
        return 1;
    }
    printf("# check: %d paths equal %s on the first rows of all %d GEMMs\n", n_paths, paths[0]->name, checked);
    return 0;
}
