/*
 * cmd_detect.c - `bitfalcon detect`: run the detector on image files and folders.
 *
 * For each input: read, decode (by content), detect, then write what was
 * asked for. Every output file is written atomically (temp + rename), so an
 * interrupted run leaves whole files or none. A bad input is reported on
 * stderr and skipped; the others are still processed and written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "bitfalcon.h"
#include "commands.h"
#include "detfile.h"
#include "draw.h"
#include "files.h"
#include "image.h"
#include "inputs.h"
#include "labels.h"
#include "report.h"

#define DEFAULT_MODEL "models/bitfalcon-v8n.bfm"
#define DRAW_JPEG_QUALITY 90

static void help(void)
{
    printf("Usage: bitfalcon detect [OPTIONS] PATH...\n"
           "\n"
           "Detects objects in images. PATH is an image file (JPEG, PNG or BMP, recognised\n"
           "by content) or a folder, searched recursively for .jpg .jpeg .png .bmp files\n"
           "(hidden files skipped, symbolic links followed).\n"
           "\n"
           "Options:\n"
           "  -m, --model FILE    model file (default: " DEFAULT_MODEL ")\n"
           "  -o, --output DIR    folder for --txt and --draw outputs (default: out)\n"
           "      --json FILE     write all detections to FILE as one JSON array of\n"
           "                      {\"file\", \"class\", \"name\", \"score\", \"bbox\": [x, y, w, h]}\n"
           "                      in original image pixels ('-' for stdout)\n"
           "      --txt           write DIR/REL.txt per image in YOLO format with confidence:\n"
           "                      'class cx cy w h conf', normalised (empty: no objects)\n"
           "      --draw          write DIR/REL.jpg per image with the boxes drawn\n"
           "      --size N        network input size, a multiple of 32 (default: the model's, 640)\n"
           "      --conf X        confidence threshold (default 0.25)\n"
           "      --iou X         NMS IoU threshold (default 0.7)\n"
           "      --max-det N     at most N detections per image (default 300)\n"
           "      --threads N     worker threads (default: all cores)\n"
           "      --isa NAME      kernel path: auto, ref, avx2, ... (default auto)\n"
           "  -h, --help          show this help\n"
           "\n"
           "REL is the input's path relative to the folder argument it was found in (a\n"
           "file argument: its name), without its extension; so photos/a/x.jpg and\n"
           "photos/b/x.jpg from 'detect photos' go to DIR/a/x.* and DIR/b/x.*.\n"
           "Without --json, --txt or --draw, detections are printed on stdout, one per line:\n"
           "  PATH: NAME SCORE x=X y=Y w=W h=H\n"
           "\n"
           "Exit status: 0 all inputs succeeded; 1 some inputs failed (each reported on\n"
           "stderr as 'bitfalcon: PATH: CAUSE', the others' results were written);\n"
           "2 usage error or the model could not be loaded.\n");
}

enum { OPT_MODEL = 1, OPT_OUTPUT, OPT_JSON, OPT_TXT, OPT_DRAW, OPT_SIZE, OPT_CONF, OPT_IOU,
       OPT_MAXDET, OPT_THREADS, OPT_ISA, OPT_HELP };

static const bf_opt options[] = {
    {"model", 'm', 1, OPT_MODEL},   {"output", 'o', 1, OPT_OUTPUT}, {"json", 0, 1, OPT_JSON},
    {"txt", 0, 0, OPT_TXT},         {"draw", 0, 0, OPT_DRAW},       {"size", 0, 1, OPT_SIZE},
    {"conf", 0, 1, OPT_CONF},       {"iou", 0, 1, OPT_IOU},         {"max-det", 0, 1, OPT_MAXDET},
    {"threads", 0, 1, OPT_THREADS}, {"isa", 0, 1, OPT_ISA},         {"help", 'h', 0, OPT_HELP},
    {NULL, 0, 0, 0},
};

typedef struct job {
    size_t input;  /* index into the inputs */
    char *out_base; /* DIR/REL without extension, or NULL when no file outputs */
} job;

static int by_out_base(const void *a, const void *b)
{
    const job *x = a, *y = b;
    int c = strcmp(x->out_base, y->out_base);
    return c ? c : (x->input < y->input ? -1 : x->input > y->input);
}

/* Two inputs whose outputs would land on the same file (x.jpg and x.png in
 * one folder, or the same relative path under two folder arguments): the
 * later one is reported and skipped rather than silently overwriting. */
static int check_collisions(job *jobs, size_t n, bf_inputs *in)
{
    int failures = 0;
    job *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return -1;
    memcpy(sorted, jobs, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_out_base);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(sorted[i].out_base, sorted[i - 1].out_base) != 0)
            continue;
        size_t first = i - 1;
        while (first > 0 && strcmp(sorted[first - 1].out_base, sorted[i].out_base) == 0)
            first--;
        in->items[sorted[i].input].skip = 1;
        bf_report_failure(in->items[sorted[i].input].path,
                          "its outputs %s.* would overwrite those of %s; skipped",
                          sorted[i].out_base, in->items[sorted[first].input].path);
        failures++;
    }
    free(sorted);
    return failures;
}

typedef struct detect_ctx {
    bf_model *model;
    bf_detector *det;
    int want_txt, want_draw, want_json, want_print;
    bfio_detfile_writer json;
} detect_ctx;

static const char *class_name(const detect_ctx *c, int id, char *buf, size_t n)
{
    const char *name = bf_model_class_name(c->model, id);
    if (name)
        return name;
    snprintf(buf, n, "class%d", id);
    return buf;
}

/* Processes one image; returns 0, or -1 after reporting a failure. */
static int process(detect_ctx *c, const bf_input *input, const char *out_base)
{
    bfio_image img;
    bfio_err err;
    bf_error berr;
    if (bfio_image_load(input->path, &img, &err) != 0) {
        bf_report_failure(input->path, "%s", err.msg);
        return -1;
    }
    if (bf_detector_run(c->det, img.pixels, img.width, img.height, img.stride, BF_PIXEL_RGB,
                        &berr) != BF_OK) {
        bf_report_path_message(input->path, berr.message);
        bfio_image_free(&img);
        return -1;
    }
    size_t n = 0;
    const bf_detection *d = bf_detector_results(c->det, &n);
    char buf[32];
    int rc = 0;

    if (c->want_print) {
        if (n == 0)
            printf("%s: no objects\n", input->path);
        for (size_t i = 0; i < n; i++)
            printf("%s: %s %.2f x=%.1f y=%.1f w=%.1f h=%.1f\n", input->path,
                   class_name(c, d[i].class_id, buf, sizeof buf), d[i].score, d[i].x0, d[i].y0,
                   d[i].x1 - d[i].x0, d[i].y1 - d[i].y0);
    }
    if (c->want_json)
        for (size_t i = 0; i < n; i++)
            bfio_detfile_add(&c->json, input->path, d[i].class_id,
                             class_name(c, d[i].class_id, buf, sizeof buf), d[i].score, d[i].x0,
                             d[i].y0, d[i].x1, d[i].y1);
    if (c->want_txt) {
        bfio_sb sb;
        bfio_sb_init(&sb);
        bfio_sb_append(&sb, "", 0);
        for (size_t i = 0; i < n; i++)
            bfio_labels_put(&sb, d[i].class_id, d[i].x0, d[i].y0, d[i].x1, d[i].y1, d[i].score,
                            img.width, img.height);
        char *txt = malloc(strlen(out_base) + 5);
        if (txt)
            sprintf(txt, "%s.txt", out_base);
        if (sb.failed || !txt) {
            bf_report_failure(input->path, "out of memory");
            rc = -1;
        } else if (bfio_mkdirs_for_file(txt, &err) != 0 ||
                   bfio_write_file_atomic(txt, sb.data, sb.len, &err) != 0) {
            bf_report_failure(txt, "%s", err.msg);
            rc = -1;
        }
        free(txt);
        bfio_sb_free(&sb);
    }
    if (c->want_draw && rc == 0) {
        /* Lowest score first, so the most confident boxes end up on top. */
        for (size_t k = n; k-- > 0;) {
            char label[80];
            snprintf(label, sizeof label, "%s %.2f", class_name(c, d[k].class_id, buf, sizeof buf),
                     d[k].score);
            bfio_draw_detection(&img, d[k].x0, d[k].y0, d[k].x1, d[k].y1, label,
                                bfio_class_color(d[k].class_id));
        }
        char *jpg = malloc(strlen(out_base) + 5);
        if (!jpg) {
            bf_report_failure(input->path, "out of memory");
            rc = -1;
        } else {
            sprintf(jpg, "%s.jpg", out_base);
            if (bfio_mkdirs_for_file(jpg, &err) != 0 ||
                bfio_jpeg_save(jpg, &img, DRAW_JPEG_QUALITY, &err) != 0) {
                bf_report_failure(jpg, "%s", err.msg);
                rc = -1;
            }
            free(jpg);
        }
    }
    bfio_image_free(&img);
    return rc;
}

int bf_cmd_detect(int argc, char **argv)
{
    const char *model_path = DEFAULT_MODEL, *out_dir = "out", *json_path = NULL, *isa = NULL;
    int want_txt = 0, want_draw = 0;
    bf_options opt;
    bf_options_default(&opt);

    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    if (!paths) {
        fprintf(stderr, "bitfalcon detect: out of memory\n");
        return BF_EXIT_USAGE;
    }
    size_t n_paths = 0;
    bf_args a;
    bf_args_init(&a, argc, argv);
    int id, bad = 0;
    const char *v;
    while (!bad && (id = bf_args_next(&a, options, &v)) != BF_ARG_END) {
        switch (id) {
        case BF_ARG_POSITIONAL: paths[n_paths++] = v; break;
        case OPT_MODEL: model_path = v; break;
        case OPT_OUTPUT: out_dir = v; break;
        case OPT_JSON: json_path = v; break;
        case OPT_TXT: want_txt = 1; break;
        case OPT_DRAW: want_draw = 1; break;
        case OPT_SIZE:
            bad = bf_args_int(&a, v, 32, 8192, &opt.input_size) != 0;
            if (!bad && opt.input_size % 32 != 0) {
                fprintf(stderr, "bitfalcon detect: --size %d is not a multiple of 32\n",
                        opt.input_size);
                bad = 1;
            }
            break;
        case OPT_CONF: bad = bf_args_float(&a, v, 0.0, 1.0, &opt.conf_threshold) != 0; break;
        case OPT_IOU: bad = bf_args_float(&a, v, 0.0, 1.0, &opt.iou_threshold) != 0; break;
        case OPT_MAXDET: bad = bf_args_int(&a, v, 1, 100000, &opt.max_detections) != 0; break;
        case OPT_THREADS: bad = bf_args_int(&a, v, 0, 1024, &opt.threads) != 0; break;
        case OPT_ISA: isa = v; break;
        case OPT_HELP:
            help();
            free(paths);
            return BF_EXIT_OK;
        default: bad = 1; break; /* BF_ARG_ERROR: already printed */
        }
    }
    if (!bad && n_paths == 0) {
        fprintf(stderr, "bitfalcon detect: no images given (see 'bitfalcon detect --help')\n");
        bad = 1;
    }
    if (!bad && (want_txt || want_draw) && !*out_dir) {
        fprintf(stderr, "bitfalcon detect: the output folder name is empty\n");
        bad = 1;
    }
    if (bad) {
        free(paths);
        return BF_EXIT_USAGE;
    }
    opt.isa = isa;

    detect_ctx c = {0};
    bf_error berr;
    if (bf_model_open(model_path, &c.model, &berr) != BF_OK) {
        bf_report_path_message(model_path, berr.message);
        free(paths);
        return BF_EXIT_USAGE;
    }
    if (bf_detector_create(c.model, &opt, &c.det, &berr) != BF_OK) {
        bf_report_path_message(model_path, berr.message);
        bf_model_close(c.model);
        free(paths);
        return BF_EXIT_USAGE;
    }
    c.want_txt = want_txt;
    c.want_draw = want_draw;
    c.want_json = json_path != NULL;
    c.want_print = !want_txt && !want_draw && !json_path;
    if (c.want_json)
        bfio_detfile_begin(&c.json);

    int status = BF_EXIT_OK;
    bf_inputs in = {0};
    job *jobs = NULL;
    for (size_t i = 0; i < n_paths; i++)
        if (bf_inputs_add(&in, paths[i]) != 0)
            goto oom;
    int failures = in.failures;

    jobs = calloc(in.count + 1, sizeof *jobs);
    if (!jobs)
        goto oom;
    for (size_t i = 0; i < in.count; i++) {
        jobs[i].input = i;
        if (want_txt || want_draw) {
            char *rel_noext = bfio_path_replace_ext(in.items[i].rel, "");
            jobs[i].out_base = rel_noext ? bfio_path_join(out_dir, rel_noext) : NULL;
            free(rel_noext);
            if (!jobs[i].out_base)
                goto oom;
        }
    }
    if (want_txt || want_draw) {
        int f = check_collisions(jobs, in.count, &in);
        if (f < 0)
            goto oom;
        failures += f;
    }

    for (size_t i = 0; i < in.count; i++) {
        const bf_input *input = &in.items[i];
        if (input->skip)
            continue;
        bf_report_progress(i + 1, in.count, input->path);
        if (process(&c, input, jobs[i].out_base) != 0)
            failures++;
    }
    bf_report_progress_end();

    if (c.want_json) {
        bfio_detfile_end(&c.json);
        bfio_err err;
        if (c.json.sb.failed) {
            bf_report_failure(json_path, "out of memory");
            failures++;
        } else if (strcmp(json_path, "-") == 0) {
            fwrite(c.json.sb.data, 1, c.json.sb.len, stdout);
        } else if (bfio_mkdirs_for_file(json_path, &err) != 0 ||
                   bfio_write_file_atomic(json_path, c.json.sb.data, c.json.sb.len, &err) != 0) {
            bf_report_failure(json_path, "%s", err.msg);
            failures++;
        }
    }
    if (fflush(stdout) != 0) {
        bf_report_message("writing to stdout failed");
        failures++;
    }
    if (failures && bf_report_is_tty())
        bf_report_message("%d input%s failed", failures, failures == 1 ? "" : "s");
    status = failures ? BF_EXIT_SOME_FAILED : BF_EXIT_OK;
    goto done;

oom:
    bf_report_message("out of memory");
    status = BF_EXIT_SOME_FAILED;
done:
    if (jobs)
        for (size_t i = 0; i < in.count; i++)
            free(jobs[i].out_base);
    free(jobs);
    bf_inputs_free(&in);
    if (c.want_json)
        bfio_detfile_writer_free(&c.json);
    bf_detector_destroy(c.det);
    bf_model_close(c.model);
    free(paths);
    return status;
}
