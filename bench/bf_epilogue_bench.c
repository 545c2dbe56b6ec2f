/*
 * bf_epilogue_bench: the requant epilogue paths (kernels/i32-requant/) on the
 * network's real output shapes, beside each other in one run.
 *
 * Three workloads at one input size (BitFalcon-v8n, bench/yolov8n-shapes.h):
 *   requant  every conv's int32 outputs -> int8 with the SiLU table, in row
 *            tiles of 128 as the engine runs them; per-channel shifts 32..39
 *            and multipliers like the shipped model's
 *   lut8     CONCAT's rescale of an int8 input (a 256-entry table), one
 *            input of c channels into a 3c-channel output, c = 16..128 on the
 *            160..20-pixel maps of 640
 *   add8     ADD, the C2f bottlenecks' residual, on the same maps
 * Every path this CPU runs (i32-requant.inc, and ref) takes its turn within
 * each repetition (interleaved, so drifts in load and clock hit them alike);
 * each measurement repeats the call until --min-time has passed; the median
 * over --reps is printed as ns per output element and as a ratio to ref.
 * Time is this thread's CPU time (robust on a shared machine; --wall for
 * the monotonic clock). Every path's output is compared with ref's first: a
 * difference prints MISMATCH and exits 1 (a benchmark, but not of a wrong
 * result). Single-threaded.
 *
 *   bf_epilogue_bench [--size 640] [--reps 7] [--min-time 0.05] [--wall] [--smoke]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "i32-requant/i32-requant.h"
#include "yolov8n-shapes.h"

#define MAX_PATHS 8
#define TILE 128

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

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* One workload: run(path, out) does all of its calls once; elements = outputs. */
typedef struct workload {
    const char *name;
    size_t elements, out_bytes;
    void (*run)(const struct workload *w, const bf_i32_requant_config *p, int8_t *out);
    int size;
} workload;

static int32_t *g_acc;
static int32_t g_bias[512], g_mult[512], g_shift[512];
static int8_t g_silu[256], g_table[256];
static int8_t *g_in8a, *g_in8b;

static int map_side(int size, const bf_conv_shape *c)
{
    const int h_in = size / c->in_stride;
    return (h_in + 2 * c->pad - c->kh) / c->stride + 1;
}

static void run_requant(const workload *w, const bf_i32_requant_config *p, int8_t *out)
{
    size_t at = 0;
    for (size_t i = 0; i < sizeof bf_yolov8n_convs / sizeof bf_yolov8n_convs[0]; i++) {
        const bf_conv_shape *c = &bf_yolov8n_convs[i];
        const size_t side = (size_t)map_side(w->size, c), m = side * side, n = (size_t)c->out_c;
        for (size_t r = 0; r < m; r += TILE) {
            const size_t rows = m - r < TILE ? m - r : TILE;
            /* the same int32 tile each call (the engine's tile buffer stays in cache) */
            p->requant(rows, n, g_acc, n, g_bias, g_mult, g_shift, g_silu, out + at + r * n, n);
        }
        at += m * n;
    }
}

/* The 160/80/40/20 maps of 640 (scaled with --size) and their C2f widths. */
static const int map_div[4] = {4, 8, 16, 32}, map_c[4] = {16, 32, 64, 128};

static void run_lut8(const workload *w, const bf_i32_requant_config *p, int8_t *out)
{
    size_t at = 0;
    for (int i = 0; i < 4; i++) {
        const size_t side = (size_t)(w->size / map_div[i]), px = side * side, c = (size_t)map_c[i];
        p->lut8(px, c, g_in8a, c, g_table, out + at, 3 * c);
        at += px * 3 * c;
    }
}

static void run_add8(const workload *w, const bf_i32_requant_config *p, int8_t *out)
{
    size_t at = 0;
    for (int i = 0; i < 4; i++) {
        const size_t side = (size_t)(w->size / map_div[i]), n = side * side * (size_t)map_c[i];
        p->add8(n, g_in8a, g_in8b, 1518500250, 1073741824, 31, out + at);
        at += n;
    }
}

int main(int argc, char **argv)
{
    int size = 640, reps = 7;
    double min_time = 0.05;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--size") == 0 && v) size = atoi(v), i++;
        else if (strcmp(o, "--reps") == 0 && v) reps = atoi(v), i++;
        else if (strcmp(o, "--min-time") == 0 && v) min_time = atof(v), i++;
        else if (strcmp(o, "--wall") == 0) bench_clock = CLOCK_MONOTONIC;
        else if (strcmp(o, "--smoke") == 0) size = 64, reps = 1, min_time = 0;
        else {
            fprintf(stderr, "usage: %s [--size 640] [--reps 7] [--min-time 0.05] [--wall] [--smoke]\n", argv[0]);
            return 2;
        }
    }
    if (size < 32 || size > 1280 || size % 32 != 0 || reps < 1 || reps > 1000 || min_time < 0) {
        fprintf(stderr, "bf_epilogue_bench: --size a multiple of 32 in 32..1280, --reps 1..1000\n");
        return 2;
    }

    const bf_i32_requant_config *paths[MAX_PATHS];
    int n_paths = 0;
    paths[n_paths++] = &bf_i32_requant_ref;
#define BF_I32_REQUANT(arch, name, ...) BF_ON_##arch(#name, )
    static const char *names[] = {
#include "i32-requant/i32-requant.inc"
        NULL};
#undef BF_I32_REQUANT
    for (int i = 0; names[i] != NULL && n_paths < MAX_PATHS; i++) {
        const bf_i32_requant_config *p = bf_i32_requant_by_name(names[i]);
        if (p != NULL)
            paths[n_paths++] = p;
    }

    /* inputs: accumulators that requantize across the whole int8 range */
    g_acc = malloc(sizeof *g_acc * TILE * 512);
    const size_t big = (size_t)(size / 4) * (size_t)(size / 4) * 16 + 4096;
    g_in8a = malloc(big);
    g_in8b = malloc(big);
    if (g_acc == NULL || g_in8a == NULL || g_in8b == NULL)
        return 1;
    for (size_t i = 0; i < (size_t)TILE * 512; i++)
        g_acc[i] = (int32_t)(rnd() % 4000000u) - 2000000;
    for (int j = 0; j < 512; j++) {
        g_bias[j] = (int32_t)(rnd() % 20000u) - 10000;
        g_mult[j] = (int32_t)(0x20000000u + rnd() % 0x20000000u);
        g_shift[j] = 32 + (int32_t)(rnd() % 8u);
    }
    for (int i = 0; i < 256; i++) {
        g_silu[i] = (int8_t)(i < 128 ? -(int)(rnd() % 20u) : (i - 128) * 3 / 4);
        g_table[i] = (int8_t)((i - 128) * 5 / 7);
    }
    for (size_t i = 0; i < big; i++) {
        g_in8a[i] = (int8_t)rnd();
        g_in8b[i] = (int8_t)rnd();
    }

    size_t conv_out = 0;
    for (size_t i = 0; i < sizeof bf_yolov8n_convs / sizeof bf_yolov8n_convs[0]; i++) {
        const size_t side = (size_t)map_side(size, &bf_yolov8n_convs[i]);
        conv_out += side * side * (size_t)bf_yolov8n_convs[i].out_c;
    }
    size_t lut_out = 0, add_out = 0;
    for (int i = 0; i < 4; i++) {
        const size_t px = (size_t)(size / map_div[i]) * (size_t)(size / map_div[i]);
        lut_out += px * 3 * (size_t)map_c[i];
        add_out += px * (size_t)map_c[i];
    }
    const workload loads[3] = {
        {"requant+silu", conv_out, conv_out, run_requant, size},
        {"lut8 (concat)", lut_out / 3, lut_out, run_lut8, size},
        {"add8 (add)", add_out, add_out, run_add8, size},
    };

    printf("bf_epilogue_bench: input %d, %d paths, %d reps, min %.3f s, %s time\n", size, n_paths, reps, min_time,
           bench_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU");
    int status = 0;
    for (int l = 0; l < 3; l++) {
        const workload *w = &loads[l];
        int8_t *want = calloc(1, w->out_bytes), *got = calloc(1, w->out_bytes);
        double *t = calloc((size_t)(n_paths * reps), sizeof *t);
        if (want == NULL || got == NULL || t == NULL)
            return 1;
        w->run(w, paths[0], want);
        for (int p = 1; p < n_paths; p++) {
            memset(got, 0, w->out_bytes);
            w->run(w, paths[p], got);
            if (memcmp(got, want, w->out_bytes) != 0) {
                printf("MISMATCH: %s on %s differs from ref\n", paths[p]->isa, w->name);
                status = 1;
            }
        }
        for (int r = 0; r < reps; r++)
            for (int p = 0; p < n_paths; p++) {
                int calls = 0;
                const double t0 = now();
                double t1;
                do {
                    w->run(w, paths[p], got);
                    calls++;
                    t1 = now();
                } while (t1 - t0 < min_time);
                t[p * reps + r] = (t1 - t0) / calls;
            }
        double ref_ns = 0;
        for (int p = 0; p < n_paths; p++) {
            qsort(t + p * reps, (size_t)reps, sizeof *t, cmp_double);
            const double ns = t[p * reps + reps / 2] * 1e9 / (double)w->elements;
            if (p == 0)
                ref_ns = ns;
            printf("%-14s %-11s %8.3f ns/element  %6.3f ms  %5.2fx ref's time\n", w->name, paths[p]->isa, ns,
                   ns * (double)w->elements * 1e-6, ns / ref_ns);
        }
        free(want);
        free(got);
        free(t);
    }
    if (status == 0)
        printf("# check: %d paths equal ref on all 3 workloads\n", n_paths);
    free(g_acc);
    free(g_in8a);
    free(g_in8b);
    return status;
}
