/* txt_out.c - the YOLO label file of `detect --txt`, shared by images and video frames. */
#include "txt_out.h"

#include "files.h"
#include "labels.h"
#include "report.h"
#include "strbuf.h"

int bf_write_txt_labels(const char *txt, const char *src, const bf_detection *d, size_t n, int w, int h)
{
    bfio_sb sb;
    bfio_sb_init(&sb);
    bfio_sb_append(&sb, "", 0); /* an image without objects still gets its (empty) file */
    for (size_t i = 0; i < n; i++)
        bfio_labels_put(&sb, d[i].class_id, d[i].x0, d[i].y0, d[i].x1, d[i].y1, d[i].score, w, h);
    bfio_err err;
    int rc = 0;
    if (!txt || sb.failed) {
        bf_report_failure(src, "out of memory");
        rc = -1;
    } else if (bfio_mkdirs_for_file(txt, &err) != 0 || bfio_write_file_atomic(txt, sb.data, sb.len, &err) != 0) {
        bf_report_failure(txt, "%s", err.msg);
        rc = -1;
    }
    bfio_sb_free(&sb);
    return rc;
}
