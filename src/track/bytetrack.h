/*
 * bytetrack.h - multi-object tracking by ByteTrack (Zhang et al. 2022), as
 * Ultralytics' trackers/byte_tracker.py runs it, with its bytetrack.yaml
 * defaults.
 *
 * Each frame (bt_update):
 *   1. the boxes with score >= track_high are matched to the confirmed
 *      tracks and the lost ones (Kalman-predicted), cost 1 - IoU (times the
 *      score with fuse_score), optimal assignment limited at match;
 *   2. the boxes with track_low < score < track_high are matched, limit 0.5,
 *      to the confirmed tracks still unmatched (so a low-score box only ever
 *      extends a track, never starts one); tracks left over become lost;
 *   3. the high boxes still unmatched are matched (limit 0.7) to the tracks
 *      born last frame (unconfirmed); an unconfirmed track left over dies;
 *   4. a high box still unmatched with score >= new_track starts a track,
 *      unconfirmed (except on the first frame) until matched next frame;
 *   5. a track lost for more than buffer frames is dropped; of a tracked
 *      and a lost track overlapping at IoU > 0.85, the younger is dropped.
 * Tracks are class-agnostic (a track takes its box's class). IDs start at 1
 * and are never reused; as in Ultralytics, a track that is born and dies
 * unconfirmed uses an ID up, so the IDs seen may skip numbers.
 *
 * One tracker per video or stream; no global state; not thread-safe (one
 * thread per tracker).
 */
#ifndef BF_TRACK_BYTETRACK_H
#define BF_TRACK_BYTETRACK_H

#include <stddef.h>

typedef struct bt_config {
    float track_high; /* first-stage boxes (0.5) */
    float track_low;  /* second-stage boxes: above this, below track_high (0.1) */
    float new_track;  /* a new track needs this score (0.6) */
    float match;      /* first-stage cost limit, 1 - IoU [* score] (0.8) */
    int buffer;       /* frames a lost track is kept for recovery (30) */
    int fuse_score;   /* cost 1 - IoU * score in stages 1 and 3 (1) */
} bt_config;

void bt_config_default(bt_config *cfg);

/* One detection of a frame: corners in pixels. */
typedef struct bt_box {
    float x0, y0, x1, y1;
    float score;
    int class_id;
} bt_box;

/* A track's state after an update, for callers who want more than IDs. */
enum { BT_TRACKED = 1, BT_LOST = 2 };
typedef struct bt_track_info {
    long long id;
    int state;         /* BT_TRACKED or BT_LOST */
    int confirmed;     /* 0: born this frame, not reported yet */
    int det;           /* the box index of this frame's update, or -1 */
    float x0, y0, x1, y1; /* the filter's box (after this frame's correction) */
    float score;       /* its last box's score */
    int class_id;
    long long start_frame, frame_id; /* born, last updated (1-based frame numbers) */
} bt_track_info;

typedef struct bt_tracker bt_tracker;

enum { BT_OK = 0, BT_ERR_ARG = -1, BT_ERR_NOMEM = -2 };

/* BT_OK, BT_ERR_ARG (a threshold outside 0..1, track_low > track_high, a
 * negative buffer) or BT_ERR_NOMEM. */
int bt_create(const bt_config *cfg, bt_tracker **out);
void bt_destroy(bt_tracker *t);

/* One frame's detections (n may be 0: every track goes unmatched). ids[i]
 * (n of them) becomes the ID of the confirmed track box i updated this
 * frame, or -1 (a box no track took: below track_low, unmatched, or a first
 * sighting). Boxes with a NaN coordinate or score, or an empty area, are
 * ignored (-1). BT_OK, or BT_ERR_NOMEM (the tracker stays usable, this
 * frame's ids are all -1). */
int bt_update(bt_tracker *t, const bt_box *boxes, size_t n, long long *ids);

/* The tracks after the last update (tracked and lost, confirmed or not);
 * writes up to cap, returns how many there are. */
size_t bt_tracks(const bt_tracker *t, bt_track_info *out, size_t cap);

/* Frames seen so far (bt_update calls). */
long long bt_frame(const bt_tracker *t);

#endif /* BF_TRACK_BYTETRACK_H */
