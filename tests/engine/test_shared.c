/*
 * test_shared.c - links against libbitfalcon.so only and calls every function
 * of include/bitfalcon.h: the build fails if the shared library does not
 * export one (the library is built with hidden visibility; BF_API marks the
 * API). With a model path it also opens the model and runs one tiny image.
 */
#include <stdio.h>
#include <string.h>

#include "bitfalcon.h"

int main(int argc, char **argv)
{
    int bad = 0;
    bf_options o;
    bf_options_default(&o);
    bf_error err;
    bf_model *m = NULL;
    bad |= bf_model_open("/nonexistent.bfm", &m, &err) != BF_ERR_IO;
    bad |= strcmp(bf_status_str(BF_ERR_IO), bf_status_str(BF_OK)) == 0;
    if (argc > 1) {
        /* A model was given: not opening it is a failure, not a reason to skip. */
        if (bf_model_open(argv[1], &m, &err) != BF_OK) {
            fprintf(stderr, "FAILED: %s: %s\n", argv[1], err.message);
            return 1;
        }
        o.input_size = 64;
        bf_detector *d = NULL;
        if (bf_detector_create(m, &o, &d, &err) != BF_OK) {
            fprintf(stderr, "FAILED: detector: %s\n", err.message);
            bf_model_close(m);
            return 1;
        }
        uint8_t px[2 * 2 * 3] = {0};
        bad |= bf_detector_run(d, px, 2, 2, 6, BF_PIXEL_RGB, &err) != BF_OK;
        size_t n = (size_t)-1;
        const bf_detection *r = bf_detector_results(d, &n);
        bad |= n == (size_t)-1 || (n > 0 && r == NULL); /* a black 2x2 image: the count is set */
        bad |= bf_detector_set_thresholds(d, 0.5f, 0.5f, &err) != BF_OK;
        /* a model from memory: the buffer may go at once */
        {
            FILE *f = fopen(argv[1], "rb");
            static uint8_t buf[8 << 20];
            size_t got = f ? fread(buf, 1, sizeof buf, f) : 0;
            if (f)
                fclose(f);
            bf_model *mm = NULL;
            bad |= got == 0 || bf_model_open_memory(buf, got, &mm, &err) != BF_OK;
            memset(buf, 0, got);
            bad |= mm == NULL || bf_model_num_classes(mm) != bf_model_num_classes(m);
            bf_model_close(mm);
        }
        bad |= bf_detector_num_outputs(d) < 2 || bf_detector_output(d, 0, NULL, NULL, NULL, NULL, NULL) == NULL;
        bad |= bf_detector_isa(d) == NULL || bf_model_num_classes(m) < 1 || bf_model_class_name(m, 0) == NULL ||
               bf_model_default_input_size(m) < 32;
        printf("ran %s through the shared library on isa %s: %zu detections\n", argv[1],
               bf_detector_isa(d) ? bf_detector_isa(d) : "?", n);
        bf_detector_destroy(d);
        bf_model_close(m);
    }
    if (bad)
        fprintf(stderr, "FAILED\n");
    return bad;
}
