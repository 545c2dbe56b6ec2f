/*
 * cmd_bench.c - `bitfalcon bench`: latency of the whole detector, per layer,
 * against the machine's int8 peak.
 *
 *     bitfalcon bench -m models/bitfalcon-v8n.bfm --size 640 --threads 1 --runs 20
 *
 * Runs: --warmup untimed runs, then --runs timed ones, each end to end
 * (letterbox + network + decode + NMS + un-letterbox, exactly what
 * bf_detector_run does, timed in its three parts). Reports the median, p90,
 * min and mean wall time, fps = 1000 / median, the median of each part, and
 * the median process CPU time per run (all threads; on a shared machine wall
 * time includes waiting for a core, CPU time does not).
 *
 * Per layer: the same number of runs again with the executor's timing hook
 * on (off during the runs above); each layer's median wall time, its GOPS
 * (convs: 2*M*N*K / time) and share of the network time, and its share of
 * the int8 peak of `threads` cores.
 *
 * Peak: a loop of 12 independent vpdpbusd zmm (x86 with AVX-512 VNNI), else
 * vpmaddubsw + vpaddw ymm (AVX2; what the AVX2 kernel issues per 32
 * products), on this thread for ~0.2 s, timed by the thread's CPU clock,
 * median of 5: one core's int8 multiply-add rate (a multiply-add counts as
 * two operations, as in GOPS). 0 on other machines.
 *
 * The image: --image FILE, else a fixed synthetic 640x480 picture.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "bitfalcon.h"
#include "bitfalcon_profile.h"
#include "commands.h"
#include "image.h"
#include "json.h"
#include "model_path.h"

#define MAX_RUNS 100000

static void help(void)
{
    printf("Usage: bitfalcon bench [OPTIONS]\n"
           "\n"
           "Measures the detector's latency end to end (letterbox + network + decode +\n"
           "NMS), per layer, and against the machine's int8 peak.\n"
           "\n"
           "Options:\n"
           "  -m, --model FILE    model file (default:\n"
           "                      " BF_MODEL_DEFAULT_HELP ")\n"
           "      --size N        network input size, a multiple of 32 (default: 640)\n"
           "      --threads N     worker threads, 0 = all cores (default: 1)\n"
           "      --runs N        timed runs (default: 20)\n"
           "      --warmup N      untimed runs first (default: 3)\n"
           "      --isa NAME      kernel path: auto or one of this build's: %s\n"
           "      --image FILE    input picture (default: a synthetic 640x480 one)\n"
           "      --no-layers     skip the per-layer runs and table\n"
           "      --json          one JSON object on stdout instead of the text report:\n"
           "                      median_ms, p90_ms, min_ms, mean_ms, fps, cpu_ms,\n"
           "                      letterbox_ms, network_ms, post_ms, isa, requant_isa,\n"
           "                      threads, size, runs, warmup, peak_gops, layers[],\n"
           "                      and every run's times_ms, network_times_ms, cpu_times_ms\n"
           "  -h, --help          this help\n"
           "\n"
           "Times are wall-clock milliseconds (CLOCK_MONOTONIC); cpu_ms is the process's\n"
           "CPU time per run over all threads. Medians over the runs.\n",
           bf_isa_available());
}

enum { OPT_MODEL, OPT_SIZE, OPT_THREADS, OPT_RUNS, OPT_WARMUP, OPT_ISA, OPT_IMAGE, OPT_NOLAYERS, OPT_JSON, OPT_HELP };

static const bf_opt options[] = {
    {"model", 'm', 1, OPT_MODEL},   {"size", 0, 1, OPT_SIZE},       {"threads", 0, 1, OPT_THREADS},
    {"runs", 0, 1, OPT_RUNS},       {"warmup", 0, 1, OPT_WARMUP},   {"isa", 0, 1, OPT_ISA},
    {"image", 0, 1, OPT_IMAGE},     {"no-layers", 0, 0, OPT_NOLAYERS}, {"json", 0, 0, OPT_JSON},
    {"help", 'h', 0, OPT_HELP},     {NULL, 0, 0, 0},
};

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Percentile q (0..1) of v[0..n-1], linear between order statistics; sorts v. */
static double percentile(double *v, int n, double q)
{
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    const double pos = q * (double)(n - 1);
    const int i = (int)pos;
    return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[i];
}

/* --- int8 peak: the loop bf_measure_peak picks for this CPU ----------------- */

/* GOPS of one core; *what names the loop and *why says why it was chosen
 * (e.g. no dot product on a Cortex-A72). 0 when no loop applies. */
static double measure_peak(const char **what, const char **why)
{
    bf_peak p;
    bf_measure_peak(0.05, &p);
    *what = p.loop;
    *why = p.why;
    return p.gops;
}

/* A fixed picture with edges and texture (the default input). */
static uint8_t *synthetic_image(int w, int h)
{
    uint8_t *p = malloc((size_t)w * (size_t)h * 3);
    if (p == NULL)
        return NULL;
    uint32_t s = 12345;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            s = s * 1664525u + 1013904223u;
            const int noise = (int)(s >> 27);
            uint8_t *q = p + ((size_t)y * (size_t)w + (size_t)x) * 3;
            const int block = ((x / 80) + (y / 60)) & 1;
            q[0] = (uint8_t)((x * 255 / w + noise) & 255);
            q[1] = (uint8_t)((y * 255 / h + (block ? 60 : 0)) & 255);
            q[2] = (uint8_t)(((x + y) * 128 / (w + h) + noise * 2) & 255);
        }
    return p;
}

/* --- the command line ------------------------------------------------------ */

typedef struct bench_args {
    const char *model_path, *isa, *image_path;
    int size, threads, runs, warmup, json, layers;
} bench_args;

/* 0: run; BF_EXIT_OK after --help; BF_EXIT_USAGE (reported) otherwise. The
 * help case is told from a run by *help_shown. */
static int parse_args(int argc, char **argv, bench_args *b, int *help_shown)
{
    *b = (bench_args){NULL, NULL, NULL, 640, 1, 20, 3, 0, 1};
    *help_shown = 0;
    bf_args a;
    bf_args_init(&a, argc, argv);
    const char *v;
    int id, bad = 0;
    while (!bad && (id = bf_args_next(&a, options, &v)) != BF_ARG_END) {
        switch (id) {
        case OPT_MODEL: b->model_path = v; break;
        case OPT_SIZE: bad = bf_args_int(&a, v, 32, 4096, &b->size) != 0; break;
        case OPT_THREADS: bad = bf_args_int(&a, v, 0, 1024, &b->threads) != 0; break;
        case OPT_RUNS: bad = bf_args_int(&a, v, 1, MAX_RUNS, &b->runs) != 0; break;
        case OPT_WARMUP: bad = bf_args_int(&a, v, 0, MAX_RUNS, &b->warmup) != 0; break;
        case OPT_ISA: b->isa = v; break;
        case OPT_IMAGE: b->image_path = v; break;
        case OPT_NOLAYERS: b->layers = 0; break;
        case OPT_JSON: b->json = 1; break;
        case OPT_HELP: help(); *help_shown = 1; return BF_EXIT_OK;
        case BF_ARG_POSITIONAL:
            fprintf(stderr, "bitfalcon bench: unexpected argument '%s'\n", v);
            bad = 1;
            break;
        default: bad = 1; break;
        }
    }
    if (bad)
        return BF_EXIT_USAGE;
    if (b->size % 32 != 0) {
        fprintf(stderr, "bitfalcon bench: --size %d is not a multiple of 32\n", b->size);
        return BF_EXIT_USAGE;
    }
    if (!b->model_path) {
        const char *looked = NULL;
        if (!(b->model_path = bf_default_model(&looked))) {
            fprintf(stderr, "bitfalcon bench: %s\n", looked);
            return BF_EXIT_USAGE;
        }
    }
    return 0;
}

/* --- the picture ------------------------------------------------------------- */

typedef struct bench_input {
    bfio_image img;  /* --image */
    uint8_t *synth;  /* or the synthetic one */
    const uint8_t *pixels;
    int w, h;
    size_t stride;
} bench_input;

/* 0, or -1 after reporting why --image cannot be read. pixels stays NULL
 * when the synthetic picture found no memory. */
static int load_input(const char *image_path, bench_input *in)
{
    memset(in, 0, sizeof *in);
    if (image_path != NULL) {
        bfio_err ierr;
        if (bfio_image_load(image_path, &in->img, &ierr) != 0) {
            fprintf(stderr, "bitfalcon bench: %s: %s\n", image_path, ierr.msg);
            return -1;
        }
        in->pixels = in->img.pixels;
        in->w = in->img.width;
        in->h = in->img.height;
        in->stride = in->img.stride;
    } else {
        in->w = 640;
        in->h = 480;
        in->stride = (size_t)in->w * 3;
        in->synth = synthetic_image(in->w, in->h);
        in->pixels = in->synth;
    }
    return 0;
}

static void free_input(bench_input *in)
{
    free(in->synth);
    bfio_image_free(&in->img);
}

/* --- the timed runs ------------------------------------------------------------ */

/* Each run's times; the first five are sorted by the medians, the s_* keep
 * run order for the JSON. lay[i * runs + r]: layer i's time in run r. */
typedef struct bench_times {
    double *all; /* one block for the eight arrays below */
    double *e2e, *pre, *net, *post, *cpu;
    double *s_e2e, *s_net, *s_cpu;
    double *lay;
    uint64_t *ns; /* the timing hook's per-layer nanoseconds */
    int n_layers;
} bench_times;

static int alloc_times(bench_times *t, int runs, int n_layers, int layers)
{
    memset(t, 0, sizeof *t);
    t->n_layers = n_layers;
    t->all = calloc((size_t)runs * 8, sizeof *t->all);
    t->lay = layers ? calloc((size_t)runs * (size_t)n_layers, sizeof *t->lay) : NULL;
    t->ns = calloc((size_t)n_layers + 1, sizeof *t->ns);
    if (t->all == NULL || t->ns == NULL || (layers && t->lay == NULL))
        return -1;
    double **parts[8] = {&t->e2e, &t->pre, &t->net, &t->post, &t->cpu, &t->s_e2e, &t->s_net, &t->s_cpu};
    for (int k = 0; k < 8; k++)
        *parts[k] = t->all + (size_t)k * (size_t)runs;
    return 0;
}

static void free_times(bench_times *t)
{
    free(t->all);
    free(t->lay);
    free(t->ns);
}

/* The warm-up, then the runs timed in their three parts, then (with layers)
 * the same number again with the timing hook on. BF_EXIT_OK, or
 * BF_EXIT_SOME_FAILED with err set. */
static int time_runs(bf_detector *det, const bench_input *in, const bench_args *b, bench_times *t,
                     bf_error *err)
{
    for (int r = 0; r < b->warmup; r++)
        if (bf_detector_run(det, in->pixels, in->w, in->h, in->stride, BF_PIXEL_RGB, err) != BF_OK)
            return BF_EXIT_SOME_FAILED;
    for (int r = 0; r < b->runs; r++) {
        const double c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        const double t0 = clock_ms(CLOCK_MONOTONIC);
        if (bf_detector_preprocess(det, in->pixels, in->w, in->h, in->stride, BF_PIXEL_RGB, err) != BF_OK)
            return BF_EXIT_SOME_FAILED;
        const double t1 = clock_ms(CLOCK_MONOTONIC);
        bf_detector_run_network(det);
        const double t2 = clock_ms(CLOCK_MONOTONIC);
        bf_detector_postprocess(det);
        const double t3 = clock_ms(CLOCK_MONOTONIC);
        t->cpu[r] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
        t->pre[r] = t1 - t0;
        t->net[r] = t2 - t1;
        t->post[r] = t3 - t2;
        t->e2e[r] = t3 - t0;
        t->s_e2e[r] = t->e2e[r];
        t->s_net[r] = t->net[r];
        t->s_cpu[r] = t->cpu[r];
    }
    if (!b->layers)
        return BF_EXIT_OK;
    int status = BF_EXIT_OK;
    bf_detector_profile(det, t->ns);
    for (int r = 0; r < b->runs && status == BF_EXIT_OK; r++) {
        memset(t->ns, 0, sizeof *t->ns * (size_t)t->n_layers);
        if (bf_detector_run(det, in->pixels, in->w, in->h, in->stride, BF_PIXEL_RGB, err) != BF_OK)
            status = BF_EXIT_SOME_FAILED;
        for (int i = 0; i < t->n_layers; i++)
            t->lay[(size_t)i * (size_t)b->runs + (size_t)r] = (double)t->ns[i] * 1e-6;
    }
    bf_detector_profile(det, NULL);
    return status;
}

/* --- what the report says ---------------------------------------------------------- */

typedef struct bench_summary {
    double med, p90, mn, mean, pre, net, net_min, post, cpu;
    double peak, peak_all; /* one core's and `threads` cores' int8 GOPS */
    const char *peak_what, *peak_why;
    int threads;
    size_t detections;
    double *lmed; /* per-layer medians (NULL without layers or memory) */
    double lay_total, conv_ms, conv_ops;
} bench_summary;

static void summarize(bf_detector *det, const bench_args *b, bench_times *t, bench_summary *s)
{
    const int runs = b->runs;
    memset(s, 0, sizeof *s);
    s->peak = measure_peak(&s->peak_what, &s->peak_why);
    s->threads = bf_detector_threads(det);
    s->peak_all = s->peak * s->threads;
    bf_detector_results(det, &s->detections);
    for (int r = 0; r < runs; r++)
        s->mean += t->e2e[r] / runs;
    s->p90 = percentile(t->e2e, runs, 0.9);
    s->med = percentile(t->e2e, runs, 0.5);
    s->mn = t->e2e[0]; /* sorted by percentile */
    s->pre = percentile(t->pre, runs, 0.5);
    s->net = percentile(t->net, runs, 0.5);
    s->post = percentile(t->post, runs, 0.5);
    s->cpu = percentile(t->cpu, runs, 0.5);
    s->net_min = t->net[0];
    s->lmed = b->layers ? calloc((size_t)t->n_layers, sizeof *s->lmed) : NULL;
    for (int i = 0; s->lmed != NULL && i < t->n_layers; i++) {
        bf_layer_info li;
        bf_detector_layer_info(det, i, &li);
        s->lmed[i] = percentile(t->lay + (size_t)i * (size_t)runs, runs, 0.5);
        s->lay_total += s->lmed[i];
        if (li.op == 1) {
            s->conv_ms += s->lmed[i];
            s->conv_ops += li.ops;
        }
    }
}

static double layer_gops(const bf_layer_info *li, double ms)
{
    return li->ops > 0 && ms > 0 ? li->ops / ms * 1e-6 : 0;
}

/* --json: one object, built in memory and written at once. */
static void report_json(bf_detector *det, const bench_args *b, const bench_times *t,
                        const bench_summary *s)
{
    bfio_sb sb;
    bfio_sb_init(&sb);
    bfio_sb_puts(&sb, "{\"model\": ");
    bfio_json_put_string(&sb, b->model_path);
    bfio_sb_puts(&sb, ", \"image\": ");
    bfio_json_put_string(&sb, b->image_path != NULL ? b->image_path : "synthetic 640x480");
    bfio_sb_puts(&sb, ", \"isa\": ");
    bfio_json_put_string(&sb, bf_detector_isa(det));
    bfio_sb_puts(&sb, ", \"requant_isa\": ");
    bfio_json_put_string(&sb, bf_detector_requant_isa(det));
    bfio_sb_printf(&sb, ", \"threads\": %d, \"size\": %d, \"runs\": %d, \"warmup\": %d,\n", s->threads,
                   b->size, b->runs, b->warmup);
    bfio_sb_printf(&sb, " \"median_ms\": %.4f, \"p90_ms\": %.4f, \"min_ms\": %.4f, \"mean_ms\": %.4f, "
                   "\"fps\": %.3f,\n", s->med, s->p90, s->mn, s->mean, s->med > 0 ? 1000.0 / s->med : 0.0);
    bfio_sb_printf(&sb, " \"cpu_ms\": %.4f, \"letterbox_ms\": %.4f, \"network_ms\": %.4f, "
                   "\"network_min_ms\": %.4f, \"post_ms\": %.4f, \"detections\": %zu,\n",
                   s->cpu, s->pre, s->net, s->net_min, s->post, s->detections);
    bfio_sb_printf(&sb, " \"peak_gops\": %.2f, \"peak_loop\": ", s->peak);
    bfio_json_put_string(&sb, s->peak_what);
    bfio_sb_puts(&sb, ", \"peak_why\": ");
    bfio_json_put_string(&sb, s->peak_why);
    bfio_sb_printf(&sb, ", \"conv_ms\": %.4f, \"conv_gops\": %.3f", s->conv_ms,
                   s->conv_ms > 0 ? s->conv_ops / s->conv_ms * 1e-6 : 0.0);
    const double *samples[3] = {t->s_e2e, t->s_net, t->s_cpu};
    const char *sample_names[3] = {"times_ms", "network_times_ms", "cpu_times_ms"};
    for (int k = 0; k < 3; k++) {
        bfio_sb_printf(&sb, ",\n \"%s\": [", sample_names[k]);
        for (int r = 0; r < b->runs; r++)
            bfio_sb_printf(&sb, "%s%.4f", r ? ", " : "", samples[k][r]);
        bfio_sb_putc(&sb, ']');
    }
    if (s->lmed != NULL) {
        bfio_sb_puts(&sb, ",\n \"layers\": [");
        for (int i = 0; i < t->n_layers; i++) {
            bf_layer_info li;
            bf_detector_layer_info(det, i, &li);
            const double gops = layer_gops(&li, s->lmed[i]);
            bfio_sb_printf(&sb, "%s\n  {\"i\": %d, \"op\": \"%s\", \"in\": [%d, %d, %d], \"out\": [%d, %d, %d], "
                           "\"k\": %d, \"stride\": %d, \"ms\": %.4f, \"gops\": %.3f, \"peak_pct\": %.2f, "
                           "\"share_pct\": %.2f}",
                           i ? "," : "", i, bf_layer_op_name(li.op), li.in_h, li.in_w, li.in_c, li.out_h, li.out_w,
                           li.out_c, li.kh, li.stride, s->lmed[i], gops,
                           s->peak_all > 0 ? 100 * gops / s->peak_all : 0.0,
                           s->lay_total > 0 ? 100 * s->lmed[i] / s->lay_total : 0.0);
        }
        bfio_sb_puts(&sb, "\n ]");
    }
    bfio_sb_puts(&sb, "}\n");
    if (sb.failed)
        fprintf(stderr, "bitfalcon bench: out of memory\n");
    else
        fwrite(sb.data, 1, sb.len, stdout);
    bfio_sb_free(&sb);
}

static void report_layers_text(bf_detector *det, const bench_args *b, const bench_times *t,
                               const bench_summary *s)
{
    printf("\nper layer (median of %d runs with the timing hook; %% of the %d-thread peak):\n", b->runs,
           s->threads);
    printf("%4s %-8s %-14s %-14s %5s %9s %8s %6s %6s\n", "#", "op", "in", "out", "k/s", "ms", "GOPS",
           "%peak", "share");
    for (int i = 0; i < t->n_layers; i++) {
        bf_layer_info li;
        bf_detector_layer_info(det, i, &li);
        char in[32], out[32], ks[16] = "";
        snprintf(in, sizeof in, "%dx%dx%d", li.in_h, li.in_w, li.in_c);
        snprintf(out, sizeof out, "%dx%dx%d", li.out_h, li.out_w, li.out_c);
        if (li.op == 1)
            snprintf(ks, sizeof ks, "%d/%d", li.kh, li.stride);
        const double gops = layer_gops(&li, s->lmed[i]);
        printf("%4d %-8s %-14s %-14s %5s %9.3f ", i, bf_layer_op_name(li.op), in, out, ks, s->lmed[i]);
        if (li.op == 1)
            printf("%8.1f %5.1f%% ", gops, s->peak_all > 0 ? 100 * gops / s->peak_all : 0.0);
        else
            printf("%8s %6s ", "", "");
        printf("%5.1f%%\n", s->lay_total > 0 ? 100 * s->lmed[i] / s->lay_total : 0.0);
    }
    printf("sum of layer medians %.2f ms; convs %.2f ms (%.1f%%) at %.1f GOPS = %.1f%% of peak\n",
           s->lay_total, s->conv_ms, s->lay_total > 0 ? 100 * s->conv_ms / s->lay_total : 0.0,
           s->conv_ms > 0 ? s->conv_ops / s->conv_ms * 1e-6 : 0.0,
           s->conv_ms > 0 && s->peak_all > 0 ? 100 * s->conv_ops / s->conv_ms * 1e-6 / s->peak_all : 0.0);
}

static void report_text(bf_detector *det, const bench_args *b, const bench_input *in,
                        const bench_times *t, const bench_summary *s)
{
    char cpu_desc[256];
    bf_cpu_features(cpu_desc, sizeof cpu_desc);
    printf("bitfalcon bench: %s, input %d, %d thread%s, kernels %s (epilogue %s), image %s (%dx%d)\n",
           b->model_path, b->size, s->threads, s->threads == 1 ? "" : "s", bf_detector_isa(det),
           bf_detector_requant_isa(det), b->image_path != NULL ? b->image_path : "synthetic", in->w,
           in->h);
    printf("cpu: %s\n", cpu_desc);
    printf("int8 peak (1 core, %s): %.1f GOPS; x %d threads = %.1f GOPS\n", s->peak_what, s->peak,
           s->threads, s->peak_all);
    printf("  (%s)\n", s->peak_why);
    printf("\nend to end over %d runs (after %d warm-up): median %.2f ms, p90 %.2f ms, min %.2f ms, "
           "mean %.2f ms, %.1f fps\n",
           b->runs, b->warmup, s->med, s->p90, s->mn, s->mean, s->med > 0 ? 1000.0 / s->med : 0.0);
    printf("  letterbox %.2f ms + network %.2f ms (min %.2f) + decode/NMS %.2f ms (medians); "
           "CPU time %.2f ms/run; %zu detections\n",
           s->pre, s->net, s->net_min, s->post, s->cpu, s->detections);
    if (s->lmed != NULL)
        report_layers_text(det, b, t, s);
}

/* --- the command ---------------------------------------------------------------- */

static int open_detector(const bench_args *b, bf_model **model, bf_detector **det)
{
    bf_error err;
    if (bf_model_open(b->model_path, model, &err) != BF_OK) {
        fprintf(stderr, "bitfalcon bench: %s: %s\n", b->model_path, err.message);
        return -1;
    }
    bf_options opt;
    bf_options_default(&opt);
    opt.input_size = b->size;
    opt.threads = b->threads;
    opt.isa = b->isa;
    if (bf_detector_create(*model, &opt, det, &err) != BF_OK) {
        fprintf(stderr, "bitfalcon bench: %s\n", err.message);
        bf_model_close(*model);
        *model = NULL;
        return -1;
    }
    return 0;
}

int bf_cmd_bench(int argc, char **argv)
{
    bench_args b;
    int help_shown;
    int status = parse_args(argc, argv, &b, &help_shown);
    if (status != 0 || help_shown)
        return status;
    bf_model *model = NULL;
    bf_detector *det = NULL;
    if (open_detector(&b, &model, &det) != 0)
        return BF_EXIT_USAGE;
    bench_input in;
    if (load_input(b.image_path, &in) != 0) {
        bf_detector_destroy(det);
        bf_model_close(model);
        return BF_EXIT_USAGE;
    }
    bench_times t;
    if (alloc_times(&t, b.runs, bf_detector_num_layers(det), b.layers) != 0 || in.pixels == NULL) {
        fprintf(stderr, "bitfalcon bench: out of memory\n");
        status = BF_EXIT_SOME_FAILED;
    } else {
        bf_error err;
        status = time_runs(det, &in, &b, &t, &err);
        if (status != BF_EXIT_OK) {
            fprintf(stderr, "bitfalcon bench: %s\n", err.message);
        } else {
            bench_summary s;
            summarize(det, &b, &t, &s);
            if (b.json)
                report_json(det, &b, &t, &s);
            else
                report_text(det, &b, &in, &t, &s);
            free(s.lmed);
        }
    }
    free_times(&t);
    free_input(&in);
    bf_detector_destroy(det);
    bf_model_close(model);
    return status;
}
