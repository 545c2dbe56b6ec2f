/*
 * test_requant.c - every requant epilogue path this CPU runs against the
 * reference (kernels/i32-requant/), bit for bit, and the reference against
 * the formula of docs/model-format.md written out here in 64-bit C.
 *
 * Sweeps n = 1..70 (below, at and above the 8- and 16-lane vectors and their
 * multiples), rows 1..11 (the avx512vbmi path looks up four rows at once),
 * leading dimensions above n (strides; in every fourth sweep none, where
 * that path stores four 16-channel rows as one run), linear and
 * SiLU, plus the raw bias passthrough; operands cover the whole domain:
 * mult in [0, 2^31) including 0 and 2^31 - 1, shift 0..62, accumulators near
 * both int32 ends, and values that round exactly at halves (ties go up).
 * Checks that nothing outside the rows x n block is written. Also the lut8
 * table lookup (CONCAT's rescale).
 * Seed: BF_TEST_SEED replays a run (printed at start).
 */
#include <stdlib.h>
#include <string.h>

#include "i32-requant/i32-requant.h"
#include "test_util.h"

static int8_t formula(int32_t acc, int32_t bias, int32_t mult, int32_t shift, const int8_t *silu)
{
    int64_t v = (int64_t)acc + bias;
    int64_t p = v * (int64_t)mult;
    if (shift > 0)
        p = (p + ((int64_t)1 << (shift - 1))) >> shift; /* arithmetic shift: floor */
    int q = p < -128 ? -128 : p > 127 ? 127 : (int)p;
    return silu != NULL ? silu[q + 128] : (int8_t)q;
}

static int32_t pick_mult(rng *r)
{
    switch (rng_int(r, 0, 5)) {
    case 0: return 0;
    case 1: return INT32_MAX;
    case 2: return rng_int(r, 1, 255);
    case 3: return 1 << rng_int(r, 0, 30);
    default: return (int32_t)(rng_u64(r) & 0x7FFFFFFF);
    }
}

static int32_t pick_shift(rng *r, int32_t mult)
{
    switch (rng_int(r, 0, 4)) {
    case 0: return 0;
    case 1: return 62;
    case 2: return rng_int(r, 20, 40); /* where the model's shifts are */
    default: {
        /* near where the result lands in -200..200: exercises rounding and clamping */
        int s = 0;
        while (s < 62 && ((int64_t)mult << 16 >> s) > 200)
            s++;
        s += rng_int(r, -2, 2);
        return s < 0 ? 0 : s > 62 ? 62 : s;
    }
    }
}

static int32_t pick_acc(rng *r, int32_t bias)
{
    /* acc + bias must stay in int32 (the loader guarantees it for models) */
    int64_t v;
    switch (rng_int(r, 0, 4)) {
    case 0: v = INT32_MAX; break;
    case 1: v = INT32_MIN; break;
    case 2: v = rng_int(r, -300, 300); break;
    default: v = (int32_t)rng_u64(r); break;
    }
    int64_t acc = v - bias;
    if (acc > INT32_MAX) acc = INT32_MAX;
    if (acc < INT32_MIN) acc = INT32_MIN;
    if (acc + bias > INT32_MAX || acc + bias < INT32_MIN)
        acc = 0;
    return (int32_t)acc;
}

#define MAX_N 70
#define MAX_ROWS 11
#define PAD 9

static void check_path(const bf_i32_requant_config *cfg, rng *r)
{
    int32_t bias[MAX_N], mult[MAX_N], shift[MAX_N];
    int8_t silu[256];
    int32_t acc[MAX_ROWS * (MAX_N + PAD)], acc2[MAX_ROWS * (MAX_N + PAD)], acc3[MAX_ROWS * (MAX_N + PAD)];
    int8_t out[MAX_ROWS * (MAX_N + PAD)], want[MAX_ROWS * (MAX_N + PAD)];
    long cases = 0;
    for (int rep = 0; rep < 40; rep++)
        for (size_t n = 1; n <= MAX_N; n++) {
            const size_t rows = (size_t)rng_int(r, 1, MAX_ROWS);
            const size_t ld_acc = n + (size_t)rng_int(r, 0, PAD), ld_out = n + (rep % 4 == 0 ? 0 : (size_t)rng_int(r, 0, PAD));
            for (int i = 0; i < 256; i++)
                silu[i] = (int8_t)rng_int(r, -128, 127);
            for (size_t j = 0; j < n; j++) {
                bias[j] = rng_int(r, 0, 3) == 0 ? (int32_t)rng_u64(r) : rng_int(r, -100000, 100000);
                mult[j] = pick_mult(r);
                shift[j] = pick_shift(r, mult[j]);
                if (rep % 2 == 1 && shift[j] < 32) /* whole blocks of shifts >= 32: the avx2 32-bit form */
                    shift[j] = 32 + rng_int(r, 0, 8);
            }
            for (size_t i = 0; i < rows * ld_acc; i++)
                acc[i] = (int32_t)rng_u64(r);
            for (size_t row = 0; row < rows; row++)
                for (size_t j = 0; j < n; j++)
                    acc[row * ld_acc + j] = pick_acc(r, bias[j]);
            for (int act = 0; act < 2; act++) {
                const int8_t *tbl = act ? silu : NULL;
                memset(out, 0x5A, sizeof out);
                memset(want, 0x5A, sizeof want);
                for (size_t row = 0; row < rows; row++)
                    for (size_t j = 0; j < n; j++)
                        want[row * ld_out + j] =
                            formula(acc[row * ld_acc + j], bias[j], mult[j], shift[j], tbl);
                cfg->requant(rows, n, acc, ld_acc, bias, mult, shift, tbl, out, ld_out);
                for (size_t i = 0; i < sizeof out; i++) {
                    if (out[i] != want[i]) {
                        const size_t row = i / ld_out, j = i % ld_out;
                        CHECK(0, "%s requant %s: rows %zu n %zu ld_acc %zu ld_out %zu: [%zu][%zu] = %d, want %d "
                              "(acc %d bias %d mult %d shift %d)",
                              cfg->isa, tbl ? "silu" : "linear", rows, n, ld_acc, ld_out, row, j, out[i], want[i],
                              j < n && row < rows ? acc[row * ld_acc + j] : 0, j < n ? bias[j] : 0,
                              j < n ? mult[j] : 0, j < n ? shift[j] : 0);
                        break;
                    }
                }
                cases++;
            }
            /* raw passthrough, in place; untouched outside the block */
            memcpy(acc2, acc, sizeof acc2);
            memcpy(acc3, acc, sizeof acc3);
            for (size_t row = 0; row < rows; row++)
                for (size_t j = 0; j < n; j++)
                    acc3[row * ld_acc + j] = (int32_t)((int64_t)acc[row * ld_acc + j] + bias[j]);
            cfg->bias_add(rows, n, acc2, ld_acc, bias);
            CHECK(memcmp(acc2, acc3, sizeof acc2) == 0, "%s bias_add: rows %zu n %zu ld %zu", cfg->isa, rows, n,
                  ld_acc);
            if (check_failures > 20)
                return;
        }
    /* lut8: rows of int8 through the table, strided, n across the 64-byte vector */
    static int8_t lin[5 * 200], lout[5 * 200], lwant[5 * 200];
    for (int rep = 0; rep < 300; rep++) {
        int8_t table[256];
        for (int i = 0; i < 256; i++)
            table[i] = (int8_t)rng_int(r, -128, 127);
        const size_t n = (size_t)rng_int(r, 1, 150), rows = (size_t)rng_int(r, 1, 5);
        const size_t ld_in = n + (size_t)rng_int(r, 0, 40), ld_out = n + (size_t)rng_int(r, 0, 40);
        for (size_t i = 0; i < sizeof lin; i++)
            lin[i] = (int8_t)rng_int(r, -128, 127);
        memset(lout, 0x33, sizeof lout);
        memset(lwant, 0x33, sizeof lwant);
        for (size_t row = 0; row < rows; row++)
            for (size_t j = 0; j < n; j++)
                lwant[row * ld_out + j] = table[lin[row * ld_in + j] + 128];
        cfg->lut8(rows, n, lin, ld_in, table, lout, ld_out);
        CHECK(memcmp(lout, lwant, sizeof lout) == 0, "%s lut8: rows %zu n %zu ld_in %zu ld_out %zu", cfg->isa, rows, n,
              ld_in, ld_out);
    }
    /* add8: against the formula, tails of the 8-lane vector, the domain's edges */
    for (int rep = 0; rep < 2000; rep++) {
        const size_t n = (size_t)rng_int(r, 1, 70);
        const int32_t ma = pick_mult(r), mb = pick_mult(r);
        const int32_t sh = rep % 7 == 0 ? 0 : rep % 7 == 1 ? 62 : rng_int(r, 0, 40);
        for (size_t i = 0; i < n; i++) {
            lin[i] = (int8_t)rng_int(r, -128, 127);
            lin[200 + i] = (int8_t)(rep % 5 == 0 ? -128 : rng_int(r, -128, 127));
        }
        memset(lout, 0x33, sizeof lout);
        memset(lwant, 0x33, sizeof lwant);
        for (size_t i = 0; i < n; i++) {
            int64_t v = (int64_t)lin[i] * ma + (int64_t)lin[200 + i] * mb;
            if (sh > 0)
                v = (v + ((int64_t)1 << (sh - 1))) >> sh;
            lwant[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
        }
        cfg->add8(n, lin, lin + 200, ma, mb, sh, lout);
        if (memcmp(lout, lwant, sizeof lout) != 0) {
            CHECK(0, "%s add8: n %zu mult %d %d shift %d", cfg->isa, n, ma, mb, sh);
            break;
        }
    }
    fprintf(stderr, "%s: %ld requant cases, 300 lut8 cases, 2000 add8 cases\n", cfg->isa, cases);
}

int main(void)
{
    rng r;
    rng_init(&r, test_seed(0x5EED1234));
#define BF_I32_REQUANT(arch, name, ...) BF_ON_##arch(#name, )
    const char *names[] = {
#include "i32-requant/i32-requant.inc"
        "ref"};
#undef BF_I32_REQUANT
    int ran = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const bf_i32_requant_config *cfg = bf_i32_requant_by_name(names[i]);
        if (cfg == NULL) {
            fprintf(stderr, "%s: not runnable here, skipped\n", names[i]);
            continue;
        }
        check_path(cfg, &r);
        ran++;
    }
    /* the selector follows the GEMM's name and never returns NULL */
    CHECK(strcmp(bf_i32_requant_select("ref")->isa, "ref") == 0, "ref -> ref");
    CHECK(strcmp(bf_i32_requant_select("b1-ref")->isa, "ref") == 0, "b1-ref -> ref");
    CHECK(bf_i32_requant_select(NULL) != NULL && bf_i32_requant_select("neon") != NULL, "never NULL");
    if (bf_i32_requant_by_name("avx512") != NULL)
        CHECK(strncmp(bf_i32_requant_select("avx512vnni")->isa, "avx512", 6) == 0, "avx512vnni -> avx512*");
    if (bf_i32_requant_by_name("avx2") != NULL) {
        CHECK(strcmp(bf_i32_requant_select("avx2")->isa, "avx2") == 0, "avx2 -> avx2");
        CHECK(strcmp(bf_i32_requant_select("avxvnni")->isa, "avx2") == 0, "avxvnni -> avx2");
    }
    CHECK(bf_i32_requant_by_name("nope") == NULL, "unknown name");
    CHECK(ran >= 1, "no path ran");
    return check_failures ? 1 : 0;
}
