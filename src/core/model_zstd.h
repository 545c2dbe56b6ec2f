/*
 * model_zstd.h - .bfm files stored as one zstd frame (docs/model-format.md,
 * "Compressed models").
 *
 * A multi-ternary model's 2-bit planes are far from random (the upper planes
 * are mostly zero), so zstd -19 takes a third to a half off the file. The
 * frame's content is an ordinary .bfm, checked as one once inflated: the
 * compression is only a wrapper, never a second format. libzstd is optional
 * for the engine (BF_HAVE_ZSTD); a build without it refuses such a file with
 * a message that says how to read it.
 */
#ifndef BF_MODEL_ZSTD_H
#define BF_MODEL_ZSTD_H

#include <stddef.h>
#include <stdint.h>

#include "bitfalcon.h"

/* The 4 bytes that open every zstd frame (RFC 8878, 3.1.1), little-endian 0xFD2FB528. */
#define BF_ZSTD_MAGIC "\x28\xb5\x2f\xfd"

/* Whether data starts like a zstd frame. */
int bf_model_is_zstd(const void *data, size_t size);

/* Inflates the single zstd frame `data` (all `size` bytes of it, nothing after
 * it) into a new block aligned to `align` bytes and padded with zeros to a
 * multiple of it. The frame must declare its content size, at most
 * `max_content` bytes, and carry a checksum. On success *out (freed with
 * free()), *out_size and *out_alloc describe the block; `name` is for
 * messages. Errors are BF_ERR_FORMAT (not one well-formed frame, corrupt,
 * too large), BF_ERR_NOMEM, or BF_ERR_UNSUPPORTED in a build without zstd. */
bf_status bf_model_zstd_inflate(const void *data, size_t size, const char *name, uint64_t max_content, size_t align,
                                uint8_t **out, size_t *out_size, size_t *out_alloc, bf_error *err);

#endif /* BF_MODEL_ZSTD_H */
