/* txt_out.h - writes one image's (or video frame's) detections as a YOLO label file. */
#ifndef BF_APPS_TXT_OUT_H
#define BF_APPS_TXT_OUT_H

#include <stddef.h>

#include "bitfalcon.h"

/* Writes `n` detections of an image `w` x `h` to `txt` (folders made as needed,
 * written atomically). A failure is reported against `txt` (or `src` when out of
 * memory) and returns -1; 0 on success. */
int bf_write_txt_labels(const char *txt, const char *src, const bf_detection *d, size_t n, int w, int h);

#endif
