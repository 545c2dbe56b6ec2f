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
 * lane as it is). Channel tails (n % 16) run the scalar formula. lut8 and
 * add8 are the scalar ones.
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
    const uint8x16_t bias128 = vdupq_n_u8(128), c64 = vdupq_n_u8(64);
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
                const uint8x16_t i1 = vsubq_u8(i0, c64), i2 = vsubq_u8(i1, c64), i3 = vsubq_u8(i2, c64);
                uint8x16_t y = vqtbl4q_u8(t0, i0);
                y = vqtbx4q_u8(y, t1, i1);
                y = vqtbx4q_u8(y, t2, i2);
                y = vqtbx4q_u8(y, t3, i3);
                q = vreinterpretq_s8_u8(y);
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

const bf_i32_requant_config bf_i32_requant_neon = {
    .isa = "neon",
    .requant = requant_neon,
    .bias_add = bias_add_neon,
    .lut8 = bf_i32_lut8_scalar,
    .add8 = bf_i32_add8_scalar,
};
