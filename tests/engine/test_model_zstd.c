/*
 * test_model_zstd.c - zstd-framed models (src/core/model_zstd.c,
 * docs/model-format.md "Compressed models").
 *
 * A synthetic model, compressed with the real libzstd, must load by all three
 * entry points (file, private copy, in-place parse) and give detections equal
 * to the plain file's, bit for bit. Frames that are not one whole,
 * size-declaring frame holding one valid model must fail with BF_ERR_FORMAT
 * and a message naming the file and the cause: truncated anywhere, bytes
 * after the frame, no content size, a declared size past the cap, flipped
 * bytes (caught by zstd or by the inner CRC-32; one zstd ignores must leave the
 * detections as they were), and a valid frame around a
 * corrupt .bfm.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "bitfalcon.h"
#include "model.h"
#include "model_builder.h"
#include "test_util.h"

static const char *NAME = "packed-model.bfm";

static uint8_t *compress(const uint8_t *src, size_t n, int content_size_flag, size_t *out_n)
{
    size_t cap = ZSTD_compressBound(n);
    uint8_t *dst = malloc(cap);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 19);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, content_size_flag);
    size_t got;
    if (content_size_flag) {
        got = ZSTD_compress2(cctx, dst, cap, src, n);
    } else {
        /* the streaming API with no pledged size: what `zstd < in > out` makes */
        ZSTD_inBuffer in = {src, n, 0};
        ZSTD_outBuffer out = {dst, cap, 0};
        got = ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end);
        if (!ZSTD_isError(got))
            got = out.pos;
    }
    ZSTD_freeCCtx(cctx);
    if (ZSTD_isError(got)) {
        CHECK(0, "ZSTD_compress2: %s", ZSTD_getErrorName(got));
        free(dst);
        return NULL;
    }
    *out_n = got;
    return dst;
}

/* Detections at a low threshold on a fixed image, as bytes to compare. */
static size_t detect(const bf_model *m, bf_detection *out, size_t cap)
{
    static uint8_t img[40 * 48 * 3];
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 37 + (i >> 5));
    bf_options opt;
    bf_options_default(&opt);
    opt.input_size = 32;
    opt.conf_threshold = 0.01f;
    bf_detector *d = NULL;
    bf_error err;
    if (bf_detector_create(m, &opt, &d, &err) != BF_OK) {
        CHECK(0, "bf_detector_create: %s", err.message);
        return 0;
    }
    CHECK(bf_detector_run(d, img, 48, 40, 48 * 3, BF_PIXEL_RGB, &err) == BF_OK, "run: %s", err.message);
    size_t count = 0;
    const bf_detection *det = bf_detector_results(d, &count);
    if (count > cap)
        count = cap;
    memcpy(out, det, count * sizeof *det);
    bf_detector_destroy(d);
    return count;
}

static void expect_fail(const char *what, const uint8_t *buf, size_t n, const char *cause)
{
    bf_model *sentinel = (bf_model *)(uintptr_t)0x1234;
    bf_model *m = sentinel;
    bf_error err;
    memset(&err, 0, sizeof err);
    bf_status st = bf_model_from_memory(buf, n, NAME, &m, &err);
    CHECK(st == BF_ERR_FORMAT, "%s: status %d (%s), want BF_ERR_FORMAT; message: %s", what, st, bf_status_str(st),
          err.message);
    CHECK(m == sentinel, "%s: out_model was written on failure", what);
    if (st == BF_OK && m != sentinel) {
        bf_model_close(m);
        return;
    }
    CHECK(strncmp(err.message, NAME, strlen(NAME)) == 0, "%s: message does not name the file: %s", what,
          err.message);
    CHECK(cause == NULL || strstr(err.message, cause) != NULL, "%s: message lacks '%s': %s", what, cause,
          err.message);
    /* bf_model_open_memory takes the same path through its private copy */
    m = sentinel;
    st = bf_model_open_memory(buf, n, &m, &err);
    CHECK(st == BF_ERR_FORMAT && m == sentinel, "%s: bf_model_open_memory status %d", what, st);
}

int main(void)
{
    mb_model *mb = mb_build_test_graph(2, 42); /* the multi-ternary variant */
    size_t plain_n;
    uint8_t *plain = mb_serialize(mb, &plain_n);
    size_t packed_n = 0;
    uint8_t *packed = compress(plain, plain_n, 1, &packed_n);
    if (packed == NULL)
        return 1;
    CHECK(packed_n < plain_n, "compressed %zu bytes, plain %zu", packed_n, plain_n);
    CHECK(memcmp(packed, "\x28\xb5\x2f\xfd", 4) == 0, "not a zstd frame");

    /* 1. loads three ways, detects the same */
    bf_error err;
    bf_model *ref = NULL;
    CHECK(bf_model_from_memory(plain, plain_n, NAME, &ref, &err) == BF_OK, "plain: %s", err.message);
    static bf_detection want[512], got[512];
    size_t n_want = ref ? detect(ref, want, 512) : 0;
    CHECK(n_want > 0, "the synthetic model detects nothing at conf 0.01: the comparison would be empty");

    bf_model *m = NULL;
    CHECK(bf_model_from_memory(packed, packed_n, NAME, &m, &err) == BF_OK, "from_memory: %s", err.message);
    if (m) {
        size_t n_got = detect(m, got, 512);
        CHECK(n_got == n_want && memcmp(got, want, n_want * sizeof *want) == 0,
              "from_memory: %zu detections differ from the plain model's %zu", n_got, n_want);
        CHECK(bf_model_num_classes(m) == bf_model_num_classes(ref), "class count");
        bf_model_close(m);
    }
    m = NULL;
    uint8_t *copy = malloc(packed_n);
    memcpy(copy, packed, packed_n);
    CHECK(bf_model_open_memory(copy, packed_n, &m, &err) == BF_OK, "open_memory: %s", err.message);
    memset(copy, 0xAA, packed_n); /* the model must not point into the caller's buffer */
    free(copy);
    if (m) {
        size_t n_got = detect(m, got, 512);
        CHECK(n_got == n_want && memcmp(got, want, n_want * sizeof *want) == 0, "open_memory: detections differ");
        bf_model_close(m);
    }
    char path[512];
    temp_path(path, sizeof path, "packed.bfm");
    CHECK(write_file(path, packed, packed_n) == 0, "cannot write %s", path);
    m = NULL;
    CHECK(bf_model_open(path, &m, &err) == BF_OK, "bf_model_open: %s", err.message);
    if (m) {
        size_t n_got = detect(m, got, 512);
        CHECK(n_got == n_want && memcmp(got, want, n_want * sizeof *want) == 0, "open: detections differ");
        bf_model_close(m);
    }
    unlink(path);
    if (ref)
        bf_model_close(ref);

    /* 2. frames that must be refused */
    for (size_t cut = 1; cut < packed_n; cut += (cut < 64 ? 1 : 97))
        expect_fail("truncated", packed, cut, NULL);
    uint8_t *longer = malloc(packed_n + 8);
    memcpy(longer, packed, packed_n);
    memset(longer + packed_n, 0, 8);
    expect_fail("trailing bytes", longer, packed_n + 8, "after the zstd frame");
    memcpy(longer + packed_n, packed, 8 < packed_n ? 8 : packed_n);
    expect_fail("a second frame's start", longer, packed_n + 8, "after the zstd frame");
    free(longer);

    size_t streamed_n = 0;
    uint8_t *streamed = compress(plain, plain_n, 0, &streamed_n);
    if (streamed) {
        expect_fail("no content size", streamed, streamed_n, "without its size");
        free(streamed);
    }

    /* A frame header declaring 2^40 bytes (single segment, 8-byte size field),
     * then one empty raw last block: refused from the header, nothing allocated. */
    uint8_t huge[4 + 1 + 8 + 3] = {0x28, 0xb5, 0x2f, 0xfd, 0xE0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0};
    expect_fail("declared size past the cap", huge, sizeof huge, "model size limit");

    rng r;
    rng_init(&r, test_seed(2027));
    int accepted = 0;
    uint8_t *flip = malloc(packed_n);
    for (int it = 0; it < 300; it++) {
        memcpy(flip, packed, packed_n);
        size_t at = rng_size(&r, 4, packed_n - 1);
        flip[at] ^= (uint8_t)(1u << rng_int(&r, 0, 7));
        bf_model *fm = NULL;
        bf_status st = bf_model_from_memory(flip, packed_n, NAME, &fm, &err);
        /* A flip zstd does not see (a frame header bit it ignores) must leave the
         * content as it was, or the inner CRC-32 refuses it: accepted means equal. */
        CHECK(st == BF_ERR_FORMAT || st == BF_OK, "flip at %zu: status %d (%s)", at, st, err.message);
        if (fm) {
            size_t n_got = detect(fm, got, 512);
            CHECK(n_got == n_want && memcmp(got, want, n_want * sizeof *want) == 0,
                  "flip at %zu accepted with different detections", at);
            accepted++;
            bf_model_close(fm);
        }
        if (check_failures > 10)
            break;
    }
    free(flip);
    CHECK(accepted < 30, "%d of 300 flipped frames accepted: the frame is not being checked", accepted);

    /* a well-formed frame around a .bfm with a wrong CRC: the inner check speaks */
    plain[plain_n / 2] ^= 1;
    size_t bad_n = 0;
    uint8_t *bad = compress(plain, plain_n, 1, &bad_n);
    if (bad) {
        expect_fail("valid frame, corrupt model", bad, bad_n, "checksum mismatch");
        free(bad);
    }

    free(packed);
    free(plain);
    mb_free(mb);
    if (check_failures) {
        fprintf(stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    fprintf(stderr, "ok: zstd-framed model: %zu -> %zu bytes, %zu detections equal; refused frames checked; "
            "%d of 300 flipped frames harmless and accepted\n", plain_n, packed_n, n_want, accepted);
    return 0;
}
