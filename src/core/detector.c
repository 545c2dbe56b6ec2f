/*
 * detector.c - the public detector API: options, creation (all memory of a
 * detector is allocated here, once), and a run = letterbox -> layers ->
 * decode -> NMS -> un-letterbox.
 *
 * Threads: the executor's pool (threadpool.h) of options.threads workers
 * (0 = every online core; the calling thread is one of them) is started
 * here, with one scratch tile pair per worker; results do not depend on
 * the thread count.
 */
#include "detector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "dispatch.h"
#include "env.h"
#include "error.h"
#include "executor.h"
#include "model.h"
#include "postprocess.h"
#include "threadpool.h"

#define BF_MAX_DETECTIONS_CAP (1 << 20)
#define BF_MAX_THREADS 1024
#define BF_MAX_HEADS (BF_MAX_OUTPUTS / 2)
/* A head's cells are decoded in this many pieces per worker (threads > 1). */
#define BF_DECODE_PIECES 4

struct bf_detector {
    const bf_model *model;
    bf_options opt; /* a copy; opt.isa is not kept (the caller's string) */
    bf_executor ex;
    int32_t *lb_scratch;
    const bf_u8_letterbox_config *lb_rows; /* the letterbox row passes, with the GEMM path (ref with ref) */
    bf_letterbox lb;
    bf_head heads[BF_MAX_HEADS];
    int n_heads;
    bf_candidate *cand;
    size_t cand_cap;
    size_t *piece_counts; /* the parallel decode's candidates per piece: BF_DECODE_PIECES per worker */
    bf_detection *results;
    size_t results_cap;
    size_t n_results;
    unsigned char *class_mask; /* bf_detector_set_classes; NULL = every class */
    float conf, iou;
};

BF_API void bf_options_default(bf_options *options)
{
    if (options == NULL)
        return;
    memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    options->input_size = 0;
    options->conf_threshold = 0.25f;
    options->iou_threshold = 0.7f;
    options->max_detections = 300;
    options->threads = 0;
    options->isa = NULL;
    options->multi_label = 0;
}

/* The size of bf_options in 0.2, the first release with struct_size: smaller is not
 * a bf_options at all. */
#define BF_OPTIONS_V02_SIZE (offsetof(bf_options, multi_label) + sizeof(int))

static int valid_unit(float v)
{
    return v >= 0.0f && v <= 1.0f; /* false for NaN */
}

/* The letterbox's column tables, then one set of row buffers per worker. */
static size_t lb_scratch_words(int size, int n_workers)
{
    return bf_letterbox_table_words(size) + (size_t)n_workers * bf_letterbox_row_words(size);
}

BF_API void bf_detector_destroy(bf_detector *d)
{
    if (d == NULL)
        return;
    bf_executor_free(&d->ex);
    free(d->lb_scratch);
    free(d->cand);
    free(d->piece_counts);
    free(d->class_mask);
    free(d->results);
    free(d);
}

bf_status bf_detector_create_ex(const bf_model *model, const bf_options *options, unsigned flags,
                                bf_detector **out_detector, bf_error *err)
{
    if (model == NULL || out_detector == NULL)
        return bf_fail(err, BF_ERR_ARGUMENT, "bf_detector_create: NULL %s", model == NULL ? "model" : "out_detector");
    bf_options opt;
    bf_options_default(&opt);
    if (options != NULL) {
        /* The fields the caller's header had (all of them today); the rest keep their
         * defaults. A struct_size outside that range: not made by bf_options_default. */
        if (options->struct_size < BF_OPTIONS_V02_SIZE || options->struct_size > sizeof opt)
            return bf_fail(err, BF_ERR_ARGUMENT,
                           "bf_options.struct_size is %zu, not %zu: start from bf_options_default()",
                           options->struct_size, sizeof opt);
        memcpy(&opt, options, options->struct_size);
    }
    int size = opt.input_size == 0 ? (int)model->default_input_size : opt.input_size;
    if (size < BF_MIN_INPUT_SIZE || size > BF_MAX_INPUT_SIZE || size % BF_INPUT_SIZE_STEP != 0)
        return bf_fail(err, BF_ERR_ARGUMENT, "input size %d is not a multiple of 32 in %d..%d", opt.input_size,
                       BF_MIN_INPUT_SIZE, BF_MAX_INPUT_SIZE);
    if (!valid_unit(opt.conf_threshold))
        return bf_fail(err, BF_ERR_ARGUMENT, "confidence threshold %g outside [0, 1]", (double)opt.conf_threshold);
    if (!valid_unit(opt.iou_threshold))
        return bf_fail(err, BF_ERR_ARGUMENT, "IoU threshold %g outside [0, 1]", (double)opt.iou_threshold);
    if (opt.max_detections < 1 || opt.max_detections > BF_MAX_DETECTIONS_CAP)
        return bf_fail(err, BF_ERR_ARGUMENT, "max_detections %d outside 1..%d", opt.max_detections,
                       BF_MAX_DETECTIONS_CAP);
    if (opt.threads < 0 || opt.threads > BF_MAX_THREADS)
        return bf_fail(err, BF_ERR_ARGUMENT, "threads %d outside 0..%d", opt.threads, BF_MAX_THREADS);
    bf_status env_status = bf_env_check(err);
    if (env_status != BF_OK)
        return env_status;
    char why[200] = "";
    const bf_t2i8_gemm_config *gemm = bf_t2i8_gemm_select(opt.isa, why, sizeof why);
    if (gemm == NULL)
        return bf_fail(err, BF_ERR_UNSUPPORTED, "%s", why[0] ? why : "no kernel path for this ISA");
    opt.input_size = size;
    opt.isa = NULL;
    if (opt.threads == 0)
        opt.threads = bf_online_cpus();

    bf_detector *d = calloc(1, sizeof *d);
    if (d == NULL)
        return bf_fail(err, BF_ERR_NOMEM, "out of memory creating the detector");
    d->model = model;
    d->opt = opt;
    d->conf = opt.conf_threshold;
    d->iou = opt.iou_threshold;
    bf_status st = bf_executor_init(&d->ex, model, size, !(flags & BF_DETECTOR_KEEP_ALL_VALUES), gemm,
                                    opt.threads, err);
    if (st != BF_OK) {
        free(d);
        return st;
    }

    /* Heads: (box, class) pairs in increasing stride order (validated). */
    d->n_heads = (int)(model->n_outputs / 2);
    size_t cells = 0;
    for (int h = 0; h < d->n_heads; h++) {
        const bf_output *ob = &model->outputs[2 * h], *oc = &model->outputs[2 * h + 1];
        bf_shape sh = d->ex.plan.shapes[ob->value];
        d->heads[h] = (bf_head){
            .box = bf_executor_value(&d->ex, ob->value),
            .cls = bf_executor_value(&d->ex, oc->value),
            .box_dq = bf_tensor_f32(model, ob->dequant),
            .cls_dq = bf_tensor_f32(model, oc->dequant),
            .h = sh.h,
            .w = sh.w,
            .stride = (int)ob->stride,
        };
        cells += (size_t)sh.h * (size_t)sh.w; /* <= 3 * 512^2 */
    }
    d->cand_cap = cells;
    if (opt.multi_label) { /* cells x classes candidates, the best BF_MULTI_LABEL_MAX_NMS kept */
        size_t all = cells * (size_t)model->num_classes;
        d->cand_cap = all < BF_MULTI_LABEL_MAX_NMS ? all : BF_MULTI_LABEL_MAX_NMS;
        if (d->cand_cap < cells)
            d->cand_cap = cells;
    }
    d->results_cap = (size_t)opt.max_detections < cells ? (size_t)opt.max_detections : cells;
    d->lb_rows = bf_u8_letterbox_select(d->ex.gemm->isa);
    d->lb_scratch = malloc(sizeof *d->lb_scratch * lb_scratch_words(size, d->ex.n_workers));
    d->cand = malloc(sizeof *d->cand * (d->cand_cap + 1));
    d->results = malloc(sizeof *d->results * (d->results_cap + 1));
    d->piece_counts = malloc(sizeof *d->piece_counts * BF_DECODE_PIECES * (size_t)d->ex.n_workers);
    if (d->lb_scratch == NULL || d->cand == NULL || d->results == NULL || d->piece_counts == NULL) {
        bf_detector_destroy(d);
        return bf_fail(err, BF_ERR_NOMEM, "out of memory creating the detector");
    }
    *out_detector = d;
    return BF_OK;
}

BF_API bf_status bf_detector_create(const bf_model *model, const bf_options *options, bf_detector **out_detector,
                                    bf_error *err)
{
    return bf_detector_create_ex(model, options, 0, out_detector, err);
}

typedef struct lb_job {
    const bf_letterbox *lb;
    const uint8_t *pixels;
    size_t stride;
    int bgr;
    const int32_t *tables;
    uint32_t *row_buffers; /* one set per worker, bf_letterbox_row_words apart */
    int8_t *out;
    const bf_u8_letterbox_config *rows;
} lb_job;

/* output rows [y0, y1) */
static void lb_rows(void *ctx, size_t y0, size_t y1, int worker)
{
    const lb_job *j = ctx;
    const int S = j->lb->size;
    bf_letterbox_rows_with(j->lb, j->pixels, j->stride, j->bgr, j->tables,
                           j->row_buffers + (size_t)worker * bf_letterbox_row_words(S), j->out, (int)y0, (int)y1,
                           j->rows);
}

BF_API bf_status bf_detector_preprocess(bf_detector *d, const uint8_t *pixels, int width, int height, size_t stride,
                                        bf_pixel_format format, bf_error *err)
{
    if (d == NULL || pixels == NULL)
        return bf_fail(err, BF_ERR_ARGUMENT, "bf_detector_run: NULL %s", d == NULL ? "detector" : "pixels");
    if (width < 1 || height < 1)
        return bf_fail(err, BF_ERR_ARGUMENT, "image size %dx%d is empty", width, height);
    if (width > BF_MAX_IMAGE_DIM || height > BF_MAX_IMAGE_DIM)
        return bf_fail(err, BF_ERR_IMAGE, "image size %dx%d exceeds %d pixels a side", width, height,
                       BF_MAX_IMAGE_DIM);
    if (stride < (size_t)width * 3)
        return bf_fail(err, BF_ERR_ARGUMENT, "row stride %zu is less than 3 x width (%d)", stride, width);
    if (format != BF_PIXEL_RGB && format != BF_PIXEL_BGR)
        return bf_fail(err, BF_ERR_ARGUMENT, "unknown pixel format %d", (int)format);
    bf_letterbox_geometry(width, height, d->ex.plan.input_size, &d->lb);
    /* rows split over the pool in pieces of 1/16 of a worker's share (rows
     * cost unevenly: padding rows are a memset); each worker's share is the
     * rows the network's first layers then read on that worker */
    bf_letterbox_tables(&d->lb, d->lb_scratch);
    const int size = d->ex.plan.input_size;
    int pieces = d->ex.n_workers == 1 ? 1 : 16 * d->ex.n_workers;
    if (pieces > size)
        pieces = size;
    lb_job j = {&d->lb,
                pixels,
                stride,
                format == BF_PIXEL_BGR,
                d->lb_scratch,
                (uint32_t *)(d->lb_scratch + bf_letterbox_table_words(size)),
                bf_executor_value(&d->ex, 0),
                d->lb_rows};
    bf_pool_run(d->ex.pool, (size_t)size, ((size_t)size + (size_t)pieces - 1) / (size_t)pieces, lb_rows, &j);
    return BF_OK;
}

BF_API void bf_detector_run_network(bf_detector *d)
{
    bf_executor_run_layers(&d->ex, 0, d->model->n_layers);
}

typedef struct decode_job {
    const bf_detector *d;
    const bf_head *head;
    uint32_t first_id;
    size_t step;
    bf_candidate *out; /* the head's first cell's slot */
    size_t *counts;    /* per piece */
} decode_job;

/* cells [c0, c1) of the job's head, their candidates from slot c0 on */
static void decode_range(void *ctx, size_t c0, size_t c1, int worker)
{
    (void)worker;
    const decode_job *j = ctx;
    j->counts[c0 / j->step] = bf_decode_cells(j->head, j->first_id, (int)j->d->model->num_classes,
                                              (int)j->d->model->reg_max, j->d->conf, c0, c1, j->out + c0);
}

/* bf_decode_heads over the pool: each head's cells in pieces, a worker
 * taking the rows its convs produced (bf_pool_run), each piece's
 * candidates at its cells' own slots, then moved together in cell order:
 * the same candidates in the same order as one thread. */
static size_t decode_parallel(bf_detector *d)
{
    size_t n = 0, base = 0;
    const size_t pieces = BF_DECODE_PIECES * (size_t)d->ex.n_workers;
    for (int h = 0; h < d->n_heads; h++) {
        const bf_head *hd = &d->heads[h];
        const size_t cells = bf_head_cells(hd);
        if (cells == 0)
            continue;
        const size_t step = (cells + pieces - 1) / pieces;
        decode_job j = {d, hd, (uint32_t)base, step, d->cand + base, d->piece_counts};
        bf_pool_run(d->ex.pool, cells, step, decode_range, &j);
        for (size_t p = 0; p * step < cells; p++) {
            /* n <= base + p * step: the moves only go down */
            memmove(d->cand + n, d->cand + base + p * step, sizeof *d->cand * d->piece_counts[p]);
            n += d->piece_counts[p];
        }
        base += cells;
    }
    return n;
}

BF_API void bf_detector_postprocess(bf_detector *d)
{
    size_t n = d->opt.multi_label
                   ? bf_decode_heads_multi(d->heads, d->n_heads, (int)d->model->num_classes, (int)d->model->reg_max,
                                           d->conf, d->cand, d->cand_cap)
               : d->ex.n_workers > 1
                   ? decode_parallel(d)
                   : bf_decode_heads(d->heads, d->n_heads, (int)d->model->num_classes, (int)d->model->reg_max,
                                     d->conf, d->cand, d->cand_cap);
    if (d->class_mask) { /* after the class choice, before NMS (as ultralytics' classes=) */
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (d->class_mask[d->cand[i].class_id])
                d->cand[k++] = d->cand[i];
        n = k;
    }
    size_t kept = bf_nms(d->cand, n, d->iou, d->results_cap);
    bf_unletterbox(d->cand, kept, &d->lb, d->results);
    d->n_results = kept;
}

BF_API bf_status bf_detector_run(bf_detector *d, const uint8_t *pixels, int width, int height, size_t stride,
                                 bf_pixel_format format, bf_error *err)
{
    bf_status st = bf_detector_preprocess(d, pixels, width, height, stride, format, err);
    if (st != BF_OK)
        return st;
    bf_detector_run_network(d);
    bf_detector_postprocess(d);
    return BF_OK;
}

BF_API const bf_detection *bf_detector_results(const bf_detector *d, size_t *count)
{
    if (d == NULL) {
        if (count != NULL)
            *count = 0;
        return NULL;
    }
    if (count != NULL)
        *count = d->n_results;
    return d->results;
}

BF_API bf_status bf_detector_set_thresholds(bf_detector *d, float conf_threshold, float iou_threshold,
                                            bf_error *err)
{
    if (d == NULL)
        return bf_fail(err, BF_ERR_ARGUMENT, "bf_detector_set_thresholds: NULL detector");
    if (!valid_unit(conf_threshold))
        return bf_fail(err, BF_ERR_ARGUMENT, "confidence threshold %g outside [0, 1]", (double)conf_threshold);
    if (!valid_unit(iou_threshold))
        return bf_fail(err, BF_ERR_ARGUMENT, "IoU threshold %g outside [0, 1]", (double)iou_threshold);
    d->conf = conf_threshold;
    d->iou = iou_threshold;
    return BF_OK;
}

BF_API bf_status bf_detector_set_classes(bf_detector *d, const int *class_ids, size_t n, bf_error *err)
{
    if (d == NULL || (n && class_ids == NULL))
        return bf_fail(err, BF_ERR_ARGUMENT, "bf_detector_set_classes: NULL %s", d ? "class_ids" : "detector");
    const int nc = (int)d->model->num_classes;
    for (size_t i = 0; i < n; i++)
        if (class_ids[i] < 0 || class_ids[i] >= nc)
            return bf_fail(err, BF_ERR_ARGUMENT, "class %d is not in 0..%d", class_ids[i], nc - 1);
    if (n == 0) {
        free(d->class_mask);
        d->class_mask = NULL;
        return BF_OK;
    }
    unsigned char *m = calloc((size_t)nc, 1);
    if (m == NULL)
        return bf_fail(err, BF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        m[class_ids[i]] = 1;
    free(d->class_mask);
    d->class_mask = m;
    return BF_OK;
}

BF_API int bf_detector_num_outputs(const bf_detector *d)
{
    return d == NULL ? 0 : (int)d->model->n_outputs;
}

BF_API const int32_t *bf_detector_output(const bf_detector *d, int index, bf_output_kind *kind, int *feature_stride,
                                         int *height, int *width, int *channels)
{
    if (d == NULL || index < 0 || (uint32_t)index >= d->model->n_outputs)
        return NULL;
    const bf_output *o = &d->model->outputs[index];
    const bf_shape sh = d->ex.plan.shapes[o->value];
    if (kind != NULL)
        *kind = o->kind == BF_KIND_BOX ? BF_OUTPUT_BOX_DFL : BF_OUTPUT_CLASS_LOGITS;
    if (feature_stride != NULL)
        *feature_stride = (int)o->stride;
    if (height != NULL)
        *height = sh.h;
    if (width != NULL)
        *width = sh.w;
    if (channels != NULL)
        *channels = sh.c;
    return bf_executor_value(&d->ex, o->value);
}

BF_API const char *bf_detector_isa(const bf_detector *d)
{
    return d == NULL ? NULL : d->ex.gemm->isa;
}

void bf_detector_get_info(const bf_detector *d, bf_detector_info *info)
{
    memset(info, 0, sizeof *info);
    if (d == NULL)
        return;
    info->input_size = d->ex.plan.input_size;
    info->arena_bytes = d->ex.plan.arena_bytes;
    info->naive_bytes = d->ex.plan.naive_bytes;
    info->scratch_bytes = d->ex.plan.im2col_bytes + d->ex.plan.acc_bytes;
    info->packed_bytes = d->ex.packed_bytes;
    info->other_bytes = sizeof *d->lb_scratch * lb_scratch_words(d->ex.plan.input_size, d->ex.n_workers) +
                        sizeof *d->cand * (d->cand_cap + 1) + sizeof *d->results * (d->results_cap + 1);
}

const int8_t *bf_detector_input(const bf_detector *d)
{
    return d == NULL ? NULL : bf_executor_value(&d->ex, 0);
}

const bf_letterbox *bf_detector_letterbox(const bf_detector *d)
{
    return d == NULL ? NULL : &d->lb;
}

const void *bf_detector_value(const bf_detector *d, uint32_t v, bf_shape *shape)
{
    if (d == NULL || v >= d->model->n_values)
        return NULL;
    if (shape != NULL)
        *shape = d->ex.plan.shapes[v];
    return bf_executor_value(&d->ex, v);
}

BF_API int bf_detector_threads(const bf_detector *d)
{
    return d == NULL ? 0 : d->ex.n_workers;
}

BF_API const char *bf_detector_requant_isa(const bf_detector *d)
{
    return d == NULL ? NULL : d->ex.requant->isa;
}

BF_API int bf_detector_num_layers(const bf_detector *d)
{
    return d == NULL ? 0 : (int)d->model->n_layers;
}

BF_API int bf_detector_layer_info(const bf_detector *d, int i, bf_layer_info *info)
{
    if (d == NULL || i < 0 || (uint32_t)i >= d->model->n_layers || info == NULL)
        return -1;
    const bf_layer *l = &d->model->layers[i];
    const bf_shape in = d->ex.plan.shapes[l->inputs[0]], out = d->ex.plan.shapes[l->output];
    memset(info, 0, sizeof *info);
    info->op = (int)l->op;
    info->in_h = in.h;
    info->in_w = in.w;
    info->in_c = in.c;
    info->out_h = out.h;
    info->out_w = out.w;
    info->out_c = out.c;
    info->n_inputs = (int)l->n_inputs;
    if (l->op == BF_OP_CONV) {
        info->kh = l->params[BF_CONV_KH];
        info->kw = l->params[BF_CONV_KW];
        info->stride = l->params[BF_CONV_STRIDE];
        info->act = l->params[BF_CONV_ACT];
        info->m = (size_t)out.h * (size_t)out.w;
        info->n = (size_t)out.c;
        info->k = bf_conv_k(l);
        info->n_terms = l->params[BF_CONV_N_TERMS];
        info->n_gemms = bf_conv_parts(info->n_terms, d->ex.fold);
        info->ops = 2.0 * (double)info->m * (double)info->n * (double)info->k * (double)info->n_gemms;
    }
    return 0;
}

BF_API void bf_detector_profile(bf_detector *d, uint64_t *layer_ns)
{
    if (d != NULL)
        bf_executor_profile(&d->ex, layer_ns);
}
