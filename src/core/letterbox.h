/*
 * letterbox.h - the exact integer letterbox of docs/model-format.md
 * ("Pre-processing"): scale an 8-bit RGB/BGR image to fit S x S keeping its
 * aspect ratio, centre it on grey 114, and write the network input
 * q = pixel - 128 (int8 NHWC, RGB order) directly.
 *
 * Sampling is half-pixel-centred bilinear with 11-bit weights in pure integer
 * arithmetic, so the C engine and tools/simulate.py agree bit for bit.
 */
#ifndef BF_LETTERBOX_H
#define BF_LETTERBOX_H

#include <stddef.h>
#include <stdint.h>

#include "u8-letterbox/u8-letterbox.h"

/* BF_MAX_IMAGE_DIM, the largest accepted image side: it keeps every
 * coordinate product of the sampling arithmetic far inside 64 bits. */
#include "bitfalcon.h"

typedef struct bf_letterbox {
    int src_w, src_h; /* the image */
    int size;         /* S */
    int left, top;    /* where the scaled image starts */
    int nw, nh;       /* the scaled image's size */
    double r;         /* min(S / w, S / h): un-letterboxing divides by it */
} bf_letterbox;

/* Geometry for a w x h image (1..BF_MAX_IMAGE_DIM) into S x S. */
void bf_letterbox_geometry(int w, int h, int size, bf_letterbox *lb);

/* Words of the per-column tables (bf_letterbox_tables) for S. */
static inline size_t bf_letterbox_table_words(int size)
{
    return 3 * (size_t)size;
}

/* Words bf_letterbox_rows needs for its two horizontal-pass row buffers
 * (each S x 3 unrounded blends), one set per thread. */
static inline size_t bf_letterbox_row_words(int size)
{
    return 6 * (size_t)size;
}

/* Words of scratch bf_letterbox_run needs for S: the per-column tables
 * (3 x S) and one set of row buffers. */
static inline size_t bf_letterbox_scratch_words(int size)
{
    return bf_letterbox_table_words(size) + bf_letterbox_row_words(size);
}

/* Writes S * S * 3 int8 values to `out`. `pixels` has lb->src_h rows of
 * lb->src_w * 3 bytes, `stride` bytes apart; bgr != 0 swaps the R and B
 * bytes of the input (the output is always RGB). */
void bf_letterbox_run(const bf_letterbox *lb, const uint8_t *pixels, size_t stride, int bgr, int32_t *scratch,
                      int8_t *out);

/* bf_letterbox_run in two steps, for threads: the per-column tables
 * (bf_letterbox_table_words) into `tables` once, then any split of the output rows
 * [y_begin, y_end). Rows are independent: each call reads only `tables` and
 * the image, and needs its own `row_buffers` (bf_letterbox_row_words). */
void bf_letterbox_tables(const bf_letterbox *lb, int32_t *tables);
void bf_letterbox_rows(const bf_letterbox *lb, const uint8_t *pixels, size_t stride, int bgr, const int32_t *tables,
                       uint32_t *row_buffers, int8_t *out, int y_begin, int y_end);
/* The same with the row passes of `k` (kernels/u8-letterbox/: the
 * horizontal pass and the vertical blend; the same bytes from every path).
 * bf_letterbox_rows and bf_letterbox_run use bf_u8_letterbox_select(NULL),
 * the best this CPU runs. */
void bf_letterbox_rows_with(const bf_letterbox *lb, const uint8_t *pixels, size_t stride, int bgr,
                            const int32_t *tables, uint32_t *row_buffers, int8_t *out, int y_begin, int y_end,
                            const bf_u8_letterbox_config *k);

#endif /* BF_LETTERBOX_H */
