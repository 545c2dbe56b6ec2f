/* executor.c - memory set-up, weight packing and the layer loop. */
#include "executor.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"

/* Element-wise ops run on one thread below this many output bytes: waking
 * the pool costs more than the copy. Low, because above it each worker
 * handles the rows its own convs produced, in its own cache: at 64 KB the
 * 20x20 and 40x40 concats and slices ran on one thread, reading the other's
 * half across cores, and the small ops took 0.68 ms of the 2-thread network
 * against 0.63 ms at 4 KB. */
#define BF_PAR_MIN_BYTES (4 * 1024)
/* ... and are cut into pieces of about this many bytes otherwise. */
#define BF_PAR_CHUNK_BYTES (32 * 1024)

void bf_executor_free(bf_executor *ex)
{
    if (ex == NULL)
        return;
    bf_aligned_free(ex->arena);
    bf_aligned_free(ex->im2col);
    bf_aligned_free(ex->acc);
    bf_aligned_free(ex->packed);
    bf_pool_destroy(ex->pool);
    free(ex->convs);
    bf_plan_free(&ex->plan);
    memset(ex, 0, sizeof *ex);
}

/* The direct 3-channel conv for layer l, or NULL: the stem when the GEMM
 * path has one (kernels/i8c3-conv/, bf_i8c3_conv_select) that folds the
 * layer's planes exactly. */
static const bf_i8c3_conv_config *executor_direct3(const bf_executor *ex, const bf_layer *l,
                                                   const bf_i8c3_conv_config *direct3)
{
    const int32_t *p = l->params;
    const bf_shape in = ex->plan.shapes[l->inputs[0]];
    const int n_terms = p[BF_CONV_N_TERMS] < 1 ? 1 : p[BF_CONV_N_TERMS];
    if (direct3 == NULL || n_terms > direct3->max_terms ||
        !bf_i8c3_conv_fits(in.c, p[BF_CONV_KH], p[BF_CONV_KW], p[BF_CONV_STRIDE], p[BF_CONV_PAD]))
        return NULL;
    return direct3;
}

/* The planes one GEMM of `gemm` folds: bf_t2i8_gemm_fold, capped by
 * BITFALCON_MAX_TERMS (1..5) when set (benchmarks: 1 = the per-plane path). */
static int executor_fold(const bf_t2i8_gemm_config *gemm)
{
    int fold = bf_t2i8_gemm_fold(gemm);
    const char *env = getenv("BITFALCON_MAX_TERMS");
    if (env != NULL && env[0] >= '1' && env[0] <= '5' && env[1] == '\0' && env[0] - '0' < fold)
        fold = env[0] - '0';
    return fold;
}

/* Where each conv's packed weights go in the one packed block (at[i]), and
 * the block's size: n_terms planes in bf_conv_parts parts, each packed on its
 * own and aligned, then the direct conv's own packing. */
static bf_status plan_packing(bf_executor *ex, const bf_i8c3_conv_config *direct3, size_t *at, bf_error *err)
{
    const bf_model *m = ex->model;
    size_t total = 0;
    for (uint32_t i = 0; i < m->n_layers; i++) {
        const bf_layer *l = &m->layers[i];
        if (l->op != BF_OP_CONV)
            continue;
        size_t need = ex->gemm->packed_size((size_t)l->params[BF_CONV_OUT_C], bf_conv_k(l));
        at[i] = total;
        const int parts = bf_conv_parts(l->params[BF_CONV_N_TERMS], ex->fold);
        const bf_i8c3_conv_config *d3 = executor_direct3(ex, l, direct3);
        size_t need3 = d3 != NULL ? d3->packed_size((size_t)l->params[BF_CONV_OUT_C],
                                                    (size_t)l->params[BF_CONV_KH] * (size_t)l->params[BF_CONV_KW])
                                  : 0;
        if (!bf_align_size(need, &need) || !bf_mul_size(need, (size_t)parts, &need) ||
            !bf_align_size(need3, &need3) || !bf_add_size(need, need3, &need) ||
            !bf_add_size(total, need, &total))
            return bf_fail(err, BF_ERR_UNSUPPORTED, "packed weights too large");
    }
    ex->packed_bytes = total;
    return BF_OK;
}

/* The arena, one scratch pair per worker (each part cache-line aligned),
 * the packed block and the worker pool. */
static bf_status alloc_buffers(bf_executor *ex, bf_error *err)
{
    size_t im2col_all = 0, acc_all = 0;
    if (!bf_align_size(ex->plan.im2col_bytes, &ex->im2col_stride) ||
        !bf_align_size(ex->plan.acc_bytes, &ex->acc_stride) ||
        !bf_mul_size(ex->im2col_stride, (size_t)ex->n_workers, &im2col_all) ||
        !bf_mul_size(ex->acc_stride, (size_t)ex->n_workers, &acc_all))
        return bf_fail(err, BF_ERR_UNSUPPORTED, "scratch for %d threads too large", ex->n_workers);
    /* +1 keeps every allocation non-empty (a model may have tiny parts). */
    ex->arena = bf_aligned_alloc(ex->plan.arena_bytes + 1);
    ex->im2col = bf_aligned_alloc(im2col_all + 1);
    ex->acc = bf_aligned_alloc(acc_all + 1);
    ex->packed = bf_aligned_alloc(ex->packed_bytes + 1);
    if (ex->arena == NULL || ex->im2col == NULL || ex->acc == NULL || ex->packed == NULL)
        return bf_fail(err, BF_ERR_NOMEM, "out of memory creating the detector (arena %zu bytes)",
                       ex->plan.arena_bytes);
    /* Outputs read before any run show zeros, not stale heap bytes. */
    memset(ex->arena, 0, ex->plan.arena_bytes);
    return bf_pool_create(ex->n_workers, &ex->pool, err);
}

/* Conv layer i's parameters, and its weights packed at ex->packed + at. */
static void setup_conv(bf_executor *ex, uint32_t i, size_t at, size_t tile_m, const bf_i8c3_conv_config *direct3)
{
    const bf_model *m = ex->model;
    const bf_t2i8_gemm_config *gemm = ex->gemm;
    const bf_i32_requant_config *requant = ex->requant;
    const bf_layer *l = &m->layers[i];
    const int32_t *p = l->params;
    const uint32_t *t = l->tensors;
    const bf_shape in = ex->plan.shapes[l->inputs[0]], out = ex->plan.shapes[l->output];
    const bf_tensor *w = &m->tensors[t[BF_CONV_T_WEIGHTS]];
    bf_conv_params *cp = &ex->convs[i];
    cp->in_h = in.h;
    cp->in_w = in.w;
    cp->in_c = in.c;
    cp->out_h = out.h;
    cp->out_w = out.w;
    cp->out_c = out.c;
    cp->kh = p[BF_CONV_KH];
    cp->kw = p[BF_CONV_KW];
    cp->stride = p[BF_CONV_STRIDE];
    cp->pad = p[BF_CONV_PAD];
    cp->in_zero_point = (int8_t)m->values[l->inputs[0]].zero_point;
    cp->act = p[BF_CONV_ACT];
    cp->bias = bf_tensor_i32(m, t[BF_CONV_T_BIAS]);
    cp->mult = t[BF_CONV_T_MULT] != BF_NONE ? bf_tensor_i32(m, t[BF_CONV_T_MULT]) : NULL;
    cp->shift = t[BF_CONV_T_SHIFT] != BF_NONE ? bf_tensor_i32(m, t[BF_CONV_T_SHIFT]) : NULL;
    cp->silu = t[BF_CONV_T_SILU] != BF_NONE ? bf_tensor_i8(m, t[BF_CONV_T_SILU]) : NULL;
    cp->gemm = gemm;
    cp->packed = ex->packed + at;
    cp->tile_m = tile_m;
    cp->requant = requant;
    cp->n_terms = p[BF_CONV_N_TERMS];
    cp->fold = ex->fold;
    size_t part = gemm->packed_size((size_t)out.c, bf_conv_k(l));
    bf_align_size(part, &part); /* checked above */
    cp->part_stride = part;
    /* The file's plane i is rows [i * out_c, (i + 1) * out_c) of the T2 tensor. */
    bf_conv_pack(gemm, (size_t)out.c, bf_conv_k(l), cp->n_terms, cp->fold, w->data, (size_t)w->dims[1], part,
                 ex->packed + at);
    cp->direct3 = executor_direct3(ex, l, direct3);
    if (cp->direct3 != NULL) {
        /* all planes in one packing: the direct conv's sums are int32, exact for any n_terms */
        uint8_t *dst = ex->packed + at + (size_t)bf_conv_parts(cp->n_terms, cp->fold) * part;
        cp->direct3->pack_terms((size_t)out.c, (size_t)cp->kh * (size_t)cp->kw, cp->n_terms < 1 ? 1 : cp->n_terms,
                                w->data, (size_t)w->dims[1], (size_t)out.c * (size_t)w->dims[1], dst);
        cp->direct3_packed = dst;
    }
    cp->indirect = cp->direct3 == NULL && gemm->igemm != NULL && bf_conv_params_indirect_fits(cp) && ex->indirect;
}

bf_status bf_executor_init(bf_executor *ex, const bf_model *m, int input_size, int reuse,
                           const bf_t2i8_gemm_config *gemm, int threads, bf_error *err)
{
    memset(ex, 0, sizeof *ex);
    ex->model = m;
    ex->gemm = gemm;
    ex->n_workers = threads < 1 ? 1 : threads;
    ex->fold = executor_fold(gemm);
    ex->requant = bf_i32_requant_select(gemm->isa);
    /* BITFALCON_IGEMM=0: im2col + GEMM for every conv (before/after benchmarks;
     * checked by bf_env_check) */
    const char *igemm = getenv("BITFALCON_IGEMM");
    ex->indirect = igemm == NULL || strcmp(igemm, "0") != 0;
    const size_t tile_m = bf_conv_tile_m(gemm->mr);
    bf_status st = bf_plan_build(m, input_size, reuse, tile_m, ex->fold, &ex->plan, err);
    if (st != BF_OK)
        return st;
    const bf_i8c3_conv_config *direct3 = bf_i8c3_conv_select(gemm->isa);

    /* Packed weight block: one allocation, each conv's part aligned. */
    size_t *at = calloc(m->n_layers, sizeof *at);
    ex->convs = calloc(m->n_layers, sizeof *ex->convs);
    if (at == NULL || ex->convs == NULL)
        st = bf_fail(err, BF_ERR_NOMEM, "out of memory creating the detector");
    else if ((st = plan_packing(ex, direct3, at, err)) == BF_OK)
        st = alloc_buffers(ex, err);
    if (st != BF_OK) {
        free(at);
        bf_executor_free(ex);
        return st;
    }
    for (uint32_t i = 0; i < m->n_layers; i++)
        if (m->layers[i].op == BF_OP_CONV)
            setup_conv(ex, i, at[i], tile_m, direct3);
    free(at);
    return BF_OK;
}

/* --- parallel pieces --------------------------------------------------- */

typedef struct conv_job {
    const bf_executor *ex;
    const bf_conv_params *p;
    const int8_t *in;
    void *out;
} conv_job;

static void conv_range(void *ctx, size_t m0, size_t m1, int worker)
{
    const conv_job *j = ctx;
    bf_conv_rows(j->p, j->in, j->out, m0, m1, j->ex->im2col + (size_t)worker * j->ex->im2col_stride,
                 (int32_t *)((uint8_t *)j->ex->acc + (size_t)worker * j->ex->acc_stride));
}

static void run_conv(bf_executor *ex, const bf_conv_params *p, const int8_t *in, void *out, size_t m)
{
    if (ex->n_workers == 1) {
        bf_conv_rows(p, in, out, 0, m, ex->im2col, ex->acc);
        return;
    }
    /* One contiguous share of the output pixels per worker
     * (bf_pool_run). Keeping each worker on the same rows of every
     * layer keeps its input in its own cache: cutting every layer into
     * interleaved tiles instead (any tile to any worker) left the 2-thread
     * network at 10.2 ms against 8.7 ms here (docs/benchmarks.md). The
     * shares are cut into a whole number of pieces each, at least two (so a
     * delayed worker's rest goes to the others) and at most a tile: equal
     * pieces, so the shares are equal too (whole 144-row tiles left the
     * 20x20 and 40x40 layers one piece apart). A piece is a multiple of 8
     * rows, which wastes at most a few rows of the kernels' 5..16-row
     * register tiles at its end. */
    const size_t tile = p->tile_m > 0 ? p->tile_m : BF_CONV_TILE_M;
    const size_t n = (size_t)ex->n_workers;
    size_t per_share = (m + n * tile - 1) / (n * tile);
    if (per_share < 2)
        per_share = 2;
    size_t chunk = (m + n * per_share - 1) / (n * per_share);
    chunk = (chunk + 7) / 8 * 8;
    if (chunk > tile)
        chunk = tile;
    conv_job j = {ex, p, in, out};
    bf_pool_run(ex->pool, m, chunk, conv_range, &j);
}

/* A piece count for `bytes` of output over `units` rows/pixels (>= 1). */
static size_t pieces(const bf_executor *ex, size_t bytes, size_t units)
{
    if (ex->n_workers == 1 || bytes < BF_PAR_MIN_BYTES || units < 2)
        return 1;
    size_t n = bytes / BF_PAR_CHUNK_BYTES;
    if (n < (size_t)ex->n_workers)
        n = (size_t)ex->n_workers;
    return n < units ? n : units;
}

typedef struct ew_job {
    const bf_layer *l;
    const bf_executor *ex;
    const int8_t *x, *x2;
    int8_t *y;
    size_t units;
    bf_shape in, out;
    const int8_t *ins[BF_MAX_LAYER_INPUTS];
    int chans[BF_MAX_LAYER_INPUTS];
    int32_t mult[BF_MAX_LAYER_INPUTS], shift[BF_MAX_LAYER_INPUTS];
} ew_job;

/* Units [a, b) of the layer (which units: per op below). */
static void ew_range(void *ctx, size_t a, size_t b, int worker)
{
    (void)worker;
    const ew_job *j = ctx;
    const int32_t *p = j->l->params;
    switch (j->l->op) {
    case BF_OP_ADD: /* units: elements */
        j->ex->requant->add8(b - a, j->x + a, j->x2 + a, p[0], p[1], p[2], j->y + a);
        break;
    case BF_OP_CONCAT: { /* units: pixels */
        const int8_t *ins[BF_MAX_LAYER_INPUTS];
        size_t out_c = 0;
        for (uint32_t i = 0; i < j->l->n_inputs; i++) {
            ins[i] = j->ins[i] + a * (size_t)j->chans[i];
            out_c += (size_t)j->chans[i];
        }
        bf_concat_rq(ins, j->chans, j->mult, j->shift, (int)j->l->n_inputs, b - a, j->y + a * out_c,
                     j->ex->requant);
        break;
    }
    case BF_OP_SLICE: /* units: pixels */
        bf_slice(j->x + a * (size_t)j->in.c, j->in.c, p[0], p[1], b - a, j->y + a * (size_t)p[1]);
        break;
    case BF_OP_MAXPOOL: /* units: output rows */
        bf_maxpool_rows(j->x, j->in.h, j->in.w, j->in.c, p[0], p[1], p[2], j->out.w, (int)a, (int)b, j->y);
        break;
    case BF_OP_UPSAMPLE: { /* units: input rows */
        const size_t row_in = (size_t)j->in.w * (size_t)j->in.c;
        bf_upsample(j->x + a * row_in, (int)(b - a), j->in.w, j->in.c, p[0], j->y + a * row_in * (size_t)p[0] * (size_t)p[0]);
        break;
    }
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bf_executor_run_layers(bf_executor *ex, uint32_t first, uint32_t last)
{
    const bf_model *m = ex->model;
    for (uint32_t i = first; i < last && i < m->n_layers; i++) {
        const uint64_t t0 = ex->layer_ns != NULL ? now_ns() : 0;
        const bf_layer *l = &m->layers[i];
        const bf_shape out = ex->plan.shapes[l->output];
        const bf_shape in = ex->plan.shapes[l->inputs[0]];
        const int8_t *x = bf_executor_value(ex, l->inputs[0]);
        void *y = bf_executor_value(ex, l->output);
        const size_t pixels = (size_t)out.h * (size_t)out.w;
        const size_t out_bytes = pixels * (size_t)out.c;
        if (l->op == BF_OP_CONV) {
            run_conv(ex, &ex->convs[i], x, y, pixels);
        } else {
            ew_job j = {.l = l, .ex = ex, .x = x, .y = y, .in = in, .out = out};
            switch (l->op) {
            case BF_OP_ADD:
                j.x2 = bf_executor_value(ex, l->inputs[1]);
                j.units = out_bytes;
                break;
            case BF_OP_CONCAT:
                for (uint32_t k = 0; k < l->n_inputs; k++) {
                    j.ins[k] = bf_executor_value(ex, l->inputs[k]);
                    j.chans[k] = ex->plan.shapes[l->inputs[k]].c;
                    j.mult[k] = l->params[2 * k];
                    j.shift[k] = l->params[2 * k + 1];
                }
                j.units = pixels;
                break;
            case BF_OP_SLICE:
                j.units = pixels;
                break;
            case BF_OP_MAXPOOL:
                j.units = (size_t)out.h;
                break;
            case BF_OP_UPSAMPLE:
                j.units = (size_t)in.h;
                break;
            default:
                j.units = 0;
                break;
            }
            if (j.units > 0) {
                /* like the convs, one contiguous share per worker */
                const size_t n = pieces(ex, out_bytes, j.units);
                bf_pool_run(ex->pool, j.units, (j.units + n - 1) / n, ew_range, &j);
            }
        }
        if (ex->layer_ns != NULL)
            ex->layer_ns[i] += now_ns() - t0;
    }
}
