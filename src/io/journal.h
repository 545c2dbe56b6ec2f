/*
 * journal.h - the --resume journal of `bitfalcon detect --json` (docs/batch.md).
 *
 * --json is one array over all inputs, so a run cannot append to it safely.
 * With --resume each image's detections are journaled instead, one small file
 * per image written atomically, and the JSON is assembled from the journal at
 * the end. An entry lives at
 *
 *     DIR/.bitfalcon-journal/HH/HASH.det
 *
 * HASH the 64-bit FNV-1a of the input path (16 hex digits), HH its first two,
 * so that no folder holds more than 1/256 of the entries. Its text:
 *
 *     bitfalcon-journal 1
 *     path PATH
 *     fingerprint FINGERPRINT
 *     video [txt] [draw] [mot] whole|damaged     (a video's entry only)
 *     count N
 *     N lines "CLASS SCORE X0 Y0 X1 Y1" (C99 %a: exact hexadecimal floats),
 *       a video's followed by " FRAME TIME TRACK" (%lld %a %lld)
 *     end
 *
 * An image's entry has no video line, so entries written before videos were
 * journaled stay valid. A video's records the outputs written for it and
 * whether it decoded to its end: only a whole one counts as done.
 *
 * An entry is trusted only when every line is as written here, its path and
 * fingerprint (the model file and every option that changes detections) are
 * the ones asked for, and the file ends right after "end": a journal is read
 * back after crashes, copies and hand edits, so anything else is reported as
 * untrusted (the input then runs again), never half-read.
 */
#ifndef BFIO_JOURNAL_H
#define BFIO_JOURNAL_H

#include <stddef.h>

#include "bitfalcon.h"
#include "detfile.h"
#include "err.h"
#include "strbuf.h"

#define BFIO_JOURNAL_DIR ".bitfalcon-journal"
#define BFIO_JOURNAL_MAGIC "bitfalcon-journal 1"
/* An image's entry claims at most this many detections (far above any
 * --max-det) in at most this many bytes; a video's (an hour at 30 fps with
 * ten boxes a frame is a million lines) the larger pair. Bigger files are
 * refused before they are read, and a count is also refused when that many
 * lines cannot fit in the file, so a corrupt count allocates nothing large. */
#define BFIO_JOURNAL_IMAGE_MAX_DETECTIONS 1000000ULL
#define BFIO_JOURNAL_IMAGE_MAX_BYTES ((size_t)64 << 20)
#define BFIO_JOURNAL_VIDEO_MAX_DETECTIONS 100000000ULL
#define BFIO_JOURNAL_VIDEO_MAX_BYTES ((size_t)1 << 30)
/* The outputs a video's entry says were written. */
enum { BFIO_JOURNAL_TXT = 1, BFIO_JOURNAL_DRAW = 2, BFIO_JOURNAL_MOT = 4 };

/* One journaled detection, track as bfio_detfile_add_video takes it: an
 * image's has frame -1, time 0 and track BFIO_TRACK_NONE. */
typedef struct bfio_journal_det {
    bf_detection d;
    long long frame;
    double time;
    long long track;
} bfio_journal_det;

typedef struct bfio_journal_entry {
    int video;        /* 1: a video's entry */
    unsigned outputs; /* a video's: the BFIO_JOURNAL_* written */
    int whole;        /* a video's: decoded to its end without damage */
    bfio_journal_det *v; /* the detections (malloc'ed; NULL when n is 0) */
    size_t n;
} bfio_journal_entry;

/* The entry file for an input: out_dir/.bitfalcon-journal/HH/HASH.det
 * (malloc'ed; NULL when out of memory). */
char *bfio_journal_path(const char *out_dir, const char *input_path);

/* The fingerprint of an image's entry: the model file (path, size,
 * modification time) and the options that change detections (input size,
 * thresholds, max-det, EXIF on or off). Malloc'ed; NULL when out of memory or
 * when the model path holds a line break (a fingerprint is one line). */
char *bfio_journal_fingerprint(const char *model_path, const bf_options *opt, int exif);

/* Writes an image's entry atomically (folders made as needed). A path or
 * fingerprint with a line break is refused: each is one line of the format,
 * so it could not be read back. */
int bfio_journal_write_image(const char *file, const char *input_path, const char *fingerprint,
                             const bf_detection *d, size_t n, bfio_err *err);
/* The same for a video's entry (e->video is taken as 1). */
int bfio_journal_write_video(const char *file, const char *input_path, const char *fingerprint,
                             const bfio_journal_entry *e, bfio_err *err);

/* The entry's text, exactly what the two writers above put in the file,
 * appended to sb: 0, or -1 (err: why) for a path or fingerprint with a line
 * break or when out of memory. fuzz/fuzz_journal.c reads it back. */
int bfio_journal_format_image(bfio_sb *sb, const char *input_path, const char *fingerprint,
                              const bf_detection *d, size_t n, bfio_err *err);
int bfio_journal_format_video(bfio_sb *sb, const char *input_path, const char *fingerprint,
                              const bfio_journal_entry *e, bfio_err *err);

/* What to trust: the entry must be for this input, an image's made with
 * fingerprint, a video's with video_fingerprint (NULL: no video entry is
 * trusted), and its classes in 0..num_classes-1. */
typedef struct bfio_journal_want {
    const char *input_path;
    const char *fingerprint;
    const char *video_fingerprint;
    int num_classes;
} bfio_journal_want;

/* Parses an entry's text[0..len) (a NUL byte in it makes it untrusted). 0 and
 * *e filled (free with bfio_journal_entry_free), or -1 with *e empty and err
 * saying which line is wrong. */
int bfio_journal_parse(const char *text, size_t len, const bfio_journal_want *want,
                       bfio_journal_entry *e, bfio_err *err);

/* Reads and parses the entry file; -1 (err: why) when it is missing,
 * unreadable, or not to be trusted. */
int bfio_journal_read(const char *file, const bfio_journal_want *want, bfio_journal_entry *e,
                      bfio_err *err);

void bfio_journal_entry_free(bfio_journal_entry *e);

#endif /* BFIO_JOURNAL_H */
