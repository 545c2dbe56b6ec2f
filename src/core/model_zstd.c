/*
 * model_zstd.c - inflating a zstd-framed .bfm (model_zstd.h).
 *
 * The frame is untrusted input like the file it holds. It must declare its
 * content size, so the block is allocated once at its final size and a frame
 * that would inflate past the model size cap is refused before any allocation;
 * it must be a single frame that ends where the data ends, so nothing rides
 * behind it. Corruption shows as a zstd error here or, past zstd's own
 * checksum, as the inner file's CRC-32 mismatch in model.c.
 */
#include "model_zstd.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

#ifdef BF_HAVE_ZSTD
#include <zstd.h>
#endif

int bf_model_is_zstd(const void *data, size_t size)
{
    return data != NULL && size >= 4 && memcmp(data, BF_ZSTD_MAGIC, 4) == 0;
}

#ifdef BF_HAVE_ZSTD

bf_status bf_model_zstd_inflate(const void *data, size_t size, const char *name, uint64_t max_content, size_t align,
                                uint8_t **out, size_t *out_size, size_t *out_alloc, bf_error *err)
{
    *out = NULL;
    *out_size = 0;
    *out_alloc = 0;
    unsigned long long content = ZSTD_getFrameContentSize(data, size);
    if (content == ZSTD_CONTENTSIZE_ERROR)
        return bf_fail(err, BF_ERR_FORMAT, "%s: zstd-compressed model with a malformed frame header", name);
    if (content == ZSTD_CONTENTSIZE_UNKNOWN)
        return bf_fail(err, BF_ERR_FORMAT,
                       "%s: zstd-compressed model without its size in the frame header "
                       "(compress the file whole, e.g. `zstd -19 model.bfm`, not from a pipe)", name);
    if (content == 0)
        return bf_fail(err, BF_ERR_FORMAT, "%s: zstd-compressed model that inflates to 0 bytes", name);
    if ((uint64_t)content > max_content)
        return bf_fail(err, BF_ERR_FORMAT, "%s: zstd-compressed model inflates to %llu bytes, more than the %llu MB "
                       "model size limit", name, content, (unsigned long long)(max_content >> 20));
    size_t frame = ZSTD_findFrameCompressedSize(data, size);
    if (ZSTD_isError(frame))
        return bf_fail(err, BF_ERR_FORMAT, "%s: zstd-compressed model, truncated or corrupt: %s", name,
                       ZSTD_getErrorName(frame));
    if (frame != size)
        return bf_fail(err, BF_ERR_FORMAT, "%s: %zu bytes after the zstd frame (%zu bytes): one frame holding one "
                       "model is expected", name, size - frame, frame);
    size_t n = (size_t)content;
    size_t alloc = (n + align - 1) / align * align;
    uint8_t *block = aligned_alloc(align, alloc);
    if (block == NULL)
        return bf_fail(err, BF_ERR_NOMEM, "%s: out of memory inflating the model to %zu bytes", name, n);
    size_t got = ZSTD_decompress(block, n, data, size);
    if (ZSTD_isError(got)) {
        free(block);
        return bf_fail(err, BF_ERR_FORMAT, "%s: zstd-compressed model is corrupt: %s", name, ZSTD_getErrorName(got));
    }
    if (got != n) {
        free(block);
        return bf_fail(err, BF_ERR_FORMAT, "%s: zstd-compressed model inflated to %zu bytes, its header says %zu",
                       name, got, n);
    }
    memset(block + n, 0, alloc - n);
    *out = block;
    *out_size = n;
    *out_alloc = alloc;
    return BF_OK;
}

#else /* !BF_HAVE_ZSTD */

bf_status bf_model_zstd_inflate(const void *data, size_t size, const char *name, uint64_t max_content, size_t align,
                                uint8_t **out, size_t *out_size, size_t *out_alloc, bf_error *err)
{
    (void)data;
    (void)size;
    (void)max_content;
    (void)align;
    *out = NULL;
    *out_size = 0;
    *out_alloc = 0;
    return bf_fail(err, BF_ERR_UNSUPPORTED,
                   "%s: a zstd-compressed model, and this build of libbitfalcon was made without libzstd: "
                   "inflate it with `zstd -d` or rebuild with libzstd-dev installed", name);
}

#endif
