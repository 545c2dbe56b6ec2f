/*
 * bf_bench_engine - single-image latency of the engine and its memory:
 *
 *     bf_bench_engine -m MODEL [--size S] [--runs N] [--isa ISA] IMAGE
 *
 * Prints the arena and other memory figures, then the median, min and max
 * of N runs (default 11) of bf_detector_run (letterbox + network + post),
 * wall clock and CPU time of the calling thread (the executor is single-
 * threaded; on a loaded machine the CPU time is the steadier figure).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bitfalcon.h"
#include "detector.h"
#include "test_util.h"

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL, *isa = NULL, *image = NULL;
    int size = 0, runs = 11;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
            model_path = argv[++i];
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
            size = atoi(argv[++i]);
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc)
            isa = argv[++i];
        else
            image = argv[i];
    }
    if (model_path == NULL || image == NULL || runs < 1) {
        fprintf(stderr, "usage: bf_bench_engine -m MODEL [--size S] [--runs N] [--isa ISA] IMAGE\n");
        return 2;
    }
    bf_error err;
    bf_model *model = NULL;
    if (bf_model_open(model_path, &model, &err) != BF_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    bf_options opt;
    bf_options_default(&opt);
    opt.input_size = size;
    opt.isa = isa;
    bf_detector *det = NULL;
    if (bf_detector_create(model, &opt, &det, &err) != BF_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    int w, h;
    uint8_t *rgb = load_rgb(image, &w, &h);
    if (rgb == NULL) {
        fprintf(stderr, "cannot decode %s\n", image);
        return 1;
    }
    bf_detector_info info;
    bf_detector_get_info(det, &info);
    printf("model %s, input %d, isa %s, image %s (%dx%d)\n", model_path, info.input_size, bf_detector_isa(det), image,
           w, h);
    printf("arena %zu bytes (%.2f MiB; %.2f MiB without reuse), conv scratch %zu, packed weights %zu, other %zu\n",
           info.arena_bytes, info.arena_bytes / 1048576.0, info.naive_bytes / 1048576.0, info.scratch_bytes,
           info.packed_bytes, info.other_bytes);
    double *t = malloc(sizeof *t * (size_t)runs), *c = malloc(sizeof *c * (size_t)runs);
    size_t n = 0;
    for (int i = 0; i < runs; i++) {
        double t0 = now_ms(), c0 = cpu_ms();
        if (bf_detector_run(det, rgb, w, h, (size_t)w * 3, BF_PIXEL_RGB, &err) != BF_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        t[i] = now_ms() - t0;
        c[i] = cpu_ms() - c0;
        bf_detector_results(det, &n);
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    qsort(c, (size_t)runs, sizeof *c, cmp_double);
    printf("latency over %d runs: median %.1f ms, min %.1f ms, max %.1f ms (%zu detections)\n", runs, t[runs / 2], t[0],
           t[runs - 1], n);
    printf("cpu time per run:     median %.1f ms, min %.1f ms, max %.1f ms\n", c[runs / 2], c[0], c[runs - 1]);
    free(t);
    free(c);
    free(rgb);
    bf_detector_destroy(det);
    bf_model_close(model);
    return 0;
}
