/*
 * bf_dump_heads - runs the engine on images and writes every head output as
 * raw int32 little-endian NHWC, the format tools/simulate.py --compare reads:
 *
 *     bf_dump_heads -m MODEL [--size S] [--isa ISA] [--threads N] [--values] -o DIR IMAGES...
 *     bf_dump_heads --list-isas
 *
 * writes DIR/<stem>.<size>.out<i>.i32 (i = output-table index). --values also
 * writes every intermediate value, DIR/<stem>.<size>.v<k>.i8 / .i32 (NHWC),
 * and the letterboxed input DIR/<stem>.<size>.input.i8, to find the first
 * layer where two implementations part. --threads sets the detector's
 * workers (default: 0, one per online CPU). --list-isas prints the kernel
 * paths this build has and this CPU runs, one per line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bitfalcon.h"
#include "detector.h"
#include "dispatch.h"
#include "model.h"
#include "test_util.h"

static int usage(void)
{
    fprintf(stderr, "usage: bf_dump_heads -m MODEL [--size S] [--isa ISA] [--threads N] [--values] -o DIR IMAGES...\n"
                    "       bf_dump_heads --list-isas\n");
    return 2;
}

static int dump(const char *dir, const char *stem, int size, const char *name, const void *data, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%d.%s", dir, stem, size, name);
    if (write_file(path, data, n) != 0) {
        fprintf(stderr, "bf_dump_heads: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL, *dir = NULL, *isa = NULL;
    int size = 0, values = 0, threads = 0, first_image = argc;
    if (argc == 2 && strcmp(argv[1], "--list-isas") == 0) {
        char names[256], why[256];
        snprintf(names, sizeof names, "%s", bf_t2i8_gemm_available());
        for (char *tok = strtok(names, " "); tok != NULL; tok = strtok(NULL, " "))
            if (bf_t2i8_gemm_select(tok, why, sizeof why) != NULL)
                printf("%s\n", tok);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
            model_path = argv[++i];
        else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
            size = atoi(argv[++i]);
        else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc)
            isa = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--values") == 0)
            values = 1;
        else if (argv[i][0] == '-')
            return usage();
        else {
            first_image = i;
            break;
        }
    }
    if (model_path == NULL || dir == NULL || first_image >= argc)
        return usage();
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "bf_dump_heads: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    bf_error err;
    bf_model *model = NULL;
    if (bf_model_open(model_path, &model, &err) != BF_OK) {
        fprintf(stderr, "bf_dump_heads: %s\n", err.message);
        return 1;
    }
    bf_options opt;
    bf_options_default(&opt);
    opt.input_size = size;
    opt.isa = isa;
    opt.threads = threads;
    bf_detector *det = NULL;
    if (bf_detector_create_ex(model, &opt, values ? BF_DETECTOR_KEEP_ALL_VALUES : 0, &det, &err) != BF_OK) {
        fprintf(stderr, "bf_dump_heads: %s\n", err.message);
        bf_model_close(model);
        return 1;
    }
    if (size == 0)
        size = bf_model_default_input_size(model);
    int status = 0;
    for (int i = first_image; i < argc && status == 0; i++) {
        int w, h;
        uint8_t *rgb = load_rgb(argv[i], &w, &h);
        if (rgb == NULL) {
            fprintf(stderr, "bf_dump_heads: cannot decode %s\n", argv[i]);
            status = 1;
            break;
        }
        char stem[256];
        path_stem(argv[i], stem, sizeof stem);
        if (bf_detector_run(det, rgb, w, h, (size_t)w * 3, BF_PIXEL_RGB, &err) != BF_OK) {
            fprintf(stderr, "bf_dump_heads: %s: %s\n", argv[i], err.message);
            status = 1;
        }
        for (int o = 0; status == 0 && o < bf_detector_num_outputs(det); o++) {
            int oh, ow, oc;
            const int32_t *out = bf_detector_output(det, o, NULL, NULL, &oh, &ow, &oc);
            char name[32];
            snprintf(name, sizeof name, "out%d.i32", o);
            if (dump(dir, stem, size, name, out, (size_t)oh * ow * oc * 4) != 0)
                status = 1;
        }
        if (values && status == 0) {
            dump(dir, stem, size, "input.i8", bf_detector_input(det), (size_t)size * size * 3);
            for (uint32_t v = 1; v < (uint32_t)model->n_values; v++) {
                bf_shape sh;
                const void *p = bf_detector_value(det, v, &sh);
                int i32 = model->values[v].dtype == BF_DTYPE_I32;
                char name[32];
                snprintf(name, sizeof name, "v%u.%s", v, i32 ? "i32" : "i8");
                if (dump(dir, stem, size, name, p, (size_t)sh.h * sh.w * sh.c * (i32 ? 4 : 1)) != 0)
                    status = 1;
            }
        }
        size_t n;
        bf_detector_results(det, &n);
        printf("%s %d [%s, %d thread(s)]: %zu detections\n", stem, size, bf_detector_isa(det),
               bf_detector_threads(det), n);
        free(rgb);
    }
    bf_detector_destroy(det);
    bf_model_close(model);
    return status;
}
