/*
 * test_loader.c - the model loader on hostile input: empty, truncated, flipped
 * bytes anywhere, bad magic/version/byte order, text, and CRC-correct files
 * with corrupted fields (each must fail with BF_ERR_FORMAT or BF_ERR_IO, a
 * one-line message naming the file and the cause, and its out-parameter
 * untouched), plus a mutation fuzz that must never crash.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bitfalcon.h"
#include "model.h"
#include "model_builder.h"
#include "test_util.h"

static const char *NAME = "corrupt-model.bfm";

/* Loads an in-memory image; expects failure with `want` and a message that
 * names the file and contains `cause` (when not NULL). */
static void expect_fail_mem(const char *what, const uint8_t *buf, size_t n, bf_status want, const char *cause)
{
    bf_model *sentinel = (bf_model *)(uintptr_t)0x1234;
    bf_model *m = sentinel;
    bf_error err;
    memset(&err, 0, sizeof err);
    bf_status st = bf_model_from_memory(buf, n, NAME, &m, &err);
    CHECK(st == want, "%s: status %d (%s), want %d; message: %s", what, st, bf_status_str(st), want, err.message);
    CHECK(m == sentinel, "%s: out_model was written on failure", what);
    if (st == BF_OK && m != sentinel) {
        bf_model_close(m);
        return;
    }
    CHECK(err.status == st, "%s: err.status %d != returned %d", what, err.status, st);
    CHECK(strncmp(err.message, NAME, strlen(NAME)) == 0, "%s: message does not name the file: %s", what, err.message);
    CHECK(cause == NULL || strstr(err.message, cause) != NULL, "%s: message lacks '%s': %s", what, cause, err.message);
    CHECK(strchr(err.message, '\n') == NULL, "%s: message has a newline", what);
}

/* The same through a real file and bf_model_open. */
static void expect_fail_file(const char *what, const void *buf, size_t n, bf_status want, const char *cause)
{
    char path[512];
    temp_path(path, sizeof path, "loader.bfm");
    if (write_file(path, buf, n) != 0) {
        CHECK(0, "%s: cannot write %s", what, path);
        return;
    }
    bf_model *sentinel = (bf_model *)(uintptr_t)0x1234;
    bf_model *m = sentinel;
    bf_error err;
    memset(&err, 0, sizeof err);
    bf_status st = bf_model_open(path, &m, &err);
    CHECK(st == want, "%s: status %d, want %d; message: %s", what, st, want, err.message);
    CHECK(m == sentinel, "%s: out_model was written on failure", what);
    CHECK(strstr(err.message, path) == err.message, "%s: message does not start with the path: %s", what, err.message);
    CHECK(cause == NULL || strstr(err.message, cause) != NULL, "%s: message lacks '%s': %s", what, cause, err.message);
    if (st == BF_OK && m != sentinel)
        bf_model_close(m);
    unlink(path);
}

static int loads(const uint8_t *buf, size_t n, bf_error *err)
{
    bf_model *m = NULL;
    if (bf_model_from_memory(buf, n, NAME, &m, err) != BF_OK)
        return 0;
    bf_model_close(m);
    return 1;
}

/* Serialise, let `edit` change bytes, fix the CRC, expect a failure. */
typedef void (*edit_fn)(mb_model *mb, uint8_t *buf, size_t n);

static void corrupt_case_on(int variant, const char *what, edit_fn edit, const char *cause)
{
    mb_model *mb = mb_build_test_graph(variant, 42);
    size_t n;
    uint8_t *buf = mb_serialize(mb, &n);
    edit(mb, buf, n);
    mb_fix_crc(buf, n);
    expect_fail_mem(what, buf, n, BF_ERR_FORMAT, cause);
    free(buf);
    mb_free(mb);
}

static void corrupt_case(const char *what, edit_fn edit, const char *cause)
{
    corrupt_case_on(0, what, edit, cause);
}

/* ---- the edits ------------------------------------------------------------ */

static uint32_t first_conv(const mb_model *mb, int skip)
{
    for (uint32_t i = 0; i < mb->n_layers; i++)
        if (mb->layers[i].op == MB_CONV && skip-- == 0)
            return i;
    return 0;
}
static uint32_t first_op(const mb_model *mb, uint32_t op)
{
    for (uint32_t i = 0; i < mb->n_layers; i++)
        if (mb->layers[i].op == op)
            return i;
    abort();
}
#define TENSOR(i) (buf + mb_tensor_entry(mb, (i)))
#define VALUE(i) (buf + mb_value_entry(mb, (i)))
#define LAYER(i) (buf + mb_layer_entry(mb, (i)))
#define OUTPUT(i) (buf + mb_output_entry(mb, (i)))

static void e_offset_oob(mb_model *mb, uint8_t *buf, size_t n) { mb_put_u64(TENSOR(3) + 88, ((uint64_t)n / 64 + 10) * 64); }
static void e_offset_wrap(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u64(TENSOR(3) + 88, UINT64_MAX - 63); }
static void e_offset_misaligned(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u64(TENSOR(3) + 88, mb->tensors[3].offset + 1); }
static void e_offset_in_tables(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u64(TENSOR(3) + 88, 64); }
static void e_overlap(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u64(TENSOR(4) + 88, mb->tensors[3].offset); }
static void e_forward_ref(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    mb_put_u32(LAYER(1) + 8, mb->layers[5].output); /* layer 1 reads what layer 5 writes */
}
static void e_cycle(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    mb_put_u32(LAYER(2) + 8, mb->layers[2].output); /* reads its own output */
}
static void e_huge_dims(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    uint8_t *e = TENSOR(3);
    mb_put_u32(e + 68, 4);
    for (int d = 0; d < 4; d++)
        mb_put_u32(e + 72 + 4 * d, 0xFFFFFFFFu);
}
static void e_dims_product_wraps_to_nbytes(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    /* 2^16 x 2^16 x 2^16 x 2^16 = 2^64 wraps to 0 in 64 bits: an unchecked
     * product would "match" nbytes 0 */
    uint8_t *e = TENSOR(3);
    mb_put_u32(e + 68, 4);
    for (int d = 0; d < 4; d++)
        mb_put_u32(e + 72 + 4 * d, 65536);
    mb_put_u64(e + 96, 0);
}
static void e_code_11(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    uint32_t t = mb->layers[first_conv(mb, 0)].tensors[0];
    buf[mb->tensors[t].offset + 2] |= 0x30; /* weight 10 := 11 */
}
static void e_padding_weight(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    /* the first conv: K = 27, row_bytes 16; weight 40 lies in the padding */
    uint32_t t = mb->layers[first_conv(mb, 0)].tensors[0];
    buf[mb->tensors[t].offset + 10] = 0x01;
}
static void e_padding_partial_byte(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    /* K = 27: byte 6 holds weights 24..27, weight 27 is padding (bits 6-7) */
    uint32_t t = mb->layers[first_conv(mb, 0)].tensors[0];
    buf[mb->tensors[t].offset + 6] = (uint8_t)((buf[mb->tensors[t].offset + 6] & 0x3f) | 0x40);
}
static void e_value_channels(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    uint32_t v = mb->layers[first_conv(mb, 1)].output;
    mb_put_u32(VALUE(v), mb->values[v].channels + 1);
}
static void e_conv_in_c(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    uint32_t l = first_conv(mb, 1);
    mb_put_u32(LAYER(l) + 48 + 4 * 4, (uint32_t)mb->layers[l].params[4] + 1);
}
static void e_value_stride(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    uint32_t v = mb->layers[first_conv(mb, 1)].output;
    mb_put_u32(VALUE(v) + 4, mb->values[v].stride * 2);
}
static void e_value_stride_bad(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(VALUE(2) + 4, 3); }
static void e_nbytes(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u64(TENSOR(3) + 96, mb->tensors[3].nbytes - 1); }
static void e_dup_name(mb_model *mb, uint8_t *buf, size_t n) { (void)n; memcpy(TENSOR(4), TENSOR(3), 64); }
static void e_name_unprintable(mb_model *mb, uint8_t *buf, size_t n) { (void)n; TENSOR(3)[1] = 0x07; }
static void e_name_unterminated(mb_model *mb, uint8_t *buf, size_t n) { (void)n; memset(TENSOR(3), 'a', 64); }
static void e_name_garbage_after_nul(mb_model *mb, uint8_t *buf, size_t n) { (void)n; TENSOR(3)[62] = 'x'; }
static void e_dtype(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(TENSOR(3) + 64, 9); }
static void e_ndim(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(TENSOR(3) + 68, 5); }
static void e_unknown_op(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(3), 9); }
static void e_shift_63(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    uint32_t t = mb->layers[first_conv(mb, 0)].tensors[3];
    mb_put_u32(buf + mb->tensors[t].offset + 4, 63);
}
static void e_mult_negative(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    uint32_t t = mb->layers[first_conv(mb, 0)].tensors[2];
    mb_put_u32(buf + mb->tensors[t].offset, 0x80000000u);
}
static void e_bias_overflow(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    uint32_t t = mb->layers[first_conv(mb, 0)].tensors[1];
    mb_put_u32(buf + mb->tensors[t].offset, 0x7ffffff0u);
}
static void e_add_shift(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_op(mb, MB_ADD)) + 48 + 8, 63); }
static void e_concat_mult(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_op(mb, MB_CONCAT)) + 48, 0xFFFFFFFFu); }
static void e_slice_range(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_op(mb, MB_SLICE)) + 48, 12); }
static void e_maxpool_pad(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_op(mb, MB_MAXPOOL)) + 48 + 8, 5); }
static void e_upsample_factor(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_op(mb, MB_UPSAMPLE)) + 48, 64); }
static void e_kernel_8(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_conv(mb, 0)) + 48, 8); }
static void e_pad_ge_k(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_conv(mb, 0)) + 48 + 12, 3); }
static void e_stride_5(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_conv(mb, 0)) + 48 + 8, 5); }
static void e_geometry(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n; /* 3x3 stride 1 pad 0 shrinks the map: not input / stride */
    mb_put_u32(LAYER(first_conv(mb, 3)) + 48 + 12, 0);
}
static void e_act(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_conv(mb, 0)) + 48 + 24, 3); }
static void e_n_terms(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_conv(mb, 0)) + 48 + 28, 2); }
static void e_n_terms_0(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_conv(mb, 0)) + 48 + 28, 0); }
static void e_n_terms_6(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_conv(mb, 0)) + 48 + 28, 6); }
static void e_n_terms_negative(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_conv(mb, 0)) + 48 + 28, 0xFFFFFFFFu); }

/* ---- multi-ternary edits (on graph variant 2) ----------------------------- */

/* The first conv with n_terms == terms (skipping `skip` of them). */
static uint32_t conv_with_terms(const mb_model *mb, int terms, int skip)
{
    for (uint32_t i = 0; i < mb->n_layers; i++)
        if (mb->layers[i].op == MB_CONV && mb->layers[i].params[7] == terms && skip-- == 0)
            return i;
    abort();
}
static size_t conv_k(const mb_model *mb, uint32_t l)
{
    const int32_t *p = mb->layers[l].params;
    return (size_t)p[0] * (size_t)p[1] * (size_t)p[4];
}
/* The weights (3 planes of out_c rows) read as 2 planes: rows != 2 x out_c. */
static void e_terms_3_as_2(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(conv_with_terms(mb, 3, 0)) + 48 + 28, 2); }
/* ... and 2 planes read as 3 (the tensor is too short). */
static void e_terms_2_as_3(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(conv_with_terms(mb, 2, 0)) + 48 + 28, 3); }
/* A k = 5 layer read as plain ternary. */
static void e_terms_5_as_1(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(conv_with_terms(mb, 5, 0)) + 48 + 28, 1); }
/* A bias inside the k = 1 bound (|b| + 128 K <= INT32_MAX) but not inside the
 * k = 5 one (|b| + 128 K L, L = 121). */
static int32_t bias_past_terms_bound(const mb_model *mb, uint32_t l, int levels, int sign)
{
    int64_t reach = (int64_t)128 * (int64_t)conv_k(mb, l) * levels;
    return (int32_t)(sign > 0 ? (int64_t)INT32_MAX - reach + 1 : (int64_t)INT32_MIN + reach - 1);
}
static void e_terms_bias_overflow(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    uint32_t l = conv_with_terms(mb, 5, 0), t = mb->layers[l].tensors[1];
    mb_put_u32(buf + mb->tensors[t].offset + 4 * 3, (uint32_t)bias_past_terms_bound(mb, l, 121, 1));
}
static void e_terms_bias_underflow(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n; /* the raw head conv with k = 3 (L = 13) */
    uint32_t l = conv_with_terms(mb, 3, 3), t = mb->layers[l].tensors[1];
    if (mb->layers[l].params[6] != 2)
        abort();
    mb_put_u32(buf + mb->tensors[t].offset, (uint32_t)bias_past_terms_bound(mb, l, 13, -1));
}
/* A non-zero padding weight in the last plane of the first (k = 3) conv:
 * K = 27, row_bytes 16, weight 40 of row 2 * out_c. */
static void e_terms_padding_weight(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    uint32_t l = conv_with_terms(mb, 3, 0), t = mb->layers[l].tensors[0];
    size_t row = 2 * (size_t)mb->layers[l].params[5] + 1;
    buf[mb->tensors[t].offset + row * 16 + 40 / 4] = 0x01;
}
/* Code 11 in the second plane. */
static void e_terms_code_11(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    uint32_t l = conv_with_terms(mb, 2, 0), t = mb->layers[l].tensors[0];
    size_t row = (size_t)mb->layers[l].params[5];
    buf[mb->tensors[t].offset + row * mb->tensors[t].dims[1]] |= 0x03;
}
static void e_tensor_index(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_conv(mb, 0)) + 112 + 4, 5000); }
static void e_tensor_role_dtype(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n; /* bias slot names the weights (T2) */
    mb_put_u32(LAYER(first_conv(mb, 0)) + 112 + 4, mb->layers[first_conv(mb, 0)].tensors[0]);
}
static void e_tensor_role_shape(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n; /* bias of conv 1 given to conv 0 (different out_c) */
    mb_put_u32(LAYER(first_conv(mb, 0)) + 112 + 4, mb->layers[first_conv(mb, 1)].tensors[1]);
}
static void e_missing_silu(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(first_conv(mb, 0)) + 112 + 16, MB_NONE); }
static void e_n_inputs(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(2) + 4, 0); }
static void e_unused_input(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(2) + 8 + 4 * 3, 0); }
static void e_input_oob(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(2) + 8, 4000); }
static void e_output_twice(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(3) + 40, mb->layers[2].output); }
static void e_output_zero(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(3) + 40, 0); }
static void e_producer(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(VALUE(5) + 20, 0); }
static void e_value0(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(VALUE(0) + 8, 0); }
static void e_value_zp(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(VALUE(4) + 8, 3); }
static void e_value_scale(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(VALUE(4) + 12, 0x7fc00000u); }
static void e_value_dtype(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(VALUE(4) + 16, 3); }
static void e_i32_input(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n; /* the last layer reads the first head output (I32) */
    mb_put_u32(LAYER(mb->n_layers - 1) + 8, mb->outputs[0].value);
}
static void e_output_kind(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(OUTPUT(0) + 4, 1); }
static void e_output_stride(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(OUTPUT(2) + 8, 8); }
static void e_output_value_i8(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(OUTPUT(0), 1); }
static void e_output_dequant(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(OUTPUT(0) + 12, mb->outputs[1].dequant); }
static void e_output_order(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n; /* swap the stride-8 and stride-16 pairs */
    uint8_t tmp[32];
    memcpy(tmp, OUTPUT(0), 32);
    memcpy(OUTPUT(0), OUTPUT(2), 32);
    memcpy(OUTPUT(2), tmp, 32);
}
static void e_class_count(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(buf + 40, mb->num_classes + 1); }
static void e_class_names_unterminated(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    buf[mb->tensors[0].offset + mb->tensors[0].nbytes - 1] = 'x';
}
static void e_class_name_byte(mb_model *mb, uint8_t *buf, size_t n) { (void)n; buf[mb->tensors[0].offset] = 0x01; }
static void e_tensor_count(mb_model *mb, uint8_t *buf, size_t n) { (void)mb; (void)n; mb_put_u32(buf + 24, 5000); }
static void e_tables_past_end(mb_model *mb, uint8_t *buf, size_t n) { (void)mb; (void)n; mb_put_u32(buf + 28, 4000); }
static void e_outputs_zero(mb_model *mb, uint8_t *buf, size_t n) { (void)mb; (void)n; mb_put_u32(buf + 36, 0); }
static void e_default_size(mb_model *mb, uint8_t *buf, size_t n) { (void)mb; (void)n; mb_put_u32(buf + 48, 100); }
static void e_flags(mb_model *mb, uint8_t *buf, size_t n) { (void)mb; (void)n; mb_put_u32(buf + 52, 1); }
static void e_reserved(mb_model *mb, uint8_t *buf, size_t n) { (void)mb; (void)n; buf[60] = 1; }
static void e_layer_reserved(mb_model *mb, uint8_t *buf, size_t n) { (void)n; mb_put_u32(LAYER(1) + 44, 1); }
static void e_tensor_reserved(mb_model *mb, uint8_t *buf, size_t n) { (void)n; TENSOR(2)[120] = 1; }
static void e_padding_bytes(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n; /* a byte in the alignment gap after tensor 0 (class names) */
    buf[mb->tensors[0].offset + mb->tensors[0].nbytes] = 0xAA;
}
static void e_dequant_nan(mb_model *mb, uint8_t *buf, size_t n)
{
    (void)n;
    mb_put_u32(buf + mb->tensors[mb->outputs[1].dequant].offset, 0x7f800000u);
}

static const struct {
    const char *what;
    edit_fn edit;
    const char *cause;
} cases[] = {
    {"offset past the end", e_offset_oob, "outside the data region"},
    {"offset + nbytes wraps", e_offset_wrap, "outside the data region"},
    {"misaligned offset", e_offset_misaligned, "not a multiple of 64"},
    {"offset inside the tables", e_offset_in_tables, "outside the data region"},
    {"overlapping tensors", e_overlap, "overlaps"},
    {"forward reference", e_forward_ref, "forward or cyclic"},
    {"cyclic reference", e_cycle, "forward or cyclic"},
    {"huge dims", e_huge_dims, "overflows"},
    {"dims product wraps", e_dims_product_wraps_to_nbytes, "overflows"},
    {"T2 code 11", e_code_11, "invalid ternary code 11"},
    {"non-zero padding weight", e_padding_weight, "padding weights"},
    {"non-zero padding weight in a shared byte", e_padding_partial_byte, "padding weights"},
    {"wrong value channels", e_value_channels, "channels"},
    {"wrong conv in_c", e_conv_in_c, "in_c"},
    {"wrong value stride", e_value_stride, "stride"},
    {"invalid value stride", e_value_stride_bad, "stride 3"},
    {"nbytes mismatch", e_nbytes, "nbytes"},
    {"duplicate tensor name", e_dup_name, "duplicate tensor name"},
    {"non-printable name", e_name_unprintable, "non-printable"},
    {"unterminated name", e_name_unterminated, "NUL-terminated"},
    {"name not NUL-padded", e_name_garbage_after_nul, "NUL-padded"},
    {"unknown dtype", e_dtype, "unknown dtype"},
    {"ndim 5", e_ndim, "ndim"},
    {"unknown op", e_unknown_op, "unknown op"},
    {"shift 63", e_shift_63, "shift"},
    {"negative mult", e_mult_negative, "mult"},
    {"bias overflows int32", e_bias_overflow, "overflow int32"},
    {"add shift 63", e_add_shift, "shift"},
    {"concat mult -1", e_concat_mult, "mult"},
    {"slice out of range", e_slice_range, "outside the input"},
    {"maxpool pad >= k", e_maxpool_pad, "maxpool"},
    {"upsample factor 64", e_upsample_factor, "factor"},
    {"kernel 8", e_kernel_8, "kernel"},
    {"pad >= k", e_pad_ge_k, "pad"},
    {"stride 5", e_stride_5, "stride 5"},
    {"geometry not input/stride", e_geometry, "do not give"},
    {"activation 3", e_act, "activation"},
    {"n_terms 2 on one plane of weights", e_n_terms, "weights (n_terms 2 x out_c 8 rows) tensor"},
    {"n_terms 0", e_n_terms_0, "n_terms 0 outside 1..5"},
    {"n_terms 6", e_n_terms_6, "n_terms 6 outside 1..5"},
    {"n_terms -1", e_n_terms_negative, "n_terms -1 outside 1..5"},
    {"tensor index out of range", e_tensor_index, "out of range"},
    {"tensor of the wrong dtype", e_tensor_role_dtype, "is T2, expected I32"},
    {"tensor of the wrong shape", e_tensor_role_shape, "shape"},
    {"missing SiLU table", e_missing_silu, "missing SiLU table"},
    {"zero inputs", e_n_inputs, "inputs"},
    {"unused input slot", e_unused_input, "unused input slot"},
    {"input out of range", e_input_oob, "out of range"},
    {"value produced twice", e_output_twice, "producer"},
    {"layer writes value 0", e_output_zero, "producer"},
    {"producer mismatch", e_producer, "producer"},
    {"input value zero point", e_value0, "value 0"},
    {"non-zero zero point", e_value_zp, "zero point"},
    {"NaN scale", e_value_scale, "scale"},
    {"I8 value marked I32", e_value_dtype, "I32"},
    {"layer reads an I32 head output", e_i32_input, "expected I8"},
    {"output kind", e_output_kind, "kind"},
    {"output stride", e_output_stride, "stride"},
    {"output of an I8 value", e_output_value_i8, "expected I32"},
    {"output dequant shape", e_output_dequant, "dequant"},
    {"outputs out of order", e_output_order, "stride"},
    {"class count vs head channels", e_class_count, "expected 6"},
    {"last class name unterminated", e_class_names_unterminated, "not terminated"},
    {"class name byte", e_class_name_byte, "non-printable"},
    {"tensor count", e_tensor_count, "tensor count"},
    {"tables past the end", e_tables_past_end, "truncated"},
    {"zero outputs", e_outputs_zero, "output count"},
    {"default size", e_default_size, "default input size"},
    {"flags", e_flags, "flags"},
    {"reserved header", e_reserved, "reserved"},
    {"reserved layer field", e_layer_reserved, "reserved"},
    {"reserved tensor bytes", e_tensor_reserved, "reserved"},
    {"non-zero padding bytes", e_padding_bytes, "padding"},
    {"infinite dequant", e_dequant_nan, "non-finite"},
};

/* On the multi-ternary graph (mb_build_test_graph variant 2). */
static const struct {
    const char *what;
    edit_fn edit;
    const char *cause;
} terms_cases[] = {
    {"3 weight planes read as n_terms 2", e_terms_3_as_2, "expected [16, 16]"},
    {"2 weight planes read as n_terms 3", e_terms_2_as_3, "weights (n_terms 3 x out_c 16 rows)"},
    {"5 weight planes read as n_terms 1", e_terms_5_as_1, "weights tensor"},
    {"bias overflows the n_terms 5 bound", e_terms_bias_overflow, "overflow int32 (n_terms 5"},
    {"bias underflows the n_terms 3 bound", e_terms_bias_underflow, "overflow int32 (n_terms 3"},
    {"non-zero padding weight in plane 2", e_terms_padding_weight, "plane 2 row 1 has non-zero padding weights"},
    {"T2 code 11 in plane 1", e_terms_code_11, "invalid ternary code 11"},
};

/* The bias bound is exact: at |b| = INT32_MAX - 128 K L the k = 5 layer loads,
 * and the multi-ternary graph loads as built. */
static void terms_edges(void)
{
    mb_model *mb = mb_build_test_graph(2, 42);
    size_t n;
    uint8_t *buf = mb_serialize(mb, &n);
    bf_error err;
    CHECK(loads(buf, n, &err), "the multi-ternary graph must load: %s", err.message);
    uint32_t l = conv_with_terms(mb, 5, 0), t = mb->layers[l].tensors[1];
    mb_put_u32(buf + mb->tensors[t].offset, (uint32_t)(bias_past_terms_bound(mb, l, 121, 1) - 1));
    mb_put_u32(buf + mb->tensors[t].offset + 4, (uint32_t)(bias_past_terms_bound(mb, l, 121, -1) + 1));
    mb_fix_crc(buf, n);
    CHECK(loads(buf, n, &err), "bias at the n_terms 5 bound must load: %s", err.message);
    free(buf);
    mb_free(mb);
}

/* ---- file-level cases ------------------------------------------------------ */

static void file_cases(const uint8_t *good, size_t n)
{
    expect_fail_file("zero-byte file", "", 0, BF_ERR_FORMAT, "empty file (0 bytes)");
    expect_fail_file("truncated by half", good, n / 2, BF_ERR_FORMAT, "truncated: header says");
    expect_fail_file("truncated header", good, 40, BF_ERR_FORMAT, "truncated");
    expect_fail_file("truncated by one byte", good, n - 1, BF_ERR_FORMAT, "truncated");
    const char *text = "BitFalcon model\nthis is a text file, not a model\n";
    expect_fail_file("text file", text, strlen(text), BF_ERR_FORMAT, "not a BitFalcon model (bad magic)");
    expect_fail_file("three bytes", "BFL", 3, BF_ERR_FORMAT, "bad magic");

    uint8_t *b = malloc(n + 16);
    memcpy(b, good, n);
    b[0] = 'X';
    expect_fail_file("bad magic", b, n, BF_ERR_FORMAT, "not a BitFalcon model (bad magic)");
    memcpy(b, good, n);
    mb_put_u32(b + 4, 2);
    expect_fail_file("version 2", b, n, BF_ERR_FORMAT, "version 2");
    mb_fix_crc(b, n);
    expect_fail_file("version 2 with a good CRC", b, n, BF_ERR_FORMAT, "version 2");
    memcpy(b, good, n);
    mb_put_u32(b + 8, 0x04030201u);
    expect_fail_file("big-endian", b, n, BF_ERR_FORMAT, "big-endian");
    memcpy(b, good, n);
    mb_put_u32(b + 12, 128);
    expect_fail_file("header size", b, n, BF_ERR_FORMAT, "header size");
    memcpy(b, good, n);
    memset(b + n, 0, 16);
    expect_fail_file("trailing bytes", b, n + 16, BF_ERR_FORMAT, "trailing data");
    memcpy(b, good, n);
    b[n - 1] ^= 0x10;
    expect_fail_file("checksum", b, n, BF_ERR_FORMAT, "checksum mismatch (stored");
    free(b);

    /* not a file */
    bf_model *m = NULL;
    bf_error err;
    CHECK(bf_model_open("/nonexistent/dir/model.bfm", &m, &err) == BF_ERR_IO && m == NULL, "missing file: %s",
          err.message);
    CHECK(strstr(err.message, "/nonexistent/dir/model.bfm") != NULL, "missing file message: %s", err.message);
    CHECK(bf_model_open("/tmp", &m, &err) == BF_ERR_IO && m == NULL, "directory: %s", err.message);
    CHECK(bf_model_open(NULL, &m, &err) == BF_ERR_ARGUMENT, "NULL path");
    CHECK(bf_model_open("x", NULL, &err) == BF_ERR_ARGUMENT, "NULL out");
    CHECK(bf_model_open("/nonexistent", &m, NULL) == BF_ERR_IO, "NULL err is allowed");

    /* the good file loads, through a real file too */
    char path[512];
    temp_path(path, sizeof path, "good.bfm");
    CHECK(write_file(path, good, n) == 0, "write");
    CHECK(bf_model_open(path, &m, &err) == BF_OK, "good model: %s", err.message);
    if (m != NULL) {
        CHECK(bf_model_num_classes(m) == 5, "classes %d", bf_model_num_classes(m));
        CHECK(bf_model_default_input_size(m) == 64, "default size");
        CHECK(bf_model_class_name(m, 0) != NULL && strcmp(bf_model_class_name(m, 0), "c0") == 0, "name 0");
        CHECK(bf_model_class_name(m, 4) != NULL && strcmp(bf_model_class_name(m, 4), "c4") == 0, "name 4");
        CHECK(bf_model_class_name(m, 5) == NULL && bf_model_class_name(m, -1) == NULL, "bad class id");
        bf_model_close(m);
    }
    unlink(path);
    bf_model_close(NULL);
    CHECK(bf_model_num_classes(NULL) == 0 && bf_model_class_name(NULL, 0) == NULL, "NULL model getters");
}

/* Every header byte and many others, one bit flipped each: always refused. */
static void flipped_bytes(const uint8_t *good, size_t n, rng *r)
{
    uint8_t *b = malloc(n);
    int tried = 0;
    for (size_t pos = 0; pos < n; pos += (pos < 128 ? 1 : (size_t)rng_int(r, 1, (int)(n / 300) + 1))) {
        memcpy(b, good, n);
        b[pos] ^= (uint8_t)(1u << rng_int(r, 0, 7));
        char what[64];
        snprintf(what, sizeof what, "flipped byte %zu", pos);
        expect_fail_mem(what, b, n, BF_ERR_FORMAT, NULL);
        tried++;
        if (check_failures > 20)
            break;
    }
    for (size_t pos = n - 4; pos < n; pos++) {
        memcpy(b, good, n);
        b[pos] ^= 0x01;
        expect_fail_mem("flipped CRC byte", b, n, BF_ERR_FORMAT, "checksum mismatch");
    }
    fprintf(stderr, "flipped %d positions\n", tried);
    free(b);
}

/* Random edits of the header and tables with the CRC fixed: the loader
 * either refuses the file or accepts it, and a detector from an accepted
 * one runs; nothing crashes (the sanitizer build checks the memory). */
static void fuzz(const uint8_t *good, size_t n, size_t tables_end, rng *r, int iterations)
{
    uint8_t *b = malloc(n);
    int accepted = 0;
    uint8_t img[48 * 40 * 3];
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)rng_int(r, 0, 255);
    for (int it = 0; it < iterations; it++) {
        memcpy(b, good, n);
        int edits = rng_int(r, 1, 4);
        for (int e = 0; e < edits; e++) {
            size_t pos = rng_int(r, 0, 3) == 0 ? (size_t)rng_int(r, 0, (int)n - 5) : (size_t)rng_int(r, 0, (int)tables_end - 1);
            switch (rng_int(r, 0, 3)) {
            case 0: b[pos] ^= (uint8_t)(1u << rng_int(r, 0, 7)); break;
            case 1: b[pos] = (uint8_t)rng_int(r, 0, 255); break;
            case 2: b[pos] = 0xFF; break;
            default: /* a small integer in a 4-byte field */
                if (pos + 4 <= n - 4)
                    mb_put_u32(b + (pos & ~(size_t)3), (uint32_t)rng_int(r, 0, 70));
            }
        }
        mb_fix_crc(b, n);
        bf_model *m = NULL;
        bf_error err;
        memset(&err, 0, sizeof err);
        bf_status st = bf_model_from_memory(b, n, NAME, &m, &err);
        CHECK(st == BF_OK || st == BF_ERR_FORMAT, "fuzz %d: status %d: %s", it, st, err.message);
        if (st != BF_OK) {
            CHECK(strncmp(err.message, NAME, strlen(NAME)) == 0, "fuzz %d: message %s", it, err.message);
            continue;
        }
        accepted++;
        bf_options opt;
        bf_options_default(&opt);
        opt.input_size = 32;
        bf_detector *d = NULL;
        if (bf_detector_create(m, &opt, &d, &err) == BF_OK) {
            CHECK(bf_detector_run(d, img, 48, 40, 48 * 3, BF_PIXEL_RGB, &err) == BF_OK, "fuzz run: %s", err.message);
            size_t count;
            const bf_detection *det = bf_detector_results(d, &count);
            for (size_t k = 0; k < count; k++)
                CHECK(det[k].x0 <= det[k].x1 && det[k].y0 <= det[k].y1 && det[k].class_id >= 0 &&
                          det[k].class_id < bf_model_num_classes(m),
                      "fuzz %d: bad detection", it);
            bf_detector_destroy(d);
        }
        bf_model_close(m);
        if (check_failures > 20)
            break;
    }
    fprintf(stderr, "fuzz: %d of %d mutated files accepted\n", accepted, iterations);
    free(b);
}

int main(int argc, char **argv)
{
    int fuzz_iterations = argc > 1 ? atoi(argv[1]) : 3000;
    rng r;
    rng_init(&r, test_seed(777));
    mb_model *mb = mb_build_test_graph(0, 42);
    size_t n;
    uint8_t *good = mb_serialize(mb, &n);
    bf_error err;
    CHECK(loads(good, n, &err), "the unmodified model must load: %s", err.message);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        corrupt_case(cases[i].what, cases[i].edit, cases[i].cause);
    for (size_t i = 0; i < sizeof terms_cases / sizeof terms_cases[0]; i++)
        corrupt_case_on(2, terms_cases[i].what, terms_cases[i].edit, terms_cases[i].cause);
    terms_edges();
    CHECK_LIMIT();
    file_cases(good, n);
    flipped_bytes(good, n, &r);
    CHECK_LIMIT();
    fuzz(good, n, mb_output_entry(mb, mb->n_outputs), &r, fuzz_iterations);
    /* the odd graph loads too */
    mb_model *odd = mb_build_test_graph(1, 3);
    size_t n2;
    uint8_t *g2 = mb_serialize(odd, &n2);
    CHECK(loads(g2, n2, &err), "odd graph: %s", err.message);
    free(g2);
    mb_free(odd);
    free(good);
    mb_free(mb);
    if (check_failures) {
        fprintf(stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    fprintf(stderr, "ok: %zu corrupted-field cases\n",
            sizeof cases / sizeof cases[0] + sizeof terms_cases / sizeof terms_cases[0]);
    return 0;
}
