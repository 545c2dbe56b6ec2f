/*
 * cmd_eval.c - `bitfalcon eval`: COCO mAP on a folder of labeled images.
 *
 * The detections come either from the model (run at confidence 0.001 with
 * multi-label candidates, NMS per class, at most 300 per image, as `yolo val`
 * runs it; --single-label: one class per anchor, as detect) or from a detections file
 * in the `detect --json` format, matched to the images by file stem. The
 * second form lets the fp32 teacher's detections, produced by a Python tool,
 * be scored by exactly the same C metric code as the ternary model.
 *
 * Ground truth: for IMAGES/REL/x.jpg the labels are LABELS/REL/x.txt, YOLO
 * format (src/io/labels.h); a missing or empty file means no objects.
 *
 * Both sources see the same images and labels the same way: every image is
 * decoded (a damaged one is left out of a detections file's score as it is
 * out of the model's), in the displayed frame (EXIF orientation applied,
 * unless --no-exif), and the labels are read by one reader with one class
 * count (the model's, data.yaml's, or --nc), so a label the model run
 * rejects is rejected with a detections file too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "bitfalcon.h"
#include "commands.h"
#include "datayaml.h"
#include "detfile.h"
#include "evalreport.h"
#include "files.h"
#include "image.h"
#include "inputs.h"
#include "labels.h"
#include "metrics.h"
#include "model_path.h"
#include "plots.h"
#include "report.h"


static void help(void)
{
    printf("Usage: bitfalcon eval [-m MODEL | --detections FILE] --images DIR --labels DIR [OPTIONS]\n"
           "\n"
           "COCO box mAP (pycocotools' protocol: IoU .50:.05:.95, 101-point interpolated\n"
           "precision, at most 100 detections per image and class, as COCOeval.evaluateImg)\n"
           "over the images in DIR, and the per-class table of `yolo val` (P and R at the\n"
           "confidence of the best mean F1). The model's candidates are taken as `yolo val`\n"
           "takes them: every class scoring >= conf at every anchor, NMS per class, at most\n"
           "300 per image.\n"
           "\n"
           "Options:\n"
           "  -m, --model FILE       run this model (default:\n"
           "                         " BF_MODEL_DEFAULT_HELP ")\n"
           "      --detections FILE  score these detections instead (the 'detect --json'\n"
           "                         format), matched to images by file name without\n"
           "                         extension\n"
           "      --data FILE        Ultralytics data.yaml: scores its val split (path, val;\n"
           "                         labels beside images/ in labels/), names the classes\n"
           "      --images DIR       images, searched recursively\n"
           "      --labels DIR       YOLO labels: DIR/REL/NAME.txt for IMAGES/REL/NAME.jpg,\n"
           "                         'class cx cy w h' normalised; missing or empty = no objects\n"
           "      --nc N             number of classes, for --detections without --data\n"
           "                         (default 80, COCO's); label classes must be below it\n"
           "      --no-exif          ignore JPEG EXIF orientation (labels in the stored frame)\n"
           "      --size N           network input size (default: the model's, 640)\n"
           "      --conf X           confidence threshold for the model (default 0.001)\n"
           "      --iou X            NMS IoU threshold for the model (default 0.7)\n"
           "      --max-det N        detections scored per image and class (default 100)\n"
           "      --single-label     the model's candidates as detect takes them: the best\n"
           "                         class per anchor\n"
           "      --legacy           this tool's protocol before: --single-label, NMS keeps\n"
           "                         --max-det per image, --max-det per image over all classes\n"
           "      --save-json FILE   write the scored detections as COCO results JSON\n"
           "                         (image_id = the file stem, a number when all digits;\n"
           "                         category_id: COCO's 91 ids for a model with COCO's 80\n"
           "                         classes, else class + 1; see --coco-ids)\n"
           "      --coco-ids WHEN    auto (default: COCO ids when the model's names are COCO's),\n"
           "                         yes, no\n"
           "      --no-table         do not print the per-class table\n"
           "      --plots DIR        write the PR, F1, P and R curves and the confusion matrix\n"
           "                         (conf 0.25, IoU 0.45, as yolo val) as PNG files into DIR\n"
           "      --threads N        worker threads (default: all cores)\n"
           "      --isa NAME         kernel path (default auto)\n"
           "      --json             print {\"map\": ..., \"map50\": ..., \"images\": N} on stdout\n"
           "  -h, --help             show this help\n"
           "\n"
           "Prints mAP50-95, mAP50 and the number of images scored. Images or label files\n"
           "that cannot be read are reported and left out.\n"
           "Exit status: 0 success; 1 some images or labels failed (the metric covers the\n"
           "others); 2 usage error, or the model or detections file could not be loaded.\n");
}

enum { OPT_MODEL = 1, OPT_DETS, OPT_IMAGES, OPT_LABELS, OPT_SIZE, OPT_CONF, OPT_IOU, OPT_MAXDET,
       OPT_THREADS, OPT_ISA, OPT_JSON, OPT_HELP, OPT_SINGLE, OPT_LEGACY, OPT_SAVEJSON, OPT_COCOIDS,
       OPT_NOTABLE, OPT_DATA, OPT_NC, OPT_NO_EXIF, OPT_PLOTS };

static const bf_opt options[] = {
    {"model", 'm', 1, OPT_MODEL},     {"detections", 0, 1, OPT_DETS}, {"images", 0, 1, OPT_IMAGES},
    {"labels", 0, 1, OPT_LABELS},     {"size", 0, 1, OPT_SIZE},       {"conf", 0, 1, OPT_CONF},
    {"iou", 0, 1, OPT_IOU},           {"max-det", 0, 1, OPT_MAXDET},  {"threads", 0, 1, OPT_THREADS},
    {"isa", 0, 1, OPT_ISA},           {"json", 0, 0, OPT_JSON},       {"plots", 0, 1, OPT_PLOTS},       {"help", 'h', 0, OPT_HELP},
    {"single-label", 0, 0, OPT_SINGLE}, {"legacy", 0, 0, OPT_LEGACY}, {"save-json", 0, 1, OPT_SAVEJSON},
    {"coco-ids", 0, 1, OPT_COCOIDS},  {"no-table", 0, 0, OPT_NOTABLE}, {"data", 0, 1, OPT_DATA},
    {"nc", 0, 1, OPT_NC},             {"no-exif", 0, 0, OPT_NO_EXIF},
    {NULL, 0, 0, 0},
};

/* --- detections from a file, grouped by image --- */

typedef struct stem_ref {
    char *stem;
    size_t image; /* index into the inputs */
} stem_ref;

static int by_stem(const void *a, const void *b)
{
    const stem_ref *x = a, *y = b;
    int c = strcmp(x->stem, y->stem);
    return c ? c : (x->image < y->image ? -1 : x->image > y->image);
}

typedef struct file_dets {
    bfio_det_file df;
    size_t *first;  /* per image: start in order[] */
    size_t *count;  /* per image: number of detections */
    size_t *order;  /* record indices grouped by image, file order kept */
    size_t unmatched;
} file_dets;

/* Groups the records by image stem. Duplicate stems among the images make
 * the match ambiguous: refused. */
static int group_by_stem(file_dets *fd, const bf_inputs *in)
{
    size_t n_img = in->count, n_rec = fd->df.count;
    stem_ref *refs = calloc(n_img + 1, sizeof *refs);
    size_t *img_of = malloc((n_rec + 1) * sizeof *img_of);
    fd->first = calloc(n_img + 1, sizeof *fd->first);
    fd->count = calloc(n_img + 1, sizeof *fd->count);
    fd->order = malloc((n_rec + 1) * sizeof *fd->order);
    int rc = -1;
    if (!refs || !img_of || !fd->first || !fd->count || !fd->order) {
        bf_report_message("out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_img; i++) {
        refs[i].image = i;
        if (!(refs[i].stem = bfio_path_stem(in->items[i].path))) {
            bf_report_message("out of memory");
            goto done;
        }
    }
    qsort(refs, n_img, sizeof *refs, by_stem);
    for (size_t i = 1; i < n_img; i++)
        if (strcmp(refs[i].stem, refs[i - 1].stem) == 0) {
            bf_report_message("images %s and %s have the same name '%s': detections are "
                              "matched to images by name, so this is ambiguous",
                              in->items[refs[i - 1].image].path, in->items[refs[i].image].path,
                              refs[i].stem);
            rc = -2;
            goto done;
        }
    for (size_t r = 0; r < n_rec; r++) {
        img_of[r] = SIZE_MAX;
        char *stem = bfio_path_stem(fd->df.items[r].file);
        if (!stem) {
            bf_report_message("out of memory");
            goto done;
        }
        stem_ref key = {stem, 0};
        size_t lo = 0, hi = n_img;
        while (lo < hi) { /* first ref with stem >= key */
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(refs[mid].stem, stem) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        (void)key;
        if (lo < n_img && strcmp(refs[lo].stem, stem) == 0) {
            img_of[r] = refs[lo].image;
            fd->count[refs[lo].image]++;
        } else {
            fd->unmatched++;
        }
        free(stem);
    }
    size_t pos = 0;
    for (size_t i = 0; i < n_img; i++) {
        fd->first[i] = pos;
        pos += fd->count[i];
        fd->count[i] = 0;
    }
    for (size_t r = 0; r < n_rec; r++)
        if (img_of[r] != SIZE_MAX) {
            size_t i = img_of[r];
            fd->order[fd->first[i] + fd->count[i]++] = r;
        }
    rc = 0;
done:
    if (refs)
        for (size_t i = 0; i < n_img; i++)
            free(refs[i].stem);
    free(refs);
    free(img_of);
    return rc;
}

static void file_dets_free(file_dets *fd)
{
    bfio_detfile_free(&fd->df);
    free(fd->first);
    free(fd->count);
    free(fd->order);
}

/* LABELS/REL_DIR/STEM.txt for an input with relative path REL_DIR/STEM.ext. */
static char *label_path(const char *labels_dir, const char *rel)
{
    char *rel_txt = bfio_path_replace_ext(rel, ".txt");
    if (!rel_txt)
        return NULL;
    char *p = bfio_path_join(labels_dir, rel_txt);
    free(rel_txt);
    return p;
}

static const char *model_name(void *ctx, int id)
{
    return ctx ? bf_model_class_name((const bf_model *)ctx, id) : NULL;
}

static const char *yaml_name(void *ctx, int id)
{
    const bfio_data_yaml *d = ctx;
    return id >= 0 && id < d->n_names ? d->names[id] : NULL;
}

/* --plots: the curves and the confusion matrix, with the model's, the yaml's or COCO's names. */
static int write_plots(const bfio_eval *ev, const bfio_confusion *cm, int nc, const bf_model *model,
                       const bfio_data_yaml *dy, const char *dir)
{
    const char **names = calloc((size_t)nc, sizeof *names);
    char(*fallback)[16] = calloc((size_t)nc, sizeof *fallback);
    bfio_err err;
    int rc = -1;
    if (!names || !fallback) {
        bf_report_message("out of memory");
        goto done;
    }
    for (int c = 0; c < nc; c++) {
        names[c] = model ? bf_model_class_name(model, c) : dy ? yaml_name((void *)dy, c) : bfio_coco80_name(c);
        if (!names[c]) {
            snprintf(fallback[c], sizeof fallback[c], "class%d", c);
            names[c] = fallback[c];
        }
    }
    if (bfio_write_eval_plots(ev, cm, names, nc, dir, &err) != 0)
        bf_report_failure(dir, "%s", err.msg);
    else
        rc = 0;
done:
    free(names);
    free(fallback);
    return rc;
}

/* --- the command line ---------------------------------------------------------- */

typedef struct eval_args {
    const char *model_path, *dets_path, *images_dir, *labels_dir, *isa;
    const char *save_json, *data_path, *plots_dir;
    int want_json, max_det, single_label, legacy, table;
    int coco_ids;             /* --coco-ids: 1 yes, 0 no, -1 auto */
    int nc;                   /* --nc, 0 when not given */
    unsigned image_flags;     /* BFIO_IMAGE_NO_EXIF with --no-exif */
    bf_options opt;
    bfio_data_yaml dy;        /* --data */
    char *data_images, *data_labels; /* its val split's folders */
} eval_args;

static void eval_args_free(eval_args *e)
{
    bfio_data_yaml_free(&e->dy);
    free(e->data_images);
    free(e->data_labels);
}

/* The options into e; 1 when one was wrong (reported), 0 otherwise. */
static int parse_options(int argc, char **argv, eval_args *e, int *help_shown)
{
    bf_args a;
    bf_args_init(&a, argc, argv);
    int id, bad = 0;
    const char *v;
    while (!bad && (id = bf_args_next(&a, options, &v)) != BF_ARG_END) {
        switch (id) {
        case BF_ARG_POSITIONAL:
            fprintf(stderr, "bitfalcon eval: unexpected argument '%s' (use --images DIR)\n", v);
            bad = 1;
            break;
        case OPT_MODEL: e->model_path = v; break;
        case OPT_DETS: e->dets_path = v; break;
        case OPT_IMAGES: e->images_dir = v; break;
        case OPT_LABELS: e->labels_dir = v; break;
        case OPT_SIZE:
            bad = bf_args_int(&a, v, 32, 8192, &e->opt.input_size) != 0;
            if (!bad && e->opt.input_size % 32 != 0) {
                fprintf(stderr, "bitfalcon eval: --size %d is not a multiple of 32\n", e->opt.input_size);
                bad = 1;
            }
            break;
        case OPT_CONF: bad = bf_args_float(&a, v, 0.0, 1.0, &e->opt.conf_threshold) != 0; break;
        case OPT_IOU: bad = bf_args_float(&a, v, 0.0, 1.0, &e->opt.iou_threshold) != 0; break;
        case OPT_MAXDET: bad = bf_args_int(&a, v, 1, 100000, &e->max_det) != 0; break;
        case OPT_THREADS: bad = bf_args_int(&a, v, 0, 1024, &e->opt.threads) != 0; break;
        case OPT_ISA: e->isa = v; break;
        case OPT_JSON: e->want_json = 1; break;
        case OPT_HELP: help(); *help_shown = 1; return 0;
        case OPT_SINGLE: e->single_label = 1; break;
        case OPT_LEGACY: e->legacy = e->single_label = 1; break;
        case OPT_SAVEJSON: e->save_json = v; break;
        case OPT_PLOTS: e->plots_dir = v; break;
        case OPT_NOTABLE: e->table = 0; break;
        case OPT_DATA: e->data_path = v; break;
        case OPT_NC: bad = bf_args_int(&a, v, 1, BFIO_MAX_CLASSES, &e->nc) != 0; break;
        case OPT_NO_EXIF: e->image_flags = BFIO_IMAGE_NO_EXIF; break;
        case OPT_COCOIDS:
            e->coco_ids = !strcmp(v, "yes") ? 1 : !strcmp(v, "no") ? 0 : !strcmp(v, "auto") ? -1 : -2;
            if (e->coco_ids == -2) {
                fprintf(stderr, "bitfalcon eval: --coco-ids takes auto, yes or no\n");
                bad = 1;
            }
            break;
        default: bad = 1; break;
        }
    }
    return bad;
}

/* --data: its val split gives --images and --labels not given. */
static int read_data_yaml(eval_args *e)
{
    bfio_err yerr;
    if (bfio_data_yaml_read(e->data_path, &e->dy, &yerr) != 0 ||
        bfio_data_yaml_val_dirs(&e->dy, &e->data_images, &e->data_labels, &yerr) != 0) {
        fprintf(stderr, "bitfalcon: %s: %s\n", e->data_path, yerr.msg);
        return -1;
    }
    if (!e->images_dir)
        e->images_dir = e->data_images;
    if (!e->labels_dir)
        e->labels_dir = e->data_labels;
    return 0;
}

/* A missing labels folder would read as "no objects anywhere" and end in
 * "mAP is undefined": blamed on the folder instead. */
static int check_labels_dir(const char *labels_dir)
{
    struct stat st;
    const char *why = NULL;
    if (stat(labels_dir, &st) != 0)
        why = strerror(errno);
    else if (!S_ISDIR(st.st_mode))
        why = "not a folder";
    if (why) {
        bf_report_failure(labels_dir, "%s (the --labels folder)", why);
        return -1;
    }
    return 0;
}

/* The options and the combinations of them that make sense; 0 to go on,
 * BF_EXIT_OK after --help, BF_EXIT_USAGE (reported) otherwise. *help_shown
 * tells the first two apart. */
static int parse_args(int argc, char **argv, eval_args *e, int *help_shown)
{
    memset(e, 0, sizeof *e);
    e->max_det = 100;
    e->coco_ids = -1;
    e->table = 1;
    bf_options_default(&e->opt);
    e->opt.conf_threshold = 0.001f;
    e->opt.iou_threshold = 0.7f;
    *help_shown = 0;
    int bad = parse_options(argc, argv, e, help_shown);
    if (*help_shown)
        return BF_EXIT_OK;
    if (!bad && e->model_path && e->dets_path) {
        fprintf(stderr, "bitfalcon eval: give either --model or --detections, not both\n");
        bad = 1;
    }
    if (!bad && e->data_path && read_data_yaml(e) != 0)
        return BF_EXIT_USAGE;
    if (!bad && (!e->images_dir || !e->labels_dir)) {
        fprintf(stderr, "bitfalcon eval: --images and --labels are required (see 'bitfalcon eval --help')\n");
        bad = 1;
    }
    if (!bad && e->plots_dir) {
        /* checked (and made) before any work: a bad DIR must not cost the whole run */
        bfio_err perr;
        struct stat pst;
        if (bfio_mkdirs(e->plots_dir, &perr) != 0 || stat(e->plots_dir, &pst) != 0 || !S_ISDIR(pst.st_mode)) {
            fprintf(stderr, "bitfalcon eval: --plots %s: not a folder that can be written\n", e->plots_dir);
            return BF_EXIT_USAGE;
        }
    }
    if (!bad && e->nc && !e->dets_path) {
        fprintf(stderr, "bitfalcon eval: --nc is for --detections (a model knows its classes)\n");
        bad = 1;
    }
    if (!bad && e->nc && e->data_path && e->nc != e->dy.n_names) {
        fprintf(stderr, "bitfalcon eval: --nc %d, but %s names %d classes\n", e->nc, e->data_path,
                e->dy.n_names);
        bad = 1;
    }
    if (!bad && check_labels_dir(e->labels_dir) != 0)
        bad = 1;
    if (bad)
        return BF_EXIT_USAGE;
    if (!e->dets_path && !e->model_path) {
        const char *looked = NULL;
        if (!(e->model_path = bf_default_model(&looked))) {
            fprintf(stderr, "bitfalcon: %s\n", looked);
            return BF_EXIT_USAGE;
        }
    }
    e->opt.isa = e->isa;
    e->opt.max_detections = e->legacy ? e->max_det : 300; /* yolo val: max_det 300 */
    e->opt.multi_label = !e->single_label;
    return 0;
}

/* --- where the detections come from: the model, or a file ------------------------ */

typedef struct eval_source {
    bf_model *model;   /* -m */
    bf_detector *det;
    file_dets fd;      /* --detections */
    int num_classes;   /* the labels' class count */
    int coco_ids;      /* --save-json category ids: 1 COCO's 91 */
} eval_source;

static int open_source(const eval_args *e, eval_source *src)
{
    memset(src, 0, sizeof *src);
    src->num_classes = BFIO_MAX_CLASSES;
    src->coco_ids = e->coco_ids;
    if (e->model_path) {
        bf_error berr;
        if (bf_model_open(e->model_path, &src->model, &berr) != BF_OK ||
            bf_detector_create(src->model, &e->opt, &src->det, &berr) != BF_OK) {
            bf_report_path_message(e->model_path, berr.message);
            return -1;
        }
        src->num_classes = bf_model_num_classes(src->model);
        if (src->coco_ids < 0)
            src->coco_ids = bfio_names_are_coco80(model_name, src->model, src->num_classes);
        if (e->data_path && e->dy.n_names != src->num_classes)
            bf_report_message("warning: %s names %d classes, the model has %d", e->data_path,
                              e->dy.n_names, src->num_classes);
        return 0;
    }
    bfio_err err;
    if (bfio_detfile_read(e->dets_path, &src->fd.df, &err) != 0) {
        fprintf(stderr, "bitfalcon: %s: %s\n", e->dets_path, err.msg);
        return -1;
    }
    return 0;
}

/* Without a model, the class count of --nc, data.yaml, or COCO's. */
static void settle_classes(const eval_args *e, eval_source *src)
{
    if (!src->model && e->nc)
        src->num_classes = e->nc;
    else if (!src->model && !e->data_path)
        src->num_classes = 80; /* COCO's, the shipped model's: see --nc */
    if (!src->model && e->data_path) {
        src->num_classes = e->dy.n_names;
        if (src->coco_ids < 0)
            src->coco_ids = bfio_names_are_coco80(yaml_name, (void *)&e->dy, src->num_classes);
    }
    if (src->coco_ids < 0)
        src->coco_ids = 0;
}

static void close_source(eval_source *src)
{
    file_dets_free(&src->fd);
    bf_detector_destroy(src->det);
    bf_model_close(src->model);
}

/* --- scoring ------------------------------------------------------------------ */

typedef struct eval_run {
    const eval_args *e;
    eval_source *src;
    bf_inputs in;
    bfio_eval *ev;
    bfio_confusion *cm; /* --plots */
    bfio_box *dboxes;   /* this image's detections */
    size_t dcap;
    bfio_sb results;    /* --save-json */
    int results_first;
    int failures;
} eval_run;

static int grow_boxes(eval_run *r, size_t n)
{
    if (n <= r->dcap)
        return 0;
    bfio_box *p = realloc(r->dboxes, n * sizeof *p);
    if (!p)
        return -1;
    r->dboxes = p;
    r->dcap = n;
    return 0;
}

/* Image i's detections into r->dboxes (*nd of them): 0; 1 after reporting
 * that the model failed on it; -1 out of memory. */
static int image_detections(eval_run *r, size_t i, const bfio_image *img, size_t *nd)
{
    if (r->src->det) {
        bf_error berr;
        if (bf_detector_run(r->src->det, img->pixels, img->width, img->height, img->stride,
                            BF_PIXEL_RGB, &berr) != BF_OK) {
            bf_report_path_message(r->in.items[i].path, berr.message);
            return 1;
        }
        const bf_detection *d = bf_detector_results(r->src->det, nd);
        if (grow_boxes(r, *nd) != 0)
            return -1;
        for (size_t k = 0; k < *nd; k++)
            r->dboxes[k] = (bfio_box){d[k].x0, d[k].y0, d[k].x1, d[k].y1, d[k].score, d[k].class_id};
        return 0;
    }
    const file_dets *fd = &r->src->fd;
    *nd = fd->count[i];
    if (grow_boxes(r, *nd) != 0)
        return -1;
    for (size_t k = 0; k < *nd; k++) {
        const bfio_det_record *x = &fd->df.items[fd->order[fd->first[i] + k]];
        r->dboxes[k] = (bfio_box){x->x, x->y, x->x + x->w, x->y + x->h, x->score, x->class_id};
    }
    return 0;
}

/* Scores image i: 0 (a failure is reported and counted), -1 out of memory. */
static int score_image(eval_run *r, size_t i)
{
    const bf_input *input = &r->in.items[i];
    bfio_err err;
    /* The image, decoded whatever the source of the detections: a file the
     * model could not read is not scored from a detections file either (a
     * header alone would pass a truncated JPEG). */
    bfio_image img = {0};
    if (bfio_image_load_ex(input->path, r->e->image_flags, &img, &err) != 0) {
        bf_report_failure(input->path, "%s", err.msg);
        r->failures++;
        return 0;
    }
    const int w = img.width, h = img.height;
    if (!r->src->det)
        bfio_image_free(&img); /* its size is all a detections file needs */
    /* Ground truth. */
    char *lpath = label_path(r->e->labels_dir, input->rel);
    bfio_box *gt = NULL;
    size_t n_gt = 0, nd = 0;
    int missing = 0;
    if (!lpath || bfio_labels_read(lpath, w, h, r->src->num_classes, &gt, &n_gt, &missing, &err) != 0) {
        bf_report_failure(lpath ? lpath : input->path, "%s", lpath ? err.msg : "out of memory");
        free(lpath);
        bfio_image_free(&img);
        r->failures++;
        return 0;
    }
    free(lpath);
    int rc = image_detections(r, i, &img, &nd);
    bfio_image_free(&img);
    if (rc == 0 && (bfio_eval_add_image(r->ev, gt, n_gt, r->dboxes, nd, &err) != 0 ||
                    (r->cm && bfio_confusion_add_image(r->cm, gt, n_gt, r->dboxes, nd, &err) != 0))) {
        bf_report_failure(input->path, "%s", err.msg);
        r->failures++;
    } else if (rc == 0 && r->e->save_json) {
        bfio_coco_results_add(&r->results, &r->results_first, input->path, r->dboxes, nd,
                              r->src->coco_ids);
    }
    free(gt);
    if (rc < 0)
        bf_report_message("out of memory");
    r->failures += rc > 0;
    return rc < 0 ? -1 : 0;
}

/* The inputs, the detections file matched to them, the metric's state. 0,
 * or -1 (reported) to stop with usage status. */
static int start_run(eval_run *r)
{
    const eval_args *e = r->e;
    if (bf_inputs_add(&r->in, e->images_dir) != 0) {
        bf_report_message("out of memory");
        return -1;
    }
    if (r->in.count == 0)
        return -1; /* reported by bf_inputs_add */
    r->failures = r->in.failures;
    if (e->dets_path) {
        if (group_by_stem(&r->src->fd, &r->in) != 0)
            return -1;
        if (r->src->fd.unmatched)
            bf_report_message("%s: %zu detections name files that are not among the images; "
                              "ignored", e->dets_path, r->src->fd.unmatched);
    }
    settle_classes(e, r->src);
    int nc = r->src->num_classes;
    r->ev = bfio_eval_create(nc, e->max_det);
    if ((e->plots_dir && !(r->cm = bfio_confusion_create(nc, 0.25, 0.45))) || !r->ev) {
        bf_report_message("out of memory");
        return -1;
    }
    if (!e->legacy)
        bfio_eval_set_limit(r->ev, BFIO_LIMIT_PER_IMAGE_CLASS);
    return 0;
}

static void print_number(double v)
{
    if (v < 0)
        printf("null");
    else
        printf("%.6f", v);
}

/* --save-json, --plots, the table and the summary. 0, or -1 out of memory. */
static int report(eval_run *r, const bfio_eval_result *res)
{
    const eval_args *e = r->e;
    const bf_model *model = r->src->model;
    bfio_err err;
    if (e->save_json) {
        bfio_sb_puts(&r->results, "\n]\n");
        if (r->results.failed) {
            bf_report_message("out of memory");
            return -1;
        }
        if (bfio_write_file_atomic(e->save_json, r->results.data, r->results.len, &err) != 0) {
            bf_report_failure(e->save_json, "%s", err.msg);
            r->failures++;
        }
    }
    if (e->plots_dir && res->classes &&
        write_plots(r->ev, r->cm, r->src->num_classes, model, e->data_path ? &e->dy : NULL, e->plots_dir) != 0)
        r->failures++;
    if (!e->want_json && e->table && res->classes)
        bfio_eval_print_table(stdout, r->ev, r->src->num_classes,
                              model ? model_name : e->data_path ? yaml_name : NULL,
                              model ? (void *)model : (void *)&e->dy, res);
    if (e->want_json) {
        printf("{\"map\": ");
        print_number(res->map);
        printf(", \"map50\": ");
        print_number(res->map50);
        printf(", \"images\": %zu}\n", res->images);
    } else {
        printf("images    %zu (%zu boxes, %d classes with boxes)\n", res->images, res->gt_boxes,
               res->classes);
        if (res->classes) {
            printf("mAP50-95  %.4f\n", res->map);
            printf("mAP50     %.4f\n", res->map50);
        } else {
            printf("mAP50-95  n/a\nmAP50     n/a\n");
        }
    }
    return 0;
}

/* Scores every image and reports; the exit status. */
static int run_eval(const eval_args *e, eval_source *src)
{
    eval_run r;
    memset(&r, 0, sizeof r);
    r.e = e;
    r.src = src;
    r.results_first = 1;
    bfio_sb_init(&r.results);
    bfio_sb_putc(&r.results, '[');
    int status = BF_EXIT_USAGE;
    if (start_run(&r) != 0)
        goto done;
    for (size_t i = 0; i < r.in.count; i++) {
        bf_report_progress(i + 1, r.in.count, r.in.items[i].path);
        if (score_image(&r, i) != 0)
            goto done;
    }
    bf_report_progress_end();
    bfio_eval_result res;
    bfio_err err;
    if (bfio_eval_compute(r.ev, &res, &err) != 0) {
        bf_report_message("%s", err.msg);
        goto done;
    }
    if (res.classes == 0) {
        bf_report_message("no ground-truth boxes in %s: mAP is undefined", e->labels_dir);
        r.failures++;
    }
    if (report(&r, &res) != 0)
        goto done;
    status = fflush(stdout) != 0 || r.failures ? BF_EXIT_SOME_FAILED : BF_EXIT_OK;
done:
    bfio_sb_free(&r.results);
    free(r.dboxes);
    bfio_eval_destroy(r.ev);
    bfio_confusion_destroy(r.cm);
    bf_inputs_free(&r.in);
    return status;
}

int bf_cmd_eval(int argc, char **argv)
{
    eval_args e;
    int help_shown;
    int status = parse_args(argc, argv, &e, &help_shown);
    if (status == 0 && !help_shown) {
        eval_source src;
        status = open_source(&e, &src) != 0 ? BF_EXIT_USAGE : run_eval(&e, &src);
        close_source(&src);
    }
    eval_args_free(&e);
    return status;
}
