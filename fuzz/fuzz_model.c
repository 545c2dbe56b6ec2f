/*
 * fuzz_model.c - libFuzzer target: the .bfm loader/validator from memory
 * (bf_model_from_memory, the same parser bf_model_open runs on its mapping).
 *
 * A mutated file almost never keeps a valid trailing CRC-32 or header file
 * size, which would stop every input at the checksum. So the harness first
 * fixes both (header bytes 16..23 = the input's size, the last 4 bytes = the
 * CRC of the rest), unless bit 0 of byte 63 is set: byte 63 lies in the
 * reserved header field, which must be zero, so such an input can never load
 * and goes in exactly as given, exercising the size and checksum checks.
 *
 * A model that validates is then run: a detector at the smallest input size
 * on a tiny image, so that "the rest of the engine may trust what it finds"
 * (model.h) is checked as well, not only the validator's verdict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bitfalcon.h"
#include "crc32.h"
#include "model.h"

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* libFuzzer's entry point, called by name. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > ((size_t)1 << 30))
        return 0;
    /* Tensor data must be 64-byte aligned in memory, as in a mapping. */
    size_t cap = (size + 63) / 64 * 64;
    uint8_t *buf = aligned_alloc(64, cap ? cap : 64);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    int raw = size >= 64 && (buf[63] & 1);
    if (!raw && size >= 64 + 4) {
        uint64_t n = size;
        for (int i = 0; i < 8; i++)
            buf[16 + i] = (uint8_t)(n >> (8 * i));
        put_u32(buf + size - 4, bf_crc32(0, buf, size - 4));
    }
    bf_model *m = NULL;
    bf_error err;
    bf_status st = bf_model_from_memory(buf, size, "fuzz.bfm", &m, &err);
    if (st != BF_OK && st != BF_ERR_FORMAT)
        abort(); /* only format errors are expected from bytes */
    if (st == BF_OK) {
        /* the class names are usable */
        for (int i = 0; i < bf_model_num_classes(m); i++)
            if (!bf_model_class_name(m, i))
                abort();
        bf_options opt;
        bf_options_default(&opt);
        opt.input_size = 32;
        opt.threads = 1;
        bf_detector *det = NULL;
        if (bf_detector_create(m, &opt, &det, &err) == BF_OK) {
            uint8_t img[40 * 24 * 3];
            for (size_t i = 0; i < sizeof img; i++)
                img[i] = (uint8_t)(i * 7);
            if (bf_detector_run(det, img, 40, 24, 40 * 3, BF_PIXEL_RGB, &err) == BF_OK) {
                size_t n = 0;
                const bf_detection *d = bf_detector_results(det, &n);
                for (size_t i = 0; i < n; i++)
                    if (d[i].class_id < 0 || d[i].class_id >= bf_model_num_classes(m))
                        abort();
            }
            bf_detector_destroy(det);
        }
        bf_model_close(m);
    }
    free(buf);
    return 0;
}
