/*
 * test_graph.c - whole synthetic models (every op) through the public API,
 * compared value by value with the naive interpreter (naive_ref.c), at
 * several input sizes, with and without arena reuse, on every kernel path
 * (the multi-ternary graph, variant 2, with 1 and 2 threads too, and with
 * the planes folded per GEMM as the path allows, one GEMM per plane and at
 * most two planes per GEMM: BITFALCON_MAX_TERMS); and the arena plan's
 * invariant (values alive at the same step never share bytes) and its
 * accumulator sizing per fold.
 */
#include <stdlib.h>
#include <string.h>

#include "bitfalcon.h"
#include "detector.h"
#include "dispatch.h"
#include "graph.h"
#include "model.h"
#include "model_builder.h"
#include "naive_ref.h"
#include "test_util.h"

static uint8_t *random_image(rng *r, int w, int h, size_t stride)
{
    uint8_t *img = malloc(stride * (size_t)h);
    for (size_t i = 0; i < stride * (size_t)h; i++)
        img[i] = (uint8_t)rng_int(r, 0, 255);
    return img;
}

static size_t value_bytes(const mb_model *mb, uint32_t v, int S)
{
    size_t hw = (size_t)(S / (int)mb->values[v].stride);
    return hw * hw * mb->values[v].channels * (mb->values[v].dtype == MB_I32 ? 4 : 1);
}

/* Compares every value (keep_all) or only the head outputs. */
static void compare(const mb_model *mb, const bf_detector *det, void **ref, int S, int keep_all, const char *what)
{
    if (keep_all) {
        for (uint32_t v = 0; v < mb->n_values; v++) {
            bf_shape sh;
            const void *got = bf_detector_value(det, v, &sh);
            size_t hw = (size_t)(S / (int)mb->values[v].stride);
            CHECK(sh.h == (int)hw && sh.w == (int)hw && sh.c == (int)mb->values[v].channels,
                  "%s: value %u shape %dx%dx%d", what, v, sh.h, sh.w, sh.c);
            size_t n = value_bytes(mb, v, S);
            if (memcmp(got, ref[v], n) != 0) {
                size_t esz = mb->values[v].dtype == MB_I32 ? 4 : 1, i = 0;
                while (memcmp((const uint8_t *)got + i * esz, (const uint8_t *)ref[v] + i * esz, esz) == 0)
                    i++;
                int32_t g = 0, e = 0;
                if (esz == 4) {
                    memcpy(&g, (const uint8_t *)got + 4 * i, 4);
                    memcpy(&e, (const uint8_t *)ref[v] + 4 * i, 4);
                } else {
                    g = ((const int8_t *)got)[i];
                    e = ((const int8_t *)ref[v])[i];
                }
                CHECK(0, "%s: value %u (producer layer %u) differs first at element %zu: engine %d, naive %d", what,
                      v, mb->values[v].producer, i, g, e);
            }
        }
    }
    for (int o = 0; o < bf_detector_num_outputs(det); o++) {
        bf_output_kind kind;
        int stride, h, w, c;
        const int32_t *out = bf_detector_output(det, o, &kind, &stride, &h, &w, &c);
        const mb_output *mo = &mb->outputs[o];
        CHECK(out != NULL, "%s: output %d missing", what, o);
        if (out == NULL)
            continue;
        CHECK((int)kind == (int)mo->kind && stride == (int)mo->stride && h == S / stride && w == h &&
                  c == (int)mb->values[mo->value].channels,
              "%s: output %d metadata", what, o);
        CHECK(memcmp(out, ref[mo->value], value_bytes(mb, mo->value, S)) == 0, "%s: head output %d differs", what, o);
    }
}

/* Every kernel path this build has and this CPU runs, by name. */
static char path_names[256];
static const char *paths[16];
static int n_paths = 0;

static void find_paths(void)
{
    snprintf(path_names, sizeof path_names, "%s", bf_t2i8_gemm_available());
    fprintf(stderr, "kernel paths:");
    for (char *tok = strtok(path_names, " "); tok != NULL && n_paths < 16; tok = strtok(NULL, " ")) {
        char why[256];
        if (bf_t2i8_gemm_select(tok, why, sizeof why) != NULL) {
            paths[n_paths++] = tok;
            fprintf(stderr, " %s", tok);
        } else {
            fprintf(stderr, " (%s: not on this CPU)", tok);
        }
    }
    fprintf(stderr, "\n");
}

static void run_case(int variant, int S, uint64_t seed, rng *r)
{
    char what[96];
    snprintf(what, sizeof what, "variant %d, size %d, seed %llu", variant, S, (unsigned long long)seed);
    mb_model *mb = mb_build_test_graph(variant, seed);
    size_t size;
    uint8_t *file = mb_serialize(mb, &size);
    bf_model *model = NULL;
    bf_error err = {0};
    bf_status st = bf_model_from_memory(file, size, "synthetic.bfm", &model, &err);
    CHECK(st == BF_OK, "%s: load: %s", what, err.message);
    if (st != BF_OK) {
        free(file);
        mb_free(mb);
        return;
    }
    bf_options opt;
    bf_options_default(&opt);
    opt.input_size = S;
    opt.isa = "ref";
    /* Every path; the multi-ternary graph (variant 2) with 1 and 2 threads
     * on each, its planes folded as the path allows, one per GEMM, and at
     * most two per GEMM (the others with the default thread count). */
    static const struct {
        int threads;
        const char *max_terms; /* BITFALCON_MAX_TERMS while creating; NULL = unset */
    } runs[] = {{1, NULL}, {2, NULL}, {1, "1"}, {2, "2"}};
    const int n_threads = variant == 2 ? (int)(sizeof runs / sizeof runs[0]) : 1;
    bf_detector *all = NULL, *reuse = NULL, *per_path[16][4] = {{NULL}};
    for (int i = 0; i < n_paths; i++)
        for (int t = 0; t < n_threads; t++) {
            bf_options po = opt;
            po.isa = paths[i];
            po.threads = n_threads == 1 ? 0 : runs[t].threads;
            if (n_threads > 1 && runs[t].max_terms != NULL)
                setenv("BITFALCON_MAX_TERMS", runs[t].max_terms, 1);
            CHECK(bf_detector_create(model, &po, &per_path[i][t], &err) == BF_OK, "%s: %s: %s", what, paths[i],
                  err.message);
            unsetenv("BITFALCON_MAX_TERMS");
            /* each conv runs ceil(n_terms / fold) GEMMs, fold = what the path
             * folds exactly, capped by the hook */
            char why[256];
            int fold = bf_t2i8_gemm_fold(bf_t2i8_gemm_select(paths[i], why, sizeof why));
            if (n_threads > 1 && runs[t].max_terms != NULL && runs[t].max_terms[0] - '0' < fold)
                fold = runs[t].max_terms[0] - '0';
            for (int li = 0; per_path[i][t] != NULL && li < bf_detector_num_layers(per_path[i][t]); li++) {
                bf_layer_info info;
                bf_detector_layer_info(per_path[i][t], li, &info);
                if (info.op == BF_OP_CONV)
                    CHECK(info.n_gemms == (info.n_terms + fold - 1) / fold, "%s: %s: layer %d: %d planes in %d GEMMs",
                          what, paths[i], li, info.n_terms, info.n_gemms);
            }
        }
    CHECK(bf_detector_create_ex(model, &opt, BF_DETECTOR_KEEP_ALL_VALUES, &all, &err) == BF_OK, "%s: %s", what,
          err.message);
    CHECK(bf_detector_create(model, &opt, &reuse, &err) == BF_OK, "%s: %s", what, err.message);
    if (all != NULL && reuse != NULL) {
        bf_detector_info ia, ir;
        bf_detector_get_info(all, &ia);
        bf_detector_get_info(reuse, &ir);
        CHECK(ir.arena_bytes <= ia.arena_bytes, "%s: reuse arena %zu > no-reuse %zu", what, ir.arena_bytes,
              ia.arena_bytes);
        if (variant == 0)
            CHECK(ir.arena_bytes < ir.naive_bytes, "%s: arena %zu saves nothing against %zu", what, ir.arena_bytes,
                  ir.naive_bytes);
        for (int rep = 0; rep < 2; rep++) {
            /* odd sizes, a padded row stride, BGR on the second round */
            int w = rng_int(r, 1, 2 * S), h = rng_int(r, 1, 2 * S);
            size_t stride = (size_t)w * 3 + (size_t)rng_int(r, 0, 7);
            uint8_t *img = random_image(r, w, h, stride);
            bf_pixel_format fmt = rep ? BF_PIXEL_BGR : BF_PIXEL_RGB;
            CHECK(bf_detector_run(all, img, w, h, stride, fmt, &err) == BF_OK, "%s: run: %s", what, err.message);
            CHECK(bf_detector_run(reuse, img, w, h, stride, fmt, &err) == BF_OK, "%s: run: %s", what, err.message);
            void **ref = naive_run(mb, S, bf_detector_input(all));
            compare(mb, all, ref, S, 1, what);
            compare(mb, reuse, ref, S, 0, what);
            size_t na, nr;
            const bf_detection *da = bf_detector_results(all, &na), *dr = bf_detector_results(reuse, &nr);
            CHECK(na == nr && memcmp(da, dr, na * sizeof *da) == 0, "%s: detections differ with reuse", what);
            for (int i = 0; i < n_paths; i++)
                for (int t = 0; t < n_threads; t++) {
                    bf_detector *d = per_path[i][t];
                    if (d == NULL)
                        continue;
                    char w2[192];
                    snprintf(w2, sizeof w2, "%s [%s, %d thread(s), BITFALCON_MAX_TERMS=%s]", what, paths[i],
                             bf_detector_threads(d), n_threads > 1 && runs[t].max_terms ? runs[t].max_terms : "");
                    CHECK(bf_detector_run(d, img, w, h, stride, fmt, &err) == BF_OK, "%s: %s", w2, err.message);
                    compare(mb, d, ref, S, 0, w2);
                }
            naive_free(mb, ref);
            free(img);
        }
    }
    bf_detector_destroy(all);
    bf_detector_destroy(reuse);
    for (int i = 0; i < n_paths; i++)
        for (int t = 0; t < n_threads; t++)
            bf_detector_destroy(per_path[i][t]);
    bf_model_close(model);
    free(file);
    mb_free(mb);
}

/* The plan's invariant, checked from the outside: any two values both alive
 * at some step have disjoint byte ranges. */
static void check_plan(int variant, int S)
{
    mb_model *mb = mb_build_test_graph(variant, 7);
    size_t size;
    uint8_t *file = mb_serialize(mb, &size);
    bf_model *model = NULL;
    bf_error err;
    if (bf_model_from_memory(file, size, "plan.bfm", &model, &err) != BF_OK) {
        CHECK(0, "load: %s", err.message);
        free(file);
        mb_free(mb);
        return;
    }
    /* The accumulator scratch: one rows x out_c int32 tile per conv, none
     * for a raw head, plus one for a conv that runs more than one GEMM (a
     * multi-ternary conv with more planes than one GEMM folds). */
    for (int fold = 1; fold <= BF_T2I8_MAX_TERMS; fold++) {
        bf_plan pf;
        if (bf_plan_build(model, S, 1, 128, fold, &pf, &err) != BF_OK) {
            CHECK(0, "plan (fold %d): %s", fold, err.message);
            continue;
        }
        size_t want = 0;
        for (uint32_t i = 0; i < model->n_layers; i++) {
            const bf_layer *l = &model->layers[i];
            if (l->op != BF_OP_CONV)
                continue;
            const bf_shape out = pf.shapes[l->output];
            size_t rows = (size_t)out.h * (size_t)out.w;
            rows = rows < 128 ? rows : 128;
            const int gemms = (l->params[BF_CONV_N_TERMS] + fold - 1) / fold;
            const size_t tiles = (l->params[BF_CONV_ACT] == 2 ? 0 : 1) + (gemms > 1 ? 1 : 0);
            if (tiles * rows * (size_t)out.c * 4 > want)
                want = tiles * rows * (size_t)out.c * 4;
        }
        CHECK(pf.acc_bytes == want, "variant %d, fold %d: acc_bytes %zu, want %zu", variant, fold, pf.acc_bytes,
              want);
        fprintf(stderr, "variant %d size %d fold %d: acc %zu\n", variant, S, fold, pf.acc_bytes);
        bf_plan_free(&pf);
    }
    bf_plan plan;
    CHECK(bf_plan_build(model, S, 1, 128, 1, &plan, &err) == BF_OK, "plan: %s", err.message);
    uint32_t nv = mb->n_values;
    uint32_t *first = calloc(nv, sizeof *first), *last = calloc(nv, sizeof *last);
    for (uint32_t v = 1; v < nv; v++)
        first[v] = last[v] = mb->values[v].producer + 1;
    for (uint32_t i = 0; i < mb->n_layers; i++)
        for (uint32_t j = 0; j < mb->layers[i].n_inputs; j++)
            if (last[mb->layers[i].inputs[j]] < i + 1)
                last[mb->layers[i].inputs[j]] = i + 1;
    for (uint32_t o = 0; o < mb->n_outputs; o++)
        last[mb->outputs[o].value] = mb->n_layers + 1;
    for (uint32_t a = 0; a < nv; a++) {
        CHECK(plan.offsets[a] % 64 == 0, "value %u misaligned", a);
        CHECK(plan.offsets[a] + value_bytes(mb, a, S) <= plan.arena_bytes, "value %u outside the arena", a);
        for (uint32_t b = a + 1; b < nv; b++) {
            int alive_together = first[a] <= last[b] && first[b] <= last[a];
            int overlap = plan.offsets[a] < plan.offsets[b] + value_bytes(mb, b, S) &&
                          plan.offsets[b] < plan.offsets[a] + value_bytes(mb, a, S);
            CHECK(!(alive_together && overlap), "variant %d: values %u and %u share memory while alive", variant, a, b);
        }
    }
    fprintf(stderr, "variant %d size %d: arena %zu bytes (without reuse %zu), im2col %zu, acc %zu\n", variant, S,
            plan.arena_bytes, plan.naive_bytes, plan.im2col_bytes, plan.acc_bytes);
    free(first);
    free(last);
    bf_plan_free(&plan);
    bf_model_close(model);
    free(file);
    mb_free(mb);
}

int main(void)
{
    uint64_t seed = test_seed(20240601);
    rng r;
    rng_init(&r, seed);
    find_paths();
    const int sizes[] = {32, 64, 96};
    for (int variant = 0; variant < 3; variant++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            run_case(variant, sizes[i], seed + (uint64_t)(variant * 10 + (int)i), &r);
            CHECK_LIMIT();
        }
        check_plan(variant, 64);
    }
    /* a few more seeds at the default size */
    for (int k = 0; k < 6; k++)
        run_case(k % 3, 64, seed + 100 + (uint64_t)k, &r);
    if (check_failures) {
        fprintf(stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    fprintf(stderr, "ok\n");
    return 0;
}
