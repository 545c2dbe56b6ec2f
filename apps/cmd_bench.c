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

#include "../kernels/cpu.h"
#include "../kernels/peak.h"
#include "../src/core/detector.h"
#include "args.h"
#include "bitfalcon.h"
#include "commands.h"
#include "image.h"
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
           "      --isa NAME      kernel path: auto, ref, avx2, avx512vnni, neon, neondot\n"
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
           "CPU time per run over all threads. Medians over the runs.\n");
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

/* --- int8 peak: the loop kernels/peak.c picks for this CPU ---------------- */

/* GOPS of one core; *what names the loop and *why says why it was chosen
 * (e.g. no dot product on a Cortex-A72). 0 when no loop applies. */
static double measure_peak(const char **what, const char **why)
{
    bf_peak_loop l;
    bf_peak_pick(&l);
    *what = l.name;
    *why = l.why;
    return bf_peak_measure(&l, 0.05);
}

static const char *op_name(int op)
{
    switch (op) {
    case 1: return "conv";
    case 2: return "add";
    case 3: return "concat";
    case 4: return "slice";
    case 5: return "maxpool";
    case 6: return "upsample";
    default: return "?";
    }
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

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

int bf_cmd_bench(int argc, char **argv)
{
    const char *model_path = NULL, *isa = NULL, *image_path = NULL;
    int size = 640, threads = 1, runs = 20, warmup = 3, json = 0, layers = 1;
    bf_args a;
    bf_args_init(&a, argc, argv);
    const char *v;
    int id, bad = 0;
    while (!bad && (id = bf_args_next(&a, options, &v)) != BF_ARG_END) {
        switch (id) {
        case OPT_MODEL: model_path = v; break;
        case OPT_SIZE: bad = bf_args_int(&a, v, 32, 4096, &size) != 0; break;
        case OPT_THREADS: bad = bf_args_int(&a, v, 0, 1024, &threads) != 0; break;
        case OPT_RUNS: bad = bf_args_int(&a, v, 1, MAX_RUNS, &runs) != 0; break;
        case OPT_WARMUP: bad = bf_args_int(&a, v, 0, MAX_RUNS, &warmup) != 0; break;
        case OPT_ISA: isa = v; break;
        case OPT_IMAGE: image_path = v; break;
        case OPT_NOLAYERS: layers = 0; break;
        case OPT_JSON: json = 1; break;
        case OPT_HELP: help(); return BF_EXIT_OK;
        case BF_ARG_POSITIONAL:
            fprintf(stderr, "bitfalcon bench: unexpected argument '%s'\n", v);
            bad = 1;
            break;
        default: bad = 1; break;
        }
    }
    if (bad)
        return BF_EXIT_USAGE;
    if (size % 32 != 0) {
        fprintf(stderr, "bitfalcon bench: --size %d is not a multiple of 32\n", size);
        return BF_EXIT_USAGE;
    }

    if (!model_path) {
        const char *looked = NULL;
        if (!(model_path = bf_default_model(&looked))) {
            fprintf(stderr, "bitfalcon bench: %s\n", looked);
            return BF_EXIT_USAGE;
        }
    }
    bf_error err;
    bf_model *model = NULL;
    if (bf_model_open(model_path, &model, &err) != BF_OK) {
        fprintf(stderr, "bitfalcon bench: %s: %s\n", model_path, err.message);
        return BF_EXIT_USAGE;
    }
    bf_options opt;
    bf_options_default(&opt);
    opt.input_size = size;
    opt.threads = threads;
    opt.isa = isa;
    bf_detector *det = NULL;
    if (bf_detector_create(model, &opt, &det, &err) != BF_OK) {
        fprintf(stderr, "bitfalcon bench: %s\n", err.message);
        bf_model_close(model);
        return BF_EXIT_USAGE;
    }

    bfio_image img = {0};
    uint8_t *synth = NULL;
    const uint8_t *pixels;
    int w, h;
    size_t stride;
    if (image_path != NULL) {
        bfio_err ierr;
        if (bfio_image_load(image_path, &img, &ierr) != 0) {
            fprintf(stderr, "bitfalcon bench: %s: %s\n", image_path, ierr.msg);
            bf_detector_destroy(det);
            bf_model_close(model);
            return BF_EXIT_USAGE;
        }
        pixels = img.pixels;
        w = img.width;
        h = img.height;
        stride = img.stride;
    } else {
        w = 640;
        h = 480;
        stride = (size_t)w * 3;
        synth = synthetic_image(w, h);
        pixels = synth;
    }
    const int n_layers = bf_detector_num_layers(det);
    double *t_all = calloc((size_t)runs * 8, sizeof *t_all);
    double *lay = layers ? calloc((size_t)runs * (size_t)n_layers, sizeof *lay) : NULL;
    uint64_t *ns = calloc((size_t)n_layers + 1, sizeof *ns);
    if (pixels == NULL || t_all == NULL || ns == NULL || (layers && lay == NULL)) {
        fprintf(stderr, "bitfalcon bench: out of memory\n");
        free(t_all);
        free(lay);
        free(ns);
        free(synth);
        bfio_image_free(&img);
        bf_detector_destroy(det);
        bf_model_close(model);
        return BF_EXIT_SOME_FAILED;
    }
    double *t_e2e = t_all, *t_pre = t_all + runs, *t_net = t_all + 2 * runs, *t_post = t_all + 3 * runs,
           *t_cpu = t_all + 4 * runs;
    double *s_e2e = t_all + 5 * runs, *s_net = t_all + 6 * runs, *s_cpu = t_all + 7 * runs; /* in run order */
    int status = BF_EXIT_OK;
    size_t n_det = 0;

    for (int r = 0; r < warmup && status == BF_EXIT_OK; r++)
        if (bf_detector_run(det, pixels, w, h, stride, BF_PIXEL_RGB, &err) != BF_OK)
            status = BF_EXIT_SOME_FAILED;
    for (int r = 0; r < runs && status == BF_EXIT_OK; r++) {
        const double c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        const double t0 = clock_ms(CLOCK_MONOTONIC);
        if (bf_detector_preprocess(det, pixels, w, h, stride, BF_PIXEL_RGB, &err) != BF_OK) {
            status = BF_EXIT_SOME_FAILED;
            break;
        }
        const double t1 = clock_ms(CLOCK_MONOTONIC);
        bf_detector_run_network(det);
        const double t2 = clock_ms(CLOCK_MONOTONIC);
        bf_detector_postprocess(det);
        const double t3 = clock_ms(CLOCK_MONOTONIC);
        t_cpu[r] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
        t_pre[r] = t1 - t0;
        t_net[r] = t2 - t1;
        t_post[r] = t3 - t2;
        t_e2e[r] = t3 - t0;
        s_e2e[r] = t_e2e[r];
        s_net[r] = t_net[r];
        s_cpu[r] = t_cpu[r];
    }
    bf_detector_results(det, &n_det);
    /* per-layer runs, the timing hook on */
    if (layers && status == BF_EXIT_OK) {
        bf_detector_profile(det, ns);
        for (int r = 0; r < runs && status == BF_EXIT_OK; r++) {
            memset(ns, 0, sizeof *ns * (size_t)n_layers);
            if (bf_detector_run(det, pixels, w, h, stride, BF_PIXEL_RGB, &err) != BF_OK)
                status = BF_EXIT_SOME_FAILED;
            for (int i = 0; i < n_layers; i++)
                lay[(size_t)i * (size_t)runs + (size_t)r] = (double)ns[i] * 1e-6;
        }
        bf_detector_profile(det, NULL);
    }
    if (status != BF_EXIT_OK) {
        fprintf(stderr, "bitfalcon bench: %s\n", err.message);
    } else {
        const char *peak_what, *peak_why;
        const double peak = measure_peak(&peak_what, &peak_why);
        const int nthreads = bf_detector_threads(det);
        double mean = 0;
        for (int r = 0; r < runs; r++)
            mean += t_e2e[r] / runs;
        const double p90 = percentile(t_e2e, runs, 0.9);
        const double med = percentile(t_e2e, runs, 0.5), mn = t_e2e[0];
        const double pre = percentile(t_pre, runs, 0.5), net = percentile(t_net, runs, 0.5);
        const double post = percentile(t_post, runs, 0.5), cpu = percentile(t_cpu, runs, 0.5);
        const double net_min = t_net[0];
        /* per-layer medians */
        double lay_total = 0, conv_ms = 0, conv_ops = 0;
        double *lmed = layers ? calloc((size_t)n_layers, sizeof *lmed) : NULL;
        if (layers && lmed != NULL)
            for (int i = 0; i < n_layers; i++) {
                bf_layer_info li;
                bf_detector_layer_info(det, i, &li);
                lmed[i] = percentile(lay + (size_t)i * (size_t)runs, runs, 0.5);
                lay_total += lmed[i];
                if (li.op == 1) {
                    conv_ms += lmed[i];
                    conv_ops += li.ops;
                }
            }
        const double peak_all = peak * nthreads;
        if (json) {
            printf("{\"model\": ");
            json_str(model_path);
            printf(", \"image\": ");
            json_str(image_path != NULL ? image_path : "synthetic 640x480");
            printf(", \"isa\": ");
            json_str(bf_detector_isa(det));
            printf(", \"requant_isa\": ");
            json_str(bf_detector_requant_isa(det));
            printf(", \"threads\": %d, \"size\": %d, \"runs\": %d, \"warmup\": %d,\n", nthreads, size, runs, warmup);
            printf(" \"median_ms\": %.4f, \"p90_ms\": %.4f, \"min_ms\": %.4f, \"mean_ms\": %.4f, \"fps\": %.3f,\n", med,
                   p90, mn, mean, med > 0 ? 1000.0 / med : 0.0);
            printf(" \"cpu_ms\": %.4f, \"letterbox_ms\": %.4f, \"network_ms\": %.4f, \"network_min_ms\": %.4f, "
                   "\"post_ms\": %.4f, \"detections\": %zu,\n",
                   cpu, pre, net, net_min, post, n_det);
            printf(" \"peak_gops\": %.2f, \"peak_loop\": ", peak);
            json_str(peak_what);
            printf(", \"peak_why\": ");
            json_str(peak_why);
            printf(", \"conv_ms\": %.4f, \"conv_gops\": %.3f", conv_ms, conv_ms > 0 ? conv_ops / conv_ms * 1e-6 : 0.0);
            const double *samples[3] = {s_e2e, s_net, s_cpu};
            const char *sample_names[3] = {"times_ms", "network_times_ms", "cpu_times_ms"};
            for (int k = 0; k < 3; k++) {
                printf(",\n \"%s\": [", sample_names[k]);
                for (int r = 0; r < runs; r++)
                    printf("%s%.4f", r ? ", " : "", samples[k][r]);
                printf("]");
            }
            if (layers && lmed != NULL) {
                printf(",\n \"layers\": [");
                for (int i = 0; i < n_layers; i++) {
                    bf_layer_info li;
                    bf_detector_layer_info(det, i, &li);
                    const double gops = li.ops > 0 && lmed[i] > 0 ? li.ops / lmed[i] * 1e-6 : 0;
                    printf("%s\n  {\"i\": %d, \"op\": \"%s\", \"in\": [%d, %d, %d], \"out\": [%d, %d, %d], \"k\": %d, "
                           "\"stride\": %d, \"ms\": %.4f, \"gops\": %.3f, \"peak_pct\": %.2f, \"share_pct\": %.2f}",
                           i ? "," : "", i, op_name(li.op), li.in_h, li.in_w, li.in_c, li.out_h, li.out_w, li.out_c,
                           li.kh, li.stride, lmed[i], gops, peak_all > 0 ? 100 * gops / peak_all : 0.0,
                           lay_total > 0 ? 100 * lmed[i] / lay_total : 0.0);
                }
                printf("\n ]");
            }
            printf("}\n");
        } else {
            char cpu_desc[256];
            bf_cpu_describe(bf_cpu_detect(), cpu_desc, sizeof cpu_desc);
            printf("bitfalcon bench: %s, input %d, %d thread%s, kernels %s (epilogue %s), image %s (%dx%d)\n",
                   model_path, size, nthreads, nthreads == 1 ? "" : "s", bf_detector_isa(det),
                   bf_detector_requant_isa(det), image_path != NULL ? image_path : "synthetic", w, h);
            printf("cpu: %s\n", cpu_desc);
            printf("int8 peak (1 core, %s): %.1f GOPS; x %d threads = %.1f GOPS\n", peak_what, peak, nthreads,
                   peak_all);
            printf("  (%s)\n", peak_why);
            printf("\nend to end over %d runs (after %d warm-up): median %.2f ms, p90 %.2f ms, min %.2f ms, "
                   "mean %.2f ms, %.1f fps\n",
                   runs, warmup, med, p90, mn, mean, med > 0 ? 1000.0 / med : 0.0);
            printf("  letterbox %.2f ms + network %.2f ms (min %.2f) + decode/NMS %.2f ms (medians); "
                   "CPU time %.2f ms/run; %zu detections\n",
                   pre, net, net_min, post, cpu, n_det);
            if (layers && lmed != NULL) {
                printf("\nper layer (median of %d runs with the timing hook; %% of the %d-thread peak):\n", runs,
                       nthreads);
                printf("%4s %-8s %-14s %-14s %5s %9s %8s %6s %6s\n", "#", "op", "in", "out", "k/s", "ms", "GOPS",
                       "%peak", "share");
                for (int i = 0; i < n_layers; i++) {
                    bf_layer_info li;
                    bf_detector_layer_info(det, i, &li);
                    char in[32], out[32], ks[16] = "";
                    snprintf(in, sizeof in, "%dx%dx%d", li.in_h, li.in_w, li.in_c);
                    snprintf(out, sizeof out, "%dx%dx%d", li.out_h, li.out_w, li.out_c);
                    if (li.op == 1)
                        snprintf(ks, sizeof ks, "%d/%d", li.kh, li.stride);
                    const double gops = li.ops > 0 && lmed[i] > 0 ? li.ops / lmed[i] * 1e-6 : 0;
                    printf("%4d %-8s %-14s %-14s %5s %9.3f ", i, op_name(li.op), in, out, ks, lmed[i]);
                    if (li.op == 1)
                        printf("%8.1f %5.1f%% ", gops, peak_all > 0 ? 100 * gops / peak_all : 0.0);
                    else
                        printf("%8s %6s ", "", "");
                    printf("%5.1f%%\n", lay_total > 0 ? 100 * lmed[i] / lay_total : 0.0);
                }
                printf("sum of layer medians %.2f ms; convs %.2f ms (%.1f%%) at %.1f GOPS = %.1f%% of peak\n",
                       lay_total, conv_ms, lay_total > 0 ? 100 * conv_ms / lay_total : 0.0,
                       conv_ms > 0 ? conv_ops / conv_ms * 1e-6 : 0.0,
                       conv_ms > 0 && peak_all > 0 ? 100 * conv_ops / conv_ms * 1e-6 / peak_all : 0.0);
            }
        }
        free(lmed);
    }
    free(t_all);
    free(lay);
    free(ns);
    free(synth);
    bfio_image_free(&img);
    bf_detector_destroy(det);
    bf_model_close(model);
    return status;
}
