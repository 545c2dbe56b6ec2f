/*
 * detfile.h - the detections file written by `bitfalcon detect --json` and
 * read by `bitfalcon eval --detections`:
 *
 *     [
 *       {"file": "assets/chelsea.jpg", "class": 15, "name": "cat", "score": 0.87,
 *        "bbox": [x, y, w, h]},
 *       ...
 *     ]
 *
 * bbox is COCO style, in pixels of the original image: top-left corner, width,
 * height. The writer and the reader live together so the format has one
 * definition. Python tools writing the same format (the fp32 teacher's
 * detections) are scored by the same C metric code. The reader ignores keys
 * it does not know ("name" included) and checks every field it uses: "class"
 * an integer in 0..999, "score" in 0..1, "bbox" finite with w, h >= 0.
 * "file" holds the path's bytes; bytes that are not UTF-8 (a Linux name can
 * hold any) are written as \udc80..\udcff, Python's surrogateescape (json.h),
 * and read back to the same bytes.
 */
#ifndef BFIO_DETFILE_H
#define BFIO_DETFILE_H

#include <stddef.h>

#include "err.h"
#include "strbuf.h"

#define BFIO_MAX_CLASSES 1000 /* the model format's limit */

typedef struct bfio_det_record {
    char *file;
    int class_id;
    float score;
    float x, y, w, h;
} bfio_det_record;

typedef struct bfio_det_file {
    bfio_det_record *items;
    size_t count;
} bfio_det_file;

int bfio_detfile_parse(const char *text, size_t len, bfio_det_file *out, bfio_err *err);
int bfio_detfile_read(const char *path, bfio_det_file *out, bfio_err *err);
void bfio_detfile_free(bfio_det_file *df);

/* Writing: begin, add each detection, end; the text accumulates in sb. */
typedef struct bfio_detfile_writer {
    bfio_sb sb;
    size_t count;
} bfio_detfile_writer;

void bfio_detfile_begin(bfio_detfile_writer *w);
/* A detection given by corners (bf_detection style); name may be NULL. */
void bfio_detfile_add(bfio_detfile_writer *w, const char *file, int class_id, const char *name,
                      float score, float x0, float y0, float x1, float y1);
/* A detection in a frame of a video: the same keys, then "frame" (0-based)
 * and "time" (seconds from the video's start) when frame >= 0, and "track":
 * the ID when track >= 0, null for BFIO_TRACK_NULL (a tracked run's box in
 * no confirmed track), no key for BFIO_TRACK_NONE (no tracking). With
 * --track every detection of a video has the key, so a consumer reading
 * d["track"] never meets a missing key. The reader ignores these keys (it
 * scores still images). */
enum { BFIO_TRACK_NULL = -1, BFIO_TRACK_NONE = -2 };
void bfio_detfile_add_video(bfio_detfile_writer *w, const char *file, int class_id,
                            const char *name, float score, float x0, float y0, float x1, float y1,
                            long long frame, double time, long long track);
void bfio_detfile_end(bfio_detfile_writer *w);
void bfio_detfile_writer_free(bfio_detfile_writer *w);

#endif /* BFIO_DETFILE_H */
