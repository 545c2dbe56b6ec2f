/* evalreport.c - see evalreport.h. */
#include "evalreport.h"

#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "json.h"

static const char *const coco80[80] = {
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase",
    "scissors", "teddy bear", "hair drier", "toothbrush"};

/* ultralytics.data.converter.coco80_to_coco91_class() */
static const unsigned char coco91[80] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31,
    32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
    60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90};

int bfio_coco91_id(int class80)
{
    return class80 >= 0 && class80 < 80 ? coco91[class80] : -1;
}

const char *bfio_coco80_name(int class80)
{
    return class80 >= 0 && class80 < 80 ? coco80[class80] : NULL;
}

int bfio_names_are_coco80(bfio_class_name_fn name, void *ctx, int num_classes)
{
    if (num_classes != 80 || !name)
        return 0;
    for (int c = 0; c < 80; c++) {
        const char *n = name(ctx, c);
        if (!n || strcmp(n, coco80[c]) != 0)
            return 0;
    }
    return 1;
}

static void row(FILE *f, const char *label, size_t images, size_t inst, double p, double r, double m50,
                double m)
{
    fprintf(f, "%22.22s %10zu %10zu %10.4f %10.4f %10.4f %10.4f\n", label, images, inst, p < 0 ? 0 : p,
            r < 0 ? 0 : r, m50 < 0 ? 0 : m50, m < 0 ? 0 : m);
}

void bfio_eval_print_table(FILE *f, const bfio_eval *ev, int num_classes, bfio_class_name_fn name, void *ctx,
                           const bfio_eval_result *res)
{
    fprintf(f, "%22s %10s %10s %10s %10s %10s %10s\n", "Class", "Images", "Instances", "P", "R", "mAP50",
            "mAP50-95");
    double p, r;
    bfio_eval_class_pr(ev, -1, &p, &r);
    row(f, "all", res->images, res->gt_boxes, p, r, res->map50, res->map);
    for (int c = 0; c < num_classes; c++) {
        size_t im, inst;
        double ap, ap50;
        if (bfio_eval_class_counts(ev, c, &im, &inst) != 0 || inst == 0)
            continue;
        bfio_eval_class_ap(ev, c, &ap, &ap50);
        bfio_eval_class_pr(ev, c, &p, &r);
        const char *n = name ? name(ctx, c) : NULL;
        char buf[32];
        if (!n) {
            snprintf(buf, sizeof buf, "%d", c);
            n = buf;
        }
        row(f, n, im, inst, p, r, ap50, ap);
    }
}

void bfio_coco_results_add(bfio_sb *sb, int *first, const char *image_path, const bfio_box *dets, size_t n,
                           int coco_ids)
{
    char *stem = bfio_path_stem(image_path);
    const char *s = stem ? stem : "";
    int numeric = s[0] != 0 && strlen(s) <= 18;
    for (const char *p = s; *p && numeric; p++)
        numeric = *p >= '0' && *p <= '9';
    for (size_t i = 0; i < n; i++) {
        const bfio_box *d = &dets[i];
        int cat = coco_ids ? bfio_coco91_id(d->class_id) : d->class_id + 1;
        bfio_sb_puts(sb, *first ? "\n" : ",\n");
        *first = 0;
        bfio_sb_puts(sb, "{\"image_id\": ");
        if (numeric)
            bfio_sb_printf(sb, "%llu", strtoull(s, NULL, 10));
        else
            bfio_json_put_string(sb, s); /* the one JSON string writer: names that are not
                                          * UTF-8 stay valid JSON and round-trip (json.h) */
        bfio_sb_printf(sb, ", \"category_id\": %d, \"bbox\": [%.3f, %.3f, %.3f, %.3f], \"score\": %.5f}", cat,
                       (double)d->x0, (double)d->y0, (double)(d->x1 - d->x0), (double)(d->y1 - d->y0),
                       (double)d->score);
    }
    free(stem);
}
