/*
 * int32 accumulator -> int8 requantization epilogue of a convolution
 * (docs/model-format.md, "Integer arithmetic" and op 1 = CONV):
 *
 *   v   = acc[r][j] + bias[j]                       (int32; the loader keeps it in range)
 *   q   = clamp8(rshift_round((int64)v * mult[j], shift[j]))
 *   out = silu ? silu[q + 128] : q                  (act 1 / act 0)
 *
 * and the head's raw passthrough (act 2): acc[r][j] += bias[j] in place.
 *
 * `rows` rows of `n` channels; acc rows `ld_acc` int32s apart, out rows
 * `ld_out` bytes apart. mult in [0, 2^31), shift in [0, 62] (the loader
 * checks both). Every path is bit-identical to the reference for all inputs
 * in that domain: products are formed in 64 bits (AVX-512: vpmuldq on the
 * even and odd lanes, vpsravq; AVX2: vpmuldq and a sign-corrected vpsrlvq),
 * never in 32. Reads only the rows x n block (tails are masked or scalar),
 * writes only rows x n of `out`; no state, so threads may run disjoint rows.
 *
 * Paths: ref (plain C, the oracle), avx2, avx512 (F/BW/VL), avx512vbmi
 * (the same plus a VBMI table lookup for SiLU instead of a gather, in its
 * own file), neon (AArch64: smull, srshl, saturating narrows, tbl). The engine
 * picks one with bf_i32_requant_select() from the name of its GEMM path, so
 * `--isa ref` runs the reference epilogue too. List: i32-requant.inc.
 */
#ifndef BF_I32_REQUANT_H
#define BF_I32_REQUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bf_i32_requant_config {
    const char *isa; /* "ref" or a name in i32-requant.inc */
    /* silu NULL = linear (act 0); else the 256-entry table (act 1) */
    void (*requant)(size_t rows, size_t n, const int32_t *acc, size_t ld_acc, const int32_t *bias,
                    const int32_t *mult, const int32_t *shift, const int8_t *silu, int8_t *out, size_t ld_out);
    /* acc[r][j] += bias[j] (act 2, the raw head outputs) */
    void (*bias_add)(size_t rows, size_t n, int32_t *acc, size_t ld_acc, const int32_t *bias);
    /* out[r][j] = table[in[r][j] + 128]: the same 256-entry int8 lookup as
     * the SiLU step, for CONCAT's rescale of an int8 input (ops.c) */
    void (*lut8)(size_t rows, size_t n, const int8_t *in, size_t ld_in, const int8_t *table, int8_t *out,
                 size_t ld_out);
    /* out[i] = clamp8(rshift_round((int64)a[i] * mult_a + (int64)b[i] * mult_b, shift)): the ADD op
     * (mult_a, mult_b in [0, 2^31), shift 0..62) */
    void (*add8)(size_t n, const int8_t *a, const int8_t *b, int32_t mult_a, int32_t mult_b, int32_t shift,
                 int8_t *out);
} bf_i32_requant_config;

extern const bf_i32_requant_config bf_i32_requant_ref;
/* The scalar lut8 and add8 (what paths without a vector version use). */
void bf_i32_lut8_scalar(size_t rows, size_t n, const int8_t *in, size_t ld_in, const int8_t *table, int8_t *out,
                        size_t ld_out);
void bf_i32_add8_scalar(size_t n, const int8_t *a, const int8_t *b, int32_t mult_a, int32_t mult_b, int32_t shift,
                        int8_t *out);
#if defined(__x86_64__) || defined(_M_X64)
extern const bf_i32_requant_config bf_i32_requant_avx2;
extern const bf_i32_requant_config bf_i32_requant_avx512;
extern const bf_i32_requant_config bf_i32_requant_avx512vbmi; /* + AVX512_VBMI (vpermi2b SiLU lookup) */
/* The AVX2 lut8 (vpshufb over 16-byte rows of the table), shared with the avx512 path. */
void bf_i32_lut8_avx2(size_t rows, size_t n, const int8_t *in, size_t ld_in, const int8_t *table, int8_t *out,
                      size_t ld_out);
#endif
#if defined(__aarch64__)
extern const bf_i32_requant_config bf_i32_requant_neon; /* baseline Armv8 Advanced SIMD */
#endif

/* The epilogue for a GEMM path name (bf_t2i8_gemm_config.isa): a name
 * containing "avx512" -> avx512vbmi, else avx512; any other "avx" name
 * (avx2, avxvnni: AVX2 CPUs) -> avx2; a "neon" name (neon, neondot, b1-neon)
 * -> neon; anything else (ref, b1-ref, ...) -> ref; each only when this CPU runs it,
 * else the next one down. "" or NULL = the best this CPU runs. Never NULL. The environment
 * variable BITFALCON_REQUANT=ref|avx2|avx512 (a benchmark hook) overrides
 * the choice when that path runs here.
 */
const bf_i32_requant_config *bf_i32_requant_select(const char *gemm_isa);

/* Exactly the named path ("ref", "avx2", "avx512", "avx512vbmi", "neon"), or NULL when unknown or
 * when this CPU/build cannot run it (tests). */
const bf_i32_requant_config *bf_i32_requant_by_name(const char *isa);

#endif /* BF_I32_REQUANT_H */
