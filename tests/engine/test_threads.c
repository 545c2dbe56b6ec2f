/*
 * test_threads.c - results do not depend on the thread count or on the
 * kernel path.
 *
 *   test_threads MODEL HEADS_EXPECTED DATA_DIR [--sizes 320] [--threads 1,2,3,5] [--isa LIST]
 *                [--ref-images N]
 *
 * For every kernel path this CPU runs (or LIST), every thread count and
 * every image of HEADS_EXPECTED (tests/data/heads_expected.txt, from the
 * Python integer simulation): runs the shipped model and checks each head
 * output's FNV-1a digest, sum, min and max against the fixture line, and the
 * head outputs and the final detections bit for bit against the first
 * (path, thread count) run. The plain C reference path is ~50x slower than
 * the SIMD ones: --ref-images N runs it on the first N images only (default
 * all). Exits 77 when the model or fixtures are missing.
 */
#include <stdlib.h>
#include <string.h>

#include "bitfalcon.h"
#include "dispatch.h"
#include "test_util.h"

#define MAX_LINES 256
#define MAX_STEMS 16
#define MAX_HEADS 16

typedef struct fixture {
    char stem[64];
    int size, index;
    unsigned long long fnv;
    long long sum, mn, mx;
} fixture;

static fixture fx[MAX_LINES];
static int n_fx = 0;

static int in_list(const char *list, int v)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%d", v);
    size_t len = strlen(buf);
    for (const char *p = list; (p = strstr(p, buf)) != NULL; p += len)
        if ((p == list || p[-1] == ',') && (p[len] == '\0' || p[len] == ','))
            return 1;
    return 0;
}

/* The reference digests of one run, for comparing every other run. */
typedef struct baseline {
    int have;
    uint64_t head[MAX_HEADS];
    uint64_t boxes;
    size_t n_boxes;
} baseline;

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: test_threads MODEL HEADS_EXPECTED DATA_DIR [--sizes 320] [--threads 1,2,3,5] [--isa LIST]\n");
        return 2;
    }
    const char *sizes = "320", *threads = "1,2,3,5", *isa_list = NULL;
    int ref_images = MAX_STEMS;
    for (int i = 4; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--sizes") == 0)
            sizes = argv[i + 1];
        else if (strcmp(argv[i], "--threads") == 0)
            threads = argv[i + 1];
        else if (strcmp(argv[i], "--isa") == 0)
            isa_list = argv[i + 1];
        else if (strcmp(argv[i], "--ref-images") == 0)
            ref_images = atoi(argv[i + 1]);
    }
    if (!file_exists(argv[1]) || !file_exists(argv[2])) {
        fprintf(stderr, "skip: %s or %s missing\n", argv[1], argv[2]);
        return TEST_SKIP;
    }
    FILE *f = fopen(argv[2], "r");
    char line[1024];
    while (f != NULL && fgets(line, sizeof line, f) != NULL && n_fx < MAX_LINES) {
        fixture *x = &fx[n_fx];
        int kind, stride, h, w, c;
        if (line[0] == '#' || sscanf(line, "%63s %d %d %d %d %d %d %d %llx %lld %lld %lld", x->stem, &x->size,
                                     &x->index, &kind, &stride, &h, &w, &c, &x->fnv, &x->sum, &x->mn, &x->mx) != 12)
            continue;
        if (in_list(sizes, x->size))
            n_fx++;
    }
    if (f != NULL)
        fclose(f);
    CHECK(n_fx > 0, "no fixture line for sizes %s in %s", sizes, argv[2]);

    bf_model *model = NULL;
    bf_error err;
    if (bf_model_open(argv[1], &model, &err) != BF_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    /* the paths: the list given, else every one this CPU runs */
    char paths[256];
    snprintf(paths, sizeof paths, "%s", isa_list != NULL ? isa_list : bf_t2i8_gemm_available());
    for (char *p = paths; *p; p++)
        if (*p == ',')
            *p = ' ';

    int checked = 0;
    for (int size = 32; size <= 4096; size += 32) {
        if (!in_list(sizes, size))
            continue;
        /* distinct stems of this size */
        char stems[MAX_STEMS][64];
        int n_stems = 0;
        for (int i = 0; i < n_fx; i++) {
            if (fx[i].size != size)
                continue;
            int seen = 0;
            for (int s = 0; s < n_stems; s++)
                seen |= strcmp(stems[s], fx[i].stem) == 0;
            if (!seen && n_stems < MAX_STEMS)
                snprintf(stems[n_stems++], 64, "%.63s", fx[i].stem);
        }
        static baseline base[MAX_STEMS];
        memset(base, 0, sizeof base);
        char *save = NULL;
        char work[256];
        snprintf(work, sizeof work, "%s", paths);
        for (char *isa = strtok_r(work, " ", &save); isa != NULL; isa = strtok_r(NULL, " ", &save)) {
            char why[200] = "";
            if (bf_t2i8_gemm_select(isa, why, sizeof why) == NULL) {
                fprintf(stderr, "%s: skipped (%s)\n", isa, why);
                continue;
            }
            for (int t = 1; t <= 64; t++) {
                if (!in_list(threads, t))
                    continue;
                bf_options o;
                bf_options_default(&o);
                o.input_size = size;
                o.threads = t;
                o.isa = isa;
                bf_detector *d = NULL;
                if (bf_detector_create(model, &o, &d, &err) != BF_OK) {
                    CHECK(0, "%s threads %d: %s", isa, t, err.message);
                    continue;
                }
                const double t0 = now_ms();
                const int run_stems = strcmp(isa, "ref") == 0 && ref_images < n_stems ? ref_images : n_stems;
                for (int s = 0; s < run_stems; s++) {
                    char path[4096];
                    snprintf(path, sizeof path, "%s/%s.png", argv[3], stems[s]);
                    int w, h;
                    uint8_t *rgb = load_rgb(path, &w, &h);
                    if (rgb == NULL) {
                        CHECK(0, "cannot decode %s", path);
                        continue;
                    }
                    CHECK(bf_detector_run(d, rgb, w, h, (size_t)w * 3, BF_PIXEL_RGB, &err) == BF_OK, "%s", err.message);
                    free(rgb);
                    baseline cur = {1, {0}, 0, 0};
                    for (int i = 0; i < n_fx; i++) {
                        if (fx[i].size != size || strcmp(fx[i].stem, stems[s]) != 0 || fx[i].index >= MAX_HEADS)
                            continue;
                        int ch, hh, ww;
                        const int32_t *out = bf_detector_output(d, fx[i].index, NULL, NULL, &hh, &ww, &ch);
                        if (out == NULL) {
                            CHECK(0, "no output %d", fx[i].index);
                            continue;
                        }
                        const size_t n = (size_t)hh * ww * ch;
                        uint64_t hsh = FNV1A64_INIT;
                        long long sum = 0, mn = INT32_MAX, mx = INT32_MIN;
                        for (size_t e = 0; e < n; e++) {
                            const uint32_t u = (uint32_t)out[e];
                            const uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
                            hsh = fnv1a64(le, 4, hsh);
                            sum += out[e];
                            mn = out[e] < mn ? out[e] : mn;
                            mx = out[e] > mx ? out[e] : mx;
                        }
                        cur.head[fx[i].index] = hsh;
                        CHECK(hsh == fx[i].fnv && sum == fx[i].sum && mn == fx[i].mn && mx == fx[i].mx,
                              "%s size %d %s threads %d output %d: fnv %016llx sum %lld, fixture %016llx %lld", isa,
                              size, stems[s], t, fx[i].index, (unsigned long long)hsh, sum, fx[i].fnv, fx[i].sum);
                        checked++;
                    }
                    size_t nb;
                    const bf_detection *det = bf_detector_results(d, &nb);
                    cur.n_boxes = nb;
                    cur.boxes = fnv1a64(det, nb * sizeof *det, FNV1A64_INIT);
                    if (!base[s].have) {
                        base[s] = cur;
                    } else {
                        CHECK(memcmp(base[s].head, cur.head, sizeof cur.head) == 0,
                              "%s size %d %s threads %d: head outputs differ from the first run", isa, size, stems[s], t);
                        CHECK(base[s].n_boxes == cur.n_boxes && base[s].boxes == cur.boxes,
                              "%s size %d %s threads %d: %zu detections differ from the first run's %zu", isa, size,
                              stems[s], t, cur.n_boxes, base[s].n_boxes);
                    }
                }
                fprintf(stderr, "%s size %d threads %d (requant epilogue of this path): %d images, %.0f ms\n", isa,
                        size, t, run_stems, now_ms() - t0);
                bf_detector_destroy(d);
                CHECK_LIMIT();
            }
        }
    }
    bf_model_close(model);
    fprintf(stderr, "%d head outputs checked\n", checked);
    CHECK(checked > 0, "nothing checked");
    return check_failures ? 1 : 0;
}
