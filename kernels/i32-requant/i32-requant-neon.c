/*
 * Requant epilogue, AArch64 Advanced SIMD (baseline Armv8: every Pi 4 and
 * Pi 5 core). Without it an Arm build ran the scalar reference, which the
 * llvm-mca model (docs/benchmarks.md, Raspberry Pi) put at 30-60% of a Pi's
 * frame; 16 channels a step here.
 *
 * Arithmetic, exactly the reference's (i32-requant.h): v = acc + bias in
 * int32 (the loader keeps it in range); the product v * mult in 64 bits
 * (smull/smull2: mult < 2^31 is a positive int32); rshift_round by a
 * per-channel shift as SRSHL by -shift, which adds 2^(shift-1) before the
 * arithmetic shift (nothing for shift 0), computed without overflow for
 * |v * mult| < 2^62; clamp8 as three saturating narrows (64 -> 32 -> 16 ->
 * 8 bits: each clamps monotonically, so together they clamp to [-128, 127]).
 * SiLU: the 256-entry table as four 64-byte tables, tbl then three tbx on
 * the index q + 128 minus 0, 64, 128, 192 (an index past 63 leaves the
 * lane as it is). Channel tails (n % 16) run the scalar formula.
 * lut8 (CONCAT's rescale) is the same table lookup, 16 bytes a step. add8
 * (ADD): both int8 operands widened to int32, the two products summed in 64
 * bits (smull, smlal: |a * mult_a + b * mult_b| < 2^39), SRSHL by -shift and
 * the three saturating narrows, 8 elements a step. Before these two, CONCAT
 * and ADD ran the scalar loops on Arm: a byte, or an element with two 64-bit
 * multiplies, per iteration.
 */
#include <arm_neon.h>
#include <assert.h>

#include "i32-requant/i32-requant.h"

static inline int8_t requant1(int32_t v, int32_t mult, int32_t shift)
{
    int64_t x = ((int64_t)v * mult + (((int64_t)1 << shift) >> 1)) >> shift;
    x = x < -128 ? -128 : x;
    x = x > 127 ? 127 : x;
    return (int8_t)x;
}

/* table[idx] for 16 unsigned indices: tbl on the first 64 entries, then
 * tbx on the other three quarters (an index past 63 leaves the lane). */
static inline uint8x16_t lookup256(const uint8x16x4_t t0, const uint8x16x4_t t1, const uint8x16x4_t t2,
                                   const uint8x16x4_t t3, uint8x16_t i0)
{
    const uint8x16_t c64 = vdupq_n_u8(64);
    const uint8x16_t i1 = vsubq_u8(i0, c64), i2 = vsubq_u8(i1, c64), i3 = vsubq_u8(i2, c64);
    uint8x16_t y = vqtbl4q_u8(t0, i0);
    y = vqtbx4q_u8(y, t1, i1);
    y = vqtbx4q_u8(y, t2, i2);
    return vqtbx4q_u8(y, t3, i3);
}

/* 4 channels: clamp32(rshift_round((acc + bias) * mult, shift)) (the first narrow) */
static inline int32x4_t requant4(const int32_t *acc, const int32_t *bias, const int32_t *mult, const int32_t *shift)
{
    const int32x4_t v = vaddq_s32(vld1q_s32(acc), vld1q_s32(bias)), m = vld1q_s32(mult), s = vld1q_s32(shift);
    int64x2_t lo = vmull_s32(vget_low_s32(v), vget_low_s32(m)), hi = vmull_high_s32(v, m);
    lo = vrshlq_s64(lo, vnegq_s64(vmovl_s32(vget_low_s32(s))));
    hi = vrshlq_s64(hi, vnegq_s64(vmovl_high_s32(s)));
    return vcombine_s32(vqmovn_s64(lo), vqmovn_s64(hi));
}

static void requant_neon(size_t rows, size_t n, const int32_t *acc, size_t ld_acc, const int32_t *bias,
                         const int32_t *mult, const int32_t *shift, const int8_t *silu, int8_t *out, size_t ld_out)
{
    assert(ld_acc >= n && ld_out >= n);
    uint8x16x4_t t0 = {{vdupq_n_u8(0), vdupq_n_u8(0), vdupq_n_u8(0), vdupq_n_u8(0)}}, t1 = t0, t2 = t0, t3 = t0;
    if (silu != NULL) {
        const uint8_t *s = (const uint8_t *)silu;
        t0 = vld1q_u8_x4(s), t1 = vld1q_u8_x4(s + 64), t2 = vld1q_u8_x4(s + 128), t3 = vld1q_u8_x4(s + 192);
    }
    const uint8x16_t bias128 = vdupq_n_u8(128);
    const size_t n16 = n & ~(size_t)15;
    for (size_t r = 0; r < rows; r++) {
        const int32_t *a = acc + r * ld_acc;
        int8_t *o = out + r * ld_out;
        for (size_t j = 0; j < n16; j += 16) {
            const int16x8_t h0 = vcombine_s16(vqmovn_s32(requant4(a + j, bias + j, mult + j, shift + j)),
                                              vqmovn_s32(requant4(a + j + 4, bias + j + 4, mult + j + 4,
                                                                  shift + j + 4)));
            const int16x8_t h1 = vcombine_s16(vqmovn_s32(requant4(a + j + 8, bias + j + 8, mult + j + 8,
                                                                  shift + j + 8)),
                                              vqmovn_s32(requant4(a + j + 12, bias + j + 12, mult + j + 12,
                                                                  shift + j + 12)));
            int8x16_t q = vcombine_s8(vqmovn_s16(h0), vqmovn_s16(h1));
            if (silu != NULL) {
                const uint8x16_t i0 = veorq_u8(vreinterpretq_u8_s8(q), bias128); /* q + 128 */
                q = vreinterpretq_s8_u8(lookup256(t0, t1, t2, t3, i0));
            }
            vst1q_s8(o + j, q);
        }
        for (size_t j = n16; j < n; j++) {
            const int8_t q = requant1(a[j] + bias[j], mult[j], shift[j]);
            o[j] = silu != NULL ? silu[q + 128] : q;
        }
    }
}

static void bias_add_neon(size_t rows, size_t n, int32_t *acc, size_t ld_acc, const int32_t *bias)
{
    assert(ld_acc >= n);
    const size_t n4 = n & ~(size_t)3;
    for (size_t r = 0; r < rows; r++) {
        int32_t *a = acc + r * ld_acc;
        for (size_t j = 0; j < n4; j += 4)
            vst1q_s32(a + j, vaddq_s32(vld1q_s32(a + j), vld1q_s32(bias + j)));
        for (size_t j = n4; j < n; j++)
            a[j] += bias[j];
    }
}

static void lut8_neon(size_t rows, size_t n, const int8_t *in, size_t ld_in, const int8_t *table, int8_t *out,
                      size_t ld_out)
{
    const uint8_t *t = (const uint8_t *)table;
    const uint8x16x4_t t0 = vld1q_u8_x4(t), t1 = vld1q_u8_x4(t + 64), t2 = vld1q_u8_x4(t + 128),
                       t3 = vld1q_u8_x4(t + 192);
    const uint8x16_t bias128 = vdupq_n_u8(128);
    const size_t n16 = n & ~(size_t)15;
    for (size_t r = 0; r < rows; r++) {
        const int8_t *s = in + r * ld_in;
        int8_t *d = out + r * ld_out;
        for (size_t j = 0; j < n16; j += 16) {
            const uint8x16_t i0 = veorq_u8(vreinterpretq_u8_s8(vld1q_s8(s + j)), bias128); /* x + 128 */
            vst1q_s8(d + j, vreinterpretq_s8_u8(lookup256(t0, t1, t2, t3, i0)));
        }
        for (size_t j = n16; j < n; j++)
            d[j] = table[s[j] + 128];
    }
}

/* 4 elements: clamp32(rshift_round(a * mult_a + b * mult_b, shift)) */
static inline int32x4_t add4(int32x4_t a, int32x4_t b, int32x4_t ma, int32x4_t mb, int64x2_t neg_shift)
{
    int64x2_t lo = vmlal_s32(vmull_s32(vget_low_s32(a), vget_low_s32(ma)), vget_low_s32(b), vget_low_s32(mb));
    int64x2_t hi = vmlal_high_s32(vmull_high_s32(a, ma), b, mb);
    lo = vrshlq_s64(lo, neg_shift);
    hi = vrshlq_s64(hi, neg_shift);
    return vcombine_s32(vqmovn_s64(lo), vqmovn_s64(hi));
}

static void add8_neon(size_t n, const int8_t *a, const int8_t *b, int32_t mult_a, int32_t mult_b, int32_t shift,
                      int8_t *out)
{
    const int32x4_t ma = vdupq_n_s32(mult_a), mb = vdupq_n_s32(mult_b);
    const int64x2_t neg_shift = vdupq_n_s64(-(int64_t)shift);
    const size_t n8 = n & ~(size_t)7;
    for (size_t i = 0; i < n8; i += 8) {
        const int16x8_t a16 = vmovl_s8(vld1_s8(a + i)), b16 = vmovl_s8(vld1_s8(b + i));
        const int32x4_t lo = add4(vmovl_s16(vget_low_s16(a16)), vmovl_s16(vget_low_s16(b16)), ma, mb, neg_shift);
        const int32x4_t hi = add4(vmovl_high_s16(a16), vmovl_high_s16(b16), ma, mb, neg_shift);
        vst1_s8(out + i, vqmovn_s16(vcombine_s16(vqmovn_s32(lo), vqmovn_s32(hi))));
    }
    if (n8 < n)
        bf_i32_add8_scalar(n - n8, a + n8, b + n8, mult_a, mult_b, shift, out + n8);
}

const bf_i32_requant_config bf_i32_requant_neon = {
    .isa = "neon",
    .requant = requant_neon,
    .bias_add = bias_add_neon,
    .lut8 = lut8_neon,
    .add8 = add8_neon,
};
